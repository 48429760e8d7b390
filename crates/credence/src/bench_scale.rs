//! `credence bench --scale F`: an awarding organisation's data at scale F on PostgreSQL, by
//! bulk loading (`COPY ... FROM STDIN`, keys and indexes built after), for load tests of the
//! busiest pages (`scripts/bench-scale.sh`).
//!
//! At F = 1: 2,000 centres, 1,000,000 learners (each with a sign-in), 26,000 staff (per centre
//! one administrator, ten assessors with 50 learners each and two IQAs), one registration a
//! learner on one of the three qualifications its centre is approved for, 20,000,000
//! criterion judgements, 4,000,000 evidence records (rows only: no files) mapped to
//! 20,000,000 criteria, about 3,400,000 sign-off signatures, 5,000,000 released claims and
//! 5,000,000 certificates (register rows only: credentials are signed on request), and IQA
//! samples (10% of learners). Every count scales with F, so a centre, an assessor's caseload
//! and a learner's portfolio are the same size at every F: only the tables grow.
//!
//! The generated rows write no audit entries (the chain holds only what the application wrote
//! on the way: the shipped specifications and the AO staff), so `credence audit verify` still
//! passes. Every person shares one password hash, made once with the application's hasher.

use crate::cli::BenchArgs;
use anyhow::{Context, Result};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgCopyIn, PgPool, PgPoolCopyExt, PgPoolOptions, Postgres};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Instant;

/// The password of every generated person.
pub const SCALE_PASSWORD: &str = "credence-scale-2026";

const ASSESSORS_PER_CENTRE: usize = 10;
const IQAS_PER_CENTRE: usize = 2;
/// Administrator, assessors, IQAs.
const STAFF_PER_CENTRE: usize = 1 + ASSESSORS_PER_CENTRE + IQAS_PER_CENTRE;
const JUDGEMENTS_PER_LEARNER: usize = 20;
const EVIDENCE_PER_LEARNER: usize = 4;
const CRITERIA_PER_EVIDENCE: usize = 5;
const CERTIFICATES_PER_LEARNER: usize = 5;
const UNITS_PER_LEARNER: usize = 4;

/// The tables the generator loads (their keys, indexes and foreign keys are dropped before
/// and built after).
const LOADED: &[&str] = &[
    "person",
    "centre",
    "centre_ao",
    "centre_approval",
    "direct_claim",
    "learner",
    "registration",
    "role_grant",
    "assignment",
    "lead_iqa",
    "evidence",
    "evidence_mapping",
    "judgement",
    "signature",
    "portfolio_stamp",
    "claim",
    "certificate",
    "qa_sample",
    "qa_decision",
];

struct UnitInfo {
    key: String,
    reference: String,
    title: String,
    credit: Option<u32>,
    criteria: Vec<String>,
}

struct QualInfo {
    qan: String,
    ao: String,
    version_id: i64,
    title: String,
    level: u8,
    units: Vec<UnitInfo>,
}

/// Where each generated row's id starts (the rows the application made come first).
struct Ids {
    person: i64,
    centre: i64,
    learner: i64,
    registration: i64,
    evidence: i64,
    claim: i64,
    certificate: i64,
    qa_sample: i64,
}

struct Plan {
    centres: usize,
    learners: usize,
    quals: Vec<QualInfo>,
    /// Per centre, the indexes into `quals` it is approved for.
    approvals: Vec<Vec<usize>>,
    ao_staff: BTreeMap<String, i64>,
    ids: Ids,
    hash: String,
    days: Vec<String>,
}

impl Plan {
    fn centre_of(&self, i: usize) -> usize {
        i % self.centres
    }
    /// The learner's place in its centre.
    fn rank(&self, i: usize) -> usize {
        i / self.centres
    }
    fn centre_id(&self, c: usize) -> i64 {
        self.ids.centre + 1 + c as i64
    }
    fn staff_id(&self, c: usize, s: usize) -> i64 {
        self.ids.person + 1 + (c * STAFF_PER_CENTRE + s) as i64
    }
    fn admin_of(&self, c: usize) -> i64 {
        self.staff_id(c, 0)
    }
    fn assessor_of(&self, i: usize) -> i64 {
        self.staff_id(self.centre_of(i), 1 + self.rank(i) % ASSESSORS_PER_CENTRE)
    }
    fn iqa_of(&self, i: usize) -> i64 {
        self.staff_id(
            self.centre_of(i),
            1 + ASSESSORS_PER_CENTRE + self.rank(i) % IQAS_PER_CENTRE,
        )
    }
    fn learner_person(&self, i: usize) -> i64 {
        self.ids.person + 1 + (self.centres * STAFF_PER_CENTRE + i) as i64
    }
    fn learner_id(&self, i: usize) -> i64 {
        self.ids.learner + 1 + i as i64
    }
    fn registration_id(&self, i: usize) -> i64 {
        self.ids.registration + 1 + i as i64
    }
    fn qual_of(&self, i: usize) -> &QualInfo {
        let a = &self.approvals[self.centre_of(i)];
        &self.quals[a[self.rank(i) % a.len()]]
    }
    fn units_of(&self, i: usize) -> &[UnitInfo] {
        let q = self.qual_of(i);
        &q.units[..q.units.len().min(UNITS_PER_LEARNER)]
    }
    /// The (unit, criterion) pairs the learner's judgements name, in order.
    fn items_of(&self, i: usize) -> Vec<(&str, &str)> {
        self.units_of(i)
            .iter()
            .flat_map(|u| u.criteria.iter().map(move |c| (u.key.as_str(), c.as_str())))
            .collect()
    }
    fn name_of(i: usize) -> (&'static str, &'static str) {
        const GIVEN: &[&str] = &[
            "Amara", "Ben", "Chloe", "Dev", "Ella", "Finn", "Grace", "Hassan", "Isla", "Jack",
            "Kai", "Leah", "Mo", "Nina", "Owen", "Priya", "Quinn", "Ravi", "Sara", "Tom",
        ];
        const FAMILY: &[&str] = &[
            "Ahmed", "Brown", "Clarke", "Davies", "Evans", "Fraser", "Green", "Hughes", "Iqbal",
            "Jones", "Khan", "Lewis", "Morgan", "Nolan", "Owens", "Patel", "Reid", "Smith",
            "Taylor", "Walsh", "Young",
        ];
        (GIVEN[i % GIVEN.len()], FAMILY[(i / 7) % FAMILY.len()])
    }
    /// A day's timestamp, `d` days after 1 September 2024.
    fn day(&self, d: usize) -> &str {
        &self.days[d % self.days.len()]
    }
}

fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// One `COPY table (columns) FROM STDIN` (text format), fed in 1 MiB chunks.
struct Loader {
    inner: PgCopyIn<PoolConnection<Postgres>>,
    buf: String,
    rows: u64,
    table: &'static str,
    started: Instant,
}

impl Loader {
    async fn begin(pool: &PgPool, table: &'static str, columns: &str) -> Result<Loader> {
        let inner = pool
            .copy_in_raw(&format!("copy {table} ({columns}) from stdin"))
            .await
            .with_context(|| format!("COPY {table}"))?;
        Ok(Loader {
            inner,
            buf: String::with_capacity(1 << 21),
            rows: 0,
            table,
            started: Instant::now(),
        })
    }

    /// After a row (ending in '\n') is written to `buf`.
    async fn row(&mut self) -> Result<()> {
        self.rows += 1;
        if self.buf.len() >= 1 << 20 {
            let chunk = std::mem::replace(&mut self.buf, String::with_capacity(1 << 21));
            self.inner.send(chunk.into_bytes()).await?;
        }
        Ok(())
    }

    async fn finish(mut self) -> Result<u64> {
        if !self.buf.is_empty() {
            let chunk = std::mem::take(&mut self.buf);
            self.inner.send(chunk.into_bytes()).await?;
        }
        let n = self.inner.finish().await?;
        let s = self.started.elapsed().as_secs_f64();
        println!(
            "  {:<18} {:>12} rows  {:>7.1} s  {:>9.0} rows/s",
            self.table,
            n,
            s,
            n as f64 / s.max(1e-9)
        );
        Ok(n)
    }
}

/// `\N` or the value (generated values hold no tab, newline or backslash).
fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    match v {
        Some(v) => v.to_string(),
        None => "\\N".into(),
    }
}

