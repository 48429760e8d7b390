//! Two `credence serve` processes on one PostgreSQL and one S3 store (Garage), behind a real
//! nginx with docs/nginx-cluster.conf (issue 15): a session made through one server works on
//! the other, an upload to one downloads byte for byte from the other, writes through both
//! keep one verified audit chain, the certificate check is limited once for the cluster,
//! and a server killed with SIGKILL mid-load costs no request and no audit entry.
//! Real clients: curl through nginx, the `credence` binary for the audit check.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

fn nginx_binary() -> Option<PathBuf> {
    ["/usr/sbin/nginx", "/usr/bin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
}

/// A child process killed when dropped.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Cluster {
    data: PathBuf,
    url: String,
    env: Vec<(String, String)>,
    ports: [u16; 2],
    servers: [Option<Running>; 2],
    nginx_port: u16,
    _nginx: Running,
}

impl Cluster {
    fn credence(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_credence"));
        c.arg("--data-dir")
            .arg(&self.data)
            .arg("--database-url")
            .arg(&self.url)
            .env_remove("CREDENCE_DATABASE_URL")
            .env_remove("CREDENCE_NO_SEED");
        for (k, v) in &self.env {
            c.env(k, v);
        }
        c
    }

    fn start_server(&mut self, i: usize) {
        let port = self.ports[i];
        let log = std::fs::File::create(self.data.join(format!("server-{i}.log"))).unwrap();
        let child = self
            .credence()
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--public-url",
                &format!("http://127.0.0.1:{}", self.nginx_port),
                "--trust-proxy",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("credence serve starts");
        self.servers[i] = Some(Running(child));
        wait_healthy(port);
    }

    fn kill_server(&mut self, i: usize) {
        if let Some(mut s) = self.servers[i].take() {
            // SIGKILL: no shutdown, no flushing.
            s.0.kill().unwrap();
            s.0.wait().unwrap();
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.nginx_port)
    }
}

fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if curl(&[&format!("http://127.0.0.1:{port}/healthz")]).0 == 200 {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("the server on port {port} did not answer /healthz within a minute");
}

