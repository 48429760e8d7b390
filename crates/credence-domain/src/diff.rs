//! What changed between two versions of a specification: qualifications, units, learning
//! outcomes and criteria added, removed or changed, each change with its old and new value.
//!
//! Things are matched by their stable keys: a qualification by QAN, a unit by its catalogue
//! key, a learning outcome by its unit and number, a criterion by its unit and number. A
//! change of a field is reported once per field (a unit whose credit and title both changed
//! gives two changes). The diff of a version against itself is empty.

use crate::model::{Qualification, Range, Specification, Unit, UnitKey};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What a change is about.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Qualification,
    Unit,
    LearningOutcome,
    Criterion,
}

/// Added, removed, or one field changed.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

/// One difference between two versions.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub kind: ChangeKind,
    pub subject: Subject,
    /// The thing, as people name it: "610/3788/6", "L3B1", "L3B1 LO2", "L3B1 AC 2.1".
    pub reference: String,
    /// The field that changed ("text", "credit", "glh", "tqt", "level", "title", "group in
    /// 610/3788/6", "rules"); `None` for an addition or removal.
    pub field: Option<String>,
    /// The old value (for a removal: what was removed); `None` for an addition.
    pub old: Option<String>,
    /// The new value (for an addition: what was added); `None` for a removal.
    pub new: Option<String>,
}

impl Change {
    /// The change in one sentence.
    pub fn sentence(&self) -> String {
        let what = match self.subject {
            Subject::Qualification => "Qualification",
            Subject::Unit => "Unit",
            Subject::LearningOutcome => "Learning outcome",
            Subject::Criterion => "Criterion",
        };
        match self.kind {
            ChangeKind::Added => format!(
                "{what} {} added: {}",
                self.reference,
                self.new.as_deref().unwrap_or("")
            ),
            ChangeKind::Removed => format!(
                "{what} {} removed (was: {})",
                self.reference,
                self.old.as_deref().unwrap_or("")
            ),
            ChangeKind::Changed => format!(
                "{what} {}: {} changed from \"{}\" to \"{}\"",
                self.reference,
                self.field.as_deref().unwrap_or("it"),
                self.old.as_deref().unwrap_or("none"),
                self.new.as_deref().unwrap_or("none")
            ),
        }
    }
}

fn range(r: &Range) -> String {
    match r.max {
        Some(max) if max == r.min => r.min.to_string(),
        Some(max) => format!("{} to {max}", r.min),
        None => format!("at least {}", r.min),
    }
}

fn opt<T: ToString>(v: Option<T>) -> Option<String> {
    v.map(|x| x.to_string())
}

struct Out(Vec<Change>);

impl Out {
    fn added(&mut self, subject: Subject, reference: String, new: String) {
        self.0.push(Change {
            kind: ChangeKind::Added,
            subject,
            reference,
            field: None,
            old: None,
            new: Some(new),
        });
    }
    fn removed(&mut self, subject: Subject, reference: String, old: String) {
        self.0.push(Change {
            kind: ChangeKind::Removed,
            subject,
            reference,
            field: None,
            old: Some(old),
            new: None,
        });
    }
    fn field(
        &mut self,
        subject: Subject,
        reference: &str,
        field: &str,
        old: Option<String>,
        new: Option<String>,
    ) {
        if old != new {
            self.0.push(Change {
                kind: ChangeKind::Changed,
                subject,
                reference: reference.to_string(),
                field: Some(field.to_string()),
                old,
                new,
            });
        }
    }
}

fn unit_name(u: &Unit) -> String {
    u.ofqual_ref
        .as_ref()
        .map_or_else(|| u.ao_ref.clone(), |r| format!("{} ({r})", u.ao_ref))
}

