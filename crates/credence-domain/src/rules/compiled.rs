//! A qualification compiled for fast checking: units numbered `0..n`, each requirement a set
//! of bit masks over those numbers.

use super::set::{MAX_UNITS, UnitSet};
use super::{Evaluation, LevelShare, NotCounted, NotCountedReason, RulesError, Unmet, normalise};
use crate::model::{Qualification, Requirement, Unit, UnitKey};
use std::collections::HashMap;

/// One unit of a compiled qualification, with what the rules need to know of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompiledUnit {
    pub key: UnitKey,
    /// The AO's reference (`L3B1`, `ISP503`, `Unit 1`): what messages call the unit.
    pub ao_ref: String,
    pub title: String,
    /// Credit value; a unit without one (ISMM) counts 0 credits.
    pub credit: u32,
    /// Guided learning hours; a unit without them counts 0 hours.
    pub glh: u32,
    pub level: u8,
    /// The unit's group in this qualification (`CORE`...), if any.
    pub group: Option<String>,
}

/// One requirement, compiled. Indices are unit numbers of the compiled qualification.
#[derive(Debug, Clone)]
pub(super) enum Rule {
    /// Minimum and/or maximum total credit: ISP L3/L5 Certificate "A minimum of 13 credits,
    /// maximum 36 credits"; Diploma "A minimum of 37 credits"; Apprenticeship Diploma "40
    /// credits".
    TotalCredit { min: Option<u32>, max: Option<u32> },
    /// Minimum units from a union of groups: ISP L3 "At least two BUSINESS units", "At least
    /// one LEADERSHIP unit or SELF unit". Units of other levels placed in a group count there.
    MinUnits {
        groups: Vec<String>,
        mask: UnitSet,
        min: u32,
        /// Members ordered by planner weight, cheapest first (for lower bounds).
        by_weight: Vec<usize>,
    },
    /// Minimum credit from a union of groups: ISP L5 Diploma "CORE units totalling at least
    /// 12 credits".
    MinCredit {
        groups: Vec<String>,
        mask: UnitSet,
        min: u32,
        /// Members with credit ordered by weight per credit, best first.
        by_ratio: Vec<usize>,
    },
    /// Every one of these units: ISP L5 Advanced "all 4 mandatory units"; the Apprenticeship
    /// Diploma's prescribed units; an Award's one or two units.
    Mandatory { units: Vec<usize>, mask: UnitSet },
    /// At least `min` (at most `max`) of these units: ISP L5 Advanced Diploma "plus 5 optional
    /// units".
    Choose {
        units: Vec<usize>,
        mask: UnitSet,
        min: u32,
        max: Option<u32>,
        by_weight: Vec<usize>,
    },
    /// One complete route: ISMM Executive Award "either one of Unit 1 or Unit 2".
    Routes { routes: Vec<(Vec<usize>, UnitSet)> },
    /// Share of credit at or above a level: ISP L5 "Units selected must equate to a minimum of
    /// 50% at Level 5 or above", read by credit value (DOMAIN.md).
    Share {
        level: u8,
        percent: u32,
        /// Units at `level` or above.
        mask: UnitSet,
    },
}

impl Rule {
    /// The units this rule looks at, for the planner's disjointness test; `None` where it looks
    /// at every unit (total credit, level share).
    pub(super) fn scope(&self) -> Option<UnitSet> {
        match self {
            Rule::TotalCredit { .. } | Rule::Share { .. } => None,
            Rule::MinUnits { mask, .. }
            | Rule::MinCredit { mask, .. }
            | Rule::Mandatory { mask, .. }
            | Rule::Choose { mask, .. } => Some(*mask),
            Rule::Routes { routes } => {
                Some(routes.iter().fold(UnitSet::EMPTY, |acc, (_, m)| acc.or(m)))
            }
        }
    }
}

