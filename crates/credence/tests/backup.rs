//! Backup and restore of a whole instance (database + evidence store), on SQLite and on
//! PostgreSQL: a restore reproduces every row of every table and every file byte for byte;
//! it goes only into an empty instance; an incomplete or altered backup is refused with
//! nothing restored; a backup taken while uploads arrive restores and verifies.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use credence::app::App;
use credence::app::backup::{Location, Manifest};
use credence::evidence_store::EvidenceStore;
use credence::store::Store;
use sqlx::{Column, Row};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// A fresh, empty database of the same kind as `url`.
async fn fresh_url_like(url: &str) -> String {
    if url.starts_with("sqlite") {
        common::sqlite_url()
    } else {
        common::postgres_url().await.expect("the cluster is up")
    }
}

/// An instance on a database no Credence has opened, with an empty evidence folder: what
/// `credence restore` opens.
async fn empty_instance(url: &str) -> (App, PathBuf) {
    let store = Store::connect(url).await.unwrap();
    let dir = common::temp_dir("restored-evidence");
    let evidence = EvidenceStore::local(&dir).unwrap();
    (App::new(store, evidence), dir)
}

/// Restore the backup in `dest` into an empty instance on a new database of `url`'s kind:
/// its URL, the instance and the restore's report.
async fn restore_fresh(
    url: &str,
    dest: &std::path::Path,
) -> (String, App, credence::app::backup::RestoreReport) {
    let target_url = fresh_url_like(url).await;
    let (target, _) = empty_instance(&target_url).await;
    let report = target
        .restore(
            &target_url,
            &Location::open(dest.to_str().unwrap(), false).unwrap(),
            &|_| {},
        )
        .await
        .unwrap();
    (target_url, target, report)
}

/// Every row of every table, each as text, sorted: two databases with the same map hold
/// the same records.
async fn every_row(store: &Store) -> BTreeMap<String, Vec<String>> {
    let mut out = BTreeMap::new();
    for table in store.row_counts().await.unwrap().keys() {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("select * from \"{table}\"")))
            .fetch_all(store.pool())
            .await
            .unwrap();
        let mut texts: Vec<String> = rows
            .iter()
            .map(|row| {
                (0..row.columns().len())
                    .map(|i| {
                        let name = row.columns()[i].name().to_string();
                        let value = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
                            format!("{v:?}")
                        } else if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
                            format!("{v:?}")
                        } else {
                            panic!("table {table} column {name}: a type this test cannot read")
                        };
                        format!("{name}={value}")
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        texts.sort();
        out.insert(table.clone(), texts);
    }
    out
}

/// Every evidence object's bytes, by key.
async fn every_file(evidence: &EvidenceStore) -> BTreeMap<String, Vec<u8>> {
    use futures_util::StreamExt;
    let mut out = BTreeMap::new();
    for (key, _) in evidence.keys().await.unwrap() {
        let (_, mut stream) = evidence.get_stream(&key).await.unwrap();
        let mut bytes = Vec::new();
        while let Some(chunk) = stream.next().await {
            bytes.extend_from_slice(&chunk.unwrap());
        }
        out.insert(key, bytes);
    }
    out
}

async fn back_up(app: &App, url: &str, dest: &Path) -> Manifest {
    app.backup(
        url,
        &Location::open(dest.to_str().unwrap(), true).unwrap(),
        &|_| {},
    )
    .await
    .unwrap()
}

/// Remove what a test left in the temp folder: a SQLite database's folder, an evidence
/// folder.
fn clean(url: &str, app: &App) {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let file = Path::new(path.split('?').next().unwrap());
        let _ = std::fs::remove_dir_all(file.parent().unwrap());
    }
    if let Some(root) = app.evidence.local_root() {
        let _ = std::fs::remove_dir_all(root);
    }
}

fn backup_dir() -> PathBuf {
    common::temp_dir("backup").join("backup")
}

