//! The database side of backup and restore: a consistent snapshot (SQLite's `VACUUM INTO`,
//! or a PostgreSQL transaction whose snapshot `pg_dump` shares), what a snapshot holds
//! (schema version, audit head, rows per table, the evidence files it names), whether a
//! database is empty, and loading a SQLite snapshot's rows into an empty database.
//!
//! PostgreSQL dumps are written and loaded by `pg_dump`/`pg_restore` (see
//! `crate::app::backup`); this module holds the transaction whose snapshot they share.

use super::{Backend, Store, StoreError, StoreResult};
use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use std::collections::BTreeMap;
use std::path::Path;

/// What a database snapshot holds, read inside the snapshot itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotContents {
    /// The last schema migration applied.
    pub schema_version: i64,
    /// Audit log entries and the last one's hash (the chain's head).
    pub audit_entries: i64,
    pub audit_hash: String,
    /// Rows in every table.
    pub tables: BTreeMap<String, i64>,
    /// Every evidence record: id, object key, size, SHA-256.
    pub evidence: Vec<(i64, String, i64, String)>,
}

/// An open PostgreSQL transaction (repeatable read, read only) whose snapshot is exported
/// under `id`, so `pg_dump --snapshot=id` sees exactly what `contents` describes. Keep it
/// until the dump has finished.
pub struct PgSnapshot {
    tx: sqlx::Transaction<'static, sqlx::Any>,
    pub id: String,
    pub contents: SnapshotContents,
}

impl PgSnapshot {
    /// End the transaction (it changed nothing).
    pub async fn release(self) -> StoreResult<()> {
        self.tx.rollback().await?;
        Ok(())
    }
}

/// Tables whose names come from the catalogue of the database itself, quoted for SQL.
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

async fn table_names(conn: &mut AnyConnection, backend: Backend) -> StoreResult<Vec<String>> {
    let sql = match backend {
        Backend::Sqlite => {
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by name"
        }
        Backend::Postgres => {
            "select tablename::text from pg_tables where schemaname = current_schema() order by tablename"
        }
    };
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut *conn).await?;
    Ok(rows.into_iter().map(|(n,)| n).collect())
}

async fn row_counts(
    conn: &mut AnyConnection,
    backend: Backend,
) -> StoreResult<BTreeMap<String, i64>> {
    let mut out = BTreeMap::new();
    for t in table_names(conn, backend).await? {
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select count(*) from {}",
            quoted(&t)
        )))
        .fetch_one(&mut *conn)
        .await?;
        out.insert(t, n);
    }
    Ok(out)
}

async fn contents(conn: &mut AnyConnection, backend: Backend) -> StoreResult<SnapshotContents> {
    let (schema_version,): (i64,) =
        sqlx::query_as("select coalesce(max(version), 0) from schema_migration")
            .fetch_one(&mut *conn)
            .await?;
    let (audit_entries, audit_hash): (i64, String) =
        sqlx::query_as("select seq, hash from audit_head where id = 1")
            .fetch_one(&mut *conn)
            .await?;
    let evidence = sqlx::query_as(
        "select evidence_id, object_key, size, sha256 from evidence order by evidence_id",
    )
    .fetch_all(&mut *conn)
    .await?;
    Ok(SnapshotContents {
        schema_version,
        audit_entries,
        audit_hash,
        tables: row_counts(conn, backend).await?,
        evidence,
    })
}

impl Store {
    /// Rows in every table of this database.
    pub async fn row_counts(&self) -> StoreResult<BTreeMap<String, i64>> {
        let mut conn = self.pool.acquire().await?;
        row_counts(&mut conn, self.backend).await
    }

    /// The last schema migration applied (0 for a database Credence never touched).
    pub async fn schema_version(&self) -> StoreResult<i64> {
        let mut conn = self.pool.acquire().await?;
        if !table_names(&mut conn, self.backend)
            .await?
            .iter()
            .any(|t| t == "schema_migration")
        {
            return Ok(0);
        }
        let (v,): (i64,) = sqlx::query_as("select coalesce(max(version), 0) from schema_migration")
            .fetch_one(&mut *conn)
            .await?;
        Ok(v)
    }

    /// `None` when the database holds no records (no tables, or only what the migrations
    /// themselves write: their own list and an empty audit head); otherwise what it holds,
    /// for a message.
    pub async fn records_held(&self) -> StoreResult<Option<String>> {
        let mut conn = self.pool.acquire().await?;
        let mut held = Vec::new();
        for (table, n) in row_counts(&mut conn, self.backend).await? {
            let made_by_migrations = match table.as_str() {
                "schema_migration" => true,
                "audit_head" => {
                    let (seq,): (i64,) =
                        sqlx::query_as("select coalesce(max(seq), 0) from audit_head")
                            .fetch_one(&mut *conn)
                            .await?;
                    seq == 0
                }
                _ => false,
            };
            if n > 0 && !made_by_migrations {
                held.push(format!("{n} {table}"));
            }
        }
        Ok((!held.is_empty()).then(|| held.join(", ")))
    }