fn qualifications(out: &mut Out, a: &Specification, b: &Specification) {
    let old: BTreeMap<&str, &Qualification> = a
        .qualifications
        .iter()
        .map(|q| (q.qan.as_str(), q))
        .collect();
    let new: BTreeMap<&str, &Qualification> = b
        .qualifications
        .iter()
        .map(|q| (q.qan.as_str(), q))
        .collect();
    for (qan, q) in &old {
        if !new.contains_key(qan) {
            out.removed(Subject::Qualification, qan.to_string(), q.title.clone());
        }
    }
    for (qan, q) in &new {
        let Some(o) = old.get(qan) else {
            out.added(Subject::Qualification, qan.to_string(), q.title.clone());
            continue;
        };
        let s = Subject::Qualification;
        out.field(
            s,
            qan,
            "title",
            Some(o.title.clone()),
            Some(q.title.clone()),
        );
        out.field(
            s,
            qan,
            "level",
            Some(o.level.to_string()),
            Some(q.level.to_string()),
        );
        out.field(
            s,
            qan,
            "credit",
            Some(range(&o.credit)),
            Some(range(&q.credit)),
        );
        out.field(
            s,
            qan,
            "glh",
            o.glh.as_ref().map(range),
            q.glh.as_ref().map(range),
        );
        out.field(
            s,
            qan,
            "tqt",
            o.tqt.as_ref().map(range),
            q.tqt.as_ref().map(range),
        );
        if o.rules != q.rules || o.rules_text != q.rules_text {
            out.field(
                s,
                qan,
                "rules",
                Some(o.rules_text.join(" ")),
                Some(q.rules_text.join(" ")),
            );
        }
        // Units joining or leaving the qualification, and units moving between groups.
        let og: BTreeMap<&str, Option<&str>> = o
            .units
            .iter()
            .map(|u| (u.unit.as_str(), u.group.as_deref()))
            .collect();
        let ng: BTreeMap<&str, Option<&str>> = q
            .units
            .iter()
            .map(|u| (u.unit.as_str(), u.group.as_deref()))
            .collect();
        for (unit, group) in &ng {
            match og.get(unit) {
                None => out.field(
                    s,
                    qan,
                    &format!("unit {unit}"),
                    None,
                    Some(group.unwrap_or("in the qualification").to_string()),
                ),
                Some(g) => out.field(
                    Subject::Unit,
                    unit,
                    &format!("group in {qan}"),
                    g.map(str::to_string),
                    group.map(str::to_string),
                ),
            }
        }
        for (unit, group) in &og {
            if !ng.contains_key(unit) {
                out.field(
                    s,
                    qan,
                    &format!("unit {unit}"),
                    Some(group.unwrap_or("in the qualification").to_string()),
                    None,
                );
            }
        }
    }
}

fn units(out: &mut Out, a: &Specification, b: &Specification) {
    let old: BTreeMap<&str, &Unit> = a.units.iter().map(|u| (u.key.as_str(), u)).collect();
    let new: BTreeMap<&str, &Unit> = b.units.iter().map(|u| (u.key.as_str(), u)).collect();
    for (key, u) in &old {
        if !new.contains_key(key) {
            out.removed(Subject::Unit, unit_name(u), u.title.clone());
        }
    }
    for (key, u) in &new {
        let Some(o) = old.get(key) else {
            out.added(Subject::Unit, unit_name(u), u.title.clone());
            continue;
        };
        let name = unit_name(u);
        let s = Subject::Unit;
        out.field(
            s,
            &name,
            "title",
            Some(o.title.clone()),
            Some(u.title.clone()),
        );
        out.field(
            s,
            &name,
            "level",
            Some(o.level.to_string()),
            Some(u.level.to_string()),
        );
        out.field(s, &name, "credit", opt(o.credit), opt(u.credit));
        out.field(s, &name, "glh", opt(o.glh), opt(u.glh));
        out.field(s, &name, "tqt", opt(o.tqt), opt(u.tqt));
        // Learning outcomes and criteria, by number within the unit.
        let olo: BTreeMap<&str, _> = o
            .learning_outcomes
            .iter()
            .map(|l| (l.number.as_str(), l))
            .collect();
        let nlo: BTreeMap<&str, _> = u
            .learning_outcomes
            .iter()
            .map(|l| (l.number.as_str(), l))
            .collect();
        for (n, l) in &olo {
            if !nlo.contains_key(n) {
                out.removed(
                    Subject::LearningOutcome,
                    format!("{} LO{n}", u.ao_ref),
                    l.text.clone(),
                );
            }
        }
        for (n, l) in &nlo {
            let lo_ref = format!("{} LO{n}", u.ao_ref);
            let Some(ol) = olo.get(n) else {
                out.added(Subject::LearningOutcome, lo_ref, l.text.clone());
                continue;
            };
            out.field(
                Subject::LearningOutcome,
                &lo_ref,
                "text",
                Some(ol.text.clone()),
                Some(l.text.clone()),
            );
        }
        let oac: BTreeMap<&str, &str> = o
            .learning_outcomes
            .iter()
            .flat_map(|l| l.criteria.iter())
            .map(|c| (c.number.as_str(), c.text.as_str()))
            .collect();
        let nac: BTreeMap<&str, &str> = u
            .learning_outcomes
            .iter()
            .flat_map(|l| l.criteria.iter())
            .map(|c| (c.number.as_str(), c.text.as_str()))
            .collect();
        for (n, t) in &oac {
            if !nac.contains_key(n) {
                out.removed(
                    Subject::Criterion,
                    format!("{} AC {n}", u.ao_ref),
                    t.to_string(),
                );
            }
        }
        for (n, t) in &nac {
            let ac_ref = format!("{} AC {n}", u.ao_ref);
            match oac.get(n) {
                None => out.added(Subject::Criterion, ac_ref, t.to_string()),
                Some(ot) => out.field(
                    Subject::Criterion,
                    &ac_ref,
                    "text",
                    Some(ot.to_string()),
                    Some(t.to_string()),
                ),
            }
        }
    }
}

