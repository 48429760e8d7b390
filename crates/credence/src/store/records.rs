//! A person's own data (right of access and portability), retention facts (when each
//! registration ended), legal holds, and erasure/disposal of what the retention rules allow
//! (see `credence_domain::records` and docs/records.md).

use super::{Store, StoreResult};
use sqlx::{Column, Row};

/// One kind of record in a person's data export: every row, as JSON objects.
#[derive(Debug, Clone)]
pub struct DataSection {
    /// Also the file name in the export: `data/{name}.json`.
    pub name: &'static str,
    /// What the rows are, in words (written into `index.json`).
    pub description: &'static str,
    pub rows: Vec<serde_json::Value>,
}

/// What retention needs about one registration.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationEnd {
    pub registration_id: i64,
    pub centre_id: i64,
    pub qan: String,
    pub status: String,
    /// The first qualification certificate's issue time (any certificate's, kept apart).
    pub qualification_certified_at: Option<String>,
    pub any_certified_at: Option<String>,
    /// The day the latest withdrawal took effect.
    pub withdrawn_on: Option<String>,
    /// The registration an approved transfer moved it to.
    pub moved_to: Option<i64>,
}

/// A legal hold in force.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldRow {
    pub legal_hold_id: i64,
    pub learner_id: Option<i64>,
    pub centre_id: Option<i64>,
    pub reason: String,
    pub placed_at: String,
}

/// What retention needs about one registration, with whose it is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LearnerEnd {
    pub learner_id: i64,
    #[sqlx(flatten)]
    pub end: RegistrationEnd,
}

/// A legal hold, as the records pages list it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HoldListRow {
    pub legal_hold_id: i64,
    pub learner_id: Option<i64>,
    pub centre_id: Option<i64>,
    pub reason: String,
    pub placed_by: String,
    pub placed_at: String,
    /// The learner's name, or the centre's.
    pub subject_name: String,
}

/// One run of the retention job.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct RetentionRunRow {
    pub retention_run_id: i64,
    pub on_day: String,
    pub started_by: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub disposed: i64,
    pub files: i64,
    pub files_left: i64,
    pub held: i64,
}

/// What a disposal removed at one centre.
#[derive(Debug, Clone, Default)]
pub struct Disposed {
    /// Rows removed, by table.
    pub rows: Vec<(&'static str, u64)>,
    /// The evidence files' keys, to remove from the evidence store after the commit.
    pub object_keys: Vec<String>,
}

/// Columns that hold JSON text: exported as JSON, not as a string of it.
const JSON_COLUMNS: &[&str] = &[
    "record",
    "marks",
    "considerations",
    "result",
    "units",
    "reasons",
    "snapshot",
    "attendees",
    "detail",
    "sampled",
];

fn row_json(row: &sqlx::any::AnyRow) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for (i, c) in row.columns().iter().enumerate() {
        let v = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            match v {
                Some(s) if JSON_COLUMNS.contains(&c.name()) => {
                    serde_json::from_str(&s).unwrap_or(serde_json::Value::String(s))
                }
                other => serde_json::json!(other),
            }
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            serde_json::json!(v)
        } else if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
            serde_json::json!(v)
        } else {
            serde_json::Value::Null
        };
        m.insert(c.name().to_string(), v);
    }
    serde_json::Value::Object(m)
}

/// `(1, 2, 3)` for ids (integers only, so safe to write into SQL); `(-1)` for none.
fn id_list(ids: &[i64]) -> String {
    if ids.is_empty() {
        return "(-1)".into();
    }
    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
    format!("({})", list.join(", "))
}

