//! Storage: one `Store` over SQLite (the embedded default) or PostgreSQL, through sqlx's
//! `Any` driver so that every query is written once and the same test suite runs on both.
//!
//! Dialect differences, all of them:
//! - identity columns: `integer primary key autoincrement` (SQLite) vs `bigint generated
//!   always as identity` (PostgreSQL), and integers are `bigint` on PostgreSQL so that both
//!   decode as `i64` through `Any`; the two migration folders differ only in that.
//! - booleans are stored as integers 0/1 on both.
//! - times are RFC 3339 text in UTC with microseconds, fixed width
//!   (`2026-11-29T21:57:40.123456Z`), on both, so text order is time order.
//! - a transaction that writes starts with `BEGIN IMMEDIATE` on SQLite (it takes the write
//!   lock at once, so it never fails half-way on a lock another writer took after its reads).
//!
//! Placeholders are `$1, $2...` on both (SQLite accepts them).

mod backup;
mod catalogue;
mod certificates;
mod jobs;
mod moves;
mod occasions;
mod people;
mod plan;
mod portfolio;
mod quality;
mod records;
mod second_factor;
mod staff;
mod types;
mod work;

pub use backup::*;
pub use catalogue::*;
pub use certificates::*;
pub use jobs::*;
pub use moves::*;
pub use occasions::*;
pub use people::*;
pub use plan::*;
pub use portfolio::*;
pub use quality::*;
pub use records::*;
pub use second_factor::*;
pub use staff::*;
pub use types::*;
pub use work::*;

use sqlx::{AnyPool, any::AnyPoolOptions};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// Whether the database refused a row because a unique constraint already holds its key:
/// recognised by the database's own error code (SQLite's constraint code, PostgreSQL's
/// 23505), never by the words of the message.
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        if is_unique_violation(&e) {
            // Two writers raced for the same key: the later one is told it exists.
            StoreError::Conflict(
                "that already exists (someone else added it a moment ago): reload and check".into(),
            )
        } else {
            StoreError::Database(e)
        }
    }
}

/// The database. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// The audit entry every write through this handle commits with (see [`Store::audited`]).
    audit: Option<std::sync::Arc<AuditDraft>>,
    /// The portfolio stamp a write was decided on (see [`Store::expecting`]).
    expect_stamp: Option<i64>,
    /// Jobs every write through this handle queues in its own transaction (see
    /// [`Store::queueing`]).
    jobs: Option<std::sync::Arc<Vec<JobDraft>>>,
    /// Wakes this process's workers when a write here queues a job.
    job_signal: std::sync::Arc<tokio::sync::Notify>,
    /// A task whose result every write through this handle records in its own transaction
    /// (see [`Store::recording_task`]).
    task_result: Option<std::sync::Arc<TaskMark>>,
}

/// A task's write: the job, the worker that holds it, and the result to record with it.
#[derive(Debug, Clone)]
pub struct TaskMark {
    pub job_id: i64,
    pub worker: String,
    pub result: serde_json::Value,
}

/// An audit entry to seal into the chain inside a write's own transaction: the change and
/// its entry commit together or not at all.
#[derive(Debug, Clone)]
pub struct AuditDraft {
    /// Who: `person:ID`, `operator:ID` or `system:NAME`; never a name or an email.
    pub actor: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub subject: String,
    pub centre_id: Option<i64>,
    pub learner_id: Option<i64>,
    /// Details; ids the write makes (a new evidence item's) are added under their names.
    pub detail: serde_json::Value,
}

/// An open write transaction.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

struct Migration {
    version: i64,
    name: &'static str,
    sqlite: &'static str,
    postgres: &'static str,
}