/// Every difference from version `a` to version `b` of a specification: qualifications
/// first, then units with their learning outcomes and criteria.
pub fn diff(a: &Specification, b: &Specification) -> Vec<Change> {
    let mut out = Out(Vec::new());
    qualifications(&mut out, a, b);
    units(&mut out, a, b);
    out.0
}

/// Why a judged criterion must be assessed again on a newer version.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReassessReason {
    /// The criterion is still there, with other words.
    WordsChanged,
    /// The unit is still there, without this criterion.
    CriterionRemoved,
    /// The unit is gone from the specification, or from the learner's qualification.
    UnitRemoved,
}

/// One judged item (a criterion, or a learning outcome judged itself) as a newer version
/// sees it: what must be re-assessed, and why.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reassessment {
    /// The unit's catalogue key.
    pub unit: UnitKey,
    /// The unit as people name it (its AO reference, `L3B1`).
    pub unit_ref: String,
    /// The criterion's number (`1.1`), or the learning outcome's where it is judged itself.
    pub criterion: String,
    pub reason: ReassessReason,
    /// The words the learner was judged against.
    pub old: String,
    /// The words in the newer version; `None` when the criterion or unit is gone.
    pub new: Option<String>,
}

impl Reassessment {
    /// The re-assessment in words: "L3B1 1.1: its words changed".
    pub fn words(&self) -> String {
        let why = match self.reason {
            ReassessReason::WordsChanged => "its words changed",
            ReassessReason::CriterionRemoved => "removed from the unit",
            ReassessReason::UnitRemoved => "its unit was removed",
        };
        format!("{} {}: {why}", self.unit_ref, self.criterion)
    }
}

/// Every judged item of `a` whose words changed or which is gone in `b`, by unit key and
/// number: the criteria (and learning outcomes judged themselves) [`diff`] reports as
/// `changed` (field `text`) or `removed`, and every item of a unit [`diff`] reports as
/// removed. An item not in the map is unchanged: its unit and number exist in both versions
/// with the same words.
pub fn judged_item_changes(
    a: &Specification,
    b: &Specification,
) -> BTreeMap<(UnitKey, String), Reassessment> {
    let mut out = BTreeMap::new();
    for u in &a.units {
        let new_unit = b.unit(&u.key);
        let new_items: BTreeMap<&str, &str> = new_unit
            .map(|n| n.judged_items().into_iter().collect())
            .unwrap_or_default();
        for (number, text) in u.judged_items() {
            let (reason, new) = match (new_unit, new_items.get(number)) {
                (None, _) => (ReassessReason::UnitRemoved, None),
                (Some(_), None) => (ReassessReason::CriterionRemoved, None),
                (Some(_), Some(t)) if *t != text => {
                    (ReassessReason::WordsChanged, Some(t.to_string()))
                }
                (Some(_), Some(_)) => continue,
            };
            out.insert(
                (u.key.clone(), number.to_string()),
                Reassessment {
                    unit: u.key.clone(),
                    unit_ref: u.ao_ref.clone(),
                    criterion: number.to_string(),
                    reason,
                    old: text.to_string(),
                    new,
                },
            );
        }
    }
    out
}

