//! The planner: the shortest way to a qualification (issue 4, question 3).
//!
//! Given the units a learner has achieved (all of which count, as in a check), the units they
//! want and the units they refuse, find the further units that complete the qualification with
//! the fewest guided learning hours; ties go to fewest credits, then fewest units, then to the
//! set holding the earliest unit key (in key order) where two sets differ.
//!
//! The search is exact: a depth-first branch and bound over the available units in key order
//! (include before exclude), pruned only by admissible lower bounds (fractional knapsack for
//! credit minimums, cheapest units for unit-count minimums, summed over requirements on
//! disjoint units), by infeasibility (a minimum out of reach, a maximum exceeded, a level share
//! out of reach), and by symmetry (of interchangeable units only key-order prefixes are tried,
//! which loses no optimum under the tie-break). Never greedy.

use super::NotCounted;
use super::compiled::{CompiledQualification, Rule, share_holds};
use super::explain::{groups_text, percent_text};
use super::set::UnitSet;
use crate::model::UnitKey;
use serde::{Deserialize, Serialize};

/// What the learner has and wants, by key or reference (`L3B1`).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanRequest {
    /// Achieved units. Every one that belongs counts.
    pub achieved: Vec<String>,
    /// Units the plan must include.
    #[serde(default)]
    pub wants: Vec<String>,
    /// Units the plan must never choose.
    #[serde(default)]
    pub refuses: Vec<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanStatus {
    /// The achieved units already meet every requirement (and include every wanted unit).
    AlreadyAchieved,
    /// [`Plan::units`] completes the qualification.
    Completion,
    /// No set of further units completes it; [`Plan::why_not`] says why.
    NoCompletion,
}

/// One further unit of a plan, with why it is chosen.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedUnit {
    pub key: UnitKey,
    pub ao_ref: String,
    pub title: String,
    pub level: u8,
    pub group: Option<String>,
    pub credit: u32,
    pub glh: u32,
    /// The learner asked for it.
    pub wanted: bool,
    /// The requirement(s) it serves, in plain words: "CORE unit: needs at least 4 CORE units
    /// (has 2)".
    pub reasons: Vec<String>,
}

/// The answer to "what is the shortest way to X?".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub qan: String,
    pub status: PlanStatus,
    /// The further units, in key order. Empty unless [`PlanStatus::Completion`].
    pub units: Vec<PlannedUnit>,
    pub added_glh: u32,
    pub added_credit: u32,
    /// Credit of the achieved units that count.
    pub achieved_credit: u32,
    /// Why no completion exists, in plain words. Empty unless [`PlanStatus::NoCompletion`].
    pub why_not: Vec<String>,
    /// Achieved, wanted or refused identifiers that are not units of this qualification.
    pub not_counted: Vec<NotCounted>,
    /// Search nodes visited (for benchmarks and curiosity).
    pub nodes: u64,
}

/// Largest credit need bounded exactly (by a knapsack over credits); larger needs use the
/// fractional relaxation.
const EXACT_COVER_MAX: usize = 64;

struct Search<'a> {
    c: &'a CompiledQualification,
    order: Vec<usize>,
    /// For position `i` of `order`: the later positions' units of the same class.
    same_class_after: Vec<UnitSet>,
    best: Option<UnitSet>,
    best_cost: u64,
    nodes: u64,
}

impl Search<'_> {
    fn go(&mut self, mut i: usize, cur: UnitSet, cost: u64, avail: UnitSet) {
        self.nodes += 1;
        let Some(lb) = self.c.lower_bound(&cur, &avail) else {
            return;
        };
        if cost.saturating_add(lb) >= self.best_cost {
            return;
        }
        if self.c.achieved(&cur) {
            // Any superset costs more: this is the subtree's best.
            self.best = Some(cur);
            self.best_cost = cost;
            return;
        }
        while i < self.order.len() && !avail.contains(self.order[i]) {
            i += 1;
        }
        let Some(&u) = self.order.get(i) else {
            return;
        };
        let mut rest = avail;
        rest.remove(u);
        let w = self.c.weight.get(u).copied().unwrap_or(1);
        self.go(i + 1, cur.with(u), cost + w, rest);
        let closed = self.same_class_after.get(i).copied().unwrap_or_default();
        self.go(i + 1, cur, cost, rest.minus(&closed));
    }
}

