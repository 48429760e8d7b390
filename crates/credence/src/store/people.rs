//! People, centres, roles, sessions, tokens, learners, registrations and the audit log.

use super::{Store, StoreError, StoreResult, now};
use sqlx::Any;
use std::collections::HashMap;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PersonRow {
    pub person_id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: Option<String>,
    pub disabled: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CentreRow {
    pub centre_id: i64,
    pub name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CentreAoRow {
    pub centre_id: i64,
    pub ao_code: String,
    pub direct_claim_status: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApprovalRow {
    pub centre_id: i64,
    pub qan: String,
    pub ao_code: String,
    pub created_at: String,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct GrantRow {
    pub role_grant_id: i64,
    pub person_id: i64,
    #[sqlx(try_from = "String")]
    pub role: super::Role,
    pub ao_code: Option<String>,
    pub centre_id: Option<i64>,
    pub learner_id: Option<i64>,
    /// The centre's name, where the grant is at a centre (read with the grants on every
    /// request, so pages need not read the centres again).
    #[sqlx(default)]
    pub centre_name: Option<String>,
}

/// Whose roles [`Store::holder_with_roles`] reads: a person's, or a credential's holder.
#[derive(Clone, Copy)]
enum Holder<'a> {
    Person(i64),
    Token(&'a str),
    Session(&'a str),
}

/// The person behind a credential (a session or an API token), with their roles.
#[derive(Debug, Clone)]
pub struct CredentialHolder {
    pub person: PersonRow,
    pub grants: Vec<GrantRow>,
    /// (centre, AO) of each EQA appointment.
    pub eqa_centres: Vec<(i64, String)>,
    /// A session's role in use.
    pub active_grant_id: Option<i64>,
    /// A session's CSRF token.
    pub csrf_token: Option<String>,
    /// A session that passed a second factor, or the token of a person who has one.
    pub second_factor: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LearnerRow {
    pub learner_id: i64,
    pub uln: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub email: Option<String>,
}

/// A registration in a caseload, with the learner's portfolio stamp.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CaseloadRow {
    #[sqlx(flatten)]
    pub registration: RegistrationRow,
    pub stamp: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RegistrationRow {
    pub registration_id: i64,
    pub learner_id: i64,
    pub centre_id: i64,
    pub qan: String,
    pub catalogue_version_id: i64,
    #[sqlx(try_from = "String")]
    pub status: super::RegistrationStatus,
    pub registered_at: String,
    pub uln: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub centre_name: String,
    /// The awarding organisation whose qualification this is.
    pub ao_code: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditRow {
    pub seq: i64,
    pub at: String,
    pub actor: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub subject: String,
    pub centre_id: Option<i64>,
    pub learner_id: Option<i64>,
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
    pub hash_version: i64,
}

/// A learner and registration to create in a bulk registration.
#[derive(Debug, Clone)]
pub struct NewLearnerRegistration {
    pub uln: Option<String>,
    pub given_name: String,
    pub family_name: String,
    pub date_of_birth: String,
    pub email: Option<String>,
    pub qan: String,
    pub catalogue_version_id: i64,
    /// The units chosen at registration (unit keys, already checked against the rules of
    /// combination): the registration's plan. Empty: no plan chosen yet.
    pub units: Vec<String>,
    /// Who chose them (the person registering).
    pub plan_by: Option<i64>,
}

const REGISTRATION_SELECT: &str = "select r.registration_id, r.learner_id, r.centre_id, r.qan, r.catalogue_version_id, r.status, r.registered_at, \
     l.uln, l.given_name, l.family_name, l.date_of_birth, c.name as centre_name, v.ao_code \
     from registration r join learner l on l.learner_id = r.learner_id join centre c on c.centre_id = r.centre_id \
     join catalogue_version v on v.catalogue_version_id = r.catalogue_version_id";

impl Store {
    // --- people -------------------------------------------------------------------------

    pub async fn insert_person(
        &self,
        email: &str,
        display_name: &str,
        password_hash: Option<&str>,
    ) -> StoreResult<i64> {
        let at = now();
        if self.person_by_email(email).await?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a person with the email {email} already exists"
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "insert into person (email, display_name, password_hash, disabled, created_at, updated_at) values ($1, $2, $3, 0, $4, $4) returning person_id",
        )
        .bind(email.to_lowercase())
        .bind(display_name)
        .bind(password_hash)
        .bind(&at)
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn person_by_email(&self, email: &str) -> StoreResult<Option<PersonRow>> {
        Ok(sqlx::query_as(
            "select person_id, email, display_name, password_hash, disabled from person where email = $1",
        )
        .bind(email.to_lowercase())
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn person(&self, id: i64) -> StoreResult<Option<PersonRow>> {
        Ok(sqlx::query_as(
            "select person_id, email, display_name, password_hash, disabled from person where person_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn set_password(&self, person_id: i64, hash: &str) -> StoreResult<()> {
        sqlx::query("update person set password_hash = $1, updated_at = $2 where person_id = $3")
            .bind(hash)
            .bind(now())
            .bind(person_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // --- centres ------------------------------------------------------------------------

    /// A new centre working with an AO, in one transaction (with this handle's audit entry,
    /// which is given the centre's id).
    pub async fn create_centre(&self, name: &str, ao_code: &str) -> StoreResult<i64> {
        let at = now();
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into centre (name, created_at, updated_at) values ($1, $2, $2) returning centre_id",
        )
        .bind(name)
        .bind(&at)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                StoreError::Conflict(format!("a centre called '{name}' already exists"))
            } else {
                StoreError::from(e)
            }
        })?;
        ensure_centre_ao(&mut tx, id, ao_code, &at).await?;
        self.commit(tx, &[("centre", id.into())]).await?;
        Ok(id)
    }

    pub async fn insert_centre(&self, name: &str) -> StoreResult<i64> {
        let exists: Option<(i64,)> = sqlx::query_as("select centre_id from centre where name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        if exists.is_some() {
            return Err(StoreError::Conflict(format!(
                "a centre named {name} already exists"
            )));
        }
        let (id,): (i64,) = sqlx::query_as(
            "insert into centre (name, created_at, updated_at) values ($1, $2, $2) returning centre_id",
        )
        .bind(name)
        .bind(now())
        .fetch_one(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn centres(&self) -> StoreResult<Vec<CentreRow>> {
        Ok(
            sqlx::query_as("select centre_id, name from centre order by name")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn centre(&self, id: i64) -> StoreResult<Option<CentreRow>> {
        Ok(
            sqlx::query_as("select centre_id, name from centre where centre_id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// One page of the centres that work with any of `aos`, or are among `also` (an EQA's
    /// appointments, the centres someone has a role at), by name, optionally only those whose
    /// name contains `name_part`; with how many there are in all. Reads the page, not the
    /// table: two statements whatever the number of centres.
    pub async fn centres_page(
        &self,
        aos: &[String],
        also: &[i64],
        name_part: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> StoreResult<(Vec<CentreRow>, i64)> {
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let mut reach = Vec::new();
        if !aos.is_empty() {
            let marks: Vec<String> = aos.iter().map(|_| next()).collect();
            reach.push(format!(
                "exists (select 1 from centre_ao a where a.centre_id = c.centre_id and a.ao_code in ({}))",
                marks.join(", ")
            ));
        }
        if !also.is_empty() {
            let ids: Vec<String> = also.iter().map(i64::to_string).collect();
            reach.push(format!("c.centre_id in ({})", ids.join(",")));
        }
        if reach.is_empty() {
            return Ok((Vec::new(), 0));
        }
        let like = name_part.and_then(super::contains_pattern);
        let mut filter = format!("({})", reach.join(" or "));
        if like.is_some() {
            filter.push_str(&format!(" and lower(c.name) like {} escape '\\'", next()));
        }
        let (lim, off) = (next(), next());
        let mut page = sqlx::query_as::<_, CentreRow>(sqlx::AssertSqlSafe(format!(
            "select c.centre_id, c.name from centre c where {filter} order by c.name, c.centre_id limit {lim} offset {off}"
        )));
        for a in aos {
            page = page.bind(a.clone());
        }
        if let Some(l) = &like {
            page = page.bind(l.clone());
        }
        let rows = page.bind(limit).bind(offset).fetch_all(&self.pool).await?;
        let mut count = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
            "select count(*) from centre c where {filter}"
        )));
        for a in aos {
            count = count.bind(a.clone());
        }
        if let Some(l) = &like {
            count = count.bind(l.clone());
        }
        let total = count.fetch_one(&self.pool).await?;
        Ok((rows, total))
    }

    /// The AOs of these centres, by centre, in one query.
    pub async fn aos_of_centres(
        &self,
        centres: &[i64],
    ) -> StoreResult<HashMap<i64, Vec<CentreAoRow>>> {
        self.by_centre(
            "select centre_id, ao_code, direct_claim_status from centre_ao where centre_id in ({ids}) order by centre_id, ao_code",
            centres,
            |r: &CentreAoRow| r.centre_id,
        )
        .await
    }

    /// The rows of `sql` for these centres, by centre, in one statement: `sql` has `{ids}`
    /// where the list of centres goes.
    pub(crate) async fn by_centre<T>(
        &self,
        sql: &str,
        centres: &[i64],
        centre_of: fn(&T) -> i64,
    ) -> StoreResult<HashMap<i64, Vec<T>>>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
    {
        let mut out: HashMap<i64, Vec<T>> = HashMap::new();
        if centres.is_empty() {
            return Ok(out);
        }
        let ids: Vec<String> = centres.iter().map(i64::to_string).collect();
        let rows: Vec<T> =
            sqlx::query_as(sqlx::AssertSqlSafe(sql.replace("{ids}", &ids.join(","))))
                .fetch_all(&self.pool)
                .await?;
        for r in rows {
            out.entry(centre_of(&r)).or_default().push(r);
        }
        Ok(out)
    }

    /// Every centre's AOs, by centre, in one query (the centre list read them a centre at a
    /// time: 2,000 queries for an AO's list).
    pub async fn all_centre_aos(&self) -> StoreResult<HashMap<i64, Vec<CentreAoRow>>> {
        let rows: Vec<CentreAoRow> = sqlx::query_as(
            "select centre_id, ao_code, direct_claim_status from centre_ao order by centre_id, ao_code",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<i64, Vec<CentreAoRow>> = HashMap::new();
        for r in rows {
            out.entry(r.centre_id).or_default().push(r);
        }
        Ok(out)
    }

    pub async fn centre_aos(&self, centre_id: i64) -> StoreResult<Vec<CentreAoRow>> {
        Ok(sqlx::query_as(
            "select centre_id, ao_code, direct_claim_status from centre_ao where centre_id = $1 order by ao_code",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The per-AO flag direct claim status was before migration 7 made it per
    /// qualification (`direct_claim`); nothing reads it now. Kept so a test can make a
    /// database as it was.
    pub async fn set_direct_claim_status(
        &self,
        centre_id: i64,
        ao_code: &str,
        dcs: bool,
    ) -> StoreResult<()> {
        let at = now();
        let mut tx = self.begin().await?;
        ensure_centre_ao(&mut tx, centre_id, ao_code, &at).await?;
        sqlx::query("update centre_ao set direct_claim_status = $1, updated_at = $2 where centre_id = $3 and ao_code = $4")
            .bind(i64::from(dcs))
            .bind(&at)
            .bind(centre_id)
            .bind(ao_code)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// Approve a centre for a qualification (idempotent: an existing approval stands).
    pub async fn approve_centre(
        &self,
        centre_id: i64,
        qan: &str,
        ao_code: &str,
        by: Option<i64>,
    ) -> StoreResult<bool> {
        let at = now();
        let mut tx = self.begin().await?;
        ensure_centre_ao(&mut tx, centre_id, ao_code, &at).await?;
        let exists: Option<(String,)> =
            sqlx::query_as("select qan from centre_approval where centre_id = $1 and qan = $2")
                .bind(centre_id)
                .bind(qan)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_some() {
            return Ok(false);
        }
        sqlx::query("insert into centre_approval (centre_id, qan, ao_code, approved_by, created_at) values ($1, $2, $3, $4, $5)")
            .bind(centre_id)
            .bind(qan)
            .bind(ao_code)
            .bind(by)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(true)
    }

    /// The approvals of these centres, by centre, in one query.
    pub async fn approvals_of_centres(
        &self,
        centres: &[i64],
    ) -> StoreResult<HashMap<i64, Vec<ApprovalRow>>> {
        self.by_centre(
            "select centre_id, qan, ao_code, created_at from centre_approval where centre_id in ({ids}) order by centre_id, qan",
            centres,
            |r: &ApprovalRow| r.centre_id,
        )
        .await
    }

    pub async fn approvals(&self, centre_id: i64) -> StoreResult<Vec<ApprovalRow>> {
        Ok(sqlx::query_as(
            "select centre_id, qan, ao_code, created_at from centre_approval where centre_id = $1 order by qan",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    // --- roles --------------------------------------------------------------------------

    pub async fn grant_role(
        &self,
        person_id: i64,
        role: &str,
        ao_code: Option<&str>,
        centre_id: Option<i64>,
        learner_id: Option<i64>,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        if let Some(g) = self.grants(person_id).await?.into_iter().find(|g| {
            g.role == role
                && g.ao_code.as_deref() == ao_code
                && g.centre_id == centre_id
                && g.learner_id == learner_id
        }) {
            return Ok(g.role_grant_id);
        }
        let (id,): (i64,) = sqlx::query_as(
            "insert into role_grant (person_id, role, ao_code, centre_id, learner_id, created_at) values ($1, $2, $3, $4, $5, $6) returning role_grant_id",
        )
        .bind(person_id)
        .bind(role)
        .bind(ao_code)
        .bind(centre_id)
        .bind(learner_id)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    pub async fn grants(&self, person_id: i64) -> StoreResult<Vec<GrantRow>> {
        Ok(sqlx::query_as(
            "select role_grant_id, person_id, role, ao_code, centre_id, learner_id from role_grant where person_id = $1 order by role_grant_id",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn appoint_eqa(
        &self,
        person_id: i64,
        centre_id: i64,
        ao_code: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let exists: Option<(i64,)> = sqlx::query_as(
            "select person_id from eqa_appointment where person_id = $1 and centre_id = $2 and ao_code = $3",
        )
        .bind(person_id)
        .bind(centre_id)
        .bind(ao_code)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_none() {
            sqlx::query("insert into eqa_appointment (person_id, centre_id, ao_code, created_at) values ($1, $2, $3, $4)")
                .bind(person_id)
                .bind(centre_id)
                .bind(ao_code)
                .bind(now())
                .execute(&mut *tx)
                .await?;
        }
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// Centres an EQA is appointed to.
    /// The display names of these people, in one round trip (at most a few hundred ids).
    pub async fn display_names(&self, ids: &[i64]) -> StoreResult<HashMap<i64, String>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let rows: Vec<(i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select person_id, display_name from person where person_id in ({list})"
        )))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }

    /// A person with their roles and EQA appointments, in one round trip (every signed-in
    /// request reads them): `None` if there is no such person.
    pub async fn person_with_roles(
        &self,
        person_id: i64,
    ) -> StoreResult<Option<(PersonRow, Vec<GrantRow>, Vec<(i64, String)>)>> {
        Ok(self
            .holder_with_roles(Holder::Person(person_id))
            .await?
            .map(|h| (h.person, h.grants, h.eqa_centres)))
    }

    /// The holder of a live session, with the session's role in use, CSRF token and second
    /// factor, and their roles: one query for every signed-in page.
    pub async fn session_holder(&self, hash: &str) -> StoreResult<Option<CredentialHolder>> {
        self.holder_with_roles(Holder::Session(hash)).await
    }

    /// The holder of a live API token, whether they have a confirmed second factor, and
    /// their roles: one query for every API request.
    pub async fn token_holder(&self, hash: &str) -> StoreResult<Option<CredentialHolder>> {
        self.holder_with_roles(Holder::Token(hash)).await
    }

    async fn holder_with_roles(&self, holder: Holder<'_>) -> StoreResult<Option<CredentialHolder>> {
        // `who`: the person, and what the credential says (x: the role in use, y: the CSRF
        // token, z: second factor), then the person, their grants and appointments in one
        // union, told apart by k.
        let who = match holder {
            Holder::Person(_) => {
                "select person_id, cast(null as bigint) as x, cast(null as text) as y, cast(0 as bigint) as z \
                 from person where person_id = $1"
            }
            Holder::Token(_) => {
                "select t.person_id, cast(null as bigint) as x, cast(null as text) as y, \
                 cast(case when f.confirmed_at is null then 0 else 1 end as bigint) as z \
                 from api_token t left join second_factor f on f.person_id = t.person_id \
                 where t.token_hash = $1 and t.revoked_at is null"
            }
            Holder::Session(_) => {
                "select person_id, active_grant_id as x, csrf_token as y, cast(second_factor as bigint) as z \
                 from session where session_hash = $1 and expires_at > $2"
            }
        };
        type Row = (
            i64,
            i64,
            Option<String>,
            Option<String>,
            Option<i64>,
            Option<i64>,
            Option<String>,
            Option<i64>,
        );
        let sql = format!(
            "with who as ({who}) \
             select cast(0 as bigint) as k, p.person_id as id, p.email as a, p.display_name as b, p.disabled as c, w.x as d, w.y as e, w.z as f \
               from person p join who w on w.person_id = p.person_id \
             union all select cast(1 as bigint), g.role_grant_id, g.role, g.ao_code, g.centre_id, g.learner_id, c.name, cast(null as bigint) \
               from role_grant g join who w on w.person_id = g.person_id left join centre c on c.centre_id = g.centre_id \
             union all select cast(2 as bigint), e.centre_id, e.ao_code, cast(null as text), cast(null as bigint), cast(null as bigint), cast(null as text), cast(null as bigint) \
               from eqa_appointment e join who w on w.person_id = e.person_id \
             order by 1, 2"
        );
        let query = sqlx::query_as::<_, Row>(sqlx::AssertSqlSafe(sql));
        let query = match holder {
            Holder::Person(id) => query.bind(id),
            Holder::Token(hash) => query.bind(hash.to_string()),
            Holder::Session(hash) => query.bind(hash.to_string()).bind(now()),
        };
        let rows = query.fetch_all(&self.pool).await?;
        let mut found: Option<CredentialHolder> = None;
        for (k, id, a, b, c, d, e, f) in rows {
            match (k, found.as_mut()) {
                (0, _) => {
                    found = Some(CredentialHolder {
                        person: PersonRow {
                            person_id: id,
                            email: a.unwrap_or_default(),
                            display_name: b.unwrap_or_default(),
                            password_hash: None,
                            disabled: c.unwrap_or(0),
                        },
                        grants: Vec::new(),
                        eqa_centres: Vec::new(),
                        active_grant_id: d,
                        csrf_token: e,
                        second_factor: f.unwrap_or(0) != 0,
                    })
                }
                (1, Some(h)) => h.grants.push(GrantRow {
                    role_grant_id: id,
                    person_id: h.person.person_id,
                    role: super::Role::try_from(a.unwrap_or_default())
                        .map_err(StoreError::Corrupt)?,
                    ao_code: b,
                    centre_id: c,
                    learner_id: d,
                    centre_name: e,
                }),
                (_, Some(h)) => h.eqa_centres.push((id, a.unwrap_or_default())),
                (_, None) => {}
            }
        }
        Ok(found)
    }

    pub async fn eqa_centres(&self, person_id: i64) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as("select centre_id, ao_code from eqa_appointment where person_id = $1 order by centre_id")
            .bind(person_id)
            .fetch_all(&self.pool)
            .await?)
    }

    // --- sessions and tokens ------------------------------------------------------------

    pub async fn create_session(
        &self,
        hash: &str,
        person_id: i64,
        csrf: &str,
        expires_at: &str,
        second_factor: bool,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("insert into session (session_hash, person_id, csrf_token, active_grant_id, created_at, expires_at, second_factor) values ($1, $2, $3, null, $4, $5, $6)")
            .bind(hash)
            .bind(person_id)
            .bind(csrf)
            .bind(now())
            .bind(expires_at)
            .bind(i64::from(second_factor))
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// A live session (not expired).
    pub async fn delete_session(&self, hash: &str) -> StoreResult<()> {
        sqlx::query("delete from session where session_hash = $1")
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn set_active_grant(&self, hash: &str, grant: i64) -> StoreResult<()> {
        sqlx::query("update session set active_grant_id = $1 where session_hash = $2")
            .bind(grant)
            .bind(hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn create_api_token(
        &self,
        person_id: i64,
        name: &str,
        hash: &str,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into api_token (person_id, name, token_hash, created_at) values ($1, $2, $3, $4) returning api_token_id",
        )
        .bind(person_id)
        .bind(name)
        .bind(hash)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    /// The person a live (unrevoked) API token belongs to.
    pub async fn api_tokens(
        &self,
        person_id: i64,
    ) -> StoreResult<Vec<(i64, String, String, Option<String>)>> {
        Ok(sqlx::query_as(
            "select api_token_id, name, created_at, revoked_at from api_token where person_id = $1 order by api_token_id",
        )
        .bind(person_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn revoke_api_token(&self, person_id: i64, token_id: i64) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query("update api_token set revoked_at = $1 where api_token_id = $2 and person_id = $3 and revoked_at is null")
            .bind(now())
            .bind(token_id)
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        self.commit(tx, &[]).await?;
        Ok(())
    }

    // --- sign-in rate limiting ----------------------------------------------------------

    pub async fn record_sign_in_failure(&self, email: &str, address: &str) -> StoreResult<()> {
        sqlx::query("insert into sign_in_failure (email, address, at) values ($1, $2, $3)")
            .bind(email.to_lowercase())
            .bind(address)
            .bind(now())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Failed sign-ins since `since` for this account and for this address.
    pub async fn sign_in_failures(
        &self,
        email: &str,
        address: &str,
        since: &str,
    ) -> StoreResult<(i64, i64)> {
        let (by_email,): (i64,) =
            sqlx::query_as("select count(*) from sign_in_failure where email = $1 and at > $2")
                .bind(email.to_lowercase())
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        let (by_address,): (i64,) =
            sqlx::query_as("select count(*) from sign_in_failure where address = $1 and at > $2")
                .bind(address)
                .bind(since)
                .fetch_one(&self.pool)
                .await?;
        Ok((by_email, by_address))
    }

    pub async fn clear_sign_in_failures(&self, email: &str) -> StoreResult<()> {
        sqlx::query("delete from sign_in_failure where email = $1")
            .bind(email.to_lowercase())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // --- learners and registrations -----------------------------------------------------

    pub async fn learner_by_uln(&self, uln: &str) -> StoreResult<Option<LearnerRow>> {
        Ok(sqlx::query_as(
            "select learner_id, uln, given_name, family_name, date_of_birth, email from learner where uln = $1",
        )
        .bind(uln)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The learners on record with any of these ULNs.
    pub async fn learners_by_ulns(&self, ulns: &[String]) -> StoreResult<Vec<LearnerRow>> {
        let mut out = Vec::new();
        for chunk in ulns.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "select learner_id, uln, given_name, family_name, date_of_birth, email from learner where uln in ({})",
                placeholders.join(", ")
            );
            let mut q = sqlx::query_as::<Any, LearnerRow>(sqlx::AssertSqlSafe(sql));
            for u in chunk {
                q = q.bind(u);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }

    pub async fn learner(&self, id: i64) -> StoreResult<Option<LearnerRow>> {
        Ok(sqlx::query_as(
            "select learner_id, uln, given_name, family_name, date_of_birth, email from learner where learner_id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The (learner ULN, QAN) pairs already registered at a centre, for duplicate checks.
    pub async fn centre_registration_keys(
        &self,
        centre_id: i64,
    ) -> StoreResult<Vec<(Option<String>, String, String, String, String)>> {
        Ok(sqlx::query_as(
            "select l.uln, l.given_name, l.family_name, l.date_of_birth, r.qan from registration r join learner l on l.learner_id = r.learner_id where r.centre_id = $1",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn registrations_at_centre(
        &self,
        centre_id: i64,
        limit: i64,
    ) -> StoreResult<Vec<RegistrationRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REGISTRATION_SELECT} where r.centre_id = $1 order by r.registration_id desc limit $2"
        )))
        .bind(centre_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn registrations_of_learner(
        &self,
        learner_id: i64,
    ) -> StoreResult<Vec<RegistrationRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REGISTRATION_SELECT} where r.learner_id = $1 order by r.registration_id"
        )))
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Every registration on any version of a specification (by its key), oldest first.
    pub async fn registrations_on_spec(&self, spec_key: &str) -> StoreResult<Vec<RegistrationRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REGISTRATION_SELECT} where v.spec_key = $1 order by r.centre_id, r.registration_id"
        )))
        .bind(spec_key)
        .fetch_all(&self.pool)
        .await?)
    }

    /// For each of these centres: how many qualifications it is approved for and how many
    /// registrations it has, in two queries (a list of centres read them two queries a centre).
    pub async fn centre_counts(&self, centres: &[i64]) -> StoreResult<HashMap<i64, (i64, i64)>> {
        let mut out: HashMap<i64, (i64, i64)> = centres.iter().map(|c| (*c, (0, 0))).collect();
        if centres.is_empty() {
            return Ok(out);
        }
        let list = centres
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let approvals: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select centre_id, count(*) from centre_approval where centre_id in ({list}) group by centre_id"
        )))
        .fetch_all(&self.pool)
        .await?;
        let registrations: Vec<(i64, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "select centre_id, count(*) from registration where centre_id in ({list}) group by centre_id"
        )))
        .fetch_all(&self.pool)
        .await?;
        for (c, n) in approvals {
            out.entry(c).or_default().0 = n;
        }
        for (c, n) in registrations {
            out.entry(c).or_default().1 = n;
        }
        Ok(out)
    }

    pub async fn count_registrations(&self, centre_id: i64) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as("select count(*) from registration where centre_id = $1")
            .bind(centre_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// Register learners at a centre in one transaction: a learner with a ULN already on
    /// record keeps their one record; the others are created. All or nothing. `progress`
    /// is called with the number of rows done. Returns each row's learner id.
    pub async fn register_learners(
        &self,
        centre_id: i64,
        rows: &[NewLearnerRegistration],
        mut progress: impl FnMut(usize),
    ) -> StoreResult<Vec<i64>> {
        // 200 rows x 8 values stays far below both databases' bind-parameter limits.
        const CHUNK: usize = 200;
        let at = now();
        let mut tx = self.begin().await?;
        let mut all_ids = Vec::with_capacity(rows.len());
        for chunk in rows.chunks(CHUNK) {
            let mut ids: Vec<Option<i64>> = vec![None; chunk.len()];
            // Learners already on record, by ULN (earlier chunks included: same transaction).
            let ulns: Vec<&str> = chunk.iter().filter_map(|r| r.uln.as_deref()).collect();
            let mut by_uln: HashMap<String, i64> = HashMap::new();
            if !ulns.is_empty() {
                let placeholders: Vec<String> = (1..=ulns.len()).map(|i| format!("${i}")).collect();
                let sql = format!(
                    "select uln, learner_id from learner where uln in ({})",
                    placeholders.join(", ")
                );
                let mut q = sqlx::query_as::<Any, (String, i64)>(sqlx::AssertSqlSafe(sql));
                for u in &ulns {
                    q = q.bind(*u);
                }
                by_uln.extend(q.fetch_all(&mut *tx).await?);
            }
            // New learners: each ULN once; rows without a ULN each make a learner.
            let mut fresh: Vec<usize> = Vec::new();
            let mut seen_uln = std::collections::HashSet::new();
            for (i, r) in chunk.iter().enumerate() {
                match &r.uln {
                    Some(u) if by_uln.contains_key(u) => {}
                    Some(u) => {
                        if seen_uln.insert(u.clone()) {
                            fresh.push(i);
                        }
                    }
                    None => fresh.push(i),
                }
            }
            if !fresh.is_empty() {
                let n = fresh.len();
                let mut sql = String::from(
                    "insert into learner (uln, given_name, family_name, date_of_birth, email, created_at, updated_at) values ",
                );
                for k in 0..n {
                    let b = k * 5;
                    if k > 0 {
                        sql.push_str(", ");
                    }
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${t}, ${t})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        t = n * 5 + 1
                    ));
                }
                sql.push_str(" returning learner_id, uln, given_name, family_name, date_of_birth");
                let mut q = sqlx::query_as::<Any, (i64, Option<String>, String, String, String)>(
                    sqlx::AssertSqlSafe(sql),
                );
                for &i in &fresh {
                    let r = &chunk[i];
                    q = q
                        .bind(r.uln.as_deref())
                        .bind(&r.given_name)
                        .bind(&r.family_name)
                        .bind(&r.date_of_birth)
                        .bind(r.email.as_deref());
                }
                // Rows come back matched by what identifies them; learners without a ULN
                // and with identical details are interchangeable.
                type Details = (Option<String>, String, String, String);
                let mut by_details: HashMap<Details, Vec<i64>> = HashMap::new();
                for (id, uln, g, f, d) in q.bind(&at).fetch_all(&mut *tx).await? {
                    by_details.entry((uln, g, f, d)).or_default().push(id);
                }
                for &i in &fresh {
                    let r = &chunk[i];
                    let key = (
                        r.uln.clone(),
                        r.given_name.clone(),
                        r.family_name.clone(),
                        r.date_of_birth.clone(),
                    );
                    let id = by_details.get_mut(&key).and_then(Vec::pop).ok_or_else(|| {
                        StoreError::Corrupt("a learner just inserted was not returned".into())
                    })?;
                    ids[i] = Some(id);
                    if let Some(u) = &r.uln {
                        by_uln.insert(u.clone(), id);
                    }
                }
            }
            for (i, r) in chunk.iter().enumerate() {
                if ids[i].is_none() {
                    ids[i] = r.uln.as_ref().and_then(|u| by_uln.get(u)).copied();
                }
            }
            let ids: Vec<i64> = ids
                .into_iter()
                .map(|id| id.ok_or_else(|| StoreError::Corrupt("a row has no learner".into())))
                .collect::<StoreResult<_>>()?;
            let n = chunk.len();
            let mut sql = String::from(
                "insert into registration (learner_id, centre_id, qan, catalogue_version_id, status, registered_at, created_at, updated_at) values ",
            );
            for k in 0..n {
                let b = k * 3;
                if k > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!(
                    "(${}, ${c}, ${}, ${}, 'registered', ${t}, ${t}, ${t})",
                    b + 1,
                    b + 2,
                    b + 3,
                    c = n * 3 + 1,
                    t = n * 3 + 2
                ));
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (r, id) in chunk.iter().zip(&ids) {
                q = q.bind(*id).bind(&r.qan).bind(r.catalogue_version_id);
            }
            q.bind(centre_id).bind(&at).execute(&mut *tx).await.map_err(|e| match &e {
                e if super::is_unique_violation(e) => {
                    StoreError::Conflict("a learner is already registered on that qualification at this centre: nothing was registered".into())
                }
                _ => StoreError::Database(e),
            })?;
            // Plans chosen at registration, in the same transaction.
            for (r, id) in chunk.iter().zip(&ids).filter(|(r, _)| !r.units.is_empty()) {
                let (registration_id,): (i64,) = sqlx::query_as(
                    "select registration_id from registration where learner_id = $1 and centre_id = $2 and qan = $3",
                )
                .bind(*id)
                .bind(centre_id)
                .bind(&r.qan)
                .fetch_one(&mut *tx)
                .await?;
                self.write_learning_plan(&mut tx, *id, registration_id, &r.units, r.plan_by)
                    .await?;
            }
            all_ids.extend(ids);
            progress(n);
        }
        self.commit(tx, &[("learners", all_ids.clone().into())])
            .await?;
        Ok(all_ids)
    }

    // --- audit --------------------------------------------------------------------------

    pub async fn audit_entries(
        &self,
        centre_id: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<AuditRow>> {
        let q = match centre_id {
            Some(c) => sqlx::query_as(
                "select seq, at, actor, address, action, subject, centre_id, learner_id, detail, prev_hash, hash, hash_version from audit_log where centre_id = $1 order by seq desc limit $2",
            )
            .bind(c)
            .bind(limit),
            None => sqlx::query_as(
                "select seq, at, actor, address, action, subject, centre_id, learner_id, detail, prev_hash, hash, hash_version from audit_log order by seq desc limit $1",
            )
            .bind(limit),
        };
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// The head of the chain: how many entries and the last one's hash.
    pub async fn audit_head(&self) -> StoreResult<(i64, String)> {
        Ok(
            sqlx::query_as("select seq, hash from audit_head where id = 1")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Entries `from..=to` in order (pages of the log, for verification).
    pub async fn audit_page(&self, from: i64, to: i64) -> StoreResult<Vec<AuditRow>> {
        Ok(sqlx::query_as(
            "select seq, at, actor, address, action, subject, centre_id, learner_id, detail, prev_hash, hash, hash_version from audit_log where seq >= $1 and seq <= $2 order by seq",
        )
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The whole log in order, for verification.
    pub async fn audit_log(&self) -> StoreResult<Vec<AuditRow>> {
        Ok(sqlx::query_as(
            "select seq, at, actor, address, action, subject, centre_id, learner_id, detail, prev_hash, hash, hash_version from audit_log order by seq",
        )
        .fetch_all(&self.pool)
        .await?)
    }
}

async fn ensure_centre_ao(
    tx: &mut sqlx::Transaction<'_, Any>,
    centre_id: i64,
    ao_code: &str,
    at: &str,
) -> StoreResult<()> {
    let exists: Option<(i64,)> =
        sqlx::query_as("select centre_id from centre_ao where centre_id = $1 and ao_code = $2")
            .bind(centre_id)
            .bind(ao_code)
            .fetch_optional(&mut **tx)
            .await?;
    if exists.is_none() {
        sqlx::query("insert into centre_ao (centre_id, ao_code, direct_claim_status, created_at, updated_at) values ($1, $2, 0, $3, $3)")
            .bind(centre_id)
            .bind(ao_code)
            .bind(at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InterestRow {
    pub interest_id: i64,
    pub person_id: i64,
    pub learner_id: i64,
    pub kind: String,
    pub note: String,
    pub declared_on: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AssignmentRow {
    pub assignment_id: i64,
    pub registration_id: i64,
    pub person_id: i64,
    pub role: String,
    pub display_name: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffRow {
    pub person_id: i64,
    pub display_name: String,
    pub email: String,
    pub role: String,
}

impl Store {
    pub async fn competence(&self, person_id: i64) -> StoreResult<Option<String>> {
        let row: Option<(String,)> =
            sqlx::query_as("select record from staff_competence where person_id = $1")
                .bind(person_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(r,)| r))
    }

    pub async fn set_competence(&self, person_id: i64, record_json: &str) -> StoreResult<()> {
        let at = now();
        let mut tx = self.begin().await?;
        sqlx::query("delete from staff_competence where person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("insert into staff_competence (person_id, record, created_at, updated_at) values ($1, $2, $3, $3)")
            .bind(person_id)
            .bind(record_json)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    pub async fn declare_interest(
        &self,
        person_id: i64,
        learner_id: i64,
        kind: &str,
        note: &str,
        declared_on: &str,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into interest (person_id, learner_id, kind, note, declared_on, created_at) values ($1, $2, $3, $4, $5, $6) returning interest_id",
        )
        .bind(person_id)
        .bind(learner_id)
        .bind(kind)
        .bind(note)
        .bind(declared_on)
        .bind(now())
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    /// Interests declared by a person, or about a learner.
    pub async fn interests(
        &self,
        person_id: Option<i64>,
        learner_id: Option<i64>,
    ) -> StoreResult<Vec<InterestRow>> {
        Ok(sqlx::query_as(
            "select interest_id, person_id, learner_id, kind, note, declared_on from interest where ($1 is null or person_id = $1) and ($2 is null or learner_id = $2) order by interest_id",
        )
        .bind(person_id)
        .bind(learner_id)
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn registration(&self, id: i64) -> StoreResult<Option<RegistrationRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{REGISTRATION_SELECT} where r.registration_id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn assign(
        &self,
        registration_id: i64,
        person_id: i64,
        role: &str,
        by: i64,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let exists: Option<(i64,)> = sqlx::query_as(
            "select assignment_id from assignment where registration_id = $1 and person_id = $2 and role = $3",
        )
        .bind(registration_id)
        .bind(person_id)
        .bind(role)
        .fetch_optional(&mut *tx)
        .await?;
        if exists.is_some() {
            return Ok(());
        }
        sqlx::query("insert into assignment (registration_id, person_id, role, assigned_by, created_at) values ($1, $2, $3, $4, $5)")
            .bind(registration_id)
            .bind(person_id)
            .bind(role)
            .bind(by)
            .bind(now())
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    pub async fn assignments(&self, registration_id: i64) -> StoreResult<Vec<AssignmentRow>> {
        Ok(sqlx::query_as(
            "select a.assignment_id, a.registration_id, a.person_id, a.role, p.display_name from assignment a join person p on p.person_id = a.person_id where a.registration_id = $1 order by a.assignment_id",
        )
        .bind(registration_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Assessors and IQAs at a centre.
    pub async fn centre_staff(&self, centre_id: i64) -> StoreResult<Vec<StaffRow>> {
        Ok(sqlx::query_as(
            "select p.person_id, p.display_name, p.email, g.role from role_grant g join person p on p.person_id = g.person_id where g.centre_id = $1 and g.role in ('assessor', 'iqa', 'centre_admin') order by p.display_name, g.role",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvitationRow {
    pub invitation_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: String,
    pub ao_code: Option<String>,
    pub centre_id: Option<i64>,
    pub expires_at: String,
    pub accepted_at: Option<String>,
    /// For a learner's invitation: their learner record.
    pub learner_id: Option<i64>,
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    pub async fn create_invitation(
        &self,
        token_hash: &str,
        email: &str,
        name: &str,
        role: &str,
        ao_code: Option<&str>,
        centre_id: Option<i64>,
        learner_id: Option<i64>,
        invited_by: i64,
        expires_at: &str,
    ) -> StoreResult<i64> {
        let mut tx = self.begin().await?;
        let (id,): (i64,) = sqlx::query_as(
            "insert into invitation (token_hash, email, display_name, role, ao_code, centre_id, invited_by, created_at, expires_at, learner_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) returning invitation_id",
        )
        .bind(token_hash)
        .bind(email.to_lowercase())
        .bind(name)
        .bind(role)
        .bind(ao_code)
        .bind(centre_id)
        .bind(invited_by)
        .bind(now())
        .bind(expires_at)
        .bind(learner_id)
        .fetch_one(&mut *tx)
        .await?;
        self.commit(tx, &[]).await?;
        Ok(id)
    }

    /// An invitation by its token's hash, whether used or not.
    pub async fn invitation(&self, token_hash: &str) -> StoreResult<Option<InvitationRow>> {
        Ok(sqlx::query_as(
            "select invitation_id, email, display_name, role, ao_code, centre_id, expires_at, accepted_at, learner_id from invitation where token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Mark an invitation used; false if it was already (one use only, even under races).
    pub async fn use_invitation(&self, id: i64) -> StoreResult<bool> {
        let done = sqlx::query("update invitation set accepted_at = $1 where invitation_id = $2 and accepted_at is null")
            .bind(now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}

impl Store {
    /// The registrations at a centre assigned to a person in a role (their caseload), by
    /// learner's name, each with the learner's portfolio stamp (0 before their first
    /// change): one query, as the caseload page reads both on every load.
    ///
    /// On SQLite the rows come back as one JSON array in a single row: handing a row over
    /// (a channel send and a thread wake-up per row, from SQLite's worker thread) cost more
    /// than finding it, and a caseload of 60 was a third of an assessor's home page. On
    /// PostgreSQL rows arrive together on the socket, and building the JSON there measured
    /// 5 to 9% slower (`scripts/bench-scale.sh`), so it reads rows.
    pub async fn caseload_registrations(
        &self,
        person_id: i64,
        centre_id: i64,
        role: &str,
    ) -> StoreResult<Vec<CaseloadRow>> {
        let mut rows = match self.backend {
            super::Backend::Sqlite => self.caseload_as_json(person_id, centre_id, role).await?,
            super::Backend::Postgres => {
                let select = REGISTRATION_SELECT.replacen(
                    " from registration r ",
                    ", coalesce(ps.version, 0) as stamp from registration r \
                     left join portfolio_stamp ps on ps.learner_id = r.learner_id ",
                    1,
                );
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "{select} where r.centre_id = $1 and r.registration_id in \
                     (select registration_id from assignment where person_id = $2 and role = $3)"
                )))
                .bind(centre_id)
                .bind(person_id)
                .bind(role)
                .fetch_all(&self.pool)
                .await?
            }
        };
        // By name, the same on both databases (whatever PostgreSQL's collation).
        rows.sort_by(|a, b| {
            let (a, b) = (&a.registration, &b.registration);
            (&a.family_name, &a.given_name, a.registration_id).cmp(&(
                &b.family_name,
                &b.given_name,
                b.registration_id,
            ))
        });
        Ok(rows)
    }

    /// The caseload (SQLite) as one JSON array.
    async fn caseload_as_json(
        &self,
        person_id: i64,
        centre_id: i64,
        role: &str,
    ) -> StoreResult<Vec<CaseloadRow>> {
        let fields = [
            "r.registration_id",
            "r.learner_id",
            "r.centre_id",
            "r.qan",
            "r.catalogue_version_id",
            "r.status",
            "r.registered_at",
            "l.uln",
            "l.given_name",
            "l.family_name",
            "l.date_of_birth",
            "c.name",
            "v.ao_code",
            "ps.version",
        ]
        .iter()
        .map(|f| format!("'{}', {f}", f.rsplit('.').next().unwrap_or(f)))
        .collect::<Vec<_>>()
        .join(", ");
        let json: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select json_group_array(json_object({fields})) from registration r \
             join learner l on l.learner_id = r.learner_id join centre c on c.centre_id = r.centre_id \
             join catalogue_version v on v.catalogue_version_id = r.catalogue_version_id \
             left join portfolio_stamp ps on ps.learner_id = r.learner_id \
             where r.centre_id = $1 and r.registration_id in \
             (select registration_id from assignment where person_id = $2 and role = $3)"
        )))
        .bind(centre_id)
        .bind(person_id)
        .bind(role)
        .fetch_one(&self.pool)
        .await?;
        /// A caseload row as the JSON array holds it.
        #[derive(serde::Deserialize)]
        struct Case {
            registration_id: i64,
            learner_id: i64,
            centre_id: i64,
            qan: String,
            catalogue_version_id: i64,
            status: String,
            registered_at: String,
            uln: Option<String>,
            given_name: String,
            family_name: String,
            date_of_birth: String,
            name: String,
            ao_code: String,
            version: Option<i64>,
        }
        let cases: Vec<Case> = match json.as_deref() {
            None | Some("") => Vec::new(),
            Some(j) => serde_json::from_str(j)
                .map_err(|e| StoreError::Corrupt(format!("a caseload's rows: {e}")))?,
        };
        cases
            .into_iter()
            .map(|c| {
                Ok(CaseloadRow {
                    registration: RegistrationRow {
                        registration_id: c.registration_id,
                        learner_id: c.learner_id,
                        centre_id: c.centre_id,
                        qan: c.qan,
                        catalogue_version_id: c.catalogue_version_id,
                        status: c.status.try_into().map_err(StoreError::Corrupt)?,
                        registered_at: c.registered_at,
                        uln: c.uln,
                        given_name: c.given_name,
                        family_name: c.family_name,
                        date_of_birth: c.date_of_birth,
                        centre_name: c.name,
                        ao_code: c.ao_code,
                    },
                    stamp: c.version.unwrap_or(0),
                })
            })
            .collect()
    }
}

impl Store {
    /// People who hold the EQA role for an AO.
    pub async fn eqas_of(&self, ao_code: &str) -> StoreResult<Vec<(i64, String)>> {
        Ok(sqlx::query_as(
            "select p.person_id, p.display_name from role_grant g join person p on p.person_id = g.person_id where g.role = 'eqa' and g.ao_code = $1 order by p.display_name",
        )
        .bind(ao_code)
        .fetch_all(&self.pool)
        .await?)
    }

    /// EQAs appointed to a centre: (person, name, AO).
    pub async fn centre_eqas(&self, centre_id: i64) -> StoreResult<Vec<(i64, String, String)>> {
        Ok(sqlx::query_as(
            "select p.person_id, p.display_name, e.ao_code from eqa_appointment e join person p on p.person_id = e.person_id where e.centre_id = $1 order by e.ao_code, p.display_name",
        )
        .bind(centre_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl Store {
    /// Whether a person signs in as this learner.
    pub async fn learner_has_sign_in(&self, learner_id: i64) -> StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from role_grant g join person p on p.person_id = g.person_id where g.role = 'learner' and g.learner_id = $1 and p.disabled = 0",
        )
        .bind(learner_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// Make a password-reset link's record (only the token's hash is kept), with the email
    /// that carries it queued in the same transaction by the caller's handle.
    pub async fn create_password_reset(
        &self,
        token_hash: &str,
        person_id: i64,
        expires_at: &str,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query("insert into password_reset (token_hash, person_id, created_at, expires_at) values ($1, $2, $3, $4)")
            .bind(token_hash)
            .bind(person_id)
            .bind(now())
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(())
    }

    /// How many reset links were made for a person since `since` (a limit on emails).
    pub async fn password_resets_since(&self, person_id: i64, since: &str) -> StoreResult<i64> {
        let (n,): (i64,) = sqlx::query_as(
            "select count(*) from password_reset where person_id = $1 and created_at >= $2",
        )
        .bind(person_id)
        .bind(since)
        .fetch_one(&self.pool)
        .await?;
        Ok(n)
    }

    /// A reset link's person, if it is unused and unexpired.
    pub async fn password_reset(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(i64, String, Option<String>)>> {
        Ok(sqlx::query_as(
            "select person_id, expires_at, used_at from password_reset where token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Use a reset link: set the new password, end every session and the person's other
    /// reset links, in one transaction. False if the link was used meanwhile.
    pub async fn use_password_reset(
        &self,
        token_hash: &str,
        person_id: i64,
        password_hash: &str,
    ) -> StoreResult<bool> {
        let mut tx = self.begin().await?;
        let at = now();
        let n = sqlx::query(
            "update password_reset set used_at = $2 where token_hash = $1 and used_at is null",
        )
        .bind(token_hash)
        .bind(&at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n == 0 {
            return Ok(false);
        }
        sqlx::query(
            "update password_reset set used_at = $2 where person_id = $1 and used_at is null",
        )
        .bind(person_id)
        .bind(&at)
        .execute(&mut *tx)
        .await?;
        sqlx::query("update person set password_hash = $2, updated_at = $3 where person_id = $1")
            .bind(person_id)
            .bind(password_hash)
            .bind(&at)
            .execute(&mut *tx)
            .await?;
        sqlx::query("delete from session where person_id = $1")
            .bind(person_id)
            .execute(&mut *tx)
            .await?;
        self.commit(tx, &[]).await?;
        Ok(true)
    }
}
