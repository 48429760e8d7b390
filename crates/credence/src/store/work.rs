//! Reads for what needs people's attention across a centre.

use super::*;

/// A registration at a centre with its latest activity.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActivityRow {
    pub learner_id: i64,
    pub given_name: String,
    pub family_name: String,
    pub qan: String,
    pub registered_at: String,
    pub evidence_at: Option<String>,
    pub judged_at: Option<String>,
    pub signed_at: Option<String>,
    pub assessors: i64,
}

impl Store {
    /// Every current registration at a centre, with the learner's latest evidence, decision
    /// and signature times and how many assessors are assigned.
    pub async fn centre_activity(&self, centre_id: i64) -> StoreResult<Vec<ActivityRow>> {
        Ok(sqlx::query_as(
            "select r.learner_id, l.given_name, l.family_name, r.qan, r.registered_at, \
             (select max(e.added_at) from evidence e where e.learner_id = r.learner_id) as evidence_at, \
             (select max(j.at) from judgement j where j.learner_id = r.learner_id) as judged_at, \
             (select max(s.at) from signature s where s.learner_id = r.learner_id) as signed_at, \
             (select count(*) from assignment a where a.registration_id = r.registration_id and a.role = 'assessor') as assessors \
             from registration r join learner l on l.learner_id = r.learner_id \
             where r.centre_id = $1 and r.status = 'registered' order by l.family_name, l.given_name",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl Store {
    /// People who sign in as this learner (enabled accounts).
    pub async fn learner_people(&self, learner_id: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "select distinct g.person_id from role_grant g join person p on p.person_id = g.person_id where g.role = 'learner' and g.learner_id = $1 and p.disabled = 0",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    /// Assessors assigned to the learner's current registrations.
    pub async fn learner_assessors(&self, learner_id: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "select distinct a.person_id from assignment a join registration r on r.registration_id = a.registration_id where r.learner_id = $1 and a.role = 'assessor' and r.status in ('registered', 'on_break')",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }
}
