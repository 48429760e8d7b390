//! Portfolio storage: evidence records, mappings, judgements, signatures, marks, transfers.
//! Files themselves are in the evidence store; these rows name them.

use super::{Store, StoreError, StoreResult};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EvidenceRow {
    pub evidence_id: i64,
    pub learner_id: i64,
    pub centre_id: i64,
    pub title: String,
    pub evidence_date: String,
    pub kind: String,
    pub kind_other: Option<String>,
    pub witness_name: Option<String>,
    pub witness_role: Option<String>,
    pub source: String,
    pub simulation_note: Option<String>,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub object_key: String,
    pub added_by: i64,
    pub added_by_name: String,
    pub added_at: String,
    pub superseded_by: Option<i64>,
    pub supersede_reason: Option<String>,
    pub superseded_at: Option<String>,
}

const EVIDENCE_SELECT: &str = "select e.evidence_id, e.learner_id, e.centre_id, e.title, e.evidence_date, e.kind, e.kind_other, e.witness_name, e.witness_role, e.source, e.simulation_note, e.file_name, e.media_type, e.size, e.sha256, e.object_key, e.added_by, p.display_name as added_by_name, e.added_at, e.superseded_by, e.supersede_reason, e.superseded_at from evidence e join person p on p.person_id = e.added_by";

