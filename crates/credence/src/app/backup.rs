//! Backup and restore of a whole instance: the database (one consistent snapshot) and every
//! evidence file that snapshot names, each checked against its recorded SHA-256, into a
//! folder or an S3-compatible bucket (`s3://bucket/prefix`), with `manifest.json` written
//! last.
//!
//! Layout of a backup:
//! - `database.sqlite` (SQLite: `VACUUM INTO`, a consistent copy taken while servers keep
//!   serving) or `database.pgdump` (PostgreSQL: `pg_dump --data-only --format=custom`, in
//!   the snapshot of the transaction that listed the evidence files);
//! - `evidence/<uuid>`: each evidence file under its object key;
//! - `manifest.json`: every file with its size and SHA-256, the database kind, the schema
//!   version, the audit log's head, rows per table, Credence's version and the time.
//!
//! The manifest is written last and atomically (a folder: a staging file, fsynced, renamed,
//! the folder fsynced; S3: one PUT, which is all or nothing), so a backup cut off at any
//! point (kill -9, a full disk) has no manifest, and restore refuses it. Files uploaded
//! after the snapshot are not in the backup; every file the snapshot names is.
//!
//! Restore goes only into an empty instance (no records, no evidence files), checks every
//! file against the manifest before it changes anything, puts the files back under their
//! keys, loads the database in one transaction, then runs the audit chain check and the
//! evidence read-back check and reports them.

use super::{App, AppError, AppResult};
use crate::store::{Backend, SnapshotContents, Store};
use axum::body::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream::BoxStream};
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The manifest's name in a backup.
pub const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "credence-backup";
const FORMAT_VERSION: u32 = 1;
const PART_SIZE: usize = 5 * 1024 * 1024;
/// Files copied at once.
const CONCURRENCY: usize = 4;

/// `manifest.json`: what a complete backup holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always `credence-backup`.
    pub format: String,
    pub format_version: u32,
    /// The Credence that made it.
    pub credence_version: String,
    /// When the backup finished (UTC, RFC 3339).
    pub created_at: String,
    /// `sqlite` or `postgres`: a backup restores only into the same kind.
    pub database: String,
    /// The last schema migration in the snapshot.
    pub schema_version: i64,
    /// The audit log's head in the snapshot: entries and the last hash.
    pub audit_entries: i64,
    pub audit_hash: String,
    /// Rows per table in the snapshot.
    pub tables: BTreeMap<String, i64>,
    /// Which file in `files` is the database.
    pub database_file: String,
    /// Every file of the backup (the database and each evidence file).
    pub files: Vec<ManifestFile>,
}

/// One file of a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// Its name in the backup (`evidence/<uuid>` is also its key in the evidence store).
    pub path: String,
    pub size: u64,
    pub sha256: String,
    /// The evidence record that names it (none for the database file).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_id: Option<i64>,
}

/// What restore found when it checked the restored instance.
#[derive(Debug)]
pub struct RestoreReport {
    pub manifest: Manifest,
    /// The audit chain check: entries checked, or what is wrong.
    pub audit: Result<usize, String>,
    /// Evidence records read back and compared with their SHA-256.
    pub evidence_checked: usize,
    pub evidence_problems: Vec<String>,
    pub orphans: Vec<String>,
    /// Tables whose row count differs from the manifest's (should be none).
    pub table_mismatches: Vec<String>,
}

impl RestoreReport {
    /// Whether every check passed.
    pub fn ok(&self) -> bool {
        self.audit.is_ok()
            && self.evidence_problems.is_empty()
            && self.orphans.is_empty()
            && self.table_mismatches.is_empty()
    }
}

/// A step of a long backup or restore, for a progress bar: `done` of `total` bytes.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub phase: &'static str,
    pub done: u64,
    pub total: u64,
}

/// Where a backup is written or read: a folder, or `s3://bucket/prefix`.
#[derive(Clone)]
pub struct Location {
    inner: Arc<dyn ObjectStore>,
    local_root: Option<PathBuf>,
    /// For messages: the folder or the bucket and prefix.
    pub description: String,
}