/// A qualification's rules of combination compiled against its units.
///
/// Build it once per qualification ([`CompiledQualification::new`]) and check many claims:
/// [`CompiledQualification::achieved`] is the allocation-free fast path;
/// [`CompiledQualification::evaluate`] builds the full answer with messages.
#[derive(Debug, Clone)]
pub struct CompiledQualification {
    pub(super) qan: String,
    pub(super) title: String,
    pub(super) units: Vec<CompiledUnit>,
    /// Normalised identifier (key, Ofqual ref, AO ref, other refs) to unit number.
    pub(super) index: HashMap<String, usize>,
    pub(super) rules: Vec<Rule>,
    pub(super) all: UnitSet,
    pub(super) credit: Vec<u32>,
    /// Planner cost of each unit: GLH, then credit, then one unit, packed so that sums compare
    /// lexicographically: `glh << 40 | credit << 20 | 1`.
    pub(super) weight: Vec<u64>,
    /// Units with credit, ordered by weight per credit (best first).
    pub(super) by_ratio: Vec<usize>,
    /// Per rule: one of a family of rules with pairwise disjoint scopes, whose planner lower
    /// bounds add up.
    pub(super) in_family: Vec<bool>,
    /// Interchangeable units share a class (same credit, GLH, rule memberships and, where a
    /// level share is required, same side of the level).
    pub(super) class_of: Vec<usize>,
}

/// Packed planner weight of a unit; see [`CompiledQualification::weight`].
pub(super) fn pack_weight(glh: u32, credit: u32) -> u64 {
    (u64::from(glh.min(0xFF_FFFF)) << 40) | (u64::from(credit.min(0xFFF)) << 20) | 1
}

fn cmp_ratio(weight: &[u64], credit: &[u32], a: usize, b: usize) -> std::cmp::Ordering {
    // weight[a] / credit[a] vs weight[b] / credit[b], exactly.
    (u128::from(weight[a]) * u128::from(credit[b]))
        .cmp(&(u128::from(weight[b]) * u128::from(credit[a])))
        .then(a.cmp(&b))
}