async fn a_restore_reproduces_every_record_and_every_file(url: String) {
    let d = common::demo_centres(&url).await;
    let dest = backup_dir();
    let manifest = back_up(&d.app, &url, &dest).await;
    let evidence_rows = d.app.store.evidence_object_keys().await.unwrap();
    assert!(!evidence_rows.is_empty(), "the demo stores evidence");
    assert_eq!(manifest.files.len(), evidence_rows.len() + 1);
    assert_eq!(
        manifest.database,
        if url.starts_with("sqlite") {
            "sqlite"
        } else {
            "postgres"
        }
    );
    assert_eq!(
        manifest.schema_version,
        credence::store::LATEST_SCHEMA_VERSION
    );
    assert!(dest.join("manifest.json").is_file());

    let (target_url, target, report) = restore_fresh(&url, &dest).await;
    assert!(report.ok(), "{report:?}");
    assert_eq!(report.evidence_checked, evidence_rows.len());
    assert_eq!(
        report.audit.as_ref().ok(),
        Some(&(manifest.audit_entries as usize))
    );

    // Every row of every table, the audit head, and what people see.
    assert_eq!(
        every_row(&target.store).await,
        every_row(&d.app.store).await
    );
    assert_eq!(
        target.store.audit_head().await.unwrap(),
        d.app.store.audit_head().await.unwrap()
    );
    let names = |c: Vec<credence::store::CentreRow>| {
        c.into_iter()
            .map(|c| (c.centre_id, c.name))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(target.store.centres().await.unwrap()),
        names(d.app.store.centres().await.unwrap())
    );
    assert_eq!(
        target
            .store
            .registrations_at_centre(d.north, 1000)
            .await
            .unwrap()
            .len(),
        d.app
            .store
            .registrations_at_centre(d.north, 1000)
            .await
            .unwrap()
            .len()
    );
    // Every file, byte for byte, under the same key.
    let restored = every_file(&target.evidence).await;
    assert_eq!(restored.len(), evidence_rows.len());
    assert_eq!(restored, every_file(&d.app.evidence).await);

    // New ids carry on after the restored ones (the identity counters came back too).
    let last_person = d
        .app
        .store
        .person_by_email("admin@northgate.demo")
        .await
        .unwrap()
        .unwrap()
        .person_id;
    let person = target
        .create_person(
            "new.person@restored.test",
            "New Person",
            Some("a long test password"),
        )
        .await
        .unwrap();
    assert!(person > last_person, "{person} reused an id");

    let _ = std::fs::remove_dir_all(dest.parent().unwrap());
    clean(&url, &d.app);
    clean(&target_url, &target);
}
both_databases!(
    backup_then_restore_reproduces_every_record_and_file,
    a_restore_reproduces_every_record_and_every_file
);