pub async fn run(args: &BenchArgs, database_url: Option<&str>, scale: f64) -> Result<()> {
    anyhow::ensure!(
        scale > 0.0 && scale <= 10.0,
        "--scale takes a factor above 0 and at most 10 (1 = 1,000,000 learners)"
    );
    let url = database_url
        .filter(|u| u.starts_with("postgres:") || u.starts_with("postgresql:"))
        .ok_or_else(|| {
            anyhow::anyhow!(
                "--scale builds its data on PostgreSQL: give --database-url postgres://... (an empty database)"
            )
        })?;
    let dbs = crate::bench::BenchDb::choose(Some(url), false).await?;
    println!(
        "Scale {scale}: building an awarding organisation's data on {}.",
        dbs[0].describe()
    );
    let total = Instant::now();

    // 1. Schema and catalogue, as `credence serve` makes them.
    let t = Instant::now();
    let dir = args.scale_dir.clone();
    std::fs::create_dir_all(&dir)?;
    let config = crate::config::Config {
        kek_file: dir.join("credential.kek"),
        kek: None,
        verify_rate_limit: 0,
        data_dir: dir.clone(),
        database_url: url.to_string(),
        seed: true,
        evidence_store: dir.join("evidence").display().to_string(),
        max_upload: 8 << 30,
        key_file: dir.join("instance.key"),
        smtp_url: None,
        mail_from: "Credence <no-reply@credence.localhost>".into(),
        public_url: None,
    };
    let app = crate::open(&config).await?;
    let err = |e: crate::app::AppError| anyhow::anyhow!("{e}");
    let cat = app.catalogue().await.map_err(err)?;
    let unit_info = |u: &credence_domain::model::Unit| {
        // A marked unit's learning outcomes have no criteria: each is judged as a whole.
        let mut criteria: Vec<String> = u
            .learning_outcomes
            .iter()
            .flat_map(|lo| lo.criteria.iter().map(|c| c.number.clone()))
            .collect();
        if criteria.is_empty() {
            criteria = u
                .learning_outcomes
                .iter()
                .map(|lo| lo.number.clone())
                .collect();
        }
        UnitInfo {
            key: u.key.clone(),
            reference: u.ofqual_ref.clone().unwrap_or_else(|| u.ao_ref.clone()),
            title: u.title.clone(),
            credit: u.credit,
            criteria,
        }
    };
    let mut quals = Vec::new();
    for (cs, q) in cat.qualifications() {
        let units: Vec<UnitInfo> = q
            .units
            .iter()
            .filter_map(|qu| cs.spec.unit(&qu.unit))
            .map(unit_info)
            .filter(|u| !u.criteria.is_empty())
            .collect();
        if units.is_empty() {
            continue;
        }
        quals.push(QualInfo {
            qan: q.qan.clone(),
            ao: cs.spec.awarding_organisation.code.clone(),
            version_id: cs.version.catalogue_version_id,
            title: q.title.clone(),
            level: q.level,
            units,
        });
    }
    // Units taken on their own (OCR unit 39), from specifications with no qualification.
    for (cs, u) in cat.units_on_their_own() {
        let info = unit_info(u);
        if !cs.spec.qualifications.is_empty() || info.criteria.is_empty() {
            continue;
        }
        quals.push(QualInfo {
            qan: info.reference.clone(),
            ao: cs.spec.awarding_organisation.code.clone(),
            version_id: cs.version.catalogue_version_id,
            title: u.title.clone(),
            level: u.level,
            units: vec![info],
        });
    }
    anyhow::ensure!(
        !quals.is_empty(),
        "no qualification with criteria in the catalogue"
    );
    // One AO staff member per AO (made through the application, audited): the first one's
    // password hash is every generated person's.
    let mut ao_staff = BTreeMap::new();
    let aos: std::collections::BTreeSet<String> = quals.iter().map(|q| q.ao.clone()).collect();
    for ao in &aos {
        let email = format!("ao-{}@scale.test", ao.to_lowercase());
        let id = app
            .create_person(&email, &format!("{ao} staff"), Some(SCALE_PASSWORD))
            .await
            .map_err(err)?;
        app.store
            .grant_role(id, "ao_staff", Some(ao), None, None)
            .await?;
        ao_staff.insert(ao.clone(), id);
    }
    let pool = PgPoolOptions::new().max_connections(4).connect(url).await?;
    let first = *ao_staff.values().next().unwrap_or(&0);
    let hash: String = sqlx::query_scalar("select password_hash from person where person_id = $1")
        .bind(first)
        .fetch_one(&pool)
        .await?;
    let max = |table: &'static str, col: &'static str| {
        let pool = pool.clone();
        async move {
            let v: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select max({col}) from {table}"
            )))
            .fetch_one(&pool)
            .await?;
            anyhow::Ok(v.unwrap_or(0))
        }
    };
    let ids = Ids {
        person: max("person", "person_id").await?,
        centre: max("centre", "centre_id").await?,
        learner: max("learner", "learner_id").await?,
        registration: max("registration", "registration_id").await?,
        evidence: max("evidence", "evidence_id").await?,
        claim: max("claim", "claim_id").await?,
        certificate: max("certificate", "certificate_id").await?,
        qa_sample: max("qa_sample", "sample_id").await?,
    };
    let centres = ((2000.0 * scale).round() as usize).max(1);
    let learners = ((1_000_000.0 * scale).round() as usize).max(centres);
    // Each centre: two qualifications of the AO with the most, and one of another AO's
    // (so every AO has centres, learners and certificates).
    let most = {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for q in &quals {
            *counts.entry(q.ao.as_str()).or_default() += 1;
        }
        counts
            .into_iter()
            .max_by_key(|(_, n)| *n)
            .map(|(ao, _)| ao.to_string())
            .unwrap_or_default()
    };
    let main: Vec<usize> = (0..quals.len()).filter(|&i| quals[i].ao == most).collect();
    let other: Vec<usize> = (0..quals.len()).filter(|&i| quals[i].ao != most).collect();
    let approvals = (0..centres)
        .map(|c| {
            let mut a = vec![main[c % main.len()], main[(c + 7) % main.len()]];
            if !other.is_empty() {
                a.push(other[c % other.len()]);
            }
            a.sort_unstable();
            a.dedup();
            a
        })
        .collect();
    let start = chrono::NaiveDate::from_ymd_opt(2024, 9, 1).unwrap_or_default();
    let days = (0..720)
        .map(|d| {
            format!(
                "{}T10:{:02}:00.000000Z",
                start + chrono::Duration::days(d),
                d % 60
            )
        })
        .collect();
    let plan = Plan {
        centres,
        learners,
        quals,
        approvals,
        ao_staff,
        ids,
        hash,
        days,
    };
    println!(
        "  schema, catalogue ({} qualifications) and AO staff: {:.1} s",
        plan.quals.len(),
        t.elapsed().as_secs_f64()
    );
    println!(
        "  {} centres, {} learners, {} staff",
        plan.centres,
        plan.learners,
        plan.centres * STAFF_PER_CENTRE
    );

    // 2. Keys, indexes and foreign keys off.
    let t = Instant::now();
    let saved = drop_keys(&pool).await?;
    println!(
        "Dropped {} foreign keys, {} keys and {} indexes of the loaded tables: {:.1} s",
        saved.fks.len(),
        saved.keys.len(),
        saved.indexes.len(),
        t.elapsed().as_secs_f64()
    );

    // 3. COPY. Two tables at a time (two cores: one generates, PostgreSQL parses).
    println!("Loading (COPY ... FROM STDIN, text format):");
    let t = Instant::now();
    let plan = std::sync::Arc::new(plan);
    let mut rows = 0u64;
    let a = {
        let (pool, plan) = (pool.clone(), plan.clone());
        tokio::spawn(async move {
            let mut n = 0;
            n += load_people(&pool, &plan).await?;
            n += load_judgements(&pool, &plan).await?;
            n += load_signatures(&pool, &plan).await?;
            n += load_quality(&pool, &plan).await?;
            anyhow::Ok(n)
        })
    };
    let b = {
        let (pool, plan) = (pool.clone(), plan.clone());
        tokio::spawn(async move {
            let mut n = 0;
            n += load_centres(&pool, &plan).await?;
            n += load_learners(&pool, &plan).await?;
            n += load_evidence(&pool, &plan).await?;
            n += load_certificates(&pool, &plan).await?;
            anyhow::Ok(n)
        })
    };
    rows += a.await??;
    rows += b.await??;
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "Loaded {rows} rows in {load_s:.1} s ({:.0} rows/s)",
        rows as f64 / load_s
    );

    // 4. Keys and indexes, then foreign keys (each checked over the whole table), then
    // identity counters and statistics.
    let t = Instant::now();
    restore_keys(&pool, &saved).await?;
    for table in [
        "person",
        "centre",
        "learner",
        "registration",
        "evidence",
        "claim",
        "certificate",
        "qa_sample",
        "judgement",
        "evidence_mapping",
        "signature",
        "role_grant",
        "assignment",
        "qa_decision",
    ] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "select setval(pg_get_serial_sequence('{table}', a.attname), coalesce((select max({col}) from {table}), 0) + 1, false) \
             from pg_attribute a where a.attrelid = '{table}'::regclass and a.attidentity <> '' ",
            col = id_column(table)
        )))
        .execute(&pool)
        .await?;
    }
    // What sampling plans read, kept by the store as judgements are recorded: built here
    // from the loaded judgements in one statement, as migration 18 does.
    sqlx::query(
        "insert into unit_work (centre_id, learner_id, unit_key, assessor_id, first_at, last_at) \
         select centre_id, learner_id, unit_key, assessor_id, min(at), max(at) from judgement \
         where centre_id is not null group by centre_id, learner_id, unit_key, assessor_id",
    )
    .execute(&pool)
    .await?;
    let index_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    sqlx::query("analyze").execute(&pool).await?;
    let analyze_s = t.elapsed().as_secs_f64();
    println!(
        "Keys, indexes, foreign keys and unit_work built: {index_s:.1} s; ANALYZE {analyze_s:.1} s"
    );
    let size: String =
        sqlx::query_scalar("select pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(&pool)
            .await?;
    println!(
        "Scale {scale} built in {:.1} s; database size {size}",
        total.elapsed().as_secs_f64()
    );
    println!();
    println!("Sign-ins (password {SCALE_PASSWORD}):");
    for (ao, _) in plan.ao_staff.iter() {
        println!("  AO staff ({ao}):   ao-{}@scale.test", ao.to_lowercase());
    }
    println!(
        "  assessor:         c1-assessor1@scale.test (centre {}, {} learners)",
        plan.centre_id(0),
        (0..plan.learners)
            .filter(|&i| plan.centre_of(i) == 0 && plan.assessor_of(i) == plan.staff_id(0, 1))
            .count()
    );
    println!(
        "  IQA:              c1-iqa1@scale.test (centre {})",
        plan.centre_id(0)
    );
    println!("  centre admin:     c1-admin@scale.test");
    println!(
        "  learner:          learner1@scale.test (learner {})",
        plan.learner_id(0)
    );
    println!(
        "Ids: centres {}..={}, learners {}..={}, certificates {}..={}",
        plan.centre_id(0),
        plan.centre_id(plan.centres - 1),
        plan.learner_id(0),
        plan.learner_id(plan.learners - 1),
        plan.ids.certificate + 1,
        plan.ids.certificate + (plan.learners * CERTIFICATES_PER_LEARNER) as i64
    );
    pool.close().await;
    app.store.pool().close().await;
    if !args.keep {
        println!("Dropping it again (add --keep to leave it for load tests).");
        let t = Instant::now();
        wipe(url).await?;
        println!("  {:.1} s", t.elapsed().as_secs_f64());
    }
    Ok(())
}