/// Every section of a person's export: name, description, query (`{P}` is the person id,
/// `{L}` the list of their learner records). Passwords, token hashes, second-factor secrets
/// and session tokens are never exported: they are credentials, not information about the
/// person, and would let whoever holds the file act as them.
const SECTIONS: &[(&str, &str, &str)] = &[
    (
        "account",
        "Your account: email, name, whether it is disabled, when it was made and changed (the password is kept only as a one-way hash and is not included).",
        "select person_id, email, display_name, disabled, created_at, updated_at from person where person_id = {P}",
    ),
    (
        "roles",
        "Your roles: learner, assessor, IQA, centre administrator, EQA or awarding organisation staff, and where.",
        "select * from role_grant where person_id = {P} order by role_grant_id",
    ),
    (
        "api_tokens",
        "Your API tokens: name, when made and revoked (the tokens themselves are not kept).",
        "select api_token_id, name, created_at, revoked_at from api_token where person_id = {P} order by api_token_id",
    ),
    (
        "second_factor",
        "Whether you set up a second factor, and when (the secret is not included).",
        "select created_at, confirmed_at from second_factor where person_id = {P}",
    ),
    (
        "email_preferences",
        "What you asked to be emailed about.",
        "select email_events, updated_at from notification_preference where person_id = {P}",
    ),
    (
        "learner_records",
        "Your learner record: ULN, name, date of birth, contact email, as your centre registered you.",
        "select * from learner where learner_id in {L} order by learner_id",
    ),
    (
        "registrations",
        "Your registrations: centre, qualification (or unit), catalogue version, status.",
        "select * from registration where learner_id in {L} order by registration_id",
    ),
    (
        "registration_events",
        "Withdrawals, breaks in learning and resumptions of your registrations, with reasons.",
        "select e.* from registration_event e join registration r on r.registration_id = e.registration_id where r.learner_id in {L} order by e.registration_event_id",
    ),
    (
        "transfers",
        "Transfers between centres: request, reason, decision.",
        "select * from transfer where learner_id in {L} order by transfer_id",
    ),
    (
        "learning_plans",
        "Your learning plans: who chose them and when.",
        "select * from learning_plan where learner_id in {L} order by registration_id",
    ),
    (
        "learning_plan_units",
        "The units in each learning plan.",
        "select u.* from learning_plan_unit u join learning_plan p on p.registration_id = u.registration_id where p.learner_id in {L} order by u.registration_id, u.unit_key",
    ),
    (
        "evidence",
        "Your evidence items: title, date, kind, source, file name, size, SHA-256, who added it, supersession. `file` names the file in this zip.",
        "select * from evidence where learner_id in {L} order by evidence_id",
    ),
    (
        "evidence_mappings",
        "Which assessment criteria each evidence item is mapped to, and where in it.",
        "select * from evidence_mapping where learner_id in {L} order by evidence_mapping_id",
    ),
    (
        "evidence_ksbs",
        "Which apprenticeship knowledge, skills and behaviours each evidence item is mapped to.",
        "select * from evidence_ksb where learner_id in {L} order by evidence_id, ksb",
    ),
    (
        "decisions",
        "Assessment decisions on your criteria (met / not yet met, RPL), with the assessor's feedback.",
        "select * from judgement where learner_id in {L} order by judgement_id",
    ),
    (
        "feedback_replies",
        "Replies on feedback, yours and your assessors'.",
        "select * from criterion_reply where learner_id in {L} order by criterion_reply_id",
    ),
    (
        "signatures",
        "Unit sign-off declarations (yours and your assessors'), with comments and the evidence hash signed.",
        "select * from signature where learner_id in {L} order by signature_id",
    ),
    (
        "authentications",
        "Authentication of your units' evidence: your declaration and the centre's confirmation.",
        "select * from unit_authentication where learner_id in {L} order by unit_authentication_id",
    ),
    (
        "marks",
        "Marks, moderation, considerations, grades and unit results.",
        "select * from unit_result where learner_id in {L} order by unit_result_id",
    ),
    (
        "quality_samples",
        "Internal quality assurance samples of your units.",
        "select * from qa_sample where learner_id in {L} order by sample_id",
    ),
    (
        "quality_decisions",
        "The IQA's decisions on those samples.",
        "select d.* from qa_decision d join qa_sample s on s.sample_id = d.sample_id where s.learner_id in {L} order by d.decision_id",
    ),
    (
        "appeals",
        "Your appeals against assessment decisions and their outcomes.",
        "select * from appeal where learner_id in {L} order by appeal_id",
    ),
    (
        "claims",
        "Claims for your certificates, with the units claimed and their release.",
        "select * from claim where learner_id in {L} order by claim_id",
    ),
    (
        "certificates",
        "Your certificates, as the register keeps them (kept permanently).",
        "select * from certificate where learner_id in {L} order by certificate_id",
    ),
    (
        "legal_holds",
        "Legal holds on your records, if any: they stop disposal until lifted.",
        "select * from legal_hold where learner_id in {L} order by legal_hold_id",
    ),
    (
        "competence",
        "Your competence record as assessor or IQA: occupational competence, awards, CPD.",
        "select * from staff_competence where person_id = {P}",
    ),
    (
        "interests_declared",
        "Personal interests you declared in learners' results.",
        "select * from interest where person_id = {P} order by interest_id",
    ),
    (
        "assignments",
        "Registrations you were assigned to as assessor or IQA.",
        "select * from assignment where person_id = {P} order by assignment_id",
    ),
    (
        "eqa_appointments",
        "Centres you are appointed to as EQA.",
        "select * from eqa_appointment where person_id = {P} order by centre_id",
    ),
    (
        "decisions_made",
        "Assessment decisions you made as an assessor, with your feedback.",
        "select * from judgement where assessor_id = {P} order by judgement_id",
    ),
    (
        "signatures_made",
        "Unit sign-offs you signed as assessor.",
        "select * from signature where person_id = {P} and role = 'assessor' order by signature_id",
    ),
    (
        "authentications_made",
        "Units' evidence you confirmed authentic for a centre.",
        "select * from unit_authentication where person_id = {P} and role = 'centre' order by unit_authentication_id",
    ),
    (
        "results_recorded",
        "Marks and unit results you recorded.",
        "select * from unit_result where recorded_by = {P} order by unit_result_id",
    ),
    (
        "sample_decisions_made",
        "Decisions you made as IQA on samples.",
        "select * from qa_decision where iqa_id = {P} order by decision_id",
    ),
    (
        "standardisation",
        "Standardisation meetings and observations you recorded or were observed in.",
        "select * from standardisation where assessor_id = {P} or recorded_by = {P} order by standardisation_id",
    ),
    (
        "eqa_visits",
        "EQA visits you made, with your findings.",
        "select * from eqa_visit where eqa_id = {P} order by visit_id",
    ),
    (
        "audit_entries",
        "Audit log entries about you or made by you (they name people by id only).",
        "select seq, at, actor, action, subject, centre_id, learner_id, detail, hash from audit_log where learner_id in {L} or actor = 'person:{P}' or actor = 'operator:{P}' or subject = 'person {P}' order by seq",
    ),
];

