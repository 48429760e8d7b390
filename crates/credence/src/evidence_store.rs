//! Where evidence files live: a local folder by default, an S3-compatible object store when
//! configured, both through the `object_store` crate.
//!
//! Uploads stream: the bytes pass through in chunks (a multipart upload of at most a few
//! 5 MiB parts in flight), hashed with SHA-256 and counted as they go, so a file of any size
//! never sits whole in memory. An upload is either complete or absent: the local store writes
//! to a staging file and renames it on completion; S3 assembles the parts only on completion.
//! An upload that fails, is cut off or is over the limit is aborted, leaving nothing.
//!
//! Objects are named by a random id (`evidence/<uuid>`), never by the uploaded file name. The
//! database row is written only after the object is complete, so a record never points to
//! nothing; a crash between the two leaves an object no record names, which
//! [`EvidenceStore::orphans`] finds and `credence evidence sweep` removes.

use axum::body::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt, stream::BoxStream};
use object_store::{ObjectStore, ObjectStoreExt, WriteMultipart, path::Path as ObjectPath};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Part size of a multipart upload: S3's minimum, and what is held in memory per part.
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Parts in flight at once, per upload.
const PARTS_IN_FLIGHT: usize = 2;
const PREFIX: &str = "evidence";

/// Where a long task keeps the file it made (a portfolio zip), under the task's number: not
/// evidence, so the orphan sweep leaves it; the hourly clean-up removes it after
/// [`TASK_FILE_DAYS`] days.
pub const TASK_PREFIX: &str = "tasks";
/// How long a task's file is kept for the person who asked for it.
pub const TASK_FILE_DAYS: u64 = 7;

/// A file's bytes as a stream of 64 KiB chunks.
pub fn file_stream(file: std::fs::File) -> impl Stream<Item = Result<Bytes, std::io::Error>> {
    let file = tokio::fs::File::from_std(file);
    futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}

/// The evidence store. Cheap to clone.
#[derive(Clone)]
pub struct EvidenceStore {
    inner: Arc<dyn ObjectStore>,
    /// The folder, for the local store (staging files are cleaned from it).
    local_root: Option<PathBuf>,
    /// What it is, for messages: "the folder ./credence-data/evidence", "s3://bucket".
    pub description: String,
}

/// A complete, stored upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stored {
    pub key: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error(
        "the file is larger than the upload limit of {}: split it (a long video into parts, say) or ask the administrator to raise the limit",
        human_size(*limit)
    )]
    TooLarge { limit: u64 },
    #[error("the file is empty: choose the file again")]
    Empty,
    #[error("the upload was interrupted ({0}); nothing was kept, so send it again")]
    Interrupted(String),
    #[error("the evidence store could not save the file: {0}")]
    Storage(String),
}