/// Drop every table of the database (it was empty before).
async fn wipe(url: &str) -> Result<()> {
    let pool = PgPoolOptions::new().max_connections(1).connect(url).await?;
    let tables: Vec<String> = sqlx::query_scalar(
        "select tablename::text from pg_tables where schemaname = current_schema() order by 1",
    )
    .fetch_all(&pool)
    .await?;
    for t in tables {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "drop table if exists \"{}\" cascade",
            t.replace('"', "\"\"")
        )))
        .execute(&pool)
        .await?;
    }
    pool.close().await;
    Ok(())
}

fn id_column(table: &str) -> &'static str {
    match table {
        "person" => "person_id",
        "centre" => "centre_id",
        "learner" => "learner_id",
        "registration" => "registration_id",
        "evidence" => "evidence_id",
        "claim" => "claim_id",
        "certificate" => "certificate_id",
        "qa_sample" => "sample_id",
        "judgement" => "judgement_id",
        "evidence_mapping" => "evidence_mapping_id",
        "signature" => "signature_id",
        "role_grant" => "role_grant_id",
        "assignment" => "assignment_id",
        "qa_decision" => "decision_id",
        _ => "0",
    }
}

struct Saved {
    /// (table, name, definition)
    fks: Vec<(String, String, String)>,
    keys: Vec<(String, String, String)>,
    /// CREATE INDEX statements.
    indexes: Vec<String>,
}

