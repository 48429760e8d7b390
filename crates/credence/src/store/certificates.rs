//! The register of certificates, their numbers, and the AOs' signing keys (issue 13).
//!
//! A certificate is only ever written inside the transaction that releases its claim
//! ([`Store::release_claim`], [`Store::insert_claim`]) or replaces a certificate: there is no
//! other way in, so none exists without a released claim.

use super::{AuditDraft, Backend, Store, StoreError, StoreResult, Tx, now, seal_audit};
use credence_domain::certificate::CertificateNumber;

/// What a certificate will say, decided before its claim is released.
#[derive(Debug, Clone)]
pub struct CertificateDraft {
    /// 'qualification' or 'unit'.
    pub kind: String,
    pub registration_id: i64,
    pub learner_id: i64,
    pub centre_id: i64,
    pub ao_code: String,
    pub learner_name: String,
    pub qan: Option<String>,
    pub unit_reference: Option<String>,
    pub title: String,
    pub level: Option<i64>,
    pub grade: Option<String>,
    pub grade_rule: Option<String>,
    /// JSON array of printed units.
    pub units: String,
    pub total_credits: Option<i64>,
    /// YYYY-MM-DD.
    pub awarded_on: String,
    pub issued_by: Option<i64>,
    /// The audit entry for the issue, sealed in the same transaction (its detail gains the
    /// number).
    pub audit: AuditDraft,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CertificateRow {
    pub certificate_id: i64,
    pub number: String,
    pub ao_code: String,
    pub kind: String,
    pub claim_id: i64,
    pub registration_id: i64,
    pub learner_id: i64,
    pub centre_id: i64,
    pub centre_name: String,
    pub ao_name: String,
    pub learner_name: String,
    pub qan: Option<String>,
    pub unit_reference: Option<String>,
    pub title: String,
    pub level: Option<i64>,
    pub grade: Option<String>,
    pub grade_rule: Option<String>,
    pub units: String,
    pub total_credits: Option<i64>,
    pub awarded_on: String,
    pub issued_at: String,
    pub status: String,
    pub replaces: Option<String>,
    pub replacement_reason: Option<String>,
    pub replaced_by: Option<String>,
    pub revoked_at: Option<String>,
    pub revocation_reason: Option<String>,
    pub revocation_note: Option<String>,
}

const CERTIFICATE_SELECT: &str = "select c.certificate_id, c.number, c.ao_code, c.kind, c.claim_id, c.registration_id, c.learner_id, c.centre_id, \
     ce.name as centre_name, ao.name as ao_name, c.learner_name, c.qan, c.unit_reference, c.title, c.level, c.grade, c.grade_rule, c.units, c.total_credits, \
     c.awarded_on, c.issued_at, c.status, c.replaces, c.replacement_reason, c.replaced_by, c.revoked_at, c.revocation_reason, c.revocation_note \
     from certificate c join centre ce on ce.centre_id = c.centre_id join awarding_organisation ao on ao.ao_code = c.ao_code";

/// The text a register search looks inside, on PostgreSQL: written exactly as the trigram
/// index `certificate_search` (migration 19) writes it, so that the index finds the rows.
const SEARCH_TEXT: &str = "lower(c.number || chr(31) || c.learner_name || chr(31) || coalesce(c.qan, '') || chr(31) \
     || coalesce(c.unit_reference, '') || chr(31) || c.title)";
/// The same on SQLite (which has no `chr`).
const SEARCH_TEXT_SQLITE: &str = "lower(c.number || char(31) || c.learner_name || char(31) || coalesce(c.qan, '') || char(31) \
     || coalesce(c.unit_reference, '') || char(31) || c.title)";

/// An argument of a statement built at run time.
enum Arg {
    Text(String),
    Int(i64),
}

/// Which certificates to list.
#[derive(Debug, Clone, Default)]
pub struct CertificateFilter {
    /// Only these AOs' (None: any).
    pub ao_codes: Option<Vec<String>>,
    pub centre_id: Option<i64>,
    pub learner_id: Option<i64>,
    pub status: Option<String>,
    /// Matches the number, the learner's name, the QAN or unit reference, the title or the
    /// centre's name (case-insensitive, part of the text).
    pub text: Option<String>,
    /// Awarded on or after / on or before (YYYY-MM-DD).
    pub from: Option<String>,
    pub to: Option<String>,
    /// Only this many, newest first, after leaving out `offset`.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
    /// Only those someone may see: of these AOs, centres or learners (None: any). Written
    /// into the statement, so that a page of the register is a page of what they see.
    pub reach: Option<Reach>,
}

/// Whose certificates someone sees: any of these AOs', centres' or learners'.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    pub aos: Vec<String>,
    pub centres: Vec<i64>,
    pub learners: Vec<i64>,
}

