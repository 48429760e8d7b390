//! The rules benchmark's core, shared by `benches/rules.rs` and a future `credence bench`
//! command (issue 4, "Benchmarks": rule checks per second on one core for the L3 Diploma,
//! target at least 2 million a second; planner time for the L3 and L5 Diplomas from an empty
//! start and from random partial starts, target p99 under 1 ms).
//!
//! The domain reads no clock: the caller passes `now_ns`, a monotonic clock in nanoseconds.
//! Random claims and starts come from a seeded xorshift generator, so runs are repeatable.

use super::fixtures;
use super::{Catalogue, CompiledQualification, RulesError, UnitSet};
use std::hint::black_box;

/// xorshift64*: a small, deterministic generator for benchmarks and tests (not for anything
/// that needs real randomness).
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    pub fn new(seed: u64) -> Self {
        XorShift(seed.max(1))
    }
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// Uniform-ish in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    /// A random subset of `0..n`, each member kept with probability `percent`%.
    pub fn subset(&mut self, n: usize, percent: u64) -> UnitSet {
        (0..n).filter(|_| self.below(100) < percent).collect()
    }
}

#[derive(Debug, Clone)]
pub struct BenchConfig {
    /// Rule checks to time for the L3 Diploma.
    pub checks: u64,
    /// Random partial starts per planner case.
    pub partial_starts: usize,
    /// Repetitions of the empty-start plan.
    pub empty_runs: usize,
    pub seed: u64,
}

impl Default for BenchConfig {
    fn default() -> Self {
        BenchConfig {
            checks: 20_000_000,
            partial_starts: 1_000,
            empty_runs: 1_000,
            seed: 0x00C0_FFEE_D00D,
        }
    }
}

/// Timings of one planner case, in nanoseconds.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannerCase {
    pub name: String,
    pub runs: usize,
    pub p50_ns: u64,
    pub p99_ns: u64,
    pub max_ns: u64,
    pub mean_nodes: f64,
    pub max_nodes: u64,
    /// Runs that found a completion (the rest were already achieved or had none).
    pub completions: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BenchReport {
    pub checks: u64,
    pub check_ns: u64,
    pub checks_per_second: f64,
    /// How many of the random claims met the rules (keeps the work observable).
    pub achieved_claims: u64,
    pub planner: Vec<PlannerCase>,
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted
        .get(rank.saturating_sub(1).min(sorted.len() - 1))
        .copied()
        .unwrap_or(0)
}

fn planner_case(
    name: &str,
    c: &CompiledQualification,
    starts: &[UnitSet],
    now_ns: &mut dyn FnMut() -> u64,
) -> PlannerCase {
    let mut times = Vec::with_capacity(starts.len());
    let mut nodes_total = 0u64;
    let mut max_nodes = 0u64;
    let mut completions = 0;
    for s in starts {
        let t0 = now_ns();
        let plan = c.plan(black_box(s), &UnitSet::EMPTY, &UnitSet::EMPTY);
        let t1 = now_ns();
        times.push(t1.saturating_sub(t0));
        nodes_total += plan.nodes;
        max_nodes = max_nodes.max(plan.nodes);
        if plan.status == super::PlanStatus::Completion {
            completions += 1;
        }
        black_box(plan);
    }
    times.sort_unstable();
    PlannerCase {
        name: name.to_string(),
        runs: starts.len(),
        p50_ns: percentile(&times, 50.0),
        p99_ns: percentile(&times, 99.0),
        max_ns: times.last().copied().unwrap_or(0),
        mean_nodes: nodes_total as f64 / starts.len().max(1) as f64,
        max_nodes,
        completions,
    }
}

/// Run the benchmark on the seed fixtures. `now_ns` is the caller's monotonic clock.
pub fn run(
    config: &BenchConfig,
    now_ns: &mut dyn FnMut() -> u64,
) -> Result<BenchReport, RulesError> {
    let qs = fixtures::qualifications();
    let units = fixtures::units();
    let cat = Catalogue::new(&qs, &units);
    let compile = |qan: &str| -> Result<CompiledQualification, RulesError> {
        let q = cat
            .qualification(qan)
            .ok_or_else(|| RulesError::UnknownQualification(qan.to_string()))?;
        cat.compile(q)
    };
    let l3 = compile(fixtures::L3_DIPLOMA)?;
    let l5 = compile(fixtures::L5_DIPLOMA)?;
    let mut rng = XorShift::new(config.seed);

    // Rule checks: random claims of the L3 Diploma's units, densities 20% to 80%.
    let n3 = l3.units().len();
    let claims: Vec<UnitSet> = (0..4096)
        .map(|_| {
            let p = 20 + rng.below(61);
            rng.subset(n3, p)
        })
        .collect();
    let mut achieved = 0u64;
    let t0 = now_ns();
    for k in 0..config.checks {
        let claim = &claims[(k as usize) & 4095];
        if l3.achieved(black_box(claim)) {
            achieved += 1;
        }
    }
    let check_ns = now_ns().saturating_sub(t0).max(1);

    let starts = |c: &CompiledQualification, rng: &mut XorShift| -> Vec<UnitSet> {
        (0..config.partial_starts)
            .map(|_| {
                let p = 5 + rng.below(46);
                rng.subset(c.units().len(), p)
            })
            .collect()
    };
    let empty = vec![UnitSet::EMPTY; config.empty_runs];
    let l3_partial = starts(&l3, &mut rng);
    let l5_partial = starts(&l5, &mut rng);
    let planner = vec![
        planner_case("L3 Diploma, empty start", &l3, &empty, now_ns),
        planner_case(
            "L3 Diploma, random partial starts",
            &l3,
            &l3_partial,
            now_ns,
        ),
        planner_case("L5 Diploma, empty start", &l5, &empty, now_ns),
        planner_case(
            "L5 Diploma, random partial starts",
            &l5,
            &l5_partial,
            now_ns,
        ),
    ];
    Ok(BenchReport {
        checks: config.checks,
        check_ns,
        checks_per_second: config.checks as f64 * 1e9 / check_ns as f64,
        achieved_claims: achieved,
        planner,
    })
}

impl BenchReport {
    /// The figures as a plain-text table.
    pub fn table(&self) -> String {
        let mut s = String::new();
        s.push_str("Rules of combination: one core\n\n");
        s.push_str(&format!(
            "rule checks, L3 Diploma (random claims): {} checks in {:.3} s = {:.2} million checks/s ({} achieved)\n\n",
            self.checks,
            self.check_ns as f64 / 1e9,
            self.checks_per_second / 1e6,
            self.achieved_claims
        ));
        s.push_str(&format!(
            "{:<36} {:>6} {:>10} {:>10} {:>10} {:>11} {:>10} {:>6}\n",
            "planner case",
            "runs",
            "p50 µs",
            "p99 µs",
            "max µs",
            "mean nodes",
            "max nodes",
            "plans"
        ));
        for c in &self.planner {
            s.push_str(&format!(
                "{:<36} {:>6} {:>10.1} {:>10.1} {:>10.1} {:>11.1} {:>10} {:>6}\n",
                c.name,
                c.runs,
                c.p50_ns as f64 / 1e3,
                c.p99_ns as f64 / 1e3,
                c.max_ns as f64 / 1e3,
                c.mean_nodes,
                c.max_nodes,
                c.completions
            ));
        }
        s
    }
}
