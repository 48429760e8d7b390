//! A real S3 server for tests: Garage (<https://garagehq.deuxfleurs.fr>), started on loopback
//! in a temp folder with one bucket and one access key that may read and write it.
//!
//! Garage is AGPL, so it is only ever run as a separate process, never linked. The binary is
//! taken from `$CREDENCE_GARAGE_BIN`, else `garage` on `PATH`, else
//! `/tmp/garage-install/bin/garage`, else `~/.cargo/bin/garage` (see `.ci/garage-install.sh`).
//! Without one, [`start`] skips with a loud message, except under CI, where that is a failure.
//!
//! Dropping the [`Garage`] kills the server and removes its folder. A watcher process also does
//! that once the test binary exits, so a `Garage` kept in a `static` (never dropped) or a test
//! binary killed outright leaves nothing behind.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// How long the server may take to come up, layout and bucket included (it takes well under
/// a second on an idle machine).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// A running Garage server, one bucket and a key with read, write and owner rights on it.
pub struct Garage {
    /// `http://127.0.0.1:PORT`, the S3 API. Use path-style addressing.
    pub endpoint: String,
    pub bucket: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Always `"garage"`.
    pub region: String,
    server: Child,
    watcher: Option<Child>,
    dir: PathBuf,
    bin: PathBuf,
}

impl Garage {
    /// Credence's evidence store on this server's bucket.
    pub fn evidence_store(&self) -> credence::evidence_store::EvidenceStore {
        credence::evidence_store::EvidenceStore::s3_with(
            &self.endpoint,
            &self.bucket,
            &self.region,
            &self.access_key_id,
            &self.secret_access_key,
        )
        .expect("an S3 evidence store on Garage")
    }

    /// A `garage` command-line call on this server (`garage -c CONFIG ...`), e.g. to create
    /// another bucket.
    pub fn command(&self) -> Command {
        garage_command(&self.bin, &self.dir)
    }

    /// What the server has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("garage.log")).unwrap_or_default()
    }
}

impl Drop for Garage {
    fn drop(&mut self) {
        if let Some(mut w) = self.watcher.take() {
            let _ = w.kill();
            let _ = w.wait();
        }
        let _ = self.server.kill();
        let _ = self.server.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a fresh Garage server. Returns `None` (after a loud message) when no binary is
/// found, except when `CI` is set: then it panics, saying how to install one. Panics, with
/// the server's log, when the server does not come up.
pub fn start() -> Option<Garage> {
    let Some(bin) = find_binary() else {
        let how = "install it with `.ci/garage-install.sh`, or `cargo install garage@2.5.0 --locked \
                   --no-default-features --features bundled-libs,sqlite`, or point \
                   CREDENCE_GARAGE_BIN at a garage binary";
        if under_ci() {
            panic!("Garage (S3 server) is required under CI but no binary was found: {how}");
        }
        // Written to the real stderr, past the test harness's capture, so a skip is seen.
        let _ = std::io::stderr().write_all(
            format!("\n!!!!! SKIPPING an S3 test: no garage binary was found: {how}\n").as_bytes(),
        );
        return None;
    };
    // Free ports are found by binding port 0 and letting go; another process may take one in
    // between, so a server that dies on start is retried on new ports.
    let mut attempt = 1;
    loop {
        match try_start(&bin) {
            Ok(g) => return Some(g),
            Err(Failure { exited, why }) if exited && attempt < 3 => {
                let _ = std::io::stderr().write_all(
                    format!("garage exited on start (a port taken?), trying again:\n{why}\n")
                        .as_bytes(),
                );
                attempt += 1;
            }
            Err(Failure { why, .. }) => {
                panic!("Garage ({}) did not start: {why}", bin.display())
            }
        }
    }
}

/// Why an attempt to start failed, with the server's log; `exited` when the server died
/// (worth another try on other ports), rather than hung.
struct Failure {
    exited: bool,
    why: String,
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

fn find_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CREDENCE_GARAGE_BIN").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        assert!(
            p.is_file(),
            "CREDENCE_GARAGE_BIN is {}, which is not a file",
            p.display()
        );
        return Some(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|d| d.join("garage"))
            .find(|p| p.is_file())
    });
    let home = std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin/garage"));
    on_path
        .into_iter()
        .chain([PathBuf::from("/tmp/garage-install/bin/garage")])
        .chain(home)
        .find(|p| p.is_file())
}

fn garage_command(bin: &Path, dir: &Path) -> Command {
    let mut c = Command::new(bin);
    c.arg("-c").arg(dir.join("garage.toml"));
    c.env("RUST_LOG", "warn");
    c.stdin(Stdio::null());
    c
}

fn temp_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "credence-test-garage-{}-{n}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create Garage's temp folder");
    dir
}

fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    let port = |l: &TcpListener| l.local_addr().expect("a bound port").port();
    (port(&a), port(&b))
}

