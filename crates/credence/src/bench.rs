//! `credence bench`: measurements on this machine, printed as a table.

use crate::cli::BenchArgs;
use anyhow::Result;
use std::time::Instant;

pub async fn run(args: &BenchArgs, database_url: Option<&str>) -> Result<()> {
    if let Some(scale) = args.scale {
        return crate::bench_scale::run(args, database_url, scale).await;
    }
    let databases = BenchDb::choose(database_url, args.also_sqlite).await?;
    println!(
        "Database figures are taken on: {}.",
        databases
            .iter()
            .map(BenchDb::describe)
            .collect::<Vec<_>>()
            .join("; ")
    );
    println!();
    let result = run_on(args, &databases).await;
    // A database that was given is left as empty as it was found (unless a measurement
    // failed: then what it made stays, to look at).
    if result.is_ok() {
        for db in &databases {
            db.wipe().await?;
        }
    }
    result
}

async fn run_on(args: &BenchArgs, databases: &[BenchDb]) -> Result<()> {
    let seeds = crate::seeds::SEEDS;
    let bytes: usize = seeds.iter().map(|s| s.text.len()).sum();
    // Warm up once, and check every seed imports.
    for s in seeds {
        credence_domain::import::import(s.text).map_err(|e| anyhow::anyhow!("{}: {e}", s.name))?;
    }
    let mut samples = Vec::with_capacity(args.iterations as usize);
    for _ in 0..args.iterations {
        let t = Instant::now();
        for s in seeds {
            let r = credence_domain::import::import(s.text);
            std::hint::black_box(&r);
        }
        samples.push(t.elapsed().as_secs_f64());
    }
    samples.sort_by(f64::total_cmp);
    let p = |q: f64| samples[((samples.len() as f64 - 1.0) * q).round() as usize] * 1e3;
    let mean = samples.iter().sum::<f64>() / samples.len() as f64;
    println!(
        "Import of the {} shipped specifications ({} bytes), {} iterations, one core:",
        seeds.len(),
        bytes,
        args.iterations
    );
    println!(
        "  mean {:.3} ms   p50 {:.3} ms   p99 {:.3} ms   max {:.3} ms",
        mean * 1e3,
        p(0.5),
        p(0.99),
        p(1.0)
    );
    println!(
        "  throughput {:.1} MB/s (target: all five in under 20 ms)",
        bytes as f64 / mean / 1e6
    );
    println!();
    let origin = Instant::now();
    let mut now_ns = || u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
    let report = credence_domain::rules::bench::run(
        &credence_domain::rules::bench::BenchConfig {
            checks: args.rule_checks,
            ..Default::default()
        },
        &mut now_ns,
    )
    .map_err(|e| anyhow::anyhow!("rules benchmark: {e}"))?;
    print!("{}", report.table());
    println!("targets: rule checks >= 2,000,000/s on one core; planner p99 < 1 ms");
    // Each measurement on each database in turn, so their figures print side by side.
    for db in databases {
        if args.portfolio_requests > 0 {
            println!();
            portfolio_page(db, args.portfolio_requests).await?;
        }
    }
    for db in databases {
        if args.upload_mib > 0 {
            println!();
            upload(db, args.upload_mib).await?;
        }
    }
    if args.audit_appends > 0 {
        for db in databases {
            println!();
            let (url, dir) = db.prepare("audit").await?;
            audit_appends(db.label, &url, args.audit_appends).await?;
            let _ = std::fs::remove_dir_all(&dir);
        }
        if let Some(pg) = &args.audit_postgres {
            audit_appends("PostgreSQL", pg, args.audit_appends).await?;
        }
    }
    for db in databases {
        if args.registrations > 0 {
            println!();
            registrations(db, args.registrations).await?;
        }
    }
    for db in databases {
        if args.qa_learners > 0 {
            println!();
            qa_plan(db, args.qa_learners).await?;
        }
    }
    for db in databases {
        if args.home_requests > 0 {
            println!();
            homes(db, args.home_requests).await?;
        }
    }
    for db in databases {
        if args.certificates > 0 {
            println!();
            certificates(db, args.certificates, args.verify_seconds).await?;
        }
    }
    Ok(())
}

/// A database the figures are taken on: a fresh SQLite file in a temp folder for each
/// measurement (the default), or the database `--database-url` names, which must be empty
/// and is emptied again between measurements.
pub struct BenchDb {
    /// "SQLite" or "PostgreSQL": printed with every figure.
    pub label: &'static str,
    /// The given database; `None` for fresh SQLite files.
    url: Option<String>,
}

impl BenchDb {
    /// The databases to measure on: the given one (refused unless empty), then, with
    /// `also_sqlite`, fresh SQLite files as well; without a URL, fresh SQLite files only.
    pub async fn choose(url: Option<&str>, also_sqlite: bool) -> Result<Vec<BenchDb>> {
        let Some(url) = url else {
            anyhow::ensure!(
                !also_sqlite,
                "--also-sqlite compares SQLite with the PostgreSQL database given with --database-url, and none was given: add --database-url postgres://... (an empty database), or leave --also-sqlite out"
            );
            return Ok(vec![BenchDb {
                label: "SQLite",
                url: None,
            }]);
        };
        let store = crate::store::Store::connect(url).await.map_err(|e| {
            anyhow::anyhow!(
                "could not open the database {} to measure on: {e}",
                crate::store::redact(url)
            )
        })?;
        let label = match store.backend() {
            crate::store::Backend::Postgres => "PostgreSQL",
            crate::store::Backend::Sqlite => "SQLite",
        };
        anyhow::ensure!(
            !(also_sqlite && label == "SQLite"),
            "--also-sqlite adds SQLite to figures taken on PostgreSQL, but --database-url names a SQLite database: give a PostgreSQL URL, or leave --also-sqlite out"
        );
        let tables = tables_of(&store).await?;
        store.pool().close().await;
        if !tables.is_empty() {
            anyhow::bail!(
                "the database {} is not empty ({} tables, such as {}): `credence bench` fills the database it is given with generated data and empties it again, so it only measures on an empty database made for the purpose (for PostgreSQL: `createdb credence_bench`, then --database-url postgres://.../credence_bench). Nothing was changed.",
                crate::store::redact(url),
                tables.len(),
                tables[0]
            );
        }
        let mut dbs = vec![BenchDb {
            label,
            url: Some(url.to_string()),
        }];
        if also_sqlite {
            dbs.push(BenchDb {
                label: "SQLite",
                url: None,
            });
        }
        Ok(dbs)
    }