impl CompiledQualification {
    /// An admissible lower bound on the weight still to add to `cur` using only `avail`, or
    /// `None` where no subset of `avail` can complete `cur`.
    pub(super) fn lower_bound(&self, cur: &UnitSet, avail: &UnitSet) -> Option<u64> {
        let total = self.credit_of(cur);
        let mut most = 0u64;
        let mut family = 0u64;
        for (ri, r) in self.rules.iter().enumerate() {
            let b = match r {
                Rule::TotalCredit { min, max } => {
                    if max.is_some_and(|m| total > m) {
                        return None;
                    }
                    match min {
                        Some(m) if total < *m => self.cover(&self.by_ratio, avail, m - total)?,
                        _ => 0,
                    }
                }
                Rule::MinUnits {
                    mask,
                    min,
                    by_weight,
                    ..
                } => {
                    let have = cur.and(mask).len();
                    if have >= *min {
                        0
                    } else {
                        self.cheapest(by_weight, avail, min - have)?
                    }
                }
                Rule::MinCredit {
                    mask,
                    min,
                    by_ratio,
                    ..
                } => {
                    let have = self.credit_of(&cur.and(mask));
                    if have >= *min {
                        0
                    } else {
                        self.cover(by_ratio, avail, min - have)?
                    }
                }
                Rule::Mandatory { mask, .. } => {
                    let missing = mask.minus(cur);
                    if !missing.is_subset(avail) {
                        return None;
                    }
                    self.weight_of(&missing)
                }
                Rule::Choose {
                    mask,
                    min,
                    max,
                    by_weight,
                    ..
                } => {
                    let have = cur.and(mask).len();
                    if max.is_some_and(|m| have > m) {
                        return None;
                    }
                    if have >= *min {
                        0
                    } else {
                        self.cheapest(by_weight, avail, min - have)?
                    }
                }
                Rule::Routes { routes } => routes
                    .iter()
                    .filter_map(|(_, m)| {
                        let missing = m.minus(cur);
                        missing.is_subset(avail).then(|| self.weight_of(&missing))
                    })
                    .min()?,
                Rule::Share { percent, mask, .. } => {
                    let hi = self.credit_of(&cur.and(mask));
                    let more = self.credit_of(&avail.and(mask));
                    if !share_holds(hi + more, total + more, *percent) {
                        return None;
                    }
                    0
                }
            };
            most = most.max(b);
            if self.in_family.get(ri).copied().unwrap_or(false) {
                family = family.saturating_add(b);
            }
        }
        Some(most.max(family))
    }

    fn weight_of(&self, set: &UnitSet) -> u64 {
        set.iter()
            .map(|i| self.weight.get(i).copied().unwrap_or(0))
            .sum()
    }

    /// Sum of the `k` cheapest units of `list` (ordered cheapest first) that are in `avail`.
    fn cheapest(&self, list: &[usize], avail: &UnitSet, k: u32) -> Option<u64> {
        let mut left = k;
        let mut acc = 0u64;
        for &u in list {
            if left == 0 {
                break;
            }
            if avail.contains(u) {
                acc += self.weight.get(u).copied().unwrap_or(0);
                left -= 1;
            }
        }
        (left == 0).then_some(acc)
    }

    /// Least weight to gather at least `need` credits from the units of `list` in `avail`:
    /// exact (a 0/1 knapsack over credits) for needs up to [`EXACT_COVER_MAX`], otherwise the
    /// fractional-knapsack relaxation. Either way a lower bound on any completion's share.
    fn cover(&self, list: &[usize], avail: &UnitSet, need: u32) -> Option<u64> {
        if need as usize > EXACT_COVER_MAX {
            return self.fractional(list, avail, need);
        }
        let need = need as usize;
        let mut dp = [u64::MAX; EXACT_COVER_MAX + 1];
        dp[0] = 0;
        for &u in list {
            if !avail.contains(u) {
                continue;
            }
            let c = self.credit.get(u).copied().unwrap_or(0) as usize;
            let w = self.weight.get(u).copied().unwrap_or(0);
            if c == 0 {
                continue;
            }
            for j in (0..need).rev() {
                let here = dp[j];
                if here != u64::MAX {
                    let to = (j + c).min(need);
                    dp[to] = dp[to].min(here + w);
                }
            }
        }
        (dp[need] != u64::MAX).then_some(dp[need])
    }

