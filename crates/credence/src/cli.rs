//! The command line: `credence serve`, `credence catalogue ...` and the chores. Results go
//! to stdout, progress and logs to stderr, so output can be piped.

use crate::app::catalogue::ImportOutcome;
use crate::app::{App, AppError};
use crate::config::Config;
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use credence_domain::corrections::Corrections;
use credence_domain::import::FindingStatus;
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "credence",
    version,
    about = "Credence: regulated vocational qualifications end to end"
)]
pub struct Cli {
    /// Folder for the embedded database and evidence files.
    #[arg(
        long,
        global = true,
        env = "CREDENCE_DATA_DIR",
        default_value = "credence-data"
    )]
    pub data_dir: PathBuf,
    /// Database URL (postgres://... or sqlite://...). Default: SQLite in the data folder.
    #[arg(
        long,
        global = true,
        env = "CREDENCE_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Where evidence files are kept: a folder, or `s3://bucket` for an S3-compatible store
    /// (credentials and endpoint from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
    /// AWS_ENDPOINT, AWS_ALLOW_HTTP). Default: the folder `evidence` in the data folder.
    #[arg(long, global = true, env = "CREDENCE_EVIDENCE_STORE")]
    pub evidence_store: Option<String>,
    /// The largest evidence file accepted, in MiB.
    #[arg(
        long,
        global = true,
        env = "CREDENCE_MAX_UPLOAD_MB",
        default_value_t = 4096
    )]
    pub max_upload_mb: u64,
    /// The instance's signing key, made on first use (audit checkpoints). Default:
    /// `instance.key` in the data folder. Servers sharing one database share one key file.
    #[arg(long, global = true, env = "CREDENCE_KEY_FILE")]
    pub key_file: Option<PathBuf>,
    /// Who is acting at the command line (the email of an existing person), named in the
    /// audit log for what the operator does: `operator:ID`; without it, `operator`.
    #[arg(long, global = true, env = "CREDENCE_BY")]
    pub by: Option<String>,
    /// The SMTP server emails go through: `smtp://host:port`,
    /// `smtp://user:password@host:587?tls=required` or `smtps://host`. Without it, emails are
    /// written as `.eml` files to the `outbox` folder in the data folder (and named in the
    /// log), so nothing is lost.
    #[arg(long, global = true, env = "CREDENCE_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// The sender of Credence's emails.
    #[arg(
        long,
        global = true,
        env = "CREDENCE_MAIL_FROM",
        default_value = "Credence <no-reply@credence.localhost>"
    )]
    pub mail_from: String,
    /// The address people reach this instance at, e.g. `https://credence.example.org`:
    /// every absolute URL Credence prints (QR codes on certificates, credentials, emails)
    /// is built from it, never from a request. Required when `serve` listens beyond this
    /// machine; otherwise `http://` and the `serve --listen` address.
    #[arg(long, global = true, env = "CREDENCE_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The key-encryption key file, made on first use (32 random bytes): it seals the
    /// awarding organisations' credential-signing keys, which the database holds only
    /// sealed. Default: `credential.kek` in the data folder. Servers sharing one database
    /// share this file, or set `CREDENCE_KEK` (the key itself) instead. Keep it out of
    /// database backups and back it up separately.
    #[arg(long, global = true, env = "CREDENCE_KEK_FILE")]
    pub kek_file: Option<PathBuf>,
    /// Public certificate checks (page, JSON, credential) allowed per client address per
    /// minute, counted in memory on each server; 0 lifts the limit (for a proxy that limits).
    #[arg(long, global = true, env = "CREDENCE_VERIFY_RATE_LIMIT", default_value_t = crate::app::DEFAULT_VERIFY_LIMIT)]
    pub verify_rate_limit: u32,
    /// How log lines are written to standard error: `text` for people, or `json` (one JSON
    /// object a line, with the request id of the request that wrote it) for a log
    /// collector. Which lines: `CREDENCE_LOG` (default `warn`).
    #[arg(
        long,
        global = true,
        env = "CREDENCE_LOG_FORMAT",
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    /// Do not import the shipped specifications into an empty catalogue.
    #[arg(long, global = true, env = "CREDENCE_NO_SEED")]
    pub no_seed: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web server (pages, JSON API, OpenAPI document).
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CREDENCE_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Create the demo centres, staff and learners first (idempotent) and print the
        /// demo sign-ins.
        #[arg(long)]
        demo: bool,
        /// Behind a load balancer: take the client's address from `X-Forwarded-For`
        /// (otherwise that header is ignored, so nobody can pose as another address).
        #[arg(long, env = "CREDENCE_TRUST_PROXY")]
        trust_proxy: bool,
        /// Background job workers to run inside the server (emails); 0 leaves the jobs to
        /// `credence worker` processes.
        #[arg(long, env = "CREDENCE_WORKERS", default_value_t = 1)]
        workers: usize,
    },
    /// Run background job workers (emails) apart from the web servers, until Ctrl-C.
    Worker {
        /// How many jobs to run at once.
        #[arg(long, default_value_t = 2)]
        workers: usize,
        /// Run the jobs that are due now, then exit (for cron, and to drain the queue).
        #[arg(long)]
        once: bool,
    },
    /// The job queue: what waits, what failed for good (the dead-letter list), retry.
    #[command(subcommand)]
    Jobs(JobsCommand),
    /// Create the demo centres, staff and learners (idempotent) and print the sign-ins.
    Demo,
    /// People and their roles.
    #[command(subcommand)]
    User(UserCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The evidence store: check it against the records, or sweep what no record names.
    #[command(subcommand)]
    Evidence(EvidenceCommand),
    /// Back up the database (one consistent snapshot, taken while servers keep serving)
    /// and every evidence file it names, each checked against its SHA-256, into DEST: a new
    /// folder, or `s3://bucket/prefix` (credentials as for the S3 evidence store).
    /// `manifest.json` is written last; a backup without it is incomplete. See
    /// docs/operations.md.
    Backup {
        /// An empty or new folder, or `s3://bucket/prefix`.
        dest: String,
    },
    /// Restore a backup into this instance, which must be empty (a new database of the
    /// backup's kind, an empty evidence store), then check the audit log and read every
    /// evidence file back. Exits 1 if a check fails, 2 if nothing was restored.
    Restore {
        /// The folder (or `s3://bucket/prefix`) `credence backup` wrote.
        src: String,
    },
    /// Register learners at a centre from a CSV file (see docs/registration.md).
    Register {
        /// The centre's id (see `credence centres`).
        #[arg(long)]
        centre: i64,
        /// The CSV file.
        file: PathBuf,
        /// Register the good rows even if some rows have errors.
        #[arg(long)]
        good_rows: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// The catalogue: import, review, publish, browse, export.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Rules of combination: is it achieved, what can be claimed, the shortest way there.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Quality assurance: the IQA's sampling plan.
    #[command(subcommand)]
    Qa(QaCommand),
    /// Claims for certificates, with what each held claim waits for.
    #[command(subcommand)]
    Claims(ClaimsCommand),
    /// The register of certificates, and the awarding organisations' signing keys.
    #[command(subcommand)]
    Certificates(CertificatesCommand),
    /// A person's own data: export it for them (docs/records.md).
    #[command(subcommand)]
    People(crate::cli_records::PeopleCommand),
    /// Records retention: legal holds that stop disposal (docs/records.md).
    #[command(subcommand)]
    Records(crate::cli_records::RecordsCommand),
    /// Records retention: what falls due, and the disposal run (docs/records.md).
    #[command(subcommand)]
    Retention(crate::cli_records::RetentionCommand),
    /// Print the OpenAPI document of the JSON API.
    Openapi,
    /// Measure the importer, the rules engine and the busiest pages and writes on this
    /// machine. The database figures are taken on fresh SQLite files, or, with the global
    /// --database-url, on that database (it must be empty; it is emptied again afterwards);
    /// add --also-sqlite to take each figure on both, side by side. Every figure names the
    /// database it was taken on. See docs/operations.md.
    Bench(BenchArgs),
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// How many times to import all five shipped specifications.
    #[arg(long, default_value_t = 200)]
    pub iterations: u32,
    /// Rule checks to time in the rules engine's measurement.
    #[arg(long, default_value_t = 20_000_000)]
    pub rule_checks: u64,
    /// Learners to register from a generated CSV file (0 to skip).
    #[arg(long, default_value_t = 100_000)]
    pub registrations: usize,
    /// Size of the evidence upload to stream, in MiB (0 to skip).
    #[arg(long, default_value_t = 1024)]
    pub upload_mib: u64,
    /// Portfolio page requests to time (0 to skip), 32 at a time.
    #[arg(long, default_value_t = 3200)]
    pub portfolio_requests: usize,
    /// Requests to time for each of the assessor's home (a caseload of 60 learners) and the
    /// learner's home (0 to skip), 32 at a time.
    #[arg(long, default_value_t = 3200)]
    pub home_requests: usize,
    /// Audited writes to time (0 to skip), 32 writers at once, each a change with its
    /// audit entry in one transaction.
    #[arg(long, default_value_t = 3200)]
    pub audit_appends: usize,
    /// Also time the audited writes on this (empty, throwaway) PostgreSQL database (older
    /// spelling: --database-url now takes every figure there).
    #[arg(long)]
    pub audit_postgres: Option<String>,
    /// With --database-url postgres://...: take every database figure on a fresh SQLite
    /// file as well, printed next to PostgreSQL's, in the same run.
    #[arg(long)]
    pub also_sqlite: bool,
    /// Learners at the centre whose IQA sampling plan is timed (0 to skip): 40 assessors and
    /// 40 judgements a learner (5,000 learners: 200,000 judgements).
    #[arg(long, default_value_t = 5000)]
    pub qa_learners: usize,
    /// Certificates to issue (rules check, number, record, signed credential), then time
    /// PDFs and public verification lookups over HTTP (with `wrk`, and nginx serving the
    /// same bytes as a static file for the ratio, where installed); 0 skips.
    #[arg(long, default_value_t = 10_000)]
    pub certificates: usize,
    /// Seconds of load for each verification measurement.
    #[arg(long, default_value_t = 10)]
    pub verify_seconds: u32,
    /// Build an awarding organisation's data at scale F instead (F = 1: 1,000,000 learners
    /// at 2,000 centres, 20,000,000 judgements, 5,000,000 certificates) on the empty
    /// PostgreSQL database --database-url names, by bulk loading, and print the time of each
    /// phase; the other measurements are skipped. See docs/operations.md, "Measured at scale".
    #[arg(long, value_name = "F")]
    pub scale: Option<f64>,
    /// With --scale: leave the data in the database (for load tests) instead of dropping it.
    #[arg(long)]
    pub keep: bool,
    /// With --scale: the folder for the instance key, key-encryption key and evidence folder
    /// (give the servers the same --data-dir).
    #[arg(long, default_value = "credence-scale")]
    pub scale_dir: std::path::PathBuf,
}

/// How log lines are written.
#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

#[derive(Copy, Clone, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    /// Credence's own format; `catalogue import` reads it back.
    Json,
    /// 1EdTech CASE 1.1 packages (an array, one per current specification).
    Case,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Add a person (or a role to an existing person). The password is read from standard
    /// input (one line).
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// ao_staff, eqa, centre_admin, assessor, iqa
        #[arg(long)]
        role: String,
        /// The awarding organisation (for ao_staff and eqa).
        #[arg(long)]
        ao: Option<String>,
        /// The centre id (for centre roles).
        #[arg(long)]
        centre: Option<i64>,
    },
    /// Remove a person's second factor (a lost device without recovery codes). They sign in
    /// with their password and set it up again; the removal is audited under `--by`.
    RemoveSecondFactor {
        #[arg(long)]
        email: String,
    },
    /// Disable an account (someone who has left): sign-in refused at once, sessions and API
    /// tokens ended; the records stay. Audited under `--by`.
    Disable {
        #[arg(long)]
        email: String,
    },
    /// Enable a disabled account again (they sign in with their password, or reset it).
    Enable {
        #[arg(long)]
        email: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum QaCommand {
    /// Print a centre's current sampling plan: each sample with its assessor, learner, unit,
    /// stage and status, and the coverage (per assessor and unit, gaps, overdue samples).
    Plan {
        /// The centre's id.
        #[arg(long)]
        centre: i64,
        /// Only this qualification (its QAN); otherwise every one with learners.
        #[arg(long)]
        qualification: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum JobsCommand {
    /// List jobs, newest first.
    List {
        /// queued, running, done or dead (the dead-letter list).
        #[arg(long)]
        status: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Put a job from the dead-letter list back on the queue (audited under `--by`).
    Retry {
        /// The job's number (see `credence jobs list --status dead`).
        job: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum CertificatesCommand {
    /// List certificates (number, status, learner, QAN or unit reference, date of award).
    List {
        /// valid, replaced or revoked.
        #[arg(long)]
        status: Option<String>,
        /// Only this awarding organisation's (ISP, ISMM, OCR).
        #[arg(long)]
        ao: Option<String>,
        /// Part of a number, name, QAN, unit reference, title or centre.
        #[arg(long)]
        search: Option<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Check a certificate as anyone would: what is printed on it and its status.
    Verify {
        number: String,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Make a new signing key for an awarding organisation's credentials and retire the
    /// current one (it stays published, so what it signed still verifies).
    RotateKey {
        #[arg(long)]
        ao: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClaimsCommand {
    /// List claims with their status and, for a held claim, what it waits for.
    List {
        /// Only this centre's claims.
        #[arg(long)]
        centre: Option<i64>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain of the whole audit log: exits 1 if any entry was edited,
    /// deleted or reordered, or (with --checkpoint) if the log is shorter than, or diverges
    /// from, a checkpoint.
    Verify {
        /// A checkpoint file written by `credence audit checkpoint`.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Print the log's head (entry count and hash, timestamped, signed with the instance's
    /// key) as a checkpoint to keep outside the database; `verify --checkpoint` compares
    /// with it later.
    Checkpoint {
        /// Write it to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
pub enum EvidenceCommand {
    /// Check that every evidence record's file is present with its recorded size (and, with
    /// --read-back, its SHA-256), and list files no record names. Exits 1 on any problem.
    Check {
        /// Read every file back and compare its SHA-256 with the record (slow).
        #[arg(long)]
        read_back: bool,
    },
    /// Remove files no record names and the staging files of cut-off uploads.
    Sweep {
        /// Leave anything younger than this, in seconds (an upload finishing now on another
        /// server).
        #[arg(long, default_value_t = 3600)]
        grace_seconds: u64,
    },
}

#[derive(Subcommand, Debug)]
pub enum RulesCommand {
    /// Is the qualification achieved by these units? Exits 0 when achieved, 1 when not.
    Check {
        /// The qualification's QAN (610/3788/6).
        #[arg(long)]
        qualification: String,
        /// Achieved units, by AO reference (L3B1) or Ofqual reference, comma-separated.
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Every qualification these units already meet, with the units to claim it with, and
    /// how far the others are.
    Claimable {
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// The further units that complete a qualification with the fewest guided learning hours.
    Plan {
        #[arg(long)]
        qualification: String,
        /// Units already achieved.
        #[arg(long, value_delimiter = ',')]
        units: Vec<String>,
        /// Units the plan must include.
        #[arg(long, value_delimiter = ',')]
        want: Vec<String>,
        /// Units the plan must never choose.
        #[arg(long, value_delimiter = ',')]
        refuse: Vec<String>,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
}

#[derive(Subcommand, Debug)]
pub enum CatalogueCommand {
    /// What changed from one version of a specification to another: qualifications, units,
    /// learning outcomes and criteria added, removed or changed, with old and new values.
    Diff {
        /// The older version (an id from `catalogue versions`).
        a: i64,
        /// The newer version.
        b: i64,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Import specifications (text), CASE 1.1 packages (JSON) or a catalogue export (JSON)
    /// as draft versions.
    Import {
        /// The files to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Corrections that resolve open findings (JSON; see docs/catalogue-format.md).
        #[arg(long)]
        corrections: Option<PathBuf>,
        /// Publish at once when nothing is left open.
        #[arg(long)]
        publish: bool,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// List the current catalogue's qualifications.
    List {
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Show a qualification (QAN) or a unit (Ofqual reference or AO reference).
    Show {
        id: String,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// List every catalogue version, drafts included.
    Versions,
    /// Show the import report of a catalogue version.
    Findings {
        version: i64,
        /// Only the open findings.
        #[arg(long)]
        open: bool,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Apply a corrections file to a draft version.
    Correct {
        version: i64,
        #[arg(long)]
        file: PathBuf,
    },
    /// Publish a draft version that has no open findings.
    Publish { version: i64 },
    /// Who a new version touches: the centres and learners registered on an older version
    /// of the same specification, each learner's judged criteria kept and to re-assess.
    Impact {
        /// The new version (an id from `catalogue versions`; a draft too).
        version: i64,
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Move one registration, or every registration of a centre on an older version, to a
    /// newer published version of its specification (evidence and judgements are kept;
    /// criteria whose words changed need re-assessment).
    Move {
        /// The published version to move to.
        version: i64,
        /// One registration (its id).
        #[arg(long, conflicts_with = "centre", required_unless_present = "centre")]
        registration: Option<i64>,
        /// Every registration at this centre on an older version.
        #[arg(long)]
        centre: Option<i64>,
        /// Do not ask for confirmation (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Export the catalogue.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        /// Write to this file instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// Run a command. `Ok(false)` means it ran but answered "no" (exit status 1), as `rules
/// check` does for a qualification not achieved.
pub async fn run(cli: Cli) -> Result<bool> {
    let config = Config::from_cli(&cli)?;
    if let Command::Openapi = cli.command {
        println!("{}", crate::web::openapi_json());
        return Ok(true);
    }
    if let Command::Bench(args) = &cli.command {
        crate::bench::run(args, cli.database_url.as_deref()).await?;
        return Ok(true);
    }
    if let Command::Restore { src } = &cli.command {
        return restore(&config, src).await;
    }
    let app = crate::open(&config).await?;
    let by = cli.by.clone();
    match cli.command {
        Command::Migrate => {
            eprintln!("Database is up to date.");
            Ok(true)
        }
        Command::Serve {
            listen,
            demo,
            trust_proxy,
            workers,
        } => {
            if demo {
                create_demo(&app).await?;
            }
            let mut app = app;
            app.trust_proxy = trust_proxy;
            if cli.public_url.is_none() {
                let loopback = listen
                    .parse::<std::net::SocketAddr>()
                    .map(|a| a.ip().is_loopback())
                    .unwrap_or_else(|_| listen.starts_with("localhost:"));
                if !loopback {
                    anyhow::bail!(
                        "--public-url is required when serving on {listen}: certificates, credentials and emails print it (for example --public-url https://credence.example.org, or CREDENCE_PUBLIC_URL)"
                    );
                }
                app.public_url = format!("http://{listen}");
            }
            for n in 0..workers {
                let app = app.clone();
                let name = format!("serve-{}-{n}", std::process::id());
                tokio::spawn(async move {
                    app.work(name, std::future::pending::<()>()).await;
                });
            }
            if workers > 0 {
                // Each day's retention run goes on the queue once, whichever server is first.
                let scheduler = app.clone();
                tokio::spawn(async move {
                    scheduler.keep_schedule(std::future::pending::<()>()).await;
                });
                eprintln!(
                    "{workers} job worker(s) running; emails go to {}; the retention run is queued daily.",
                    app.mailer.describe()
                );
            }
            // Uploads cut off by a crash leave staging files; files whose record was never
            // written are orphans. Both go, once old enough not to be in flight elsewhere.
            match app
                .sweep_evidence(std::time::Duration::from_secs(600))
                .await
            {
                Ok((0, 0)) => {}
                Ok((o, s)) => eprintln!(
                    "Removed {o} orphan evidence files and {s} staging files of cut-off uploads."
                ),
                Err(e) => eprintln!("warning: could not sweep the evidence store: {e}"),
            }
            crate::serve(app, &listen).await.map(|()| true)
        }
        Command::Demo => create_demo(&app).await.map(|()| true),
        Command::Backup { dest } => {
            let location = crate::app::backup::Location::open(&dest, true).map_err(user_error)?;
            let bar = byte_progress();
            let started = std::time::Instant::now();
            let manifest = app
                .backup(&config.database_url, &location, &|p| show(&bar, p))
                .await
                .map_err(operator_error)?;
            bar.finish_and_clear();
            let bytes: u64 = manifest.files.iter().map(|f| f.size).sum();
            println!(
                "Backed up the {} database (schema version {}, {} audit entries) and {} evidence files, {} in all, to {} in {:.1} s; {} lists every file.",
                manifest.database,
                manifest.schema_version,
                manifest.audit_entries,
                manifest.files.len() - 1,
                crate::evidence_store::human_size(bytes),
                location.description,
                started.elapsed().as_secs_f64(),
                crate::app::backup::MANIFEST
            );
            println!(
                "Keep the key-encryption key ({}) and the instance key ({}) apart from this backup: neither is in it.",
                config.kek_file.display(),
                config.key_file.display()
            );
            Ok(true)
        }
        Command::Restore { .. } => unreachable!("restore runs before the instance is opened"),
        Command::Worker { workers, once } => {
            let name = format!("worker-{}", std::process::id());
            if once {
                let ran = app.run_due_jobs(&name).await.map_err(user_error)?;
                let failed = ran
                    .iter()
                    .filter(|(_, r)| {
                        matches!(
                            r,
                            crate::app::jobs::Ran::Retry(_) | crate::app::jobs::Ran::Dead(_)
                        )
                    })
                    .count();
                for (id, r) in &ran {
                    println!("job {id}: {r:?}");
                }
                println!("Ran {} jobs: {} failed.", ran.len(), failed);
                return Ok(failed == 0);
            }
            eprintln!(
                "{workers} job worker(s) running; emails go to {} (Ctrl-C to stop).",
                app.mailer.describe()
            );
            let (tx, _) = tokio::sync::broadcast::channel::<()>(1);
            let mut handles = Vec::new();
            {
                let app = app.clone();
                let mut rx = tx.subscribe();
                handles.push(tokio::spawn(async move {
                    app.keep_schedule(async move {
                        let _ = rx.recv().await;
                    })
                    .await;
                }));
            }
            for n in 0..workers.max(1) {
                let app = app.clone();
                let mut rx = tx.subscribe();
                let name = format!("{name}-{n}");
                handles.push(tokio::spawn(async move {
                    app.work(name, async move {
                        let _ = rx.recv().await;
                    })
                    .await;
                }));
            }
            let _ = tokio::signal::ctrl_c().await;
            let _ = tx.send(());
            for h in handles {
                let _ = h.await;
            }
            Ok(true)
        }
        Command::Jobs(JobsCommand::List {
            status,
            limit,
            format,
        }) => {
            let jobs = app
                .jobs(status.as_deref(), limit)
                .await
                .map_err(user_error)?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&jobs)?),
                OutputFormat::Text => {
                    if jobs.is_empty() {
                        println!("No jobs.");
                    }
                    for j in &jobs {
                        println!(
                            "{:>6}  {:<6} {:<8} tries {}/{}  queued {}{}",
                            j.job_id,
                            j.kind,
                            j.status,
                            j.attempts,
                            j.max_attempts,
                            j.created_at,
                            j.last_error
                                .as_deref()
                                .map(|e| format!("\n        last error: {e}"))
                                .unwrap_or_default()
                        );
                    }
                }
            }
            Ok(true)
        }
        Command::Jobs(JobsCommand::Retry { job }) => {
            let operator = app.operator(by.as_deref()).await.map_err(user_error)?;
            app.retry_job(&operator, job).await.map_err(user_error)?;
            println!("Job {job} is back on the queue; a worker will try it again now.");
            Ok(true)
        }
        Command::Evidence(EvidenceCommand::Check { read_back }) => {
            let (n, problems, orphans) = app.check_evidence(read_back).await.map_err(user_error)?;
            for p in &problems {
                println!("problem: {p}");
            }
            for o in &orphans {
                println!("orphan: {o} (no record names it; `credence evidence sweep` removes it)");
            }
            // Staging files are uploads cut off part-way (or still arriving): reported, not
            // a problem, since no record names them.
            let staging = app
                .evidence
                .stale_staging_files(std::time::Duration::ZERO, false);
            for s in &staging {
                println!(
                    "staging: {} (an upload cut off part-way, or one still arriving; `credence evidence sweep` removes it)",
                    s.display()
                );
            }
            println!(
                "{n} evidence records checked in {}: {} problems, {} orphan files, {} staging files.",
                app.evidence.description,
                problems.len(),
                orphans.len(),
                staging.len()
            );
            Ok(problems.is_empty() && orphans.is_empty())
        }
        Command::Evidence(EvidenceCommand::Sweep { grace_seconds }) => {
            let (orphans, staging) = app
                .sweep_evidence(std::time::Duration::from_secs(grace_seconds))
                .await
                .map_err(user_error)?;
            println!(
                "Removed {orphans} files no record names and {staging} staging files of cut-off uploads."
            );
            Ok(true)
        }
        Command::User(UserCommand::Disable { email }) => {
            let operator = app.operator(by.as_deref()).await.map_err(user_error)?;
            let name = app
                .set_account_disabled(&operator, &email, true)
                .await
                .map_err(user_error)?;
            println!(
                "Disabled {name} ({email}): they cannot sign in, and their sessions and API tokens have ended."
            );
            Ok(true)
        }
        Command::User(UserCommand::Enable { email }) => {
            let operator = app.operator(by.as_deref()).await.map_err(user_error)?;
            let name = app
                .set_account_disabled(&operator, &email, false)
                .await
                .map_err(user_error)?;
            println!(
                "Enabled {name} ({email}) again: they sign in with their password, or reset it from the sign-in page."
            );
            Ok(true)
        }
        Command::User(UserCommand::RemoveSecondFactor { email }) => {
            let operator = app.operator(by.as_deref()).await.map_err(user_error)?;
            app.remove_second_factor(&operator, &email)
                .await
                .map_err(user_error)?;
            println!(
                "Removed the second factor of {email}: they sign in with their password and set it up again at /account/second-factor."
            );
            Ok(true)
        }
        Command::User(UserCommand::Add {
            email,
            name,
            role,
            ao,
            centre,
        }) => {
            if !crate::app::people::ROLES.contains(&role.as_str()) || role == "learner" {
                bail!("--role must be one of ao_staff, eqa, centre_admin, assessor, iqa");
            }
            let existing = app
                .store
                .person_by_email(&email)
                .await
                .map_err(|e| user_error(e.into()))?;
            let person = match existing {
                Some(p) => p.person_id,
                None => {
                    let mut password = String::new();
                    std::io::stdin()
                        .read_line(&mut password)
                        .context("reading the password from standard input")?;
                    app.create_person(&email, &name, Some(password.trim_end_matches(['\r', '\n'])))
                        .await
                        .map_err(user_error)?
                }
            };
            app.store
                .grant_role(person, &role, ao.as_deref(), centre, None)
                .await
                .map_err(|e| user_error(e.into()))?;
            println!(
                "{email}: {} ({}{})",
                crate::app::people::role_name(&role),
                ao.unwrap_or_default(),
                centre.map(|c| format!("centre {c}")).unwrap_or_default()
            );
            Ok(true)
        }
        Command::Audit(AuditCommand::Verify { checkpoint }) => {
            let checkpoint = match checkpoint {
                Some(path) => {
                    let text = std::fs::read_to_string(&path).with_context(|| {
                        format!("could not read the checkpoint {}", path.display())
                    })?;
                    Some(crate::app::audit::Checkpoint::parse(&text).map_err(user_error)?)
                }
                None => None,
            };
            match app
                .verify_audit(checkpoint.as_ref())
                .await
                .map_err(user_error)?
            {
                Ok(n) => {
                    match &checkpoint {
                        Some(c) => println!(
                            "The audit log is intact: {n} entries, each chained to the one before, and it still holds the {} entries of the checkpoint of {}.",
                            c.entries, c.at
                        ),
                        None => println!(
                            "The audit log is intact: {n} entries, each chained to the one before."
                        ),
                    }
                    Ok(true)
                }
                Err(brk) => {
                    println!("The audit log is NOT intact: {brk}");
                    Ok(false)
                }
            }
        }
        Command::Audit(AuditCommand::Checkpoint { output }) => {
            let operator = app.operator(by.as_deref()).await.map_err(user_error)?;
            let c = app.audit_checkpoint(&operator).await.map_err(user_error)?;
            match output {
                Some(path) => {
                    std::fs::write(&path, c.to_text())
                        .with_context(|| format!("could not write {}", path.display()))?;
                    eprintln!(
                        "Checkpoint of {} entries written to {}: keep it outside the database.",
                        c.entries,
                        path.display()
                    );
                }
                None => print!("{}", c.to_text()),
            }
            Ok(true)
        }
        Command::Register {
            centre,
            file,
            good_rows,
        } => {
            let bytes = read(&file, "CSV file")?;
            let scope = app
                .operator(by.as_deref())
                .await
                .map_err(user_error)?
                .centre(centre);
            let lines = bytes
                .iter()
                .filter(|b| **b == b'\n')
                .count()
                .saturating_sub(1) as u64;
            let bar = crate::progress(lines.max(1), "registering");
            let started = std::time::Instant::now();
            let outcome = app
                .register_csv(&scope, &bytes, good_rows, "cli", |n| bar.inc(n as u64))
                .await
                .map_err(user_error)?;
            bar.finish_and_clear();
            for e in outcome.errors.iter().take(100) {
                eprintln!("{e}");
            }
            if outcome.errors.len() > 100 {
                eprintln!("... and {} more errors", outcome.errors.len() - 100);
            }
            println!(
                "{} rows, {} with errors; {} learners registered in {:.2} s.",
                outcome.rows,
                outcome.bad_rows,
                outcome.registered,
                started.elapsed().as_secs_f64()
            );
            if outcome.registered == 0 && outcome.bad_rows > 0 {
                println!(
                    "Nothing was registered: correct the file, or run again with --good-rows to register the good rows."
                );
            }
            Ok(outcome.bad_rows == 0)
        }
        Command::Catalogue(c) => catalogue(&app, c, by.as_deref()).await.map(|()| true),
        Command::Rules(r) => rules(&app, r).await,
        Command::Qa(QaCommand::Plan {
            centre,
            qualification,
            format,
        }) => {
            if app.store.centre(centre).await?.is_none() {
                bail!(
                    "there is no centre {centre}: see `credence` pages or the API for centre ids"
                );
            }
            let scope = app
                .operator(by.as_deref())
                .await
                .map_err(user_error)?
                .quality(centre);
            let plan = app
                .qa_plan_in(&scope, qualification.as_deref())
                .await
                .map_err(user_error)?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&plan)?),
                OutputFormat::Text => print_plan(&plan),
            }
            Ok(true)
        }
        Command::Claims(ClaimsCommand::List { centre, format }) => {
            let op = app.operator(by.as_deref()).await.map_err(user_error)?;
            let claims = app
                .claims_for_operator(&op, centre)
                .await
                .map_err(user_error)?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&claims)?),
                OutputFormat::Text => {
                    if claims.is_empty() {
                        println!("No claims.");
                    }
                    for c in &claims {
                        println!(
                            "claim {}  {}  {} ({})  {}  {} units  {}",
                            c.claim,
                            c.status,
                            c.learner_name,
                            c.uln.as_deref().unwrap_or("no ULN"),
                            c.qan,
                            c.units.len(),
                            c.claimed_at.get(..10).unwrap_or("")
                        );
                        for w in &c.waiting_for {
                            println!("    waits: {w}");
                        }
                    }
                }
            }
            Ok(true)
        }
        Command::Certificates(CertificatesCommand::List {
            status,
            ao,
            search,
            format,
        }) => {
            let op = app.operator(by.as_deref()).await.map_err(user_error)?;
            let filter = crate::store::CertificateFilter {
                ao_codes: ao.map(|a| vec![a.to_ascii_uppercase()]),
                status,
                text: search,
                ..Default::default()
            };
            let list = app
                .certificates(&app.operator_register(&op), filter)
                .await
                .map_err(user_error)?;
            match format {
                OutputFormat::Json => {
                    let rows: Vec<serde_json::Value> = list
                        .iter()
                        .map(|c| {
                            let v = &c.public;
                            serde_json::json!({
                                "number": v.number,
                                "status": v.status,
                                "kind": v.kind,
                                "learner": v.learner_name,
                                "qan": v.qan,
                                "unit_reference": v.unit_reference,
                                "reference": v.reference,
                                "title": v.title,
                                "grade": v.grade,
                                "centre": v.centre_name,
                                "date": v.awarded_on,
                                "replaces": v.replaces,
                                "replaced_by": v.replaced_by,
                                "revoked_on": v.revoked_on,
                                "revocation_reason": v.revocation_reason,
                            })
                        })
                        .collect();
                    println!("{}", serde_json::to_string_pretty(&rows)?);
                }
                OutputFormat::Text => {
                    if list.is_empty() {
                        println!("No certificates.");
                    }
                    for c in &list {
                        let v = &c.public;
                        println!(
                            "{}  {:<8}  {}  {}  {}",
                            v.number,
                            v.status,
                            v.learner_name,
                            v.reference,
                            crate::format::uk_date(&v.awarded_on)
                        );
                    }
                }
            }
            Ok(true)
        }
        Command::Certificates(CertificatesCommand::Verify { number, format }) => {
            let v = app.verify_certificate(&number).await.map_err(user_error)?;
            match format {
                OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&v)?),
                OutputFormat::Text => {
                    println!("{}: {}", v.number, v.status);
                    println!(
                        "{} — {} {} ({}), {}",
                        v.learner_name,
                        v.reference,
                        v.title,
                        v.grade.as_deref().unwrap_or("no grade"),
                        v.awarding_organisation_name
                    );
                    println!("Awarded {}", crate::format::uk_date(&v.awarded_on));
                    if let Some(n) = &v.replaced_by {
                        println!("Replaced by {n}");
                    }
                    if let (Some(d), Some(r)) = (&v.revoked_on, &v.revocation_reason) {
                        println!("Revoked {}: {r}", crate::format::uk_date(d));
                    }
                }
            }
            Ok(v.status == "valid")
        }
        Command::Certificates(CertificatesCommand::RotateKey { ao }) => {
            let op = app.operator(by.as_deref()).await.map_err(user_error)?;
            let ao = ao.to_ascii_uppercase();
            if !app
                .store
                .awarding_organisations()
                .await
                .map_err(|e| user_error(e.into()))?
                .iter()
                .any(|a| a.ao_code == ao)
            {
                anyhow::bail!("{ao} is not an awarding organisation here");
            }
            let key = app
                .new_signing_key(&ao, Some(op.who()))
                .await
                .map_err(user_error)?;
            eprintln!(
                "{ao} now signs with key {}; earlier keys stay published at /.well-known/jwks.json.",
                key.kid
            );
            Ok(true)
        }
        Command::People(c) => crate::cli_records::people(&app, by.as_deref(), c).await,
        Command::Records(c) => crate::cli_records::records(&app, by.as_deref(), c).await,
        Command::Retention(c) => crate::cli_records::retention(&app, by.as_deref(), c).await,
        Command::Openapi | Command::Bench(_) => Ok(true),
    }
}

async fn create_demo(app: &App) -> Result<()> {
    app.create_demo().await.map_err(user_error)?;
    eprintln!(
        "Demo data is ready. Sign in with any of these (password: {}):",
        crate::app::demo::DEMO_PASSWORD
    );
    for a in crate::app::demo::ACCOUNTS {
        eprintln!("  {:<24} {}", a.email, a.roles);
    }
    Ok(())
}

async fn rules(app: &App, r: RulesCommand) -> Result<bool> {
    let mut out = std::io::stdout().lock();
    match r {
        RulesCommand::Check {
            qualification,
            units,
            format,
        } => {
            let qan = crate::app::catalogue::qan_from_slug(&qualification);
            let e = app.check_rules(&qan, &units).await.map_err(user_error)?;
            if format == OutputFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&e)?)?;
            } else {
                if e.achieved {
                    writeln!(out, "{qan}: achieved with {} credits.", e.total_credit)?;
                } else {
                    writeln!(
                        out,
                        "{qan}: not achieved ({} credits counted).",
                        e.total_credit
                    )?;
                    for u in &e.unmet {
                        writeln!(out, "  - {}", u.message)?;
                    }
                }
                for n in &e.not_counted {
                    writeln!(out, "  not counted: {} ({})", n.unit, n.reason)?;
                }
                for s in &e.level_shares {
                    writeln!(
                        out,
                        "  Level {}+ share: {} of {} credits by credit; {} of {} units by unit count",
                        s.level, s.credit_at_level, s.total_credit, s.units_at_level, s.total_units
                    )?;
                }
            }
            Ok(e.achieved)
        }
        RulesCommand::Claimable { units, format } => {
            let all = app.claimable(&units).await.map_err(user_error)?;
            if format == OutputFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&all)?)?;
                return Ok(true);
            }
            let cat = app.catalogue().await.map_err(user_error)?;
            let refs = |keys: &[String]| {
                keys.iter()
                    .map(|k| {
                        cat.unit(k)
                            .map(|(_, u)| u.ao_ref.clone())
                            .unwrap_or_else(|| k.clone())
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let met: Vec<_> = all.iter().filter(|c| c.met).collect();
            writeln!(out, "Can be claimed now ({}):", met.len())?;
            for c in &met {
                writeln!(
                    out,
                    "  {} {} with {} ({} credits)",
                    c.qan,
                    c.title,
                    refs(&c.claim_with),
                    c.claim_credit
                )?;
            }
            writeln!(out, "\nNot yet (where some of these units count):")?;
            for c in all.iter().filter(|c| !c.met && !c.held.is_empty()) {
                let far = match &c.completion {
                    Some(p) => format!(
                        "{} more unit(s), {} GLH: {}",
                        p.units.len(),
                        p.glh,
                        refs(&p.units)
                    ),
                    None => c.why_not.join("; "),
                };
                writeln!(out, "  {} {}: {far}", c.qan, c.title)?;
                for u in &c.unmet {
                    writeln!(out, "      - {}", u.message)?;
                }
            }
            Ok(true)
        }
        RulesCommand::Plan {
            qualification,
            units,
            want,
            refuse,
            format,
        } => {
            let qan = crate::app::catalogue::qan_from_slug(&qualification);
            let request = credence_domain::rules::PlanRequest {
                achieved: units,
                wants: want,
                refuses: refuse,
            };
            let plan = app.plan(&qan, &request).await.map_err(user_error)?;
            if format == OutputFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&plan)?)?;
                return Ok(true);
            }
            use credence_domain::rules::PlanStatus;
            match plan.status {
                PlanStatus::AlreadyAchieved => {
                    writeln!(out, "{qan} is already achieved with these units.")?
                }
                PlanStatus::NoCompletion => {
                    writeln!(out, "No set of further units completes {qan}:")?;
                    for w in &plan.why_not {
                        writeln!(out, "  - {w}")?;
                    }
                }
                PlanStatus::Completion => {
                    writeln!(
                        out,
                        "{qan}: {} more unit(s), {} GLH, {} credits:",
                        plan.units.len(),
                        plan.added_glh,
                        plan.added_credit
                    )?;
                    for u in &plan.units {
                        writeln!(
                            out,
                            "  {:<8} {:>3} GLH {:>2} credits  {}  ({})",
                            u.ao_ref,
                            u.glh,
                            u.credit,
                            u.title,
                            u.reasons.join("; ")
                        )?;
                    }
                }
            }
            for n in &plan.not_counted {
                writeln!(out, "  not counted: {} ({})", n.unit, n.reason)?;
            }
            Ok(true)
        }
    }
}

/// Who a version touches, for the terminal: each centre, each learner, what to re-assess.
fn print_impact(
    out: &mut impl Write,
    impact: &crate::app::version_moves::VersionImpact,
) -> Result<()> {
    let learners: usize = impact.centres.iter().map(|c| c.learners.len()).sum();
    writeln!(
        out,
        "{} version {} (id {}, {}): {learners} learner(s) at {} centre(s) on an older version",
        impact.specification,
        impact.version_number,
        impact.version,
        impact.status,
        impact.centres.len()
    )?;
    for c in &impact.centres {
        writeln!(
            out,
            "\n{} (centre {}): {} learner(s), {} criteria to re-assess",
            c.name,
            c.centre_id,
            c.learners.len(),
            c.reassess_count()
        )?;
        for l in &c.learners {
            print_learner_move(out, l, "  ")?;
            if let Some(b) = &l.blocked {
                writeln!(out, "    cannot move: {b}")?;
            }
        }
    }
    Ok(())
}

/// One learner a version move touches: what is kept and, indented, what to re-assess.
fn print_learner_move(
    out: &mut impl Write,
    l: &crate::app::version_moves::LearnerImpact,
    indent: &str,
) -> Result<()> {
    writeln!(
        out,
        "{indent}{} {} (registration {}, {} on version {}): {} judged criteria kept, {} to re-assess",
        l.given_name,
        l.family_name,
        l.registration_id,
        l.qan,
        l.from_version_number,
        l.unchanged.len(),
        l.reassess.len()
    )?;
    for r in &l.reassess {
        writeln!(out, "{indent}  re-assess {}", r.words())?;
    }
    Ok(())
}

fn read(path: &PathBuf, what: &str) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("could not read the {what} {}", path.display()))
}

/// Turn an application error into a message for the terminal.
/// For the operator's own chores (backup, restore): the whole message, internal details
/// included, since the person at the terminal is the one who can act on them.
fn operator_error(e: AppError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

pub(crate) fn user_error(e: AppError) -> anyhow::Error {
    anyhow::anyhow!(crate::web::public_message(&e))
}

async fn catalogue(app: &App, c: CatalogueCommand, by: Option<&str>) -> Result<()> {
    // The operator's own, audited acts.
    let operator = app.operator(by).await.map_err(user_error)?.catalogue();
    let mut out = std::io::stdout().lock();
    match c {
        CatalogueCommand::Import {
            files,
            corrections,
            publish,
            format,
        } => {
            let corrections = corrections
                .as_ref()
                .map(|p| read(p, "corrections file"))
                .transpose()?;
            let bar = crate::progress(files.len() as u64, "importing");
            let mut results = Vec::new();
            let mut failed = 0;
            for file in &files {
                bar.set_message(file.display().to_string());
                let bytes = read(file, "specification")?;
                let name = file
                    .file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_else(|| "upload.txt".into());
                match app
                    .import(&operator, &name, &bytes, corrections.as_deref(), publish)
                    .await
                {
                    Ok(outcome) => results.push((file.clone(), outcome)),
                    Err(e) => {
                        failed += 1;
                        bar.suspend(|| {
                            eprintln!("{}: {}", file.display(), crate::web::public_message(&e))
                        });
                    }
                }
                bar.inc(1);
            }
            bar.finish_and_clear();
            if format == OutputFormat::Json {
                let json: Vec<_> = results
                    .iter()
                    .flat_map(|(f, o)| {
                        o.versions.iter().map(move |v| {
                            serde_json::json!({
                                "file": f.display().to_string(), "id": v.id, "specification": v.spec_key,
                                "version": v.version_number, "status": v.status,
                                "unchanged_from": v.unchanged_from, "report": v.report,
                            })
                        })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&json)?)?;
            } else {
                for (file, outcome) in &results {
                    print_outcome(&mut out, file, outcome)?;
                }
            }
            if failed > 0 {
                bail!(
                    "{failed} of {} file(s) could not be imported; nothing was changed for them",
                    files.len()
                );
            }
            Ok(())
        }
        CatalogueCommand::List { format } => {
            let cat = app.catalogue().await.map_err(user_error)?;
            if format == OutputFormat::Json {
                let rows: Vec<_> = cat
                    .qualifications()
                    .map(|(cs, q)| {
                        serde_json::json!({
                            "qan": q.qan, "title": q.title, "level": q.level,
                            "awarding_organisation": cs.spec.awarding_organisation.code,
                            "credit": q.credit, "glh": q.glh, "tqt": q.tqt,
                            "units": q.units.len(), "specification": cs.spec.key,
                        })
                    })
                    .collect();
                writeln!(out, "{}", serde_json::to_string_pretty(&rows)?)?;
            } else {
                writeln!(
                    out,
                    "{:<11} {:<5} {:>3} {:>9} {:>5}  TITLE",
                    "QAN", "AO", "LVL", "CREDIT", "UNITS"
                )?;
                for (cs, q) in cat.qualifications() {
                    writeln!(
                        out,
                        "{:<11} {:<5} {:>3} {:>9} {:>5}  {}",
                        q.qan,
                        cs.spec.awarding_organisation.code,
                        q.level,
                        q.credit.to_string(),
                        q.units.len(),
                        q.title
                    )?;
                }
                for cs in &cat.specs {
                    for u in cs
                        .spec
                        .units
                        .iter()
                        .filter(|u| cat.qualifications_with_unit(&u.key).is_empty())
                    {
                        writeln!(
                            out,
                            "{:<11} {:<5} {:>3} {:>9} {:>5}  unit {} {}",
                            "-",
                            cs.spec.awarding_organisation.code,
                            u.level,
                            u.credit.map(|c| c.to_string()).unwrap_or_default(),
                            1,
                            u.ao_ref,
                            u.title
                        )?;
                    }
                }
            }
            Ok(())
        }
        CatalogueCommand::Show { id, format } => {
            let cat = app.catalogue().await.map_err(user_error)?;
            let qan = crate::app::catalogue::qan_from_slug(&id);
            if let Some((cs, q)) = cat.qualification(&qan) {
                if format == OutputFormat::Json {
                    writeln!(out, "{}", serde_json::to_string_pretty(q)?)?;
                } else {
                    writeln!(out, "{} ({})", q.title, q.qan)?;
                    writeln!(
                        out,
                        "Awarding organisation: {}",
                        cs.spec.awarding_organisation.name
                    )?;
                    writeln!(
                        out,
                        "Level {}, credit {}, GLH {}, TQT {}",
                        q.level,
                        q.credit,
                        q.glh.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
                        q.tqt.map(|r| r.to_string()).unwrap_or_else(|| "-".into())
                    )?;
                    writeln!(
                        out,
                        "Grading: {}",
                        crate::web::pages::grading_words(&q.grading)
                    )?;
                    writeln!(out, "\nRules of combination:")?;
                    for r in crate::web::api::rules_in_words(&cs.spec, q) {
                        writeln!(out, "  - {r}")?;
                    }
                    writeln!(out, "\nUnits:")?;
                    for qu in &q.units {
                        if let Some(u) = cs.spec.unit(&qu.unit) {
                            writeln!(
                                out,
                                "  {:<10} {:<8} L{} {:>2} credits  {}  {}",
                                qu.group.as_deref().unwrap_or("-"),
                                u.ao_ref,
                                u.level,
                                u.credit.map(|c| c.to_string()).unwrap_or_default(),
                                u.key,
                                u.title
                            )?;
                        }
                    }
                }
                return Ok(());
            }
            let unit = cat.unit(&id).or_else(|| {
                cat.specs.iter().find_map(|cs| {
                    cs.spec
                        .units
                        .iter()
                        .find(|u| u.ao_ref.eq_ignore_ascii_case(&id))
                        .map(|u| (cs, u))
                })
            });
            let Some((cs, u)) = unit else {
                bail!(
                    "no qualification or unit '{id}' in the current catalogue: try `credence catalogue list`"
                );
            };
            if format == OutputFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(u)?)?;
            } else {
                writeln!(
                    out,
                    "{} {} ({})",
                    u.ao_ref,
                    u.title,
                    u.ofqual_ref.as_deref().unwrap_or("no Ofqual reference")
                )?;
                writeln!(
                    out,
                    "Awarding organisation: {}",
                    cs.spec.awarding_organisation.name
                )?;
                writeln!(
                    out,
                    "Level {}, credit {}, GLH {}",
                    u.level,
                    u.credit
                        .map(|c| c.to_string())
                        .unwrap_or_else(|| "-".into()),
                    u.glh.map(|c| c.to_string()).unwrap_or_else(|| "-".into())
                )?;
                writeln!(
                    out,
                    "Simulation: {}",
                    crate::web::pages::simulation_words(u.simulation)
                )?;
                for lo in &u.learning_outcomes {
                    writeln!(out, "\nLO {} {}", lo.number, lo.text)?;
                    for ac in &lo.criteria {
                        writeln!(out, "  {:<5} {}", ac.number, ac.text)?;
                    }
                }
                let quals = cat.qualifications_with_unit(&u.key);
                if !quals.is_empty() {
                    writeln!(out, "\nBelongs to:")?;
                    for (_, q) in quals {
                        writeln!(out, "  {} {}", q.qan, q.title)?;
                    }
                }
            }
            Ok(())
        }
        CatalogueCommand::Diff { a, b, format } => {
            let (ra, rb, changes) = app
                .version_diff(&operator, a, b)
                .await
                .map_err(user_error)?;
            match format {
                OutputFormat::Json => {
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&serde_json::json!({
                            "specification": ra.spec_key,
                            "from": {"version": a, "number": ra.version_number},
                            "to": {"version": b, "number": rb.version_number},
                            "changes": changes,
                        }))?
                    )?;
                }
                OutputFormat::Text => {
                    writeln!(
                        out,
                        "{}: version {} (id {a}) to version {} (id {b}): {} change{}",
                        ra.spec_key,
                        ra.version_number,
                        rb.version_number,
                        changes.len(),
                        if changes.len() == 1 { "" } else { "s" }
                    )?;
                    for c in &changes {
                        writeln!(out, "  {}", c.sentence())?;
                    }
                }
            }
            Ok(())
        }
        CatalogueCommand::Versions => {
            writeln!(
                out,
                "{:>4} {:<40} {:>3} {:<10} {:>4}  IMPORTED",
                "ID", "SPECIFICATION", "VER", "STATUS", "OPEN"
            )?;
            for v in app.versions(&operator).await.map_err(user_error)? {
                let status = if v.is_current == 1 {
                    "current".to_string()
                } else {
                    v.status.to_string()
                };
                writeln!(
                    out,
                    "{:>4} {:<40} {:>3} {:<10} {:>4}  {}",
                    v.catalogue_version_id,
                    v.spec_key,
                    v.version_number,
                    status,
                    v.open_findings,
                    v.imported_at
                )?;
            }
            Ok(())
        }
        CatalogueCommand::Findings {
            version,
            open,
            format,
        } => {
            let (_, imported) = app.version_content(version).await.map_err(user_error)?;
            let findings: Vec<_> = imported
                .report
                .findings
                .iter()
                .filter(|f| !open || f.status == FindingStatus::Open)
                .collect();
            if format == OutputFormat::Json {
                writeln!(out, "{}", serde_json::to_string_pretty(&findings)?)?;
            } else {
                for f in findings {
                    print_finding(&mut out, f)?;
                }
            }
            Ok(())
        }
        CatalogueCommand::Correct { version, file } => {
            let parsed = Corrections::parse(&read(&file, "corrections file")?)
                .map_err(|e| user_error(e.into()))?;
            let report = app
                .correct(&operator, version, &parsed)
                .await
                .map_err(user_error)?;
            let open = report.open_count();
            writeln!(
                out,
                "Applied {} correction(s) to version {version}; {open} finding(s) still open.",
                parsed.corrections.len()
            )?;
            if open == 0 {
                writeln!(out, "Next: credence catalogue publish {version}")?;
            }
            Ok(())
        }
        CatalogueCommand::Publish { version } => {
            let v = app.publish(&operator, version).await.map_err(user_error)?;
            writeln!(
                out,
                "Published {} version {} (id {}).",
                v.spec_key, v.version_number, v.catalogue_version_id
            )?;
            Ok(())
        }
        CatalogueCommand::Impact { version, format } => {
            let impact = app
                .version_impact(&operator, version, None)
                .await
                .map_err(user_error)?;
            match format {
                OutputFormat::Json => {
                    writeln!(out, "{}", serde_json::to_string_pretty(&impact)?)?;
                }
                OutputFormat::Text => print_impact(&mut out, &impact)?,
            }
            Ok(())
        }
        CatalogueCommand::Move {
            version,
            registration,
            centre,
            yes,
        } => {
            use crate::app::version_moves::MoveTarget;
            let target = match (registration, centre) {
                (Some(r), None) => MoveTarget::Registration(r),
                (None, Some(c)) => MoveTarget::Centre(c),
                _ => anyhow::bail!("give --registration N or --centre N"),
            };
            if !yes {
                let impact = app
                    .version_impact(&operator, version, None)
                    .await
                    .map_err(user_error)?;
                let chosen: Vec<_> = impact
                    .centres
                    .iter()
                    .filter(|c| match target {
                        MoveTarget::Centre(id) => c.centre_id == id,
                        MoveTarget::Registration(_) => true,
                    })
                    .flat_map(|c| c.learners.iter())
                    .filter(|l| match target {
                        MoveTarget::Registration(r) => l.registration_id == r,
                        MoveTarget::Centre(_) => true,
                    })
                    .collect();
                for l in &chosen {
                    print_learner_move(&mut out, l, "")?;
                }
                if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                    anyhow::bail!(
                        "moving registrations cannot be undone: run again with --yes to confirm (standard input is not a terminal to ask on)"
                    );
                }
                write!(
                    out,
                    "Move {} registration(s) to version {} of {}? [y/N] ",
                    chosen.len(),
                    impact.version_number,
                    impact.specification
                )?;
                out.flush()?;
                let mut answer = String::new();
                std::io::stdin().read_line(&mut answer)?;
                if !matches!(answer.trim(), "y" | "Y" | "yes") {
                    writeln!(out, "Nothing was moved.")?;
                    return Ok(());
                }
            }
            let moved = app
                .move_to_version(&operator, version, target)
                .await
                .map_err(user_error)?;
            writeln!(
                out,
                "Moved {} registration(s) to version id {version}.",
                moved.len()
            )?;
            for m in &moved {
                writeln!(
                    out,
                    "  registration {} (learner {}): from version id {}, {} judged criteria kept, {} to re-assess",
                    m.registration_id,
                    m.learner_id,
                    m.from_version,
                    m.kept,
                    m.reassess.len()
                )?;
                for r in &m.reassess {
                    writeln!(out, "    re-assess {}", r.words())?;
                }
            }
            Ok(())
        }
        CatalogueCommand::Export { format, output } => {
            let text = match format {
                ExportFormat::Json => {
                    credence_domain::export::to_json(&app.export(true).await.map_err(user_error)?)
                }
                ExportFormat::Case => {
                    let packages = app.case_packages().await.map_err(user_error)?;
                    serde_json::to_string_pretty(&packages)?
                }
            };
            match output {
                Some(path) => {
                    crate::write_atomically(&path, text.as_bytes())?;
                    eprintln!("Wrote {} ({} bytes).", path.display(), text.len());
                }
                None => writeln!(out, "{text}")?,
            }
            Ok(())
        }
    }
}

/// `credence restore`: into an instance opened as it is (not migrated, nothing imported).
async fn restore(config: &Config, src: &str) -> Result<bool> {
    let app = crate::open_for_restore(config).await?;
    let location = crate::app::backup::Location::open(src, false).map_err(user_error)?;
    let bar = byte_progress();
    let started = std::time::Instant::now();
    let report = app
        .restore(&config.database_url, &location, &|p| show(&bar, p))
        .await
        .map_err(operator_error)?;
    bar.finish_and_clear();
    let m = &report.manifest;
    println!(
        "Restored the {} database of {} (made by Credence {}, schema version {}) and {} evidence files from {} in {:.1} s.",
        m.database,
        m.created_at,
        m.credence_version,
        m.schema_version,
        m.files.len() - 1,
        location.description,
        started.elapsed().as_secs_f64()
    );
    for t in &report.table_mismatches {
        println!("problem: {t}");
    }
    match &report.audit {
        Ok(n) => println!(
            "The audit log is intact: {n} entries, each chained to the one before, ending at the backup's head."
        ),
        Err(e) => println!("The audit log is NOT intact: {e}"),
    }
    for p in &report.evidence_problems {
        println!("problem: {p}");
    }
    for o in &report.orphans {
        println!("orphan: {o} (no record names it)");
    }
    println!(
        "{} evidence records read back in {}: {} problems, {} orphan files.",
        report.evidence_checked,
        app.evidence.description,
        report.evidence_problems.len(),
        report.orphans.len()
    );
    if report.ok() {
        println!(
            "Put the instance's key-encryption key ({}) and instance key ({}) back from where they were kept, then start Credence.",
            config.kek_file.display(),
            config.key_file.display()
        );
    }
    Ok(report.ok())
}

/// A progress bar in bytes on stderr, for long copies (hidden when stderr is not a
/// terminal).
fn byte_progress() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:20} {bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar
}

fn show(bar: &indicatif::ProgressBar, p: crate::app::backup::Progress) {
    if bar.message() != p.phase {
        bar.set_message(p.phase);
    }
    bar.set_length(p.total);
    bar.set_position(p.done);
}

fn print_finding(out: &mut impl Write, f: &credence_domain::import::Finding) -> Result<()> {
    let status = match f.status {
        FindingStatus::Repaired => "repaired",
        FindingStatus::Open => "OPEN",
        FindingStatus::Resolved => "resolved",
    };
    writeln!(
        out,
        "{:<4} {:<8} line {:>5}: {}",
        f.id, status, f.line, f.message
    )?;
    writeln!(out, "     saw: {}", f.seen)?;
    if let Some(t) = &f.target {
        writeln!(out, "     field: {t}")?;
    }
    if !f.candidates.is_empty() {
        writeln!(out, "     values: {}", f.candidates.join(" | "))?;
    }
    if let Some(r) = &f.resolution {
        writeln!(out, "     resolved: {r}")?;
    }
    Ok(())
}

fn print_outcome(
    out: &mut impl Write,
    file: &std::path::Path,
    outcome: &ImportOutcome,
) -> Result<()> {
    for v in &outcome.versions {
        if let Some(existing) = v.unchanged_from {
            writeln!(
                out,
                "{}: identical to {} version {} (id {existing}, {}); nothing new was created.",
                file.display(),
                v.spec_key,
                v.version_number,
                v.status
            )?;
            continue;
        }
        let r = &v.report;
        let count = |s: FindingStatus| r.findings.iter().filter(|f| f.status == s).count();
        writeln!(
            out,
            "{}: {} version {} ({}), id {}",
            file.display(),
            v.spec_key,
            v.version_number,
            v.status,
            v.id
        )?;
        writeln!(
            out,
            "  layout: {}; {} lines",
            r.layout.describe(),
            r.source_lines
        )?;
        writeln!(
            out,
            "  findings: {} repaired, {} open, {} resolved",
            count(FindingStatus::Repaired),
            count(FindingStatus::Open),
            count(FindingStatus::Resolved)
        )?;
        for f in r
            .findings
            .iter()
            .filter(|f| f.status == FindingStatus::Open)
        {
            print_finding(out, f)?;
        }
        if v.status == "draft" {
            if r.open_count() > 0 {
                writeln!(
                    out,
                    "  next: resolve the open findings (credence catalogue correct {} --file corrections.json), then credence catalogue publish {}",
                    v.id, v.id
                )?;
            } else {
                writeln!(out, "  next: credence catalogue publish {}", v.id)?;
            }
        }
    }
    Ok(())
}

fn print_plan(plan: &crate::app::quality::sampling::CentrePlan) {
    if plan.qualifications.is_empty() {
        println!(
            "No learners with assessed work at centre {}: nothing to sample yet.",
            plan.centre
        );
    }
    for q in &plan.qualifications {
        println!("{} {}", q.qan, q.title);
        println!(
            "  strategy: learners {}%, interim {}%, summative {}% ({})",
            q.strategy.learner_rate,
            q.strategy.interim_rate,
            q.strategy.summative_rate,
            q.strategy_set_at
                .as_deref()
                .map_or("the defaults".to_string(), |at| format!(
                    "set {}",
                    &at[..10.min(at.len())]
                ))
        );
        println!("  {} pieces of work, {} samples", q.work, q.samples.len());
        for a in &q.coverage.assessors {
            println!(
                "  assessor {} {}: learners {}/{}, interim {}/{}, summative {}/{}{}",
                a.assessor,
                plan.assessors.get(&a.assessor).map_or("", String::as_str),
                a.learners_sampled,
                a.learners_required,
                a.interim_sampled,
                a.interim_required,
                a.summative_sampled,
                a.summative_required,
                if a.compliant { "" } else { "  NOT COMPLIANT" }
            );
        }
        for g in &q.coverage.gaps {
            println!("  gap: {}", g.message());
        }
        for s in &q.samples {
            println!(
                "  sample {}  {}  {} {}  {}  {}  due {}{}",
                s.sample,
                s.status,
                s.learner_name,
                s.unit_ref,
                s.assessor_name,
                s.stage,
                s.due_on,
                if s.overdue { "  OVERDUE" } else { "" }
            );
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