/// A learner's judged items on the programme `code` (a QAN, or a unit's Ofqual reference for
/// a unit taken on its own), sorted for a move from version `a` to version `b`: those that
/// stay as judged (unit and number in both, same words), and those that must be re-assessed
/// (words changed, criterion removed, or unit removed from the specification or from the
/// programme). Judged items outside the programme's units in `a`, or not items of their unit
/// in `a`, belong to no part of this registration's record and are left out of both.
pub fn reassessment(
    a: &Specification,
    b: &Specification,
    code: &str,
    judged: &[(UnitKey, String)],
) -> (Vec<(UnitKey, String)>, Vec<Reassessment>) {
    let old_units: Vec<UnitKey> = a
        .programme(code)
        .map(|q| q.units.iter().map(|u| u.unit.clone()).collect())
        .unwrap_or_default();
    let new_units: Vec<UnitKey> = b
        .programme(code)
        .map(|q| q.units.iter().map(|u| u.unit.clone()).collect())
        .unwrap_or_default();
    let changes = judged_item_changes(a, b);
    let mut unchanged = Vec::new();
    let mut again = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (unit_key, number) in judged {
        if !old_units.contains(unit_key) || !seen.insert((unit_key.clone(), number.clone())) {
            continue;
        }
        let Some(unit) = a.unit(unit_key) else {
            continue;
        };
        let Some((_, text)) = unit
            .judged_items()
            .into_iter()
            .find(|(n, _)| *n == number.as_str())
        else {
            continue;
        };
        if let Some(r) = changes.get(&(unit_key.clone(), number.clone())) {
            again.push(r.clone());
        } else if !new_units.contains(unit_key) {
            again.push(Reassessment {
                unit: unit_key.clone(),
                unit_ref: unit.ao_ref.clone(),
                criterion: number.clone(),
                reason: ReassessReason::UnitRemoved,
                old: text.to_string(),
                new: None,
            });
        } else {
            unchanged.push((unit_key.clone(), number.clone()));
        }
    }
    (unchanged, again)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AssessmentCriterion;

    fn l3() -> Specification {
        let seed = include_bytes!("../../../seeds/000_8453810380d6f4c5.txt");
        crate::import::import(seed)
            .expect("the L3 seed imports")
            .specification
    }

    #[test]
    fn a_version_against_itself_has_no_changes() {
        let s = l3();
        assert_eq!(diff(&s, &s), Vec::new());
    }

    #[test]
    fn each_edit_is_named_exactly_once_with_old_and_new() {
        let a = l3();
        let mut b = a.clone();
        // One criterion's words.
        let (ui, old_text, number) = {
            let ui = 0;
            let c = &mut b.units[ui].learning_outcomes[0].criteria[0];
            let old = c.text.clone();
            c.text = "Explain the sales process in your own organisation".into();
            (ui, old, c.number.clone())
        };
        let u0 = b.units[ui].ao_ref.clone();
        // One added criterion.
        b.units[1].learning_outcomes[0]
            .criteria
            .push(AssessmentCriterion {
                number: "9.9".into(),
                text: "Review a lost sale with a colleague".into(),
            });
        let u1 = b.units[1].ao_ref.clone();
        // One changed credit.
        let old_credit = b.units[2].credit;
        b.units[2].credit = Some(old_credit.unwrap_or(0) + 1);
        let u2 = unit_name(&b.units[2]);
        // One removed unit (from the catalogue and every qualification listing it).
        let gone = b.units.remove(3);
        for q in &mut b.qualifications {
            q.units.retain(|u| u.unit != gone.key);
        }
        let changes = diff(&a, &b);
        let words = changes
            .iter()
            .find(|c| c.subject == Subject::Criterion && c.kind == ChangeKind::Changed)
            .expect("the words");
        assert_eq!(words.reference, format!("{u0} AC {number}"));
        assert_eq!(words.old.as_deref(), Some(old_text.as_str()));
        let added = changes
            .iter()
            .find(|c| c.kind == ChangeKind::Added)
            .expect("the criterion");
        assert_eq!(added.reference, format!("{u1} AC 9.9"));
        let credit = changes
            .iter()
            .find(|c| c.field.as_deref() == Some("credit"))
            .expect("credit");
        assert_eq!(credit.reference, u2);
        assert_eq!(credit.old, old_credit.map(|c| c.to_string()));
        let removed = changes
            .iter()
            .find(|c| c.kind == ChangeKind::Removed)
            .expect("the unit");
        assert_eq!(removed.subject, Subject::Unit);
        assert_eq!(removed.reference, unit_name(&gone));
        // The removed unit also leaves each qualification that listed it; nothing else.
        let leaves = a
            .qualifications
            .iter()
            .filter(|q| q.units.iter().any(|u| u.unit == gone.key))
            .count();
        assert!(leaves > 0);
        assert_eq!(changes.len(), 4 + leaves, "{changes:#?}");
        assert!(changes.iter().all(|c| !c.sentence().is_empty()));
    }

    #[test]
    fn judged_item_changes_agree_with_the_diff_and_sort_a_learners_criteria() {
        let a = l3();
        let mut b = a.clone();
        let ui = b
            .units
            .iter()
            .position(|u| u.learning_outcomes.iter().all(|l| l.criteria.len() >= 2))
            .expect("a unit with two criteria in each outcome");
        let key = b.units[ui].key.clone();
        let changed = b.units[ui].learning_outcomes[0].criteria[0].number.clone();
        b.units[ui].learning_outcomes[0].criteria[0].text = "New words".into();
        let removed = b.units[ui].learning_outcomes[1].criteria.remove(1).number;
        let kept = b.units[ui].learning_outcomes[0].criteria[1].number.clone();
        let changes = judged_item_changes(&a, &b);
        let from_diff = diff(&a, &b)
            .into_iter()
            .filter(|c| c.subject == Subject::Criterion)
            .count();
        assert_eq!(changes.len(), 2);
        assert_eq!(changes.len(), from_diff);
        let words = &changes[&(key.clone(), changed.clone())];
        assert_eq!(words.reason, ReassessReason::WordsChanged);
        assert_eq!(words.new.as_deref(), Some("New words"));
        assert_eq!(
            changes[&(key.clone(), removed.clone())].reason,
            ReassessReason::CriterionRemoved
        );
        // A learner on a qualification with the unit, judged on all three.
        let q = a
            .qualifications
            .iter()
            .find(|q| q.units.iter().any(|u| u.unit == key))
            .expect("a qualification with the unit");
        let judged: Vec<(UnitKey, String)> = [&changed, &removed, &kept, &changed]
            .iter()
            .map(|n| (key.clone(), n.to_string()))
            .chain(std::iter::once((key.clone(), "99.9".to_string())))
            .collect();
        let (same, again) = reassessment(&a, &b, &q.qan, &judged);
        assert_eq!(same, vec![(key.clone(), kept.clone())]);
        let again: Vec<(&str, ReassessReason)> = again
            .iter()
            .map(|r| (r.criterion.as_str(), r.reason))
            .collect();
        assert_eq!(
            again,
            vec![
                (changed.as_str(), ReassessReason::WordsChanged),
                (removed.as_str(), ReassessReason::CriterionRemoved)
            ]
        );
        // The unit leaving the qualification: every judged item of it is re-assessed.
        let mut c = a.clone();
        for q2 in &mut c.qualifications {
            q2.units.retain(|u| u.unit != key);
        }
        let (same, again) = reassessment(&a, &c, &q.qan, &judged);
        assert!(same.is_empty());
        assert_eq!(again.len(), 3);
        assert!(
            again
                .iter()
                .all(|r| r.reason == ReassessReason::UnitRemoved)
        );
        // Against itself nothing is re-assessed.
        let (same, again) = reassessment(&a, &a, &q.qan, &judged);
        assert_eq!(same.len(), 3);
        assert!(again.is_empty());
    }
}
