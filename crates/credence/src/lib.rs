//! Credence: regulated vocational qualifications end to end. One binary: a web server
//! (pages and a JSON API with its OpenAPI document) and a command-line tool over the same
//! use cases ([`app`]), on SQLite or PostgreSQL ([`store`]). The domain itself is the
//! `credence-domain` crate.

pub mod app;
pub mod bench;
pub mod bench_scale;
pub mod certificate_pdf;
pub mod cli;
pub mod cli_records;
pub mod config;
pub mod credential;
pub mod evidence_store;
pub mod format;
pub mod logs;
pub mod mail;
pub mod pdf;
pub mod ratelimit;
pub mod seeds;
pub mod store;
pub mod web;

use anyhow::{Context, Result};
use app::App;
use config::Config;
use std::path::Path;

/// Open the database, migrate it, and (unless told not to) import the shipped
/// specifications into an empty catalogue.
pub async fn open(config: &Config) -> Result<App> {
    open_with(config, true).await
}

/// Open the database and evidence store as they are: no migration, no specifications
/// imported (`credence restore` checks that both are empty first).
pub async fn open_for_restore(config: &Config) -> Result<App> {
    open_with(config, false).await
}

async fn open_with(config: &Config, prepare: bool) -> Result<App> {
    let store = store::Store::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "could not open the database {}",
                store::redact(&config.database_url)
            )
        })?;
    if prepare {
        store
            .migrate()
            .await
            .context("could not migrate the database")?;
    }
    let evidence = evidence_store::EvidenceStore::open(&config.evidence_store)
        .map_err(|e| anyhow::anyhow!("{e}: choose another with --evidence-store"))?;
    let mut app = App::new(store, evidence);
    app.max_upload = config.max_upload;
    app.key_file = Some(config.key_file.clone());
    app.mailer = std::sync::Arc::new(
        mail::Mailer::new(
            config.smtp_url.as_deref(),
            &config.mail_from,
            config.data_dir.join("outbox"),
            mail::DEFAULT_SMTP_TIMEOUT,
        )
        .map_err(|e| anyhow::anyhow!(e))?,
    );
    if let Some(url) = &config.public_url {
        app.public_url = url.clone();
    }
    // A restore never makes a key-encryption key: the restored database's sealed keys
    // need the instance's own, put back from where it was kept.
    if !prepare {
        return Ok(app);
    }
    app.kek = std::sync::Arc::new(
        match &config.kek {
            Some(text) => credential::Kek::from_text(text),
            None => credential::Kek::load_or_create(&config.kek_file),
        }
        .with_context(|| {
            format!(
                "could not read the key-encryption key ({} or CREDENCE_KEK)",
                config.kek_file.display()
            )
        })?,
    );
    app.verify_limit = std::sync::Arc::new(ratelimit::RateLimiter::new(config.verify_rate_limit));
    if prepare && config.seed {
        let n = app
            .ensure_seeded()
            .await
            .map_err(|e| anyhow::anyhow!("could not import the shipped specifications: {e}"))?;
        if n > 0 {
            eprintln!("Imported and published the {n} shipped specifications.");
        }
    }
    Ok(app)
}

/// Serve until Ctrl-C.
pub async fn serve(app: App, listen: &str) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("could not listen on {listen}: is another program using it? Choose another with --listen"))?;
    let addr = listener.local_addr()?;
    eprintln!("Credence is running at http://{addr}/ (Ctrl-C to stop)");
    axum::serve(
        listener,
        web::router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
    .context("the server stopped with an error")
}

/// A progress bar on stderr (hidden when stderr is not a terminal).
pub fn progress(len: u64, what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{what} {{bar:30}} {{pos}}/{{len}} {{msg}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

/// Write a file so that it is either whole or absent: a temporary file beside it, then a
/// rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes).with_context(|| format!("could not write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("could not write {}", path.display()))?;
    Ok(())
}