async fn drop_keys(pool: &PgPool) -> Result<Saved> {
    let loaded: Vec<String> = LOADED.iter().map(|s| s.to_string()).collect();
    // Every foreign key that is on, or points at, a loaded table.
    let fks: Vec<(String, String, String)> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) \
         from pg_constraint c where c.contype = 'f' and c.connamespace = current_schema()::regnamespace \
         and (c.conrelid::regclass::text = any($1) or c.confrelid::regclass::text = any($1)) order by 1, 2",
    )
    .bind(&loaded)
    .fetch_all(pool)
    .await?;
    let keys: Vec<(String, String, String)> = sqlx::query_as(
        "select c.conrelid::regclass::text, c.conname::text, pg_get_constraintdef(c.oid) \
         from pg_constraint c where c.contype in ('p', 'u') and c.connamespace = current_schema()::regnamespace \
         and c.conrelid::regclass::text = any($1) order by 1, 2",
    )
    .bind(&loaded)
    .fetch_all(pool)
    .await?;
    let indexes: Vec<(String, String)> = sqlx::query_as(
        "select i.indexname::text, i.indexdef from pg_indexes i \
         where i.schemaname = current_schema() and i.tablename = any($1) \
         and not exists (select 1 from pg_constraint c where c.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) \
         order by 1",
    )
    .bind(&loaded)
    .fetch_all(pool)
    .await?;
    for (table, name, _) in &fks {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter table {table} drop constraint \"{name}\""
        )))
        .execute(pool)
        .await?;
    }
    for (table, name, _) in &keys {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter table {table} drop constraint \"{name}\""
        )))
        .execute(pool)
        .await?;
    }
    for (name, _) in &indexes {
        sqlx::query(sqlx::AssertSqlSafe(format!("drop index \"{name}\"")))
            .execute(pool)
            .await?;
    }
    Ok(Saved {
        fks,
        keys,
        indexes: indexes.into_iter().map(|(_, d)| d).collect(),
    })
}

