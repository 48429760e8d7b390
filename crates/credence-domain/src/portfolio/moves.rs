//! A registration moved to a newer version of its specification (issue 14): which
//! judgements still count.
//!
//! The learner's judgements are keyed by unit and criterion, not by version, and they are
//! never edited or deleted. A move records when it happened and which judged items (unit and
//! number) had other words in the newer version, or are gone from it. A judgement of one of
//! those items recorded before the move stays in the record but no longer counts: the
//! criterion shows [`CriterionStatus::NeedsReassessment`] until an assessor judges it again
//! against the current words. Every other judgement carries over as it was. Keying on the
//! move's time rather than on a version stored with each judgement keeps every existing
//! judgement valid without a backfill, and composes: after two moves, a judgement counts
//! only if no move since it listed its criterion.

use serde::{Deserialize, Serialize};

use super::evidence::EvidenceItem;
use super::judgement::{CriterionStatus, Judgement, Mapping};
use super::progress::{UnitProgress, unit_progress};
use crate::model::{Unit, UnitKey};

/// A registration's move to a newer version: when, and the judged items (unit key, number)
/// whose words changed or that are gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionMove {
    /// When the move was made, RFC 3339.
    pub at: String,
    pub reassess: Vec<(UnitKey, String)>,
}

/// `a` is at or before `b` (RFC 3339 instants; text order when either does not parse).
fn at_or_before(a: &str, b: &str) -> bool {
    match (
        chrono::DateTime::parse_from_rfc3339(a),
        chrono::DateTime::parse_from_rfc3339(b),
    ) {
        (Ok(x), Ok(y)) => x <= y,
        _ => a <= b,
    }
}

/// Whether a judgement still counts: not when a move at or after it lists its criterion.
pub fn judgement_counts(j: &Judgement, moves: &[VersionMove]) -> bool {
    !moves.iter().any(|m| {
        at_or_before(&j.at, &m.at)
            && m.reassess
                .iter()
                .any(|(u, c)| *u == j.unit && *c == j.criterion)
    })
}

/// A unit's progress after moves: judgements that no longer count are left out, and a
/// criterion with nothing newer than them shows [`CriterionStatus::NeedsReassessment`]
/// (whatever evidence is mapped stays mapped). With no moves this is [`unit_progress`].
pub fn unit_progress_after_moves(
    unit: &Unit,
    mappings: &[Mapping],
    judgements: &[Judgement],
    evidence: &[EvidenceItem],
    moves: &[VersionMove],
) -> UnitProgress {
    let (counting, stale): (Vec<Judgement>, Vec<Judgement>) = judgements
        .iter()
        .cloned()
        .partition(|j| judgement_counts(j, moves));
    let mut progress = unit_progress(unit, mappings, &counting, evidence);
    for (number, status) in &mut progress.per_criterion {
        if !matches!(
            status,
            CriterionStatus::NoEvidence | CriterionStatus::Evidenced { .. }
        ) {
            continue;
        }
        let earlier = super::judgement::latest_judgement(&unit.key, number, &stale);
        if let Some(j) = earlier {
            *status = CriterionStatus::NeedsReassessment {
                judged_at: j.at.clone(),
            };
        }
    }
    progress
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::portfolio::{EvidenceKind, EvidenceSource, Outcome};

    /// The L3 seed's first unit, cut down to one outcome with three criteria.
    fn unit() -> Unit {
        let seed = include_bytes!("../../../../seeds/000_8453810380d6f4c5.txt");
        let mut u = crate::import::import(seed)
            .expect("the L3 seed imports")
            .specification
            .units
            .remove(0);
        u.key = "U1".into();
        u.evidence_occasions = None;
        u.learning_outcomes.truncate(1);
        u.learning_outcomes[0].criteria.truncate(3);
        for (i, c) in u.learning_outcomes[0].criteria.iter_mut().enumerate() {
            c.number = format!("1.{}", i + 1);
        }
        u
    }

    fn judged(criterion: &str, at: &str) -> Judgement {
        Judgement {
            unit: "U1".into(),
            criterion: criterion.into(),
            outcome: Outcome::Met,
            assessor: "7".into(),
            at: at.into(),
            feedback: String::new(),
            rpl: false,
        }
    }

    #[test]
    fn a_judgement_before_a_move_that_lists_it_no_longer_counts() {
        let u = unit();
        let evidence = vec![EvidenceItem {
            id: "1".into(),
            title: "Log".into(),
            date: chrono::NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date"),
            kind: EvidenceKind::Assignment,
            source: EvidenceSource::RealWorkplace,
            sha256: String::new(),
            size: 1,
            media_type: "text/plain".into(),
            superseded_by: None,
            supersede_reason: None,
        }];
        let mappings: Vec<Mapping> = ["1.1", "1.2", "1.3"]
            .iter()
            .map(|c| Mapping {
                evidence: "1".into(),
                unit: "U1".into(),
                criterion: (*c).into(),
                location: "p1".into(),
            })
            .collect();
        let judgements = vec![
            judged("1.1", "2026-03-02T10:00:00.000000Z"),
            judged("1.2", "2026-03-02T10:00:00.000000Z"),
            judged("1.3", "2026-03-02T10:00:00.000000Z"),
        ];
        let moves = vec![VersionMove {
            at: "2026-04-01T09:00:00.000000Z".into(),
            reassess: vec![("U1".into(), "1.2".into())],
        }];
        let before = unit_progress_after_moves(&u, &mappings, &judgements, &evidence, &[]);
        assert_eq!(before, unit_progress(&u, &mappings, &judgements, &evidence));
        assert_eq!(before.met, 3);
        let after = unit_progress_after_moves(&u, &mappings, &judgements, &evidence, &moves);
        assert_eq!(after.met, 2);
        assert!(!after.complete);
        assert_eq!(
            after.per_criterion[1].1,
            CriterionStatus::NeedsReassessment {
                judged_at: "2026-03-02T10:00:00.000000Z".into()
            }
        );
        assert!(after.per_criterion[0].1.is_met() && after.per_criterion[2].1.is_met());
        // Judged again after the move: it counts.
        let mut again = judgements.clone();
        again.push(judged("1.2", "2026-04-02T09:00:00.000000Z"));
        let redone = unit_progress_after_moves(&u, &mappings, &again, &evidence, &moves);
        assert!(redone.complete);
        // A second move that lists it again makes the new judgement stale too.
        let mut twice = moves.clone();
        twice.push(VersionMove {
            at: "2026-05-01T09:00:00.000000Z".into(),
            reassess: vec![("U1".into(), "1.2".into())],
        });
        let stale = unit_progress_after_moves(&u, &mappings, &again, &evidence, &twice);
        assert!(matches!(
            stale.per_criterion[1].1,
            CriterionStatus::NeedsReassessment { ref judged_at } if judged_at.starts_with("2026-04-02")
        ));
        // A move of another criterion or another unit changes nothing here.
        let other = vec![VersionMove {
            at: "2026-04-01T09:00:00.000000Z".into(),
            reassess: vec![("U2".into(), "1.2".into()), ("U1".into(), "9.9".into())],
        }];
        assert_eq!(
            unit_progress_after_moves(&u, &mappings, &judgements, &evidence, &other).met,
            3
        );
    }
}