    /// Write a consistent copy of this SQLite database to `path` (which must not exist),
    /// with `VACUUM INTO`: one read transaction, so servers keep reading and writing while
    /// it runs and the copy is the database as of one moment.
    pub async fn sqlite_snapshot_into(&self, path: &Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "a SQLite snapshot was asked of a PostgreSQL database".into(),
            ));
        }
        sqlx::query("vacuum into $1")
            .bind(path.display().to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// What a SQLite snapshot file (from [`Store::sqlite_snapshot_into`]) holds, read from
    /// the file itself without changing it.
    pub async fn sqlite_snapshot_contents(path: &Path) -> StoreResult<SnapshotContents> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&format!("sqlite://{}?mode=ro", path.display()))
            .await?;
        let got = {
            let mut conn = pool.acquire().await?;
            contents(&mut conn, Backend::Sqlite).await
        };
        pool.close().await;
        got
    }

    /// Open a read-only, repeatable-read transaction on PostgreSQL, export its snapshot for
    /// `pg_dump --snapshot`, and read what it holds.
    pub async fn pg_snapshot(&self) -> StoreResult<PgSnapshot> {
        if self.backend != Backend::Postgres {
            return Err(StoreError::Conflict(
                "a PostgreSQL snapshot was asked of a SQLite database".into(),
            ));
        }
        let mut tx = self.pool.begin().await?;
        sqlx::query("set transaction isolation level repeatable read, read only")
            .execute(&mut *tx)
            .await?;
        let (id,): (String,) = sqlx::query_as("select pg_export_snapshot()")
            .fetch_one(&mut *tx)
            .await?;
        let contents = contents(&mut tx, Backend::Postgres).await?;
        Ok(PgSnapshot { tx, id, contents })
    }

    /// Load every row of a SQLite snapshot file into this (empty, SQLite) database, already
    /// migrated to the snapshot's schema version: one transaction, so it is all there or
    /// none of it. Rows the migrations wrote (their list, the empty audit head) are replaced
    /// by the snapshot's.
    pub async fn load_sqlite_snapshot(&self, path: &Path) -> StoreResult<()> {
        if self.backend != Backend::Sqlite {
            return Err(StoreError::Conflict(
                "a SQLite backup cannot be loaded into a PostgreSQL database".into(),
            ));
        }
        let mut conn = self.pool.acquire().await?;
        sqlx::query("attach database $1 as backup")
            .bind(path.display().to_string())
            .execute(&mut *conn)
            .await?;
        let loaded = load_attached(&mut conn).await;
        // Detach whatever happened, so the pooled connection is as it was.
        let detached = sqlx::raw_sql("detach database backup")
            .execute(&mut *conn)
            .await;
        loaded?;
        detached?;
        Ok(())
    }
}

async fn load_attached(conn: &mut AnyConnection) -> StoreResult<()> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "select name from backup.sqlite_master where type = 'table' and name not like 'sqlite_%' order by name",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mine: Vec<(String,)> = sqlx::query_as(
        "select name from main.sqlite_master where type = 'table' and name not like 'sqlite_%'",
    )
    .fetch_all(&mut *conn)
    .await?;
    sqlx::raw_sql("begin immediate").execute(&mut *conn).await?;
    let result = async {
        // Rows go in table by table; foreign keys are checked once, at commit.
        sqlx::raw_sql("pragma defer_foreign_keys = on")
            .execute(&mut *conn)
            .await?;
        for (t,) in &tables {
            if !mine.iter().any(|(m,)| m == t) {
                return Err(StoreError::Corrupt(format!(
                    "the backup has a table {t} that this database does not: it was made by another version of Credence"
                )));
            }
            let columns: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select name from pragma_table_info('{}', 'backup')",
                t.replace('\'', "''")
            )))
            .fetch_all(&mut *conn)
            .await?;
            let cols = columns
                .iter()
                .map(|(c,)| quoted(c))
                .collect::<Vec<_>>()
                .join(", ");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "delete from main.{t}; insert into main.{t} ({cols}) select {cols} from backup.{t}",
                t = quoted(t)
            )))
            .execute(&mut *conn)
            .await?;
        }
        // The identity counters, so new ids continue where the backed-up instance's did.
        sqlx::raw_sql(
            "delete from main.sqlite_sequence; insert into main.sqlite_sequence (name, seq) select name, seq from backup.sqlite_sequence",
        )
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
    .await;
    match result {
        Ok(()) => {
            sqlx::raw_sql("commit").execute(&mut *conn).await?;
            Ok(())
        }
        Err(e) => {
            let _ = sqlx::raw_sql("rollback").execute(&mut *conn).await;
            Err(e)
        }
    }
}