impl Store {
    /// Everything held about a person (and their learner records), section by section.
    pub async fn personal_data(
        &self,
        person_id: i64,
        learner_ids: &[i64],
    ) -> StoreResult<Vec<DataSection>> {
        let learners = id_list(learner_ids);
        let mut out = Vec::with_capacity(SECTIONS.len());
        for (name, description, sql) in SECTIONS {
            let sql = sql
                .replace("{P}", &person_id.to_string())
                .replace("{L}", &learners);
            let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                .fetch_all(&self.pool)
                .await?;
            out.push(DataSection {
                name,
                description,
                rows: rows.iter().map(row_json).collect(),
            });
        }
        Ok(out)
    }

    /// How each of the learner's registrations stands for retention.
    pub async fn registration_ends(&self, learner_id: i64) -> StoreResult<Vec<RegistrationEnd>> {
        Ok(sqlx::query_as(
            "select r.registration_id, r.centre_id, r.qan, r.status,
                (select min(c.issued_at) from certificate c where c.registration_id = r.registration_id and c.kind = 'qualification') as qualification_certified_at,
                (select min(c.issued_at) from certificate c where c.registration_id = r.registration_id) as any_certified_at,
                (select max(e.effective_on) from registration_event e where e.registration_id = r.registration_id and e.kind = 'withdrawn') as withdrawn_on,
                (select max(t.new_registration_id) from transfer t where t.from_registration_id = r.registration_id and t.status = 'approved') as moved_to
             from registration r where r.learner_id = $1 order by r.registration_id",
        )
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The legal holds in force on the learner, or on any of `centres`.
    pub async fn legal_holds(&self, learner_id: i64, centres: &[i64]) -> StoreResult<Vec<HoldRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select legal_hold_id, learner_id, centre_id, reason, placed_at from legal_hold where lifted_at is null and (learner_id = $1 or centre_id in {}) order by legal_hold_id",
            id_list(centres)
        )))
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Place a legal hold on a learner or a centre (exactly one), with this handle's audit
    /// entry. Returns its id.
    pub async fn place_legal_hold(
        &self,
        learner_id: Option<i64>,
        centre_id: Option<i64>,
        reason: &str,
        by: &str,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into legal_hold (learner_id, centre_id, reason, placed_by, placed_at) values ($1, $2, $3, $4, $5) returning legal_hold_id",
        )
        .bind(learner_id)
        .bind(centre_id)
        .bind(reason)
        .bind(by)
        .bind(super::now())
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, &[("legal_hold", serde_json::json!(id))])
            .await?;
        Ok(id)
    }

    /// Lift a legal hold (kept, with who lifted it and when), with this handle's audit entry.
    pub async fn lift_legal_hold(&self, hold_id: i64, by: &str) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update legal_hold set lifted_by = $1, lifted_at = $2 where legal_hold_id = $3 and lifted_at is null",
        )
        .bind(by)
        .bind(super::now())
        .bind(hold_id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Remove a staff member's competence record (only when nothing needs it any more).
    pub async fn erase_competence(&self, person_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("delete from staff_competence where person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Erase the learner record's optional contact email, with this handle's audit entry.
    /// Whether there was one.
    pub async fn erase_learner_email(&self, learner_id: i64) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update learner set email = null, updated_at = $1 where learner_id = $2 and email is not null",
        )
        .bind(super::now())
        .bind(learner_id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(done.rows_affected() > 0)
    }

    /// Dispose of the learner's portfolio and assessment records made at `centre_id` in one
    /// transaction, with this handle's audit entry: evidence (and its mappings), decisions,
    /// replies, signatures, authentications and marks. The evidence files' keys come back,
    /// to remove from the evidence store once this has committed. IQA samples of the
    /// learner's units (and their decisions) go too.
    pub async fn dispose_learner_records(
        &self,
        learner_id: i64,
        centre_id: i64,
    ) -> StoreResult<Disposed> {
        let mut tx = self.begin().await?;
        let keys: Vec<(String,)> = sqlx::query_as(
            "select object_key from evidence where learner_id = $1 and centre_id = $2 order by evidence_id",
        )
        .bind(learner_id)
        .bind(centre_id)
        .fetch_all(&mut *tx)
        .await?;
        let mut rows = Vec::new();
        for (table, sql) in [
            (
                "evidence_mapping",
                "delete from evidence_mapping where evidence_id in (select evidence_id from evidence where learner_id = $1 and centre_id = $2)",
            ),
            (
                "evidence_ksb",
                "delete from evidence_ksb where evidence_id in (select evidence_id from evidence where learner_id = $1 and centre_id = $2)",
            ),
            (
                "evidence",
                "delete from evidence where learner_id = $1 and centre_id = $2",
            ),
            (
                "judgement",
                "delete from judgement where learner_id = $1 and centre_id = $2",
            ),
            (
                "unit_work",
                "delete from unit_work where learner_id = $1 and centre_id = $2",
            ),
            (
                "criterion_reply",
                "delete from criterion_reply where learner_id = $1 and centre_id = $2",
            ),
            (
                "signature",
                "delete from signature where learner_id = $1 and centre_id = $2",
            ),
            (
                "unit_authentication",
                "delete from unit_authentication where learner_id = $1 and centre_id = $2",
            ),
            (
                "unit_result",
                "delete from unit_result where learner_id = $1 and registration_id in (select registration_id from registration where centre_id = $2)",
            ),
            // A sample swapped out for one of these keeps its reason, not the link.
            (
                "qa_sample_links",
                "update qa_sample set replaced_by = null where replaced_by in (select sample_id from qa_sample where learner_id = $1 and centre_id = $2)",
            ),
            (
                "qa_decision",
                "delete from qa_decision where sample_id in (select sample_id from qa_sample where learner_id = $1 and centre_id = $2)",
            ),
            (
                "qa_sample",
                "delete from qa_sample where learner_id = $1 and centre_id = $2",
            ),
        ] {
            let done = sqlx::query(sql)
                .bind(learner_id)
                .bind(centre_id)
                .execute(&mut *tx)
                .await?;
            rows.push((table, done.rows_affected()));
        }
        self.bump(&mut tx, learner_id).await?;
        let detail: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(t, n)| ((*t).to_string(), serde_json::json!(n)))
            .collect();
        self.commit(tx, &[("removed", serde_json::Value::Object(detail))])
            .await?;
        Ok(Disposed {
            rows,
            object_keys: keys.into_iter().map(|(k,)| k).collect(),
        })
    }

    /// How many portfolio and assessment records of the learner there are at a centre (what
    /// [`Store::dispose_learner_records`] would remove).
    pub async fn records_at(&self, learner_id: i64, centre_id: i64) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "select (select count(*) from evidence where learner_id = $1 and centre_id = $2)
                  + (select count(*) from judgement where learner_id = $1 and centre_id = $2)
                  + (select count(*) from criterion_reply where learner_id = $1 and centre_id = $2)
                  + (select count(*) from signature where learner_id = $1 and centre_id = $2)
                  + (select count(*) from unit_authentication where learner_id = $1 and centre_id = $2)
                  + (select count(*) from unit_result where learner_id = $1 and registration_id in (select registration_id from registration where centre_id = $2))
                  + (select count(*) from qa_sample where learner_id = $1 and centre_id = $2)",
        )
        .bind(learner_id)
        .bind(centre_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// The learners and centres of the records a staff member made (decisions, sign-offs,
    /// authentications, results): their retention is those learners'.
    pub async fn records_made_by(&self, person_id: i64) -> StoreResult<Vec<(i64, i64)>> {
        Ok(sqlx::query_as(
            "select distinct learner_id, centre_id from (
                select learner_id, centre_id from judgement where assessor_id = $1
                union select learner_id, centre_id from signature where person_id = $1 and role = 'assessor'
                union select learner_id, centre_id from unit_authentication where person_id = $1 and role = 'centre'
                union select s.learner_id, s.centre_id from qa_decision d join qa_sample s on s.sample_id = d.sample_id where d.iqa_id = $1
             ) made where centre_id is not null order by learner_id, centre_id",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The learners with a registration that ended (a certificate issued, a withdrawal taking
    /// effect) before `before` (YYYY-MM-DD), at one of `centres` (every centre: `None`):
    /// those whose records could fall due. Bounded by the day, not by the table's size.
    pub async fn learners_ended_before(
        &self,
        before: &str,
        centres: Option<&[i64]>,
    ) -> StoreResult<Vec<i64>> {
        let at = match centres {
            Some(c) => format!(" and r.centre_id in {}", id_list(c)),
            None => String::new(),
        };
        let rows: Vec<(i64,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select distinct r.learner_id from registration r where (
                exists (select 1 from certificate c where c.registration_id = r.registration_id and c.issued_at < $1)
                or exists (select 1 from registration_event e where e.registration_id = r.registration_id and e.kind = 'withdrawn' and e.effective_on < $1)
                or r.status = 'transferred'){at}
             order by r.learner_id"
        )))
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(l,)| l).collect())
    }

    /// How each registration of `learners` stands for retention (see
    /// [`Store::registration_ends`]).
    pub async fn registration_ends_of(&self, learners: &[i64]) -> StoreResult<Vec<LearnerEnd>> {
        let mut out = Vec::new();
        for chunk in learners.chunks(500) {
            let rows: Vec<LearnerEnd> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select r.learner_id, r.registration_id, r.centre_id, r.qan, r.status,
                    (select min(c.issued_at) from certificate c where c.registration_id = r.registration_id and c.kind = 'qualification') as qualification_certified_at,
                    (select min(c.issued_at) from certificate c where c.registration_id = r.registration_id) as any_certified_at,
                    (select max(e.effective_on) from registration_event e where e.registration_id = r.registration_id and e.kind = 'withdrawn') as withdrawn_on,
                    (select max(t.new_registration_id) from transfer t where t.from_registration_id = r.registration_id and t.status = 'approved') as moved_to
                 from registration r where r.learner_id in {} order by r.learner_id, r.registration_id",
                id_list(chunk)
            )))
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// How many portfolio and assessment records each of `learners` has, per centre (what
    /// [`Store::dispose_learner_records`] would remove); pairs with none are left out.
    pub async fn records_per_centre(&self, learners: &[i64]) -> StoreResult<Vec<(i64, i64, i64)>> {
        let mut out = Vec::new();
        for chunk in learners.chunks(500) {
            let l = id_list(chunk);
            let rows: Vec<(i64, i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select learner_id, centre_id, count(*) as n from (
                    select learner_id, centre_id from evidence where learner_id in {l}
                    union all select learner_id, centre_id from judgement where learner_id in {l}
                    union all select learner_id, centre_id from criterion_reply where learner_id in {l}
                    union all select learner_id, centre_id from signature where learner_id in {l}
                    union all select learner_id, centre_id from unit_authentication where learner_id in {l}
                    union all select u.learner_id, r.centre_id from unit_result u join registration r on r.registration_id = u.registration_id where u.learner_id in {l}
                    union all select learner_id, centre_id from qa_sample where learner_id in {l}
                 ) made where centre_id is not null group by learner_id, centre_id order by learner_id, centre_id"
            )))
            .fetch_all(&self.pool)
            .await?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Every legal hold in force, with the name of what it covers, newest first.
    pub async fn holds_in_force(&self) -> StoreResult<Vec<HoldListRow>> {
        Ok(sqlx::query_as(
            "select h.legal_hold_id, h.learner_id, h.centre_id, h.reason, h.placed_by, h.placed_at,
                coalesce((select l.given_name || ' ' || l.family_name from learner l where l.learner_id = h.learner_id),
                         (select c.name from centre c where c.centre_id = h.centre_id), '') as subject_name
             from legal_hold h where h.lifted_at is null order by h.legal_hold_id desc",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// A legal hold in force, by id.
    pub async fn hold_in_force(&self, hold_id: i64) -> StoreResult<Option<HoldListRow>> {
        Ok(self
            .holds_in_force()
            .await?
            .into_iter()
            .find(|h| h.legal_hold_id == hold_id))
    }

    /// Start a retention run for `on_day`, with this handle's audit entry. Returns its id.
    pub async fn start_retention_run(&self, on_day: &str, by: &str) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into retention_run (on_day, started_by, started_at) values ($1, $2, $3) returning retention_run_id",
        )
        .bind(on_day)
        .bind(by)
        .bind(super::now())
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, &[("run", serde_json::json!(id))]).await?;
        Ok(id)
    }

    /// Record what a retention run came to, with this handle's audit entry.
    pub async fn finish_retention_run(
        &self,
        run_id: i64,
        disposed: i64,
        files: i64,
        files_left: i64,
        held: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "update retention_run set finished_at = $1, disposed = $2, files = $3, files_left = $4, held = $5 where retention_run_id = $6",
        )
        .bind(super::now())
        .bind(disposed)
        .bind(files)
        .bind(files_left)
        .bind(held)
        .bind(run_id)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// The latest retention runs, newest first.
    pub async fn retention_runs(&self, limit: i64) -> StoreResult<Vec<RetentionRunRow>> {
        Ok(sqlx::query_as(
            "select retention_run_id, on_day, started_by, started_at, finished_at, disposed, files, files_left, held
             from retention_run order by retention_run_id desc limit $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// How many evidence files the learner has at a centre, and their bytes.
    pub async fn evidence_files_at(
        &self,
        learner_id: i64,
        centre_id: i64,
    ) -> StoreResult<(i64, i64)> {
        let (n, bytes): (i64, i64) = sqlx::query_as(
            "select count(*), cast(coalesce(sum(size), 0) as bigint) from evidence where learner_id = $1 and centre_id = $2",
        )
        .bind(learner_id)
        .bind(centre_id)
        .fetch_one(&self.pool)
        .await?;
        Ok((n, bytes))
    }

    /// The centres approved for any of `ao`'s qualifications or units.
    pub async fn centres_of_ao(&self, ao: &str) -> StoreResult<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "select distinct centre_id from centre_approval where ao_code = $1 order by centre_id",
        )
        .bind(ao)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(c,)| c).collect())
    }
}
