//! Progress: criteria met of total, for a unit and for a learner's units.

use serde::{Deserialize, Serialize};

use super::evidence::EvidenceItem;
use super::judgement::{CriterionStatus, Judgement, Mapping, criterion_status};
use crate::model::{Unit, UnitKey};

/// One unit's progress over [`Unit::judged_items`], in the specification's order.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitProgress {
    /// Criteria whose status is [`CriterionStatus::Met`].
    pub met: usize,
    /// Criteria judged in this unit.
    pub total: usize,
    /// Every criterion number with its status.
    pub per_criterion: Vec<(String, CriterionStatus)>,
    /// Every criterion met (and the unit has at least one).
    pub complete: bool,
}

impl UnitProgress {
    /// The criteria not met yet, in order: what a person sees as "missing".
    pub fn missing(&self) -> Vec<&str> {
        self.per_criterion
            .iter()
            .filter(|(_, s)| !s.is_met())
            .map(|(n, _)| n.as_str())
            .collect()
    }
}

/// A learner's progress over several units.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerProgress {
    /// Each unit, in the order given.
    pub units: Vec<(UnitKey, UnitProgress)>,
    /// Criteria met across all the units.
    pub met: usize,
    /// Criteria across all the units.
    pub total: usize,
    /// Units with every criterion met.
    pub complete_units: usize,
}

/// The progress of one unit; see [`criterion_status`] for what each status means.
pub fn unit_progress(
    unit: &Unit,
    mappings: &[Mapping],
    judgements: &[Judgement],
    evidence: &[EvidenceItem],
) -> UnitProgress {
    let per_criterion: Vec<(String, CriterionStatus)> = unit
        .judged_items()
        .into_iter()
        .map(|(number, _)| {
            (
                number.to_string(),
                criterion_status(unit, number, mappings, judgements, evidence),
            )
        })
        .collect();
    let met = per_criterion.iter().filter(|(_, s)| s.is_met()).count();
    let total = per_criterion.len();
    UnitProgress {
        met,
        total,
        per_criterion,
        complete: total > 0 && met == total,
    }
}

/// The progress of a learner over `units` (typically the units of the qualifications they are
/// registered on, each once). Mappings and judgements of other units are ignored.
pub fn learner_progress(
    units: &[&Unit],
    mappings: &[Mapping],
    judgements: &[Judgement],
    evidence: &[EvidenceItem],
) -> LearnerProgress {
    let units: Vec<(UnitKey, UnitProgress)> = units
        .iter()
        .map(|u| {
            (
                u.key.clone(),
                unit_progress(u, mappings, judgements, evidence),
            )
        })
        .collect();
    LearnerProgress {
        met: units.iter().map(|(_, p)| p.met).sum(),
        total: units.iter().map(|(_, p)| p.total).sum(),
        complete_units: units.iter().filter(|(_, p)| p.complete).count(),
        units,
    }
}