/// Every schema change, in order. Never edit one that has shipped: add a new one.
const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "catalogue",
        sqlite: include_str!("../../migrations/sqlite/0001_catalogue.sql"),
        postgres: include_str!("../../migrations/postgres/0001_catalogue.sql"),
    },
    Migration {
        version: 2,
        name: "people",
        sqlite: include_str!("../../migrations/sqlite/0002_people.sql"),
        postgres: include_str!("../../migrations/postgres/0002_people.sql"),
    },
    Migration {
        version: 3,
        name: "competence",
        sqlite: include_str!("../../migrations/sqlite/0003_competence.sql"),
        postgres: include_str!("../../migrations/postgres/0003_competence.sql"),
    },
    Migration {
        version: 4,
        name: "portfolio",
        sqlite: include_str!("../../migrations/sqlite/0004_portfolio.sql"),
        postgres: include_str!("../../migrations/postgres/0004_portfolio.sql"),
    },
    Migration {
        version: 5,
        name: "trust",
        sqlite: include_str!("../../migrations/sqlite/0005_trust.sql"),
        postgres: include_str!("../../migrations/postgres/0005_trust.sql"),
    },
    Migration {
        version: 6,
        name: "second_factor",
        sqlite: include_str!("../../migrations/sqlite/0006_second_factor.sql"),
        postgres: include_str!("../../migrations/postgres/0006_second_factor.sql"),
    },
    Migration {
        version: 7,
        name: "quality",
        sqlite: include_str!("../../migrations/sqlite/0007_quality.sql"),
        postgres: include_str!("../../migrations/postgres/0007_quality.sql"),
    },
    Migration {
        version: 8,
        name: "jobs",
        sqlite: include_str!("../../migrations/sqlite/0008_jobs.sql"),
        postgres: include_str!("../../migrations/postgres/0008_jobs.sql"),
    },
    Migration {
        version: 9,
        name: "learning_plan",
        sqlite: include_str!("../../migrations/sqlite/0009_learning_plan.sql"),
        postgres: include_str!("../../migrations/postgres/0009_learning_plan.sql"),
    },
    Migration {
        version: 10,
        name: "certificates",
        sqlite: include_str!("../../migrations/sqlite/0010_certificates.sql"),
        postgres: include_str!("../../migrations/postgres/0010_certificates.sql"),
    },
    Migration {
        version: 11,
        name: "authentication",
        sqlite: include_str!("../../migrations/sqlite/0011_authentication.sql"),
        postgres: include_str!("../../migrations/postgres/0011_authentication.sql"),
    },
    Migration {
        version: 12,
        name: "evidence_occasions",
        sqlite: include_str!("../../migrations/sqlite/0012_evidence_occasions.sql"),
        postgres: include_str!("../../migrations/postgres/0012_evidence_occasions.sql"),
    },
    Migration {
        version: 13,
        name: "version_moves",
        sqlite: include_str!("../../migrations/sqlite/0013_version_moves.sql"),
        postgres: include_str!("../../migrations/postgres/0013_version_moves.sql"),
    },
    Migration {
        version: 14,
        name: "records",
        sqlite: include_str!("../../migrations/sqlite/0014_records.sql"),
        postgres: include_str!("../../migrations/postgres/0014_records.sql"),
    },
    Migration {
        version: 15,
        name: "retention",
        sqlite: include_str!("../../migrations/sqlite/0015_retention.sql"),
        postgres: include_str!("../../migrations/postgres/0015_retention.sql"),
    },
    Migration {
        version: 16,
        name: "tasks",
        sqlite: include_str!("../../migrations/sqlite/0016_tasks.sql"),
        postgres: include_str!("../../migrations/postgres/0016_tasks.sql"),
    },
    Migration {
        version: 17,
        name: "scale_indexes",
        sqlite: include_str!("../../migrations/sqlite/0017_scale_indexes.sql"),
        postgres: include_str!("../../migrations/postgres/0017_scale_indexes.sql"),
    },
    Migration {
        version: 18,
        name: "unit_work",
        sqlite: include_str!("../../migrations/sqlite/0018_unit_work.sql"),
        postgres: include_str!("../../migrations/postgres/0018_unit_work.sql"),
    },
    Migration {
        version: 19,
        name: "register_search",
        sqlite: include_str!("../../migrations/sqlite/0019_register_search.sql"),
        postgres: include_str!("../../migrations/postgres/0019_register_search.sql"),
    },
    Migration {
        version: 20,
        name: "register_newest",
        sqlite: include_str!("../../migrations/sqlite/0020_register_newest.sql"),
        postgres: include_str!("../../migrations/postgres/0020_register_newest.sql"),
    },
];