    /// What the figures labelled with this database were taken on.
    pub fn describe(&self) -> String {
        match &self.url {
            Some(url) => format!("{} at {}", self.label, crate::store::redact(url)),
            None => format!(
                "{}, a fresh file in a temp folder for each measurement",
                self.label
            ),
        }
    }

    /// The database URL for the measurement `what`, empty, and a fresh temp folder for its
    /// other files (evidence, keys).
    async fn prepare(&self, what: &str) -> Result<(String, std::path::PathBuf)> {
        let dir =
            std::env::temp_dir().join(format!("credence-bench-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)?;
        let url = match &self.url {
            Some(url) => {
                self.wipe().await?;
                url.clone()
            }
            None => format!("sqlite://{}?mode=rwc", dir.join("credence.db").display()),
        };
        Ok((url, dir))
    }

    /// Drop every table of the given database (it was empty before the bench began).
    async fn wipe(&self) -> Result<()> {
        let Some(url) = &self.url else {
            return Ok(());
        };
        let store = crate::store::Store::connect(url).await?;
        let tables = tables_of(&store).await?;
        // One connection, closed afterwards: SQLite's foreign keys are switched off on it
        // so the tables can go in any order.
        let mut conn = store.pool().acquire().await?;
        conn.close_on_drop();
        if store.backend() == crate::store::Backend::Sqlite {
            sqlx::raw_sql("pragma foreign_keys = off")
                .execute(&mut *conn)
                .await?;
        }
        for table in tables {
            let cascade = match store.backend() {
                crate::store::Backend::Postgres => " cascade",
                crate::store::Backend::Sqlite => "",
            };
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "drop table if exists \"{}\"{cascade}",
                table.replace('"', "\"\"")
            )))
            .execute(&mut *conn)
            .await?;
        }
        drop(conn);
        store.pool().close().await;
        Ok(())
    }
}

/// The tables of the database's current schema.
async fn tables_of(store: &crate::store::Store) -> Result<Vec<String>> {
    let sql = match store.backend() {
        crate::store::Backend::Postgres => {
            "select tablename::text from pg_tables where schemaname = current_schema() order by 1"
        }
        crate::store::Backend::Sqlite => {
            "select name from sqlite_master where type = 'table' and name not like 'sqlite_%' order by 1"
        }
    };
    Ok(sqlx::query_scalar(sql).fetch_all(store.pool()).await?)
}

