//! Crash consistency: the real `credence serve` process is killed with SIGKILL in the middle
//! of uploads; afterwards every record names a whole file with its recorded size and
//! SHA-256, a cut-off upload left no record, and `credence evidence sweep` removes what a
//! crash left behind (staging files, files whose record was never written).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

fn credence(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credence"))
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .env_remove("CREDENCE_DATABASE_URL")
        .output()
        .expect("run credence")
}

/// Start `credence serve` on a free port; returns the child and its address.
fn serve(data: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_credence"))
        .arg("--data-dir")
        .arg(data)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env_remove("CREDENCE_DATABASE_URL")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start credence serve");
    let stderr = child.stderr.take().unwrap();
    let mut lines = BufReader::new(stderr).lines();
    let addr = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest
                .trim_end_matches(['/', ' ', ')'])
                .split('/')
                .next()
                .unwrap()
                .to_string();
        }
    };
    // Keep draining stderr so the server never blocks on it.
    std::thread::spawn(move || for _ in lines {});
    (child, addr)
}

/// Send an upload by hand: the headers, then `send` bytes of a `total`-byte body. Returns
/// the status line when the whole body was sent.
fn upload(
    addr: &str,
    learner: i64,
    token: &str,
    title: &str,
    total: usize,
    send: usize,
) -> Option<String> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    let head = format!(
        "POST /api/v1/learners/{learner}/evidence?title={title}&date=2026-11-02&kind=worksheet&source=real_workplace&file_name=w.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {total}\r\nConnection: close\r\n\r\n"
    );
    s.write_all(head.as_bytes()).ok()?;
    let chunk = vec![b'e'; 64 * 1024];
    let mut sent = 0;
    while sent < send {
        let n = chunk.len().min(send - sent);
        s.write_all(&chunk[..n]).ok()?;
        sent += n;
    }
    if send < total {
        return None;
    }
    let mut answer = String::new();
    s.read_to_string(&mut answer).ok()?;
    answer.lines().next().map(str::to_string)
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_upload_leaves_records_and_files_consistent() {
    let data = common::temp_dir("crash");
    let out = credence(&data, &["demo"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A token for Priya, written straight into the same database.
    let (learner, token) = {
        let url = format!("sqlite://{}?mode=rwc", data.join("credence.db").display());
        let app = common::app_on(&url).await;
        let p = app
            .store
            .person_by_email("priya.learner@demo")
            .await
            .unwrap()
            .unwrap();
        let learner = app
            .store
            .grants(p.person_id)
            .await
            .unwrap()
            .iter()
            .find_map(|g| g.learner_id)
            .unwrap();
        (learner, common::token_for(&app, "priya.learner@demo").await)
    };
    // The demo loader's own items (written by the system, under its one `demo` entry).
    let demo_items: Vec<i64> = {
        let url = format!("sqlite://{}?mode=rwc", data.join("credence.db").display());
        let store = credence::store::Store::connect(&url).await.unwrap();
        store
            .evidence_object_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|(id, ..)| id)
            .collect()
    };
    let evidence_dir = data.join("evidence").join("evidence");

    // The demo's items, one whole upload, then one cut off by SIGKILL half way through
    // its 64 MiB.
    let (mut server, addr) = serve(&data);
    let status = upload(
        &addr,
        learner,
        &token,
        "Whole",
        3 * 1024 * 1024,
        3 * 1024 * 1024,
    );
    assert_eq!(status.as_deref(), Some("HTTP/1.1 201 Created"));
    // The client keeps the connection open: the server is killed while the body streams.
    let mut cut = TcpStream::connect(&addr).unwrap();
    write!(cut, "POST /api/v1/learners/{learner}/evidence?title=Cut&date=2026-11-02&kind=worksheet&source=real_workplace&file_name=c.bin HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n", 64 << 20).unwrap();
    let chunk = vec![b'c'; 1 << 20];
    for _ in 0..24 {
        cut.write_all(&chunk).unwrap();
    }
    cut.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    server.kill().unwrap(); // SIGKILL, mid-body
    server.wait().unwrap();
    drop(cut);

    // The cut-off upload left a staging file, never a record or a visible object.
    let staging: Vec<_> = files_in(&evidence_dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('#'))
        .collect();
    assert_eq!(
        staging.len(),
        1,
        "the cut-off upload's staging file: {:?}",
        files_in(&evidence_dir)
    );
    let check = credence(&data, &["evidence", "check", "--read-back"]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{text}");
    assert!(
        text.contains(&format!(
            "{} evidence records checked",
            demo_items.len() + 1
        )) && text.contains("0 problems, 0 orphan files"),
        "{text}"
    );

    // Many small uploads in flight when the server is killed, three times over: whatever
    // was caught half way, every record still names a whole file.
    for round in 0..3 {
        let (mut server, addr) = serve(&data);
        let mut senders = Vec::new();
        for i in 0..4 {
            let (a, t) = (addr.clone(), token.clone());
            senders.push(std::thread::spawn(move || {
                for j in 0..200 {
                    if upload(
                        &a,
                        learner,
                        &t,
                        &format!("r{round}-{i}-{j}"),
                        200_000,
                        200_000,
                    )
                    .is_none()
                    {
                        break;
                    }
                }
            }));
        }
        std::thread::sleep(Duration::from_millis(300 + 250 * round));
        server.kill().unwrap();
        server.wait().unwrap();
        for s in senders {
            let _ = s.join();
        }
        let check = credence(&data, &["evidence", "check", "--read-back"]);
        let text = String::from_utf8_lossy(&check.stdout);
        assert!(text.contains(" 0 problems"), "round {round}: {text}");
    }

    // No change without its audit entry: each change commits with its entry, so whatever
    // the kills caught half way, every evidence record has exactly one `evidence.add`
    // entry naming it, and the chain holds.
    let verify = credence(&data, &["audit", "verify"]);
    assert!(
        verify.status.success(),
        "{}",
        String::from_utf8_lossy(&verify.stdout)
    );
    let (records, logged): (Vec<i64>, Vec<i64>) = {
        let store = credence::store::Store::connect(&format!(
            "sqlite://{}",
            data.join("credence.db").display()
        ))
        .await
        .unwrap();
        let records = store
            .evidence_object_keys()
            .await
            .unwrap()
            .into_iter()
            .map(|(id, ..)| id)
            .filter(|id| !demo_items.contains(id))
            .collect();
        let logged = store
            .audit_log()
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.action == "evidence.add")
            .filter_map(|e| {
                serde_json::from_str::<serde_json::Value>(&e.detail).ok()?["evidence"].as_i64()
            })
            .collect();
        (records, logged)
    };
    let mut logged_sorted = logged.clone();
    logged_sorted.sort_unstable();
    let mut records_sorted = records.clone();
    records_sorted.sort_unstable();
    assert!(
        records.len() > 3,
        "the kills caught uploads: {}",
        records.len()
    );
    assert_eq!(
        records_sorted, logged_sorted,
        "every record has its entry, and every entry its record"
    );

    // A crash between writing a file and writing its record leaves a file no record names
    // (simulated here by putting one there); check reports it and sweep removes it, along
    // with any staging file a cut-off upload left.
    std::fs::write(
        evidence_dir.join("00000000-0000-4000-8000-000000000000"),
        b"orphan",
    )
    .unwrap();
    let check = credence(&data, &["evidence", "check"]);
    assert!(!check.status.success());
    assert!(
        String::from_utf8_lossy(&check.stdout)
            .contains("orphan: evidence/00000000-0000-4000-8000-000000000000")
    );
    let sweep = credence(&data, &["evidence", "sweep", "--grace-seconds", "0"]);
    assert!(
        sweep.status.success(),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    let swept = String::from_utf8_lossy(&sweep.stdout);
    let numbers: Vec<usize> = swept
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    // At least the planted orphan, and the staging file of the first cut-off upload.
    assert!(
        numbers.len() == 2 && numbers[0] >= 1 && numbers[1] >= 1,
        "{swept}"
    );
    let check = credence(&data, &["evidence", "check", "--read-back"]);
    let text = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{text}");
    let leftovers: Vec<_> = files_in(&evidence_dir)
        .into_iter()
        .filter(|p| p.to_string_lossy().contains('#'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let records: usize = text
        .split(" evidence records")
        .next()
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        files_in(&evidence_dir).len(),
        records,
        "one file per record, nothing else"
    );

    // And the server comes back and serves the first file whole.
    let (mut server, addr) = serve(&data);
    let mut s = TcpStream::connect(&addr).unwrap();
    write!(s, "GET /api/v1/learners/{learner}/portfolio HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("\"title\":\"Whole\""));
    assert!(!answer.contains("\"title\":\"Cut\""));
    server.kill().unwrap();
    server.wait().unwrap();
    let _ = std::fs::remove_dir_all(&data);
}
