//! What can a learner claim now? (Issue 4, question 2.)
//!
//! For a qualification and the learner's achieved units: whether some subset of them meets
//! every requirement, and which. Where the learner holds more than a maximum allows (ISP L3
//! Certificate: "maximum 36 credits", with a Diploma's worth of units), the claim is the valid
//! subset with the most credit; ties go to the set holding the earliest unit key where two
//! differ. Exact: a branch and bound bounded by the best credit still reachable under the
//! maximum (subset sums), never greedy.

use super::compiled::{CompiledQualification, Rule};
use super::set::UnitSet;
use super::{NotCounted, Unmet};
use crate::model::UnitKey;
use serde::Serialize;

/// The cheapest way to complete a qualification not yet met (from the planner).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Completion {
    /// Further units, in key order.
    pub units: Vec<UnitKey>,
    pub glh: u32,
    pub credit: u32,
}

/// One qualification's answer to "what can I claim now?".
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Claimable {
    pub qan: String,
    pub title: String,
    /// Some subset of the learner's units meets every requirement.
    pub met: bool,
    /// The units to claim it with, in key order (empty unless met).
    pub claim_with: Vec<UnitKey>,
    pub claim_credit: u32,
    /// The learner's units that belong to the qualification, in key order.
    pub held: Vec<UnitKey>,
    /// When not met: every unmet requirement of the learner's units as they stand.
    pub unmet: Vec<Unmet>,
    /// When not met: the planner's cheapest completion, where one exists.
    pub completion: Option<Completion>,
    /// When not met and no completion exists: why.
    pub why_not: Vec<String>,
    /// The learner's identifiers that are not units of this qualification.
    pub not_counted: Vec<NotCounted>,
}

/// Subset sums reachable with a list of credits, capped, as a bit set.
#[derive(Clone)]
struct Sums(Vec<u64>);

impl Sums {
    fn zero(cap: u32) -> Sums {
        let mut v = vec![0u64; cap as usize / 64 + 1];
        if let Some(w) = v.first_mut() {
            *w = 1;
        }
        Sums(v)
    }
    /// `self ∪ (self + c)`, truncated at the cap.
    fn with(&self, c: u32) -> Sums {
        let mut out = self.0.clone();
        let (ws, bs) = (c as usize / 64, c as usize % 64);
        for k in (0..out.len()).rev() {
            if k < ws {
                break;
            }
            let lo = self.0.get(k - ws).copied().unwrap_or(0);
            let carry = if bs > 0 && k > ws {
                self.0.get(k - ws - 1).copied().unwrap_or(0) >> (64 - bs)
            } else {
                0
            };
            if let Some(o) = out.get_mut(k) {
                *o |= (lo << bs) | carry;
            }
        }
        Sums(out)
    }
    /// Largest reachable sum at most `t`.
    fn best_at_most(&self, t: u32) -> u32 {
        let mut s = t.min((self.0.len() * 64 - 1) as u32);
        loop {
            let (k, b) = (s as usize / 64, s % 64);
            let w = self.0.get(k).copied().unwrap_or(0) & (u64::MAX >> (63 - b));
            if w != 0 {
                return (k as u32) * 64 + (63 - w.leading_zeros());
            }
            if k == 0 {
                return 0;
            }
            s = (k as u32) * 64 - 1;
        }
    }
}

struct ClaimSearch<'a> {
    c: &'a CompiledQualification,
    order: Vec<usize>,
    cap: Option<u32>,
    /// For position `i`: sums reachable with `order[i..]` (when capped).
    reach: Vec<Sums>,
    /// For position `i`: total credit of `order[i..]`.
    rest_credit: Vec<u32>,
    best: Option<(UnitSet, u32)>,
}

impl ClaimSearch<'_> {
    fn go(&mut self, i: usize, cur: UnitSet, credit: u32, avail: UnitSet) {
        if self.c.lower_bound(&cur, &avail).is_none() {
            return;
        }
        let upper = match self.cap {
            Some(cap) => {
                let room = cap.saturating_sub(credit);
                credit + self.reach.get(i).map_or(0, |r| r.best_at_most(room))
            }
            None => credit + self.rest_credit.get(i).copied().unwrap_or(0),
        };
        if self.best.as_ref().is_some_and(|(_, b)| upper <= *b) {
            return;
        }
        let Some(&u) = self.order.get(i) else {
            if self.c.achieved(&cur) {
                self.best = Some((cur, credit));
            }
            return;
        };
        let c = self.c.credit.get(u).copied().unwrap_or(0);
        let mut rest = avail;
        rest.remove(u);
        if self.cap.is_none_or(|cap| credit + c <= cap) {
            self.go(i + 1, cur.with(u), credit + c, rest);
        }
        self.go(i + 1, cur, credit, rest);
    }
}