/// How many certificates a search finds, by status, counted up to a bound.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CertificateCounts {
    pub valid: i64,
    pub replaced: i64,
    pub revoked: i64,
    /// More than the bound were found: the counts are of the first bound + 1 only.
    pub more: bool,
}

impl CertificateCounts {
    pub fn total(&self) -> i64 {
        self.valid + self.replaced + self.revoked
    }
}

/// What a register search found, newest first, up to a bound: each certificate's id and
/// status. It counts by status and names the ids of any page, from one statement.
#[derive(Debug, Clone, Default)]
pub struct CertificateMatches {
    /// (certificate_id, status), newest first, at most the bound.
    pub found: Vec<(i64, String)>,
    pub counts: CertificateCounts,
}

/// What a register statement selects: its rows, or the ids and statuses it finds.
#[derive(Clone, Copy)]
enum Shape {
    Rows,
    /// `certificate_id, status`, newest first, at most this many.
    Matches(i64),
    /// `status, count(*)` over at most this many.
    Statuses(i64),
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SigningKeyRow {
    pub kid: String,
    pub ao_code: String,
    pub public_jwk: String,
    pub sealed_private_key: String,
    pub created_at: String,
    pub retired_at: Option<String>,
}

/// Take the next number for `ao_code` in `year` and write the certificate, inside `tx`.
pub(super) async fn insert_certificate(
    tx: &mut Tx,
    claim_id: i64,
    d: &CertificateDraft,
    replaces: Option<(&str, &str)>,
) -> StoreResult<String> {
    let year: i64 = d
        .awarded_on
        .get(..4)
        .and_then(|y| y.parse().ok())
        .ok_or_else(|| StoreError::Conflict(format!("no year in '{}'", d.awarded_on)))?;
    let (seq,): (i64,) = sqlx::query_as(
        "insert into certificate_sequence (ao_code, year, last_sequence) values ($1, $2, 1) \
         on conflict (ao_code, year) do update set last_sequence = certificate_sequence.last_sequence + 1 \
         returning last_sequence",
    )
    .bind(&d.ao_code)
    .bind(year)
    .fetch_one(&mut **tx)
    .await?;
    let number = CertificateNumber::new(
        &d.ao_code,
        i32::try_from(year).unwrap_or(0),
        u64::try_from(seq).unwrap_or(0),
    )
    .map_err(|e| StoreError::Conflict(e.to_string()))?
    .to_string();
    sqlx::query(
        "insert into certificate (number, ao_code, year, sequence, kind, claim_id, registration_id, learner_id, centre_id, learner_name, \
         qan, unit_reference, title, level, grade, grade_rule, units, total_credits, awarded_on, issued_at, issued_by, status, replaces, replacement_reason) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, 'valid', $22, $23)",
    )
    .bind(&number)
    .bind(&d.ao_code)
    .bind(year)
    .bind(seq)
    .bind(&d.kind)
    .bind(claim_id)
    .bind(d.registration_id)
    .bind(d.learner_id)
    .bind(d.centre_id)
    .bind(&d.learner_name)
    .bind(&d.qan)
    .bind(&d.unit_reference)
    .bind(&d.title)
    .bind(d.level)
    .bind(&d.grade)
    .bind(&d.grade_rule)
    .bind(&d.units)
    .bind(d.total_credits)
    .bind(&d.awarded_on)
    .bind(now())
    .bind(d.issued_by)
    .bind(replaces.map(|r| r.0))
    .bind(replaces.map(|r| r.1))
    .execute(&mut **tx)
    .await?;
    let mut entry = d.audit.clone();
    if let serde_json::Value::Object(m) = &mut entry.detail {
        m.insert("certificate".into(), serde_json::json!(number));
        m.insert("claim".into(), serde_json::json!(claim_id));
    }
    seal_audit(tx, &entry).await?;
    Ok(number)
}

impl Store {
    pub async fn certificate(&self, number: &str) -> StoreResult<Option<CertificateRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CERTIFICATE_SELECT} where c.number = $1"
        )))
        .bind(number)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The current certificate of a claim: its latest (a replacement, where there is one).
    pub async fn certificate_of_claim(&self, claim: i64) -> StoreResult<Option<CertificateRow>> {
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CERTIFICATE_SELECT} where c.claim_id = $1 order by c.certificate_id desc"
        )))
        .bind(claim)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// The current certificate number of each of these claims (its latest: a replacement
    /// where there is one), in one query (the claims page asked a claim at a time).
    pub async fn certificate_numbers_of_claims(
        &self,
        claims: &[i64],
    ) -> StoreResult<std::collections::HashMap<i64, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in claims.chunks(500) {
            let list = chunk
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",");
            let rows: Vec<(i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "select claim_id, certificate_id, number from certificate where claim_id in ({list})"
            )))
            .fetch_all(&self.pool)
            .await?;
            let mut latest: std::collections::HashMap<i64, (i64, String)> =
                std::collections::HashMap::new();
            for (claim, id, number) in rows {
                match latest.get(&claim) {
                    Some((seen, _)) if *seen > id => {}
                    _ => {
                        latest.insert(claim, (id, number));
                    }
                }
            }
            out.extend(latest.into_iter().map(|(c, (_, n))| (c, n)));
        }
        Ok(out)
    }

    pub async fn certificates(&self, f: &CertificateFilter) -> StoreResult<Vec<CertificateRow>> {
        let Some((sql, args)) = self.register_query(f, Shape::Rows).await? else {
            return Ok(Vec::new());
        };
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql));
        for a in args {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        Ok(q.fetch_all(&self.pool).await?)
    }

    /// The certificates the filter finds, newest first, as ids and statuses, reading at
    /// most `bound + 1` (its limit and offset are ignored), with their counts by status: a
    /// search of a whole AO's register says "more than `bound`" rather than counting
    /// millions. One statement, from the index where the filter allows (migration 20 holds
    /// an AO's ids and statuses newest first), which a page then reads by id
    /// ([`Store::certificates_by_ids`]).
    pub async fn certificate_matches(
        &self,
        f: &CertificateFilter,
        bound: i64,
    ) -> StoreResult<CertificateMatches> {
        let Some((sql, args)) = self.register_query(f, Shape::Matches(bound + 1)).await? else {
            return Ok(CertificateMatches::default());
        };
        let mut q = sqlx::query_as::<_, (i64, String)>(sqlx::AssertSqlSafe(sql));
        for a in args {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        let mut found = q.fetch_all(&self.pool).await?;
        let mut counts = CertificateCounts::default();
        for (_, status) in &found {
            match status.as_str() {
                "valid" => counts.valid += 1,
                "replaced" => counts.replaced += 1,
                _ => counts.revoked += 1,
            }
        }
        counts.more = counts.total() > bound;
        found.truncate(usize::try_from(bound).unwrap_or(usize::MAX));
        Ok(CertificateMatches { found, counts })
    }

    /// How many certificates the filter finds, by status, reading at most `bound + 1` of
    /// them: three rows back, however many are counted. For an AO's whole register,
    /// migration 20's index answers it alone.
    pub async fn certificate_counts(
        &self,
        f: &CertificateFilter,
        bound: i64,
    ) -> StoreResult<CertificateCounts> {
        let Some((sql, args)) = self.register_query(f, Shape::Statuses(bound + 1)).await? else {
            return Ok(CertificateCounts::default());
        };
        let mut q = sqlx::query_as::<_, (String, i64)>(sqlx::AssertSqlSafe(sql));
        for a in args {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        let mut out = CertificateCounts::default();
        for (status, n) in q.fetch_all(&self.pool).await? {
            match status.as_str() {
                "valid" => out.valid = n,
                "replaced" => out.replaced = n,
                _ => out.revoked += n,
            }
        }
        out.more = out.total() > bound;
        Ok(out)
    }

    /// These certificates, newest first.
    pub async fn certificates_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<CertificateRow>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = ids.iter().map(i64::to_string).collect();
        Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{CERTIFICATE_SELECT} where c.certificate_id in ({}) order by c.certificate_id desc",
            list.join(",")
        )))
        .fetch_all(&self.pool)
        .await?)
    }

    /// The database's plan for this register search (`EXPLAIN`), one line a step: what the
    /// operations team reads to see whether a search finds its rows from an index.
    pub async fn certificates_plan(&self, f: &CertificateFilter) -> StoreResult<Vec<String>> {
        self.register_plan(f, Shape::Rows).await
    }

    /// The database's plan for what a register page finds first
    /// ([`Store::certificate_matches`]).
    pub async fn certificate_matches_plan(
        &self,
        f: &CertificateFilter,
        bound: i64,
    ) -> StoreResult<Vec<String>> {
        self.register_plan(f, Shape::Matches(bound + 1)).await
    }

    async fn register_plan(&self, f: &CertificateFilter, shape: Shape) -> StoreResult<Vec<String>> {
        let Some((sql, args)) = self.register_query(f, shape).await? else {
            return Ok(Vec::new());
        };
        let explain = match self.backend {
            Backend::Postgres => "explain ",
            Backend::Sqlite => "explain query plan ",
        };
        let mut q = sqlx::query(sqlx::AssertSqlSafe(format!("{explain}{sql}")));
        for a in args {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        use sqlx::Row;
        Ok(rows
            .iter()
            .map(|r| match self.backend {
                Backend::Postgres => r.try_get::<String, _>(0).unwrap_or_default(),
                Backend::Sqlite => r.try_get::<String, _>("detail").unwrap_or_default(),
            })
            .collect())
    }

    /// The register search's statement and its arguments in order (None: nothing can match).
    async fn register_query(
        &self,
        f: &CertificateFilter,
        shape: Shape,
    ) -> StoreResult<Option<(String, Vec<Arg>)>> {
        // The certificates are chosen by id from `certificate` alone (ordered, limited and
        // offset there), then read with their centre and AO: a deep page skips ids, not
        // joined rows.
        let mut sql = match shape {
            Shape::Rows => "select c.certificate_id from certificate c where 1 = 1".to_string(),
            Shape::Matches(_) => {
                "select c.certificate_id, c.status from certificate c where 1 = 1".to_string()
            }
            Shape::Statuses(_) => "select c.status from certificate c where 1 = 1".to_string(),
        };
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        let aos = f.ao_codes.clone().unwrap_or_default();
        if f.ao_codes.is_some() {
            if aos.is_empty() {
                return Ok(None);
            }
            let marks: Vec<String> = aos.iter().map(|_| next()).collect();
            sql.push_str(&format!(" and c.ao_code in ({})", marks.join(", ")));
        }
        let reach_aos = f.reach.as_ref().map(|r| r.aos.clone()).unwrap_or_default();
        if let Some(r) = &f.reach {
            let mut any = Vec::new();
            if !r.aos.is_empty() {
                let marks: Vec<String> = r.aos.iter().map(|_| next()).collect();
                any.push(format!("c.ao_code in ({})", marks.join(", ")));
            }
            for (column, ids) in [("c.centre_id", &r.centres), ("c.learner_id", &r.learners)] {
                if !ids.is_empty() {
                    let list: Vec<String> = ids.iter().map(i64::to_string).collect();
                    any.push(format!("{column} in ({})", list.join(",")));
                }
            }
            if any.is_empty() {
                return Ok(None);
            }
            sql.push_str(&format!(" and ({})", any.join(" or ")));
        }
        if f.centre_id.is_some() {
            sql.push_str(&format!(" and c.centre_id = {}", next()));
        }
        if f.learner_id.is_some() {
            sql.push_str(&format!(" and c.learner_id = {}", next()));
        }
        if f.status.is_some() {
            sql.push_str(&format!(" and c.status = {}", next()));
        }
        // A certificate number, a QAN or a unit reference is looked up by equality (the
        // number by its unique index): only other words are searched for inside the text,
        // which reads the register.
        let exact = f
            .text
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .and_then(|t| {
                use credence_domain::ident::{Qan, UnitRef};
                if let Ok(n) = credence_domain::certificate::CertificateNumber::parse(t) {
                    Some(("c.number", n.to_string()))
                } else if let Ok(q) = Qan::parse(t) {
                    Some(("c.qan", q.to_string()))
                } else if let Ok(u) = UnitRef::parse(t) {
                    Some(("c.unit_reference", u.to_string()))
                } else {
                    None
                }
            });
        if let Some((column, _)) = &exact {
            sql.push_str(&format!(" and {column} = {}", next()));
        }
        // Other words are searched for inside the number, name, QAN, unit reference and title
        // as one text (on PostgreSQL its trigram index, migration 19, finds them: the
        // expression must stay exactly as the index writes it), or the centre's name (the
        // centres named so are found first: a few of 2,000 rather than a join per row).
        let like = f
            .text
            .as_deref()
            .filter(|_| exact.is_none())
            .and_then(super::contains_pattern);
        let named_centres: Vec<i64> = match &like {
            Some(p) => sqlx::query_scalar(
                "select centre_id from centre where lower(name) like $1 escape '\\' order by centre_id",
            )
            .bind(p)
            .fetch_all(&self.pool)
            .await?,
            None => Vec::new(),
        };
        if like.is_some() {
            let p = next();
            let words = match self.backend {
                // PostgreSQL's LIKE escapes with a backslash by default.
                Backend::Postgres => format!("{SEARCH_TEXT} like {p}"),
                Backend::Sqlite => format!("{SEARCH_TEXT_SQLITE} like {p} escape '\\'"),
            };
            if named_centres.is_empty() {
                sql.push_str(&format!(" and {words}"));
            } else {
                let ids = named_centres
                    .iter()
                    .map(i64::to_string)
                    .collect::<Vec<_>>()
                    .join(",");
                sql.push_str(&format!(" and ({words} or c.centre_id in ({ids}))"));
            }
        }
        if f.from.is_some() {
            sql.push_str(&format!(" and c.awarded_on >= {}", next()));
        }
        if f.to.is_some() {
            sql.push_str(&format!(" and c.awarded_on <= {}", next()));
        }
        // Words are found from their trigram index, and the few thousand found are then
        // sorted: ordering by the bare id would let PostgreSQL walk an AO's ids newest first
        // instead, testing each row for the words (1.7 million rows for a common name at
        // F = 1, measured: 1.5 s alone, 10 s under load). `+ 0` keeps the order but not that
        // plan.
        let order = if like.is_some() {
            "c.certificate_id + 0"
        } else {
            "c.certificate_id"
        };
        match shape {
            Shape::Rows => {
                sql.push_str(&format!(" order by {order} desc"));
                if f.limit.is_some() {
                    sql.push_str(&format!(" limit {}", next()));
                }
                if f.offset.is_some() {
                    if f.limit.is_none() && self.backend == Backend::Sqlite {
                        // SQLite takes an offset only after a limit.
                        sql.push_str(" limit -1");
                    }
                    sql.push_str(&format!(" offset {}", next()));
                }
                sql = format!(
                    "{CERTIFICATE_SELECT} where c.certificate_id in ({sql}) order by c.certificate_id desc"
                );
            }
            Shape::Matches(bound) => {
                sql.push_str(&format!(" order by {order} desc limit {bound}"));
            }
            Shape::Statuses(bound) => {
                sql = format!(
                    "select s.status, count(*) from ({sql} limit {bound}) s group by s.status"
                );
            }
        }
        let mut args: Vec<Arg> = aos.into_iter().map(Arg::Text).collect();
        args.extend(reach_aos.into_iter().map(Arg::Text));
        args.extend(f.centre_id.map(Arg::Int));
        args.extend(f.learner_id.map(Arg::Int));
        args.extend(f.status.clone().map(Arg::Text));
        args.extend(exact.map(|(_, value)| Arg::Text(value)));
        args.extend(like.map(Arg::Text));
        args.extend(f.from.clone().map(Arg::Text));
        args.extend(f.to.clone().map(Arg::Text));
        if matches!(shape, Shape::Rows) {
            args.extend(f.limit.map(Arg::Int));
            args.extend(f.offset.map(Arg::Int));
        }
        Ok(Some((sql, args)))
    }

    /// Issue a replacement for a valid certificate: a new number, the original marked
    /// replaced. Returns the new number.
    pub async fn replace_certificate(
        &self,
        old: &CertificateRow,
        draft: &CertificateDraft,
        reason: &str,
    ) -> StoreResult<String> {
        let mut tx = self.begin().await?;
        let number = insert_certificate(
            &mut tx,
            old.claim_id,
            draft,
            Some((old.number.as_str(), reason)),
        )
        .await?;
        let done = sqlx::query(
            "update certificate set status = 'replaced', replaced_by = $1 where number = $2 and status = 'valid'",
        )
        .bind(&number)
        .bind(&old.number)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "certificate {} is not valid any more (replaced or revoked a moment ago): only a valid certificate is replaced",
                old.number
            )));
        }
        self.commit(tx, &[("replacement", serde_json::json!(number))])
            .await?;
        Ok(number)
    }

    pub async fn revoke_certificate(
        &self,
        number: &str,
        reason: &str,
        note: &str,
        by: Option<i64>,
    ) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        let done = sqlx::query(
            "update certificate set status = 'revoked', revoked_at = $1, revocation_reason = $2, revocation_note = $3, revoked_by = $4 \
             where number = $5 and status = 'valid'",
        )
        .bind(now())
        .bind(reason)
        .bind(note)
        .bind(by)
        .bind(number)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "certificate {number} is not valid (replaced or revoked already): only a valid certificate is revoked"
            )));
        }
        self.commit(tx, &[]).await
    }

    /// The numbers of an AO's revoked certificates, oldest revocation first.
    pub async fn revoked_certificates(
        &self,
        ao_code: &str,
    ) -> StoreResult<Vec<(String, String, String)>> {
        Ok(sqlx::query_as(
            "select number, coalesce(revoked_at, ''), coalesce(revocation_reason, '') from certificate \
             where ao_code = $1 and status = 'revoked' order by revoked_at, number",
        )
        .bind(ao_code)
        .fetch_all(&self.pool)
        .await?)
    }

    // --- signing keys -----------------------------------------------------------------------

    /// Every signing key (of one AO, or all), newest first.
    pub async fn signing_keys(&self, ao_code: Option<&str>) -> StoreResult<Vec<SigningKeyRow>> {
        Ok(sqlx::query_as(
            "select kid, ao_code, public_jwk, sealed_private_key, created_at, retired_at from signing_key \
             where ($1 is null or ao_code = $1) order by created_at desc, kid desc",
        )
        .bind(ao_code)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Add a key for an AO, retiring its current one (rotation): retired keys stay published.
    pub async fn add_signing_key(&self, key: &SigningKeyRow) -> StoreResult<()> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "update signing_key set retired_at = $1 where ao_code = $2 and retired_at is null",
        )
        .bind(&key.created_at)
        .bind(&key.ao_code)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "insert into signing_key (kid, ao_code, public_jwk, sealed_private_key, created_at) values ($1, $2, $3, $4, $5)",
        )
        .bind(&key.kid)
        .bind(&key.ao_code)
        .bind(&key.public_jwk)
        .bind(&key.sealed_private_key)
        .bind(&key.created_at)
        .execute(&mut *tx)
        .await?;
        self.commit(tx, &[("kid", serde_json::json!(key.kid))])
            .await
    }
}
