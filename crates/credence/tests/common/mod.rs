//! Test support: a fresh database per test on SQLite and on a real PostgreSQL, the same
//! tests on both (see [`both_databases!`]).
//!
//! PostgreSQL: a throwaway cluster is started once per test binary under a temp folder
//! (`initdb` + `pg_ctl`, listening on 127.0.0.1 only), and a watcher process stops it and
//! removes the folder when the test binary exits. Each test gets its own database. When no
//! cluster can be started the PostgreSQL variants skip with a loud message, except under
//! `CI=true`, where that is a failure.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use credence::app::App;
use credence::store::Store;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

pub mod garage;
pub mod pages;
pub mod smtp;
pub mod verifier;

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A fresh folder for a test. Every one of a test process's folders sits under one root,
/// which a watcher process removes once the test process has exited (tests used to leave a
/// thousand folders, 3 GB, in `/tmp` per run).
pub fn temp_dir(what: &str) -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    let root = ROOT.get_or_init(|| {
        let root = loose_temp_dir("run");
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "while kill -0 {} 2>/dev/null; do sleep 0.5; done; rm -rf '{}'",
                std::process::id(),
                root.display()
            ))
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        root
    });
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = root.join(format!("{what}-{n}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh folder of its own in the temp folder, that nothing removes for the test (the
/// PostgreSQL cluster's, which its own watcher stops and removes).
fn loose_temp_dir(what: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "credence-test-{what}-{}-{n}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn sqlite_url() -> String {
    let dir = temp_dir("sqlite");
    format!("sqlite://{}?mode=rwc", dir.join("credence.db").display())
}

fn pg_bin(name: &str) -> Option<PathBuf> {
    let on_path = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {name}"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    on_path.or_else(|| {
        let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(|e| e.ok())
            .map(|e| e.path().join("bin").join(name))
            .filter(|p| p.exists())
            .collect();
        found.sort();
        found.pop()
    })
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Run a PostgreSQL program, as the `postgres` user when we are root (initdb refuses root).
fn pg_command(bin: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin);
        c
    } else {
        Command::new(bin)
    }
}

struct Cluster {
    port: u16,
}

fn start_cluster() -> Result<Cluster, String> {
    let initdb = pg_bin("initdb").ok_or("initdb was not found (install postgresql-15)")?;
    let pg_ctl = pg_bin("pg_ctl").ok_or("pg_ctl was not found")?;
    let dir = loose_temp_dir("pg");
    let data = dir.join("data");
    if is_root() {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|e| e.to_string())?;
        if !ok.success() {
            return Err("could not hand the temp folder to the postgres user".into());
        }
    }
    let out = pg_command(&initdb)
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            "credence",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-locale",
            "-N",
        ])
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let opts = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300",
        dir.display()
    );
    let out = pg_command(&pg_ctl)
        .arg("-D")
        .arg(&data)
        .args(["-o", &opts, "-w", "-t", "60", "-l"])
        .arg(dir.join("log"))
        .arg("start")
        .output()
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !out.status.success() {
        let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed: {}{log}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    // Stop the cluster and remove its folder once this test binary has exited.
    let stop = if is_root() {
        format!(
            "runuser -u postgres -- {} -D {} stop -m immediate",
            pg_ctl.display(),
            data.display()
        )
    } else {
        format!(
            "{} -D {} stop -m immediate",
            pg_ctl.display(),
            data.display()
        )
    };
    let watcher = format!(
        "while kill -0 {} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; rm -rf {}",
        std::process::id(),
        dir.display()
    );
    Command::new("sh")
        .arg("-c")
        .arg(watcher)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("could not start the cluster's watcher: {e}"))?;
    Ok(Cluster { port })
}

static CLUSTER: OnceLock<Result<Cluster, String>> = OnceLock::new();

/// A URL to a fresh, empty PostgreSQL database, or `None` (after a loud message) when no
/// cluster can be started here. Under `CI=true` that is a failure instead.
pub async fn postgres_url() -> Option<String> {
    let cluster = CLUSTER.get_or_init(start_cluster);
    match cluster {
        Ok(c) => {
            let n = COUNTER.fetch_add(1, Ordering::SeqCst);
            let name = format!("t{}_{n}", std::process::id());
            let admin = format!("postgres://credence@127.0.0.1:{}/postgres", c.port);
            let store = Store::connect(&admin)
                .await
                .expect("connect to the test cluster");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("create database {name}")))
                .execute(store.pool())
                .await
                .expect("create a test database");
            store.pool().close().await;
            Some(format!("postgres://credence@127.0.0.1:{}/{name}", c.port))
        }
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("PostgreSQL is required under CI=true but could not start: {why}");
            }
            // Written to the real stderr, past the test harness's capture, so a skip is seen.
            let _ = std::io::Write::write_all(
                &mut std::io::stderr(),
                format!("\n!!!!! SKIPPING a PostgreSQL test: no cluster could start here: {why}\n")
                    .as_bytes(),
            );
            None
        }
    }
}

/// An application on a fresh database, without the shipped specifications.
pub async fn app_on(url: &str) -> App {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    let dir = temp_dir("evidence");
    let evidence = credence::evidence_store::EvidenceStore::local(&dir).expect("evidence folder");
    App::new(store, evidence)
}

/// Define `$name` as a test run twice: `$name::sqlite` and `$name::postgres`, each calling
/// `$body(url)` on a fresh database.
#[macro_export]
macro_rules! both_databases {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::common::sqlite_url()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(url) = $crate::common::postgres_url().await {
                    super::$body(url).await;
                }
            }
        }
    };
}

/// The shipped specifications, with their corrections.
pub fn seeds() -> &'static [credence::seeds::Seed] {
    credence::seeds::SEEDS
}