/// The key of the PostgreSQL advisory lock [`Store::migrate_to`] holds: "credence" in ASCII,
/// fixed so that every Credence process on a database asks for the same lock.
pub const MIGRATION_LOCK: i64 = 0x6372_6564_656e_6365;

/// Run one migration's SQL and record it, on `conn` (inside a transaction).
async fn apply_migration(
    conn: &mut sqlx::AnyConnection,
    m: &Migration,
    sql: &'static str,
) -> StoreResult<()> {
    sqlx::raw_sql(sql).execute(&mut *conn).await?;
    sqlx::query(
        "insert into schema_migration (version, name, applied_at, checksum) values ($1, $2, $3, $4)",
    )
    .bind(m.version)
    .bind(m.name)
    .bind(now())
    .bind(checksum(sql))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The schema version this Credence migrates to (its last migration).
pub const LATEST_SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

/// A migration file's checksum, as recorded when it was applied.
fn checksum(sql: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(sql.as_bytes()))
}

/// Connections each server keeps to the database, from `CREDENCE_DB_POOL` (default: 8 on
/// SQLite, 16 on PostgreSQL).
fn pool_size() -> Option<u32> {
    std::env::var("CREDENCE_DB_POOL")
        .ok()
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
}

impl Store {
    /// Connect to `sqlite://...` or `postgres://...`.
    pub async fn connect(url: &str) -> StoreResult<Store> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::Conflict(format!(
                "unsupported database URL '{}': use sqlite://PATH or postgres://...",
                redact(url)
            )));
        };
        let mut options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        if backend == Backend::Sqlite {
            options = options
                .max_connections(pool_size().unwrap_or(8))
                // A SQLite connection is a file open in this process: nothing between can
                // drop it, and the ping sqlx sends before lending one out cost two more
                // thread hand-overs per statement (a tenth of the assessor's home page).
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        use sqlx::Executor;
                        conn.execute("pragma journal_mode = wal; pragma busy_timeout = 5000; pragma foreign_keys = on; pragma synchronous = normal;")
                            .await?;
                        Ok(())
                    })
                });
        } else {
            options = options.max_connections(pool_size().unwrap_or(16));
        }
        let pool = options.connect(url).await?;
        Ok(Store {
            pool,
            backend,
            audit: None,
            expect_stamp: None,
            jobs: None,
            job_signal: std::sync::Arc::default(),
            task_result: None,
        })
    }

    /// This store, with every write through it committing `entry` to the audit log in the
    /// write's own transaction.
    pub fn audited(&self, entry: AuditDraft) -> Store {
        Store {
            audit: Some(std::sync::Arc::new(entry)),
            ..self.clone()
        }
    }

    /// This store, with every portfolio write through it refused (a conflict) unless the
    /// learner's portfolio stamp is still `stamp`, the one the write was decided on: two
    /// people acting at once cannot both succeed against a view one of them changed.
    pub fn expecting(&self, stamp: i64) -> Store {
        Store {
            expect_stamp: Some(stamp),
            ..self.clone()
        }
    }

    /// Start a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub async fn begin(&self) -> StoreResult<Tx> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Commit a write, sealing this handle's audit entry into the chain first, with `ids`
    /// (what the write created) added to its detail.
    pub async fn commit(&self, mut tx: Tx, ids: &[(&str, serde_json::Value)]) -> StoreResult<()> {
        if let Some(entry) = &self.audit {
            let mut entry = (**entry).clone();
            if let serde_json::Value::Object(m) = &mut entry.detail {
                for (k, v) in ids {
                    m.insert((*k).to_string(), v.clone());
                }
            }
            // A write that creates its subject (a centre) files the entry under it.
            for (k, v) in ids {
                if *k == "centre" && entry.centre_id.is_none() {
                    entry.centre_id = v.as_i64();
                    entry.subject = format!("centre {}", v);
                }
            }
            seal_audit(&mut tx, &entry).await?;
        }
        if let Some(task) = &self.task_result {
            let mut result = task.result.clone();
            if let serde_json::Value::Object(m) = &mut result {
                for (k, v) in ids {
                    m.insert((*k).to_string(), v.clone());
                }
            }
            if !record_task_result(&mut tx, task.job_id, &task.worker, &result).await? {
                // Another worker took the task over (this one's lease ran out): this write
                // rolls back, so the work is done once, by the worker that holds it.
                return Err(StoreError::Conflict(format!(
                    "task {} is no longer held by worker {}",
                    task.job_id, task.worker
                )));
            }
        }
        let queued = match &self.jobs {
            Some(jobs) => {
                for job in jobs.iter() {
                    insert_job(&mut tx, job).await?;
                }
                !jobs.is_empty()
            }
            None => false,
        };
        tx.commit().await?;
        if queued {
            self.job_signal.notify_waiters();
            self.job_signal.notify_one();
        }
        Ok(())
    }

    /// This store, with every write through it also queueing `jobs` in the write's own
    /// transaction (the outbox: the jobs exist if and only if the change committed).
    pub fn queueing(&self, jobs: Vec<JobDraft>) -> Store {
        let mut all = self.jobs.as_deref().cloned().unwrap_or_default();
        all.extend(jobs);
        Store {
            jobs: Some(std::sync::Arc::new(all)),
            ..self.clone()
        }
    }

    /// This store, with every write through it also recording `task.result` as the task's
    /// result in the write's own transaction, if `task.worker` still holds the task (the
    /// write rolls back if not). A retried task finds its result and does not write again.
    pub fn recording_task(&self, task: TaskMark) -> Store {
        Store {
            task_result: Some(std::sync::Arc::new(task)),
            ..self.clone()
        }
    }

    /// Wait until a write through this process queues a job (or `timeout` passes).
    pub async fn job_queued(&self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.job_signal.notified()).await;
    }

    /// Write one audit entry on its own (an act that changes nothing else, such as the
    /// operator's checkpoint).
    pub async fn append_audit(&self, entry: &AuditDraft) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        seal_audit(&mut tx, entry).await?;
        tx.commit().await?;
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Apply every pending migration, each in its own transaction, after checking that no
    /// applied migration's file was edited since. Returns how many ran.
    pub async fn migrate(&self) -> StoreResult<usize> {
        self.migrate_to(i64::MAX).await
    }

    /// Apply the pending migrations up to and including `last` (tests make a database as an
    /// older Credence left it, then upgrade it).
    ///
    /// Runs under a database-wide lock, so that servers starting at once never race: the
    /// first applies what is pending, the others wait, then find nothing left to do. On
    /// PostgreSQL that is a session advisory lock ([`MIGRATION_LOCK`]) held on one dedicated
    /// connection for the whole migration, each migration in its own transaction; on SQLite
    /// it is one `BEGIN IMMEDIATE` transaction (the database's write lock) around every
    /// migration, with a long busy timeout so a second process waits instead of failing.
    /// The connection is closed afterwards rather than returned to the pool, so the lock
    /// can never outlive the call, even when it is cancelled.
    pub async fn migrate_to(&self, last: i64) -> StoreResult<usize> {
        let mut conn = self.pool.acquire().await?;
        conn.close_on_drop();
        match self.backend {
            Backend::Postgres => {
                // `pg_advisory_lock` returns `void`, which the `Any` driver cannot decode:
                // counted instead.
                sqlx::query("select count(*) from (select pg_advisory_lock($1)) as l")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *conn)
                    .await?;
                let result = self.migrate_locked(&mut conn, last, true).await;
                // Released explicitly; closing the connection (above) would release it too.
                let unlocked = sqlx::query("select pg_advisory_unlock($1)")
                    .bind(MIGRATION_LOCK)
                    .execute(&mut *conn)
                    .await;
                let ran = result?;
                unlocked?;
                Ok(ran)
            }
            Backend::Sqlite => {
                // Wait for another process's migration (up to ten minutes) rather than fail
                // after the pool's usual five seconds.
                sqlx::raw_sql("pragma busy_timeout = 600000")
                    .execute(&mut *conn)
                    .await?;
                sqlx::raw_sql("begin immediate").execute(&mut *conn).await?;
                match self.migrate_locked(&mut conn, last, false).await {
                    Ok(ran) => {
                        sqlx::raw_sql("commit").execute(&mut *conn).await?;
                        Ok(ran)
                    }
                    Err(e) => {
                        let _ = sqlx::raw_sql("rollback").execute(&mut *conn).await;
                        Err(e)
                    }
                }
            }
        }
    }

    /// The migration itself, on `conn`, which holds the migration lock. `own_transactions`:
    /// each migration in its own transaction (PostgreSQL); otherwise `conn` is already in
    /// the one transaction that holds the lock (SQLite).
    async fn migrate_locked(
        &self,
        conn: &mut sqlx::AnyConnection,
        last: i64,
        own_transactions: bool,
    ) -> StoreResult<usize> {
        use sqlx::Connection;
        sqlx::raw_sql(
            "create table if not exists schema_migration (version bigint primary key, name text not null, applied_at text not null, checksum text)",
        )
        .execute(&mut *conn)
        .await?;
        // Databases made before checksums were kept get the column (and, below, the current
        // files' checksums, trusted as first seen). Asked of the catalogue rather than by a
        // failing query, which would abort PostgreSQL's transaction.
        let has_checksum: i64 = match self.backend {
            Backend::Sqlite => {
                sqlx::query_scalar(
                    "select count(*) from pragma_table_info('schema_migration') where name = 'checksum'",
                )
                .fetch_one(&mut *conn)
                .await?
            }
            Backend::Postgres => {
                sqlx::query_scalar(
                    "select count(*) from information_schema.columns where table_schema = current_schema() and table_name = 'schema_migration' and column_name = 'checksum'",
                )
                .fetch_one(&mut *conn)
                .await?
            }
        };
        if has_checksum == 0 {
            sqlx::raw_sql("alter table schema_migration add column checksum text")
                .execute(&mut *conn)
                .await?;
        }
        let applied: Vec<(i64, Option<String>)> =
            sqlx::query_as("select version, checksum from schema_migration")
                .fetch_all(&mut *conn)
                .await?;
        let sql_of = |m: &Migration| match self.backend {
            Backend::Sqlite => m.sqlite,
            Backend::Postgres => m.postgres,
        };
        for (version, sum) in &applied {
            let Some(m) = MIGRATIONS.iter().find(|m| m.version == *version) else {
                return Err(StoreError::Corrupt(format!(
                    "the database has migration {version}, which this version of Credence does not know: run the newer Credence that made it"
                )));
            };
            match sum {
                Some(sum) if *sum != checksum(sql_of(m)) => {
                    return Err(StoreError::Corrupt(format!(
                        "migration {:04}_{} was edited after it was applied to this database: restore the file as it shipped, and put the change in a new migration",
                        m.version, m.name
                    )));
                }
                Some(_) => {}
                None => {
                    sqlx::query("update schema_migration set checksum = $1 where version = $2")
                        .bind(checksum(sql_of(m)))
                        .bind(m.version)
                        .execute(&mut *conn)
                        .await?;
                }
            }
        }
        let mut ran = 0;
        for m in MIGRATIONS.iter().filter(|m| m.version <= last) {
            if applied.iter().any(|(v, _)| *v == m.version) {
                continue;
            }
            let sql = sql_of(m);
            if own_transactions {
                let mut tx = conn.begin().await?;
                apply_migration(&mut tx, m, sql).await?;
                tx.commit().await?;
            } else {
                apply_migration(conn, m, sql).await?;
            }
            ran += 1;
        }
        Ok(ran)
    }

    /// The migrations this Credence knows that the database has not applied (empty when the
    /// schema is current), by version and name: what `/readyz` reports.
    pub async fn pending_migrations(&self) -> StoreResult<Vec<String>> {
        let applied: Vec<i64> = match sqlx::query_scalar("select version from schema_migration")
            .fetch_all(&self.pool)
            .await
        {
            Ok(v) => v,
            // No table at all: nothing was ever applied.
            Err(_) if self.ping().await.is_ok() => Vec::new(),
            Err(e) => return Err(e.into()),
        };
        Ok(MIGRATIONS
            .iter()
            .filter(|m| !applied.contains(&m.version))
            .map(|m| format!("{:04}_{}", m.version, m.name))
            .collect())
    }

    /// Is the database answering?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The current time, RFC 3339 UTC with microseconds, fixed width. The one place the store