impl CompiledQualification {
    /// Compile `q`. `lookup` finds a unit by [`UnitKey`] (for credit, GLH, level, references).
    ///
    /// The units that belong to the qualification are those of [`Qualification::units`], plus
    /// any unit a requirement names that the list lacks (a rule that names a unit makes it part
    /// of the qualification). A unit listed twice keeps its first group.
    pub fn new<'u, F>(q: &Qualification, lookup: F) -> Result<Self, RulesError>
    where
        F: Fn(&str) -> Option<&'u Unit>,
    {
        let mut keys: Vec<(UnitKey, Option<String>)> = Vec::new();
        let mut seen: HashMap<&str, ()> = HashMap::new();
        for qu in &q.units {
            if seen.insert(qu.unit.as_str(), ()).is_none() {
                keys.push((qu.unit.clone(), qu.group.clone()));
            }
        }
        let mut named: Vec<&UnitKey> = Vec::new();
        for r in &q.rules {
            match r {
                Requirement::Mandatory { units } | Requirement::ChooseUnits { units, .. } => {
                    named.extend(units.iter())
                }
                Requirement::OneOfRoutes { routes } => named.extend(routes.iter().flatten()),
                _ => {}
            }
        }
        for k in named {
            if seen.insert(k.as_str(), ()).is_none() {
                keys.push((k.clone(), None));
            }
        }
        if keys.len() > MAX_UNITS {
            return Err(RulesError::TooManyUnits {
                qan: q.qan.clone(),
                count: keys.len(),
                max: MAX_UNITS,
            });
        }
        let mut units = Vec::with_capacity(keys.len());
        let mut index = HashMap::new();
        for (i, (key, group)) in keys.into_iter().enumerate() {
            let u = lookup(&key).ok_or_else(|| RulesError::UnknownUnit {
                qan: q.qan.clone(),
                unit: key.clone(),
            })?;
            index.insert(normalise(&key), i);
            units.push(CompiledUnit {
                key,
                ao_ref: u.ao_ref.clone(),
                title: u.title.clone(),
                credit: u.credit.unwrap_or(0),
                glh: u.glh.unwrap_or(0),
                level: u.level,
                group,
            });
        }
        // References other than the key: a reference shared by two units of the qualification
        // names neither (the key still works).
        let mut refs: HashMap<String, Option<usize>> = HashMap::new();
        for (i, cu) in units.iter().enumerate() {
            let Some(u) = lookup(&cu.key) else { continue };
            let mut mine: Vec<String> = std::iter::once(&u.ao_ref)
                .chain(u.ofqual_ref.iter())
                .chain(u.other_refs.iter())
                .map(|r| normalise(r))
                .collect();
            mine.sort();
            mine.dedup();
            for r in mine {
                refs.entry(r).and_modify(|e| *e = None).or_insert(Some(i));
            }
        }
        for (r, i) in refs {
            if let Some(i) = i {
                index.entry(r).or_insert(i);
            }
        }

        let n = units.len();
        let credit: Vec<u32> = units.iter().map(|u| u.credit).collect();
        let weight: Vec<u64> = units.iter().map(|u| pack_weight(u.glh, u.credit)).collect();
        let ratio_sorted = |members: &mut Vec<usize>| {
            members.retain(|&i| credit[i] > 0);
            members.sort_by(|&a, &b| cmp_ratio(&weight, &credit, a, b));
        };
        let weight_sorted = |members: &mut Vec<usize>| {
            members.sort_by(|&a, &b| weight[a].cmp(&weight[b]).then(a.cmp(&b)));
        };
        let idx = |k: &str| index.get(&normalise(k)).copied();
        let in_groups = |groups: &[String]| -> UnitSet {
            units
                .iter()
                .enumerate()
                .filter(|(_, u)| {
                    u.group.as_deref().is_some_and(|g| {
                        groups
                            .iter()
                            .any(|x| x.trim().eq_ignore_ascii_case(g.trim()))
                    })
                })
                .map(|(i, _)| i)
                .collect()
        };
        let unit_list = |ks: &[UnitKey]| -> Vec<usize> {
            let mut v: Vec<usize> = ks.iter().filter_map(|k| idx(k)).collect();
            let mut seen = UnitSet::EMPTY;
            v.retain(|&i| {
                let fresh = !seen.contains(i);
                seen.insert(i);
                fresh
            });
            v
        };

        let mut rules = Vec::with_capacity(q.rules.len());
        for r in &q.rules {
            rules.push(match r {
                Requirement::TotalCredit { min, max } => Rule::TotalCredit {
                    min: *min,
                    max: *max,
                },
                Requirement::MinUnitsInGroups { groups, min } => {
                    let mask = in_groups(groups);
                    let mut by_weight: Vec<usize> = mask.iter().collect();
                    weight_sorted(&mut by_weight);
                    Rule::MinUnits {
                        groups: groups.clone(),
                        mask,
                        min: *min,
                        by_weight,
                    }
                }
                Requirement::MinCreditInGroups { groups, min } => {
                    let mask = in_groups(groups);
                    let mut by_ratio: Vec<usize> = mask.iter().collect();
                    ratio_sorted(&mut by_ratio);
                    Rule::MinCredit {
                        groups: groups.clone(),
                        mask,
                        min: *min,
                        by_ratio,
                    }
                }
                Requirement::Mandatory { units: ks } => {
                    let units = unit_list(ks);
                    let mask = units.iter().copied().collect();
                    Rule::Mandatory { units, mask }
                }
                Requirement::ChooseUnits {
                    units: ks,
                    min,
                    max,
                } => {
                    let units = unit_list(ks);
                    let mask: UnitSet = units.iter().copied().collect();
                    let mut by_weight = units.clone();
                    weight_sorted(&mut by_weight);
                    Rule::Choose {
                        units,
                        mask,
                        min: *min,
                        max: *max,
                        by_weight,
                    }
                }
                Requirement::OneOfRoutes { routes } => Rule::Routes {
                    routes: routes
                        .iter()
                        .map(|r| {
                            let v = unit_list(r);
                            let m = v.iter().copied().collect();
                            (v, m)
                        })
                        .collect(),
                },
                Requirement::MinShareAtLevel { level, percent } => Rule::Share {
                    level: *level,
                    percent: *percent,
                    mask: (0..n).filter(|&i| units[i].level >= *level).collect(),
                },
            });
        }

        let mut by_ratio: Vec<usize> = (0..n).collect();
        ratio_sorted(&mut by_ratio);

        let mut in_family = vec![false; rules.len()];
        let mut covered = UnitSet::EMPTY;
        for (ri, r) in rules.iter().enumerate() {
            if matches!(r, Rule::Mandatory { .. }) {
                continue; // the planner takes mandatory units up front
            }
            if let Some(s) = r.scope()
                && !s.intersects(&covered)
            {
                covered = covered.or(&s);
                in_family[ri] = true;
            }
        }

        // Classes of interchangeable units.
        let share_levels: Vec<u8> = rules
            .iter()
            .filter_map(|r| match r {
                Rule::Share { level, .. } => Some(*level),
                _ => None,
            })
            .collect();
        let signature = |i: usize| -> Vec<u64> {
            let mut s = vec![u64::from(units[i].credit), u64::from(units[i].glh)];
            for l in &share_levels {
                s.push(u64::from(units[i].level >= *l));
            }
            for r in &rules {
                match r {
                    Rule::TotalCredit { .. } | Rule::Share { .. } => {}
                    Rule::MinUnits { mask, .. }
                    | Rule::MinCredit { mask, .. }
                    | Rule::Mandatory { mask, .. }
                    | Rule::Choose { mask, .. } => s.push(u64::from(mask.contains(i))),
                    Rule::Routes { routes } => {
                        s.extend(routes.iter().map(|(_, m)| u64::from(m.contains(i))))
                    }
                }
            }
            s
        };
        let mut class_ids: HashMap<Vec<u64>, usize> = HashMap::new();
        let class_of: Vec<usize> = (0..n)
            .map(|i| {
                let next = class_ids.len();
                *class_ids.entry(signature(i)).or_insert(next)
            })
            .collect();

        Ok(CompiledQualification {
            qan: q.qan.clone(),
            title: q.title.clone(),
            all: UnitSet::first_n(n),
            units,
            index,
            rules,
            credit,
            weight,
            by_ratio,
            in_family,
            class_of,
        })
    }

