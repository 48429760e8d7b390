//! Configuration: flags and `CREDENCE_*` environment variables (clap reads both), checked
//! once at start-up and passed down. Libraries never read the environment.

use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub seed: bool,
    /// A folder, or `s3://bucket` for an S3-compatible store.
    pub evidence_store: String,
    /// The largest evidence upload, in bytes.
    pub max_upload: u64,
    /// The instance's signing key (audit checkpoints).
    pub key_file: PathBuf,
    pub smtp_url: Option<String>,
    pub mail_from: String,
    pub public_url: Option<String>,
    pub kek_file: PathBuf,
    /// The key-encryption key itself, from `CREDENCE_KEK` (wins over the file).
    pub kek: Option<String>,
    pub verify_rate_limit: u32,
}

/// Every variable Credence reads; anything else starting with `CREDENCE_` is a typo.
const KNOWN_VARIABLES: &[&str] = &[
    "CREDENCE_DATA_DIR",
    "CREDENCE_DATABASE_URL",
    "CREDENCE_NO_SEED",
    "CREDENCE_LISTEN",
    "CREDENCE_LOG",
    "CREDENCE_LOG_FORMAT",
    "CREDENCE_TRUST_PROXY",
    "CREDENCE_EVIDENCE_STORE",
    "CREDENCE_MAX_UPLOAD_MB",
    "CREDENCE_KEY_FILE",
    "CREDENCE_BY",
    "CREDENCE_SMTP_URL",
    "CREDENCE_MAIL_FROM",
    "CREDENCE_PUBLIC_URL",
    "CREDENCE_WORKERS",
    "CREDENCE_KEK",
    "CREDENCE_KEK_FILE",
    "CREDENCE_VERIFY_RATE_LIMIT",
    "CREDENCE_DB_POOL",
];

impl Config {
    pub fn from_cli(cli: &crate::cli::Cli) -> Result<Config> {
        for (k, _) in std::env::vars() {
            if k.starts_with("CREDENCE_") && !KNOWN_VARIABLES.contains(&k.as_str()) {
                eprintln!(
                    "warning: {k} is not a Credence setting and is ignored (known: {})",
                    KNOWN_VARIABLES.join(", ")
                );
            }
        }
        let database_url = match &cli.database_url {
            Some(url) => url.clone(),
            None => {
                std::fs::create_dir_all(&cli.data_dir).with_context(|| {
                    format!(
                        "could not create the data folder {}: choose another with --data-dir or CREDENCE_DATA_DIR",
                        cli.data_dir.display()
                    )
                })?;
                format!(
                    "sqlite://{}?mode=rwc",
                    cli.data_dir.join("credence.db").display()
                )
            }
        };
        Ok(Config {
            data_dir: cli.data_dir.clone(),
            database_url,
            seed: !cli.no_seed,
            evidence_store: cli
                .evidence_store
                .clone()
                .unwrap_or_else(|| cli.data_dir.join("evidence").display().to_string()),
            max_upload: cli.max_upload_mb.saturating_mul(1024 * 1024),
            key_file: cli
                .key_file
                .clone()
                .unwrap_or_else(|| cli.data_dir.join("instance.key")),
            smtp_url: cli.smtp_url.clone(),
            mail_from: cli.mail_from.clone(),
            public_url: cli
                .public_url
                .as_ref()
                .map(|u| u.trim_end_matches('/').to_string()),
            kek_file: cli
                .kek_file
                .clone()
                .unwrap_or_else(|| cli.data_dir.join("credential.kek")),
            kek: std::env::var("CREDENCE_KEK").ok(),
            verify_rate_limit: cli.verify_rate_limit,
        })
    }
}