/// 32 random bytes as hex, for `rpc_secret`.
fn random_hex32() -> String {
    let mut bytes = [0u8; 32];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if from_os.is_err() {
        use std::hash::{BuildHasher, RandomState};
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let v = RandomState::new().hash_one((i, std::process::id(), Instant::now()));
            chunk.copy_from_slice(&v.to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// One attempt; on failure the server is stopped and its folder removed.
fn try_start(bin: &Path) -> Result<Garage, Failure> {
    let dir = temp_dir();
    let (s3_port, rpc_port) = free_ports();
    let config = format!(
        r#"metadata_dir = "{dir}/meta"
data_dir = "{dir}/data"
db_engine = "sqlite"
replication_factor = 1
metadata_fsync = false
data_fsync = false

rpc_bind_addr = "127.0.0.1:{rpc_port}"
rpc_public_addr = "127.0.0.1:{rpc_port}"
rpc_secret = "{secret}"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:{s3_port}"
"#,
        dir = dir.display(),
        secret = random_hex32(),
    );
    std::fs::write(dir.join("garage.toml"), config).expect("write Garage's config");
    let log = std::fs::File::create(dir.join("garage.log")).expect("create Garage's log");
    let server = garage_command(bin, &dir)
        .arg("server")
        .env("RUST_LOG", "garage=info,warn")
        .stdout(log.try_clone().expect("share Garage's log file"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("could not run {}: {e}", bin.display()));

    // Stop the server and remove its folder once this test binary has exited.
    let watcher = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "while kill -0 {} 2>/dev/null; do sleep 0.5; done; kill -9 {} 2>/dev/null; rm -rf '{}'",
            std::process::id(),
            server.id(),
            dir.display()
        ))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok();

    let mut garage = Garage {
        endpoint: format!("http://127.0.0.1:{s3_port}"),
        bucket: "credence-test".to_string(),
        access_key_id: String::new(),
        secret_access_key: String::new(),
        region: "garage".to_string(),
        server,
        watcher,
        dir,
        bin: bin.to_path_buf(),
    };
    match set_up(&mut garage, s3_port) {
        Ok(()) => Ok(garage),
        Err(why) => {
            let exited = garage.server.try_wait().is_ok_and(|s| s.is_some());
            let why = format!("{why}\n--- garage.log ---\n{}", garage.log());
            Err(Failure { exited, why })
        }
    }
}

/// Waits for the node, applies a one-node layout, creates the bucket and key, and waits for
/// the S3 API to answer.
fn set_up(g: &mut Garage, s3_port: u16) -> Result<(), String> {
    let deadline = Instant::now() + STARTUP_TIMEOUT;
    let started = Instant::now();

    // The node is up once the command-line tool can reach it over RPC.
    loop {
        if let Ok(Some(status)) = g.server.try_wait() {
            return Err(format!("garage server exited early ({status})"));
        }
        let status = g.command().arg("status").output();
        if status.as_ref().is_ok_and(|o| o.status.success()) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "garage did not answer `garage status` within {STARTUP_TIMEOUT:?}: {}",
                describe(&status)
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let id = run(g, &["node", "id", "-q"])?;
    let id = id.trim().split('@').next().unwrap_or_default().to_string();
    run(g, &["layout", "assign", "-z", "dc1", "-c", "1G", &id])?;
    run(g, &["layout", "apply", "--version", "1"])?;
    let bucket = g.bucket.clone();
    run(g, &["bucket", "create", &bucket])?;
    let key = run(g, &["key", "create", &bucket])?;
    let field = |name: &str| {
        key.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("no `{name}` in the output of `garage key create`:\n{key}"))
    };
    g.access_key_id = field("Key ID:")?;
    g.secret_access_key = field("Secret key:")?;
    run(
        g,
        &[
            "bucket",
            "allow",
            "--read",
            "--write",
            "--owner",
            &bucket,
            "--key",
            &g.access_key_id,
        ],
    )?;

    // The S3 API answers HTTP (an unsigned request gets an S3 error back).
    let addr = SocketAddr::from(([127, 0, 0, 1], s3_port));
    loop {
        if s3_answers(addr) {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!(
                "the S3 API on {addr} did not answer within {STARTUP_TIMEOUT:?}"
            ));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    if std::env::var_os("CREDENCE_GARAGE_VERBOSE").is_some() {
        let _ = std::io::stderr().write_all(
            format!(
                "garage ready on {} in {:?}\n",
                g.endpoint,
                started.elapsed()
            )
            .as_bytes(),
        );
    }
    Ok(())
}

/// Runs a `garage` command on the server; its stdout, or why it failed.
fn run(g: &Garage, args: &[&str]) -> Result<String, String> {
    let out = g.command().args(args).output();
    match &out {
        Ok(o) if o.status.success() => Ok(String::from_utf8_lossy(&o.stdout).into_owned()),
        _ => Err(format!(
            "`garage {}` failed: {}",
            args.join(" "),
            describe(&out)
        )),
    }
}

fn describe(out: &std::io::Result<Output>) -> String {
    match out {
        Ok(o) => format!(
            "{}\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => e.to_string(),
    }
}

fn s3_answers(addr: SocketAddr) -> bool {
    let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let req = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if s.write_all(req.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    s.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.")
}