/// Keys and indexes two at a time (one per core), then foreign keys.
async fn restore_keys(pool: &PgPool, saved: &Saved) -> Result<()> {
    let mut statements: Vec<String> = saved
        .keys
        .iter()
        .map(|(table, name, def)| format!("alter table {table} add constraint \"{name}\" {def}"))
        .collect();
    statements.extend(saved.indexes.iter().cloned());
    let queue = std::sync::Arc::new(std::sync::Mutex::new(statements));
    let mut workers = Vec::new();
    for _ in 0..2 {
        let (pool, queue) = (pool.clone(), queue.clone());
        workers.push(tokio::spawn(async move {
            let mut conn = pool.acquire().await?;
            sqlx::query("set maintenance_work_mem = '512MB'")
                .execute(&mut *conn)
                .await?;
            loop {
                let next = queue.lock().map_err(|_| anyhow::anyhow!("poisoned"))?.pop();
                let Some(sql) = next else { break };
                let t = Instant::now();
                sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                    .execute(&mut *conn)
                    .await
                    .with_context(|| sql.clone())?;
                println!("  {:>6.1} s  {sql}", t.elapsed().as_secs_f64());
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let t = Instant::now();
    for (table, name, def) in &saved.fks {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "alter table {table} add constraint \"{name}\" {def}"
        )))
        .execute(pool)
        .await
        .with_context(|| format!("{table}.{name}: {def}"))?;
    }
    println!(
        "  {:>6.1} s  {} foreign keys added and checked",
        t.elapsed().as_secs_f64(),
        saved.fks.len()
    );
    Ok(())
}

async fn load_people(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut n = 0;
    let now = crate::store::now();
    let mut c = Loader::begin(
        pool,
        "person",
        "person_id, email, display_name, password_hash, disabled, created_at, updated_at",
    )
    .await?;
    for centre in 0..p.centres {
        for s in 0..STAFF_PER_CENTRE {
            let (email, name) = match s {
                0 => (
                    format!("c{}-admin@scale.test", centre + 1),
                    format!("Admin {}", centre + 1),
                ),
                s if s <= ASSESSORS_PER_CENTRE => (
                    format!("c{}-assessor{s}@scale.test", centre + 1),
                    format!("Assessor {s} of centre {}", centre + 1),
                ),
                s => (
                    format!("c{}-iqa{}@scale.test", centre + 1, s - ASSESSORS_PER_CENTRE),
                    format!("IQA {} of centre {}", s - ASSESSORS_PER_CENTRE, centre + 1),
                ),
            };
            writeln!(
                c.buf,
                "{}\t{email}\t{name}\t{}\t0\t{now}\t{now}",
                p.staff_id(centre, s),
                p.hash
            )?;
            c.row().await?;
        }
    }
    for i in 0..p.learners {
        let (g, f) = Plan::name_of(i);
        writeln!(
            c.buf,
            "{}\tlearner{}@scale.test\t{g} {f}\t{}\t0\t{now}\t{now}",
            p.learner_person(i),
            i + 1,
            p.hash
        )?;
        c.row().await?;
    }
    n += c.finish().await?;

    let mut c = Loader::begin(
        pool,
        "role_grant",
        "person_id, role, ao_code, centre_id, learner_id, created_at",
    )
    .await?;
    for centre in 0..p.centres {
        for s in 0..STAFF_PER_CENTRE {
            let role = match s {
                0 => "centre_admin",
                s if s <= ASSESSORS_PER_CENTRE => "assessor",
                _ => "iqa",
            };
            writeln!(
                c.buf,
                "{}\t{role}\t\\N\t{}\t\\N\t{now}",
                p.staff_id(centre, s),
                p.centre_id(centre)
            )?;
            c.row().await?;
        }
    }
    for i in 0..p.learners {
        writeln!(
            c.buf,
            "{}\tlearner\t\\N\t{}\t{}\t{now}",
            p.learner_person(i),
            p.centre_id(p.centre_of(i)),
            p.learner_id(i)
        )?;
        c.row().await?;
    }
    n += c.finish().await?;

    let mut c = Loader::begin(
        pool,
        "assignment",
        "registration_id, person_id, role, assigned_by, created_at",
    )
    .await?;
    for i in 0..p.learners {
        let admin = p.admin_of(p.centre_of(i));
        let at = p.day(p.rank(i) % 300);
        writeln!(
            c.buf,
            "{}\t{}\tassessor\t{admin}\t{at}",
            p.registration_id(i),
            p.assessor_of(i)
        )?;
        c.row().await?;
        writeln!(
            c.buf,
            "{}\t{}\tiqa\t{admin}\t{at}",
            p.registration_id(i),
            p.iqa_of(i)
        )?;
        c.row().await?;
    }
    n += c.finish().await?;

    let mut c = Loader::begin(pool, "lead_iqa", "person_id, centre_id, set_by, created_at").await?;
    for centre in 0..p.centres {
        writeln!(
            c.buf,
            "{}\t{}\t{}\t{now}",
            p.staff_id(centre, 1 + ASSESSORS_PER_CENTRE),
            p.centre_id(centre),
            p.admin_of(centre)
        )?;
        c.row().await?;
    }
    n += c.finish().await?;
    Ok(n)
}

async fn load_centres(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut n = 0;
    let now = crate::store::now();
    let mut c = Loader::begin(pool, "centre", "centre_id, name, created_at, updated_at").await?;
    for centre in 0..p.centres {
        writeln!(
            c.buf,
            "{}\tScale Centre {:05}\t{now}\t{now}",
            p.centre_id(centre),
            centre + 1
        )?;
        c.row().await?;
    }
    n += c.finish().await?;

    let mut ca = Loader::begin(
        pool,
        "centre_ao",
        "centre_id, ao_code, direct_claim_status, created_at, updated_at",
    )
    .await?;
    for centre in 0..p.centres {
        let aos: std::collections::BTreeSet<&str> = p.approvals[centre]
            .iter()
            .map(|&q| p.quals[q].ao.as_str())
            .collect();
        for ao in aos {
            writeln!(ca.buf, "{}\t{ao}\t1\t{now}\t{now}", p.centre_id(centre))?;
            ca.row().await?;
        }
    }
    n += ca.finish().await?;

    for (table, cols) in [
        (
            "centre_approval",
            "centre_id, qan, ao_code, approved_by, created_at",
        ),
        (
            "direct_claim",
            "centre_id, qan, ao_code, granted_by, reason, granted_at",
        ),
    ] {
        let mut c = Loader::begin(pool, table, cols).await?;
        for centre in 0..p.centres {
            for &q in &p.approvals[centre] {
                let q = &p.quals[q];
                let by = p.ao_staff.get(&q.ao).copied().unwrap_or(0);
                if table == "centre_approval" {
                    writeln!(
                        c.buf,
                        "{}\t{}\t{}\t{by}\t{now}",
                        p.centre_id(centre),
                        q.qan,
                        q.ao
                    )?;
                } else {
                    writeln!(
                        c.buf,
                        "{}\t{}\t{}\t{by}\tscale data\t{now}",
                        p.centre_id(centre),
                        q.qan,
                        q.ao
                    )?;
                }
                c.row().await?;
            }
        }
        n += c.finish().await?;
    }
    Ok(n)
}

async fn load_learners(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut n = 0;
    let now = crate::store::now();
    let mut c = Loader::begin(
        pool,
        "learner",
        "learner_id, uln, given_name, family_name, date_of_birth, email, person_id, created_at, updated_at",
    )
    .await?;
    for i in 0..p.learners {
        let (g, f) = Plan::name_of(i);
        let uln =
            credence_domain::people::uln::uln_with_check_digit(&format!("{:09}", 300_000_000 + i));
        writeln!(
            c.buf,
            "{}\t{}\t{g}\t{f}\t{}-{:02}-{:02}\tlearner{}@scale.test\t{}\t{now}\t{now}",
            p.learner_id(i),
            opt(uln),
            1970 + i % 35,
            1 + i % 12,
            1 + i % 28,
            i + 1,
            p.learner_person(i)
        )?;
        c.row().await?;
    }
    n += c.finish().await?;

    let mut c = Loader::begin(
        pool,
        "registration",
        "registration_id, learner_id, centre_id, qan, catalogue_version_id, status, registered_at, created_at, updated_at",
    )
    .await?;
    for i in 0..p.learners {
        let q = p.qual_of(i);
        let at = p.day(p.rank(i) % 300);
        writeln!(
            c.buf,
            "{}\t{}\t{}\t{}\t{}\tregistered\t{at}\t{at}\t{at}",
            p.registration_id(i),
            p.learner_id(i),
            p.centre_id(p.centre_of(i)),
            q.qan,
            q.version_id
        )?;
        c.row().await?;
    }
    n += c.finish().await?;

    let mut c = Loader::begin(pool, "portfolio_stamp", "learner_id, version").await?;
    for i in 0..p.learners {
        writeln!(c.buf, "{}\t1", p.learner_id(i))?;
        c.row().await?;
    }
    n += c.finish().await?;
    Ok(n)
}

async fn load_judgements(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut c = Loader::begin(
        pool,
        "judgement",
        "learner_id, unit_key, criterion, outcome, feedback, rpl, assessor_id, at, centre_id",
    )
    .await?;
    for i in 0..p.learners {
        let items = p.items_of(i);
        let (learner, assessor, centre) = (
            p.learner_id(i),
            p.assessor_of(i),
            p.centre_id(p.centre_of(i)),
        );
        let base = p.rank(i) % 300;
        for j in 0..JUDGEMENTS_PER_LEARNER {
            let (unit, criterion) = items[j % items.len()];
            let met = mix((i * 64 + j) as u64) % 100 < 85;
            let (outcome, feedback) = if met {
                (
                    "met",
                    "Criterion met: the evidence shows it in the workplace.",
                )
            } else {
                (
                    "not_yet_met",
                    "Not yet: add a second occasion and explain your reasoning.",
                )
            };
            writeln!(
                c.buf,
                "{learner}\t{unit}\t{criterion}\t{outcome}\t{feedback}\t0\t{assessor}\t{}\t{centre}",
                p.day(base + 10 + j * 3)
            )?;
            c.row().await?;
        }
    }
    c.finish().await
}

async fn load_evidence(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut n = 0;
    const KINDS: &[&str] = &[
        "observation_checklist",
        "product_evidence",
        "professional_discussion",
        "reflective_account",
        "questioning",
        "work_based_project",
    ];
    let mut c = Loader::begin(
        pool,
        "evidence",
        "evidence_id, learner_id, centre_id, title, evidence_date, kind, source, file_name, media_type, size, sha256, object_key, added_by, added_at",
    )
    .await?;
    for i in 0..p.learners {
        let base = p.rank(i) % 300;
        for e in 0..EVIDENCE_PER_LEARNER {
            let id = p.ids.evidence + 1 + (i * EVIDENCE_PER_LEARNER + e) as i64;
            let at = p.day(base + 5 + e * 15);
            writeln!(
                c.buf,
                "{id}\t{}\t{}\tEvidence {} of learner {}\t{}\t{}\treal_workplace\tevidence-{id}.pdf\tapplication/pdf\t2048\t{:064x}\t{:08x}-0000-4000-8000-{:012x}\t{}\t{at}",
                p.learner_id(i),
                p.centre_id(p.centre_of(i)),
                e + 1,
                i + 1,
                &at[..10],
                KINDS[(i + e) % KINDS.len()],
                id,
                0x5ca1e,
                id,
                p.learner_person(i)
            )?;
            c.row().await?;
        }
    }
    n += c.finish().await?;

    let mut c = Loader::begin(
        pool,
        "evidence_mapping",
        "evidence_id, learner_id, unit_key, criterion, location, mapped_by, mapped_at, centre_id",
    )
    .await?;
    for i in 0..p.learners {
        let items = p.items_of(i);
        let base = p.rank(i) % 300;
        let centre = p.centre_id(p.centre_of(i));
        for e in 0..EVIDENCE_PER_LEARNER {
            let id = p.ids.evidence + 1 + (i * EVIDENCE_PER_LEARNER + e) as i64;
            let mut seen = std::collections::BTreeSet::new();
            for k in 0..CRITERIA_PER_EVIDENCE {
                let item = items[(e * CRITERIA_PER_EVIDENCE + k) % items.len()];
                if !seen.insert(item) {
                    continue;
                }
                writeln!(
                    c.buf,
                    "{id}\t{}\t{}\t{}\tpage {}\t{}\t{}\t{centre}",
                    p.learner_id(i),
                    item.0,
                    item.1,
                    k + 1,
                    p.learner_person(i),
                    p.day(base + 5 + e * 15)
                )?;
                c.row().await?;
            }
        }
    }
    n += c.finish().await?;
    Ok(n)
}

async fn load_signatures(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut c = Loader::begin(
        pool,
        "signature",
        "learner_id, unit_key, role, person_id, at, comments, evidence_hash, centre_id",
    )
    .await?;
    for i in 0..p.learners {
        let base = p.rank(i) % 300;
        for (u, unit) in p.units_of(i).iter().enumerate() {
            for (role, person) in [
                ("assessor", p.assessor_of(i)),
                ("learner", p.learner_person(i)),
            ] {
                writeln!(
                    c.buf,
                    "{}\t{}\t{role}\t{person}\t{}\t\t{:064x}\t{}",
                    p.learner_id(i),
                    unit.key,
                    p.day(base + 80 + u),
                    mix(i as u64 * 8 + u as u64),
                    p.centre_id(p.centre_of(i))
                )?;
                c.row().await?;
            }
        }
    }
    c.finish().await
}

async fn load_certificates(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut n = 0;
    let mut c = Loader::begin(
        pool,
        "claim",
        "claim_id, registration_id, learner_id, centre_id, ao_code, qan, units, status, claimed_by, claimed_at, released_at, release_note, kind",
    )
    .await?;
    let claim_units = |i: usize, k: usize| -> Vec<&UnitInfo> {
        let units = p.units_of(i);
        if k == 0 {
            units.iter().collect()
        } else {
            vec![&units[(k - 1) % units.len()]]
        }
    };
    for i in 0..p.learners {
        let q = p.qual_of(i);
        let at = p.day(p.rank(i) % 300 + 100);
        for k in 0..CERTIFICATES_PER_LEARNER {
            let id = p.ids.claim + 1 + (i * CERTIFICATES_PER_LEARNER + k) as i64;
            let keys: Vec<&str> = claim_units(i, k).iter().map(|u| u.key.as_str()).collect();
            writeln!(
                c.buf,
                "{id}\t{}\t{}\t{}\t{}\t{}\t{}\treleased\t{}\t{at}\t{at}\tdirect claim status\t{}",
                p.registration_id(i),
                p.learner_id(i),
                p.centre_id(p.centre_of(i)),
                q.ao,
                q.qan,
                serde_json::to_string(&keys)?,
                p.admin_of(p.centre_of(i)),
                if k == 0 { "qualification" } else { "unit" }
            )?;
            c.row().await?;
        }
    }
    n += c.finish().await?;

    let mut sequences: BTreeMap<String, u64> = BTreeMap::new();
    let mut c = Loader::begin(
        pool,
        "certificate",
        "certificate_id, number, ao_code, year, sequence, kind, claim_id, registration_id, learner_id, centre_id, learner_name, qan, unit_reference, title, level, grade, units, total_credits, awarded_on, issued_at, issued_by, status",
    )
    .await?;
    for i in 0..p.learners {
        let q = p.qual_of(i);
        let (g, f) = Plan::name_of(i);
        let at = p.day(p.rank(i) % 300 + 100);
        for k in 0..CERTIFICATES_PER_LEARNER {
            let id = p.ids.certificate + 1 + (i * CERTIFICATES_PER_LEARNER + k) as i64;
            let claim = p.ids.claim + 1 + (i * CERTIFICATES_PER_LEARNER + k) as i64;
            let seq = sequences.entry(q.ao.clone()).or_insert(0);
            *seq += 1;
            let number = credence_domain::certificate::CertificateNumber::new(&q.ao, 2026, *seq)
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .to_string();
            let units = claim_units(i, k);
            let printed: Vec<serde_json::Value> = units
                .iter()
                .map(|u| {
                    serde_json::json!({"reference": u.reference, "title": u.title, "credits": u.credit, "grade": "Pass"})
                })
                .collect();
            let credits: u32 = units.iter().filter_map(|u| u.credit).sum();
            let (kind, qan, unit_ref, title, level) = if k == 0 {
                (
                    "qualification",
                    Some(q.qan.as_str()),
                    None,
                    q.title.as_str(),
                    Some(q.level),
                )
            } else {
                (
                    "unit",
                    None,
                    Some(units[0].reference.as_str()),
                    units[0].title.as_str(),
                    None,
                )
            };
            writeln!(
                c.buf,
                "{id}\t{number}\t{}\t2026\t{seq}\t{kind}\t{claim}\t{}\t{}\t{}\t{g} {f}\t{}\t{}\t{title}\t{}\tPass\t{}\t{credits}\t{}\t{at}\t{}\tvalid",
                q.ao,
                p.registration_id(i),
                p.learner_id(i),
                p.centre_id(p.centre_of(i)),
                opt(qan),
                opt(unit_ref),
                opt(level),
                serde_json::to_string(&printed)?,
                &at[..10],
                p.ao_staff.get(&q.ao).copied().unwrap_or(0)
            )?;
            c.row().await?;
        }
    }
    n += c.finish().await?;
    for (ao, last) in &sequences {
        sqlx::query(
            "insert into certificate_sequence (ao_code, year, last_sequence) values ($1, 2026, $2) \
             on conflict (ao_code, year) do update set last_sequence = greatest(certificate_sequence.last_sequence, excluded.last_sequence)",
        )
        .bind(ao)
        .bind(*last as i64)
        .execute(pool)
        .await?;
    }
    Ok(n)
}

/// IQA samples: one learner in ten, on their first unit; planned, open or agreed.
async fn load_quality(pool: &PgPool, p: &Plan) -> Result<u64> {
    let mut n = 0;
    let now = crate::store::now();
    let mut samples = Vec::new();
    let mut c = Loader::begin(
        pool,
        "qa_sample",
        "sample_id, centre_id, registration_id, learner_id, unit_key, assessor_id, stage, state, origin, reasons, due_on, iqa_id, snapshot, snapshot_hash, opened_at, decided_at, created_by, created_at",
    )
    .await?;
    for i in (0..p.learners).filter(|&i| p.rank(i).is_multiple_of(10)) {
        let id = p.ids.qa_sample + 1 + samples.len() as i64;
        let state = match (p.rank(i) / 10) % 5 {
            0..=2 => "planned",
            3 => "open",
            _ => "agreed",
        };
        let unit = &p.units_of(i)[0];
        let due = &p.day(p.rank(i) % 300 + 120)[..10];
        let (iqa, snap, hash, opened, decided) = match state {
            "planned" => ("\\N".to_string(), "\\N", "\\N".to_string(), "\\N", "\\N"),
            "open" => (
                p.iqa_of(i).to_string(),
                "{}",
                format!("{:064x}", 0),
                now.as_str(),
                "\\N",
            ),
            _ => (
                p.iqa_of(i).to_string(),
                "{}",
                format!("{:064x}", 0),
                now.as_str(),
                now.as_str(),
            ),
        };
        writeln!(
            c.buf,
            "{id}\t{}\t{}\t{}\t{}\t{}\tsummative\t{state}\tplan\t[\"one learner in ten\"]\t{due}\t{iqa}\t{snap}\t{hash}\t{opened}\t{decided}\t{}\t{now}",
            p.centre_id(p.centre_of(i)),
            p.registration_id(i),
            p.learner_id(i),
            unit.key,
            p.assessor_of(i),
            p.iqa_of(i)
        )?;
        c.row().await?;
        samples.push((id, state, p.iqa_of(i)));
    }
    n += c.finish().await?;
    let mut c = Loader::begin(
        pool,
        "qa_decision",
        "sample_id, verdict, comments, action, iqa_id, at",
    )
    .await?;
    for (id, state, iqa) in samples {
        if state == "agreed" {
            writeln!(c.buf, "{id}\tagree\tSound judgements.\t\t{iqa}\t{now}")?;
            c.row().await?;
        }
    }
    n += c.finish().await?;
    Ok(n)
}