/// Import and publish the five shipped specifications.
pub async fn seed(app: &App) {
    let n = app
        .ensure_seeded()
        .await
        .expect("the shipped specifications import and publish");
    assert_eq!(n, 5);
}

/// The shipped specifications plus the demo centres, staff and learners.
pub async fn demo(app: &App) {
    seed(app).await;
    app.create_demo().await.expect("demo data");
}

/// An API token for a demo account (or any person), for `Authorization: Bearer`.
pub async fn token_for(app: &App, email: &str) -> String {
    let person = app
        .store
        .person_by_email(email)
        .await
        .unwrap()
        .expect("the person exists");
    let actor = app.actor_from_api_token("no-such-token").await.unwrap();
    assert!(actor.is_none());
    let tmp = credence::app::people::Actor {
        person_id: person.person_id,
        email: person.email.clone(),
        name: person.display_name.clone(),
        grants: Vec::new(),
        active: None,
        eqa_centres: Vec::new(),
        csrf: None,
        session_hash: None,
        second_factor: false,
    };
    app.create_api_token(&tmp, "test").await.unwrap()
}

/// A new awarding-organisation staff member (ISP) and their API token.
pub async fn ao_staff_token(app: &App) -> String {
    let id = app
        .create_person("staff@ao.test", "AO Staff", Some("a long test password"))
        .await
        .unwrap();
    app.store
        .grant_role(id, "ao_staff", Some("ISP"), None, None)
        .await
        .unwrap();
    token_for(app, "staff@ao.test").await
}

/// A demo person as the use cases see them (through an API token).
pub async fn actor(app: &App, email: &str) -> credence::app::people::Actor {
    let token = token_for(app, email).await;
    app.actor_from_api_token(&token).await.unwrap().unwrap()
}

/// The demo on a fresh database, with its two centres' ids.
pub struct DemoCentres {
    pub app: App,
    pub north: i64,
    pub river: i64,
}

pub async fn demo_centres(url: &str) -> DemoCentres {
    let app = app_on(url).await;
    demo(&app).await;
    let centres = app.store.centres().await.unwrap();
    let id = |name: &str| centres.iter().find(|c| c.name == name).unwrap().centre_id;
    DemoCentres {
        north: id("Northgate Training"),
        river: id("Riverside College"),
        app,
    }
}

/// What a request through the router gave back.
pub struct Reply {
    pub status: axum::http::StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

/// Send a request through the router (no network) and read the whole answer.
pub async fn send(router: &axum::Router, req: axum::http::Request<axum::body::Body>) -> Reply {
    use tower::ServiceExt;
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .unwrap();
    Reply {
        status,
        headers,
        body: String::from_utf8_lossy(&bytes).into_owned(),
    }
}

/// A request carrying an API token.
pub fn bearer(method: &str, uri: &str, token: &str) -> axum::http::request::Builder {
    axum::http::Request::builder()
        .method(method)
        .uri(uri)
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {token}"))
}

/// GET with an API token.
pub async fn get(router: &axum::Router, uri: &str, token: &str) -> Reply {
    send(
        router,
        bearer("GET", uri, token)
            .body(axum::body::Body::empty())
            .unwrap(),
    )
    .await
}

/// POST a body of the given type with an API token.
pub async fn post(
    router: &axum::Router,
    uri: &str,
    token: &str,
    content_type: &str,
    body: impl Into<axum::body::Body>,
) -> Reply {
    send(
        router,
        bearer("POST", uri, token)
            .header(axum::http::header::CONTENT_TYPE, content_type)
            .body(body.into())
            .unwrap(),
    )
    .await
}

/// The learner record of a person with a learner role.
pub async fn learner_of(app: &App, email: &str) -> i64 {
    let p = app.store.person_by_email(email).await.unwrap().unwrap();
    app.store
        .grants(p.person_id)
        .await
        .unwrap()
        .iter()
        .find_map(|g| g.learner_id)
        .unwrap()
}

/// The first learner registered at a centre on a qualification (Marek, for ISMM's at
/// Northgate in the demo).
pub async fn learner_registered_on(app: &App, centre: i64, qan: &str) -> i64 {
    app.store
        .registrations_at_centre(centre, 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.qan == qan)
        .unwrap()
        .learner_id
}

/// A multipart form body with one file field (and the closing boundary).
pub fn multipart_file(boundary: &str, field: &str, file_name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{file_name}\"\r\nContent-Type: text/plain\r\n\r\n").as_bytes());
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    body
}

/// A code an authenticator app would show now for a Base32 key (spaces allowed).
pub fn totp_code(key: &str) -> String {
    totp_code_in(key, 0)
}

/// The code an app would show `seconds` from now (a code is accepted once, so a test that
/// signs in again within the same 30 seconds uses the next one, still within the skew).
pub fn totp_code_in(key: &str, seconds: u64) -> String {
    let key: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_step_duration(30)
        .with_secret(totp_rs::Secret::try_from_base32(&key).unwrap())
        .build()
        .unwrap()
        .generate(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + seconds,
        )
        .to_string()
}

/// Set up and confirm a second factor for a person, as they would with an app. Returns the
/// key (Base32) and the recovery codes.
pub async fn enrol_second_factor(app: &App, email: &str) -> (String, Vec<String>) {
    let token = token_for(app, email).await;
    let actor = app.actor_from_api_token(&token).await.unwrap().unwrap();
    let enrolment = app.begin_second_factor(&actor).await.unwrap();
    let codes = app
        .confirm_second_factor(&actor, &totp_code(&enrolment.key), "127.0.0.1")
        .await
        .unwrap();
    (enrolment.key, codes)
}