impl CompiledQualification {
    /// The subset of `held` to claim the qualification with: `held` itself where it meets
    /// every requirement, otherwise the valid subset with most credit (ties: the set holding
    /// the earliest unit key where two differ); `None` where no subset is valid.
    pub fn best_claim(&self, held: &UnitSet) -> Option<UnitSet> {
        let held = held.and(&self.all);
        if self.achieved(&held) {
            return Some(held);
        }
        if self.rules.is_empty() {
            return None;
        }
        let mut order: Vec<usize> = held.iter().collect();
        order.sort_by(|&a, &b| self.units[a].key.cmp(&self.units[b].key).then(a.cmp(&b)));
        let cap = self
            .rules
            .iter()
            .filter_map(|r| match r {
                Rule::TotalCredit { max, .. } => *max,
                _ => None,
            })
            .min()
            .filter(|&c| c <= 1 << 16);
        let n = order.len();
        let mut rest_credit = vec![0u32; n + 1];
        for p in (0..n).rev() {
            rest_credit[p] = rest_credit[p + 1] + self.credit.get(order[p]).copied().unwrap_or(0);
        }
        let mut reach = Vec::new();
        if let Some(cap) = cap {
            let mut r = vec![Sums::zero(cap); n + 1];
            for p in (0..n).rev() {
                r[p] = r[p + 1].with(self.credit.get(order[p]).copied().unwrap_or(0));
            }
            reach = r;
        }
        let mut s = ClaimSearch {
            c: self,
            order,
            cap,
            reach,
            rest_credit,
            best: None,
        };
        s.go(0, UnitSet::EMPTY, 0, held);
        s.best.map(|(b, _)| b)
    }

    fn keys_in_key_order(&self, set: &UnitSet) -> Vec<UnitKey> {
        let mut v: Vec<UnitKey> = set
            .iter()
            .filter_map(|i| self.units.get(i).map(|u| u.key.clone()))
            .collect();
        v.sort();
        v
    }

    /// What can be claimed with `held` (unit numbers). (Issue 4, question 2.)
    pub fn claimable_set(&self, held: &UnitSet) -> Claimable {
        let held = held.and(&self.all);
        let mut out = Claimable {
            qan: self.qan.clone(),
            title: self.title.clone(),
            met: false,
            claim_with: Vec::new(),
            claim_credit: 0,
            held: self.keys_in_key_order(&held),
            unmet: Vec::new(),
            completion: None,
            why_not: Vec::new(),
            not_counted: Vec::new(),
        };
        if let Some(claim) = self.best_claim(&held) {
            out.met = true;
            out.claim_credit = self.credit_of(&claim);
            out.claim_with = self.keys_in_key_order(&claim);
            return out;
        }
        out.unmet = self.unmet(&held).0;
        let plan = self.plan(&held, &UnitSet::EMPTY, &UnitSet::EMPTY);
        match plan.status {
            super::PlanStatus::Completion => {
                out.completion = Some(Completion {
                    units: plan.units.into_iter().map(|u| u.key).collect(),
                    glh: plan.added_glh,
                    credit: plan.added_credit,
                })
            }
            _ => out.why_not = plan.why_not,
        }
        out
    }

    /// [`CompiledQualification::claimable_set`] with units named by key or reference;
    /// `is_known` tells a catalogue unit that does not belong from an unknown identifier.
    pub fn claimable_with<S: AsRef<str>>(
        &self,
        achieved: &[S],
        is_known: &dyn Fn(&str) -> bool,
    ) -> Claimable {
        let (counted, not_counted, _) = self.resolve_claim(achieved, is_known);
        let mut c = self.claimable_set(&counted.into_iter().collect());
        c.not_counted = not_counted;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset_sums() {
        let s = Sums::zero(100).with(3).with(5).with(64).with(70);
        assert_eq!(s.best_at_most(100), 78);
        assert_eq!(s.best_at_most(7), 5);
        assert_eq!(s.best_at_most(2), 0);
        assert_eq!(s.best_at_most(68), 67);
        assert_eq!(s.best_at_most(1000), 78);
        let big = Sums::zero(36).with(40);
        assert_eq!(big.best_at_most(36), 0);
    }
}