impl Location {
    /// Open `spec`: `s3://bucket/prefix` (credentials and endpoint from the same variables
    /// as the S3 evidence store), anything else a folder, created when `create`.
    pub fn open(spec: &str, create: bool) -> AppResult<Location> {
        if let Some(rest) = spec.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(AppError::Validation(format!(
                    "'{spec}' names no bucket: use s3://bucket/prefix"
                )));
            }
            let s3 = object_store::aws::AmazonS3Builder::from_env()
                .with_url(format!("s3://{bucket}"))
                .with_virtual_hosted_style_request(false)
                .build()
                .map_err(|e| {
                    AppError::Validation(format!("could not configure the S3 bucket {spec}: {e}"))
                })?;
            return Ok(Location::on(Arc::new(s3), prefix, spec.to_string()));
        }
        let root = Path::new(spec);
        if create {
            std::fs::create_dir_all(root).map_err(|e| {
                AppError::Validation(format!(
                    "could not create the backup folder {spec}: {e}: choose another"
                ))
            })?;
        } else if !root.is_dir() {
            return Err(AppError::Validation(format!(
                "there is no backup folder {spec}: name the folder `credence backup` wrote"
            )));
        }
        let fs = object_store::local::LocalFileSystem::new_with_prefix(root)
            .map_err(|e| AppError::Validation(format!("could not open the folder {spec}: {e}")))?
            .with_fsync(true);
        Ok(Location {
            inner: Arc::new(fs),
            local_root: Some(root.to_path_buf()),
            description: format!("the folder {spec}"),
        })
    }

    /// A location in any object store, under `prefix` (tests; S3 configured by flags).
    pub fn on(store: Arc<dyn ObjectStore>, prefix: &str, description: String) -> Location {
        let prefix = prefix.trim_matches('/');
        let inner: Arc<dyn ObjectStore> = if prefix.is_empty() {
            store
        } else {
            Arc::new(object_store::prefix::PrefixStore::new(store, prefix))
        };
        Location {
            inner,
            local_root: None,
            description,
        }
    }

    async fn is_empty(&self) -> AppResult<bool> {
        match self.inner.list(None).next().await {
            None => Ok(true),
            Some(Ok(_)) => Ok(false),
            Some(Err(e)) => Err(AppError::Internal(format!(
                "could not list {}: {e}",
                self.description
            ))),
        }
    }

    /// The file's bytes as a stream, with its size; `None` when it is absent.
    async fn get(
        &self,
        name: &str,
    ) -> AppResult<Option<(u64, BoxStream<'static, Result<Bytes, String>>)>> {
        match self.inner.get(&ObjectPath::from(name)).await {
            Ok(got) => {
                let size = got.meta.size;
                Ok(Some((
                    size,
                    got.into_stream().map_err(|e| e.to_string()).boxed(),
                )))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(AppError::Internal(format!(
                "could not read {name} from {}: {e}",
                self.description
            ))),
        }
    }

    /// Stream into the file `name`, hashing and counting; `on_bytes` hears each chunk.
    async fn put_stream(
        &self,
        name: &str,
        mut body: BoxStream<'static, Result<Bytes, String>>,
        on_bytes: &(dyn Fn(u64) + Sync),
    ) -> AppResult<(u64, String)> {
        let upload = self
            .inner
            .put_multipart(&ObjectPath::from(name))
            .await
            .map_err(|e| {
                AppError::Internal(format!(
                    "could not write {name} to {}: {e}",
                    self.description
                ))
            })?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_SIZE);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let copied: Result<(), String> = async {
            while let Some(chunk) = body.next().await {
                let chunk = chunk?;
                size += chunk.len() as u64;
                hasher.update(&chunk);
                writer
                    .wait_for_capacity(2)
                    .await
                    .map_err(|e| e.to_string())?;
                on_bytes(chunk.len() as u64);
                writer.put(chunk);
            }
            Ok(())
        }
        .await;
        match copied {
            Ok(()) => {
                writer.finish().await.map_err(|e| {
                    AppError::Internal(format!(
                        "could not write {name} to {}: {e}",
                        self.description
                    ))
                })?;
                Ok((size, hex::encode(hasher.finalize())))
            }
            Err(e) => {
                let _ = writer.abort().await;
                Err(AppError::Internal(format!(
                    "could not copy {name} to {}: {e}",
                    self.description
                )))
            }
        }
    }

    /// Write a small file whole, atomically.
    async fn put_whole(&self, name: &str, bytes: Vec<u8>) -> AppResult<()> {
        self.inner
            .put(&ObjectPath::from(name), PutPayload::from(bytes))
            .await
            .map_err(|e| {
                AppError::Internal(format!(
                    "could not write {name} to {}: {e}",
                    self.description
                ))
            })?;
        Ok(())
    }
}

