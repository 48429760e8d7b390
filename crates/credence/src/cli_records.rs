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
