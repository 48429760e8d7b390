//! Running Credence as an operations team does: migrations that several servers start at
//! once, `/readyz`, `/metrics`, the request id in headers, logs and 5xx answers, and
//! `credence bench` on PostgreSQL.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use credence::store::{LATEST_SCHEMA_VERSION, Store};
use std::process::Command;

async fn get(router: &axum::Router, uri: &str) -> common::Reply {
    common::send(router, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// An application on `url` migrated to `version`, with a local evidence folder, and the
/// folder.
async fn app_at(url: &str, version: i64) -> (credence::app::App, std::path::PathBuf) {
    let store = Store::connect(url).await.unwrap();
    store.migrate_to(version).await.unwrap();
    let dir = common::temp_dir("evidence");
    let evidence = credence::evidence_store::EvidenceStore::local(&dir).unwrap();
    (credence::app::App::new(store, evidence), dir)
}

// --- Migrations, by several servers at once -------------------------------------------------

/// Eight servers start together on one new database, each with its own pool: every one
/// succeeds, the migrations are applied exactly once between them, and each is recorded
/// once.
async fn migrations_run_once_when_many_servers_start_together(url: String) {
    const SERVERS: usize = 8;
    let mut stores = Vec::new();
    for _ in 0..SERVERS {
        stores.push(Store::connect(&url).await.unwrap());
    }
    let runs: Vec<_> = stores
        .iter()
        .map(|s| {
            let s = s.clone();
            tokio::spawn(async move { s.migrate().await })
        })
        .collect();
    let mut applied = Vec::new();
    for run in runs {
        applied.push(
            run.await
                .unwrap()
                .expect("every server's migration succeeds"),
        );
    }
    assert_eq!(
        applied.iter().sum::<usize>(),
        LATEST_SCHEMA_VERSION as usize,
        "each migration ran once in all: {applied:?}"
    );
    let recorded: Vec<(i64, i64)> = sqlx::query_as(
        "select version, count(*) from schema_migration group by version order by version",
    )
    .fetch_all(stores[0].pool())
    .await
    .unwrap();
    assert_eq!(
        recorded,
        (1..=LATEST_SCHEMA_VERSION)
            .map(|v| (v, 1))
            .collect::<Vec<_>>()
    );
    // And once more, now that all is applied: nothing to do, for anyone.
    for s in &stores {
        assert_eq!(s.migrate().await.unwrap(), 0);
    }
    assert!(stores[0].pending_migrations().await.unwrap().is_empty());
}
both_databases!(
    migrations_run_once_when_many_servers_start_together,
    migrations_run_once_when_many_servers_start_together
);

/// A server that starts while another holds the migration lock waits for it, then finds
/// nothing to do (PostgreSQL's advisory lock, held here by hand).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_waits_for_the_migration_lock_another_holds() {
    let Some(url) = common::postgres_url().await else {
        return;
    };
    let holder = Store::connect(&url).await.unwrap();
    let mut conn = holder.pool().acquire().await.unwrap();
    sqlx::query("select count(*) from (select pg_advisory_lock($1)) as l")
        .bind(credence::store::MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .unwrap();
    let waiting = Store::connect(&url).await.unwrap();
    let run = tokio::spawn({
        let waiting = waiting.clone();
        async move { waiting.migrate().await }
    });
    // Until the lock is released, nothing is applied: the waiting server has not even made
    // the migrations table. (Checked by the database's own view of who waits on the lock.)
    let mut seen_waiting = false;
    for _ in 0..200 {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from pg_locks where locktype = 'advisory' and not granted",
        )
        .fetch_one(holder.pool())
        .await
        .unwrap();
        if n > 0 {
            seen_waiting = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(seen_waiting, "the second server waits on the advisory lock");
    let (tables,): (i64,) = sqlx::query_as(
        "select count(*) from pg_tables where schemaname = current_schema() and tablename = 'schema_migration'",
    )
    .fetch_one(holder.pool())
    .await
    .unwrap();
    assert_eq!(tables, 0, "nothing was applied while the lock was held");
    sqlx::query("select pg_advisory_unlock($1)")
        .bind(credence::store::MIGRATION_LOCK)
        .execute(&mut *conn)
        .await
        .unwrap();
    assert_eq!(run.await.unwrap().unwrap(), LATEST_SCHEMA_VERSION as usize);
}

// --- /readyz ----------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_ready_when_the_database_evidence_store_and_schema_are() {
    let (app, _dir) = app_at(&common::sqlite_url(), LATEST_SCHEMA_VERSION).await;
    let router = credence::web::router(app);
    let r = get(&router, "/readyz").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ready"));
    // `/healthz` is as it was.
    let r = get(&router, "/healthz").await;
    assert_eq!((r.status, r.body.as_str()), (StatusCode::OK, "ok"));
}

async fn readyz_names_each_check_that_fails(url: String) {
    // One migration behind.
    let (app, dir) = app_at(&url, LATEST_SCHEMA_VERSION - 1).await;
    let router = credence::web::router(app.clone());
    let r = get(&router, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("migrations: 1 pending ("), "{}", r.body);
    assert!(r.body.contains("credence migrate"), "{}", r.body);
    assert!(!r.body.contains("evidence store"), "{}", r.body);
    // The evidence store's folder gone as well: both said, one a line.
    std::fs::remove_dir_all(&dir).unwrap();
    let r = get(&router, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.body.lines().count(), 2, "{}", r.body);
    assert!(
        r.body.contains("evidence store: not reachable"),
        "{}",
        r.body
    );
    // Migrated and the folder back: ready.
    app.store.migrate().await.unwrap();
    std::fs::create_dir_all(&dir).unwrap();
    assert_eq!(get(&router, "/readyz").await.status, StatusCode::OK);
    // The database gone: said, and the migrations not checked.
    app.store.pool().close().await;
    let r = get(&router, "/readyz").await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(r.body.contains("database: not answering"), "{}", r.body);
    assert!(r.body.contains("migrations: not checked"), "{}", r.body);
}
both_databases!(
    readyz_names_each_check_that_fails,
    readyz_names_each_check_that_fails
);

// --- /metrics ---------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_by_route_template_and_show_the_queue_and_pool() {
    let (app, _dir) = app_at(&common::sqlite_url(), LATEST_SCHEMA_VERSION).await;
    app.store
        .queue_job(&credence::store::JobDraft {
            kind: "email".into(),
            payload: serde_json::json!({}),
        })
        .await
        .unwrap();
    let router = credence::web::router(app);
    get(&router, "/healthz").await;
    get(&router, "/healthz").await;
    // A learner's page without signing in (sent to sign in), and a path no route has: both
    // with ids that must not become labels.
    let r = get(&router, "/learners/987654").await;
    assert!(r.status.is_redirection(), "{}", r.status);
    assert_eq!(
        get(&router, "/no-such-page/876543").await.status,
        StatusCode::NOT_FOUND
    );

    let m = get(&router, "/metrics").await;
    assert_eq!(m.status, StatusCode::OK);
    assert_eq!(
        m.headers[header::CONTENT_TYPE],
        "text/plain; version=0.0.4; charset=utf-8"
    );
    let b = &m.body;
    assert!(
        b.contains("# TYPE credence_http_request_duration_seconds histogram"),
        "{b}"
    );
    assert!(
        b.contains(
            "credence_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\",status=\"2xx\"} 2\n"
        ),
        "{b}"
    );
    assert!(
        b.contains(
            "credence_http_request_duration_seconds_bucket{route=\"/healthz\",method=\"GET\",status=\"2xx\",le=\"+Inf\"} 2\n"
        ),
        "{b}"
    );
    assert!(
        b.contains(
            "credence_http_request_duration_seconds_count{route=\"/learners/{learner}\",method=\"GET\",status=\"3xx\"} 1\n"
        ),
        "{b}"
    );
    assert!(
        b.contains(
            "credence_http_request_duration_seconds_count{route=\"unmatched\",method=\"GET\",status=\"4xx\"} 1\n"
        ),
        "{b}"
    );
    assert!(
        !b.contains("987654") && !b.contains("876543"),
        "no raw path reaches the metrics: {b}"
    );
    assert!(b.contains("credence_jobs{status=\"queued\"} 1\n"), "{b}");
    assert!(b.contains("credence_jobs{status=\"dead\"} 0\n"), "{b}");
    assert!(
        b.contains("\ncredence_job_oldest_queued_age_seconds "),
        "{b}"
    );
    assert!(b.contains("\ncredence_db_pool_connections "), "{b}");
    assert!(b.contains("\ncredence_db_pool_idle_connections "), "{b}");
    // Every sample line is `name{labels} number`.
    for line in b.lines().filter(|l| !l.starts_with('#')) {
        let value = line.rsplit(' ').next().unwrap();
        assert!(value.parse::<f64>().is_ok(), "{line}");
    }
}

// --- The request id -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_carries_a_request_id_taking_a_sensible_one_from_the_proxy() {
    let (app, _dir) = app_at(&common::sqlite_url(), LATEST_SCHEMA_VERSION).await;
    let router = credence::web::router(app);
    let id = |r: &common::Reply| r.headers["x-request-id"].to_str().unwrap().to_string();
    let a = id(&get(&router, "/healthz").await);
    let b = id(&get(&router, "/no-such-page").await);
    assert!(uuid::Uuid::parse_str(&a).is_ok(), "{a}");
    assert_ne!(a, b, "a new id for each request");
    let with = |value: &'static str| {
        Request::get("/healthz")
            .header("x-request-id", value)
            .body(Body::empty())
            .unwrap()
    };
    let r = common::send(&router, with("nginx-4f2a.17")).await;
    assert_eq!(id(&r), "nginx-4f2a.17");
    let r = common::send(&router, with("two words <b>")).await;
    assert!(
        uuid::Uuid::parse_str(&id(&r)).is_ok(),
        "replaced: {}",
        id(&r)
    );
}