/// A local file's bytes as a stream.
async fn file_stream(path: &Path) -> AppResult<BoxStream<'static, Result<Bytes, String>>> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| AppError::Internal(format!("could not read {}: {e}", path.display())))?;
    Ok(chunks_of(file)
        .map_err(|e: std::io::Error| e.to_string())
        .boxed())
}

/// Read a file in parts, as a stream.
fn chunks_of(
    file: tokio::fs::File,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    futures_util::stream::try_unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 1 << 20];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.truncate(n);
        Ok(Some((Bytes::from(buf), file)))
    })
}

/// SHA-256 and size of a local file, after making sure it is on stable storage.
async fn sync_and_hash(path: &Path) -> AppResult<(u64, String)> {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || -> std::io::Result<(u64, String)> {
        use std::io::Read;
        let mut file = std::fs::File::open(&p)?;
        file.sync_all()?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 1 << 20];
        let mut size = 0u64;
        loop {
            let n = file.read(&mut buf)?;
            if n == 0 {
                break;
            }
            size += n as u64;
            hasher.update(&buf[..n]);
        }
        Ok((size, hex::encode(hasher.finalize())))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
    .map_err(|e| AppError::Internal(format!("could not read {}: {e}", path.display())))
}

/// A PostgreSQL program (`pg_dump`, `pg_restore`, `psql`): on the PATH, else from the
/// PostgreSQL 15 (or newest installed) binaries.
fn pg_program(name: &str) -> AppResult<PathBuf> {
    if let Some(paths) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&paths) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin").join(name))
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    found.pop().ok_or_else(|| {
        AppError::Validation(format!(
            "{name} was not found on the PATH or in /usr/lib/postgresql/*/bin: install the PostgreSQL client programs (Debian: postgresql-client-15), the same major version as the server"
        ))
    })
}

/// A PostgreSQL URL without its password, and the password (given to the programs in
/// `PGPASSWORD`, never on a command line others can see).
fn split_password(url: &str) -> (String, Option<String>) {
    if let (Some(s), Some(at)) = (url.find("://"), url.rfind('@'))
        && at > s
    {
        let creds = &url[s + 3..at];
        if let Some(c) = creds.find(':') {
            return (
                format!("{}{}{}", &url[..s + 3], &creds[..c], &url[at..]),
                Some(creds[c + 1..].to_string()),
            );
        }
    }
    (url.to_string(), None)
}