async fn a_restore_refuses_a_target_that_is_not_empty(url: String) {
    let d = common::demo_centres(&url).await;
    let dest = backup_dir();
    back_up(&d.app, &url, &dest).await;
    let src = Location::open(dest.to_str().unwrap(), false).unwrap();

    // Into the instance itself: its database holds records.
    let rows_before = every_row(&d.app.store).await;
    let err = d.app.restore(&url, &src, &|_| {}).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("the target database already holds records"),
        "{err}"
    );
    assert!(err.to_string().contains("empty instance"), "{err}");
    assert_eq!(every_row(&d.app.store).await, rows_before);

    // An empty database but an evidence store that holds files.
    let target_url = fresh_url_like(&url).await;
    let store = Store::connect(&target_url).await.unwrap();
    let target = App::new(store, d.app.evidence.clone());
    let err = target
        .restore(&target_url, &src, &|_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("already holds") && err.to_string().contains("evidence store"),
        "{err}"
    );
    assert_eq!(
        target.store.schema_version().await.unwrap(),
        0,
        "nothing was created"
    );

    // A database of the other kind.
    if url.starts_with("sqlite")
        && let Some(pg) = common::postgres_url().await
    {
        let (other, dir) = empty_instance(&pg).await;
        let err = other.restore(&pg, &src, &|_| {}).await.unwrap_err();
        assert!(
            err.to_string().contains("of a sqlite database")
                && err.to_string().contains("this instance's is postgres"),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_dir_all(dest.parent().unwrap());
    clean(&url, &d.app);
    clean(&target_url, &target);
}
both_databases!(
    restore_refuses_a_target_that_holds_records_or_files,
    a_restore_refuses_a_target_that_is_not_empty
);

/// Nothing at all in the target: no tables, no files.
async fn assert_untouched(target: &App) {
    assert_eq!(target.store.schema_version().await.unwrap(), 0);
    assert!(target.store.row_counts().await.unwrap().is_empty());
    assert!(target.evidence.keys().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_or_altered_backup_is_refused_and_nothing_is_restored() {
    let url = common::sqlite_url();
    let d = common::demo_centres(&url).await;
    let dest = backup_dir();
    let manifest = back_up(&d.app, &url, &dest).await;
    let src = Location::open(dest.to_str().unwrap(), false).unwrap();
    let target_url = common::sqlite_url();
    let (target, _) = empty_instance(&target_url).await;

    // Cut off before the manifest (kill -9 during the copy): every file but no manifest.
    std::fs::rename(dest.join("manifest.json"), dest.join("kept.json")).unwrap();
    let err = target
        .restore(&target_url, &src, &|_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("has no manifest.json")
            && err.to_string().contains("not a complete backup")
            && err.to_string().contains("nothing was restored"),
        "{err}"
    );
    assert_untouched(&target).await;

    // A manifest cut short is no manifest either.
    let text = std::fs::read(dest.join("kept.json")).unwrap();
    std::fs::write(dest.join("manifest.json"), &text[..text.len() / 2]).unwrap();
    let err = target
        .restore(&target_url, &src, &|_| {})
        .await
        .unwrap_err();
    assert!(err.to_string().contains("cannot be read"), "{err}");
    assert_untouched(&target).await;

    // One evidence file altered, its size unchanged.
    std::fs::rename(dest.join("kept.json"), dest.join("manifest.json")).unwrap();
    let altered = manifest
        .files
        .iter()
        .find(|f| f.evidence_id.is_some())
        .unwrap();
    let path = dest.join(&altered.path);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[0] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    let err = target
        .restore(&target_url, &src, &|_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("does not match its manifest")
            && err.to_string().contains(&altered.path)
            && err.to_string().contains("nothing was restored"),
        "{err}"
    );
    assert_untouched(&target).await;

    // Put back, and a missing database file is found the same way.
    bytes[0] ^= 0xff;
    std::fs::write(&path, &bytes).unwrap();
    std::fs::rename(dest.join("database.sqlite"), dest.join("moved")).unwrap();
    let err = target
        .restore(&target_url, &src, &|_| {})
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("database.sqlite is missing"),
        "{err}"
    );
    assert_untouched(&target).await;

    // Whole again: it restores.
    std::fs::rename(dest.join("moved"), dest.join("database.sqlite")).unwrap();
    let report = target.restore(&target_url, &src, &|_| {}).await.unwrap();
    assert!(report.ok(), "{report:?}");

    let _ = std::fs::remove_dir_all(dest.parent().unwrap());
    clean(&url, &d.app);
    clean(&target_url, &target);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_never_writes_over_another() {
    let url = common::sqlite_url();
    let d = common::demo_centres(&url).await;
    let dest = backup_dir();
    back_up(&d.app, &url, &dest).await;
    let err = d
        .app
        .backup(
            &url,
            &Location::open(dest.to_str().unwrap(), true).unwrap(),
            &|_| {},
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("already holds files"), "{err}");
    let _ = std::fs::remove_dir_all(dest.parent().unwrap());
    clean(&url, &d.app);
}

async fn a_backup_taken_while_uploads_arrive_restores_and_verifies(url: String) {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let d = common::demo_centres(&url).await;
    let learner = common::learner_of(&d.app, "priya.learner@demo").await;
    let priya = common::actor(&d.app, "priya.learner@demo").await;
    let upload = move |app: App, n: usize| {
        let priya = priya.clone();
        async move {
            let meta = credence::app::portfolio::EvidenceMeta {
                title: format!("Recording {n}"),
                date: "2026-11-02".into(),
                kind: "observation_checklist".into(),
                source: "real_workplace".into(),
                file_name: "recording.mp4".into(),
                ..Default::default()
            };
            // 1 MiB each, different in every upload.
            let bytes: Vec<u8> = (0..1 << 20)
                .map(|i| ((i * 7 + n * 13) % 251) as u8)
                .collect();
            let body = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(
                axum::body::Bytes::from(bytes),
            )]);
            app.add_evidence(&priya, learner, &meta, body, "127.0.0.1")
                .await
                .unwrap()
        }
    };
    // Some files already there, so the backup takes a while.
    for n in 0..12 {
        upload(d.app.clone(), n).await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let uploaded = Arc::new(AtomicUsize::new(0));
    let uploader = {
        let (app, stop, uploaded) = (d.app.clone(), stop.clone(), uploaded.clone());
        tokio::spawn(async move {
            let mut n = 100;
            while !stop.load(Ordering::SeqCst) {
                upload(app.clone(), n).await;
                uploaded.fetch_add(1, Ordering::SeqCst);
                n += 1;
            }
        })
    };
    // Let the uploads get going, then back up while they continue.
    while uploaded.load(Ordering::SeqCst) < 2 {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let dest = backup_dir();
    let manifest = back_up(&d.app, &url, &dest).await;
    let during = uploaded.load(Ordering::SeqCst);
    stop.store(true, Ordering::SeqCst);
    uploader.await.unwrap();
    let live = d.app.store.evidence_object_keys().await.unwrap();
    let in_backup = manifest.files.len() - 1;
    assert!(in_backup >= 12 + 2, "{in_backup}");
    assert!(in_backup <= live.len());
    // The manifest lists exactly the files its snapshot names, no more (a file written
    // after the snapshot is not in it), and every one of them is in the backup.
    let listed: std::collections::BTreeSet<&str> = manifest
        .files
        .iter()
        .filter(|f| f.evidence_id.is_some())
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(listed.len(), in_backup);
    for key in &listed {
        assert!(dest.join(key).is_file(), "{key}");
    }

    let (target_url, target, report) = restore_fresh(&url, &dest).await;
    assert!(
        report.ok(),
        "{report:?} ({during} uploads during the backup)"
    );
    assert_eq!(report.evidence_checked, in_backup);
    let restored: std::collections::BTreeSet<String> = target
        .store
        .evidence_object_keys()
        .await
        .unwrap()
        .into_iter()
        .map(|(_, k, _, _)| k)
        .collect();
    assert_eq!(
        restored,
        listed.iter().map(|k| k.to_string()).collect(),
        "the restored records name exactly the files in the backup"
    );
    let _ = std::fs::remove_dir_all(dest.parent().unwrap());
    clean(&url, &d.app);
    clean(&target_url, &target);
}
both_databases!(
    backup_while_uploads_arrive_gives_a_restore_that_verifies,
    a_backup_taken_while_uploads_arrive_restores_and_verifies
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_to_an_s3_compatible_bucket_restores() {
    let Some(garage) = tokio::task::spawn_blocking(common::garage::start)
        .await
        .unwrap()
    else {
        return;
    };
    let bucket = || {
        let s3 = object_store::aws::AmazonS3Builder::new()
            .with_endpoint(&garage.endpoint)
            .with_bucket_name(&garage.bucket)
            .with_region(&garage.region)
            .with_access_key_id(&garage.access_key_id)
            .with_secret_access_key(&garage.secret_access_key)
            .with_allow_http(true)
            .with_virtual_hosted_style_request(false)
            .build()
            .unwrap();
        Location::on(
            std::sync::Arc::new(s3),
            "backups/monday",
            format!("s3://{}/backups/monday", garage.bucket),
        )
    };
    let url = common::sqlite_url();
    let d = common::demo_centres(&url).await;
    let manifest = d.app.backup(&url, &bucket(), &|_| {}).await.unwrap();
    assert!(manifest.files.len() > 1);
    // A second backup under the same prefix is refused.
    let err = d.app.backup(&url, &bucket(), &|_| {}).await.unwrap_err();
    assert!(err.to_string().contains("already holds files"), "{err}");

    let target_url = common::sqlite_url();
    let (target, _) = empty_instance(&target_url).await;
    let report = target
        .restore(&target_url, &bucket(), &|_| {})
        .await
        .unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(
        every_row(&target.store).await,
        every_row(&d.app.store).await
    );
    assert_eq!(
        every_file(&target.evidence).await,
        every_file(&d.app.evidence).await
    );
    clean(&url, &d.app);
    clean(&target_url, &target);
}