/// A number with a right check character, so that looking it up reaches the database.
fn certificate_number() -> String {
    let check = credence_domain::certificate::check_character("ISP20260000042").unwrap();
    format!("ISP-2026-0000042-{check}")
}

/// A 5xx page and a 5xx API error both say the request's id as the reference to quote, and
/// the error's log line (JSON, with `--log-format json`) carries the same id.
#[tokio::test]
async fn a_server_error_shows_the_request_id_and_its_json_log_line_carries_it() {
    let logs = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
    struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Capture {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let writer = {
        let logs = logs.clone();
        move || Capture(logs.clone())
    };
    let _logging = tracing::subscriber::set_default(credence::logs::subscriber(
        credence::cli::LogFormat::Json,
        tracing_subscriber::EnvFilter::new("warn"),
        writer,
    ));

    let (app, _dir) = app_at(&common::sqlite_url(), LATEST_SCHEMA_VERSION).await;
    let router = credence::web::router(app.clone());
    // The database goes away: the lookup fails on our side.
    app.store.pool().close().await;
    let number = certificate_number();

    let page = get(&router, &format!("/certificates/{number}")).await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    let id = page.headers["x-request-id"].to_str().unwrap().to_string();
    assert!(
        page.body.contains(&format!("quote this reference: {id}")),
        "{}",
        page.body
    );

    let api = common::send(
        &router,
        Request::get(format!("/api/v1/certificates/{number}"))
            .header("x-request-id", "proxy-id-1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(api.status, StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = serde_json::from_str(&api.body).unwrap();
    let detail = body["errors"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("quote this reference: proxy-id-1"),
        "{detail}"
    );
    assert!(!detail.contains("pool"), "no internals shown: {detail}");

    let text = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
        .collect();
    for expected in [id.as_str(), "proxy-id-1"] {
        assert!(
            lines.iter().any(|l| l["level"] == "ERROR"
                && l["span"]["request_id"] == expected
                && l["fields"]["message"] == "internal error"),
            "an error line carries {expected}: {text}"
        );
    }
}

// --- credence bench on PostgreSQL -------------------------------------------------------------

fn bench(data: &std::path::Path, url: &str, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_credence"))
        .arg("--data-dir")
        .arg(data)
        .args(["--database-url", url, "bench"])
        .args([
            "--iterations",
            "1",
            "--rule-checks",
            "1000",
            "--registrations",
            "20",
            "--upload-mib",
            "0",
            "--portfolio-requests",
            "0",
            "--home-requests",
            "0",
            "--audit-appends",
            "32",
            "--qa-learners",
            "0",
            "--certificates",
            "0",
        ])
        .args(extra)
        .env_remove("CREDENCE_DATABASE_URL")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_measures_on_the_postgresql_database_it_is_given_and_sqlite_beside_it() {
    let Some(url) = common::postgres_url().await else {
        return;
    };
    let data = common::temp_dir("bench");
    let out = bench(&data, &url, &["--also-sqlite"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("Database figures are taken on: PostgreSQL at postgres://"),
        "{stdout}"
    );
    for db in ["PostgreSQL", "SQLite"] {
        assert!(
            stdout.contains(&format!("Audited writes on {db}, ")),
            "{stdout}"
        );
        assert!(
            stdout.contains(&format!("Bulk registration from CSV on {db}: 20 rows")),
            "{stdout}"
        );
    }
    // Left as empty as it was found.
    let store = Store::connect(&url).await.unwrap();
    let (tables,): (i64,) =
        sqlx::query_as("select count(*) from pg_tables where schemaname = current_schema()")
            .fetch_one(store.pool())
            .await
            .unwrap();
    assert_eq!(tables, 0);

    // A database with something in it is refused, untouched.
    store.migrate().await.unwrap();
    let out = bench(&data, &url, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("is not empty") && stderr.contains("Nothing was changed"),
        "{stderr}"
    );
    assert!(store.pending_migrations().await.unwrap().is_empty());
}

/// `credence bench --scale F` (issue 15) builds an awarding organisation's data by bulk load
/// at a tiny scale in CI, so the generator cannot rot: with `--keep` the rows are there in
/// the proportions docs/operations.md gives, the keys and foreign keys are back (a row that
/// breaks one is refused), a generated person signs in, and the audit chain still verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scale_generator_bulk_loads_a_consistent_awarding_organisation() {
    let Some(url) = common::postgres_url().await else {
        return;
    };
    let data = common::temp_dir("scale");
    let out = Command::new(env!("CARGO_BIN_EXE_credence"))
        .arg("--data-dir")
        .arg(&data)
        .args([
            "--database-url",
            &url,
            "bench",
            "--scale",
            "0.002",
            "--keep",
        ])
        .arg("--scale-dir")
        .arg(data.join("scale"))
        .env_remove("CREDENCE_DATABASE_URL")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = credence::store::Store::connect(&url).await.unwrap();
    let count = |table: &'static str| {
        let store = store.clone();
        async move {
            let (n,): (i64,) =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
            n
        }
    };
    // F = 0.002: 2,000 learners at 4 centres, 20 judgements and 5 certificates a learner.
    assert_eq!(count("centre").await, 4, "{stdout}");
    assert_eq!(count("learner").await, 2_000);
    assert_eq!(count("registration").await, 2_000);
    assert_eq!(count("judgement").await, 40_000);
    assert_eq!(count("certificate").await, 10_000);
    // What sampling plans read is built from the loaded judgements: one row per learner's
    // unit and assessor.
    let (groups,): (i64,) = sqlx::query_as(
        "select count(*) from (select distinct centre_id, learner_id, unit_key, assessor_id from judgement) g",
    )
    .fetch_one(store.pool())
    .await
    .unwrap();
    assert!(groups > 2_000);
    assert_eq!(count("unit_work").await, groups);
    // The keys are back: a judgement for a learner who does not exist is refused.
    let orphan = sqlx::query(
        "insert into judgement (learner_id, unit_key, criterion, outcome, feedback, rpl, assessor_id, at, centre_id) \
         select 999999999, unit_key, criterion, outcome, feedback, rpl, assessor_id, at, centre_id from judgement limit 1",
    )
    .execute(store.pool())
    .await;
    assert!(orphan.is_err(), "the foreign keys are back");
    // A generated learner signs in with the documented password.
    let app = common::app_on(&url).await;
    let signed_in = app
        .sign_in("learner1@scale.test", "credence-scale-2026", "127.0.0.1")
        .await;
    assert!(signed_in.is_ok(), "{signed_in:?}");
    assert!(app.verify_audit(None).await.unwrap().is_ok());
}