/// "1.5 GiB", "300 MiB", "12 KiB", "512 bytes".
pub fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (name, size) in UNITS {
        if bytes >= size {
            let v = bytes as f64 / size as f64;
            return if v.fract() < 0.05 {
                format!("{v:.0} {name}")
            } else {
                format!("{v:.1} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

impl EvidenceStore {
    /// A local folder, created if missing.
    pub fn local(root: &Path) -> Result<EvidenceStore, String> {
        std::fs::create_dir_all(root).map_err(|e| {
            format!(
                "could not create the evidence folder {}: {e}",
                root.display()
            )
        })?;
        let fs = object_store::local::LocalFileSystem::new_with_prefix(root)
            .map_err(|e| format!("could not open the evidence folder {}: {e}", root.display()))?
            .with_automatic_cleanup(true)
            // A completed upload is on stable storage (file and directory entry) before its
            // record is written, as S3 promises for its objects.
            .with_fsync(true);
        Ok(EvidenceStore {
            inner: Arc::new(fs),
            local_root: Some(root.to_path_buf()),
            description: format!("the folder {}", root.display()),
        })
    }

    /// An S3-compatible bucket, `s3://bucket`. Credentials and endpoint come from the usual
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
    /// `AWS_ENDPOINT` for a store other than Amazon's, `AWS_ALLOW_HTTP=true` for plain HTTP).
    /// Requests use path-style addressing, which every S3-compatible server accepts.
    pub fn s3(url: &str) -> Result<EvidenceStore, String> {
        let s3 = object_store::aws::AmazonS3Builder::from_env()
            .with_url(url)
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|e| format!("could not configure the S3 evidence store {url}: {e}"))?;
        Ok(EvidenceStore {
            inner: Arc::new(s3),
            local_root: None,
            description: url.to_string(),
        })
    }

    /// An S3-compatible bucket with explicit settings (tests, and servers configured by
    /// flags rather than variables).
    pub fn s3_with(
        endpoint: &str,
        bucket: &str,
        region: &str,
        access_key_id: &str,
        secret_access_key: &str,
    ) -> Result<EvidenceStore, String> {
        let s3 = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(endpoint)
            .with_bucket_name(bucket)
            .with_region(region)
            .with_access_key_id(access_key_id)
            .with_secret_access_key(secret_access_key)
            .with_allow_http(endpoint.starts_with("http://"))
            .with_virtual_hosted_style_request(false)
            .build()
            .map_err(|e| format!("could not configure the S3 evidence store {endpoint}: {e}"))?;
        Ok(EvidenceStore {
            inner: Arc::new(s3),
            local_root: None,
            description: format!("s3://{bucket} at {endpoint}"),
        })
    }

    /// `s3://bucket` for S3, anything else is a local folder.
    pub fn open(spec: &str) -> Result<EvidenceStore, String> {
        if spec.starts_with("s3://") {
            EvidenceStore::s3(spec)
        } else {
            EvidenceStore::local(Path::new(spec))
        }
    }

    /// The folder, for the local store.
    pub fn local_root(&self) -> Option<&Path> {
        self.local_root.as_deref()
    }

    fn path(key: &str) -> ObjectPath {
        ObjectPath::from(key)
    }

    /// Stream `body` into a new object, at most `limit` bytes. On any error the upload is
    /// aborted and nothing is kept.
    pub async fn put_stream<S, E>(&self, body: S, limit: u64) -> Result<Stored, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let key = format!("{PREFIX}/{}", uuid::Uuid::new_v4());
        self.put_stream_at(key, body, limit).await
    }

    /// Stream `body` into the object `key` (a restore puts each file back under the key its
    /// record names), as [`EvidenceStore::put_stream`] does.
    pub async fn put_stream_at<S, E>(
        &self,
        key: String,
        body: S,
        limit: u64,
    ) -> Result<Stored, UploadError>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let upload = self
            .inner
            .put_multipart(&Self::path(&key))
            .await
            .map_err(|e| UploadError::Storage(e.to_string()))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        match copy(body, &mut writer, limit).await {
            Ok((size, sha256)) => {
                writer
                    .finish()
                    .await
                    .map_err(|e| UploadError::Storage(e.to_string()))?;
                Ok(Stored { key, size, sha256 })
            }
            Err(e) => {
                if let Err(abort) = writer.abort().await {
                    tracing::warn!(%key, error = %abort, "could not abort an upload; the sweep will remove it");
                }
                Err(e)
            }
        }
    }

    /// The object's bytes as a stream, with its size.
    pub async fn get_stream(
        &self,
        key: &str,
    ) -> Result<(u64, BoxStream<'static, Result<Bytes, std::io::Error>>), String> {
        let got = self
            .inner
            .get(&Self::path(key))
            .await
            .map_err(|e| format!("could not read {key} from {}: {e}", self.description))?;
        let size = got.meta.size;
        let stream = got.into_stream().map_err(std::io::Error::other).boxed();
        Ok((size, stream))
    }

    /// The object's size, or `None` when it does not exist.
    pub async fn size(&self, key: &str) -> Result<Option<u64>, String> {
        match self.inner.head(&Self::path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(format!("could not look up {key}: {e}")),
        }
    }

    /// SHA-256 of a stored object, read back in full (for checks, not for serving).
    pub async fn sha256(&self, key: &str) -> Result<String, String> {
        let (_, mut stream) = self.get_stream(key).await?;
        let mut hasher = Sha256::new();
        while let Some(chunk) = stream.next().await {
            hasher.update(&chunk.map_err(|e| e.to_string())?);
        }
        Ok(hex::encode(hasher.finalize()))
    }

    pub async fn delete(&self, key: &str) -> Result<(), String> {
        match self.inner.delete(&Self::path(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(format!("could not delete {key}: {e}")),
        }
    }

    /// Whether the store answers, cheaply (for `/readyz`): the local folder exists, and the
    /// first entry of a listing comes back (one request to S3, whatever the store holds).
    pub async fn reachable(&self) -> Result<(), String> {
        if let Some(root) = &self.local_root
            && !root.is_dir()
        {
            return Err(format!("{} is missing", self.description));
        }
        let prefix = ObjectPath::from(PREFIX);
        let mut list = self.inner.list(Some(&prefix));
        match list.next().await {
            Some(Err(e)) => Err(format!("could not list {}: {e}", self.description)),
            _ => Ok(()),
        }
    }

    /// Every complete evidence object, with when it was last written.
    pub async fn keys(&self) -> Result<Vec<(String, SystemTime)>, String> {
        let prefix = ObjectPath::from(PREFIX);
        let mut list = self.inner.list(Some(&prefix));
        let mut out = Vec::new();
        while let Some(meta) = list.next().await {
            let meta = meta.map_err(|e| format!("could not list {}: {e}", self.description))?;
            out.push((meta.location.to_string(), meta.last_modified.into()));
        }
        Ok(out)
    }

    /// Task files (under [`TASK_PREFIX`]) last written before `cutoff`.
    pub async fn task_files_before(&self, cutoff: SystemTime) -> Result<Vec<String>, String> {
        let prefix = ObjectPath::from(TASK_PREFIX);
        let mut list = self.inner.list(Some(&prefix));
        let mut out = Vec::new();
        while let Some(meta) = list.next().await {
            let meta = meta.map_err(|e| format!("could not list {}: {e}", self.description))?;
            if SystemTime::from(meta.last_modified) < cutoff {
                out.push(meta.location.to_string());
            }
        }
        Ok(out)
    }

    /// Objects no record names (`known` are the keys the database holds) that are older than
    /// `grace`, so that an upload finishing right now on another server is left alone.
    pub async fn orphans(
        &self,
        known: &std::collections::HashSet<String>,
        grace: Duration,
    ) -> Result<Vec<String>, String> {
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        Ok(self
            .keys()
            .await?
            .into_iter()
            .filter(|(k, at)| !known.contains(k) && *at <= cutoff)
            .map(|(k, _)| k)
            .collect())
    }

    /// Staging files of uploads cut off by a crash (local store only: S3 discards incomplete
    /// multipart uploads by the bucket's lifecycle rule), older than `grace`. Returns their
    /// paths; `remove` deletes them.
    pub fn stale_staging_files(&self, grace: Duration, remove: bool) -> Vec<PathBuf> {
        let Some(root) = &self.local_root else {
            return Vec::new();
        };
        let cutoff = SystemTime::now()
            .checked_sub(grace)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        let dir = root.join(PREFIX);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().contains('#') {
                continue;
            }
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m <= cutoff);
            if old {
                if remove && let Err(e) = std::fs::remove_file(entry.path()) {
                    tracing::warn!(path = %entry.path().display(), error = %e, "could not remove a staging file");
                    continue;
                }
                out.push(entry.path());
            }
        }
        out
    }
}