fn pg_command(name: &str, url: &str) -> AppResult<(tokio::process::Command, String)> {
    let (url, password) = split_password(url);
    let mut cmd = tokio::process::Command::new(pg_program(name)?);
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    cmd.kill_on_drop(true);
    Ok((cmd, url))
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

impl App {
    /// Back the instance up into `dest` (an empty folder or bucket prefix): a consistent
    /// snapshot of the database, then every evidence file it names (checked against its
    /// SHA-256 as it is copied), then the manifest. `database_url` is the database's own
    /// URL (`pg_dump` connects to it).
    pub async fn backup(
        &self,
        database_url: &str,
        dest: &Location,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> AppResult<Manifest> {
        if !dest.is_empty().await? {
            return Err(AppError::Conflict(format!(
                "{} already holds files: a backup never writes over another; name a new folder (or prefix)",
                dest.description
            )));
        }
        let backend = self.store.backend();
        let db_name = match backend {
            Backend::Sqlite => "database.sqlite",
            Backend::Postgres => "database.pgdump",
        };
        // The snapshot is written straight into a backup folder; for a bucket, into a
        // temporary file that is then uploaded.
        let scratch = match &dest.local_root {
            Some(_) => None,
            None => {
                let dir =
                    std::env::temp_dir().join(format!("credence-backup-{}", uuid::Uuid::new_v4()));
                std::fs::create_dir_all(&dir).map_err(|e| {
                    AppError::Internal(format!("could not create {}: {e}", dir.display()))
                })?;
                Some(dir)
            }
        };
        let db_path = dest
            .local_root
            .as_ref()
            .or(scratch.as_ref())
            .map(|dir| dir.join(db_name))
            .ok_or_else(|| AppError::Internal("no folder for the database snapshot".into()))?;
        let result = self
            .backup_into(database_url, dest, db_name, &db_path, progress)
            .await;
        if let Some(dir) = scratch {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }

    async fn backup_into(
        &self,
        database_url: &str,
        dest: &Location,
        db_name: &str,
        db_path: &Path,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> AppResult<Manifest> {
        let backend = self.store.backend();
        progress(Progress {
            phase: "database snapshot",
            done: 0,
            total: 1,
        });
        let contents: SnapshotContents = match backend {
            Backend::Sqlite => {
                self.store.sqlite_snapshot_into(db_path).await?;
                Store::sqlite_snapshot_contents(db_path).await?
            }
            Backend::Postgres => {
                let snapshot = self.store.pg_snapshot().await?;
                let (mut cmd, url) = pg_command("pg_dump", database_url)?;
                let out = cmd
                    .args([
                        "--data-only",
                        "--format=custom",
                        "--no-owner",
                        "--no-privileges",
                    ])
                    .arg(format!("--snapshot={}", snapshot.id))
                    .arg("--file")
                    .arg(db_path)
                    .arg("--dbname")
                    .arg(&url)
                    .output()
                    .await
                    .map_err(|e| AppError::Internal(format!("could not run pg_dump: {e}")))?;
                let contents = snapshot.contents.clone();
                snapshot.release().await?;
                if !out.status.success() {
                    return Err(AppError::Internal(format!(
                        "pg_dump failed: {}: check that pg_dump's major version is the server's",
                        String::from_utf8_lossy(&out.stderr).trim()
                    )));
                }
                contents
            }
        };
        let (db_size, db_sha) = sync_and_hash(db_path).await?;
        if dest.local_root.is_none() {
            dest.put_stream(db_name, file_stream(db_path).await?, &|_| {})
                .await?;
        }
        let mut files = vec![ManifestFile {
            path: db_name.to_string(),
            size: db_size,
            sha256: db_sha,
            evidence_id: None,
        }];

        let total: u64 = contents
            .evidence
            .iter()
            .map(|(_, _, size, _)| u64::try_from(*size).unwrap_or(0))
            .sum();
        let tick = byte_ticker("evidence files", total, progress);
        tick(0);
        let copied: Vec<AppResult<ManifestFile>> =
            futures_util::stream::iter(contents.evidence.iter())
                .map(|(id, key, size, sha)| self.back_up_file(dest, *id, key, *size, sha, &tick))
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        let mut failures = Vec::new();
        for c in copied {
            match c {
                Ok(f) => files.push(f),
                Err(e) => failures.push(e.to_string()),
            }
        }
        if !failures.is_empty() {
            return Err(AppError::Conflict(format!(
                "the backup in {} is incomplete and has no manifest, so it will never be restored: {}",
                dest.description,
                failures.join("; ")
            )));
        }
        files[1..].sort_by(|a, b| a.path.cmp(&b.path));
        let manifest = Manifest {
            format: FORMAT.into(),
            format_version: FORMAT_VERSION,
            credence_version: env!("CARGO_PKG_VERSION").into(),
            created_at: crate::store::now(),
            database: backend_name(backend).into(),
            schema_version: contents.schema_version,
            audit_entries: contents.audit_entries,
            audit_hash: contents.audit_hash,
            tables: contents.tables,
            database_file: db_name.into(),
            files,
        };
        let text = serde_json::to_vec_pretty(&manifest)
            .map_err(|e| AppError::Internal(format!("could not write the manifest: {e}")))?;
        // Last, and atomically: a folder gets a staging file, fsynced and renamed (and the
        // folder fsynced); a bucket gets one PUT. Until it lands the backup is incomplete.
        dest.put_whole(MANIFEST, text).await?;
        Ok(manifest)
    }

    /// Copy one evidence file the snapshot names into the backup, checking it against its
    /// record.
    async fn back_up_file(
        &self,
        dest: &Location,
        id: i64,
        key: &str,
        size: i64,
        sha: &str,
        tick: &(dyn Fn(u64) + Sync),
    ) -> AppResult<ManifestFile> {
        let (_, stream) = match self.evidence.get_stream(key).await {
            Ok(got) => got,
            Err(e) => {
                let still_named = self
                    .store
                    .evidence_object_keys()
                    .await?
                    .iter()
                    .any(|(_, k, _, _)| k == key);
                return Err(AppError::Conflict(if still_named {
                    format!(
                        "evidence {id}'s file {key} cannot be read ({e}): run `credence evidence check` and repair the evidence store first"
                    )
                } else {
                    format!(
                        "evidence {id} was deleted while the backup ran: run the backup again into a new folder"
                    )
                }));
            }
        };
        let stream = stream.map_err(|e| e.to_string()).boxed();
        let (got_size, got_sha) = dest.put_stream(key, stream, tick).await?;
        if i64::try_from(got_size).ok() != Some(size) || got_sha != sha {
            return Err(AppError::Conflict(format!(
                "evidence {id}'s file {key} does not match its record ({got_size} bytes, SHA-256 {got_sha}; recorded {size} bytes, {sha}): run `credence evidence check --read-back`"
            )));
        }
        Ok(ManifestFile {
            path: key.to_string(),
            size: got_size,
            sha256: got_sha,
            evidence_id: Some(id),
        })
    }

    /// Restore the backup in `src` into this instance, which must be empty (its database
    /// and its evidence store), then check it as `credence audit verify` and
    /// `credence evidence check --read-back` do. Nothing is changed unless the backup is
    /// complete and every file matches the manifest.
    pub async fn restore(
        &self,
        database_url: &str,
        src: &Location,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> AppResult<RestoreReport> {
        let manifest = read_manifest(src).await?;
        let backend = backend_name(self.store.backend());
        if manifest.database != backend {
            return Err(AppError::Validation(format!(
                "the backup in {} is of a {} database and this instance's is {backend}: restore it into a {} database (--database-url)",
                src.description, manifest.database, manifest.database
            )));
        }
        if manifest.schema_version > crate::store::LATEST_SCHEMA_VERSION {
            return Err(AppError::Validation(format!(
                "the backup's schema version {} is newer than this Credence knows ({}): restore it with the Credence that made it ({})",
                manifest.schema_version,
                crate::store::LATEST_SCHEMA_VERSION,
                manifest.credence_version
            )));
        }
        if let Some(held) = self.store.records_held().await? {
            return Err(AppError::Conflict(format!(
                "the target database already holds records ({held}): restore only into an empty instance, a new database that no Credence has served from (and start it with --no-seed until the restore is done)"
            )));
        }
        let keys = self.evidence.keys().await.map_err(AppError::Internal)?;
        if !keys.is_empty() {
            return Err(AppError::Conflict(format!(
                "the evidence store {} already holds {} files: restore only into an empty one (choose a new folder or bucket with --evidence-store; files a cut-off restore left are removed by `credence --no-seed evidence sweep --grace-seconds 0`)",
                self.evidence.description,
                keys.len()
            )));
        }
        let target_version = self.store.schema_version().await?;
        if target_version > manifest.schema_version {
            return Err(AppError::Conflict(format!(
                "the target database already has schema version {target_version}, newer than the backup's {}: restore into a new database that no Credence has opened (restore migrates it after loading)",
                manifest.schema_version
            )));
        }

        // The database file must be there and match before anything changes. Evidence files
        // are checked as they are copied (one read of each, not two): one that is missing
        // or does not match takes back every file restored, before the database is touched.
        verify_files(src, &manifest, |f| f.evidence_id.is_none(), progress).await?;
        let restored = self.restore_files(src, &manifest, progress).await;
        let loaded = match restored {
            Ok(()) => match self.store.migrate_to(manifest.schema_version).await {
                Ok(_) => self.load_database(database_url, src, &manifest).await,
                Err(e) => Err(e.into()),
            },
            Err(e) => Err(e),
        };
        if let Err(e) = loaded {
            // Take the files back out, so the instance is as empty as it was.
            for f in manifest.files.iter().filter(|f| f.evidence_id.is_some()) {
                let _ = self.evidence.delete(&f.path).await;
            }
            return Err(e);
        }
        progress(Progress {
            phase: "checking",
            done: 0,
            total: 1,
        });
        let counts = self.store.row_counts().await?;
        let table_mismatches: Vec<String> = manifest
            .tables
            .iter()
            .filter(|(t, n)| counts.get(*t) != Some(n))
            .map(|(t, n)| {
                format!(
                    "table {t}: {} rows restored, the backup had {n}",
                    counts.get(t).copied().unwrap_or(0)
                )
            })
            .collect();
        // Restoring an older backup brings it up to this Credence's schema.
        self.store.migrate().await?;
        let audit = match self.verify_audit(None).await? {
            Ok(n) => {
                let (seq, hash) = self.store.audit_head().await?;
                if seq != manifest.audit_entries || hash != manifest.audit_hash {
                    Err(format!(
                        "the restored log's head is entry {seq} ({hash}), the backup's was entry {} ({})",
                        manifest.audit_entries, manifest.audit_hash
                    ))
                } else {
                    Ok(n)
                }
            }
            Err(e) => Err(e),
        };
        let (evidence_checked, evidence_problems, orphans) = self.check_evidence(true).await?;
        Ok(RestoreReport {
            manifest,
            audit,
            evidence_checked,
            evidence_problems,
            orphans,
            table_mismatches,
        })
    }

    async fn restore_files(
        &self,
        src: &Location,
        manifest: &Manifest,
        progress: &(dyn Fn(Progress) + Sync),
    ) -> AppResult<()> {
        let total: u64 = manifest
            .files
            .iter()
            .filter(|f| f.evidence_id.is_some())
            .map(|f| f.size)
            .sum();
        let tick = byte_ticker("restoring evidence", total, progress);
        let tick = &tick;
        let results: Vec<AppResult<()>> = futures_util::stream::iter(
            manifest.files.iter().filter(|f| f.evidence_id.is_some()),
        )
        .map(|f| async move {
            let Some((_, stream)) = src.get(&f.path).await? else {
                return Err(AppError::Conflict(format!("{} is missing", f.path)));
            };
            let counted = stream.inspect_ok(|b| tick(b.len() as u64));
            let stored = self
                .evidence
                .put_stream_at(f.path.clone(), counted, u64::MAX)
                .await
                .map_err(|e| AppError::Internal(e.to_string()))?;
            if stored.sha256 != f.sha256 || stored.size != f.size {
                return Err(AppError::Conflict(format!(
                    "{} does not match its manifest (SHA-256 {}, {} bytes; listed {}, {} bytes)",
                    f.path, stored.sha256, stored.size, f.sha256, f.size
                )));
            }
            Ok(())
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
        let failures: Vec<String> = results
            .into_iter()
            .filter_map(|r| r.err().map(|e| e.to_string()))
            .collect();
        if failures.is_empty() {
            Ok(())
        } else {
            Err(AppError::Conflict(format!(
                "the restore stopped and took back the files it had restored, so nothing was restored: {}",
                failures.join("; ")
            )))
        }
    }

    /// Load the database file into the (empty, migrated) target, all or nothing.
    async fn load_database(
        &self,
        database_url: &str,
        src: &Location,
        manifest: &Manifest,
    ) -> AppResult<()> {
        let name = &manifest.database_file;
        let scratch =
            std::env::temp_dir().join(format!("credence-restore-{}", uuid::Uuid::new_v4()));
        let local = match &src.local_root {
            Some(root) => root.join(name),
            None => {
                std::fs::create_dir_all(&scratch).map_err(|e| {
                    AppError::Internal(format!("could not create {}: {e}", scratch.display()))
                })?;
                let path = scratch.join(name);
                let Some((_, mut stream)) = src.get(name).await? else {
                    return Err(AppError::Conflict(format!(
                        "{name} disappeared from the backup during the restore"
                    )));
                };
                let mut file = tokio::fs::File::create(&path).await.map_err(|e| {
                    AppError::Internal(format!("could not write {}: {e}", path.display()))
                })?;
                while let Some(chunk) = stream.next().await {
                    let chunk = chunk.map_err(AppError::Internal)?;
                    tokio::io::AsyncWriteExt::write_all(&mut file, &chunk)
                        .await
                        .map_err(|e| AppError::Internal(e.to_string()))?;
                }
                path
            }
        };
        let result = async {
            let (size, sha) = sync_and_hash(&local).await?;
            let listed = manifest.files.iter().find(|f| &f.path == name);
            if listed.is_none_or(|f| f.size != size || f.sha256 != sha) {
                return Err(AppError::Conflict(format!(
                    "{name} changed in the backup during the restore: nothing was loaded"
                )));
            }
            match self.store.backend() {
                Backend::Sqlite => Ok(self.store.load_sqlite_snapshot(&local).await?),
                Backend::Postgres => restore_pg(database_url, &local).await,
            }
        }
        .await;
        let _ = std::fs::remove_dir_all(&scratch);
        result
    }
}

/// Feed a `pg_dump --data-only` archive to `psql` in one transaction, after removing the
/// rows the migrations wrote (their list, the empty audit head), which the archive holds
/// too.
async fn restore_pg(database_url: &str, dump: &Path) -> AppResult<()> {
    use std::process::Stdio;
    use tokio::io::AsyncWriteExt;
    let (mut pg_restore, _) = pg_command("pg_restore", database_url)?;
    let mut reader = pg_restore
        .args([
            "--data-only",
            "--no-owner",
            "--no-privileges",
            "--file",
            "-",
        ])
        .arg(dump)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| AppError::Internal(format!("could not run pg_restore: {e}")))?;
    let (mut psql, url) = pg_command("psql", database_url)?;
    let mut writer = psql
        .args([
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set",
            "ON_ERROR_STOP=1",
            "--dbname",
        ])
        .arg(&url)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| AppError::Internal(format!("could not run psql: {e}")))?;
    let (Some(mut from), Some(mut to)) = (reader.stdout.take(), writer.stdin.take()) else {
        return Err(AppError::Internal(
            "could not connect pg_restore to psql".into(),
        ));
    };
    let fed = async {
        to.write_all(b"delete from audit_head;\ndelete from schema_migration;\n")
            .await?;
        tokio::io::copy(&mut from, &mut to).await?;
        to.shutdown().await?;
        drop(to);
        Ok::<(), std::io::Error>(())
    }
    .await;
    // If psql stopped early, pg_restore must not wait on a pipe nobody reads.
    drop(from);
    let read = reader
        .wait_with_output()
        .await
        .map_err(|e| AppError::Internal(format!("pg_restore: {e}")))?;
    let wrote = writer
        .wait_with_output()
        .await
        .map_err(|e| AppError::Internal(format!("psql: {e}")))?;
    if !read.status.success() {
        return Err(AppError::Internal(format!(
            "pg_restore could not read the dump: {}",
            String::from_utf8_lossy(&read.stderr).trim()
        )));
    }
    if !wrote.status.success() || fed.is_err() {
        return Err(AppError::Internal(format!(
            "loading the dump failed and was rolled back, nothing was loaded: {}",
            String::from_utf8_lossy(&wrote.stderr).trim()
        )));
    }
    Ok(())
}

/// The manifest of a complete backup, or why there is none.
pub async fn read_manifest(src: &Location) -> AppResult<Manifest> {
    let Some((_, stream)) = src.get(MANIFEST).await? else {
        return Err(AppError::Validation(format!(
            "{} has no {MANIFEST}, so it is not a complete backup (one cut off before it finished, or not a Credence backup): nothing was restored; use another backup",
            src.description
        )));
    };
    let bytes: Vec<Bytes> = stream.try_collect().await.map_err(AppError::Internal)?;
    let bytes = bytes.concat();
    let manifest: Manifest = serde_json::from_slice(&bytes).map_err(|e| {
        AppError::Validation(format!(
            "{}'s {MANIFEST} cannot be read ({e}): it is damaged; nothing was restored; use another backup",
            src.description
        ))
    })?;
    if manifest.format != FORMAT || manifest.format_version != FORMAT_VERSION {
        return Err(AppError::Validation(format!(
            "{}'s {MANIFEST} is not a Credence backup manifest this version reads (format {} version {}): nothing was restored",
            src.description, manifest.format, manifest.format_version
        )));
    }
    Ok(manifest)
}

/// Read every file of the backup and compare it with the manifest.
/// Reports bytes done towards `total` as `phase`, from any task at once.
fn byte_ticker<'a>(
    phase: &'static str,
    total: u64,
    progress: &'a (dyn Fn(Progress) + Sync),
) -> impl Fn(u64) + Sync + 'a {
    let done = std::sync::atomic::AtomicU64::new(0);
    move |n| {
        let d = done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        progress(Progress {
            phase,
            done: d,
            total,
        });
    }
}

pub async fn verify_files(
    src: &Location,
    manifest: &Manifest,
    which: impl Fn(&ManifestFile) -> bool,
    progress: &(dyn Fn(Progress) + Sync),
) -> AppResult<()> {
    let total: u64 = manifest
        .files
        .iter()
        .filter(|f| which(f))
        .map(|f| f.size)
        .sum();
    let done = std::sync::atomic::AtomicU64::new(0);
    let results: Vec<Option<String>> =
        futures_util::stream::iter(manifest.files.iter().filter(|f| which(f)))
        .map(|f| {
            let done = &done;
            async move {
                let mut stream = match src.get(&f.path).await {
                    Ok(Some((_, stream))) => stream,
                    Ok(None) => return Some(format!("{} is missing", f.path)),
                    Err(e) => return Some(e.to_string()),
                };
                let mut hasher = Sha256::new();
                let mut size = 0u64;
                while let Some(chunk) = stream.next().await {
                    let Ok(chunk) = chunk else {
                        return Some(format!("{} cannot be read", f.path));
                    };
                    size += chunk.len() as u64;
                    hasher.update(&chunk);
                    let d = done.fetch_add(chunk.len() as u64, std::sync::atomic::Ordering::Relaxed)
                        + chunk.len() as u64;
                    progress(Progress {
                        phase: "checking the backup",
                        done: d,
                        total,
                    });
                }
                let sha = hex::encode(hasher.finalize());
                (size != f.size || sha != f.sha256).then(|| {
                    format!(
                        "{} does not match the manifest ({size} bytes, SHA-256 {sha}; listed {} bytes, {})",
                        f.path, f.size, f.sha256
                    )
                })
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let problems: Vec<String> = results.into_iter().flatten().collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(AppError::Validation(format!(
            "the backup in {} does not match its manifest, so nothing was restored: {}",
            src.description,
            problems.join("; ")
        )))
    }
}
