//! A real SMTP server on loopback for tests: Python's `aiosmtpd`, saving every message it
//! accepts into a Maildir the test reads. Installed with pip on first use when missing.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct SmtpServer {
    child: Child,
    pub port: u16,
    maildir: PathBuf,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn aiosmtpd_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Start an SMTP server on 127.0.0.1. Panics with the command to run when Python's
/// `aiosmtpd` is missing and cannot be installed.
pub fn start() -> SmtpServer {
    if !aiosmtpd_installed() {
        let _ = Command::new("python3")
            .args(["-m", "pip", "install", "-q", "aiosmtpd==1.4.6"])
            .status();
        assert!(
            aiosmtpd_installed(),
            "the email tests need a real SMTP server: run `python3 -m pip install aiosmtpd==1.4.6`"
        );
    }
    let maildir = super::temp_dir("maildir");
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub)).expect("a maildir");
    }
    let port = free_port();
    let child = Command::new("python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
            maildir.to_str().expect("a UTF-8 temp path"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start aiosmtpd");
    // Dropped (killed and waited for) on every path.
    let server = SmtpServer {
        child,
        port,
        maildir,
    };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("aiosmtpd did not start listening on 127.0.0.1:{port}");
}

impl SmtpServer {
    /// The Maildir the server saves messages into (`new/` holds them).
    pub fn maildir(&self) -> &std::path::Path {
        &self.maildir
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, raw.
    pub fn messages(&self) -> Vec<String> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            if let Ok(dir) = std::fs::read_dir(self.maildir.join(sub)) {
                for e in dir.flatten() {
                    if let Ok(s) = std::fs::read_to_string(e.path()) {
                        out.push(s);
                    }
                }
            }
        }
        out
    }

    /// Wait (up to 10 s) until `n` messages have arrived.
    pub fn wait_for(&self, n: usize) -> Vec<String> {
        for _ in 0..100 {
            let m = self.messages();
            if m.len() >= n {
                return m;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.messages()
    }
}

/// A TCP server on loopback that accepts connections and never says a word (a hung mail
/// server).
pub fn hanging() -> (std::net::TcpListener, u16) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    (l, port)
}

/// The link in a message's body that starts with `prefix` (quoted-printable soft breaks
/// undone).
pub fn link_in(message: &str, prefix: &str) -> Option<String> {
    let body = message.replace("=\r\n", "").replace("=\n", "");
    let at = body.find(prefix)?;
    Some(
        body[at..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect(),
    )
}
