//! Long tasks: work a person asks for that is too big to finish inside one request (a
//! registrations file of thousands of rows, a large centre's sampling plan, a portfolio zip
//! of gigabytes) runs as a job on the one queue, and the person follows it on its own page:
//! how far it has got, then its result.
//!
//! Small work still runs in the request (a 40-row file is registered before the page comes
//! back); [`TaskThresholds`] says where "too big" starts. The worker acts as the person who
//! asked, in the role they had, checked again when it runs: someone whose role was removed in
//! between gets a refusal, not the work.
//!
//! A task's visible effect happens once. Registrations commit together with the task's
//! result, only while the worker still holds the task, so a retry finds the result and does
//! not register again; generating a sampling plan adds only what is missing, so running it
//! twice adds nothing the second time; a zip is written under the task's own name, so a
//! second try overwrites the first.

use super::*;
use crate::app::people::Actor;
use crate::store::{JobRow, TaskMark, TaskRow};
use base64::Engine;
use std::sync::Mutex;

/// Where work stops running in the request and becomes a task.
#[derive(Debug, Clone, Copy)]
pub struct TaskThresholds {
    /// Registrations files with more data rows than this.
    pub csv_rows: usize,
    /// Sampling plans for centres with more registrations than this.
    pub plan_registrations: usize,
    /// Portfolio zips with more evidence bytes than this.
    pub zip_bytes: u64,
}

impl Default for TaskThresholds {
    fn default() -> Self {
        TaskThresholds {
            csv_rows: 1000,
            plan_registrations: 1000,
            zip_bytes: 256 << 20,
        }
    }
}

/// The job kinds of tasks, by what they do.
pub const REGISTRATIONS_TASK: &str = "task.registrations";
pub const QA_PLAN_TASK: &str = "task.qa_plan";
pub const PORTFOLIO_ZIP_TASK: &str = "task.portfolio_zip";
pub const OWN_DATA_ZIP_TASK: &str = "task.own_data_zip";

/// What a task was asked to do, and as whom.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TaskRequest {
    /// The role (grant) the person was acting in.
    pub grant: Option<i64>,
    #[serde(default)]
    pub second_factor: bool,
    pub address: String,
    pub work: TaskWork,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskWork {
    /// Register the learners of a CSV file at a centre (the file is dropped from the record
    /// once registered).
    Registrations {
        centre: i64,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        csv_base64: String,
        good_rows: bool,
        invite: bool,
    },
    /// Generate a centre's sampling plan (one qualification, or all).
    QaPlan {
        centre: i64,
        qualification: Option<String>,
    },
    /// Zip a learner's portfolio.
    PortfolioZip { learner: i64 },
    /// Zip everything held about the person who asked (their own data).
    OwnDataZip,
}

impl TaskWork {
    fn kind(&self) -> &'static str {
        match self {
            TaskWork::Registrations { .. } => REGISTRATIONS_TASK,
            TaskWork::QaPlan { .. } => QA_PLAN_TASK,
            TaskWork::PortfolioZip { .. } => PORTFOLIO_ZIP_TASK,
            TaskWork::OwnDataZip => OWN_DATA_ZIP_TASK,
        }
    }

    /// What the task is, in words, for its page.
    pub fn title(&self) -> String {
        match self {
            TaskWork::Registrations { .. } => "Registering learners from a file".into(),
            TaskWork::QaPlan {
                qualification: Some(q),
                ..
            } => format!("Generating the sampling plan for {q}"),
            TaskWork::QaPlan { .. } => "Generating the sampling plan".into(),
            TaskWork::PortfolioZip { .. } => "Making the portfolio zip".into(),
            TaskWork::OwnDataZip => "Making the zip of your data".into(),
        }
    }
}

/// What a task came to.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskResult {
    Registrations {
        centre: i64,
        outcome: registration::BulkOutcome,
        /// Learners emailed an invitation to sign in (when asked for), and those left
        /// without one (no email address, or they can already sign in).
        invited: Option<(usize, usize)>,
    },
    QaPlan {
        centre: i64,
        qualification: Option<String>,
        added: usize,
    },
    PortfolioZip {
        learner: i64,
        /// Where the zip is kept (under `tasks/`), its name for the download, and size.
        key: String,
        file_name: String,
        bytes: u64,
        /// The last day it can be downloaded (YYYY-MM-DD).
        kept_until: String,
    },
    OwnDataZip {
        key: String,
        file_name: String,
        bytes: u64,
        kept_until: String,
    },
}

