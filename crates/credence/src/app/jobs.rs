//! Background jobs: what each kind does, the worker loop, and the operator's dead-letter list.
//!
//! A use case queues a job with its write (`store.queueing(...)`), so the job exists exactly
//! when the change committed. Workers (`credence worker`, and some inside `credence serve`)
//! claim due jobs one at a time; a failure is retried with backoff, and after
//! [`MAX_ATTEMPTS`] the job waits on the dead-letter list for an operator.

use super::*;
use crate::mail::Email;
use crate::store::{AuditDraft, JobDraft, JobRow};
use std::time::Duration;

/// Tries before a job goes to the dead-letter list (the table's default).
pub const MAX_ATTEMPTS: i64 = 8;
/// How long a worker holds a job before another may take it over.
pub const LEASE: Duration = Duration::from_secs(300);

/// When to try again after `attempts` tries: 30 s, 1 min, 2 min ... at most an hour.
pub fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(1, 8) - 1).unwrap_or(0);
    Duration::from_secs((30u64 << exp).min(3600))
}

/// What an email job carries.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct EmailJob {
    #[serde(flatten)]
    pub email: Email,
    /// For an email about an event: the person it is for, whose preference is checked when
    /// it is sent (they may have turned event emails off since).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_for: Option<i64>,
}

/// An email to queue with a write.
pub fn email_job(to: &str, subject: &str, body: String) -> JobDraft {
    JobDraft {
        kind: "email".into(),
        payload: serde_json::to_value(EmailJob {
            email: Email {
                to: to.to_string(),
                subject: subject.to_string(),
                body,
            },
            event_for: None,
        })
        .unwrap_or_default(),
    }
}

/// What happened to one job a worker ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ran {
    Done,
    /// Done without sending: the send was already recorded, or the person opted out.
    Skipped(String),
    Retry(String),
    Dead(String),
}

impl App {
    /// Run every job that is due now, one after another; returns what each came to.
    pub async fn run_due_jobs(&self, worker: &str) -> AppResult<Vec<(i64, Ran)>> {
        let mut ran = Vec::new();
        while let Some(job) = self.store.claim_job(worker, &lease_end()).await? {
            let id = job.job_id;
            ran.push((id, self.run_job(worker, job).await?));
        }
        Ok(ran)
    }