    pub fn qan(&self) -> &str {
        &self.qan
    }

    pub fn title(&self) -> &str {
        &self.title
    }

    /// The qualification's units; a unit's number in a [`UnitSet`] is its position here.
    pub fn units(&self) -> &[CompiledUnit] {
        &self.units
    }

    /// The number of the unit an identifier names, if it belongs: its key, Ofqual reference,
    /// AO reference (`L3B1`) or another reference, case-insensitively.
    pub fn unit_index(&self, ident: &str) -> Option<usize> {
        self.index.get(&normalise(ident)).copied()
    }

    /// Every unit of the qualification.
    pub fn all_units(&self) -> UnitSet {
        self.all
    }

    /// Total credit of a set of units.
    #[inline]
    pub fn credit_of(&self, set: &UnitSet) -> u32 {
        set.iter()
            .map(|i| self.credit.get(i).copied().unwrap_or(0))
            .sum()
    }

    /// Total GLH of a set of units.
    pub fn glh_of(&self, set: &UnitSet) -> u32 {
        set.iter()
            .filter_map(|i| self.units.get(i).map(|u| u.glh))
            .sum()
    }

    /// Does this set of unit numbers meet every requirement? The fast path: no allocation.
    /// Numbers outside the qualification are ignored. A qualification with no rules recorded
    /// is never achieved.
    #[inline]
    pub fn achieved(&self, claim: &UnitSet) -> bool {
        if self.rules.is_empty() {
            return false;
        }
        let claim = claim.and(&self.all);
        let total = self.credit_of(&claim);
        self.rules.iter().all(|r| self.holds(r, &claim, total))
    }

    #[inline]
    pub(super) fn holds(&self, r: &Rule, claim: &UnitSet, total: u32) -> bool {
        match r {
            Rule::TotalCredit { min, max } => {
                min.is_none_or(|m| total >= m) && max.is_none_or(|m| total <= m)
            }
            Rule::MinUnits { mask, min, .. } => claim.and(mask).len() >= *min,
            Rule::MinCredit { mask, min, .. } => self.credit_of(&claim.and(mask)) >= *min,
            Rule::Mandatory { mask, .. } => mask.is_subset(claim),
            Rule::Choose { mask, min, max, .. } => {
                let n = claim.and(mask).len();
                n >= *min && max.is_none_or(|m| n <= m)
            }
            Rule::Routes { routes } => routes.iter().any(|(_, m)| m.is_subset(claim)),
            Rule::Share { percent, mask, .. } => {
                let hi = self.credit_of(&claim.and(mask));
                share_holds(hi, total, *percent)
            }
        }
    }