impl TaskResult {
    /// The file the task made: its key in the store and its name for the download.
    pub fn file(&self) -> Option<(&str, &str)> {
        match self {
            TaskResult::PortfolioZip { key, file_name, .. }
            | TaskResult::OwnDataZip { key, file_name, .. } => Some((key, file_name)),
            _ => None,
        }
    }
}

/// The job's payload: the request while it waits, with the result once there is one.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Stored {
    request: TaskRequest,
    /// Written with the registrations themselves (see [`App::register_csv_as_task`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    outcome: Option<registration::BulkOutcome>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    learners: Vec<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<TaskResult>,
}

/// A task as its page shows it.
#[derive(Debug, Clone)]
pub struct TaskView {
    pub id: i64,
    pub kind: String,
    pub title: String,
    /// queued, running, done or failed.
    pub status: &'static str,
    pub done: i64,
    pub total: i64,
    pub note: Option<String>,
    pub result: Option<TaskResult>,
    /// Why it failed, or why the last try did (it will be tried again).
    pub error: Option<String>,
    pub attempts: i64,
    pub queued_at: String,
    pub finished_at: Option<String>,
    pub work: TaskWork,
}

impl TaskView {
    /// Whole percent done, when the total is known.
    pub fn percent(&self) -> Option<i64> {
        (self.total > 0).then(|| (self.done * 100 / self.total).clamp(0, 100))
    }

    pub fn finished(&self) -> bool {
        matches!(self.status, "done" | "failed")
    }
}

/// Progress of the tasks this process is running, fresher than the database's copy (which
/// a ticker writes every half second; on SQLite a long write holds the database, so the copy
/// catches up when it commits).
pub(crate) type TaskProgress = Arc<Mutex<HashMap<i64, (i64, i64, String)>>>;

/// Tells the task's page how far the work has got.
#[derive(Clone)]
struct Reporter {
    job: i64,
    progress: TaskProgress,
}

impl Reporter {
    fn set(&self, done: usize, total: usize, note: impl Into<String>) {
        if let Ok(mut map) = self.progress.lock() {
            map.insert(
                self.job,
                (
                    i64::try_from(done).unwrap_or(i64::MAX),
                    i64::try_from(total).unwrap_or(i64::MAX),
                    note.into(),
                ),
            );
        }
    }
}

/// Refusals that another try would meet again: the task fails at once with the message.
fn for_good(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation(_)
            | AppError::NotFound(_)
            | AppError::Forbidden(_)
            | AppError::TooLarge(_)
    )
}

/// A task's failure: for good (shown on its page at once), or to try again.
pub(super) enum TaskFailure {
    ForGood(String),
    Again(String),
}

impl From<AppError> for TaskFailure {
    fn from(e: AppError) -> Self {
        if for_good(&e) {
            TaskFailure::ForGood(e.to_string())
        } else {
            TaskFailure::Again(e.to_string())
        }
    }
}

impl From<StoreError> for TaskFailure {
    fn from(e: StoreError) -> Self {
        AppError::from(e).into()
    }
}

impl App {
    /// Queue `work` for `actor`, who has already been checked for it; returns the task's id.
    pub async fn start_task(&self, actor: &Actor, work: TaskWork, address: &str) -> AppResult<i64> {
        let total = match &work {
            TaskWork::Registrations { csv_base64, .. } => Self::csv_rows(
                &base64::engine::general_purpose::STANDARD
                    .decode(csv_base64)
                    .unwrap_or_default(),
            ),
            _ => 0,
        };
        let kind = work.kind();
        let stored = Stored {
            request: TaskRequest {
                grant: actor.active.as_ref().map(|g| g.role_grant_id),
                second_factor: actor.second_factor,
                address: address.to_string(),
                work,
            },
            outcome: None,
            learners: Vec::new(),
            result: None,
        };
        Ok(self
            .store
            .queue_task(
                kind,
                &serde_json::to_value(&stored)?,
                actor.person_id,
                i64::try_from(total).unwrap_or(0),
                "Waiting for a worker",
            )
            .await?)
    }