    /// Work until `stop` resolves: run what is due, then wait for a new job (a write in this
    /// process wakes the worker at once; jobs queued by other servers are seen within a
    /// second).
    pub async fn work(&self, worker: String, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            match self.run_due_jobs(&worker).await {
                Ok(ran) => {
                    for (id, r) in ran {
                        match r {
                            Ran::Done => tracing::debug!("job {id} done"),
                            Ran::Skipped(why) => {
                                tracing::info!("job {id} done without sending: {why}")
                            }
                            Ran::Retry(e) => tracing::warn!("job {id} failed, will retry: {e}"),
                            Ran::Dead(e) => tracing::error!(
                                "job {id} failed for the last time and is on the dead-letter list (`credence jobs list --status dead`): {e}"
                            ),
                        }
                    }
                }
                Err(e) => tracing::error!("the job worker could not reach the queue: {e}"),
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = self.store.job_queued(Duration::from_secs(1)) => {}
            }
        }
    }

    async fn run_job(&self, worker: &str, job: JobRow) -> AppResult<Ran> {
        if job.attempts > job.max_attempts {
            // A worker died holding it on its last try.
            let why = "its worker stopped during the last attempt".to_string();
            self.store.fail_job(job.job_id, worker, &why, None).await?;
            return Ok(Ran::Dead(why));
        }
        let outcome = match job.kind.as_str() {
            "email" => self.run_email(worker, &job).await,
            super::retention::RETENTION_JOB => {
                match self.run_retention_job(job.job_id, &job.payload).await {
                    Ok(kept) => self
                        .store
                        .complete_job(job.job_id, worker, &kept)
                        .await
                        .map(|_| Ran::Done)
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                }
            }
            kind if kind.starts_with("task.") => match self.run_task(worker, &job).await {
                Ok(()) => Ok(Ran::Done),
                Err(super::tasks::TaskFailure::Again(e)) => Err(e),
                Err(super::tasks::TaskFailure::ForGood(e)) => {
                    // A refusal another try would meet again: shown on the task's page now.
                    self.store.fail_job(job.job_id, worker, &e, None).await?;
                    return Ok(Ran::Dead(e));
                }
            },
            other => Err(format!("no worker knows the job kind '{other}'")),
        };
        match outcome {
            Ok(ran) => Ok(ran),
            Err(e) => {
                if job.attempts >= job.max_attempts {
                    self.store.fail_job(job.job_id, worker, &e, None).await?;
                    Ok(Ran::Dead(e))
                } else {
                    let at = crate::store::timestamp(
                        chrono::Utc::now()
                            + chrono::Duration::from_std(backoff(job.attempts)).unwrap_or_default(),
                    );
                    self.store
                        .fail_job(job.job_id, worker, &e, Some(&at))
                        .await?;
                    Ok(Ran::Retry(e))
                }
            }
        }
    }

    async fn run_email(&self, worker: &str, job: &JobRow) -> Result<Ran, String> {
        let db = |e: StoreError| e.to_string();
        if let Some((message_id, _)) = self.store.email_sent(job.job_id).await.map_err(db)? {
            // Sent and recorded, then the worker stopped before marking it done.
            self.store
                .complete_job(job.job_id, worker, &job.payload)
                .await
                .map_err(db)?;
            return Ok(Ran::Skipped(format!(
                "already sent as {message_id}; not sent again"
            )));
        }
        let payload: EmailJob = serde_json::from_str(&job.payload)
            .map_err(|e| format!("the job's email is unreadable: {e}"))?;
        // What the record keeps once sent: the subject, not the address or the link.
        let kept = serde_json::json!({"subject": payload.email.subject}).to_string();
        if let Some(person) = payload.event_for {
            let wants = self.store.wants_event_emails(person).await.map_err(db)?;
            if !wants {
                self.store
                    .complete_job(job.job_id, worker, &kept)
                    .await
                    .map_err(db)?;
                return Ok(Ran::Skipped(
                    "the person turned event emails off, or their account is disabled".into(),
                ));
            }
        }
        let transport = self.mailer.send(&payload.email, job.job_id).await?;
        self.store
            .complete_email(
                job.job_id,
                worker,
                &kept,
                &self.mailer.message_id(job.job_id),
                transport,
            )
            .await
            .map_err(db)?;
        Ok(Ran::Done)
    }

    /// The queue for an operator: jobs by status, newest first.
    pub async fn jobs(&self, status: Option<&str>, limit: i64) -> AppResult<Vec<JobRow>> {
        if let Some(s) = status
            && !["queued", "running", "done", "dead"].contains(&s)
        {
            return Err(AppError::Validation(format!(
                "'{s}' is not a job status: use queued, running, done or dead"
            )));
        }
        Ok(self.store.jobs(status, limit).await?)
    }

    /// An operator puts a dead job back on the queue (after fixing what made it fail).
    pub async fn retry_job(&self, operator: &authz::Operator, job_id: i64) -> AppResult<()> {
        let job = self
            .store
            .job(job_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("job {job_id}")))?;
        if job.status != "dead" {
            return Err(AppError::Conflict(format!(
                "job {job_id} is {}, not on the dead-letter list: only dead jobs are retried",
                job.status
            )));
        }
        let entry = AuditDraft {
            actor: Some(operator.who().to_string()),
            address: None,
            action: "job_retried".into(),
            subject: format!("job {job_id}"),
            centre_id: None,
            learner_id: None,
            detail: serde_json::json!({"kind": job.kind, "last_error": job.last_error}),
        };
        if !self.store.audited(entry).retry_job(job_id).await? {
            return Err(AppError::Conflict(format!(
                "job {job_id} is no longer dead: someone retried it a moment ago"
            )));
        }
        Ok(())
    }
}

fn lease_end() -> String {
    crate::store::timestamp(
        chrono::Utc::now() + chrono::Duration::from_std(LEASE).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(120));
        assert_eq!(backoff(7), Duration::from_secs(1920));
        assert_eq!(backoff(8), Duration::from_secs(3600));
        assert_eq!(backoff(50), Duration::from_secs(3600));
    }
}
