//! Rules of combination benchmark (issue 4, "Benchmarks"): rule checks per second on one core
//! for the L3 Diploma, and planner p50/p99/max for the L3 and L5 Diplomas from an empty start
//! and from 1,000 random partial starts.
//!
//! Run: `cargo bench -p credence-domain --bench rules`. The work is in
//! `credence_domain::rules::bench`; this binary only supplies the clock and prints.

use credence_domain::rules::bench::{BenchConfig, run};
use std::time::Instant;

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let mut config = BenchConfig::default();
    if quick {
        config.checks = 1_000_000;
        config.partial_starts = 200;
        config.empty_runs = 100;
    }
    let origin = Instant::now();
    let mut now_ns = || u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX);
    match run(&config, &mut now_ns) {
        Ok(report) => {
            print!("{}", report.table());
            let worst_p99 = report.planner.iter().map(|c| c.p99_ns).max().unwrap_or(0);
            println!();
            println!(
                "targets: checks/s >= 2,000,000: {}; planner p99 < 1 ms: {}",
                if report.checks_per_second >= 2e6 {
                    "met"
                } else {
                    "NOT MET"
                },
                if worst_p99 < 1_000_000 {
                    "met"
                } else {
                    "NOT MET"
                }
            );
        }
        Err(e) => {
            eprintln!("benchmark could not run: {e}");
            std::process::exit(1);
        }
    }
}
