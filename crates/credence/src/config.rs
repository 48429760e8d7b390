//! Configuration: flags and `CREDENCE_*` environment variables (clap reads both), checked
//! once at start-up and passed down. Libraries never read the environment.

use anyhow::{Context, Result};
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub seed: bool,
}

/// Every variable Credence reads; anything else starting with `CREDENCE_` is a typo.
const KNOWN_VARIABLES: &[&str] = &[
    "CREDENCE_DATA_DIR",
    "CREDENCE_DATABASE_URL",
    "CREDENCE_NO_SEED",
    "CREDENCE_LISTEN",
    "CREDENCE_LOG",
    "CREDENCE_TRUST_PROXY",
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
        })
    }
}
