//! The IQA sampling plan: which pieces of work the IQA samples, and how well the samples cover
//! the period's work.
//!
//! A plan is CAMERA-complete when every Candidate group, Assessor, Method, Element (unit) and
//! assessment location with work in the period has at least one sample, and Records (learners)
//! are covered at each assessor's learner rate. It meets the strategy when, in addition, every
//! assessor's learner, interim and summative rates (raised by the assessor's risks) are met.
//!
//! A piece of [`Work`] is identified by its registration, unit and stage; an
//! [`ExistingSample`] with the same three covers it. [`generate_plan`] adds the fewest new
//! samples it reasonably can (a greedy choice of the work that covers the most still-uncovered
//! things, oldest first on ties) so that the plan, existing and new samples together, is
//! complete and meets the strategy. It runs in `O(n log n)` for `n` work items.

use super::strategy::{AssessorRisk, SamplingStrategy, Stage, required};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};

/// One piece of assessed work the IQA might sample: one learner's unit, judged by one assessor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Work {
    /// The registration id (one learner on one qualification).
    pub registration: i64,
    /// The learner id.
    pub learner: i64,
    /// The unit key.
    pub unit: String,
    /// The assessor who judged it.
    pub assessor: i64,
    /// Summative once the unit is signed off, interim while it is judged but not signed off.
    pub stage: Stage,
    /// When it became ready to sample (the sign-off date, or the latest judgement).
    #[serde(with = "crate::people::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub ready_on: NaiveDate,
    /// Evidence-method keys used (e.g. "`observation_checklist`").
    pub methods: Vec<String>,
    /// Where it was assessed (e.g. "`real_workplace`", "`realistic_working_environment`").
    pub locations: Vec<String>,
    /// The candidate group (e.g. the qualification and intake). Blank for none.
    pub group: String,
}

/// What the plan needs to know about an assessor.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct AssessorFacts {
    pub assessor: i64,
    /// Their risks (see [`super::strategy::assessor_risks`]).
    pub risks: Vec<AssessorRisk>,
}

/// Where a sample stands.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleState {
    /// On the plan; the IQA has not started it.
    Planned,
    /// The IQA has started sampling it.
    Open,
    /// The IQA agreed with the assessor's decisions.
    Agreed,
    /// The IQA referred it back to the assessor.
    Referred,
}

impl SampleState {
    /// Every state, in the order a sample passes through them.
    pub const ALL: [SampleState; 4] = [
        SampleState::Planned,
        SampleState::Open,
        SampleState::Agreed,
        SampleState::Referred,
    ];

    /// The stable key: "planned", "open", "agreed", "referred".
    pub fn key(self) -> &'static str {
        match self {
            SampleState::Planned => "planned",
            SampleState::Open => "open",
            SampleState::Agreed => "agreed",
            SampleState::Referred => "referred",
        }
    }

    /// The state with this key, if any.
    pub fn parse(key: &str) -> Option<SampleState> {
        SampleState::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The state as a heading: "Planned", "Open", "Agreed", "Referred back".
    pub fn title(self) -> &'static str {
        match self {
            SampleState::Planned => "Planned",
            SampleState::Open => "Open",
            SampleState::Agreed => "Agreed",
            SampleState::Referred => "Referred back",
        }
    }

    /// Whether the IQA still has to act on it (planned or open).
    pub fn is_pending(self) -> bool {
        matches!(self, SampleState::Planned | SampleState::Open)
    }
}

impl fmt::Display for SampleState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// A sample already on the plan (planned by an earlier run or added by hand).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct ExistingSample {
    pub registration: i64,
    /// The unit key.
    pub unit: String,
    pub assessor: i64,
    pub stage: Stage,
    pub state: SampleState,
    #[serde(with = "crate::people::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due_on: NaiveDate,
}

/// Everything a plan is generated from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub strategy: &'a SamplingStrategy,
    /// Assessors' risks; assessors with no entry have none.
    pub assessors: &'a [AssessorFacts],
    /// All work in the period (the caller filters by period), one item per registration,
    /// unit and stage. If two items share those, only the first in plan order (oldest
    /// `ready_on` first) counts and the other is ignored.
    pub work: &'a [Work],
    pub existing: &'a [ExistingSample],
    pub today: NaiveDate,
}

/// A sample the plan adds.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct PlannedSample {
    pub registration: i64,
    pub learner: i64,
    /// The unit key.
    pub unit: String,
    pub assessor: i64,
    pub stage: Stage,
    /// `ready_on` plus the strategy's days to sample.
    #[serde(with = "crate::people::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub due_on: NaiveDate,
    /// Why it was chosen, in plain words: "covers unit U1 (first sample of this unit)",
    /// "assessor's summative rate 100% (working towards the assessor qualification)",
    /// "learner not yet sampled".
    pub reasons: Vec<String>,
}

/// The work and samples of one assessor on one unit.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct CoverageCell {
    pub assessor: i64,
    /// The unit key.
    pub unit: String,
    pub interim_work: usize,
    pub summative_work: usize,
    pub interim_sampled: usize,
    pub summative_sampled: usize,
}

/// How one assessor's work is sampled against their (risk-raised) rates.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct AssessorCoverage {
    pub assessor: i64,
    /// Their risks, sorted, without duplicates.
    pub risks: Vec<AssessorRisk>,
    /// The learner rate after risk.
    pub learner_rate: u8,
    /// The interim rate after risk.
    pub interim_rate: u8,
    /// The summative rate after risk.
    pub summative_rate: u8,
    /// Learners with work by this assessor in the period.
    pub learners: usize,
    /// Of those, learners with at least one sample of this assessor's work.
    pub learners_sampled: usize,
    pub learners_required: usize,
    pub interim_work: usize,
    pub interim_sampled: usize,
    pub interim_required: usize,
    pub summative_work: usize,
    pub summative_sampled: usize,
    pub summative_required: usize,
    /// Every `*_sampled` is at least its `*_required`.
    pub compliant: bool,
}