    /// A registrations file as a task, for a centre administrator already checked for the
    /// centre.
    pub fn registrations_task(
        centre: i64,
        bytes: &[u8],
        good_rows: bool,
        invite: bool,
    ) -> TaskWork {
        TaskWork::Registrations {
            centre,
            csv_base64: base64::engine::general_purpose::STANDARD.encode(bytes),
            good_rows,
            invite,
        }
    }

    /// Data rows in a CSV file (lines after the header), to decide whether it is a task.
    pub fn csv_rows(bytes: &[u8]) -> usize {
        bytes
            .split(|b| *b == b'\n')
            .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
            .count()
            .saturating_sub(1)
    }

    /// Whether generating the centre's sampling plan is big enough to be a task.
    pub async fn qa_plan_is_a_task(&self, actor: &Actor, centre: i64) -> AppResult<bool> {
        self.qa_scope(actor, centre).await?.require_iqa()?;
        let n = self.store.count_registrations(centre).await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX) > self.task_thresholds.plan_registrations)
    }

    /// Whether the learner's portfolio zip is big enough to be a task (the person must be
    /// able to see the portfolio).
    pub async fn portfolio_zip_is_a_task(&self, actor: &Actor, learner: i64) -> AppResult<bool> {
        self.learner_scope(actor, learner).await?;
        let bytes = self.store.evidence_bytes_of(learner).await?;
        Ok(u64::try_from(bytes).unwrap_or(0) > self.task_thresholds.zip_bytes)
    }

    /// Whether the zip of the person's own data is big enough to be a task.
    pub async fn own_data_zip_is_a_task(&self, actor: &Actor) -> AppResult<bool> {
        let mut bytes = 0i64;
        for l in self.own_data_scope(actor).learner_ids() {
            bytes += self.store.evidence_bytes_of(*l).await?;
        }
        Ok(u64::try_from(bytes).unwrap_or(0) > self.task_thresholds.zip_bytes)
    }

    /// A task, for the person who asked for it (anyone else: not found).
    pub async fn task_for(&self, actor: &Actor, id: i64) -> AppResult<TaskView> {
        let row = self
            .store
            .task(id)
            .await?
            .filter(|t| t.requested_by == Some(actor.person_id) && t.kind.starts_with("task."))
            .ok_or_else(|| AppError::NotFound(format!("task {id}")))?;
        self.task_view(row)
    }

    /// The tasks the person asked for, newest first.
    pub async fn tasks_of(&self, actor: &Actor) -> AppResult<Vec<TaskView>> {
        self.store
            .tasks_of(actor.person_id, 50)
            .await?
            .into_iter()
            .filter(|t| t.kind.starts_with("task."))
            .map(|t| self.task_view(t))
            .collect()
    }

    fn task_view(&self, row: TaskRow) -> AppResult<TaskView> {
        let stored: Stored = serde_json::from_str(&row.payload)?;
        let (mut done, mut total, mut note) =
            (row.progress_done, row.progress_total, row.progress_note);
        if row.status == "running"
            && let Some((d, t, n)) = self
                .task_progress
                .lock()
                .ok()
                .and_then(|m| m.get(&row.job_id).cloned())
        {
            (done, total, note) = (d, t, Some(n));
        }
        let status = match row.status.as_str() {
            "queued" => "queued",
            "running" => "running",
            "done" => "done",
            _ => "failed",
        };
        if status == "done" {
            // All of it (the last half second's progress may not have been written).
            total = total.max(1);
            done = total;
        }
        Ok(TaskView {
            id: row.job_id,
            kind: row.kind,
            title: stored.request.work.title(),
            status,
            done,
            total,
            note: note.filter(|n| !n.is_empty() && status != "done"),
            result: stored.result,
            error: row.last_error,
            attempts: row.attempts,
            queued_at: row.created_at,
            finished_at: row.finished_at,
            work: stored.request.work,
        })
    }

    /// Run a claimed task (the worker's side). `Ok` with what the record keeps, or why it
    /// failed.
    pub(super) async fn run_task(&self, worker: &str, job: &JobRow) -> Result<(), TaskFailure> {
        let stored: Stored = serde_json::from_str(&job.payload)
            .map_err(|e| TaskFailure::ForGood(format!("the task is unreadable: {e}")))?;
        let person = self
            .store
            .task(job.job_id)
            .await?
            .and_then(|t| t.requested_by)
            .ok_or_else(|| TaskFailure::ForGood("the task names no person".into()))?;
        // As the person who asked, in the role they asked in, as they stand now.
        let actor = self
            .actor_for(
                person,
                stored.request.grant,
                None,
                None,
                stored.request.second_factor,
            )
            .await?
            .ok_or_else(|| {
                TaskFailure::ForGood(
                    "the person who asked for it can no longer sign in, so it was not done".into(),
                )
            })?;
        let reporter = Reporter {
            job: job.job_id,
            progress: self.task_progress.clone(),
        };
        reporter.set(0, 0, "Starting");
        let ticker = {
            let app = self.clone();
            let worker = worker.to_string();
            let job = job.job_id;
            tokio::spawn(async move {
                let mut last = None;
                loop {
                    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                    let now = app
                        .task_progress
                        .lock()
                        .ok()
                        .and_then(|m| m.get(&job).cloned());
                    if now.is_some() && now != last {
                        if let Some((d, t, n)) = &now
                            && let Err(e) = app.store.task_progress(job, &worker, *d, *t, n).await
                        {
                            tracing::debug!("task {job}: progress not recorded: {e}");
                        }
                        last = now;
                    }
                }
            })
        };
        let result = self
            .task_work(worker, job.job_id, &actor, stored, &reporter)
            .await;
        ticker.abort();
        if let Ok(mut m) = self.task_progress.lock() {
            m.remove(&job.job_id);
        }
        let result = result?;
        let kept = serde_json::to_value(&result).map_err(|e| TaskFailure::Again(e.to_string()))?;
        let mut payload = serde_json::from_str::<serde_json::Value>(&job.payload)
            .unwrap_or_else(|_| serde_json::json!({}));
        if let serde_json::Value::Object(m) = &mut payload {
            m.insert("result".into(), kept);
            // The file's rows are not kept once the work is done.
            m.remove("outcome");
            if let Some(serde_json::Value::Object(r)) = m.get_mut("request")
                && let Some(serde_json::Value::Object(w)) = r.get_mut("work")
            {
                w.remove("csv_base64");
            }
        }
        self.store
            .complete_job(job.job_id, worker, &payload.to_string())
            .await?;
        Ok(())
    }

    async fn task_work(
        &self,
        worker: &str,
        job: i64,
        actor: &Actor,
        stored: Stored,
        reporter: &Reporter,
    ) -> Result<TaskResult, TaskFailure> {
        let address = stored.request.address.clone();
        match stored.request.work.clone() {
            TaskWork::Registrations {
                centre,
                csv_base64,
                good_rows,
                invite,
            } => {
                let scope = self.centre_admin_scope(actor, centre).await?;
                let (outcome, learners) = match stored.outcome {
                    // A retry after the registrations committed: not registered again.
                    Some(outcome) => (outcome, stored.learners),
                    None => {
                        let bytes = base64::engine::general_purpose::STANDARD
                            .decode(csv_base64.as_bytes())
                            .map_err(|e| {
                                TaskFailure::ForGood(format!("the file is unreadable: {e}"))
                            })?;
                        let rows = Self::csv_rows(&bytes);
                        reporter.set(0, rows, format!("Checking {rows} rows"));
                        let mark = TaskMark {
                            job_id: job,
                            worker: worker.to_string(),
                            result: serde_json::json!({"request": {
                                "grant": stored.request.grant,
                                "second_factor": stored.request.second_factor,
                                "address": address,
                                "work": {"kind": "registrations", "centre": centre, "good_rows": good_rows, "invite": invite},
                            }}),
                        };
                        let r = reporter.clone();
                        let outcome = self
                            .register_csv_as_task(
                                &scope,
                                &bytes,
                                good_rows,
                                &address,
                                move |done| {
                                    r.set(done, rows, format!("Registered {done} of {rows}"))
                                },
                                Some(mark),
                            )
                            .await?;
                        let learners = outcome.learners.clone();
                        (outcome, learners)
                    }
                };
                let invited = if invite && !learners.is_empty() {
                    reporter.set(0, 0, "Inviting the learners to sign in");
                    Some(
                        self.invite_learners(actor, centre, &learners, &address)
                            .await?,
                    )
                } else {
                    None
                };
                Ok(TaskResult::Registrations {
                    centre,
                    outcome,
                    invited,
                })
            }
            TaskWork::QaPlan {
                centre,
                qualification,
            } => {
                let r = reporter.clone();
                let added = self
                    .generate_qa_plan_with(
                        actor,
                        centre,
                        qualification.as_deref(),
                        &address,
                        move |done, total, next| {
                            let note = if next.is_empty() {
                                "Saving the samples".to_string()
                            } else {
                                format!("Planning {next}")
                            };
                            r.set(done, total, note)
                        },
                    )
                    .await?;
                Ok(TaskResult::QaPlan {
                    centre,
                    qualification,
                    added,
                })
            }
            TaskWork::PortfolioZip { learner } => {
                let r = reporter.clone();
                let file = self
                    .portfolio_zip_with(actor, learner, move |done, total| {
                        r.set(done, total, format!("{done} of {total} evidence files in"))
                    })
                    .await?;
                reporter.set(1, 1, "Keeping the zip for download");
                let (key, bytes, kept_until) = self
                    .keep_task_file(job, &format!("portfolio-{learner}.zip"), file)
                    .await?;
                Ok(TaskResult::PortfolioZip {
                    learner,
                    key,
                    file_name: format!("portfolio-{learner}.zip"),
                    bytes,
                    kept_until,
                })
            }
            TaskWork::OwnDataZip => {
                reporter.set(0, 1, "Gathering your records and evidence");
                let zip = self.personal_data_zip(actor).await?;
                reporter.set(1, 1, "Keeping the zip for download");
                let (key, bytes, kept_until) =
                    self.keep_task_file(job, &zip.file_name, zip.file).await?;
                Ok(TaskResult::OwnDataZip {
                    key,
                    file_name: zip.file_name,
                    bytes,
                    kept_until,
                })
            }
        }
    }

    /// Keep a file a task made under the task's own name (a second try overwrites the
    /// first): its key, size and the last day it is kept.
    async fn keep_task_file(
        &self,
        job: i64,
        file_name: &str,
        file: std::fs::File,
    ) -> Result<(String, u64, String), TaskFailure> {
        let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
        let key = format!("{}/{job}/{file_name}", crate::evidence_store::TASK_PREFIX);
        self.evidence
            .put_stream_at(
                key.clone(),
                Box::pin(crate::evidence_store::file_stream(file)),
                u64::MAX,
            )
            .await
            .map_err(|e| TaskFailure::Again(format!("could not keep the zip: {e}")))?;
        let kept_until = (chrono::Utc::now().date_naive()
            + chrono::Days::new(crate::evidence_store::TASK_FILE_DAYS))
        .format("%Y-%m-%d")
        .to_string();
        Ok((key, bytes, kept_until))
    }

    /// The file a finished task made, for the person who asked for it: its name, size and
    /// bytes. Gone after [`crate::evidence_store::TASK_FILE_DAYS`] days.
    pub async fn task_file(
        &self,
        actor: &Actor,
        id: i64,
    ) -> AppResult<(
        String,
        u64,
        futures_util::stream::BoxStream<'static, Result<axum::body::Bytes, std::io::Error>>,
    )> {
        let task = self.task_for(actor, id).await?;
        let Some((key, file_name)) = task
            .result
            .as_ref()
            .and_then(TaskResult::file)
            .map(|(k, f)| (k.to_string(), f.to_string()))
        else {
            return Err(AppError::NotFound(format!("a file made by task {id}")));
        };
        match self.evidence.size(&key).await.map_err(AppError::Internal)? {
            None => Err(AppError::NotFound(format!(
                "the file of task {id} (files are kept {} days: ask for a new one)",
                crate::evidence_store::TASK_FILE_DAYS
            ))),
            Some(_) => {
                let (size, stream) = self
                    .evidence
                    .get_stream(&key)
                    .await
                    .map_err(AppError::Internal)?;
                Ok((file_name, size, stream))
            }
        }
    }

    /// Remove task files older than [`crate::evidence_store::TASK_FILE_DAYS`] days (the
    /// hourly schedule does this). Returns how many went.
    pub async fn sweep_task_files(&self) -> AppResult<usize> {
        let cutoff = std::time::SystemTime::now()
            .checked_sub(std::time::Duration::from_secs(
                crate::evidence_store::TASK_FILE_DAYS * 86_400,
            ))
            .unwrap_or(std::time::UNIX_EPOCH);
        let old = self
            .evidence
            .task_files_before(cutoff)
            .await
            .map_err(AppError::Internal)?;
        for key in &old {
            self.evidence
                .delete(key)
                .await
                .map_err(AppError::Internal)?;
        }
        Ok(old.len())
    }
}
