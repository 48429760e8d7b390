//! Quality assurance: the lead IQA, sampling strategies, samples and IQA decisions,
//! standardisation, EQA visits and their actions, direct claim status per qualification,
//! claims and appeals (issue 12).

use super::{Backend, Store, StoreError, StoreResult, now};
use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StrategyRow {
    pub centre_id: i64,
    pub qan: String,
    pub strategy: String,
    pub set_by: i64,
    pub set_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SampleRow {
    pub sample_id: i64,
    pub centre_id: i64,
    pub registration_id: i64,
    pub learner_id: i64,
    pub unit_key: String,
    pub assessor_id: i64,
    pub assessor_name: String,
    pub stage: String,
    pub state: String,
    pub origin: String,
    pub reasons: String,
    pub due_on: String,
    pub iqa_id: Option<i64>,
    pub snapshot: Option<String>,
    pub snapshot_hash: Option<String>,
    pub opened_at: Option<String>,
    pub decided_at: Option<String>,
    pub replaced_by: Option<i64>,
    pub replace_reason: Option<String>,
    pub created_at: String,
    pub given_name: String,
    pub family_name: String,
    pub qan: String,
}

/// A sample to put on a plan.
#[derive(Debug, Clone)]
pub struct NewSample {
    pub centre_id: i64,
    pub registration_id: i64,
    pub learner_id: i64,
    pub unit_key: String,
    pub assessor_id: i64,
    pub stage: String,
    pub origin: String,
    pub reasons: Vec<String>,
    pub due_on: String,
    pub created_by: Option<i64>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DecisionRow {
    pub decision_id: i64,
    pub sample_id: i64,
    pub criterion: Option<String>,
    pub verdict: String,
    pub comments: String,
    pub action: String,
    pub due_on: Option<String>,
    pub iqa_id: i64,
    pub iqa_name: String,
    pub at: String,
    pub closed_at: Option<String>,
    pub closed_by: Option<i64>,
    pub closing_note: Option<String>,
}

/// One decision of an IQA on a sample.
#[derive(Debug, Clone)]
pub struct NewDecision {
    pub criterion: Option<String>,
    pub verdict: String,
    pub comments: String,
    pub action: String,
    pub due_on: Option<String>,
}

/// A learner's unit as the plan sees it: who judged it, when, and how.
/// A learner's unit as the plan needs it, in one row: who judged it (first and latest
/// decision), when it was signed off (not withdrawn), and the methods and locations of the
/// current evidence mapped to it (comma-separated).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UnitWorkRow {
    pub learner_id: i64,
    pub unit_key: String,
    pub assessor_id: i64,
    pub last_at: String,
    pub signed_at: Option<String>,
    /// The assessment methods (evidence kinds) of the current evidence mapped to the unit,
    /// sorted, each once.
    pub methods: Vec<String>,
    /// Where that evidence was produced (its sources), sorted, each once.
    pub locations: Vec<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StandardisationRow {
    pub standardisation_id: i64,
    pub centre_id: i64,
    pub kind: String,
    pub held_on: String,
    pub assessor_id: Option<i64>,
    pub attendees: String,
    pub units: String,
    pub outcome: String,
    pub notes: String,
    pub actions: String,
    pub recorded_by: i64,
    pub recorded_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VisitRow {
    pub visit_id: i64,
    pub centre_id: i64,
    pub centre_name: String,
    pub ao_code: String,
    pub eqa_id: i64,
    pub eqa_name: String,
    pub planned_on: String,
    pub visited_on: Option<String>,
    pub outcome: Option<String>,
    pub risk: Option<String>,
    pub sampled: String,
    pub findings: String,
    pub reported_at: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRow {
    pub action_id: i64,
    pub visit_id: i64,
    pub text: String,
    pub due_on: String,
    pub response: Option<String>,
    pub responded_at: Option<String>,
    pub closed_at: Option<String>,
}

/// The report an EQA writes after a visit.
#[derive(Debug, Clone)]
pub struct VisitReport {
    pub visited_on: String,
    pub outcome: String,
    pub risk: String,
    pub sampled: String,
    pub findings: String,
    /// (what, due on)
    pub actions: Vec<(String, String)>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct DirectClaimRow {
    pub centre_id: i64,
    pub qan: String,
    pub ao_code: String,
    pub granted_by: Option<i64>,
    pub reason: String,
    pub granted_at: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimRow {
    pub claim_id: i64,
    pub registration_id: i64,
    pub learner_id: i64,
    pub centre_id: i64,
    pub ao_code: String,
    pub qan: String,
    pub units: String,
    pub status: String,
    pub claimed_by: i64,
    pub claimed_at: String,
    pub released_by: Option<i64>,
    pub released_at: Option<String>,
    pub release_note: Option<String>,
    /// 'qualification', or 'unit' to bank one unit (a unit certificate).
    pub kind: String,
    pub given_name: String,
    pub family_name: String,
    pub uln: Option<String>,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AppealRow {
    pub appeal_id: i64,
    pub learner_id: i64,
    pub registration_id: i64,
    pub centre_id: i64,
    pub unit_key: String,
    pub criterion: Option<String>,
    pub grounds: String,
    pub stage: String,
    pub opened_by: i64,
    pub opened_at: String,
    pub centre_reviewer: Option<i64>,
    pub centre_outcome: Option<String>,
    pub centre_reason: Option<String>,
    pub centre_decided_at: Option<String>,
    pub escalated_at: Option<String>,
    pub ao_reviewer: Option<i64>,
    pub ao_outcome: Option<String>,
    pub ao_reason: Option<String>,
    pub ao_decided_at: Option<String>,
}

const SAMPLE_SELECT: &str = "select s.sample_id, s.centre_id, s.registration_id, s.learner_id, s.unit_key, s.assessor_id, p.display_name as assessor_name, \
     s.stage, s.state, s.origin, s.reasons, s.due_on, s.iqa_id, s.snapshot, s.snapshot_hash, s.opened_at, s.decided_at, s.replaced_by, s.replace_reason, s.created_at, \
     l.given_name, l.family_name, r.qan \
     from qa_sample s join person p on p.person_id = s.assessor_id join learner l on l.learner_id = s.learner_id \
     join registration r on r.registration_id = s.registration_id";

const VISIT_SELECT: &str = "select v.visit_id, v.centre_id, c.name as centre_name, v.ao_code, v.eqa_id, p.display_name as eqa_name, v.planned_on, v.visited_on, \
     v.outcome, v.risk, v.sampled, v.findings, v.reported_at \
     from eqa_visit v join centre c on c.centre_id = v.centre_id join person p on p.person_id = v.eqa_id";

const CLAIM_SELECT: &str = "select c.claim_id, c.registration_id, c.learner_id, c.centre_id, c.ao_code, c.qan, c.units, c.status, c.claimed_by, c.claimed_at, \
     c.released_by, c.released_at, c.release_note, c.kind, l.given_name, l.family_name, l.uln \
     from claim c join learner l on l.learner_id = c.learner_id";

const APPEAL_SELECT: &str = "select appeal_id, learner_id, registration_id, centre_id, unit_key, criterion, grounds, stage, opened_by, opened_at, \
     centre_reviewer, centre_outcome, centre_reason, centre_decided_at, escalated_at, ao_reviewer, ao_outcome, ao_reason, ao_decided_at from appeal";

/// The rows of a text joined by [`Store::unit_work_at_centre`]'s reads: rows apart by U+001F,
/// fields by U+001E.
fn joined_rows(text: &str) -> Vec<Vec<&str>> {
    text.split('\u{1f}')
        .filter(|r| !r.is_empty())
        .map(|r| r.split('\u{1e}').collect())
        .collect()
}

impl Store {
    // --- lead IQA and strategy -----------------------------------------------------------

    /// Make an IQA the centre's lead IQA, or not.
    pub async fn set_lead_iqa(
        &self,
        person_id: i64,
        centre_id: i64,
        lead: bool,
        by: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from lead_iqa where person_id = $1 and centre_id = $2")
            .bind(person_id)
            .bind(centre_id)
            .execute(&mut *tx)
            .await?;
        if lead {
            sqlx::query("insert into lead_iqa (person_id, centre_id, set_by, created_at) values ($1, $2, $3, $4)")
                .bind(person_id)
                .bind(centre_id)
                .bind(by)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx, &[]).await
    }

    pub async fn lead_iqas(&self, centre_id: i64) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "select person_id from lead_iqa where centre_id = $1 order by person_id",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(p,)| p).collect())
    }

    pub async fn set_strategy(
        &self,
        centre_id: i64,
        qan: &str,
        strategy_json: &str,
        by: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from sampling_strategy where centre_id = $1 and qan = $2")
            .bind(centre_id)
            .bind(qan)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into sampling_strategy (centre_id, qan, strategy, set_by, set_at) values ($1, $2, $3, $4, $5)")
            .bind(centre_id)
            .bind(qan)
            .bind(strategy_json)
            .bind(by)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await
    }

    pub async fn strategies(&self, centre_id: i64) -> StoreResult<Vec<StrategyRow>> {
        Ok(sqlx::query_as(
            "select centre_id, qan, strategy, set_by, set_at from sampling_strategy where centre_id = $1 order by qan",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // --- what the plan is made from --------------------------------------------------------

    /// Everything the plan reads about the work at a centre, one row per learner's unit and
    /// assessor (the plan at a large centre reads tens of thousands of these).
    pub async fn unit_work_at_centre(&self, centre_id: i64) -> StoreResult<Vec<UnitWorkRow>> {
        // Three reads, one after another (at once, on two cores, they took longer), each
        // answering a single text: its rows joined with control characters, split here.
        // Measured at 5,000 learners (`credence bench --qa-learners 5000`), handing a row over
        // from the database costs about 3 µs, far more than finding it: as 40,000 rows these
        // reads took 250 ms, as three texts under 50. The three:
        // - each learner's unit and assessor with their last judgement (`unit_work`, kept as
        //   judgements are recorded: grouping 200,000 judgements here took 250 ms);
        // - the units both sides signed, with the learner's signature;
        // - the method and location of each current evidence item, with the units it is
        //   mapped to (per item: grouping the mappings by method took 30 ms).
        let (joined, text, chr) = match self.backend() {
            Backend::Sqlite => ("group_concat", "", "char"),
            Backend::Postgres => ("string_agg", "::text", "chr"),
        };
        let one_text = |query: String| async move {
            sqlx::query_scalar::<_, Option<String>>(sqlx::AssertSqlSafe(query))
                .bind(centre_id)
                .fetch_one(&self.pool)
                .await
                .map(Option::unwrap_or_default)
        };
        let work = one_text(format!(
            "select {joined}(learner_id{text} || {chr}(30) || unit_key || {chr}(30) || assessor_id{text} \
             || {chr}(30) || last_at, {chr}(31)) from unit_work where centre_id = $1"
        ))
        .await?;
        let signed = one_text(format!(
            "select {joined}(learner_id{text} || {chr}(30) || unit_key || {chr}(30) || at, {chr}(31)) from \
             (select l.learner_id, l.unit_key, max(l.at) as at from signature l \
              where l.centre_id = $1 and l.role = 'learner' and l.withdrawn_at is null \
              and exists (select 1 from signature a where a.centre_id = $1 and a.learner_id = l.learner_id \
                and a.unit_key = l.unit_key and a.role = 'assessor' and a.withdrawn_at is null \
                and a.evidence_hash = l.evidence_hash) \
              group by l.learner_id, l.unit_key) s"
        ))
        .await?;
        let methods = one_text(format!(
            "select {joined}(item, {chr}(31)) from \
             (select e.learner_id{text} || {chr}(30) || e.kind || {chr}(30) || e.source || {chr}(30) || \
              coalesce((select {joined}(m.unit_key, {chr}(29)) from evidence_mapping m \
                        where m.evidence_id = e.evidence_id), '') as item \
              from evidence e where e.centre_id = $1 and e.superseded_by is null) d"
        ))
        .await?;
        let id = |field: &str| {
            field.parse::<i64>().map_err(|_| {
                StoreError::Corrupt(format!("the plan's reads: {field:?} is not an id"))
            })
        };
        let mut signed_at: HashMap<(i64, &str), &str> = HashMap::new();
        for row in joined_rows(&signed) {
            if let [learner, unit, at] = row[..] {
                signed_at.insert((id(learner)?, unit), at);
            }
        }
        type Sets<'a> = (BTreeSet<&'a str>, BTreeSet<&'a str>);
        let mut method_of: HashMap<(i64, &str), Sets> = HashMap::new();
        for row in joined_rows(&methods) {
            if let [learner, kind, source, units] = row[..] {
                let learner = id(learner)?;
                for unit in units.split('\u{1d}').filter(|u| !u.is_empty()) {
                    let (kinds, sources) = method_of.entry((learner, unit)).or_default();
                    kinds.insert(kind);
                    sources.insert(source);
                }
            }
        }
        let owned = |set: &BTreeSet<&str>| set.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let mut out = Vec::new();
        for row in joined_rows(&work) {
            let [learner, unit_key, assessor, last_at] = row[..] else {
                continue;
            };
            let key = (id(learner)?, unit_key);
            out.push(UnitWorkRow {
                signed_at: signed_at.get(&key).map(|at| at.to_string()),
                methods: method_of.get(&key).map(|m| owned(&m.0)).unwrap_or_default(),
                locations: method_of.get(&key).map(|m| owned(&m.1)).unwrap_or_default(),
                learner_id: key.0,
                unit_key: unit_key.to_string(),
                assessor_id: id(assessor)?,
                last_at: last_at.to_string(),
            });
        }
        out.sort_by(|a, b| {
            (a.learner_id, &a.unit_key, a.assessor_id).cmp(&(
                b.learner_id,
                &b.unit_key,
                b.assessor_id,
            ))
        });
        Ok(out)
    }

    /// When each assessor first judged anything at the centre (a new assessor is a risk).
    pub async fn first_decisions_at_centre(
        &self,
        centre_id: i64,
    ) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "select assessor_id, min(first_at) from unit_work where centre_id = $1 group by assessor_id",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // --- samples ---------------------------------------------------------------------------

    pub async fn insert_samples(&self, samples: &[NewSample]) -> StoreResult<Vec<i64>> {
        let mut tx = self.begin().await?;
        let at = now();
        let mut ids = Vec::with_capacity(samples.len());
        for s in samples {
            let (id,): (i64,) = sqlx::query_as("insert into qa_sample (centre_id, registration_id, learner_id, unit_key, assessor_id, stage, state, origin, reasons, due_on, created_by, created_at) values ($1, $2, $3, $4, $5, $6, 'planned', $7, $8, $9, $10, $11) returning sample_id")
                .bind(s.centre_id)
                .bind(s.registration_id)
                .bind(s.learner_id)
                .bind(&s.unit_key)
                .bind(s.assessor_id)
                .bind(&s.stage)
                .bind(&s.origin)
                .bind(serde_json::to_string(&s.reasons).unwrap_or_else(|_| "[]".into()))
                .bind(&s.due_on)
                .bind(s.created_by)
                .bind(&at)
                .fetch_one(&mut *tx)
                .await?;
            ids.push(id);
        }
        self.commit(tx, &[("samples", serde_json::json!(ids))])
            .await?;
        Ok(ids)
    }

    /// Swap a planned sample for another, with the reason.
    pub async fn swap_sample(&self, old: i64, new: &NewSample, reason: &str) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into qa_sample (centre_id, registration_id, learner_id, unit_key, assessor_id, stage, state, origin, reasons, due_on, created_by, created_at) values ($1, $2, $3, $4, $5, $6, 'planned', 'manual', $7, $8, $9, $10) returning sample_id")
            .bind(new.centre_id)
            .bind(new.registration_id)
            .bind(new.learner_id)
            .bind(&new.unit_key)
            .bind(new.assessor_id)
            .bind(&new.stage)
            .bind(serde_json::to_string(&new.reasons).unwrap_or_else(|_| "[]".into()))
            .bind(&new.due_on)
            .bind(new.created_by)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
        let done = sqlx::query("update qa_sample set state = 'swapped', replaced_by = $1, replace_reason = $2 where sample_id = $3 and state = 'planned'")
            .bind(id)
            .bind(reason)
            .bind(old)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "that sample was opened or decided a moment ago, so it can no longer be swapped: reload the plan".into(),
            ));
        }
        self.commit(tx, &[("sample", serde_json::json!(id))])
            .await?;
        Ok(id)
    }

    pub async fn samples_at_centre(&self, centre_id: i64) -> StoreResult<Vec<SampleRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SAMPLE_SELECT} where s.centre_id = $1 order by s.sample_id"
        )))
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// An IQA's queue at these centres: samples to open (planned), their own open ones and
    /// referrals to close, due first; at most `limit`, with how many there are in all.
    pub async fn iqa_queue(
        &self,
        centres: &[i64],
        iqa: i64,
        limit: i64,
    ) -> StoreResult<(Vec<SampleRow>, i64)> {
        if centres.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let list = centres
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        // Each state's first `limit` straight from the index (centre, state, due date), then
        // the page's rows joined: the queue costs the same with a thousand samples or fifty.
        let first = |state: &str| {
            format!(
                "select sample_id from (select sample_id from qa_sample where centre_id in ({list}) and {state} order by due_on, sample_id limit $2) q_{}",
                state.len()
            )
        };
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SAMPLE_SELECT} where s.sample_id in ({} union all {} union all {}) order by s.due_on, s.sample_id limit $2",
            first("state = 'planned'"),
            first("state = 'referred'"),
            first("state = 'open' and iqa_id = $1"),
        )))
        .bind(iqa)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select (select count(*) from qa_sample where centre_id in ({list}) and state in ('planned', 'referred')) \
             + (select count(*) from qa_sample where centre_id in ({list}) and state = 'open' and iqa_id = $1)"
        )))
        .bind(iqa)
        .fetch_one(&self.pool)
        .await?;
        Ok((rows, n))
    }

    pub async fn samples_of_learner(&self, learner_id: i64) -> StoreResult<Vec<SampleRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SAMPLE_SELECT} where s.learner_id = $1 order by s.sample_id"
        )))
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn sample(&self, id: i64) -> StoreResult<Option<SampleRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SAMPLE_SELECT} where s.sample_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Open a sample: the IQA and the unit as it stands now, kept unchanged from here on.
    pub async fn open_sample(
        &self,
        id: i64,
        iqa: i64,
        snapshot: &str,
        snapshot_hash: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update qa_sample set state = 'open', iqa_id = $1, snapshot = $2, snapshot_hash = $3, opened_at = $4 where sample_id = $5 and state = 'planned'")
            .bind(iqa)
            .bind(snapshot)
            .bind(snapshot_hash)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "that sample was opened a moment ago: reload it".into(),
            ));
        }
        self.commit(tx, &[]).await
    }

    /// Record an IQA's decisions on an open sample. A referral withdraws the unit's sign-off
    /// (its signatures are kept, marked withdrawn; the evidence stays locked).
    pub async fn decide_sample(
        &self,
        id: i64,
        iqa: i64,
        decisions: &[NewDecision],
        learner_id: i64,
        unit_key: &str,
    ) -> StoreResult<String> {
        let referred = decisions.iter().any(|d| d.verdict == "refer");
        let state = if referred { "referred" } else { "agreed" };
        let at = now();
        let mut tx = self.begin().await?;
        let done = sqlx::query("update qa_sample set state = $1, decided_at = $2 where sample_id = $3 and state = 'open' and iqa_id = $4")
            .bind(state)
            .bind(&at)
            .bind(id)
            .bind(iqa)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "that sample is not open for your decision any more: reload it".into(),
            ));
        }
        let mut ids = Vec::new();
        for d in decisions {
            let (did,): (i64,) = sqlx::query_as("insert into qa_decision (sample_id, criterion, verdict, comments, action, due_on, iqa_id, at) values ($1, $2, $3, $4, $5, $6, $7, $8) returning decision_id")
                .bind(id)
                .bind(&d.criterion)
                .bind(&d.verdict)
                .bind(&d.comments)
                .bind(&d.action)
                .bind(&d.due_on)
                .bind(iqa)
                .bind(&at)
                .fetch_one(&mut *tx)
                .await?;
            ids.push(did);
        }
        if referred {
            sqlx::query("update signature set withdrawn_at = $1, withdrawn_reason = $2 where learner_id = $3 and unit_key = $4 and withdrawn_at is null")
                .bind(&at)
                .bind(format!("referred back by the IQA (sample {id})"))
                .bind(learner_id)
                .bind(unit_key)
                .execute(&mut *tx)
                .await?;
            self.bump(&mut tx, learner_id).await?;
        }
        self.commit(tx, &[("decisions", serde_json::json!(ids))])
            .await?;
        Ok(state.to_string())
    }

    /// Close a sample's open referrals: the IQA is satisfied the actions were done. The
    /// sample is then agreed.
    pub async fn close_referral(&self, sample_id: i64, by: i64, note: &str) -> StoreResult<()> {
        let at = now();
        let mut tx = self.begin().await?;
        let done = sqlx::query("update qa_decision set closed_at = $1, closed_by = $2, closing_note = $3 where sample_id = $4 and verdict = 'refer' and closed_at is null")
            .bind(&at)
            .bind(by)
            .bind(note)
            .bind(sample_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "that sample has no open referral: reload it".into(),
            ));
        }
        sqlx::query("update qa_sample set state = 'agreed', decided_at = $1 where sample_id = $2 and state = 'referred'")
            .bind(&at)
            .bind(sample_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await
    }

    pub async fn decisions_of_samples(&self, ids: &[i64]) -> StoreResult<Vec<DecisionRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select d.decision_id, d.sample_id, d.criterion, d.verdict, d.comments, d.action, d.due_on, d.iqa_id, p.display_name as iqa_name, d.at, d.closed_at, d.closed_by, d.closing_note \
             from qa_decision d join person p on p.person_id = d.iqa_id where d.sample_id in ({list}) order by d.decision_id"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// Open referrals on decisions made by an assessor (their action list).
    pub async fn open_referrals_for_assessor(
        &self,
        assessor: i64,
    ) -> StoreResult<Vec<(SampleRow, DecisionRow)>> {
        let samples: Vec<SampleRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SAMPLE_SELECT} where s.assessor_id = $1 and s.state = 'referred' order by s.sample_id"
        )))
        .bind(assessor)
        .fetch_all(&self.pool)
        .await?;
        let ids: Vec<i64> = samples.iter().map(|s| s.sample_id).collect();
        let decisions = self.decisions_of_samples(&ids).await?;
        Ok(decisions
            .into_iter()
            .filter(|d| d.verdict == "refer" && d.closed_at.is_none())
            .filter_map(|d| {
                samples
                    .iter()
                    .find(|s| s.sample_id == d.sample_id)
                    .map(|s| (s.clone(), d))
            })
            .collect())
    }

    /// Referrals in the last `since` period for each assessor at a centre.
    pub async fn referral_counts(
        &self,
        centre_id: i64,
        since: &str,
    ) -> StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "select s.assessor_id, count(*) from qa_decision d join qa_sample s on s.sample_id = d.sample_id where s.centre_id = $1 and d.verdict = 'refer' and d.at >= $2 group by s.assessor_id",
        )
        .bind(centre_id)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    // --- standardisation ---------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn record_standardisation(
        &self,
        centre_id: i64,
        kind: &str,
        held_on: &str,
        assessor_id: Option<i64>,
        attendees: &[i64],
        units: &[String],
        outcome: &str,
        notes: &str,
        actions: &str,
        by: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into standardisation (centre_id, kind, held_on, assessor_id, attendees, units, outcome, notes, actions, recorded_by, recorded_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) returning standardisation_id")
            .bind(centre_id)
            .bind(kind)
            .bind(held_on)
            .bind(assessor_id)
            .bind(serde_json::to_string(attendees).unwrap_or_default())
            .bind(serde_json::to_string(units).unwrap_or_default())
            .bind(outcome)
            .bind(notes)
            .bind(actions)
            .bind(by)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
        self.commit(tx, &[("standardisation", serde_json::json!(id))])
            .await?;
        Ok(id)
    }

    pub async fn standardisations(&self, centre_id: i64) -> StoreResult<Vec<StandardisationRow>> {
        Ok(sqlx::query_as(
            "select standardisation_id, centre_id, kind, held_on, assessor_id, attendees, units, outcome, notes, actions, recorded_by, recorded_at from standardisation where centre_id = $1 order by held_on desc, standardisation_id desc",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Each centre with learners on the AO's qualifications, with its first registration.
    pub async fn first_registrations_for_ao(
        &self,
        ao_code: &str,
    ) -> StoreResult<Vec<(i64, String, String)>> {
        Ok(sqlx::query_as(
            "select r.centre_id, c.name, min(r.registered_at) from registration r join catalogue_version v on v.catalogue_version_id = r.catalogue_version_id join centre c on c.centre_id = r.centre_id where v.ao_code = $1 group by r.centre_id, c.name order by r.centre_id",
        )
        .bind(ao_code)
        .fetch_all(&self.pool)
        .await?)
    }

    // --- EQA visits --------------------------------------------------------------------------

    pub async fn schedule_visit(
        &self,
        centre_id: i64,
        ao_code: &str,
        eqa: i64,
        planned_on: &str,
        by: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into eqa_visit (centre_id, ao_code, eqa_id, planned_on, created_by, created_at) values ($1, $2, $3, $4, $5, $6) returning visit_id")
            .bind(centre_id)
            .bind(ao_code)
            .bind(eqa)
            .bind(planned_on)
            .bind(by)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
        self.commit(tx, &[("visit", serde_json::json!(id))]).await?;
        Ok(id)
    }

    pub async fn visits(
        &self,
        centre_id: Option<i64>,
        ao_code: Option<&str>,
    ) -> StoreResult<Vec<VisitRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VISIT_SELECT} where ($1 is null or v.centre_id = $1) and ($2 is null or v.ao_code = $2) order by v.planned_on desc, v.visit_id desc"
        )))
        .bind(centre_id)
        .bind(ao_code)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn visit(&self, id: i64) -> StoreResult<Option<VisitRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{VISIT_SELECT} where v.visit_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Write a visit's report (once) with its actions. An unsatisfactory visit withdraws
    /// the centre's direct claim status for the AO's qualifications in the same transaction.
    pub async fn report_visit(&self, id: i64, r: &VisitReport) -> StoreResult<Vec<i64>> {
        let at = now();
        let mut tx = self.begin().await?;
        let done = sqlx::query("update eqa_visit set visited_on = $1, outcome = $2, risk = $3, sampled = $4, findings = $5, reported_at = $6 where visit_id = $7 and reported_at is null")
            .bind(&r.visited_on)
            .bind(&r.outcome)
            .bind(&r.risk)
            .bind(&r.sampled)
            .bind(&r.findings)
            .bind(&at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this visit's report was written already: a report is not rewritten".into(),
            ));
        }
        let mut ids = Vec::new();
        for (text, due) in &r.actions {
            let (aid,): (i64,) = sqlx::query_as("insert into eqa_action (visit_id, text, due_on) values ($1, $2, $3) returning action_id")
                .bind(id)
                .bind(text)
                .bind(due)
                .fetch_one(&mut *tx)
                .await?;
            ids.push(aid);
        }
        let mut withdrawn = Vec::new();
        if r.outcome == "unsatisfactory" {
            let rows: Vec<(String,)> = sqlx::query_as("delete from direct_claim where centre_id = (select centre_id from eqa_visit where visit_id = $1) and ao_code = (select ao_code from eqa_visit where visit_id = $1) returning qan")
                .bind(id)
                .fetch_all(&mut *tx)
                .await?;
            withdrawn = rows.into_iter().map(|(q,)| q).collect();
        }
        self.commit(
            tx,
            &[
                ("actions", serde_json::json!(ids)),
                ("direct_claim_withdrawn", serde_json::json!(withdrawn)),
            ],
        )
        .await?;
        Ok(ids)
    }

    pub async fn actions_of_visits(&self, ids: &[i64]) -> StoreResult<Vec<ActionRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select action_id, visit_id, text, due_on, response, responded_at, closed_at from eqa_action where visit_id in ({list}) order by action_id"
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn action(&self, id: i64) -> StoreResult<Option<ActionRow>> {
        Ok(sqlx::query_as(
            "select action_id, visit_id, text, due_on, response, responded_at, closed_at from eqa_action where action_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn respond_action(&self, id: i64, by: i64, response: &str) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("update eqa_action set response = $1, responded_by = $2, responded_at = $3 where action_id = $4 and closed_at is null")
            .bind(response)
            .bind(by)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await
    }

    pub async fn close_action(&self, id: i64, by: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update eqa_action set closed_by = $1, closed_at = $2 where action_id = $3 and closed_at is null")
            .bind(by)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict("that action is closed already".into()));
        }
        self.commit(tx, &[]).await
    }

    // --- direct claim status -------------------------------------------------------------------

    /// The direct claim grants of these centres, by centre, in one query.
    pub async fn direct_claims_of_centres(
        &self,
        centres: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, Vec<DirectClaimRow>>> {
        self.by_centre(
            "select centre_id, qan, ao_code, granted_by, reason, granted_at from direct_claim where centre_id in ({ids}) order by centre_id, qan",
            centres,
            |r: &DirectClaimRow| r.centre_id,
        )
        .await
    }

    pub async fn direct_claims(&self, centre_id: i64) -> StoreResult<Vec<DirectClaimRow>> {
        Ok(sqlx::query_as(
            "select centre_id, qan, ao_code, granted_by, reason, granted_at from direct_claim where centre_id = $1 order by qan",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn set_direct_claim(
        &self,
        centre_id: i64,
        qan: &str,
        ao_code: &str,
        granted: bool,
        by: i64,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("delete from direct_claim where centre_id = $1 and qan = $2")
            .bind(centre_id)
            .bind(qan)
            .execute(&mut *tx)
            .await?;
        if granted {
            sqlx::query("insert into direct_claim (centre_id, qan, ao_code, granted_by, reason, granted_at) values ($1, $2, $3, $4, $5, $6)")
                .bind(centre_id)
                .bind(qan)
                .bind(ao_code)
                .bind(by)
                .bind(reason)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx, &[]).await
    }

    // --- claims -------------------------------------------------------------------------------

    /// Make a claim; when `released`, it is released at once and `certificate` (if any) is
    /// issued in the same transaction. Returns the claim and the certificate's number.
    pub async fn insert_claim(
        &self,
        reg: &super::RegistrationRow,
        kind: &str,
        units: &[String],
        by: i64,
        released: bool,
        certificate: Option<&super::CertificateDraft>,
    ) -> StoreResult<(i64, Option<String>)> {
        let at = now();
        let mut tx = self.begin().await?;
        let units_json = serde_json::to_string(units).unwrap_or_default();
        let open: Option<(i64,)> = sqlx::query_as(
            "select claim_id from claim where registration_id = $1 and status in ('held', 'released') \
             and kind = $2 and ($2 = 'qualification' or units = $3)",
        )
        .bind(reg.registration_id)
        .bind(kind)
        .bind(&units_json)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = open {
            return Err(StoreError::Conflict(if kind == "unit" {
                format!("this unit is already claimed (claim {id})")
            } else {
                format!("this learner already has claim {id} for this qualification")
            }));
        }
        let (id,): (i64,) = sqlx::query_as("insert into claim (registration_id, learner_id, centre_id, ao_code, qan, units, status, claimed_by, claimed_at, released_at, release_note, kind) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) returning claim_id")
            .bind(reg.registration_id)
            .bind(reg.learner_id)
            .bind(reg.centre_id)
            .bind(&reg.ao_code)
            .bind(&reg.qan)
            .bind(&units_json)
            .bind(if released { "released" } else { "held" })
            .bind(by)
            .bind(&at)
            .bind(released.then(|| at.clone()))
            .bind(released.then_some("released at once: the centre has direct claim status"))
            .bind(kind)
            .fetch_one(&mut *tx)
            .await?;
        let number = match certificate.filter(|_| released) {
            Some(d) => Some(super::certificates::insert_certificate(&mut tx, id, d, None).await?),
            None => None,
        };
        self.commit(
            tx,
            &[
                ("claim", serde_json::json!(id)),
                ("certificate", serde_json::json!(number)),
            ],
        )
        .await?;
        Ok((id, number))
    }

    pub async fn claims(&self, centre_id: Option<i64>) -> StoreResult<Vec<ClaimRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CLAIM_SELECT} where ($1 is null or c.centre_id = $1) order by c.claim_id desc"
        )))
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest `limit` claims someone sees without naming a centre: their AOs' claims,
    /// their centres' and those of their EQA appointments (centre and AO), filtered by the
    /// database, not by reading every claim.
    pub async fn claims_seen_by(
        &self,
        aos: &[&str],
        centres: &[i64],
        eqa: &[(i64, String)],
        limit: i64,
    ) -> StoreResult<Vec<ClaimRow>> {
        let quote = |s: &str| format!("'{}'", s.replace('\'', "''"));
        let mut any = Vec::new();
        if !aos.is_empty() {
            any.push(format!(
                "c.ao_code in ({})",
                aos.iter().map(|a| quote(a)).collect::<Vec<_>>().join(",")
            ));
        }
        if !centres.is_empty() {
            any.push(format!(
                "c.centre_id in ({})",
                centres
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            ));
        }
        for (c, a) in eqa {
            any.push(format!("(c.centre_id = {c} and c.ao_code = {})", quote(a)));
        }
        if any.is_empty() {
            return Ok(Vec::new());
        }
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CLAIM_SELECT} where {} order by c.claim_id desc limit $1",
            any.join(" or ")
        )))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn claim(&self, id: i64) -> StoreResult<Option<ClaimRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CLAIM_SELECT} where c.claim_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Release a held claim (once).
    /// Release a held claim, issuing `certificate` (if any) in the same transaction.
    /// Returns the certificate's number.
    pub async fn release_claim(
        &self,
        id: i64,
        by: Option<i64>,
        note: &str,
        certificate: Option<&super::CertificateDraft>,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update claim set status = 'released', released_by = $1, released_at = $2, release_note = $3 where claim_id = $4 and status = 'held'")
            .bind(by)
            .bind(now())
            .bind(note)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "that claim is not held any more (released or withdrawn a moment ago)".into(),
            ));
        }
        let number = match certificate {
            Some(d) => Some(super::certificates::insert_certificate(&mut tx, id, d, None).await?),
            None => None,
        };
        self.commit(tx, &[("certificate", serde_json::json!(number))])
            .await?;
        Ok(number)
    }

    pub async fn withdraw_claim(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update claim set status = 'withdrawn' where claim_id = $1 and status = 'held'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "only a held claim can be withdrawn".into(),
            ));
        }
        self.commit(tx, &[]).await
    }

    // --- appeals ------------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    pub async fn open_appeal(
        &self,
        learner_id: i64,
        registration_id: i64,
        centre_id: i64,
        unit_key: &str,
        criterion: Option<&str>,
        grounds: &str,
        by: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as("insert into appeal (learner_id, registration_id, centre_id, unit_key, criterion, grounds, stage, opened_by, opened_at) values ($1, $2, $3, $4, $5, $6, 'centre', $7, $8) returning appeal_id")
            .bind(learner_id)
            .bind(registration_id)
            .bind(centre_id)
            .bind(unit_key)
            .bind(criterion)
            .bind(grounds)
            .bind(by)
            .bind(now())
            .fetch_one(&mut *tx)
            .await?;
        self.commit(tx, &[("appeal", serde_json::json!(id))])
            .await?;
        Ok(id)
    }

    pub async fn appeals(
        &self,
        centre_id: Option<i64>,
        learner_id: Option<i64>,
    ) -> StoreResult<Vec<AppealRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{APPEAL_SELECT} where ($1 is null or centre_id = $1) and ($2 is null or learner_id = $2) order by appeal_id desc"
        )))
        .bind(centre_id)
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn appeal(&self, id: i64) -> StoreResult<Option<AppealRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{APPEAL_SELECT} where appeal_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The centre's review (once): upheld or not; closes the appeal.
    pub async fn review_appeal_at_centre(
        &self,
        id: i64,
        by: i64,
        outcome: &str,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update appeal set centre_reviewer = $1, centre_outcome = $2, centre_reason = $3, centre_decided_at = $4, stage = 'closed' where appeal_id = $5 and stage = 'centre' and centre_outcome is null")
            .bind(by)
            .bind(outcome)
            .bind(reason)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this appeal was reviewed already".into(),
            ));
        }
        self.commit(tx, &[]).await
    }

    /// The learner takes a reviewed appeal to the AO.
    pub async fn escalate_appeal(&self, id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update appeal set stage = 'ao', escalated_at = $1 where appeal_id = $2 and centre_outcome is not null and ao_outcome is null and escalated_at is null")
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "only an appeal the centre has reviewed can be taken to the awarding organisation, once".into(),
            ));
        }
        self.commit(tx, &[]).await
    }

    pub async fn decide_appeal_at_ao(
        &self,
        id: i64,
        by: i64,
        outcome: &str,
        reason: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update appeal set ao_reviewer = $1, ao_outcome = $2, ao_reason = $3, ao_decided_at = $4, stage = 'closed' where appeal_id = $5 and stage = 'ao'")
            .bind(by)
            .bind(outcome)
            .bind(reason)
            .bind(now())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "this appeal is not with the awarding organisation".into(),
            ));
        }
        self.commit(tx, &[]).await
    }
}
