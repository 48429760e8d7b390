//! The job queue: one table, written in the transaction of the change that causes a job (see
//! [`Store::queueing`]), claimed by workers one job at a time under a lease.

use super::*;

/// A job to queue with a write.
#[derive(Debug, Clone)]
pub struct JobDraft {
    /// What to do: `email` (see `app::jobs`).
    pub kind: String,
    pub payload: serde_json::Value,
}

/// A job as a worker or an operator sees it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct JobRow {
    pub job_id: i64,
    pub kind: String,
    #[serde(skip)]
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_after: String,
    pub last_error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
}

const JOB_COLUMNS: &str = "job_id, kind, payload, status, attempts, max_attempts, run_after, last_error, created_at, finished_at";

/// Queue `job` inside `tx`.
pub(super) async fn insert_job(tx: &mut Tx, job: &JobDraft) -> StoreResult<i64> {
    let at = now();
    let (id,): (i64,) = sqlx::query_as(
        "insert into job (kind, payload, status, run_after, created_at) values ($1, $2, 'queued', $3, $3) returning job_id",
    )
    .bind(&job.kind)
    .bind(job.payload.to_string())
    .bind(&at)
    .fetch_one(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// Queue a job on its own (a change that is only the job, such as an operator's resend).
    pub async fn queue_job(&self, job: &JobDraft) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let id = insert_job(&mut tx, job).await?;
        self.commit(tx, &[("job", serde_json::json!(id))]).await?;
        self.job_signal.notify_one();
        Ok(id)
    }

    /// Queue a scheduled job under `key` (the daily retention run: `retention:2026-11-30`),
    /// unless one with that key was ever queued: servers scheduling the same run at once
    /// queue it once. Whether this call queued it.
    pub async fn schedule_job(&self, job: &JobDraft, key: &str) -> StoreResult<bool> {
        let at = now();
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "insert into job (kind, payload, status, run_after, created_at, schedule_key) values ($1, $2, 'queued', $3, $3, $4) on conflict (schedule_key) do nothing",
        )
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(&at)
        .bind(key)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        let queued = done.rows_affected() > 0;
        if queued {
            self.job_signal.notify_one();
        }
        Ok(queued)
    }

    /// Claim the next job that is due (or whose worker's lease ran out) for `worker`, until
    /// `lease_until`. Two workers never claim the same job: PostgreSQL skips rows another
    /// transaction holds (`for update skip locked`); SQLite has one writer at a time.
    pub async fn claim_job(&self, worker: &str, lease_until: &str) -> StoreResult<Option<JobRow>> {
        let at = now();
        let lock = match self.backend {
            Backend::Postgres => " for update skip locked",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "update job set status = 'running', attempts = attempts + 1, locked_by = $1, locked_until = $2 \
             where job_id = (select job_id from job where (status = 'queued' and run_after <= $3) or (status = 'running' and locked_until < $3) \
             order by run_after, job_id limit 1{lock}) returning {JOB_COLUMNS}"
        );
        let mut tx = self.begin().await?;
        let row: Option<JobRow> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(worker)
            .bind(lease_until)
            .bind(&at)
            .fetch_optional(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Mark a claimed job done, its payload replaced by `kept` (what the record keeps once
    /// the work is done: an email's address and secret link are not kept). False if the
    /// worker no longer holds the job (its lease ran out and another took it).
    pub async fn complete_job(&self, job_id: i64, worker: &str, kept: &str) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = finish(&mut tx, job_id, worker, kept).await?;
        tx.commit().await?;
        Ok(done)
    }

    /// Record an email job's send and mark the job done, together.
    pub async fn complete_email(
        &self,
        job_id: i64,
        worker: &str,
        kept: &str,
        message_id: &str,
        transport: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "insert into email_sent (job_id, message_id, transport, sent_at) values ($1, $2, $3, $4)",
        )
        .bind(job_id)
        .bind(message_id)
        .bind(transport)
        .bind(now())
        .execute(&mut *tx)
        .await?;
        finish(&mut tx, job_id, worker, kept).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether an email job's send is recorded (a retry after it must not send again).
    pub async fn email_sent(&self, job_id: i64) -> StoreResult<Option<(String, String)>> {
        Ok(
            sqlx::query_as("select message_id, transport from email_sent where job_id = $1")
                .bind(job_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// A claimed job failed: queue it again at `retry_at`, or, with no attempts left, move it
    /// to the dead-letter list.
    pub async fn fail_job(
        &self,
        job_id: i64,
        worker: &str,
        error: &str,
        retry_at: Option<&str>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        match retry_at {
            Some(at) => {
                sqlx::query("update job set status = 'queued', run_after = $3, last_error = $4, locked_by = null, locked_until = null where job_id = $1 and locked_by = $2")
                    .bind(job_id)
                    .bind(worker)
                    .bind(at)
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
            }
            None => {
                sqlx::query("update job set status = 'dead', finished_at = $3, last_error = $4, locked_by = null, locked_until = null where job_id = $1 and locked_by = $2")
                    .bind(job_id)
                    .bind(worker)
                    .bind(now())
                    .bind(error)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Jobs by status (all when `None`), newest first.
    pub async fn jobs(&self, status: Option<&str>, limit: i64) -> StoreResult<Vec<JobRow>> {
        Ok(match status {
            Some(status) => {
                let sql = format!(
                    "select {JOB_COLUMNS} from job where status = $1 order by job_id desc limit $2"
                );
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(status)
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
            None => {
                let sql = format!("select {JOB_COLUMNS} from job order by job_id desc limit $1");
                sqlx::query_as(sqlx::AssertSqlSafe(sql))
                    .bind(limit)
                    .fetch_all(&self.pool)
                    .await?
            }
        })
    }

    pub async fn job(&self, job_id: i64) -> StoreResult<Option<JobRow>> {
        let sql = format!("select {JOB_COLUMNS} from job where job_id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// Put a dead job back on the queue with its attempts reset. False if it is not dead.
    pub async fn retry_job(&self, job_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let n = sqlx::query("update job set status = 'queued', attempts = 0, run_after = $2, finished_at = null where job_id = $1 and status = 'dead'")
            .bind(job_id)
            .bind(now())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        self.commit(tx, &[]).await?;
        if n > 0 {
            self.job_signal.notify_one();
        }
        Ok(n > 0)
    }

    /// Jobs by status with, for each status, when its oldest job was queued: the figures
    /// `/metrics` shows, in one query.
    pub async fn job_counts(&self) -> StoreResult<Vec<(String, i64, Option<String>)>> {
        Ok(sqlx::query_as(
            "select status, count(*), min(created_at) from job group by status order by status",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many jobs wait (queued or running) and when the oldest of them was queued.
    pub async fn queue_depth(&self) -> StoreResult<(i64, Option<String>)> {
        Ok(sqlx::query_as(
            "select count(*), min(created_at) from job where status in ('queued', 'running')",
        )
        .fetch_one(&self.pool)
        .await?)
    }
}

async fn finish(tx: &mut Tx, job_id: i64, worker: &str, kept: &str) -> StoreResult<bool> {
    let n = sqlx::query("update job set status = 'done', finished_at = $3, payload = $4, locked_by = null, locked_until = null where job_id = $1 and locked_by = $2")
        .bind(job_id)
        .bind(worker)
        .bind(now())
        .bind(kept)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    Ok(n > 0)
}

impl Store {
    /// Whether `person` wants emails about events (the default) and can still sign in.
    pub async fn wants_event_emails(&self, person: i64) -> StoreResult<bool> {
        let row: Option<(i64, Option<i64>)> = sqlx::query_as(
            "select p.disabled, np.email_events from person p left join notification_preference np on np.person_id = p.person_id where p.person_id = $1",
        )
        .bind(person)
        .fetch_optional(&self.pool)
        .await?;
        Ok(matches!(row, Some((0, None | Some(1)))))
    }

    /// Set whether `person` gets emails about events.
    pub async fn set_event_emails(&self, person: i64, on: bool) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from notification_preference where person_id = $1")
            .bind(person)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into notification_preference (person_id, email_events, updated_at) values ($1, $2, $3)")
            .bind(person)
            .bind(i64::from(on))
            .bind(now())
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }
}

/// A long task as the page that follows it sees it: a job with the person who asked for it
/// and its progress. `payload` is the work while it waits and its result once recorded.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TaskRow {
    pub job_id: i64,
    pub kind: String,
    pub payload: String,
    pub status: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub requested_by: Option<i64>,
    pub progress_done: i64,
    pub progress_total: i64,
    pub progress_note: Option<String>,
}

const TASK_COLUMNS: &str = "job_id, kind, payload, status, attempts, max_attempts, last_error, created_at, finished_at, requested_by, progress_done, progress_total, progress_note";

/// Record `result` as a task's result (its payload), while `worker` holds it.
pub(super) async fn record_task_result(
    tx: &mut Tx,
    job_id: i64,
    worker: &str,
    result: &serde_json::Value,
) -> StoreResult<bool> {
    let n = sqlx::query(
        "update job set payload = $3 where job_id = $1 and locked_by = $2 and status = 'running'",
    )
    .bind(job_id)
    .bind(worker)
    .bind(result.to_string())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n > 0)
}

impl Store {
    /// Queue a task `person` asked for; its page follows it from here.
    pub async fn queue_task(
        &self,
        kind: &str,
        payload: &serde_json::Value,
        person: i64,
        total: i64,
        note: &str,
    ) -> StoreResult<i64> {
        let at = now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into job (kind, payload, status, run_after, created_at, requested_by, progress_total, progress_note) values ($1, $2, 'queued', $3, $3, $4, $5, $6) returning job_id",
        )
        .bind(kind)
        .bind(payload.to_string())
        .bind(&at)
        .bind(person)
        .bind(total)
        .bind(note)
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, &[("job", serde_json::json!(id))]).await?;
        self.job_signal.notify_waiters();
        self.job_signal.notify_one();
        Ok(id)
    }

    pub async fn task(&self, job_id: i64) -> StoreResult<Option<TaskRow>> {
        let sql = format!("select {TASK_COLUMNS} from job where job_id = $1");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(job_id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The tasks `person` asked for, newest first.
    pub async fn tasks_of(&self, person: i64, limit: i64) -> StoreResult<Vec<TaskRow>> {
        let sql = format!(
            "select {TASK_COLUMNS} from job where requested_by = $1 order by job_id desc limit $2"
        );
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(person)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?)
    }

    /// How far a task has got, while `worker` holds it. False if it no longer does.
    pub async fn task_progress(
        &self,
        job_id: i64,
        worker: &str,
        done: i64,
        total: i64,
        note: &str,
    ) -> StoreResult<bool> {
        let n = sqlx::query(
            "update job set progress_done = $3, progress_total = $4, progress_note = $5 where job_id = $1 and locked_by = $2 and status = 'running'",
        )
        .bind(job_id)
        .bind(worker)
        .bind(done)
        .bind(total)
        .bind(note)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}

impl Store {
    /// The bytes of a learner's current evidence files (what their portfolio zip holds).
    pub async fn evidence_bytes_of(&self, learner: i64) -> StoreResult<i64> {
        let (n,): (Option<i64>,) =
            sqlx::query_as("select cast(sum(size) as bigint) from evidence where learner_id = $1")
                .bind(learner)
                .fetch_one(&self.pool)
                .await?;
        Ok(n.unwrap_or(0))
    }
}
