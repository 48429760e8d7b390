//! Evidence over time: each centre's setting of how many occasions a unit's evidence must
//! come from (issue 17, item 2; migration 0012).

use super::{Store, StoreResult, now};

/// A centre's setting for one unit, with who set it (their name) and when.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OccasionsSettingRow {
    pub centre_id: i64,
    pub unit_key: String,
    pub occasions: i64,
    pub reason: String,
    pub set_by: Option<i64>,
    /// The name of who set it; `None` when the operator's command line did, with no person.
    pub set_by_name: Option<String>,
    /// When it was last set.
    pub updated_at: String,
}

impl Store {
    /// Record the centre's number of occasions for a unit (replacing any earlier one), and
    /// move the portfolio stamp of every learner registered at the centre, all in one
    /// transaction with this handle's audit entry: their criteria's statuses change with it,
    /// and every server's cached portfolios are keyed by the stamp.
    pub async fn set_evidence_occasions(
        &self,
        centre_id: i64,
        unit_key: &str,
        occasions: u32,
        reason: &str,
        by: Option<i64>,
    ) -> StoreResult<()> {
        let at = now();
        let mut tx = self.begin().await?;
        let created: Option<(String,)> = sqlx::query_as(
            "select created_at from centre_evidence_occasions where centre_id = $1 and unit_key = $2",
        )
        .bind(centre_id)
        .bind(unit_key)
        .fetch_optional(&mut *tx)
        .await?;
        sqlx::query("delete from centre_evidence_occasions where centre_id = $1 and unit_key = $2")
            .bind(centre_id)
            .bind(unit_key)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into centre_evidence_occasions (centre_id, unit_key, occasions, reason, set_by, created_at, updated_at) values ($1, $2, $3, $4, $5, $6, $7)")
            .bind(centre_id)
            .bind(unit_key)
            .bind(i64::from(occasions))
            .bind(reason)
            .bind(by)
            .bind(created.map(|(c,)| c).unwrap_or_else(|| at.clone()))
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        // The select has its own where clause, so SQLite reads "on conflict" as the upsert.
        sqlx::query("insert into portfolio_stamp (learner_id, version) select distinct learner_id, 1 from registration where centre_id = $1 on conflict (learner_id) do update set version = portfolio_stamp.version + 1")
            .bind(centre_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await
    }

    /// The centre's settings, by unit key.
    pub async fn evidence_occasions_at(
        &self,
        centre_id: i64,
    ) -> StoreResult<Vec<OccasionsSettingRow>> {
        Ok(sqlx::query_as(
            "select o.centre_id, o.unit_key, o.occasions, o.reason, o.set_by, p.display_name as set_by_name, o.updated_at \
             from centre_evidence_occasions o left join person p on p.person_id = o.set_by \
             where o.centre_id = $1 order by o.unit_key",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }
}