/// Something with work in the period that no sample covers.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum Gap {
    /// A unit key.
    Unit(String),
    /// An evidence-method key.
    Method(String),
    /// An assessment location key.
    Location(String),
    /// A candidate group.
    Group(String),
    /// An assessor id.
    Assessor(i64),
}

impl Gap {
    /// The gap in plain words.
    pub fn message(&self) -> String {
        match self {
            Gap::Unit(u) => format!("unit {u} has work in the period but no sample"),
            Gap::Method(m) => {
                format!("method {m} was used in the period but no work assessed with it is sampled")
            }
            Gap::Location(l) => {
                format!("no work assessed at location {l} in the period is sampled")
            }
            Gap::Group(g) => format!("candidate group {g} has work in the period but no sample"),
            Gap::Assessor(a) => {
                format!("assessor {a} made decisions in the period but none of them is sampled")
            }
        }
    }
}

impl fmt::Display for Gap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

/// How the samples cover the period's work.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct Coverage {
    /// One cell per assessor and unit with work, sorted by assessor then unit.
    pub cells: Vec<CoverageCell>,
    /// One entry per assessor with work, by id.
    pub assessors: Vec<AssessorCoverage>,
    /// Units, methods, locations, groups and assessors with work but no sample, in that
    /// order, each sorted.
    pub gaps: Vec<Gap>,
    /// Existing samples still planned or open whose due date is before today, oldest due
    /// first.
    pub overdue: Vec<ExistingSample>,
}

/// A generated plan.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub struct SamplingPlan {
    /// The samples to add, in plan order (oldest `ready_on` first, then registration, unit,
    /// stage).
    pub new_samples: Vec<PlannedSample>,
    /// The coverage of the existing and the new samples together.
    pub coverage: Coverage,
}

/// Generate the plan: the new samples that, with the existing ones, make it CAMERA-complete
/// (every candidate group, assessor, method, unit and assessment location with work is sampled
/// at least once) and meet every assessor's (risk-raised) learner, interim and summative rates.
///
/// Deterministic: the same input gives the same plan. Candidates are taken greedily, the work
/// covering the most still-uncovered things first, ties broken by plan order (oldest
/// `ready_on` first, then registration, unit, stage). Never duplicates an existing sample (same
/// registration, unit and stage) or another new one. New samples are due `ready_on` plus the
/// strategy's days to sample. After generation, `coverage.gaps` is empty and every assessor is
/// compliant.
pub fn generate_plan(input: &PlanInput) -> SamplingPlan {
    let mut state = State::new(input);
    // Lazy greedy: scores only fall as work is sampled, so a popped score is an upper bound;
    // an item whose score has fallen goes back with its new score. Ties: plan order.
    let mut heap: BinaryHeap<(u32, Reverse<u32>)> = (0..state.ix.len())
        .filter_map(|i| {
            let s = state.score(i);
            (s > 0).then_some((s, Reverse(to_u32(i))))
        })
        .collect();
    let mut chosen: Vec<(usize, Vec<String>)> = Vec::new();
    while let Some((stored, Reverse(i))) = heap.pop() {
        let i = i as usize;
        let now = state.score(i);
        if now == 0 {
            continue;
        }
        if now < stored {
            heap.push((now, Reverse(to_u32(i))));
            continue;
        }
        let reasons = state.reasons(i, input.strategy);
        state.mark(i);
        chosen.push((i, reasons));
    }
    chosen.sort_unstable_by_key(|(i, _)| *i);
    let days = Days::new(u64::from(input.strategy.days_to_sample));
    let new_samples = chosen
        .into_iter()
        .map(|(i, reasons)| {
            let w = state.ix.work[i];
            PlannedSample {
                registration: w.registration,
                learner: w.learner,
                unit: w.unit.clone(),
                assessor: w.assessor,
                stage: w.stage,
                due_on: w.ready_on.checked_add_days(days).unwrap_or(NaiveDate::MAX),
                reasons,
            }
        })
        .collect();
    SamplingPlan {
        new_samples,
        coverage: state.coverage(input),
    }
}

/// The coverage of the existing samples alone: what the plan page shows between runs,
/// including its gaps.
pub fn coverage_of(input: &PlanInput) -> Coverage {
    State::new(input).coverage(input)
}

/// A small, fast, deterministic hasher (the Fx hash of rustc) for the plan's internal maps:
/// keys are ids and short keys from Credence's own records, so no protection against
/// crafted collisions is needed, and it keeps generation well inside its time budget.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_i64(&mut self, n: i64) {
        self.add(n.cast_unsigned());
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;
type FxSet<K> = HashSet<K, BuildHasherDefault<FxHasher>>;

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn stage_ix(stage: Stage) -> usize {
    match stage {
        Stage::Interim => 0,
        Stage::Summative => 1,
    }
}

