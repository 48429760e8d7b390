//! Records retention across centres (issue 16): what falls due and when, the disposal run
//! (the daily job, and `credence retention run [--dry-run]`), and legal holds placed from a
//! page. The rules are [`credence_domain::records`]; who sees what is
//! [`super::authz::RecordsScope`]. See docs/records.md.

use super::authz::{Operator, RecordsScope};
use super::records::{RETENTION_RULE, completion_of};
use super::{App, AppError, AppResult};
use crate::store::{HoldListRow, JobDraft, RetentionRunRow};
use chrono::{Days, Months, NaiveDate};
use credence_domain::records::{self, Completion, Disposal, HoldOn, LegalHold, RecordKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use utoipa::ToSchema;

/// The job kind of the disposal run.
pub const RETENTION_JOB: &str = "retention";

/// Where one learner's records at one centre stand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RetentionState {
    /// Retention has ended: the next run disposes of them.
    Due,
    /// Retention ends within the window asked about.
    FallsDue,
    /// Retention has ended (or ends within the window) but a legal hold keeps them.
    Held,
}

/// One learner's portfolio and assessment records at one centre.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionLine {
    pub learner_id: i64,
    pub learner_name: String,
    pub uln: Option<String>,
    pub centre_id: i64,
    pub centre_name: String,
    /// The day the learner's registrations there ended (YYYY-MM-DD): the certificate's
    /// issue, or the withdrawal.
    pub completed_on: Option<String>,
    /// The last day they are kept (YYYY-MM-DD); disposal is from the next day.
    pub kept_until: Option<String>,
    pub state: RetentionState,
    /// The legal hold's reason, when one keeps them.
    pub hold_reason: Option<String>,
    /// How many records (evidence items, decisions, replies, signatures, authentications,
    /// results, samples) there are.
    pub records: i64,
    /// How many of those are evidence files, and their bytes.
    pub files: i64,
    pub file_bytes: i64,
}

/// What falls due, as a records page shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionOverview {
    /// The day the rules were applied (YYYY-MM-DD).
    pub on: String,
    /// The window looked ahead, in days.
    pub within_days: u32,
    pub lines: Vec<RetentionLine>,
    /// Legal holds in force within the viewer's reach.
    #[schema(value_type = Vec<Object>)]
    #[serde(skip)]
    pub holds: Vec<HoldListRow>,
    /// The latest disposal runs.
    #[schema(value_type = Vec<Object>)]
    pub runs: Vec<RetentionRunRow>,
}

impl RetentionOverview {
    pub fn count(&self, state: RetentionState) -> usize {
        self.lines.iter().filter(|l| l.state == state).count()
    }
}

/// What a disposal run did (or, dry, would do).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RetentionRunReport {
    /// The run's id in the audit log's disposal records (`None`: a dry run, or nothing was
    /// due).
    pub run: Option<i64>,
    /// The day the rules were applied (YYYY-MM-DD).
    pub on: String,
    pub dry_run: bool,
    /// The record sets disposed of (or, dry, that would be).
    pub disposed: Vec<RetentionLine>,
    /// Record sets past retention that a legal hold keeps.
    pub held: Vec<RetentionLine>,
    /// Evidence files removed from the store (dry: that would be).
    pub files_removed: i64,
    /// Files the store would not remove, left to `credence evidence sweep`.
    pub files_left: i64,
    /// Learner records whose contact email was erased with their last records.
    pub contacts_erased: i64,
}

