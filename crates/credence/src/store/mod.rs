//! Storage: one `Store` over SQLite (the embedded default) or PostgreSQL, through sqlx's
//! `Any` driver so that every query is written once and the same test suite runs on both.
//!
//! Dialect differences, all of them:
//! - identity columns: `integer primary key autoincrement` (SQLite) vs `bigint generated
//!   always as identity` (PostgreSQL), and integers are `bigint` on PostgreSQL so that both
//!   decode as `i64` through `Any`; the two migration folders differ only in that.
//! - booleans are stored as integers 0/1 on both.
//! - times are RFC 3339 text in UTC on both, so they sort and compare as text.
//!
//! Placeholders are `$1, $2...` on both (SQLite accepts them).

mod catalogue;
mod people;
mod portfolio;

pub use catalogue::*;
pub use people::*;
pub use portfolio::*;

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
    Database(#[from] sqlx::Error),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The database. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

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
];

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
                .max_connections(8)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
                        use sqlx::Executor;
                        conn.execute("pragma journal_mode = wal; pragma busy_timeout = 5000; pragma foreign_keys = on; pragma synchronous = normal;")
                            .await?;
                        Ok(())
                    })
                });
        } else {
            options = options.max_connections(16);
        }
        let pool = options.connect(url).await?;
        Ok(Store { pool, backend })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Apply every pending migration, each in its own transaction. Returns how many ran.
    pub async fn migrate(&self) -> StoreResult<usize> {
        sqlx::raw_sql(
            "create table if not exists schema_migration (version bigint primary key, name text not null, applied_at text not null)",
        )
        .execute(&self.pool)
        .await?;
        let applied: Vec<(i64,)> = sqlx::query_as("select version from schema_migration")
            .fetch_all(&self.pool)
            .await?;
        let mut ran = 0;
        for m in MIGRATIONS {
            if applied.iter().any(|(v,)| *v == m.version) {
                continue;
            }
            let sql = match self.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            let mut tx = self.pool.begin().await?;
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::query(
                "insert into schema_migration (version, name, applied_at) values ($1, $2, $3)",
            )
            .bind(m.version)
            .bind(m.name)
            .bind(now())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            ran += 1;
        }
        Ok(ran)
    }

    /// Is the database answering?
    pub async fn ping(&self) -> StoreResult<()> {
        sqlx::query("select 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The current time, RFC 3339 UTC to the second. The one place the store reads the clock.
pub fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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