/// Something every plan must cover once: a unit, a method, a location, a candidate group or
/// an assessor. Kinds are in gap order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Thing<'a> {
    Unit(&'a str),
    Method(&'a str),
    Location(&'a str),
    Group(&'a str),
    Assessor(i64),
}

impl Thing<'_> {
    fn reason(self) -> String {
        match self {
            Thing::Unit(u) => format!("covers unit {u} (first sample of this unit)"),
            Thing::Method(m) => format!("covers method {m}"),
            Thing::Location(l) => format!("covers location {l}"),
            Thing::Group(g) => format!("covers candidate group {g}"),
            Thing::Assessor(a) => format!("covers assessor {a} (first sample of their decisions)"),
        }
    }

    fn gap(self) -> Gap {
        match self {
            Thing::Unit(u) => Gap::Unit(u.to_string()),
            Thing::Method(m) => Gap::Method(m.to_string()),
            Thing::Location(l) => Gap::Location(l.to_string()),
            Thing::Group(g) => Gap::Group(g.to_string()),
            Thing::Assessor(a) => Gap::Assessor(a),
        }
    }
}

/// The period's work, deduplicated, in plan order, flattened into numbered arrays.
struct Index<'a> {
    work: Vec<&'a Work>,
    /// Index into `units` (units are numbered in name order).
    unit: Vec<u32>,
    /// 0 interim, 1 summative.
    stage: Vec<u8>,
    /// Index into `assessors`.
    assessor: Vec<u32>,
    /// Index of the (assessor, learner) pair.
    pair: Vec<u32>,
    /// The things work `i` covers are `things[starts[i]..starts[i + 1]]`, in reason order
    /// (unit, methods, locations, group, assessor).
    starts: Vec<u32>,
    things: Vec<u32>,
    /// Every thing, by number.
    thing: Vec<Thing<'a>>,
    unit_ids: FxMap<&'a str, u32>,
    /// The work index of each (registration, unit, stage).
    keys: FxMap<(i64, u32, Stage), u32>,
    /// Assessor ids with work, sorted.
    assessors: Vec<i64>,
    /// The assessor index of each pair.
    pair_assessor: Vec<u32>,
}

impl<'a> Index<'a> {
    fn new(input: &PlanInput<'a>) -> Index<'a> {
        let n = input.work.len();
        // Pass 1, in input order (the cache-friendly order): number the units as first met,
        // and keep one item per (registration, unit, stage): the first in plan order.
        let mut first_seen: FxMap<&'a str, u32> = FxMap::default();
        let mut seen_unit: Vec<u32> = Vec::with_capacity(n);
        let mut best: FxMap<(i64, u32, Stage), u32> = FxMap::default();
        best.reserve(n);
        for (k, w) in input.work.iter().enumerate() {
            let next = to_u32(first_seen.len());
            let unit = *first_seen.entry(w.unit.as_str()).or_insert(next);
            seen_unit.push(unit);
            best.entry((w.registration, unit, w.stage))
                .and_modify(|b| {
                    if w.ready_on < input.work[*b as usize].ready_on {
                        *b = to_u32(k);
                    }
                })
                .or_insert(to_u32(k));
        }
        let mut kept = vec![false; n];
        for &k in best.values() {
            kept[k as usize] = true;
        }

        // Units, numbered in name order so that sorting by number sorts by name.
        let mut units: Vec<(&'a str, u32)> = first_seen.iter().map(|(&u, &k)| (u, k)).collect();
        units.sort_unstable();
        let mut rank = vec![0u32; units.len()];
        for (r, &(_, k)) in units.iter().enumerate() {
            rank[k as usize] = to_u32(r);
        }
        let units: Vec<&'a str> = units.into_iter().map(|(u, _)| u).collect();
        let unit_ids: FxMap<&'a str, u32> = first_seen
            .into_iter()
            .map(|(u, k)| (u, rank[k as usize]))
            .collect();

        let mut assessors: Vec<i64> = best
            .values()
            .map(|&k| input.work[k as usize].assessor)
            .collect();
        assessors.sort_unstable();
        assessors.dedup();
        let assessor_ix: FxMap<i64, u32> = assessors
            .iter()
            .enumerate()
            .map(|(k, &a)| (a, to_u32(k)))
            .collect();

        // Pass 2, in input order: the methods, locations and group of each kept item, as
        // numbers after the units and assessors.
        let mut thing: Vec<Thing<'a>> = units.iter().map(|&u| Thing::Unit(u)).collect();
        let assessor_base = to_u32(thing.len());
        thing.extend(assessors.iter().map(|&a| Thing::Assessor(a)));
        let mut named: FxMap<Thing<'a>, u32> = FxMap::default();
        let mut intern = |t: Thing<'a>, thing: &mut Vec<Thing<'a>>| -> u32 {
            *named.entry(t).or_insert_with(|| {
                thing.push(t);
                to_u32(thing.len() - 1)
            })
        };
        let wanted: FxSet<&str> = input.strategy.methods.iter().map(String::as_str).collect();
        let mut own_starts: Vec<u32> = Vec::with_capacity(n + 1);
        let mut own: Vec<u32> = Vec::with_capacity(n * 3);
        let mut facts: Vec<(u32, i64)> = Vec::with_capacity(n);
        own_starts.push(0);
        for (k, w) in input.work.iter().enumerate() {
            facts.push((
                assessor_ix.get(&w.assessor).copied().unwrap_or(0),
                w.learner,
            ));
            if kept[k] {
                let start = own.len();
                let add = |t: u32, own: &mut Vec<u32>| {
                    if !own[start..].contains(&t) {
                        own.push(t);
                    }
                };
                for method in &w.methods {
                    let method = method.as_str();
                    if !method.trim().is_empty() && (wanted.is_empty() || wanted.contains(method)) {
                        add(intern(Thing::Method(method), &mut thing), &mut own);
                    }
                }
                for location in &w.locations {
                    if !location.trim().is_empty() {
                        add(intern(Thing::Location(location), &mut thing), &mut own);
                    }
                }
                if !w.group.trim().is_empty() {
                    add(intern(Thing::Group(&w.group), &mut thing), &mut own);
                }
            }
            own_starts.push(to_u32(own.len()));
        }

        // Plan order: oldest ready_on first, then registration, unit, stage.
        let mut order: Vec<(NaiveDate, i64, u32, Stage, u32)> = input
            .work
            .iter()
            .enumerate()
            .filter(|&(k, _)| kept[k])
            .map(|(k, w)| {
                let unit = rank[seen_unit[k] as usize];
                (w.ready_on, w.registration, unit, w.stage, to_u32(k))
            })
            .collect();
        order.sort_unstable();

        // Pass 3, in plan order, over the compact arrays only.
        let m = order.len();
        let mut ix = Index {
            work: Vec::with_capacity(m),
            unit: Vec::with_capacity(m),
            stage: Vec::with_capacity(m),
            assessor: Vec::with_capacity(m),
            pair: Vec::with_capacity(m),
            starts: Vec::with_capacity(m + 1),
            things: Vec::with_capacity(own.len() + 2 * m),
            thing,
            unit_ids,
            keys: FxMap::default(),
            assessors,
            pair_assessor: Vec::new(),
        };
        ix.keys.reserve(m);
        let mut pairs: FxMap<(u32, i64), u32> = FxMap::default();
        ix.starts.push(0);
        for (i, &(_, registration, unit, stage, k)) in order.iter().enumerate() {
            let k = k as usize;
            let (a, learner) = facts[k];
            ix.things.push(unit);
            ix.things
                .extend_from_slice(&own[own_starts[k] as usize..own_starts[k + 1] as usize]);
            ix.things.push(assessor_base + a);
            ix.starts.push(to_u32(ix.things.len()));
            ix.keys.insert((registration, unit, stage), to_u32(i));
            ix.unit.push(unit);
            ix.stage.push(u8::from(stage == Stage::Summative));
            ix.assessor.push(a);
            let next = to_u32(pairs.len());
            let p = *pairs.entry((a, learner)).or_insert(next);
            if p == next {
                ix.pair_assessor.push(a);
            }
            ix.pair.push(p);
            ix.work.push(&input.work[k]);
        }
        ix
    }

    fn len(&self) -> usize {
        self.work.len()
    }

    fn things_of(&self, i: usize) -> &[u32] {
        &self.things[self.starts[i] as usize..self.starts[i + 1] as usize]
    }

    /// The index of the work an existing sample covers, if it is in the period.
    fn find(&self, e: &ExistingSample) -> Option<usize> {
        let unit = *self.unit_ids.get(e.unit.as_str())?;
        self.keys
            .get(&(e.registration, unit, e.stage))
            .map(|&k| k as usize)
    }
}

/// One assessor's rates and what they require.
struct Quota {
    risks: Vec<AssessorRisk>,
    learner_rate: u8,
    rates: [u8; 2],
    learners: usize,
    learners_required: usize,
    work: [usize; 2],
    required: [usize; 2],
}

/// What is sampled so far.
struct State<'a> {
    ix: Index<'a>,
    quota: Vec<Quota>,
    sampled: Vec<bool>,
    /// By thing number.
    covered: Vec<bool>,
    /// By (assessor, learner) pair.
    pair_cov: Vec<bool>,
    learners_sampled: Vec<usize>,
    stage_sampled: Vec<[usize; 2]>,
}

impl<'a> State<'a> {
    /// The index of the work, with the existing samples marked.
    fn new(input: &PlanInput<'a>) -> State<'a> {
        let ix = Index::new(input);
        let s = input.strategy;
        let mut facts: FxMap<i64, Vec<AssessorRisk>> = FxMap::default();
        for f in input.assessors {
            facts
                .entry(f.assessor)
                .or_default()
                .extend(f.risks.iter().copied());
        }
        let mut learners = vec![0usize; ix.assessors.len()];
        for &a in &ix.pair_assessor {
            learners[a as usize] += 1;
        }
        let mut work = vec![[0usize; 2]; ix.assessors.len()];
        for i in 0..ix.len() {
            work[ix.assessor[i] as usize][usize::from(ix.stage[i])] += 1;
        }
        let quota = ix
            .assessors
            .iter()
            .enumerate()
            .map(|(a, id)| {
                let mut risks = facts.get(id).cloned().unwrap_or_default();
                risks.sort_unstable();
                risks.dedup();
                let learner_rate = s.raised(s.learner_rate, &risks);
                let rates = [
                    s.raised(s.interim_rate, &risks),
                    s.raised(s.summative_rate, &risks),
                ];
                Quota {
                    learner_rate,
                    learners: learners[a],
                    learners_required: required(learners[a], learner_rate),
                    work: work[a],
                    required: [
                        required(work[a][0], rates[0]),
                        required(work[a][1], rates[1]),
                    ],
                    rates,
                    risks,
                }
            })
            .collect();
        let mut state = State {
            quota,
            sampled: vec![false; ix.len()],
            covered: vec![false; ix.thing.len()],
            pair_cov: vec![false; ix.pair_assessor.len()],
            learners_sampled: vec![0; ix.assessors.len()],
            stage_sampled: vec![[0; 2]; ix.assessors.len()],
            ix,
        };
        for e in input.existing {
            if let Some(i) = state.ix.find(e) {
                state.mark(i);
            }
        }
        state
    }

    /// Record work `i` as sampled.
    fn mark(&mut self, i: usize) {
        if self.sampled[i] {
            return;
        }
        self.sampled[i] = true;
        for &t in self.ix.things_of(i) {
            self.covered[t as usize] = true;
        }
        let a = self.ix.assessor[i] as usize;
        let p = self.ix.pair[i] as usize;
        if !self.pair_cov[p] {
            self.pair_cov[p] = true;
            self.learners_sampled[a] += 1;
        }
        self.stage_sampled[a][usize::from(self.ix.stage[i])] += 1;
    }

    fn learner_needed(&self, i: usize) -> bool {
        let a = self.ix.assessor[i] as usize;
        !self.pair_cov[self.ix.pair[i] as usize]
            && self.learners_sampled[a] < self.quota[a].learners_required
    }

    fn stage_needed(&self, i: usize) -> bool {
        let a = self.ix.assessor[i] as usize;
        let s = usize::from(self.ix.stage[i]);
        self.stage_sampled[a][s] < self.quota[a].required[s]
    }

    /// How many still-uncovered things (and unmet quotas) sampling work `i` would cover.
    /// Never rises as more work is sampled.
    fn score(&self, i: usize) -> u32 {
        if self.sampled[i] {
            return 0;
        }
        let things = self
            .ix
            .things_of(i)
            .iter()
            .filter(|&&t| !self.covered[t as usize])
            .count();
        to_u32(things) + u32::from(self.learner_needed(i)) + u32::from(self.stage_needed(i))
    }

    /// Why work `i` would be sampled now, in plain words.
    fn reasons(&self, i: usize, strategy: &SamplingStrategy) -> Vec<String> {
        let mut out: Vec<String> = self
            .ix
            .things_of(i)
            .iter()
            .filter(|&&t| !self.covered[t as usize])
            .map(|&t| self.ix.thing[t as usize].reason())
            .collect();
        if self.stage_needed(i) {
            let q = &self.quota[self.ix.assessor[i] as usize];
            let stage = self.ix.work[i].stage;
            let base = match stage {
                Stage::Interim => strategy.interim_rate,
                Stage::Summative => strategy.summative_rate,
            };
            out.push(rate_reason(
                strategy,
                stage.key(),
                base,
                q.rates[stage_ix(stage)],
                &q.risks,
            ));
        }
        if self.learner_needed(i) {
            out.push("learner not yet sampled".to_string());
        }
        out
    }

    fn coverage(&self, input: &PlanInput) -> Coverage {
        let ix = &self.ix;
        let mut cells: BTreeMap<(u32, u32), CoverageCell> = BTreeMap::new();
        for (i, w) in ix.work.iter().enumerate() {
            let cell = cells
                .entry((ix.assessor[i], ix.unit[i]))
                .or_insert_with(|| CoverageCell {
                    assessor: w.assessor,
                    unit: w.unit.clone(),
                    interim_work: 0,
                    summative_work: 0,
                    interim_sampled: 0,
                    summative_sampled: 0,
                });
            let sampled = usize::from(self.sampled[i]);
            if ix.stage[i] == 0 {
                cell.interim_work += 1;
                cell.interim_sampled += sampled;
            } else {
                cell.summative_work += 1;
                cell.summative_sampled += sampled;
            }
        }
        let assessors = ix
            .assessors
            .iter()
            .enumerate()
            .map(|(a, &id)| {
                let q = &self.quota[a];
                let done = self.stage_sampled[a];
                AssessorCoverage {
                    assessor: id,
                    risks: q.risks.clone(),
                    learner_rate: q.learner_rate,
                    interim_rate: q.rates[0],
                    summative_rate: q.rates[1],
                    learners: q.learners,
                    learners_sampled: self.learners_sampled[a],
                    learners_required: q.learners_required,
                    interim_work: q.work[0],
                    interim_sampled: done[0],
                    interim_required: q.required[0],
                    summative_work: q.work[1],
                    summative_sampled: done[1],
                    summative_required: q.required[1],
                    compliant: self.learners_sampled[a] >= q.learners_required
                        && done[0] >= q.required[0]
                        && done[1] >= q.required[1],
                }
            })
            .collect();

        let mut gaps: Vec<Gap> = ix
            .thing
            .iter()
            .zip(&self.covered)
            .filter(|&(_, &covered)| !covered)
            .map(|(t, _)| t.gap())
            .collect();
        gaps.sort_unstable();

        let mut overdue: Vec<ExistingSample> = input
            .existing
            .iter()
            .filter(|e| e.state.is_pending() && e.due_on < input.today)
            .cloned()
            .collect();
        overdue.sort_by(|a, b| {
            (a.due_on, a.registration, &a.unit, a.stage).cmp(&(
                b.due_on,
                b.registration,
                &b.unit,
                b.stage,
            ))
        });

        Coverage {
            cells: cells.into_values().collect(),
            assessors,
            gaps,
            overdue,
        }
    }
}

/// "assessor's summative rate 100% (working towards the assessor qualification)".
fn rate_reason(
    strategy: &SamplingStrategy,
    stage: &str,
    base: u8,
    rate: u8,
    risks: &[AssessorRisk],
) -> String {
    let raising = strategy.raising_risks(base, risks);
    if raising.is_empty() {
        format!("assessor's {stage} rate {rate}%")
    } else {
        let why: Vec<&str> = raising.iter().map(|r| r.title()).collect();
        format!("assessor's {stage} rate {rate}% ({})", why.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategy::RiskRates;
    use super::*;
    use proptest::prelude::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[allow(clippy::too_many_arguments)]
    fn work(
        registration: i64,
        unit: &str,
        assessor: i64,
        stage: Stage,
        ready_on: NaiveDate,
        methods: &[&str],
        locations: &[&str],
        group: &str,
    ) -> Work {
        Work {
            registration,
            learner: registration * 10,
            unit: unit.into(),
            assessor,
            stage,
            ready_on,
            methods: methods.iter().map(|s| (*s).to_string()).collect(),
            locations: locations.iter().map(|s| (*s).to_string()).collect(),
            group: group.into(),
        }
    }

    fn key(s: &PlannedSample) -> (i64, String, Stage) {
        (s.registration, s.unit.clone(), s.stage)
    }

    #[test]
    fn empty_input_gives_an_empty_plan() {
        let strategy = SamplingStrategy::default();
        let input = PlanInput {
            strategy: &strategy,
            assessors: &[],
            work: &[],
            existing: &[],
            today: d(2026, 6, 15),
        };
        let plan = generate_plan(&input);
        assert!(plan.new_samples.is_empty());
        assert!(plan.coverage.cells.is_empty());
        assert!(plan.coverage.assessors.is_empty());
        assert!(plan.coverage.gaps.is_empty());
    }

    #[test]
    fn worked_example() {
        // Two assessors: 1 holds the qualification, 2 is working towards it. Four learners,
        // two units, a mix of interim and summative work.
        let day = |n: u32| d(2026, 3, n);
        let obs = "observation_checklist";
        let qa = "questions_and_answers";
        let wp = "real_workplace";
        let rwe = "realistic_working_environment";
        let w = vec![
            work(
                1,
                "U1",
                1,
                Stage::Summative,
                day(1),
                &[obs],
                &[wp],
                "L3 2026",
            ),
            work(
                2,
                "U1",
                1,
                Stage::Summative,
                day(2),
                &[obs],
                &[wp],
                "L3 2026",
            ),
            work(
                3,
                "U1",
                1,
                Stage::Summative,
                day(3),
                &[qa],
                &[wp],
                "L3 2026",
            ),
            work(
                4,
                "U1",
                1,
                Stage::Summative,
                day(4),
                &[obs],
                &[wp],
                "L3 2026",
            ),
            work(
                1,
                "U2",
                1,
                Stage::Interim,
                day(5),
                &[obs],
                &[rwe],
                "L3 2026",
            ),
            work(
                2,
                "U2",
                2,
                Stage::Summative,
                day(6),
                &[obs],
                &[wp],
                "L2 2026",
            ),
            work(3, "U2", 2, Stage::Interim, day(7), &[obs], &[wp], "L2 2026"),
        ];
        let strategy = SamplingStrategy::default();
        let facts = vec![AssessorFacts {
            assessor: 2,
            risks: vec![AssessorRisk::WorkingTowards],
        }];
        let existing = vec![ExistingSample {
            registration: 1,
            unit: "U1".into(),
            assessor: 1,
            stage: Stage::Summative,
            state: SampleState::Planned,
            due_on: d(2026, 3, 31),
        }];
        let input = PlanInput {
            strategy: &strategy,
            assessors: &facts,
            work: &w,
            existing: &existing,
            today: d(2026, 4, 10),
        };

        let before = coverage_of(&input);
        assert_eq!(
            before.gaps,
            vec![
                Gap::Unit("U2".into()),
                Gap::Method(qa.into()),
                Gap::Location(rwe.into()),
                Gap::Group("L2 2026".into()),
                Gap::Assessor(2),
            ]
        );
        assert_eq!(before.overdue, existing);
        let a1 = &before.assessors[0];
        assert_eq!(
            (a1.learners, a1.learners_sampled, a1.learners_required),
            (4, 1, 1)
        );
        assert_eq!(
            (
                a1.summative_work,
                a1.summative_sampled,
                a1.summative_required
            ),
            (4, 1, 1)
        );
        assert_eq!((a1.interim_work, a1.interim_required), (1, 1));
        assert!(!a1.compliant);
        let a2 = &before.assessors[1];
        assert_eq!(
            (a2.learner_rate, a2.interim_rate, a2.summative_rate),
            (100, 100, 100)
        );
        assert_eq!((a2.learners_required, a2.summative_required), (2, 1));

        let plan = generate_plan(&input);
        let keys: Vec<_> = plan.new_samples.iter().map(key).collect();
        assert_eq!(
            keys,
            vec![
                (3, "U1".to_string(), Stage::Summative),
                (1, "U2".to_string(), Stage::Interim),
                (2, "U2".to_string(), Stage::Summative),
                (3, "U2".to_string(), Stage::Interim),
            ]
        );
        let by_key = |r: i64, u: &str| {
            plan.new_samples
                .iter()
                .find(|s| s.registration == r && s.unit == u)
                .unwrap()
        };
        assert_eq!(
            by_key(3, "U1").reasons,
            vec!["covers method questions_and_answers"]
        );
        assert_eq!(by_key(3, "U1").due_on, d(2026, 4, 2));
        // (2, U2) covers the most (unit U2, group L2 2026, assessor 2, their rate and a
        // learner), so it is taken first and (1, U2) no longer needs to cover the unit.
        assert_eq!(
            by_key(2, "U2").reasons,
            vec![
                "covers unit U2 (first sample of this unit)",
                "covers candidate group L2 2026",
                "covers assessor 2 (first sample of their decisions)",
                "assessor's summative rate 100% (working towards the assessor qualification)",
                "learner not yet sampled",
            ]
        );
        assert_eq!(
            by_key(1, "U2").reasons,
            vec![
                "covers location realistic_working_environment",
                "assessor's interim rate 10%",
            ]
        );
        assert_eq!(
            by_key(3, "U2").reasons,
            vec![
                "assessor's interim rate 100% (working towards the assessor qualification)",
                "learner not yet sampled",
            ]
        );
        assert!(plan.coverage.gaps.is_empty());
        assert!(plan.coverage.assessors.iter().all(|a| a.compliant));
        assert_eq!(
            plan.coverage
                .cells
                .iter()
                .map(|c| (c.assessor, c.unit.as_str()))
                .collect::<Vec<_>>(),
            vec![(1, "U1"), (1, "U2"), (2, "U2")]
        );
        assert_eq!(plan.coverage.cells[0].summative_sampled, 2);
    }

    #[test]
    fn methods_in_the_strategy_limit_the_methods_to_cover() {
        let strategy = SamplingStrategy {
            methods: vec!["observation".into(), "unused".into()],
            learner_rate: 0,
            interim_rate: 0,
            summative_rate: 0,
            ..SamplingStrategy::default()
        };
        let w = vec![
            work(
                1,
                "U1",
                1,
                Stage::Summative,
                d(2026, 1, 1),
                &["observation"],
                &[],
                "",
            ),
            work(
                2,
                "U1",
                1,
                Stage::Summative,
                d(2026, 1, 2),
                &["witness"],
                &[],
                "",
            ),
        ];
        let input = PlanInput {
            strategy: &strategy,
            assessors: &[],
            work: &w,
            existing: &[],
            today: d(2026, 1, 3),
        };
        let before = coverage_of(&input);
        assert_eq!(
            before.gaps,
            vec![
                Gap::Unit("U1".into()),
                Gap::Method("observation".into()),
                Gap::Assessor(1)
            ]
        );
        let plan = generate_plan(&input);
        assert_eq!(plan.new_samples.len(), 1);
        assert_eq!(plan.new_samples[0].registration, 1);
    }

    #[test]
    fn duplicate_work_keeps_the_oldest() {
        let strategy = SamplingStrategy::default();
        let w = vec![
            work(1, "U1", 2, Stage::Summative, d(2026, 1, 5), &[], &[], ""),
            work(1, "U1", 1, Stage::Summative, d(2026, 1, 1), &[], &[], ""),
            work(1, "U1", 3, Stage::Summative, d(2026, 1, 1), &[], &[], ""),
        ];
        let input = PlanInput {
            strategy: &strategy,
            assessors: &[],
            work: &w,
            existing: &[],
            today: d(2026, 1, 3),
        };
        let plan = generate_plan(&input);
        assert_eq!(plan.new_samples.len(), 1);
        assert_eq!(plan.new_samples[0].assessor, 1);
        assert_eq!(plan.coverage.assessors.len(), 1);
        assert_eq!(plan.coverage.cells.len(), 1);
    }

    #[test]
    fn gap_serialises_with_kind_and_value() {
        assert_eq!(
            serde_json::to_string(&Gap::Unit("U1".into())).unwrap(),
            r#"{"kind":"unit","value":"U1"}"#
        );
        assert_eq!(
            Gap::Assessor(7).message(),
            "assessor 7 made decisions in the period but none of them is sampled"
        );
        for s in SampleState::ALL {
            assert_eq!(SampleState::parse(s.key()), Some(s));
        }
    }

    #[test]
    fn overdue_counts_only_pending_samples() {
        let strategy = SamplingStrategy::default();
        let sample = |state, due_on| ExistingSample {
            registration: 1,
            unit: "U1".into(),
            assessor: 1,
            stage: Stage::Interim,
            state,
            due_on,
        };
        let existing = vec![
            sample(SampleState::Open, d(2026, 1, 1)),
            sample(SampleState::Agreed, d(2026, 1, 1)),
            sample(SampleState::Planned, d(2026, 2, 1)),
            sample(SampleState::Planned, d(2026, 1, 31)),
        ];
        let input = PlanInput {
            strategy: &strategy,
            assessors: &[],
            work: &[],
            existing: &existing,
            today: d(2026, 2, 1),
        };
        let c = coverage_of(&input);
        assert_eq!(c.overdue, vec![existing[0].clone(), existing[3].clone()]);
    }

    // Property tests.

    const UNITS: [&str; 4] = ["U1", "U2", "U3", "U4"];
    const METHODS: [&str; 3] = ["observation", "questioning", "product"];
    const LOCATIONS: [&str; 2] = ["real_workplace", "realistic_working_environment"];
    const GROUPS: [&str; 3] = ["", "G1", "G2"];

    fn arb_work() -> impl Strategy<Value = Work> {
        (
            1i64..12,
            0usize..UNITS.len(),
            1i64..5,
            any::<bool>(),
            0u32..60,
            proptest::collection::vec(0usize..METHODS.len(), 0..3),
            proptest::collection::vec(0usize..LOCATIONS.len(), 0..2),
            0usize..GROUPS.len(),
        )
            .prop_map(|(r, u, a, summative, day, ms, ls, g)| Work {
                registration: r,
                learner: r * 10,
                unit: UNITS[u].into(),
                assessor: a,
                stage: if summative {
                    Stage::Summative
                } else {
                    Stage::Interim
                },
                ready_on: d(2026, 1, 1) + Days::new(u64::from(day)),
                methods: ms.into_iter().map(|m| METHODS[m].to_string()).collect(),
                locations: ls.into_iter().map(|l| LOCATIONS[l].to_string()).collect(),
                group: GROUPS[g].into(),
            })
    }

    fn arb_strategy() -> impl Strategy<Value = SamplingStrategy> {
        (
            0u8..=100,
            0u8..=100,
            0u8..=100,
            proptest::collection::vec(0usize..METHODS.len(), 0..3),
            proptest::array::uniform6(0u8..=100),
        )
            .prop_map(|(l, i, s, ms, r)| SamplingStrategy {
                learner_rate: l,
                interim_rate: i,
                summative_rate: s,
                methods: ms.into_iter().map(|m| METHODS[m].to_string()).collect(),
                days_to_sample: 30,
                risk_rates: RiskRates {
                    new_to_centre: r[0],
                    working_towards: r[1],
                    cpd_short: r[2],
                    recent_referrals: r[3],
                    new_qualification: r[4],
                    standardisation_concern: r[5],
                },
            })
    }

    fn arb_facts() -> impl Strategy<Value = Vec<AssessorFacts>> {
        proptest::collection::vec(
            (
                1i64..5,
                proptest::collection::vec(
                    proptest::sample::select(AssessorRisk::ALL.to_vec()),
                    0..3,
                ),
            )
                .prop_map(|(assessor, risks)| AssessorFacts { assessor, risks }),
            0..5,
        )
    }

    fn arb_existing() -> impl Strategy<Value = Vec<ExistingSample>> {
        proptest::collection::vec(
            (
                1i64..12,
                0usize..UNITS.len(),
                1i64..5,
                any::<bool>(),
                proptest::sample::select(SampleState::ALL.to_vec()),
                0u32..90,
            )
                .prop_map(|(r, u, a, summative, state, day)| ExistingSample {
                    registration: r,
                    unit: UNITS[u].into(),
                    assessor: a,
                    stage: if summative {
                        Stage::Summative
                    } else {
                        Stage::Interim
                    },
                    state,
                    due_on: d(2026, 1, 1) + Days::new(u64::from(day)),
                }),
            0..8,
        )
    }

    type Case = (
        SamplingStrategy,
        Vec<AssessorFacts>,
        Vec<Work>,
        Vec<ExistingSample>,
    );

    /// Cases whose work has unique keys (registration, unit, stage), as the input requires.
    fn arb_case() -> impl Strategy<Value = Case> {
        (
            arb_strategy(),
            arb_facts(),
            proptest::collection::vec(arb_work(), 0..40),
            arb_existing(),
        )
            .prop_map(|(s, f, w, e)| {
                let mut seen = HashSet::new();
                let w = w
                    .into_iter()
                    .filter(|w| seen.insert((w.registration, w.unit.clone(), w.stage)))
                    .collect();
                (s, f, w, e)
            })
    }

    fn input<'a>(c: &'a Case) -> PlanInput<'a> {
        PlanInput {
            strategy: &c.0,
            assessors: &c.1,
            work: &c.2,
            existing: &c.3,
            today: d(2026, 2, 15),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn every_assessor_and_cell_with_work_is_listed(case in arb_case()) {
            let input = input(&case);
            for coverage in [coverage_of(&input), generate_plan(&input).coverage] {
                for w in &case.2 {
                    prop_assert!(coverage.assessors.iter().any(|a| a.assessor == w.assessor));
                    prop_assert!(coverage
                        .cells
                        .iter()
                        .any(|c| c.assessor == w.assessor && c.unit == w.unit));
                }
                let ids: Vec<i64> = coverage.assessors.iter().map(|a| a.assessor).collect();
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                sorted.dedup();
                prop_assert_eq!(ids, sorted);
            }
        }

        #[test]
        fn the_generated_plan_is_complete_and_compliant(case in arb_case()) {
            let plan = generate_plan(&input(&case));
            prop_assert!(plan.coverage.gaps.is_empty(), "{:?}", plan.coverage.gaps);
            for a in &plan.coverage.assessors {
                prop_assert!(a.compliant, "{:?}", a);
                prop_assert!(a.learners_sampled >= a.learners_required);
                prop_assert!(a.interim_sampled >= a.interim_required);
                prop_assert!(a.summative_sampled >= a.summative_required);
            }
        }

        #[test]
        fn working_towards_is_sampled_at_least_at_its_rate(case in arb_case()) {
            let input = input(&case);
            let wt = case.0.risk_rates.working_towards;
            let plan = generate_plan(&input);
            for a in &plan.coverage.assessors {
                let towards = case.1.iter().any(|f| {
                    f.assessor == a.assessor && f.risks.contains(&AssessorRisk::WorkingTowards)
                });
                if towards {
                    prop_assert!(a.learner_rate >= wt);
                    prop_assert!(a.interim_rate >= wt);
                    prop_assert!(a.summative_rate >= wt);
                    prop_assert!(a.learners_required >= required(a.learners, wt));
                    prop_assert!(a.interim_required >= required(a.interim_work, wt));
                    prop_assert!(a.summative_required >= required(a.summative_work, wt));
                    prop_assert!(a.summative_sampled >= required(a.summative_work, wt));
                    prop_assert!(a.interim_sampled >= required(a.interim_work, wt));
                }
            }
        }

        #[test]
        fn duplicate_keys_in_the_work_are_harmless(
            strategy in arb_strategy(),
            facts in arb_facts(),
            work in proptest::collection::vec(arb_work(), 0..40),
        ) {
            let input = PlanInput {
                strategy: &strategy,
                assessors: &facts,
                work: &work,
                existing: &[],
                today: d(2026, 2, 15),
            };
            let plan = generate_plan(&input);
            prop_assert!(plan.coverage.gaps.is_empty(), "{:?}", plan.coverage.gaps);
            prop_assert!(plan.coverage.assessors.iter().all(|a| a.compliant));
            let mut keys = HashSet::new();
            for s in &plan.new_samples {
                prop_assert!(keys.insert(key(s)));
            }
        }

        #[test]
        fn generation_is_deterministic(case in arb_case()) {
            let input = input(&case);
            prop_assert_eq!(generate_plan(&input), generate_plan(&input));
            // The order of the work given does not change the plan when keys are unique.
            let mut seen = HashSet::new();
            let unique: Vec<Work> = case
                .2
                .iter()
                .filter(|w| seen.insert((w.registration, w.unit.clone(), w.stage)))
                .cloned()
                .collect();
            let mut reversed = unique.clone();
            reversed.reverse();
            let a = PlanInput { work: &unique, ..input };
            let b = PlanInput { work: &reversed, ..input };
            prop_assert_eq!(generate_plan(&a), generate_plan(&b));
        }

        #[test]
        fn no_duplicate_samples(case in arb_case()) {
            let plan = generate_plan(&input(&case));
            let mut keys = HashSet::new();
            for s in &plan.new_samples {
                prop_assert!(keys.insert(key(s)), "duplicate new sample {:?}", s);
                prop_assert!(
                    !case.3.iter().any(|e| e.registration == s.registration
                        && e.unit == s.unit
                        && e.stage == s.stage),
                    "duplicates an existing sample: {:?}",
                    s
                );
                prop_assert!(case.2.iter().any(|w| w.registration == s.registration
                    && w.unit == s.unit
                    && w.stage == s.stage
                    && w.assessor == s.assessor));
                prop_assert!(!s.reasons.is_empty());
            }
        }
    }
}
