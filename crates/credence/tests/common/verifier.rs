//! The independent credential verifier: node with `jose` and ajv (tests/browser's
//! node_modules) checking a VC-JWT against a JWKS and 1EdTech's OB 3.0 schema.

use serde_json::Value;
use std::path::{Path, PathBuf};

pub fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/browser")
}

/// Node and tests/browser's node_modules, installed with `npm ci` if missing (under
/// CI=true a missing one fails, naming the command).
pub fn node_ready() -> bool {
    let node_works = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    let modules = |dir: &Path| {
        ["jose", "ajv", "ajv-formats"]
            .iter()
            .all(|m| dir.join("node_modules").join(m).exists())
    };
    let dir = browser_dir();
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    if node_works && modules(&dir) {
        return true;
    }
    if ci {
        panic!(
            "the credential verifier needs node and tests/browser's node_modules under CI=true: \
             run `cd tests/browser && npm ci`"
        );
    }
    if node_works {
        let _ = std::process::Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .status();
        if modules(&dir) {
            return true;
        }
    }
    let _ = std::io::Write::write_all(
        &mut std::io::stderr(),
        b"\n!!!!! SKIPPING the independent credential verifier: no node or node_modules (run: cd tests/browser && npm ci)\n",
    );
    false
}

pub fn run_verifier(dir: &Path, jwt: &str, jwks: &Value) -> (bool, Value) {
    std::fs::write(dir.join("credential.jwt"), jwt).unwrap();
    std::fs::write(dir.join("jwks.json"), jwks.to_string()).unwrap();
    let schema = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/ob_v3p0_achievementcredential_schema.json");
    let out = std::process::Command::new("node")
        .arg(browser_dir().join("verify-credential.mjs"))
        .arg(dir.join("credential.jwt"))
        .arg(dir.join("jwks.json"))
        .arg(schema)
        .output()
        .expect("node runs");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "verifier printed no JSON:\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), report)
}