    /// Fractional-knapsack bound: least weight to gather `need` credits from the units of
    /// `list` (ordered by weight per credit, best first) in `avail`, allowing fractions.
    fn fractional(&self, list: &[usize], avail: &UnitSet, need: u32) -> Option<u64> {
        let mut need = need;
        let mut acc = 0u64;
        for &u in list {
            if !avail.contains(u) {
                continue;
            }
            let c = self.credit.get(u).copied().unwrap_or(0);
            let w = self.weight.get(u).copied().unwrap_or(0);
            if c == 0 {
                continue;
            }
            if c >= need {
                let part = u128::from(w) * u128::from(need) / u128::from(c);
                return Some(acc + u64::try_from(part).unwrap_or(u64::MAX));
            }
            acc += w;
            need -= c;
        }
        None
    }

    /// Units that are mandatory in some requirement.
    fn mandatory_units(&self) -> UnitSet {
        self.rules.iter().fold(UnitSet::EMPTY, |acc, r| match r {
            Rule::Mandatory { mask, .. } => acc.or(mask),
            _ => acc,
        })
    }

    /// The cheapest set of further units that, added to `achieved`, meets every requirement:
    /// includes every unit of `wants` and every mandatory unit not held, never a unit of
    /// `refuses`. Returns the further units (wanted and mandatory ones included) and the nodes
    /// searched; `None` where no completion exists. The exact search behind
    /// [`CompiledQualification::plan`].
    pub fn cheapest_completion(
        &self,
        achieved: &UnitSet,
        wants: &UnitSet,
        refuses: &UnitSet,
    ) -> (Option<UnitSet>, u64) {
        let held = achieved.and(&self.all);
        let wants = wants.and(&self.all).minus(&held);
        let refuses = refuses.and(&self.all).minus(&held);
        if self.rules.is_empty() || wants.intersects(&refuses) {
            return (None, 0);
        }
        let forced = wants.or(&self.mandatory_units().minus(&held));
        if forced.intersects(&refuses) {
            return (None, 0);
        }
        let base = held.or(&forced);
        let avail = self.all.minus(&base).minus(&refuses);
        let mut order: Vec<usize> = avail.iter().collect();
        order.sort_by(|&a, &b| self.units[a].key.cmp(&self.units[b].key).then(a.cmp(&b)));
        let same_class_after = (0..order.len())
            .map(|p| {
                let cls = self.class_of.get(order[p]);
                order[p + 1..]
                    .iter()
                    .copied()
                    .filter(|&v| self.class_of.get(v) == cls)
                    .collect()
            })
            .collect();
        let mut s = Search {
            c: self,
            order,
            same_class_after,
            best: None,
            best_cost: u64::MAX,
            nodes: 0,
        };
        s.go(0, base, self.weight_of(&forced), avail);
        (s.best.map(|b| b.minus(&held)), s.nodes)
    }

    /// The shortest way to this qualification from a set of achieved units (unit numbers),
    /// with the reason for every unit, or why there is none. (Issue 4, question 3.)
    pub fn plan(&self, achieved: &UnitSet, wants: &UnitSet, refuses: &UnitSet) -> Plan {
        let held = achieved.and(&self.all);
        let wants = wants.and(&self.all);
        let refuses = refuses.and(&self.all).minus(&held);
        let mut plan = Plan {
            qan: self.qan.clone(),
            status: PlanStatus::NoCompletion,
            units: Vec::new(),
            added_glh: 0,
            added_credit: 0,
            achieved_credit: self.credit_of(&held),
            why_not: Vec::new(),
            not_counted: Vec::new(),
            nodes: 0,
        };
        if wants.is_subset(&held) && self.achieved(&held) {
            plan.status = PlanStatus::AlreadyAchieved;
            return plan;
        }
        let (found, nodes) = self.cheapest_completion(&held, &wants, &refuses);
        plan.nodes = nodes;
        match found {
            Some(add) => {
                plan.status = PlanStatus::Completion;
                plan.added_glh = self.glh_of(&add);
                plan.added_credit = self.credit_of(&add);
                plan.units = self.reasons(&held, &wants.minus(&held), &add);
            }
            None => {
                plan.why_not = self.why_not(&held, &wants.minus(&held), &refuses);
            }
        }
        plan
    }

    /// [`CompiledQualification::plan`] with units named by key or reference.
    pub fn plan_request(&self, request: &PlanRequest) -> Plan {
        self.plan_request_with(request, &|_| true)
    }

