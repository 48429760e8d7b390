//! Registrations moved to a newer version of their specification (issue 14, item 4).

use super::{AuditDraft, Store, StoreError, StoreResult, now, seal_audit};

/// One move of a registration from one catalogue version to another.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MoveRow {
    pub registration_move_id: i64,
    pub registration_id: i64,
    pub learner_id: i64,
    pub from_version_id: i64,
    pub to_version_id: i64,
    /// JSON array of `[unit_key, number]`: the judged items whose words changed or went.
    pub reassess: String,
    pub moved_by: String,
    pub moved_at: String,
}

/// A move to make, with its audit entry.
#[derive(Debug, Clone)]
pub struct NewMove {
    pub registration_id: i64,
    pub learner_id: i64,
    pub from_version_id: i64,
    pub to_version_id: i64,
    /// The judged items whose words changed or went, as `(unit_key, number)`.
    pub reassess: Vec<(String, String)>,
    /// Units whose sign-off is withdrawn (a criterion of them must be judged again).
    pub reopen_units: Vec<String>,
    pub moved_by: String,
    /// Sealed in the move's transaction, one per registration moved.
    pub audit: AuditDraft,
}

impl MoveRow {
    /// The judged items listed, as `(unit_key, number)`.
    pub fn reassess_items(&self) -> StoreResult<Vec<(String, String)>> {
        serde_json::from_str(&self.reassess).map_err(|e| {
            StoreError::Corrupt(format!(
                "registration move {}: {e}",
                self.registration_move_id
            ))
        })
    }
}

impl Store {
    /// Every move of the learner's registrations, oldest first.
    pub async fn moves_of_learner(&self, learner_id: i64) -> StoreResult<Vec<MoveRow>> {
        Ok(sqlx::query_as(
            "select registration_move_id, registration_id, learner_id, from_version_id, to_version_id, reassess, moved_by, moved_at from registration_move where learner_id = $1 order by registration_move_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Move registrations to newer versions, all or none, in one transaction: each
    /// registration's version changes only if it is still on `from_version_id` and still
    /// current (registered or on a break); its move is recorded; the sign-off of each unit in
    /// `reopen_units` is withdrawn; the learner's portfolio stamp moves; and each move seals
    /// its own audit entry. Returns the time of the move.
    pub async fn move_registrations(&self, moves: &[NewMove]) -> StoreResult<String> {
        let at = now();
        let mut tx = self.begin().await?;
        for m in moves {
            let done = sqlx::query(
                "update registration set catalogue_version_id = $1, updated_at = $2 where registration_id = $3 and catalogue_version_id = $4 and status in ('registered', 'on_break')",
            )
            .bind(m.to_version_id)
            .bind(&at)
            .bind(m.registration_id)
            .bind(m.from_version_id)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::Conflict(format!(
                    "registration {} changed a moment ago (moved, transferred or withdrawn): nothing was moved; reload and check",
                    m.registration_id
                )));
            }
            let reassess = serde_json::to_string(&m.reassess)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            sqlx::query(
                "insert into registration_move (registration_id, learner_id, from_version_id, to_version_id, reassess, moved_by, moved_at, created_at) values ($1, $2, $3, $4, $5, $6, $7, $7)",
            )
            .bind(m.registration_id)
            .bind(m.learner_id)
            .bind(m.from_version_id)
            .bind(m.to_version_id)
            .bind(&reassess)
            .bind(&m.moved_by)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
            for unit in &m.reopen_units {
                sqlx::query("update signature set withdrawn_at = $1, withdrawn_reason = $2 where learner_id = $3 and unit_key = $4 and withdrawn_at is null")
                    .bind(&at)
                    .bind(format!(
                        "moved to catalogue version {}: criteria whose words changed are judged again",
                        m.to_version_id
                    ))
                    .bind(m.learner_id)
                    .bind(unit)
                    .execute(&mut *tx)
                    .await?;
            }
            self.bump(&mut tx, m.learner_id).await?;
            let mut entry = m.audit.clone();
            if let serde_json::Value::Object(d) = &mut entry.detail {
                d.insert("moved_at".into(), serde_json::json!(at));
            }
            seal_audit(&mut tx, &entry).await?;
        }
        tx.commit().await?;
        Ok(at)
    }
}