/// A new evidence record, once its file is stored.
#[derive(Debug, Clone)]
pub struct NewEvidence {
    pub learner_id: i64,
    pub centre_id: i64,
    pub title: String,
    pub evidence_date: String,
    pub kind: String,
    pub kind_other: Option<String>,
    pub witness_name: Option<String>,
    pub witness_role: Option<String>,
    pub source: String,
    pub simulation_note: Option<String>,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub object_key: String,
    pub added_by: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MappingRow {
    pub evidence_mapping_id: i64,
    pub evidence_id: i64,
    pub unit_key: String,
    pub criterion: String,
    pub location: String,
    pub mapped_by: i64,
    pub mapped_at: String,
    /// The centre it was made at (the evidence's).
    pub centre_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KsbRow {
    pub evidence_id: i64,
    pub ksb: String,
    pub centre_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct JudgementRow {
    pub judgement_id: i64,
    pub unit_key: String,
    pub criterion: String,
    #[sqlx(try_from = "String")]
    pub outcome: super::Outcome,
    pub feedback: String,
    pub rpl: i64,
    pub assessor_id: i64,
    pub assessor_name: String,
    pub at: String,
    /// The centre the decision was made at.
    pub centre_id: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SignatureRow {
    pub signature_id: i64,
    pub unit_key: String,
    #[sqlx(try_from = "String")]
    pub role: super::SignerRole,
    pub person_id: i64,
    pub person_name: String,
    pub at: String,
    pub comments: String,
    pub evidence_hash: String,
    /// The centre the declaration was signed at.
    pub centre_id: Option<i64>,
    /// Set when an IQA's referral withdrew the sign-off (the unit reopened).
    pub withdrawn_at: Option<String>,
}

/// A unit's authentication (issue 17): the learner's declaration that the work is their own,
/// or the centre's confirmation that the evidence is authentic.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthenticationRow {
    pub unit_authentication_id: i64,
    pub unit_key: String,
    /// `learner` or `centre`.
    pub role: String,
    pub person_id: i64,
    pub person_name: String,
    pub at: String,
    pub statement: String,
    pub evidence_hash: String,
    pub centre_id: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnitResultRow {
    pub unit_result_id: i64,
    pub registration_id: i64,
    pub unit_key: String,
    pub marks: String,
    pub moderator_adjustment: i64,
    pub considerations: String,
    pub result: String,
    pub grade: String,
    pub recorded_by: i64,
    pub recorded_by_name: String,
    pub recorded_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TransferRow {
    pub transfer_id: i64,
    pub learner_id: i64,
    pub from_registration_id: i64,
    pub from_centre_id: i64,
    pub from_centre_name: String,
    pub to_centre_id: i64,
    pub to_centre_name: String,
    pub qan: String,
    pub reason: String,
    pub requested_by: i64,
    pub requested_at: String,
    #[sqlx(try_from = "String")]
    pub status: super::TransferStatus,
    pub decided_by: Option<i64>,
    pub decided_at: Option<String>,
    pub decision_note: Option<String>,
    pub new_registration_id: Option<i64>,
    pub given_name: String,
    pub family_name: String,
}

const TRANSFER_SELECT: &str = "select t.transfer_id, t.learner_id, t.from_registration_id, r.centre_id as from_centre_id, fc.name as from_centre_name, t.to_centre_id, tc.name as to_centre_name, r.qan, t.reason, t.requested_by, t.requested_at, t.status, t.decided_by, t.decided_at, t.decision_note, t.new_registration_id, l.given_name, l.family_name from transfer t join registration r on r.registration_id = t.from_registration_id join centre fc on fc.centre_id = r.centre_id join centre tc on tc.centre_id = t.to_centre_id join learner l on l.learner_id = t.learner_id";

/// One decision of a batch ([`Store::insert_judgements`]).
#[derive(Debug, Clone)]
pub struct NewJudgement {
    pub criterion: String,
    /// `met` or `not_yet_met`.
    pub outcome: String,
    pub feedback: String,
    pub rpl: bool,
}

/// The learner an evidence item belongs to.
async fn learner_of_evidence(tx: &mut sqlx::AnyConnection, evidence_id: i64) -> StoreResult<i64> {
    let row: Option<(i64,)> =
        sqlx::query_as("select learner_id from evidence where evidence_id = $1")
            .bind(evidence_id)
            .fetch_optional(&mut *tx)
            .await?;
    row.map(|(l,)| l).ok_or(StoreError::NotFound)
}

/// What a write decided on a view that has since changed is told.
pub const STALE_VIEW: &str = "someone else changed this portfolio a moment ago: reload the page, check what changed, and try again";

/// Keep `unit_work` (what a sampling plan reads) up to date with a judgement recorded at `at`,
/// in the judgement's transaction: the row of this learner's unit and assessor at the centre
/// gets `at` as its latest judgement (and its first, if it is new).
pub(crate) async fn note_unit_work(
    tx: &mut sqlx::AnyConnection,
    centre_id: i64,
    learner_id: i64,
    unit_key: &str,
    assessor_id: i64,
    at: &str,
) -> StoreResult<()> {
    sqlx::query(
        "insert into unit_work (centre_id, learner_id, unit_key, assessor_id, first_at, last_at) \
         values ($1, $2, $3, $4, $5, $5) \
         on conflict (centre_id, learner_id, unit_key, assessor_id) do update set \
         first_at = case when excluded.first_at < unit_work.first_at then excluded.first_at else unit_work.first_at end, \
         last_at = case when excluded.last_at > unit_work.last_at then excluded.last_at else unit_work.last_at end",
    )
    .bind(centre_id)
    .bind(learner_id)
    .bind(unit_key)
    .bind(assessor_id)
    .bind(at)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

impl Store {
    /// Bump the learner's portfolio stamp, in the transaction of the change; with an
    /// expected stamp ([`Store::expecting`]), only if it has not moved.
    pub(super) async fn bump(
        &self,
        tx: &mut sqlx::AnyConnection,
        learner_id: i64,
    ) -> StoreResult<()> {
        let done = match self.expect_stamp {
            None => sqlx::query("insert into portfolio_stamp (learner_id, version) values ($1, 1) on conflict (learner_id) do update set version = portfolio_stamp.version + 1")
                .bind(learner_id)
                .execute(&mut *tx)
                .await?,
            Some(stamp) => sqlx::query("insert into portfolio_stamp (learner_id, version) values ($1, 1) on conflict (learner_id) do update set version = portfolio_stamp.version + 1 where portfolio_stamp.version = $2")
                .bind(learner_id)
                .bind(stamp)
                .execute(&mut *tx)
                .await?,
        };
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(STALE_VIEW.into()));
        }
        Ok(())
    }

    /// The learner's portfolio stamp: it changes with every change to their portfolio.
    pub async fn portfolio_stamp(&self, learner_id: i64) -> StoreResult<i64> {
        let row: Option<(i64,)> =
            sqlx::query_as("select version from portfolio_stamp where learner_id = $1")
                .bind(learner_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(v,)| v).unwrap_or(0))
    }

    // --- evidence -------------------------------------------------------------------------

    pub async fn insert_evidence(&self, e: &NewEvidence) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into evidence (learner_id, centre_id, title, evidence_date, kind, kind_other, witness_name, witness_role, source, simulation_note, file_name, media_type, size, sha256, object_key, added_by, added_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) returning evidence_id",
        )
        .bind(e.learner_id)
        .bind(e.centre_id)
        .bind(&e.title)
        .bind(&e.evidence_date)
        .bind(&e.kind)
        .bind(&e.kind_other)
        .bind(&e.witness_name)
        .bind(&e.witness_role)
        .bind(&e.source)
        .bind(&e.simulation_note)
        .bind(&e.file_name)
        .bind(&e.media_type)
        .bind(e.size)
        .bind(&e.sha256)
        .bind(&e.object_key)
        .bind(e.added_by)
        .bind(super::now())
        .fetch_one(&mut *tx)
        .await?;
        self.bump(&mut tx, e.learner_id).await?;
        self.commit(tx, &[("evidence", id.into())]).await?;
        Ok(id)
    }

    pub async fn evidence(&self, id: i64) -> StoreResult<Option<EvidenceRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{EVIDENCE_SELECT} where e.evidence_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every item of a learner's evidence, superseded ones too, oldest first.
    pub async fn evidence_of_learner(&self, learner_id: i64) -> StoreResult<Vec<EvidenceRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{EVIDENCE_SELECT} where e.learner_id = $1 order by e.evidence_id"
        )))
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every object key the database names (for the orphan sweep).
    pub async fn evidence_object_keys(&self) -> StoreResult<Vec<(i64, String, i64, String)>> {
        Ok(sqlx::query_as(
            "select evidence_id, object_key, size, sha256 from evidence order by evidence_id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn mappings_of_learner(&self, learner_id: i64) -> StoreResult<Vec<MappingRow>> {
        Ok(sqlx::query_as(
            "select evidence_mapping_id, evidence_id, unit_key, criterion, location, mapped_by, mapped_at, centre_id from evidence_mapping where learner_id = $1 order by evidence_mapping_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn ksbs_of_learner(&self, learner_id: i64) -> StoreResult<Vec<KsbRow>> {
        Ok(sqlx::query_as(
            "select evidence_id, ksb, centre_id from evidence_ksb where learner_id = $1 order by evidence_id, ksb",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Map evidence to a criterion; mapping it again updates the location.
    pub async fn map_evidence(
        &self,
        learner_id: i64,
        evidence_id: i64,
        unit_key: &str,
        criterion: &str,
        location: &str,
        by: i64,
    ) -> StoreResult<()> {
        self.map_evidence_many(
            learner_id,
            evidence_id,
            &[(unit_key.to_string(), criterion.to_string())],
            location,
            by,
        )
        .await
    }

    /// Map evidence to several criteria (unit key, criterion) in one transaction, all at the
    /// same location; mapping one again updates its location.
    pub async fn map_evidence_many(
        &self,
        learner_id: i64,
        evidence_id: i64,
        targets: &[(String, String)],
        location: &str,
        by: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let at = super::now();
        for (unit_key, criterion) in targets {
            let existing: Option<(i64,)> = sqlx::query_as(
                "select evidence_mapping_id from evidence_mapping where evidence_id = $1 and unit_key = $2 and criterion = $3",
            )
            .bind(evidence_id)
            .bind(unit_key)
            .bind(criterion)
            .fetch_optional(&mut *tx)
            .await?;
            match existing {
                Some((id,)) => {
                    sqlx::query("update evidence_mapping set location = $1, mapped_by = $2, mapped_at = $3 where evidence_mapping_id = $4")
                        .bind(location)
                        .bind(by)
                        .bind(&at)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                }
                None => {
                    sqlx::query("insert into evidence_mapping (evidence_id, learner_id, unit_key, criterion, location, mapped_by, mapped_at, centre_id) values ($1, $2, $3, $4, $5, $6, $7, (select centre_id from evidence where evidence_id = $1))")
                        .bind(evidence_id)
                        .bind(learner_id)
                        .bind(unit_key)
                        .bind(criterion)
                        .bind(location)
                        .bind(by)
                        .bind(&at)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    pub async fn unmap_evidence(
        &self,
        evidence_id: i64,
        unit_key: &str,
        criterion: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let learner = learner_of_evidence(&mut tx, evidence_id).await?;
        let done = sqlx::query(
            "delete from evidence_mapping where evidence_id = $1 and unit_key = $2 and criterion = $3",
        )
        .bind(evidence_id)
        .bind(unit_key)
        .bind(criterion)
        .execute(&mut *tx)
        .await?;
        self.bump(&mut tx, learner).await?;
        self.commit(tx, &[]).await?;
        Ok(done.rows_affected() > 0)
    }

    pub async fn map_ksb(
        &self,
        learner_id: i64,
        evidence_id: i64,
        ksb: &str,
        by: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let exists: Option<(i64,)> = sqlx::query_as(
            "select evidence_id from evidence_ksb where evidence_id = $1 and ksb = $2",
        )
        .bind(evidence_id)
        .bind(ksb)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            sqlx::query("insert into evidence_ksb (evidence_id, learner_id, ksb, mapped_by, mapped_at, centre_id) values ($1, $2, $3, $4, $5, (select centre_id from evidence where evidence_id = $1))")
                .bind(evidence_id)
                .bind(learner_id)
                .bind(ksb)
                .bind(by)
                .bind(super::now())
                .execute(&mut *tx)
                .await?;
        }
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// Supersede `old` by `new` (already stored): the old item is kept, marked, and its
    /// mappings and KSBs are carried over to the new one, all in one transaction.
    pub async fn supersede_evidence(&self, old: i64, new: i64, reason: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let learner = learner_of_evidence(&mut tx, old).await?;
        let done = sqlx::query("update evidence set superseded_by = $1, supersede_reason = $2, superseded_at = $3 where evidence_id = $4 and superseded_by is null")
            .bind(new)
            .bind(reason)
            .bind(super::now())
            .bind(old)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "that evidence has already been superseded: supersede its latest version".into(),
            ));
        }
        sqlx::query("insert into evidence_mapping (evidence_id, learner_id, unit_key, criterion, location, mapped_by, mapped_at, centre_id) select $1, learner_id, unit_key, criterion, location, mapped_by, mapped_at, (select centre_id from evidence where evidence_id = $1) from evidence_mapping where evidence_id = $2")
            .bind(new)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into evidence_ksb (evidence_id, learner_id, ksb, mapped_by, mapped_at, centre_id) select $1, learner_id, ksb, mapped_by, mapped_at, (select centre_id from evidence where evidence_id = $1) from evidence_ksb where evidence_id = $2")
            .bind(new)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        self.bump(&mut tx, learner).await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// Delete an item with its mappings (only allowed while no signed-off unit uses it; the
    /// caller checks). Returns its object key, to delete from the store after.
    pub async fn delete_evidence(&self, id: i64) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        let key: Option<(String,)> =
            sqlx::query_as("select object_key from evidence where evidence_id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let (key,) = key.ok_or(StoreError::NotFound)?;
        let learner = learner_of_evidence(&mut tx, id).await?;
        for sql in [
            "delete from evidence_mapping where evidence_id = $1",
            "delete from evidence_ksb where evidence_id = $1",
            "delete from evidence where evidence_id = $1",
        ] {
            sqlx::query(sql).bind(id).execute(&mut *tx).await?;
        }
        self.bump(&mut tx, learner).await?;
        self.commit(tx, &[]).await?;
        Ok(key)
    }

    // --- judgements and signatures ----------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_judgement(
        &self,
        learner_id: i64,
        unit_key: &str,
        criterion: &str,
        outcome: &str,
        feedback: &str,
        rpl: bool,
        assessor_id: i64,
        centre_id: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let at = super::now();
        let (id,): (i64,) = sqlx::query_as("insert into judgement (learner_id, unit_key, criterion, outcome, feedback, rpl, assessor_id, at, centre_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning judgement_id")
            .bind(learner_id)
            .bind(unit_key)
            .bind(criterion)
            .bind(outcome)
            .bind(feedback)
            .bind(i64::from(rpl))
            .bind(assessor_id)
            .bind(&at)
            .bind(centre_id)
            .fetch_one(&mut *tx)
            .await?;
        note_unit_work(&mut tx, centre_id, learner_id, unit_key, assessor_id, &at).await?;
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    /// Several decisions on one unit in one transaction (a whole-unit form).
    pub async fn insert_judgements(
        &self,
        learner_id: i64,
        unit_key: &str,
        rows: &[NewJudgement],
        assessor_id: i64,
        centre_id: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let at = super::now();
        for r in rows {
            sqlx::query("insert into judgement (learner_id, unit_key, criterion, outcome, feedback, rpl, assessor_id, at, centre_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)")
                .bind(learner_id)
                .bind(unit_key)
                .bind(&r.criterion)
                .bind(&r.outcome)
                .bind(&r.feedback)
                .bind(i64::from(r.rpl))
                .bind(assessor_id)
                .bind(&at)
                .bind(centre_id)
                .execute(&mut *tx)
                .await?;
        }
        if !rows.is_empty() {
            note_unit_work(&mut tx, centre_id, learner_id, unit_key, assessor_id, &at).await?;
        }
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    pub async fn judgements_of_learner(&self, learner_id: i64) -> StoreResult<Vec<JudgementRow>> {
        Ok(sqlx::query_as(
            "select j.judgement_id, j.unit_key, j.criterion, j.outcome, j.feedback, j.rpl, j.assessor_id, p.display_name as assessor_name, j.at, j.centre_id from judgement j join person p on p.person_id = j.assessor_id where j.learner_id = $1 order by j.judgement_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_signature(
        &self,
        learner_id: i64,
        unit_key: &str,
        role: &str,
        person_id: i64,
        comments: &str,
        evidence_hash: &str,
        centre_id: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into signature (learner_id, unit_key, role, person_id, at, comments, evidence_hash, centre_id) values ($1, $2, $3, $4, $5, $6, $7, $8) returning signature_id")
            .bind(learner_id)
            .bind(unit_key)
            .bind(role)
            .bind(person_id)
            .bind(super::now())
            .bind(comments)
            .bind(evidence_hash)
            .bind(centre_id)
            .fetch_one(&mut *tx)
            .await?;
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    pub async fn signatures_of_learner(&self, learner_id: i64) -> StoreResult<Vec<SignatureRow>> {
        Ok(sqlx::query_as(
            "select s.signature_id, s.unit_key, s.role, s.person_id, p.display_name as person_name, s.at, s.comments, s.evidence_hash, s.centre_id, s.withdrawn_at from signature s join person p on p.person_id = s.person_id where s.learner_id = $1 order by s.signature_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Record a learner's declaration or the centre's confirmation of a unit's evidence.
    #[allow(clippy::too_many_arguments)]
    pub async fn insert_authentication(
        &self,
        learner_id: i64,
        unit_key: &str,
        role: &str,
        person_id: i64,
        statement: &str,
        evidence_hash: &str,
        centre_id: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into unit_authentication (learner_id, unit_key, role, person_id, at, statement, evidence_hash, centre_id) values ($1, $2, $3, $4, $5, $6, $7, $8) returning unit_authentication_id")
            .bind(learner_id)
            .bind(unit_key)
            .bind(role)
            .bind(person_id)
            .bind(super::now())
            .bind(statement)
            .bind(evidence_hash)
            .bind(centre_id)
            .fetch_one(&mut *tx)
            .await?;
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[("authentication", serde_json::json!(id))])
            .await?;
        Ok(id)
    }

    pub async fn authentications_of_learner(
        &self,
        learner_id: i64,
    ) -> StoreResult<Vec<AuthenticationRow>> {
        Ok(sqlx::query_as(
            "select a.unit_authentication_id, a.unit_key, a.role, a.person_id, p.display_name as person_name, a.at, a.statement, a.evidence_hash, a.centre_id from unit_authentication a join person p on p.person_id = a.person_id where a.learner_id = $1 order by a.unit_authentication_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // --- marks -------------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn insert_unit_result(
        &self,
        learner_id: i64,
        registration_id: i64,
        unit_key: &str,
        marks_json: &str,
        moderator_adjustment: i64,
        considerations_json: &str,
        result_json: &str,
        grade: &str,
        by: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into unit_result (learner_id, registration_id, unit_key, marks, moderator_adjustment, considerations, result, grade, recorded_by, recorded_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning unit_result_id")
            .bind(learner_id)
            .bind(registration_id)
            .bind(unit_key)
            .bind(marks_json)
            .bind(moderator_adjustment)
            .bind(considerations_json)
            .bind(result_json)
            .bind(grade)
            .bind(by)
            .bind(super::now())
            .fetch_one(&mut *tx)
            .await?;
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    pub async fn unit_results_of_learner(
        &self,
        learner_id: i64,
    ) -> StoreResult<Vec<UnitResultRow>> {
        Ok(sqlx::query_as(
            "select u.unit_result_id, u.registration_id, u.unit_key, u.marks, u.moderator_adjustment, u.considerations, u.result, u.grade, u.recorded_by, p.display_name as recorded_by_name, u.recorded_at from unit_result u join person p on p.person_id = u.recorded_by where u.learner_id = $1 order by u.unit_result_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The AO's Merit and Distinction boundaries for a qualification.
    pub async fn grade_boundaries(
        &self,
        qan: &str,
    ) -> StoreResult<Option<(Option<i64>, Option<i64>)>> {
        Ok(
            sqlx::query_as(
                "select merit_mark, distinction_mark from grade_boundary where qan = $1",
            )
            .bind(qan)
            .fetch_optional(&self.pool)
            .await?,
        )
    }

    pub async fn set_grade_boundaries(
        &self,
        qan: &str,
        merit: Option<i64>,
        distinction: Option<i64>,
        by: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from grade_boundary where qan = $1")
            .bind(qan)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into grade_boundary (qan, merit_mark, distinction_mark, set_by, set_at) values ($1, $2, $3, $4, $5)")
            .bind(qan)
            .bind(merit)
            .bind(distinction)
            .bind(by)
            .bind(super::now())
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    // --- transfers ---------------------------------------------------------------------------

    pub async fn request_transfer(
        &self,
        learner_id: i64,
        from_registration_id: i64,
        to_centre_id: i64,
        reason: &str,
        by: i64,
    ) -> StoreResult<i64> {
        let pending: Option<(i64,)> = sqlx::query_as("select transfer_id from transfer where from_registration_id = $1 and status = 'requested'")
            .bind(from_registration_id)
            .fetch_optional(&self.pool)
            .await?;
        if pending.is_some() {
            return Err(StoreError::Conflict(
                "a transfer of this registration is already waiting for the awarding organisation"
                    .into(),
            ));
        }
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into transfer (learner_id, from_registration_id, to_centre_id, reason, requested_by, requested_at, status) values ($1, $2, $3, $4, $5, $6, 'requested') returning transfer_id")
            .bind(learner_id)
            .bind(from_registration_id)
            .bind(to_centre_id)
            .bind(reason)
            .bind(by)
            .bind(super::now())
            .fetch_one(&mut *tx)
            .await?;
        self.bump(&mut tx, learner_id).await?;
        self.commit(tx, &[("transfer", id.into())]).await?;
        Ok(id)
    }

    pub async fn transfer(&self, id: i64) -> StoreResult<Option<TransferRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TRANSFER_SELECT} where t.transfer_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn transfers_of_learner(&self, learner_id: i64) -> StoreResult<Vec<TransferRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TRANSFER_SELECT} where t.learner_id = $1 order by t.transfer_id"
        )))
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn pending_transfers(&self) -> StoreResult<Vec<TransferRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{TRANSFER_SELECT} where t.status = 'requested' order by t.transfer_id"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Approve a transfer: the learner is registered at the new centre on the same
    /// qualification and catalogue version, and the old registration is marked transferred
    /// (kept, for the old centre's records). One transaction.
    pub async fn approve_transfer(&self, id: i64, by: i64, note: &str) -> StoreResult<i64> {
        let t = self.transfer(id).await?.ok_or(StoreError::NotFound)?;
        if t.status != "requested" {
            return Err(StoreError::Conflict(format!(
                "this transfer was already {}",
                t.status
            )));
        }
        let at = super::now();
        let mut tx = self.begin().await?;
        let (version,): (i64,) = sqlx::query_as(
            "select catalogue_version_id from registration where registration_id = $1",
        )
        .bind(t.from_registration_id)
        .fetch_one(&mut *tx)
        .await?;
        let existing: Option<(i64,)> = sqlx::query_as("select registration_id from registration where learner_id = $1 and centre_id = $2 and qan = $3")
            .bind(t.learner_id)
            .bind(t.to_centre_id)
            .bind(&t.qan)
            .fetch_optional(&mut *tx)
            .await?;
        let new_id = match existing {
            Some((id,)) => id,
            None => {
                let (id,): (i64,) = sqlx::query_as("insert into registration (learner_id, centre_id, qan, catalogue_version_id, status, registered_at, created_at, updated_at) values ($1, $2, $3, $4, 'registered', $5, $5, $5) returning registration_id")
                    .bind(t.learner_id)
                    .bind(t.to_centre_id)
                    .bind(&t.qan)
                    .bind(version)
                    .bind(&at)
                    .fetch_one(&mut *tx)
                    .await?;
                id
            }
        };
        sqlx::query("update registration set status = 'transferred', updated_at = $1 where registration_id = $2")
            .bind(&at)
            .bind(t.from_registration_id)
            .execute(&mut *tx)
            .await?;
        let done = sqlx::query("update transfer set status = 'approved', decided_by = $1, decided_at = $2, decision_note = $3, new_registration_id = $4 where transfer_id = $5 and status = 'requested'")
            .bind(by)
            .bind(&at)
            .bind(note)
            .bind(new_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this transfer was decided meanwhile".into(),
            ));
        }
        // The learner's own role follows them to the new centre.
        sqlx::query("insert into role_grant (person_id, role, ao_code, centre_id, learner_id, created_at) select person_id, 'learner', null, $1, learner_id, $2 from learner where learner_id = $3 and person_id is not null and not exists (select 1 from role_grant g where g.person_id = learner.person_id and g.role = 'learner' and g.centre_id = $1 and g.learner_id = learner.learner_id)")
            .bind(t.to_centre_id)
            .bind(&at)
            .bind(t.learner_id)
            .execute(&mut *tx)
            .await?;
        self.bump(&mut tx, t.learner_id).await?;
        self.commit(tx, &[]).await?;
        Ok(new_id)
    }

    pub async fn refuse_transfer(&self, id: i64, by: i64, note: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let learner: Option<(i64,)> =
            sqlx::query_as("select learner_id from transfer where transfer_id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let (learner,) = learner.ok_or(StoreError::NotFound)?;
        let done = sqlx::query("update transfer set status = 'refused', decided_by = $1, decided_at = $2, decision_note = $3 where transfer_id = $4 and status = 'requested'")
            .bind(by)
            .bind(super::now())
            .bind(note)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this transfer is not waiting for a decision".into(),
            ));
        }
        self.bump(&mut tx, learner).await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }
}