    /// The unit numbers a claim names, with what was not counted and what was listed twice.
    pub fn resolve_claim<S: AsRef<str>>(
        &self,
        claim: &[S],
        is_known: &dyn Fn(&str) -> bool,
    ) -> (Vec<usize>, Vec<NotCounted>, Vec<String>) {
        let mut seen = UnitSet::EMPTY;
        let mut counted = Vec::new();
        let mut not_counted = Vec::new();
        let mut duplicates = Vec::new();
        for id in claim {
            let id = id.as_ref();
            match self.unit_index(id) {
                Some(i) if seen.contains(i) => duplicates.push(id.trim().to_string()),
                Some(i) => {
                    seen.insert(i);
                    counted.push(i);
                }
                None => not_counted.push(NotCounted {
                    unit: id.trim().to_string(),
                    reason: if is_known(id) {
                        NotCountedReason::NotInQualification
                    } else {
                        NotCountedReason::Unknown
                    },
                }),
            }
        }
        (counted, not_counted, duplicates)
    }

    /// Is it achieved? The claim as given, by key or reference (`L3B1`). Listed units that
    /// do not belong are reported as not in the qualification. (Issue 4, question 1.)
    pub fn evaluate<S: AsRef<str>>(&self, claim: &[S]) -> Evaluation {
        self.evaluate_with(claim, &|_| true)
    }

    /// As [`CompiledQualification::evaluate`]; `is_known` tells a unit of the catalogue that
    /// does not belong from an identifier nothing answers to.
    pub fn evaluate_with<S: AsRef<str>>(
        &self,
        claim: &[S],
        is_known: &dyn Fn(&str) -> bool,
    ) -> Evaluation {
        let (counted, not_counted, duplicates) = self.resolve_claim(claim, is_known);
        let set: UnitSet = counted.iter().copied().collect();
        let mut e = self.evaluate_set(&set);
        e.counted = counted.iter().map(|&i| self.units[i].key.clone()).collect();
        e.not_counted = not_counted;
        e.duplicates = duplicates;
        e
    }

    /// The full answer for a set of unit numbers: every unmet requirement in plain words.
    pub fn evaluate_set(&self, set: &UnitSet) -> Evaluation {
        let set = set.and(&self.all);
        let (unmet, level_shares) = self.unmet(&set);
        Evaluation {
            qan: self.qan.clone(),
            achieved: unmet.is_empty(),
            counted: set.iter().map(|i| self.units[i].key.clone()).collect(),
            not_counted: Vec::new(),
            duplicates: Vec::new(),
            total_credit: self.credit_of(&set),
            total_glh: self.glh_of(&set),
            unmet,
            level_shares,
        }
    }

    /// Both readings of a level-share rule for a set.
    pub(super) fn level_share(
        &self,
        requirement: usize,
        level: u8,
        percent: u32,
        mask: &UnitSet,
        set: &UnitSet,
    ) -> LevelShare {
        let hi = set.and(mask);
        let credit_at_level = self.credit_of(&hi);
        let total_credit = self.credit_of(set);
        let units_at_level = hi.len();
        let total_units = set.len();
        LevelShare {
            requirement,
            level,
            percent,
            credit_at_level,
            total_credit,
            units_at_level,
            total_units,
            met_by_credit: share_holds(credit_at_level, total_credit, percent),
            met_by_unit_count: share_holds(units_at_level, total_units, percent),
        }
    }

    /// Every unmet requirement of a set, and both readings of every level share.
    pub(super) fn unmet(&self, set: &UnitSet) -> (Vec<Unmet>, Vec<LevelShare>) {
        let mut unmet = Vec::new();
        let mut shares = Vec::new();
        if self.rules.is_empty() {
            unmet.push(self.no_rules());
        }
        let total = self.credit_of(set);
        for (ri, r) in self.rules.iter().enumerate() {
            if let Rule::Share {
                level,
                percent,
                mask,
            } = r
            {
                shares.push(self.level_share(ri, *level, *percent, mask, set));
            }
            if !self.holds(r, set, total) {
                self.describe_unmet(ri, r, set, total, &mut unmet);
            }
        }
        (unmet, shares)
    }
}

/// `part` is at least `percent`% of `whole`, exactly (integers). Vacuously true when `whole`
/// is 0: with no credit counted the share is not what fails (other rules say what is missing).
#[inline]
pub(super) fn share_holds(part: u32, whole: u32, percent: u32) -> bool {
    u64::from(part) * 100 >= u64::from(percent) * u64::from(whole)
}
