//! Command-line entry points for a person's own data and records retention, apart from
//! `cli.rs` so that each area stays in its own file.

use crate::app::App;
use crate::cli::user_error;
use anyhow::{Context, Result};
use clap::Subcommand;
use credence_domain::records::HoldOn;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum PeopleCommand {
    /// Everything held about a person, as the zip they download from "Your data" (a
    /// subject access request made by letter or email). Audited under `--by`.
    ExportData {
        /// The email the person signs in with.
        #[arg(long)]
        email: String,
        /// Where to write the zip.
        #[arg(long)]
        output: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum RecordsCommand {
    /// Place a legal hold: nothing it covers is disposed of or erased until it is lifted.
    Hold {
        /// A learner's id: every record of theirs, at every centre.
        #[arg(long, conflicts_with = "centre", required_unless_present = "centre")]
        learner: Option<i64>,
        /// A centre's id: every record made there.
        #[arg(long)]
        centre: Option<i64>,
        /// Why (the claim, investigation or appeal).
        #[arg(long)]
        reason: String,
    },
    /// Lift a legal hold (it stays on record as lifted, with who and when).
    Lift {
        /// The hold's id, as `records hold` printed it.
        #[arg(long)]
        hold: i64,
    },
}

#[derive(Subcommand, Debug)]
pub enum RetentionCommand {
    /// Dispose of every record whose retention has ended (3 years from the learner's
    /// completion) and that no legal hold keeps, each disposal recorded in the audit log.
    /// The job queue runs this daily; this runs it now.
    Run {
        /// Change nothing: list exactly what would be disposed of, and what is held.
        #[arg(long)]
        dry_run: bool,
        /// Apply the rules as of this day (YYYY-MM-DD or DD/MM/YYYY; default today). A
        /// later day needs --dry-run.
        #[arg(long)]
        on: Option<String>,
        #[arg(long, value_enum, default_value_t = crate::cli::OutputFormat::Text)]
        format: crate::cli::OutputFormat,
    },
    /// What falls due within a number of days, at every centre (or one).
    Due {
        /// Look this many days ahead.
        #[arg(long, default_value_t = 90)]
        within: u32,
        /// Only this centre's records.
        #[arg(long)]
        centre: Option<i64>,
        #[arg(long, value_enum, default_value_t = crate::cli::OutputFormat::Text)]
        format: crate::cli::OutputFormat,
    },
}

fn day_arg(on: Option<&str>) -> Result<chrono::NaiveDate> {
    match on {
        None => Ok(chrono::Utc::now().date_naive()),
        Some(t) => crate::app::quality::parse_day("--on", t).map_err(user_error),
    }
}

fn line_text(l: &crate::app::retention::RetentionLine) -> String {
    format!(
        "  learner {} ({}{}) at {} (centre {}): completed {}, kept until {}; {} records, {} evidence file{} ({}){}",
        l.learner_id,
        l.learner_name,
        l.uln
            .as_deref()
            .map(|u| format!(", ULN {u}"))
            .unwrap_or_default(),
        l.centre_name,
        l.centre_id,
        crate::format::uk_opt(l.completed_on.as_deref()),
        crate::format::uk_opt(l.kept_until.as_deref()),
        l.records,
        l.files,
        if l.files == 1 { "" } else { "s" },
        crate::evidence_store::human_size(u64::try_from(l.file_bytes).unwrap_or(0)),
        l.hold_reason
            .as_deref()
            .map(|r| format!("; held: {r}"))
            .unwrap_or_default(),
    )
}

pub async fn retention(app: &App, by: Option<&str>, c: RetentionCommand) -> Result<bool> {
    let operator = app.operator(by).await.map_err(user_error)?;
    match c {
        RetentionCommand::Run {
            dry_run,
            on,
            format,
        } => {
            let on = day_arg(on.as_deref())?;
            let today = chrono::Utc::now().date_naive();
            if !dry_run && on > today {
                anyhow::bail!(
                    "a run disposes of records only as of today ({}) or an earlier day: to see what {} would dispose of, add --dry-run",
                    crate::format::uk_date(&today.to_string()),
                    crate::format::uk_date(&on.to_string())
                );
            }
            let report = app
                .retention_run(&operator, on, dry_run)
                .await
                .map_err(user_error)?;
            if format == crate::cli::OutputFormat::Json {
                println!("{}", serde_json::to_string_pretty(&report)?);
                return Ok(true);
            }
            let day = crate::format::uk_date(&report.on);
            if report.disposed.is_empty() {
                println!("Nothing is due for disposal on {day}.");
            } else if dry_run {
                println!(
                    "Dry run on {day}: nothing was changed. These {} record sets (one learner's records at one centre) would be disposed of, with {} evidence files:",
                    report.disposed.len(),
                    report.files_removed
                );
            } else {
                println!(
                    "Retention run {} on {day}: disposed of {} record sets and removed {} evidence files{}; each disposal is in the audit log as records.disposed.",
                    report.run.unwrap_or_default(),
                    report.disposed.len(),
                    report.files_removed,
                    if report.files_left > 0 {
                        format!(
                            " ({} files could not be removed: `credence evidence sweep` removes them)",
                            report.files_left
                        )
                    } else {
                        String::new()
                    }
                );
            }
            for l in &report.disposed {
                println!("{}", line_text(l));
            }
            if !report.held.is_empty() {
                println!(
                    "Kept by a legal hold, though past retention ({}):",
                    report.held.len()
                );
                for l in &report.held {
                    println!("{}", line_text(l));
                }
            }
            if report.contacts_erased > 0 {
                println!(
                    "Erased the contact email of {} learner records with nothing left to keep.",
                    report.contacts_erased
                );
            }
            Ok(true)
        }
        RetentionCommand::Due {
            within,
            centre,
            format,
        } => {
            let scope = operator.records();
            let mut overview = app
                .retention_overview(&scope, chrono::Utc::now().date_naive(), within)
                .await
                .map_err(user_error)?;
            if let Some(c) = centre {
                overview.lines.retain(|l| l.centre_id == c);
            }
            if format == crate::cli::OutputFormat::Json {
                println!("{}", serde_json::to_string_pretty(&overview)?);
                return Ok(true);
            }
            use crate::app::retention::RetentionState as S;
            println!(
                "On {}: {} record sets due for disposal now, {} falling due within {within} days, {} held past retention.",
                crate::format::uk_date(&overview.on),
                overview.count(S::Due),
                overview.count(S::FallsDue),
                overview.count(S::Held),
            );
            for l in &overview.lines {
                let state = match l.state {
                    S::Due => "due now",
                    S::FallsDue => "falls due",
                    S::Held => "held",
                };
                println!("{state}:{}", line_text(l));
            }
            Ok(true)
        }
    }
}

pub async fn people(app: &App, by: Option<&str>, c: PeopleCommand) -> Result<bool> {
    match c {
        PeopleCommand::ExportData { email, output } => {
            let operator = app.operator(by).await.map_err(user_error)?;
            let scope = app
                .operator_own_data_scope(&operator, &email)
                .await
                .map_err(user_error)?;
            let mut zip = app
                .personal_data_zip_of(&scope)
                .await
                .map_err(user_error)?
                .file;
            let mut out = std::fs::File::create(&output)
                .with_context(|| format!("could not create {}", output.display()))?;
            let n = std::io::copy(&mut zip, &mut out)
                .with_context(|| format!("could not write {}", output.display()))?;
            eprintln!(
                "Wrote everything held about {email} to {} ({n} bytes); index.json inside says what each file is.",
                output.display()
            );
            Ok(true)
        }
    }
}

pub async fn records(app: &App, by: Option<&str>, c: RecordsCommand) -> Result<bool> {
    match c {
        RecordsCommand::Hold {
            learner,
            centre,
            reason,
        } => {
            let operator = app.operator(by).await.map_err(user_error)?;
            let on = match (learner, centre) {
                (Some(l), _) => HoldOn::Learner(l),
                (None, Some(c)) => HoldOn::Centre(c),
                (None, None) => anyhow::bail!("give --learner ID or --centre ID"),
            };
            let id = app
                .place_legal_hold(&operator, on, &reason)
                .await
                .map_err(user_error)?;
            println!(
                "Legal hold {id} placed: nothing it covers is disposed of or erased until it is lifted."
            );
            Ok(true)
        }
        RecordsCommand::Lift { hold } => {
            let operator = app.operator(by).await.map_err(user_error)?;
            app.lift_legal_hold(&operator, hold)
                .await
                .map_err(user_error)?;
            println!("Legal hold {hold} lifted.");
            Ok(true)
        }
    }
}