    /// As [`CompiledQualification::plan_request`]; `is_known` tells a catalogue unit that does
    /// not belong from an unknown identifier.
    pub fn plan_request_with(
        &self,
        request: &PlanRequest,
        is_known: &dyn Fn(&str) -> bool,
    ) -> Plan {
        let mut not_counted = Vec::new();
        let mut set_of = |ids: &[String]| -> UnitSet {
            let (counted, nc, _) = self.resolve_claim(ids, is_known);
            for n in nc {
                if !not_counted.contains(&n) {
                    not_counted.push(n);
                }
            }
            counted.into_iter().collect()
        };
        let achieved = set_of(&request.achieved);
        let wants = set_of(&request.wants);
        let refuses = set_of(&request.refuses);
        let mut plan = self.plan(&achieved, &wants, &refuses);
        plan.not_counted = not_counted;
        plan
    }

    /// The planned units with the requirement(s) each serves, judged against the starting
    /// point (achieved plus wanted plus mandatory units).
    fn reasons(&self, held: &UnitSet, wants: &UnitSet, add: &UnitSet) -> Vec<PlannedUnit> {
        let mandatory = self.mandatory_units();
        let start = held.or(wants).or(&mandatory.and(add));
        let start_total = self.credit_of(&start);
        let fin = held.or(add);
        let mut out: Vec<PlannedUnit> = add
            .iter()
            .filter_map(|i| {
                let u = self.units.get(i)?;
                let mut reasons = Vec::new();
                if wants.contains(i) {
                    reasons.push("wanted".to_string());
                }
                if mandatory.contains(i) {
                    reasons.push("mandatory unit".to_string());
                }
                for r in &self.rules {
                    let holds_at_start = self.holds(r, &start, start_total);
                    match r {
                        Rule::TotalCredit { min: Some(min), .. }
                            if !holds_at_start && start_total < *min && u.credit > 0 =>
                        {
                            reasons.push(format!(
                                "adds {} credits: needs at least {min} credits (has {start_total})",
                                u.credit
                            ));
                        }
                        Rule::MinUnits {
                            groups, mask, min, ..
                        } if !holds_at_start && mask.contains(i) => {
                            let g = groups_text(groups);
                            reasons.push(format!(
                                "{g} unit: needs at least {min} {g} units (has {})",
                                start.and(mask).len()
                            ));
                        }
                        Rule::MinCredit {
                            groups, mask, min, ..
                        } if !holds_at_start && mask.contains(i) && u.credit > 0 => {
                            let g = groups_text(groups);
                            reasons.push(format!(
                                "{g} unit, {} credits: needs {g} credits {min} (has {})",
                                u.credit,
                                self.credit_of(&start.and(mask))
                            ));
                        }
                        Rule::Choose {
                            units, mask, min, ..
                        } if !holds_at_start && mask.contains(i) => {
                            reasons.push(format!(
                                "one of {}: needs at least {min} of them (has {})",
                                self.refs_text(units),
                                start.and(mask).len()
                            ));
                        }
                        Rule::Routes { routes } if !holds_at_start => {
                            if let Some((route, _)) = routes
                                .iter()
                                .find(|(r, m)| m.contains(i) && m.is_subset(&fin) && !r.is_empty())
                            {
                                reasons.push(format!(
                                    "completes the route {}",
                                    self.refs_text(route).replace(", ", " and ")
                                ));
                            }
                        }
                        Rule::Share {
                            level,
                            percent,
                            mask,
                        } if mask.contains(i) && u.credit > 0 => {
                            let mut without = fin;
                            without.remove(i);
                            let without_total = self.credit_of(&without);
                            let without_ok = share_holds(
                                self.credit_of(&without.and(mask)),
                                without_total,
                                *percent,
                            );
                            if !holds_at_start || !without_ok {
                                reasons.push(format!(
                                    "Level {} unit: needs {percent}% of credit at Level {level} or above",
                                    u.level
                                ));
                            }
                        }
                        _ => {}
                    }
                }
                if reasons.is_empty() {
                    reasons.push(
                        "needed with the other units to meet every requirement together"
                            .to_string(),
                    );
                }
                Some(PlannedUnit {
                    key: u.key.clone(),
                    ao_ref: u.ao_ref.clone(),
                    title: u.title.clone(),
                    level: u.level,
                    group: u.group.clone(),
                    credit: u.credit,
                    glh: u.glh,
                    wanted: wants.contains(i),
                    reasons,
                })
            })
            .collect();
        out.sort_by(|a, b| a.key.cmp(&b.key));
        out
    }