fn iso(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The first day whose completions cannot yet be due by `last_day`: a generous bound, the
/// domain decides exactly.
fn ended_before(last_day: NaiveDate) -> String {
    let d = last_day
        .checked_sub_months(Months::new(12 * records::RETENTION_YEARS))
        .and_then(|d| d.checked_add_days(Days::new(2)))
        .unwrap_or(last_day);
    iso(d)
}

impl App {
    /// The learners' records at the scope's centres that are due on `on`, or fall due up to
    /// `last_day` (included), or are held past their retention.
    async fn retention_lines(
        &self,
        centres: Option<&[i64]>,
        on: NaiveDate,
        last_day: NaiveDate,
    ) -> AppResult<Vec<RetentionLine>> {
        let learners = self
            .store
            .learners_ended_before(&ended_before(last_day), centres)
            .await?;
        if learners.is_empty() {
            return Ok(Vec::new());
        }
        let ends = self.store.registration_ends_of(&learners).await?;
        let mut by_learner: BTreeMap<i64, Vec<crate::store::RegistrationEnd>> = BTreeMap::new();
        for e in ends {
            by_learner.entry(e.learner_id).or_default().push(e.end);
        }
        let holds: Vec<(LegalHold, i64)> = self
            .store
            .holds_in_force()
            .await?
            .into_iter()
            .filter_map(|h| {
                let on = match (h.learner_id, h.centre_id) {
                    (Some(l), _) => HoldOn::Learner(l),
                    (None, Some(c)) => HoldOn::Centre(c),
                    (None, None) => return None,
                };
                Some((
                    LegalHold {
                        on,
                        reason: h.reason,
                    },
                    h.legal_hold_id,
                ))
            })
            .collect();
        let just_holds: Vec<LegalHold> = holds.iter().map(|(h, _)| h.clone()).collect();
        let counts: HashMap<(i64, i64), i64> = self
            .store
            .records_per_centre(&learners)
            .await?
            .into_iter()
            .map(|(l, c, n)| ((l, c), n))
            .collect();
        let mut centre_names: HashMap<i64, String> = HashMap::new();
        let mut lines = Vec::new();
        for (learner, regs) in &by_learner {
            let mut at: Vec<i64> = regs.iter().map(|r| r.centre_id).collect();
            at.sort_unstable();
            at.dedup();
            let mut learner_row = None;
            for c in at {
                if centres.is_some_and(|cs| !cs.contains(&c)) {
                    continue;
                }
                let records = counts.get(&(*learner, c)).copied().unwrap_or(0);
                if records == 0 {
                    continue;
                }
                let completion = Completion::latest(
                    regs.iter()
                        .filter(|r| r.centre_id == c)
                        .map(|r| completion_of(r, regs)),
                );
                let decision = records::decide(
                    RecordKind::Portfolio,
                    completion,
                    *learner,
                    c,
                    &just_holds,
                    on,
                );
                let (state, until, reason) = match decision {
                    Disposal::Due { ended } => (RetentionState::Due, Some(ended), None),
                    Disposal::KeptUntil { until } if until < last_day => {
                        (RetentionState::FallsDue, Some(until), None)
                    }
                    Disposal::Held {
                        reason,
                        until: Some(until),
                    } if until < last_day => (RetentionState::Held, Some(until), Some(reason)),
                    _ => continue,
                };
                if learner_row.is_none() {
                    learner_row = self.store.learner(*learner).await?;
                }
                let name = match centre_names.get(&c) {
                    Some(n) => n.clone(),
                    None => {
                        let n = self
                            .store
                            .centre(c)
                            .await?
                            .map(|r| r.name)
                            .unwrap_or_default();
                        centre_names.insert(c, n.clone());
                        n
                    }
                };
                let (files, file_bytes) = self.store.evidence_files_at(*learner, c).await?;
                lines.push(RetentionLine {
                    learner_id: *learner,
                    learner_name: learner_row
                        .as_ref()
                        .map(|l| format!("{} {}", l.given_name, l.family_name))
                        .unwrap_or_default(),
                    uln: learner_row.as_ref().and_then(|l| l.uln.clone()),
                    centre_id: c,
                    centre_name: name,
                    completed_on: completion.ended_on().map(iso),
                    kept_until: until.map(iso),
                    state,
                    hold_reason: reason,
                    records,
                    files,
                    file_bytes,
                });
            }
        }
        lines.sort_by(|a, b| {
            (a.kept_until.as_deref(), &a.centre_name, &a.learner_name).cmp(&(
                b.kept_until.as_deref(),
                &b.centre_name,
                &b.learner_name,
            ))
        });
        Ok(lines)
    }

    /// What is due and what falls due within `within_days` of `on`, at the scope's centres,
    /// with the legal holds there and the latest runs.
    pub async fn retention_overview(
        &self,
        scope: &RecordsScope,
        on: NaiveDate,
        within_days: u32,
    ) -> AppResult<RetentionOverview> {
        let within_days = within_days.min(3650);
        let last_day = on
            .checked_add_days(Days::new(u64::from(within_days)))
            .unwrap_or(on);
        let lines = self.retention_lines(scope.centres(), on, last_day).await?;
        let holds = self.holds_within(scope).await?;
        Ok(RetentionOverview {
            on: iso(on),
            within_days,
            lines,
            holds,
            runs: self.store.retention_runs(5).await?,
        })
    }

    /// The legal holds in force on the scope's centres and on learners registered there.
    async fn holds_within(&self, scope: &RecordsScope) -> AppResult<Vec<HoldListRow>> {
        let mut holds = self.store.holds_in_force().await?;
        if let Some(centres) = scope.centres() {
            let mut learners_here = Vec::new();
            for h in &holds {
                if let Some(l) = h.learner_id
                    && self
                        .store
                        .registrations_of_learner(l)
                        .await?
                        .iter()
                        .any(|r| centres.contains(&r.centre_id))
                {
                    learners_here.push(l);
                }
            }
            holds.retain(|h| {
                h.centre_id.is_some_and(|c| centres.contains(&c))
                    || h.learner_id.is_some_and(|l| learners_here.contains(&l))
            });
        }
        // Who placed each, by name (the row keeps the log's reference).
        for h in &mut holds {
            let id = h
                .placed_by
                .strip_prefix("person:")
                .or_else(|| h.placed_by.strip_prefix("operator:"))
                .and_then(|n| n.parse::<i64>().ok());
            h.placed_by = match id {
                Some(id) => match self.store.person(id).await? {
                    Some(p) => p.display_name,
                    None => h.placed_by.clone(),
                },
                None if h.placed_by == "operator" => "the operator".into(),
                None => h.placed_by.clone(),
            };
        }
        Ok(holds)
    }

    /// Apply the retention rules on `on` across every centre: dispose of each learner's
    /// records whose retention has ended and that no legal hold keeps (each disposal its own
    /// audited write, a disposal record naming the run and the rule), then erase the contact
    /// email of learner records with nothing left in progress or kept. With `dry_run`,
    /// nothing changes: the report says exactly what would go. A run that finds nothing due
    /// writes nothing, so a second run on the same day does nothing. `on` is the clock (the
    /// command line refuses a later day than today without `--dry-run`; tests age records
    /// by passing one).
    pub async fn retention_run(
        &self,
        operator: &Operator,
        on: NaiveDate,
        dry_run: bool,
    ) -> AppResult<RetentionRunReport> {
        let scope = operator.records();
        let lines = self.retention_lines(scope.centres(), on, on).await?;
        let (due, held): (Vec<RetentionLine>, Vec<RetentionLine>) = lines
            .into_iter()
            .partition(|l| l.state == RetentionState::Due);
        let held: Vec<RetentionLine> = held
            .into_iter()
            .filter(|l| l.state == RetentionState::Held)
            .collect();
        let mut report = RetentionRunReport {
            run: None,
            on: iso(on),
            dry_run,
            files_removed: due.iter().map(|l| l.files).sum(),
            disposed: due,
            held,
            files_left: 0,
            contacts_erased: 0,
        };
        if dry_run || report.disposed.is_empty() {
            return Ok(report);
        }
        let who = operator.who();
        let run = self
            .store
            .audited(Self::entry(
                Some(who),
                None,
                "records.retention_run_started",
                "retention run",
                None,
                None,
                serde_json::json!({"on": iso(on), "rule": RETENTION_RULE}),
            ))
            .start_retention_run(&iso(on), who)
            .await?;
        report.run = Some(run);
        let (mut removed, mut left) = (0, 0);
        for l in &report.disposed {
            let (r, f) = self
                .dispose(
                    who,
                    l.learner_id,
                    l.centre_id,
                    serde_json::json!({
                        "rule": RETENTION_RULE,
                        "completed_on": l.completed_on,
                        "kept_until": l.kept_until,
                        "run": run,
                    }),
                )
                .await?;
            removed += r;
            left += f;
        }
        // Contact emails go with the last records, once nothing is in progress or held.
        let mut learners: Vec<i64> = report.disposed.iter().map(|l| l.learner_id).collect();
        learners.sort_unstable();
        learners.dedup();
        for learner in learners {
            let ends = self.store.registration_ends(learner).await?;
            let completions: Vec<(i64, Completion)> = ends
                .iter()
                .map(|r| (r.centre_id, completion_of(r, &ends)))
                .collect();
            let mut centres: Vec<i64> = completions.iter().map(|(c, _)| *c).collect();
            centres.sort_unstable();
            centres.dedup();
            let holds: Vec<LegalHold> = self
                .store
                .legal_holds(learner, &centres)
                .await?
                .iter()
                .filter_map(super::records::hold_of)
                .collect();
            let all_disposed = {
                let mut all = true;
                for c in &centres {
                    if self.store.records_at(learner, *c).await? > 0 {
                        all = false;
                    }
                }
                all
            };
            let has_email = self
                .store
                .learner(learner)
                .await?
                .and_then(|l| l.email)
                .is_some_and(|e| !e.is_empty());
            if all_disposed && has_email && records::contact_erasable(learner, &completions, &holds)
            {
                self.store
                    .audited(Self::entry(
                        Some(who),
                        None,
                        "personal_data.erased",
                        &format!("learner {learner}"),
                        None,
                        Some(learner),
                        serde_json::json!({"what": "learner_email", "rule": RETENTION_RULE, "run": run}),
                    ))
                    .erase_learner_email(learner)
                    .await?;
                report.contacts_erased += 1;
            }
        }
        self.store
            .audited(Self::entry(
                Some(who),
                None,
                "records.retention_run_finished",
                &format!("retention run {run}"),
                None,
                None,
                serde_json::json!({
                    "disposed": report.disposed.len(),
                    "files": removed,
                    "files_left": left,
                    "held": report.held.len(),
                    "contacts_erased": report.contacts_erased,
                }),
            ))
            .finish_retention_run(
                run,
                i64::try_from(report.disposed.len()).unwrap_or(i64::MAX),
                removed,
                left,
                i64::try_from(report.held.len()).unwrap_or(i64::MAX),
            )
            .await?;
        report.files_removed = removed;
        report.files_left = left;
        Ok(report)
    }

    /// The daily run, as the job queue runs it: the day it was scheduled for.
    pub(super) async fn run_retention_job(
        &self,
        job_id: i64,
        payload: &str,
    ) -> Result<String, String> {
        let on = serde_json::from_str::<serde_json::Value>(payload)
            .ok()
            .and_then(|v| v["on"].as_str().map(str::to_string))
            .and_then(|s| NaiveDate::parse_from_str(&s, "%Y-%m-%d").ok())
            .ok_or_else(|| "the retention job names no day".to_string())?;
        let report = self
            .retention_run(&Operator::for_job(job_id), on, false)
            .await
            .map_err(|e| e.to_string())?;
        Ok(serde_json::json!({
            "on": report.on,
            "run": report.run,
            "disposed": report.disposed.len(),
            "held": report.held.len(),
            "files": report.files_removed,
            "files_left": report.files_left,
        })
        .to_string())
    }

    /// Queue today's retention run unless it was queued already (by this server or another).
    pub async fn schedule_retention(&self, today: NaiveDate) -> AppResult<bool> {
        let job = JobDraft {
            kind: RETENTION_JOB.into(),
            payload: serde_json::json!({"on": iso(today)}),
        };
        Ok(self
            .store
            .schedule_job(&job, &format!("{RETENTION_JOB}:{}", iso(today)))
            .await?)
    }

    /// Keep the schedule until `stop`: each day's retention run is queued once, at the
    /// first check of the day (every hour), whichever server checks first.
    pub async fn keep_schedule(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self
                .schedule_retention(chrono::Utc::now().date_naive())
                .await
            {
                tracing::error!("could not queue today's retention run: {e}");
            }
            match self.sweep_task_files().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    "removed {n} task files older than {} days",
                    crate::evidence_store::TASK_FILE_DAYS
                ),
                Err(e) => tracing::warn!("could not remove old task files: {e}"),
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
            }
        }
    }

    /// Place a legal hold from a page: AO staff, on a learner registered at one of their
    /// centres (by ULN or id) or on one of their centres.
    pub async fn place_hold_in(
        &self,
        scope: &RecordsScope,
        on: HoldOn,
        reason: &str,
    ) -> AppResult<i64> {
        scope.require_hold()?;
        match on {
            HoldOn::Centre(c) if !scope.covers_centre(c) => {
                return Err(AppError::NotFound(format!("centre {c} among yours")));
            }
            HoldOn::Learner(l) => {
                let regs = self.store.registrations_of_learner(l).await?;
                if !regs.iter().any(|r| scope.covers_centre(r.centre_id)) {
                    return Err(AppError::NotFound(format!(
                        "learner {l} at a centre your organisation approves"
                    )));
                }
            }
            HoldOn::Centre(_) => {}
        }
        self.place_hold_as(scope.who(), on, reason).await
    }

    /// The learner a hold form names: a ULN (10 digits) or a Credence learner number.
    pub async fn learner_for_hold(&self, scope: &RecordsScope, typed: &str) -> AppResult<i64> {
        scope.require_hold()?;
        let t = typed.trim();
        let t = t.strip_prefix("learner").map(str::trim).unwrap_or(t);
        if t.is_empty() {
            return Err(AppError::Validation(
                "Enter the learner's ULN (10 digits) or their learner number".into(),
            ));
        }
        let found = if t.len() == 10 && t.bytes().all(|b| b.is_ascii_digit()) {
            self.store.learner_by_uln(t).await?.map(|l| l.learner_id)
        } else if let Ok(id) = t.parse::<i64>() {
            self.store.learner(id).await?.map(|l| l.learner_id)
        } else {
            return Err(AppError::Validation(format!(
                "'{t}' is neither a ULN (10 digits) nor a learner number"
            )));
        };
        let Some(id) = found else {
            return Err(AppError::Validation(format!(
                "No learner has the ULN or number {t}: check it against the registration"
            )));
        };
        let regs = self.store.registrations_of_learner(id).await?;
        if !regs.iter().any(|r| scope.covers_centre(r.centre_id)) {
            return Err(AppError::Validation(format!(
                "Learner {t} is not registered at a centre your organisation approves"
            )));
        }
        Ok(id)
    }

    /// The centres a hold may be placed on from this scope, with their names.
    pub async fn centres_for_hold(&self, scope: &RecordsScope) -> AppResult<Vec<(i64, String)>> {
        let mut out = Vec::new();
        for c in self.store.centres().await? {
            if scope.covers_centre(c.centre_id) {
                out.push((c.centre_id, c.name));
            }
        }
        Ok(out)
    }

    /// A legal hold in force within the scope's reach.
    pub async fn hold_within(&self, scope: &RecordsScope, hold_id: i64) -> AppResult<HoldListRow> {
        self.holds_within(scope)
            .await?
            .into_iter()
            .find(|h| h.legal_hold_id == hold_id)
            .ok_or_else(|| {
                AppError::NotFound(format!("a legal hold {hold_id} in force within your reach"))
            })
    }

    /// Lift a legal hold from a page: AO staff, on a hold within their reach.
    pub async fn lift_hold_in(&self, scope: &RecordsScope, hold_id: i64) -> AppResult<()> {
        scope.require_hold()?;
        if !self
            .holds_within(scope)
            .await?
            .iter()
            .any(|h| h.legal_hold_id == hold_id)
        {
            return Err(AppError::NotFound(format!(
                "a legal hold {hold_id} in force within your reach"
            )));
        }
        self.lift_hold_as(scope.who(), hold_id).await
    }
}