/// reads the clock.
/// A `like` pattern that finds `words` anywhere in a text, in lower case, with `%`, `_` and
/// the backslash escaped (they are characters, not wildcards: the backslash is the escape,
/// PostgreSQL's default and named on SQLite). None for blank words.
pub(crate) fn contains_pattern(words: &str) -> Option<String> {
    let t: String = words.chars().filter(|c| !c.is_control()).collect();
    let t = t.trim().to_lowercase();
    (!t.is_empty()).then(|| {
        let escaped = t
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_");
        format!("%{escaped}%")
    })
}

pub fn now() -> String {
    timestamp(chrono::Utc::now())
}

/// A time as the store keeps it: `2026-11-29T21:57:40.123456Z`.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

/// Seal `entry` onto the chain inside `tx`: lock the head (held until `tx` ends, so appends
/// are in one order and a rolled-back write leaves no entry), link, hash (encoding version
/// 2), insert, move the head.
pub(super) async fn seal_audit(tx: &mut Tx, entry: &AuditDraft) -> StoreResult<()> {
    use credence_domain::people::audit;
    sqlx::query("update audit_head set appends = appends + 1 where id = 1")
        .execute(&mut **tx)
        .await?;
    let (seq, prev): (i64, String) =
        sqlx::query_as("select seq, hash from audit_head where id = 1")
            .fetch_one(&mut **tx)
            .await?;
    let seq = seq + 1;
    let record = audit::seal_at(
        u64::try_from(seq).unwrap_or(0),
        prev,
        audit::NewAuditEntry {
            at: now(),
            actor: entry.actor.clone(),
            address: entry.address.clone(),
            action: entry.action.clone(),
            subject: entry.subject.clone(),
            detail: audit::canonical_json(&entry.detail),
            centre_id: entry.centre_id,
            learner_id: entry.learner_id,
        },
    );
    sqlx::query("insert into audit_log (seq, at, actor, address, action, subject, centre_id, learner_id, detail, prev_hash, hash, hash_version) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)")
        .bind(seq)
        .bind(&record.at)
        .bind(record.actor.as_deref())
        .bind(record.address.as_deref())
        .bind(&record.action)
        .bind(&record.subject)
        .bind(record.centre_id)
        .bind(record.learner_id)
        .bind(&record.detail)
        .bind(&record.prev_hash)
        .bind(&record.hash)
        .bind(i64::from(record.version))
        .execute(&mut **tx)
        .await?;
    sqlx::query("update audit_head set seq = $1, hash = $2 where id = 1")
        .bind(seq)
        .bind(&record.hash)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A database URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            redact("postgres://credence:s3cret@db:5432/credence"),
            "postgres://credence:***@db:5432/credence"
        );
        assert_eq!(
            redact("sqlite://data/credence.db"),
            "sqlite://data/credence.db"
        );
    }
}