/// Run curl; the status, the headers and the body (as bytes).
fn curl_bytes(args: &[&str]) -> (u16, String, Vec<u8>) {
    let dir = common::temp_dir("curl");
    let headers = dir.join("headers");
    let out = Command::new("curl")
        .args(["-sS", "--max-time", "60", "-o", "-", "-D"])
        .arg(&headers)
        .args(["-w", ""])
        .args(args)
        .output()
        .expect("curl runs");
    let head = std::fs::read_to_string(&headers).unwrap_or_default();
    // The last status line (after any 100 Continue).
    let status = head
        .lines()
        .rfind(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let _ = std::fs::remove_dir_all(&dir);
    (status, head, out.stdout)
}

fn curl(args: &[&str]) -> (u16, String, String) {
    let (s, h, b) = curl_bytes(args);
    (s, h, String::from_utf8_lossy(&b).into_owned())
}

fn upstream_of(headers: &str) -> String {
    headers
        .lines()
        .find_map(|l| {
            l.strip_prefix("X-Upstream: ")
                .or_else(|| l.strip_prefix("x-upstream: "))
        })
        .unwrap_or_default()
        .trim()
        .to_string()
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn nginx_config(prefix: &Path, listen: u16, a: u16, b: u16) -> String {
    let template = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/nginx-cluster.conf"),
    )
    .expect("docs/nginx-cluster.conf");
    template
        .replace("{{PREFIX}}", prefix.to_str().unwrap())
        .replace("{{LISTEN}}", &format!("127.0.0.1:{listen}"))
        .replace("{{SERVER_A}}", &format!("127.0.0.1:{a}"))
        .replace("{{SERVER_B}}", &format!("127.0.0.1:{b}"))
}

#[test]
fn two_servers_behind_nginx_keep_every_promise_of_one() {
    let Some(nginx) = nginx_binary() else {
        assert!(
            !under_ci(),
            "nginx is required under CI=true: apt-get install nginx-light"
        );
        eprintln!("\n!!!!! SKIPPING the cluster test: no nginx (apt-get install nginx-light)\n");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let Some(url) = rt.block_on(common::postgres_url()) else {
        return;
    };
    let Some(garage) = common::garage::start() else {
        return;
    };
    let data = common::temp_dir("cluster");
    let env = vec![
        (
            "CREDENCE_EVIDENCE_STORE".to_string(),
            format!("s3://{}", garage.bucket),
        ),
        ("AWS_ENDPOINT".to_string(), garage.endpoint.clone()),
        ("AWS_ALLOW_HTTP".to_string(), "true".to_string()),
        ("AWS_REGION".to_string(), garage.region.clone()),
        (
            "AWS_ACCESS_KEY_ID".to_string(),
            garage.access_key_id.clone(),
        ),
        (
            "AWS_SECRET_ACCESS_KEY".to_string(),
            garage.secret_access_key.clone(),
        ),
        ("CREDENCE_LOG".to_string(), "info".to_string()),
    ];
    let ports = [common::smtp::free_port(), common::smtp::free_port()];
    let nginx_port = common::smtp::free_port();
    let prefix = data.join("nginx");
    std::fs::create_dir_all(&prefix).unwrap();
    let conf = prefix.join("nginx.conf");
    std::fs::write(&conf, nginx_config(&prefix, nginx_port, ports[0], ports[1])).unwrap();
    let nginx = Running(
        Command::new(&nginx)
            .arg("-p")
            .arg(&prefix)
            .arg("-c")
            .arg(&conf)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nginx starts"),
    );
    let mut c = Cluster {
        data,
        url: url.clone(),
        env,
        ports,
        servers: [None, None],
        nginx_port,
        _nginx: nginx,
    };
    let demo = c.credence().arg("demo").output().unwrap();
    assert!(
        demo.status.success(),
        "{}",
        String::from_utf8_lossy(&demo.stderr)
    );
    // Both start at once: the migrations are applied once, whoever is first.
    c.start_server(0);
    c.start_server(1);
    let base = c.base();
    let both: std::collections::BTreeSet<String> =
        ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();

    // Both are ready (database, evidence store, schema), and each answer carries the
    // request id nginx made.
    for _ in 0..2 {
        let (s, h, body) = curl(&[&format!("{base}/readyz")]);
        assert_eq!((s, body.trim()), (200, "ready"), "{h}");
        let id = h
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("x-request-id: ")
                    .map(str::to_string)
            })
            .unwrap_or_default();
        assert_eq!(
            id.trim().len(),
            32,
            "nginx's $request_id passed through: {h}"
        );
    }

    // 1. A session made through one server works on the other.
    let jar = c.data.join("cookies");
    let jar = jar.to_str().unwrap();
    let (s, _, page) = curl(&["-c", jar, "-b", jar, &format!("{base}/sign-in")]);
    assert_eq!(s, 200);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_string();
    let (s, h, _) = curl(&[
        "-c",
        jar,
        "-b",
        jar,
        "--data-urlencode",
        "email=admin@northgate.demo",
        "--data-urlencode",
        "password=credence-demo-2026",
        "--data-urlencode",
        &format!("csrf={csrf}"),
        &format!("{base}/sign-in"),
    ]);
    assert_eq!(s, 303, "signed in: {h}");
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..8 {
        let (s, h, body) = curl(&["-b", jar, &format!("{base}/home")]);
        assert_eq!(s, 200, "{h}");
        assert!(body.contains("Northgate Training"), "the session holds");
        seen.insert(upstream_of(&h));
    }
    assert_eq!(seen, both, "both servers answered the same session");

    // 2. An upload to one server downloads byte for byte from the other (and via nginx).
    let app = rt.block_on(async {
        let store = credence::store::Store::connect(&url).await.unwrap();
        let evidence = garage.evidence_store();
        credence::app::App::new(store, evidence)
    });
    let token = rt.block_on(common::token_for(&app, "priya.learner@demo"));
    let learner = rt.block_on(common::learner_of(&app, "priya.learner@demo"));
    let bearer = format!("Authorization: Bearer {token}");
    let body: Vec<u8> = (0..12 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
    let file = c.data.join("video.mp4");
    std::fs::write(&file, &body).unwrap();
    let upload = |server: &str, title: &str| {
        curl(&[
            "-H",
            &bearer,
            "-H",
            "Content-Type: application/octet-stream",
            "--data-binary",
            &format!("@{}", file.display()),
            &format!(
                "{server}/api/v1/learners/{learner}/evidence?title={title}&date=2026-11-02&kind=observation_checklist&source=real_workplace&file_name=video.mp4"
            ),
        ])
    };
    let (s, _, made) = upload(&format!("http://127.0.0.1:{}", ports[0]), "On+A");
    assert_eq!(s, 201, "{made}");
    let id = serde_json::from_str::<serde_json::Value>(&made).unwrap()["id"]
        .as_i64()
        .unwrap();
    for server in [format!("http://127.0.0.1:{}", ports[1]), base.clone()] {
        let (s, _, got) = curl_bytes(&[
            "-H",
            &bearer,
            &format!("{server}/learners/{learner}/evidence/{id}/file"),
        ]);
        assert_eq!(s, 200);
        assert_eq!(sha256(&got), sha256(&body), "the download from {server}");
    }

    // 3. Writes through both servers at once keep one chain.
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let base = base.clone();
            let bearer = bearer.clone();
            std::thread::spawn(move || {
                curl(&[
                    "-H",
                    &bearer,
                    "-H",
                    "Content-Type: application/octet-stream",
                    "--data-binary",
                    &format!("note {i}"),
                    &format!(
                        "{base}/api/v1/learners/{learner}/evidence?title=Note+{i}&date=2026-11-03&kind=other&kind_other=note&source=real_workplace&file_name=note{i}.txt"
                    ),
                ])
            })
        })
        .collect();
    for h in handles {
        let (s, _, b) = h.join().unwrap();
        assert_eq!(s, 201, "{b}");
    }
    let verify = c.credence().args(["audit", "verify"]).output().unwrap();
    assert!(
        verify.status.success(),
        "{}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );

    // 4. The certificate check is limited once for the cluster (nginx's zone): 11 answers
    // (the burst and the first), then 429, whichever server would have answered.
    let mut statuses = Vec::new();
    for _ in 0..20 {
        statuses.push(curl(&[&format!("{base}/certificates/ISP-2026-0000002-K")]).0);
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert!(
        (10..=12).contains(&ok),
        "about 11 checks answered: {statuses:?}"
    );
    assert!(statuses.iter().skip(ok).all(|s| *s == 429), "{statuses:?}");

    // 5. A server killed mid-load: every request still answers, from the other.
    let before = rt
        .block_on(app.store.audit_entries(None, 1_000_000))
        .unwrap()
        .len();
    let loader = {
        let base = base.clone();
        std::thread::spawn(move || {
            let mut failures = Vec::new();
            for i in 0..120 {
                let (s, h, _) = curl(&[&format!("{base}/qualifications/610-3788-6")]);
                if s != 200 {
                    failures.push((i, s, h));
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            failures
        })
    };
    std::thread::sleep(Duration::from_millis(300));
    c.kill_server(0);
    let failures = loader.join().unwrap();
    assert!(failures.is_empty(), "requests failed: {failures:?}");
    // Writes carry on through the one left, and the chain still verifies.
    let (s, _, b) = upload(&base, "After+the+kill");
    assert_eq!(s, 201, "{b}");
    let after = rt
        .block_on(app.store.audit_entries(None, 1_000_000))
        .unwrap()
        .len();
    assert!(after > before);
    let verify = c.credence().args(["audit", "verify"]).output().unwrap();
    assert!(verify.status.success());
    // The killed server comes back and serves the same data.
    c.start_server(0);
    let (s, _, got) = curl_bytes(&[
        "-H",
        &bearer,
        &format!(
            "http://127.0.0.1:{}/learners/{learner}/evidence/{id}/file",
            ports[0]
        ),
    ]);
    assert_eq!(s, 200);
    assert_eq!(sha256(&got), sha256(&body));
    drop(garage);
}
