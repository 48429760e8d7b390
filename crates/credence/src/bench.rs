//! `credence bench`: measurements on this machine, printed as a table.

use crate::cli::BenchArgs;
use anyhow::Result;
use std::time::Instant;

pub fn run(args: &BenchArgs) -> Result<()> {
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
    Ok(())
}