/// Issue `n` certificates through the real path, each in its own transaction: the rules
/// engine re-checks the claim against the learner's released results (sign-offs, rules,
/// grade), the number is taken and the certificate and its audit entry written, and the
/// Open Badges credential is signed. The claims are the demo's Farah's released claim, made
/// again as distinct unit claims (one per certificate) so the one-claim-per-registration
/// rule does not stop the loop. Then PDFs, and public lookups over HTTP.
async fn certificates(db: &BenchDb, n: usize, seconds: u32) -> Result<()> {
    let (mut app, dir) = bench_app(db, "certificates").await?;
    app.verify_limit = std::sync::Arc::new(crate::ratelimit::RateLimiter::new(0));
    let claim = app
        .store
        .claims(None)
        .await?
        .into_iter()
        .find(|c| c.status == "released")
        .ok_or_else(|| anyhow::anyhow!("the demo has no released claim"))?;
    let reg = app
        .store
        .registration(claim.registration_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no registration"))?;
    let err = |e: crate::app::AppError| anyhow::anyhow!("{e}");
    let (mut rules, mut record, mut sign) = (0.0, 0.0, 0.0);
    let mut numbers = Vec::with_capacity(n);
    let bar = crate::progress(n as u64, "Issuing certificates");
    let all = Instant::now();
    for i in 0..n {
        let t = Instant::now();
        let draft = app
            .certificate_draft(&claim, None, "system:bench", None)
            .await
            .map_err(err)?;
        let t1 = Instant::now();
        let (_, number) = app
            .store
            .insert_claim(
                &reg,
                "unit",
                &[format!("bench-{i}")],
                claim.claimed_by,
                true,
                Some(&draft),
            )
            .await?;
        let number = number.ok_or_else(|| anyhow::anyhow!("no number"))?;
        let t2 = Instant::now();
        let jwt = app.credential_jwt(&number).await.map_err(err)?;
        std::hint::black_box(&jwt);
        let t3 = Instant::now();
        rules += (t1 - t).as_secs_f64();
        record += (t2 - t1).as_secs_f64();
        sign += (t3 - t2).as_secs_f64();
        numbers.push(number);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let wall = all.elapsed().as_secs_f64();
    let unique: std::collections::BTreeSet<&String> = numbers.iter().collect();
    anyhow::ensure!(unique.len() == n, "numbers repeated");
    let per = |x: f64| x / n as f64 * 1e3;
    println!(
        "Certificates, {}, {n} issued one after another (each its own transaction):",
        db.label
    );
    println!(
        "  {:.0} certificates/s ({:.1} s in all): rules check {:.2} ms, number and record {:.2} ms, signed credential {:.2} ms each",
        n as f64 / wall,
        wall,
        per(rules),
        per(record),
        per(sign)
    );

    // PDFs (on request, off the async threads): 2 at a time on this machine's 2 cores.
    let operator = app.operator(None).await.map_err(err)?;
    let scope = app.operator_register(&operator);
    let pdfs = n.min(1000);
    let t = Instant::now();
    let mut sizes = 0usize;
    for pair in numbers[..pdfs].chunks(2) {
        let mut tasks = Vec::new();
        for number in pair {
            let (app, scope, number) = (app.clone(), scope.clone(), number.clone());
            tasks.push(tokio::spawn(async move {
                app.certificate_pdf(&scope, &number).await
            }));
        }
        for task in tasks {
            sizes += task.await?.map_err(err)?.1.len();
        }
    }
    let pdf_wall = t.elapsed().as_secs_f64();
    println!(
        "  PDFs: {pdfs} in {:.1} s, {:.0}/s, {:.1} ms each on one core, {:.0} KB each (so all {n}: about {:.0} s)",
        pdf_wall,
        pdfs as f64 / pdf_wall,
        pdf_wall * 2.0 / pdfs as f64 * 1e3,
        sizes as f64 / pdfs as f64 / 1024.0,
        pdf_wall * n as f64 / pdfs as f64
    );

    // Public lookups over HTTP on one server, the rate limit lifted.
    verification_load(&app, &numbers, seconds, &dir).await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// `GET /api/v1/certificates/{number}` over real HTTP for `seconds`, with `wrk` (32
/// connections, random numbers among those issued); then nginx serving one answer's bytes
/// as a static file under the same load, for the ratio.
async fn verification_load(
    app: &crate::app::App,
    numbers: &[String],
    seconds: u32,
    dir: &std::path::Path,
) -> Result<()> {
    let have = |tool: &str| std::process::Command::new(tool).arg("-v").output().is_ok();
    if !have("wrk") {
        println!("  verification lookups: not measured (install wrk: apt-get install wrk)");
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = crate::web::router(app.clone())
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    // The numbers to ask for, as a Lua table wrk picks from at random.
    let sample: Vec<&String> = numbers
        .iter()
        .step_by((numbers.len() / 2000).max(1))
        .collect();
    let lua = format!(
        "local n = {{{}}}\nrequest = function()\n  return wrk.format(\"GET\", \"/api/v1/certificates/\" .. n[math.random(#n)])\nend\n",
        sample
            .iter()
            .map(|s| format!("\"{s}\""))
            .collect::<Vec<_>>()
            .join(",")
    );
    let script = dir.join("verify.lua");
    std::fs::write(&script, lua)?;
    let run_wrk = move |url: String, script: Option<std::path::PathBuf>| {
        let mut cmd = std::process::Command::new("wrk");
        cmd.args(["-t1", "-c32", &format!("-d{seconds}s"), "--latency"]);
        if let Some(s) = script {
            cmd.arg("-s").arg(s);
        }
        cmd.arg(url);
        cmd.output()
    };
    let parse = |out: &std::process::Output| -> (f64, String) {
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let rps = text
            .lines()
            .find_map(|l| l.strip_prefix("Requests/sec:"))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        let p99 = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("99%"))
            .map(|v| v.trim().to_string())
            .unwrap_or_default();
        let errors = text
            .lines()
            .find(|l| l.contains("Non-2xx") || l.contains("Socket errors"))
            .map(|l| format!(" ({})", l.trim()))
            .unwrap_or_default();
        (rps, format!("{p99}{errors}"))
    };
    let url = format!("http://{addr}/");
    let out = tokio::task::spawn_blocking(move || run_wrk(url, Some(script))).await??;
    let (credence_rps, credence_p99) = parse(&out);
    println!(
        "  verification JSON over HTTP, one server, 32 connections, {seconds} s: {credence_rps:.0} lookups/s, p99 {credence_p99} (target: at least 5,000/s)"
    );
    // nginx with the same bytes as a static file.
    let body = {
        let (_, b) = get_page(
            &crate::web::router(app.clone()),
            &format!("/api/v1/certificates/{}", numbers[0]),
            "",
        )
        .await?;
        b
    };
    server.abort();
    if std::process::Command::new("nginx")
        .arg("-v")
        .output()
        .is_err()
    {
        println!("  nginx: not measured (install nginx-light for the ratio)");
        return Ok(());
    }
    let root = dir.join("static");
    std::fs::create_dir_all(&root)?;
    std::fs::write(root.join("certificate.json"), &body)?;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let conf = format!(
        "worker_processes 1;\ndaemon off;\npid {pid};\nerror_log {err} warn;\nevents {{ worker_connections 1024; }}\nhttp {{\n  access_log off;\n  client_body_temp_path {tmp};\n  proxy_temp_path {tmp};\n  fastcgi_temp_path {tmp};\n  uwsgi_temp_path {tmp};\n  scgi_temp_path {tmp};\n  server {{\n    listen 127.0.0.1:{port};\n    location / {{ root {root}; default_type application/json; }}\n  }}\n}}\n",
        pid = dir.join("nginx.pid").display(),
        err = dir.join("nginx-error.log").display(),
        tmp = dir.display(),
        root = root.display(),
    );
    std::fs::write(dir.join("nginx.conf"), conf)?;
    let mut nginx = std::process::Command::new("nginx")
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-p")
        .arg(dir)
        .spawn()?;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let url = format!("http://127.0.0.1:{port}/certificate.json");
    let out = tokio::task::spawn_blocking(move || run_wrk(url, None)).await??;
    // SIGTERM to the master, which stops its worker too (SIGKILL would orphan the worker).
    let _ = std::process::Command::new("kill")
        .arg(nginx.id().to_string())
        .status();
    let _ = nginx.wait();
    let (nginx_rps, nginx_p99) = parse(&out);
    println!(
        "  nginx serving the same {} bytes as a static file (1 worker): {nginx_rps:.0}/s, p99 {nginx_p99}; Credence is {:.0}% of it",
        body.len(),
        credence_rps / nginx_rps.max(1.0) * 100.0
    );
    Ok(())
}

/// The daily loop's two busiest pages: an assessor's home with a caseload of 60 learners
/// (what needs them, the caseload with its progress and tags) and a learner's home (their
/// feedback to act on and units to sign), each `requests` times, 32 at a time, on the database
/// measured. Each learner has 12 evidence items, 36 mappings and 24 decisions (a sixth not yet met).
async fn homes(db: &BenchDb, requests: usize) -> Result<()> {
    let (app, dir) = bench_app_without_demo(db, "homes").await?;
    let centre = app.store.insert_centre("Bench Centre").await?;
    let qan = "610/3788/6";
    app.store.approve_centre(centre, qan, "ISP", None).await?;
    let today = chrono::Utc::now().date_naive();
    let csv = credence_domain::people::registration::synthetic_csv(60, qan, today);
    let operator = app
        .operator(None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome = app
        .register_csv(
            &operator.centre(centre),
            csv.as_bytes(),
            false,
            "bench",
            |_| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        outcome.registered == 60,
        "registered {}: {:?}",
        outcome.registered,
        outcome.errors.iter().take(3).collect::<Vec<_>>()
    );
    let assessor = app
        .create_person(
            "bench.assessor@bench.test",
            "Bench Assessor",
            Some("a long bench password"),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.store
        .grant_role(assessor, "assessor", None, Some(centre), None)
        .await?;
    let regs = app.store.registrations_at_centre(centre, 100).await?;
    let learner_person = app
        .create_person(
            "bench.learner@bench.test",
            "Bench Learner",
            Some("a long bench password"),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.store
        .grant_role(
            learner_person,
            "learner",
            None,
            Some(centre),
            Some(regs[0].learner_id),
        )
        .await?;
    let spec = app
        .specification_of_version(regs[0].catalogue_version_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let targets: Vec<(String, String)> = spec
        .qualifications
        .iter()
        .find(|q| q.qan == qan)
        .map(|q| {
            q.units
                .iter()
                .map(|u| u.unit.clone())
                .collect::<Vec<String>>()
        })
        .unwrap_or_default()
        .into_iter()
        .filter_map(|k| spec.unit(&k).cloned())
        .take(4)
        .flat_map(|u| {
            u.judged_items()
                .into_iter()
                .map(|(n, _)| (u.key.clone(), n.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    anyhow::ensure!(!targets.is_empty(), "criteria to map");
    for (n, r) in regs.iter().enumerate() {
        app.store
            .assign(r.registration_id, assessor, "assessor", assessor)
            .await?;
        let mut ids = Vec::new();
        for i in 0..12 {
            ids.push(
                app.store
                    .insert_evidence(&crate::store::NewEvidence {
                        learner_id: r.learner_id,
                        centre_id: centre,
                        title: format!("Evidence item {i}"),
                        evidence_date: format!("2026-{:02}-{:02}", 1 + i % 10, 1 + i % 28),
                        kind: "observation_checklist".into(),
                        kind_other: None,
                        witness_name: None,
                        witness_role: None,
                        source: "real_workplace".into(),
                        simulation_note: None,
                        file_name: format!("item-{i}.pdf"),
                        media_type: "application/pdf".into(),
                        size: 1000,
                        sha256: format!("{:064x}", n * 100 + i),
                        object_key: format!("evidence/bench-{n}-{i}"),
                        added_by: learner_person,
                    })
                    .await?,
            );
        }
        for k in 0..36 {
            let (unit, criterion) = &targets[(k + n) % targets.len()];
            app.store
                .map_evidence(
                    r.learner_id,
                    ids[k % ids.len()],
                    unit,
                    criterion,
                    "page 1",
                    learner_person,
                )
                .await?;
            if k < 24 {
                let outcome = if k % 6 == 0 { "not_yet_met" } else { "met" };
                app.store
                    .insert_judgement(
                        r.learner_id,
                        unit,
                        criterion,
                        outcome,
                        "Seen",
                        false,
                        assessor,
                        centre,
                    )
                    .await?;
            }
        }
    }
    let router = crate::web::router(app.clone());
    for (who, email, must_show) in [
        (
            "assessor's home, caseload of 60",
            "bench.assessor@bench.test",
            "Your caseload at Bench Centre (60)",
        ),
        (
            "learner's home",
            "bench.learner@bench.test",
            "Feedback to act on (",
        ),
    ] {
        let token = token_of(&app, email).await?;
        let (_, body) = get_page(&router, "/home", &token).await?;
        let html = String::from_utf8_lossy(&body);
        anyhow::ensure!(html.contains(must_show), "the {who} shows {must_show}");
        let (samples, wall) = get_32_at_a_time(&router, "/home", &token, requests).await?;
        let q = |x: f64| ms_at(&samples, x);
        println!(
            "The {who} on {} ({} KB): {} requests, 32 at a time: p50 {:.1} ms, p99 {:.1} ms, {:.0} pages/s (target: p99 under 20 ms)",
            db.label,
            body.len() / 1000,
            samples.len(),
            q(0.5),
            q(0.99),
            samples.len() as f64 / wall
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The IQA's sampling plan at a large centre: `learners` learners on the L3 Diploma, 40
/// assessors (a quarter working towards their award), 8 judgements on each of 5 units a
/// learner, two of the five units signed off, one evidence item a learner mapped to every
/// unit. Times the plan loaded from the database and computed (the plan page), generating
/// it (with the inserts), and the IQA's home page with the queue, 32 at a time.
async fn qa_plan(db: &BenchDb, learners: usize) -> Result<()> {
    use axum::body::Body;
    use tower::ServiceExt;
    let (app, dir) = bench_app_without_demo(db, "qa").await?;
    let qan = "610/3789/8";
    let centre = app.store.insert_centre("Bench QA Centre").await?;
    app.store.approve_centre(centre, qan, "ISP", None).await?;
    let today = chrono::Utc::now().date_naive();
    let csv = credence_domain::people::registration::synthetic_csv(learners, qan, today);
    let operator = app
        .operator(None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome = app
        .register_csv(
            &operator.centre(centre),
            csv.as_bytes(),
            false,
            "bench",
            |_| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        outcome.registered == learners,
        "registered {}: {:?}",
        outcome.registered,
        outcome.errors.first()
    );
    let regs = app.store.registrations_at_centre(centre, i64::MAX).await?;
    let spec = app
        .specification_of_version(regs[0].catalogue_version_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let q = spec
        .qualifications
        .iter()
        .find(|q| q.qan == qan)
        .ok_or_else(|| anyhow::anyhow!("no {qan}"))?;
    let units: Vec<(String, Vec<String>)> = q
        .units
        .iter()
        .filter_map(|qu| spec.unit(&qu.unit))
        .map(|u| {
            (
                u.key.clone(),
                u.judged_items()
                    .iter()
                    .map(|(n, _)| n.to_string())
                    .collect(),
            )
        })
        .collect();
    // 40 assessors, every tenth working towards the assessor award.
    let mut assessors = Vec::new();
    for a in 0..40 {
        let p = app
            .store
            .insert_person(
                &format!("assessor{a}@bench.test"),
                &format!("Assessor {a}"),
                None,
            )
            .await?;
        app.store
            .grant_role(p, "assessor", None, Some(centre), None)
            .await?;
        use credence_domain::people::competence::{
            AssessorAward, AwardHeld, AwardStatus, CompetenceRecord,
        };
        let record = CompetenceRecord {
            occupational_level: 5,
            awards: vec![AwardHeld {
                award: AssessorAward::L3CertificateAssessingVocationalAchievement,
                status: if a % 4 == 0 {
                    AwardStatus::WorkingTowards
                } else {
                    AwardStatus::Held
                },
            }],
            cpd: Vec::new(),
        };
        app.store
            .set_competence(p, &serde_json::to_string(&record)?)
            .await?;
        assessors.push(p);
    }
    let iqa = app
        .store
        .insert_person("iqa@bench.test", "Bench IQA", None)
        .await?;
    app.store
        .grant_role(iqa, "iqa", None, Some(centre), None)
        .await?;
    // The judgements, signatures, evidence and mappings, straight into the tables.
    let t = Instant::now();
    let kinds = [
        "observation_checklist",
        "professional_discussion",
        "product_evidence",
        "witness_testimony",
        "questioning",
    ];
    let at = |d: usize| {
        format!(
            "{}T10:00:00.000000Z",
            today - chrono::Duration::days((d % 300) as i64 + 1)
        )
    };
    let mut judgements = 0usize;
    let mut tx = app.store.begin().await?;
    for (i, r) in regs.iter().enumerate() {
        let assessor = assessors[i % assessors.len()];
        let ev: (i64,) = sqlx::query_as("insert into evidence (learner_id, centre_id, title, evidence_date, kind, source, file_name, media_type, size, sha256, object_key, added_by, added_at) values ($1, $2, 'Bench item', '2026-10-01', $3, 'real_workplace', 'x.txt', 'text/plain', 1, 'x', $4, $5, $6) returning evidence_id")
            .bind(r.learner_id)
            .bind(centre)
            .bind(kinds[i % kinds.len()])
            .bind(format!("bench/{i}"))
            .bind(assessor)
            .bind(at(i))
            .fetch_one(&mut *tx)
            .await?;
        for u in 0..5 {
            let (unit, criteria) = &units[(i + u * 3) % units.len()];
            sqlx::query("insert into evidence_mapping (evidence_id, learner_id, unit_key, criterion, location, mapped_by, mapped_at, centre_id) values ($1, $2, $3, $4, 'p1', $5, $6, $7)")
                .bind(ev.0)
                .bind(r.learner_id)
                .bind(unit)
                .bind(&criteria[0])
                .bind(assessor)
                .bind(at(i))
                .bind(centre)
                .execute(&mut *tx)
                .await?;
            for k in 0..8 {
                let criterion = &criteria[k % criteria.len()];
                sqlx::query("insert into judgement (learner_id, unit_key, criterion, outcome, feedback, rpl, assessor_id, at, centre_id) values ($1, $2, $3, 'met', 'Seen', 0, $4, $5, $6)")
                    .bind(r.learner_id)
                    .bind(unit)
                    .bind(criterion)
                    .bind(assessor)
                    .bind(at(i + k))
                    .bind(centre)
                    .execute(&mut *tx)
                    .await?;
                crate::store::note_unit_work(
                    &mut tx,
                    centre,
                    r.learner_id,
                    unit,
                    assessor,
                    &at(i + k),
                )
                .await?;
                judgements += 1;
            }
            if u < 2 {
                for role in ["assessor", "learner"] {
                    sqlx::query("insert into signature (learner_id, unit_key, role, person_id, at, comments, evidence_hash, centre_id) values ($1, $2, $3, $4, $5, '', 'h', $6)")
                        .bind(r.learner_id)
                        .bind(unit)
                        .bind(role)
                        .bind(assessor)
                        .bind(at(i))
                        .bind(centre)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
    }
    tx.commit().await?;
    println!(
        "IQA sampling plan on {}: {} learners, {} assessors, {judgements} judgements (made in {:.1} s):",
        db.label,
        regs.len(),
        assessors.len(),
        t.elapsed().as_secs_f64()
    );
    // Where the time goes: each read the plan makes, alone.
    let mut parts = Vec::new();
    let t = Instant::now();
    let n = app
        .store
        .registrations_at_centre(centre, i64::MAX)
        .await?
        .len();
    parts.push(format!(
        "{n} registrations {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    ));
    let t = Instant::now();
    let n = app.store.unit_work_at_centre(centre).await?.len();
    parts.push(format!(
        "{n} learners' units with their sign-offs and methods {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    ));
    println!("  reads: {}", parts.join(", "));
    let scope = operator.quality(centre);
    let mut loads = Vec::new();
    let mut work = 0;
    for _ in 0..5 {
        let t = Instant::now();
        let plan = app
            .qa_plan_in(&scope, Some(qan))
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        loads.push(t.elapsed().as_secs_f64());
        work = plan.qualifications[0].work;
    }
    loads.sort_by(f64::total_cmp);
    let token = token_of(&app, "iqa@bench.test").await?;
    let actor = app
        .actor_from_api_token(&token)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .ok_or_else(|| anyhow::anyhow!("bench IQA"))?;
    let t = Instant::now();
    let added = app
        .generate_qa_plan(&actor, centre, Some(qan), "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let generated = t.elapsed().as_secs_f64();
    println!(
        "  the plan ({work} pieces of work) loaded and computed: median {:.0} ms, max {:.0} ms (target: under 200 ms); generated with {added} new samples written: {:.0} ms",
        loads[2] * 1e3,
        loads[4] * 1e3,
        generated * 1e3
    );
    let router = crate::web::router(app.clone());
    let one = |router: axum::Router, token: String| async move {
        let t = Instant::now();
        let req = axum::http::Request::builder()
            .uri("/home")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())?;
        let res = router.oneshot(req).await?;
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
        anyhow::ensure!(status == axum::http::StatusCode::OK, "status {status}");
        Ok::<_, anyhow::Error>((t.elapsed().as_secs_f64(), body.len()))
    };
    let (_, size) = one(router.clone(), token.clone()).await?;
    let t = Instant::now();
    let n = app.store.samples_at_centre(centre).await?.len();
    let all = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let (page, total) = app
        .iqa_queue_page(&actor)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "  reads: all {n} samples {:.0} ms; the queue's first {} of {total}: {:.1} ms; the home page alone: {:.1} ms",
        all * 1e3,
        page.len(),
        t.elapsed().as_secs_f64() * 1e3,
        one(router.clone(), token.clone()).await?.0 * 1e3
    );
    let (samples, wall) = get_32_at_a_time(&router, "/home", &token, 32 * 50).await?;
    let p = |x: f64| ms_at(&samples, x);
    println!(
        "  the IQA's home with the queue ({} KB): {} requests, 32 at a time: p50 {:.1} ms, p99 {:.1} ms, {:.0} pages/s (target: p99 under 50 ms)",
        size / 1000,
        samples.len(),
        p(0.5),
        p(0.99),
        samples.len() as f64 / wall
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Audited writes per second with 32 writers at once: each creates an API token (a one-row write)
/// with its audit entry sealed into the chain in the same transaction. The chain must hold
/// afterwards.
pub async fn audit_appends(what: &str, url: &str, n: usize) -> Result<()> {
    const WRITERS: usize = 32;
    let store = crate::store::Store::connect(url).await?;
    store.migrate().await?;
    let person = store
        .insert_person(
            &format!("bench-{}@audit.test", std::process::id()),
            "Bench",
            None,
        )
        .await?;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..WRITERS {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut k = w;
            while k < n {
                let entry = crate::app::App::entry(
                    Some("system:bench"),
                    None,
                    "bench.write",
                    &format!("person {person}"),
                    None,
                    None,
                    serde_json::json!({"k": k}),
                );
                store
                    .audited(entry)
                    .create_api_token(person, &format!("bench {k}"), &format!("{k:064}"))
                    .await?;
                k += WRITERS;
            }
            Ok::<(), crate::store::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let secs = t.elapsed().as_secs_f64();
    let app = crate::app::App::new(
        store.clone(),
        crate::evidence_store::EvidenceStore::local(&std::env::temp_dir())
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let verified = app
        .verify_audit(None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .map_err(|e| anyhow::anyhow!("the chain broke under load: {e}"))?;
    println!(
        "Audited writes on {what}, {WRITERS} writers at once: {n} in {secs:.2} s = {:.0} per second; the chain of {verified} entries verifies",
        n as f64 / secs
    );
    Ok(())
}

/// Bulk registration from CSV on an empty database: parse, validate, store in one
/// transaction, with the CLI's progress bar.
async fn registrations(db: &BenchDb, n: usize) -> Result<()> {
    let (database_url, dir) = db.prepare("registrations").await?;
    let config = crate::config::Config {
        kek_file: dir.join("credential.kek"),
        kek: None,
        verify_rate_limit: 0,
        data_dir: dir.clone(),
        database_url,
        seed: true,
        evidence_store: dir.join("evidence").display().to_string(),
        max_upload: crate::app::DEFAULT_MAX_UPLOAD,
        key_file: dir.join("instance.key"),
        smtp_url: None,
        mail_from: "Credence <no-reply@credence.localhost>".into(),
        public_url: None,
    };
    let app = crate::open(&config).await?;
    let centre = app.store.insert_centre("Bench Centre").await?;
    app.store
        .approve_centre(centre, "610/3788/6", "ISP", None)
        .await?;
    let today = chrono::Utc::now().date_naive();
    let csv = credence_domain::people::registration::synthetic_csv(n, "610/3788/6", today);
    let operator = app
        .operator(None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let bar = crate::progress(n as u64, "registering");
    let t = Instant::now();
    let outcome = app
        .register_csv(
            &operator.centre(centre),
            csv.as_bytes(),
            false,
            "bench",
            |k| bar.inc(k as u64),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = t.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "Bulk registration from CSV on {}: {} rows ({:.1} MB), {} registered, {} errors, in {:.2} s ({:.0} rows/s). Target: 100,000 in under 10 s.",
        db.label,
        outcome.rows,
        csv.len() as f64 / 1e6,
        outcome.registered,
        outcome.errors.len(),
        secs,
        outcome.rows as f64 / secs
    );
    Ok(())
}

/// Resident memory now and at its peak, in KiB, from /proc (Linux); the peak is reset first
/// where the kernel allows it.
fn memory_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn reset_peak_memory() {
    // "5" resets the peak resident set size (Linux 4.0 and later).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A fresh application with demo data on an empty database.
async fn bench_app(db: &BenchDb, what: &str) -> Result<(crate::app::App, std::path::PathBuf)> {
    let (app, dir) = bench_app_without_demo(db, what).await?;
    app.create_demo()
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok((app, dir))
}

/// A fresh application with the shipped specifications only, on an empty database.
async fn bench_app_without_demo(
    db: &BenchDb,
    what: &str,
) -> Result<(crate::app::App, std::path::PathBuf)> {
    let (database_url, dir) = db.prepare(what).await?;
    let config = crate::config::Config {
        kek_file: dir.join("credential.kek"),
        kek: None,
        verify_rate_limit: 0,
        data_dir: dir.clone(),
        database_url,
        seed: true,
        evidence_store: dir.join("evidence").display().to_string(),
        max_upload: 8 << 30,
        key_file: dir.join("instance.key"),
        smtp_url: None,
        mail_from: "Credence <no-reply@credence.localhost>".into(),
        public_url: None,
    };
    let app = crate::open(&config).await?;
    Ok((app, dir))
}

async fn token_of(app: &crate::app::App, email: &str) -> Result<String> {
    let person = app
        .store
        .person_by_email(email)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no {email}"))?;
    let actor = crate::app::people::Actor {
        person_id: person.person_id,
        email: person.email.clone(),
        name: person.display_name.clone(),
        grants: Vec::new(),
        active: None,
        eqa_centres: Vec::new(),
        csrf: None,
        session_hash: None,
        second_factor: false,
    };
    app.create_api_token(&actor, "bench")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Stream `mib` MiB through the upload endpoint (the whole server stack in process: access
/// check, streaming, SHA-256, the local evidence store, the record), against writing the
/// same bytes straight to a file; and the server's extra peak memory while it streams.
async fn upload(db: &BenchDb, mib: u64) -> Result<()> {
    let (app, dir) = bench_app(db, "upload").await?;
    let token = token_of(&app, "priya.learner@demo").await?;
    let person = app
        .store
        .person_by_email("priya.learner@demo")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo learner"))?;
    let learner = app
        .store
        .grants(person.person_id)
        .await?
        .iter()
        .find_map(|g| g.learner_id)
        .ok_or_else(|| anyhow::anyhow!("demo learner"))?;

    let disk_before = straight_to_disk(&dir, mib).await?;

    // Both sides sync the file to stable storage before they count it written.
    // The server on a loopback socket; the client, in its own thread, writes the body from
    // one reused 1 MiB buffer, so what grows is the server's memory.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let router = crate::web::router(app.clone());
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
    });
    let (rss_before, _) = memory_kib();
    reset_peak_memory();
    let t = Instant::now();
    let status = tokio::task::spawn_blocking(move || -> Result<String> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(addr)?;
        write!(
            s,
            "POST /api/v1/learners/{learner}/evidence?title=Bench+video&date=2026-11-02&kind=observation_checklist&source=real_workplace&file_name=bench.mp4 HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            mib << 20
        )?;
        let buf = vec![0x5au8; 1 << 20];
        for _ in 0..mib {
            s.write_all(&buf)?;
        }
        let mut answer = String::new();
        s.read_to_string(&mut answer)?;
        Ok(answer.lines().next().unwrap_or_default().to_string())
    })
    .await??;
    let through = t.elapsed().as_secs_f64();
    let (_, peak) = memory_kib();
    server.abort();
    let disk_after = straight_to_disk(&dir, mib).await?;
    let disk = (disk_before + disk_after) / 2.0;
    anyhow::ensure!(status.contains("201"), "the upload failed: {status}");
    let mb = (mib << 20) as f64 / 1e6;
    println!(
        "Evidence upload of {mib} MiB, streamed through the server into the local evidence store (the record on {}):",
        db.label
    );
    println!(
        "  through Credence {through:.2} s ({:.0} MB/s, SHA-256 included); straight to disk {disk:.2} s ({:.0} MB/s; {disk_before:.2} s before, {disk_after:.2} s after): {:.2}x (target: within 2x)",
        mb / through,
        mb / disk,
        through / disk
    );
    println!(
        "  peak memory while streaming: {:.1} MiB above the {:.1} MiB before (target: under 64 MiB extra)",
        peak.saturating_sub(rss_before) as f64 / 1024.0,
        rss_before as f64 / 1024.0
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The portfolio page of a learner on the Level 5 Diploma in Professional Sales and the Level 3
/// Apprenticeship Diploma (every unit of both: over 40)
/// with 100 evidence items and 500 mappings, requested 32 at a time.
async fn portfolio_page(db: &BenchDb, requests: usize) -> Result<()> {
    use axum::body::Body;
    use tower::ServiceExt;
    let (app, dir) = bench_app(db, "portfolio").await?;
    let centre = app.store.insert_centre("Bench Centre").await?;
    let today = chrono::Utc::now().date_naive();
    let mut csv = credence_domain::people::registration::synthetic_csv(1, "610/5684/4", today);
    let second = credence_domain::people::registration::synthetic_csv(1, "610/3790/4", today);
    csv.push_str(second.lines().nth(1).unwrap_or_default());
    csv.push('\n');
    for qan in ["610/5684/4", "610/3790/4"] {
        app.store.approve_centre(centre, qan, "ISP", None).await?;
    }
    let operator = app
        .operator(None)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome = app
        .register_csv(
            &operator.centre(centre),
            csv.as_bytes(),
            false,
            "bench",
            |_| {},
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(outcome.registered == 2, "registered {}", outcome.registered);
    let learner = app.store.registrations_at_centre(centre, 10).await?[0].learner_id;
    let person = app
        .create_person(
            "bench.learner@bench.test",
            "Bench Learner",
            Some("a long bench password"),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    app.store
        .grant_role(person, "learner", None, Some(centre), Some(learner))
        .await?;
    let token = token_of(&app, "bench.learner@bench.test").await?;
    let assessor = app
        .store
        .person_by_email("sam.assessor@demo")
        .await?
        .ok_or_else(|| anyhow::anyhow!("demo assessor"))?
        .person_id;

    // 100 items, 500 mappings spread over every unit's criteria, two thirds judged met.
    let reader = crate::app::people::Actor {
        person_id: person,
        email: "bench.learner@bench.test".into(),
        name: "Bench Learner".into(),
        grants: app.store.grants(person).await?,
        active: None,
        eqa_centres: Vec::new(),
        csrf: None,
        session_hash: None,
        second_factor: false,
    };
    let p = app
        .portfolio(&reader, learner)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let targets: Vec<(String, String)> = p
        .units
        .iter()
        .flat_map(|u| {
            u.unit
                .judged_items()
                .into_iter()
                .map(|(n, _)| (u.unit.key.clone(), n.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let mut ids = Vec::new();
    for i in 0..100 {
        ids.push(
            app.store
                .insert_evidence(&crate::store::NewEvidence {
                    learner_id: learner,
                    centre_id: centre,
                    title: format!("Evidence item {i}"),
                    evidence_date: format!("2026-{:02}-{:02}", 1 + i % 10, 1 + i % 28),
                    kind: "observation_checklist".into(),
                    kind_other: None,
                    witness_name: None,
                    witness_role: None,
                    source: "real_workplace".into(),
                    simulation_note: None,
                    file_name: format!("item-{i}.pdf"),
                    media_type: "application/pdf".into(),
                    size: 1000,
                    sha256: format!("{i:064x}"),
                    object_key: format!("evidence/bench-{i}"),
                    added_by: person,
                })
                .await?,
        );
    }
    for k in 0..500 {
        let (unit, criterion) = &targets[k % targets.len()];
        app.store
            .map_evidence(
                learner,
                ids[k % ids.len()],
                unit,
                criterion,
                &format!("page {}", k % 9 + 1),
                person,
            )
            .await?;
        if k % 3 != 0 {
            app.store
                .insert_judgement(
                    learner, unit, criterion, "met", "Seen", false, assessor, centre,
                )
                .await?;
        }
    }
    let router = crate::web::router(app.clone());
    let uri = format!("/learners/{learner}/portfolio");
    let one = |router: axum::Router, uri: String, token: String| async move {
        let t = Instant::now();
        let req = axum::http::Request::builder()
            .uri(uri)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())?;
        let res = router.oneshot(req).await?;
        let status = res.status();
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
        anyhow::ensure!(status == axum::http::StatusCode::OK, "status {status}");
        Ok::<_, anyhow::Error>((t.elapsed().as_secs_f64(), body.len()))
    };
    // Warm up (the catalogue is parsed once per server).
    let (_, size) = one(router.clone(), uri.clone(), token.clone()).await?;
    // One at a time: the whole request, and the portfolio's loading and computing alone.
    let mut alone = Vec::new();
    let mut loading = Vec::new();
    for _ in 0..50 {
        alone.push(one(router.clone(), uri.clone(), token.clone()).await?.0);
        let t = Instant::now();
        let p = app
            .portfolio(&reader, learner)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        std::hint::black_box(&p);
        loading.push(t.elapsed().as_secs_f64());
    }
    // Right after a change, the page is computed and rendered afresh.
    let mut fresh = Vec::new();
    for i in 0..40 {
        let (unit, criterion) = &targets[i % targets.len()];
        app.store
            .insert_judgement(
                learner,
                unit,
                criterion,
                "met",
                "Seen again",
                false,
                assessor,
                centre,
            )
            .await?;
        fresh.push(one(router.clone(), uri.clone(), token.clone()).await?.0);
    }
    fresh.sort_by(f64::total_cmp);
    alone.sort_by(f64::total_cmp);
    loading.sort_by(f64::total_cmp);
    println!(
        "  one at a time: a page p50 {:.2} ms (the portfolio p50 {:.2} ms); right after a change, recomputed: p50 {:.2} ms, max {:.2} ms",
        alone[25] * 1e3,
        loading[25] * 1e3,
        fresh[20] * 1e3,
        fresh[39] * 1e3
    );
    let (samples, wall) = get_32_at_a_time(&router, &uri, &token, requests).await?;
    let q = |x: f64| ms_at(&samples, x);
    println!(
        "Portfolio page on {}: {} units, {} criteria, 100 evidence items, 500 mappings ({} KB of HTML); {} requests, 32 at a time:",
        db.label,
        p.units.len(),
        p.progress.total,
        size / 1000,
        samples.len()
    );
    println!(
        "  p50 {:.1} ms   p99 {:.1} ms   max {:.1} ms   {:.0} pages/s (target: p99 under 20 ms)",
        q(0.5),
        q(0.99),
        q(1.0),
        samples.len() as f64 / wall
    );
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Seconds to write `mib` MiB to a new file in 1 MiB writes and sync it to stable storage,
/// as the local evidence store does (then remove it).
async fn straight_to_disk(dir: &std::path::Path, mib: u64) -> Result<f64> {
    let raw = dir.join("raw.bin");
    let t = Instant::now();
    {
        let raw = raw.clone();
        tokio::task::spawn_blocking(move || -> Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&raw)?;
            let buf = vec![0x5au8; 1 << 20];
            for _ in 0..mib {
                f.write_all(&buf)?;
            }
            f.sync_all()?;
            Ok(())
        })
        .await??;
    }
    let secs = t.elapsed().as_secs_f64();
    std::fs::remove_file(&raw)?;
    Ok(secs)
}

/// Latencies of a page under load: `GET uri` with `token`, `requests` times, 32 at a time
/// through the whole router. Returns the latencies in seconds, sorted, and the wall time.
async fn get_32_at_a_time(
    router: &axum::Router,
    uri: &str,
    token: &str,
    requests: usize,
) -> Result<(Vec<f64>, f64)> {
    let per_task = requests.div_ceil(32);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (router, uri, token) = (router.clone(), uri.to_string(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(per_task);
            for _ in 0..per_task {
                out.push(get_page(&router, &uri, &token).await?.0);
            }
            Ok::<_, anyhow::Error>(out)
        }));
    }
    let mut samples = Vec::new();
    for task in tasks {
        samples.extend(task.await??);
    }
    let wall = t.elapsed().as_secs_f64();
    samples.sort_by(f64::total_cmp);
    Ok((samples, wall))
}

/// One `GET uri` with `token` through the router: its latency in seconds and its body.
async fn get_page(
    router: &axum::Router,
    uri: &str,
    token: &str,
) -> Result<(f64, axum::body::Bytes)> {
    use tower::ServiceExt;
    let t = Instant::now();
    let req = axum::http::Request::builder()
        .uri(uri)
        .header("authorization", format!("Bearer {token}"))
        .body(axum::body::Body::empty())?;
    let res = router.clone().oneshot(req).await?;
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), usize::MAX).await?;
    anyhow::ensure!(
        status == axum::http::StatusCode::OK,
        "{uri}: status {status}"
    );
    Ok((t.elapsed().as_secs_f64(), body))
}

/// The latency at quantile `q` of sorted `samples`, in milliseconds.
fn ms_at(samples: &[f64], q: f64) -> f64 {
    samples[((samples.len() as f64 - 1.0) * q).round() as usize] * 1e3
}
