//! Learning plans: the units each registration's learner takes (migration 0009).

use super::{Store, StoreResult};

/// A registration's chosen plan.
#[derive(Debug, Clone)]
pub struct LearningPlanRow {
    pub registration_id: i64,
    pub chosen_by: Option<i64>,
    pub chosen_by_name: Option<String>,
    pub updated_at: String,
    /// Unit keys, in key order.
    pub units: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct PlanHead {
    registration_id: i64,
    chosen_by: Option<i64>,
    chosen_by_name: Option<String>,
    updated_at: String,
}

impl Store {
    /// Every chosen plan of the learner's registrations.
    pub async fn plans_of_learner(&self, learner_id: i64) -> StoreResult<Vec<LearningPlanRow>> {
        let heads: Vec<PlanHead> = sqlx::query_as(
            "select lp.registration_id, lp.chosen_by, p.display_name as chosen_by_name, lp.updated_at from learning_plan lp left join person p on p.person_id = lp.chosen_by where lp.learner_id = $1 order by lp.registration_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?;
        let units: Vec<(i64, String)> = sqlx::query_as(
            "select u.registration_id, u.unit_key from learning_plan_unit u join learning_plan lp on lp.registration_id = u.registration_id where lp.learner_id = $1 order by u.registration_id, u.unit_key",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(heads
            .into_iter()
            .map(|h| LearningPlanRow {
                units: units
                    .iter()
                    .filter(|(r, _)| *r == h.registration_id)
                    .map(|(_, k)| k.clone())
                    .collect(),
                registration_id: h.registration_id,
                chosen_by: h.chosen_by,
                chosen_by_name: h.chosen_by_name,
                updated_at: h.updated_at,
            })
            .collect())
    }

    /// Choose a registration's units (replacing any chosen before), or with no units take the
    /// chosen plan away (the planner's proposal is shown again). Bumps the learner's stamp.
    pub async fn set_learning_plan(
        &self,
        learner_id: i64,
        registration_id: i64,
        units: &[String],
        by: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        self.write_learning_plan(&mut tx, learner_id, registration_id, units, by)
            .await?;
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// The plan's rows, inside a transaction that also does something else (registration).
    pub(super) async fn write_learning_plan(
        &self,
        tx: &mut sqlx::AnyConnection,
        learner_id: i64,
        registration_id: i64,
        units: &[String],
        by: Option<i64>,
    ) -> StoreResult<()> {
        sqlx::query("delete from learning_plan_unit where registration_id = $1")
            .bind(registration_id)
            .execute(&mut *tx)
            .await?;
        if units.is_empty() {
            sqlx::query("delete from learning_plan where registration_id = $1")
                .bind(registration_id)
                .execute(&mut *tx)
                .await?;
            return Ok(());
        }
        let now = super::now();
        sqlx::query("insert into learning_plan (registration_id, learner_id, chosen_by, created_at, updated_at) values ($1, $2, $3, $4, $5) on conflict (registration_id) do update set chosen_by = excluded.chosen_by, updated_at = excluded.updated_at")
            .bind(registration_id)
            .bind(learner_id)
            .bind(by)
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        for u in units {
            sqlx::query("insert into learning_plan_unit (registration_id, unit_key) values ($1, $2) on conflict do nothing")
                .bind(registration_id)
                .bind(u)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
}

/// A reply on a criterion's feedback.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyRow {
    pub criterion_reply_id: i64,
    pub unit_key: String,
    pub criterion: String,
    pub person_id: i64,
    pub person_name: String,
    pub body: String,
    pub at: String,
    pub centre_id: Option<i64>,
}

impl Store {
    /// Every reply on the learner's criteria, oldest first.
    pub async fn replies_of_learner(&self, learner_id: i64) -> StoreResult<Vec<ReplyRow>> {
        Ok(sqlx::query_as(
            "select r.criterion_reply_id, r.unit_key, r.criterion, r.person_id, p.display_name as person_name, r.body, r.at, r.centre_id from criterion_reply r join person p on p.person_id = r.person_id where r.learner_id = $1 order by r.criterion_reply_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Add a reply to a criterion's thread. Bumps the learner's stamp.
    pub async fn insert_reply(
        &self,
        learner_id: i64,
        unit_key: &str,
        criterion: &str,
        person_id: i64,
        body: &str,
        centre_id: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into criterion_reply (learner_id, unit_key, criterion, person_id, body, at, centre_id) values ($1, $2, $3, $4, $5, $6, $7) returning criterion_reply_id")
            .bind(learner_id)
            .bind(unit_key)
            .bind(criterion)
            .bind(person_id)
            .bind(body)
            .bind(super::now())
            .bind(centre_id)
            .fetch_one(&mut *tx)
            .await?;
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[("reply", id.into())]).await?;
        Ok(id)
    }
}