/// Copy `body` into `writer`, hashing and counting; never more than `limit` bytes.
async fn copy<S, E>(
    mut body: S,
    writer: &mut WriteMultipart,
    limit: u64,
) -> Result<(u64, String), UploadError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| UploadError::Interrupted(e.to_string()))?;
        size += chunk.len() as u64;
        if size > limit {
            return Err(UploadError::TooLarge { limit });
        }
        hasher.update(&chunk);
        writer
            .wait_for_capacity(PARTS_IN_FLIGHT)
            .await
            .map_err(|e| UploadError::Storage(e.to_string()))?;
        writer.put(chunk);
    }
    if size == 0 {
        return Err(UploadError::Empty);
    }
    Ok((size, hex::encode(hasher.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks(
        parts: Vec<Result<&'static [u8], &'static str>>,
    ) -> impl Stream<Item = Result<Bytes, String>> + Unpin {
        futures_util::stream::iter(
            parts
                .into_iter()
                .map(|p| p.map(Bytes::from_static).map_err(String::from)),
        )
    }

    fn store() -> (EvidenceStore, PathBuf) {
        let dir = std::env::temp_dir().join(format!("credence-es-{}", uuid::Uuid::new_v4()));
        (EvidenceStore::local(&dir).unwrap(), dir)
    }

    #[tokio::test]
    async fn a_complete_upload_is_stored_with_its_hash_and_size() {
        let (s, dir) = store();
        let stored = s
            .put_stream(chunks(vec![Ok(b"hello "), Ok(b"world")]), 100)
            .await
            .unwrap();
        assert_eq!(stored.size, 11);
        assert_eq!(stored.sha256, hex::encode(Sha256::digest(b"hello world")));
        assert_eq!(s.sha256(&stored.key).await.unwrap(), stored.sha256);
        assert_eq!(s.keys().await.unwrap().len(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn an_interrupted_or_oversized_upload_leaves_nothing() {
        let (s, dir) = store();
        let cut = s
            .put_stream(chunks(vec![Ok(b"part one"), Err("connection reset")]), 100)
            .await;
        assert!(matches!(cut, Err(UploadError::Interrupted(_))), "{cut:?}");
        let big = s
            .put_stream(chunks(vec![Ok(b"0123456789"), Ok(b"x")]), 10)
            .await;
        assert!(matches!(big, Err(UploadError::TooLarge { limit: 10 })));
        assert!(big.unwrap_err().to_string().contains("10 bytes"));
        let empty = s.put_stream(chunks(vec![]), 10).await;
        assert!(matches!(empty, Err(UploadError::Empty)));
        assert!(s.keys().await.unwrap().is_empty());
        // No staging file either.
        let left: Vec<_> = std::fs::read_dir(dir.join(PREFIX))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "{left:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn orphans_are_objects_no_record_names() {
        let (s, dir) = store();
        let a = s.put_stream(chunks(vec![Ok(b"a")]), 10).await.unwrap();
        let b = s.put_stream(chunks(vec![Ok(b"b")]), 10).await.unwrap();
        let known = [a.key.clone()].into_iter().collect();
        assert_eq!(
            s.orphans(&known, Duration::ZERO).await.unwrap(),
            vec![b.key.clone()]
        );
        // Within the grace period an object may be an upload finishing now: left alone.
        assert!(
            s.orphans(&known, Duration::from_secs(3600))
                .await
                .unwrap()
                .is_empty()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(512), "512 bytes");
        assert_eq!(human_size(2 * 1024 * 1024), "2 MiB");
        assert_eq!(human_size(3 * (1 << 30) / 2), "1.5 GiB");
    }
}
