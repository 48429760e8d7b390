//! `credence bench`: measurements on this machine, printed as a table.

use crate::cli::BenchArgs;
use anyhow::Result;
use std::time::Instant;

pub async fn run(args: &BenchArgs) -> Result<()> {
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
        &credence_domain::rules::bench::BenchConfig::default(),
        &mut now_ns,
    )
    .map_err(|e| anyhow::anyhow!("rules benchmark: {e}"))?;
    print!("{}", report.table());
    println!("targets: rule checks >= 2,000,000/s on one core; planner p99 < 1 ms");
    if args.registrations > 0 {
        println!();
        registrations(args.registrations).await?;
    }
    Ok(())
}

/// Bulk registration from CSV on a fresh SQLite database in a temp folder: parse, validate,
/// store in one transaction, with the CLI's progress bar.
async fn registrations(n: usize) -> Result<()> {
    let dir = std::env::temp_dir().join(format!("credence-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let config = crate::config::Config {
        data_dir: dir.clone(),
        database_url: format!("sqlite://{}?mode=rwc", dir.join("credence.db").display()),
        seed: true,
        evidence_store: dir.join("evidence").display().to_string(),
        max_upload: crate::app::DEFAULT_MAX_UPLOAD,
    };
    let app = crate::open(&config).await?;
    let centre = app.store.insert_centre("Bench Centre").await?;
    app.store
        .approve_centre(centre, "610/3788/6", "ISP", None)
        .await?;
    let today = chrono::Utc::now().date_naive();
    let csv = credence_domain::people::registration::synthetic_csv(n, "610/3788/6", today);
    let actor = crate::app::people::Actor {
        person_id: 0,
        email: "bench".into(),
        name: "bench".into(),
        grants: Vec::new(),
        active: None,
        eqa_centres: Vec::new(),
        csrf: None,
        session_hash: None,
    };
    let bar = crate::progress(n as u64, "registering");
    let t = Instant::now();
    let outcome = app
        .register_csv(&actor, centre, csv.as_bytes(), false, "bench", |k| {
            bar.inc(k as u64)
        })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let secs = t.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let _ = std::fs::remove_dir_all(&dir);
    println!(
        "Bulk registration from CSV on SQLite: {} rows ({:.1} MB), {} registered, {} errors, in {:.2} s ({:.0} rows/s). Target: 100,000 in under 10 s.",
        outcome.rows,
        csv.len() as f64 / 1e6,
        outcome.registered,
        outcome.errors.len(),
        secs,
        outcome.rows as f64 / secs
    );
    Ok(())
}