    fn ao_ref(&self, i: usize) -> &str {
        self.units.get(i).map_or("?", |u| u.ao_ref.as_str())
    }

    /// Why no completion exists: every reason that can be named on its own, or, where the
    /// requirements only conflict together, that.
    fn why_not(&self, held: &UnitSet, wants: &UnitSet, refuses: &UnitSet) -> Vec<String> {
        let mut why = Vec::new();
        if self.rules.is_empty() {
            why.push(self.no_rules().message);
            return why;
        }
        for i in wants.and(refuses).iter() {
            why.push(format!("{} is both wanted and refused", self.ao_ref(i)));
        }
        let mandatory = self.mandatory_units();
        for i in mandatory.and(refuses).iter() {
            why.push(format!("mandatory unit {} is refused", self.ao_ref(i)));
        }
        let base = held.or(wants).or(&mandatory.minus(refuses));
        let reach = self.all.minus(refuses).or(held);
        let refused_note = if refuses.is_empty() {
            ""
        } else {
            " (refused units left out)"
        };
        let over_max = |have_held: u32, have_base: u32, max: u32, what: &str| -> Option<String> {
            if have_held > max {
                Some(format!(
                    "already {have_held} {what}, the maximum is {max}: no set of further units can meet it \
                     (every achieved unit counts; claiming a subset of them may: see what can be claimed now)"
                ))
            } else if have_base > max {
                Some(format!(
                    "with the wanted and mandatory units, {have_base} {what}, the maximum is {max}"
                ))
            } else {
                None
            }
        };
        for r in &self.rules {
            match r {
                Rule::TotalCredit { min, max } => {
                    if let Some(max) = max
                        && let Some(m) =
                            over_max(self.credit_of(held), self.credit_of(&base), *max, "credits")
                    {
                        why.push(m);
                    }
                    let most = self.credit_of(&reach);
                    if let Some(min) = min
                        && most < *min
                    {
                        why.push(format!(
                            "at most {most} credits can be reached{refused_note}, the minimum is {min}"
                        ));
                    }
                }
                Rule::MinUnits {
                    groups, mask, min, ..
                } => {
                    let most = reach.and(mask).len();
                    if most < *min {
                        why.push(format!(
                            "at most {most} {} units can be reached{refused_note}, needs at least {min}",
                            groups_text(groups)
                        ));
                    }
                }
                Rule::MinCredit {
                    groups, mask, min, ..
                } => {
                    let most = self.credit_of(&reach.and(mask));
                    if most < *min {
                        why.push(format!(
                            "at most {most} {} credits can be reached{refused_note}, needs {min}",
                            groups_text(groups)
                        ));
                    }
                }
                Rule::Mandatory { .. } => {}
                Rule::Choose {
                    units,
                    mask,
                    min,
                    max,
                    ..
                } => {
                    let list = self.refs_text(units);
                    if let Some(max) = max
                        && let Some(m) = over_max(
                            held.and(mask).len(),
                            base.and(mask).len(),
                            *max,
                            &format!("of {list} chosen"),
                        )
                    {
                        why.push(m);
                    }
                    let most = reach.and(mask).len();
                    if most < *min {
                        why.push(format!(
                            "at most {most} of {list} can be chosen{refused_note}, needs at least {min}"
                        ));
                    }
                }
                Rule::Routes { routes } => {
                    if !routes.iter().any(|(_, m)| m.is_subset(&reach)) {
                        why.push(if routes.is_empty() {
                            "needs one of its routes, but none is defined".to_string()
                        } else {
                            format!(
                                "every route needs a refused unit: needs one of: {}",
                                self.routes_text(routes)
                            )
                        });
                    }
                }
                Rule::Share {
                    level,
                    percent,
                    mask,
                } => {
                    let best = base.or(&reach.and(mask));
                    let hi = self.credit_of(&best.and(mask));
                    let total = self.credit_of(&best);
                    if !share_holds(hi, total, *percent) {
                        why.push(format!(
                            "even with every available unit at Level {level} or above, {} of credit at Level {level} or above, needs {percent}%",
                            percent_text(hi, total)
                        ));
                    }
                }
            }
        }
        if why.is_empty() {
            why.push(
                "no combination of the available units meets every requirement at once".to_string(),
            );
        }
        why
    }
}
