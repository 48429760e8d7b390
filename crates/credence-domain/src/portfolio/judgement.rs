//! Mapping evidence to criteria, assessors' judgements, and the status of one criterion.
//!
//! What is judged is [`Unit::judged_items`]: the ACs (`1.1`), or the LO itself (`1.1` in
//! ISMM's numbering) where a unit has no ACs.

use std::collections::BTreeSet;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};

use super::evidence::{EvidenceItem, EvidenceSource};
use super::unit_name;
use crate::model::{Simulation, Unit, UnitKey};

/// One item of evidence mapped to one criterion of one unit. An item maps to many criteria
/// across units and qualifications with one mapping each ("dual mapping").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mapping {
    /// [`EvidenceItem::id`].
    pub evidence: String,
    pub unit: UnitKey,
    /// The AC number (`1.2`), or the LO number where the LO itself is judged (ISMM).
    pub criterion: String,
    /// Where in the evidence the criterion is shown: "page 3", "04:12-06:30", "section 2".
    pub location: String,
}

/// An assessor's decision on one criterion.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Met,
    NotYetMet,
}

/// A judgement recorded by an assessor. Judgements are never edited: a new one is recorded,
/// and the latest (by `at`) is the one that counts.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    pub unit: UnitKey,
    /// AC number, or LO number where the LO is judged.
    pub criterion: String,
    pub outcome: Outcome,
    /// The assessor's person id.
    pub assessor: String,
    /// When it was recorded, RFC 3339 (`2026-03-01T10:15:00Z`).
    pub at: String,
    pub feedback: String,
    /// Met by recognised prior learning (recorded before assessment, on the RPL evidence).
    pub rpl: bool,
}

impl Judgement {
    /// `at` as an instant, if it is valid RFC 3339.
    pub fn instant(&self) -> Option<DateTime<FixedOffset>> {
        DateTime::parse_from_rfc3339(&self.at).ok()
    }
}

/// Where a criterion stands, as the portfolio page shows it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum CriterionStatus {
    /// No current (non-superseded) evidence is mapped and nothing is judged.
    NoEvidence,
    /// Evidence is mapped but not judged yet. `items` is the number of current items,
    /// `occasions` the number of distinct evidence dates among them.
    Evidenced { items: usize, occasions: usize },
    /// Met: judged met, with enough occasions where the unit asks for them.
    Met { by: String, at: String, rpl: bool },
    /// The latest judgement is "not yet met"; the assessor's feedback says what is missing.
    NotYetMet { feedback: String },
    /// Judged met, but the evidence comes from fewer occasions than the unit requires (OCR:
    /// "over a sufficient period of time on different occasions"), or no current evidence is
    /// left under the judgement (`need` is then 1).
    NeedsOccasions { have: usize, need: usize },
    /// Judged (at `judged_at`) against words an earlier version of the specification gave
    /// this criterion: the registration moved to a version whose words differ, so the
    /// judgement stays in the record but no longer counts until it is judged again (see
    /// [`super::moves`]).
    NeedsReassessment { judged_at: String },
}

impl CriterionStatus {
    pub fn is_met(&self) -> bool {
        matches!(self, CriterionStatus::Met { .. })
    }
}

/// Why evidence from a simulated setting may not be used for a unit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimulationRefusal {
    #[error(
        "simulation is not permitted for {unit}: its assessor guidance asks for evidence from real work; use evidence from the learner's real workplace"
    )]
    NotPermitted { unit: String },
    #[error(
        "simulation for {unit} must take place in a realistic working environment (RWE) that meets the specification's guidelines; this evidence comes from a simulation outside one"
    )]
    OutsideRealisticWorkingEnvironment { unit: String },
    #[error(
        "{unit} allows simulation only in exceptional circumstances (situations that do not occur naturally or readily, such as emergencies); record why this is one"
    )]
    NeedsExceptionalCircumstances { unit: String },
}

/// Why a judgement may not be recorded against a criterion.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JudgementRefusal {
    #[error(
        "'{criterion}' is not an assessment criterion of {unit}: assessors judge only against the specification's criteria ({known})"
    )]
    NotACriterion {
        unit: String,
        criterion: String,
        known: String,
    },
}

/// Whether evidence from `source` may be used for `unit`; checked when evidence is mapped to
/// the unit and again when it is judged.
///
/// Our reading (DOMAIN.md lines 76-78: "Simulation only for units whose assessor guidance
/// permits it, and only in a realistic working environment (RWE) ... L5 Advanced: simulation
/// only in exceptional circumstances"; seeds 000 line 445, 001 line 378, 002 lines 244-248):
///
/// | unit's policy | real workplace | RWE | simulation outside an RWE |
/// |---|---|---|---|
/// | `Permitted` | yes | yes | no |
/// | `ExceptionalOnly` | yes | only with a non-blank `justification` | no |
/// | `NotPermitted` | yes | no | no |
///
/// A realistic working environment is itself a simulated setting, so `NotPermitted` refuses it
/// too. `justification` is ignored except for `ExceptionalOnly` units. That simulation "should
/// only form a small part of the evidence" is guidance for the assessor and the IQA, not a
/// refusal here.
pub fn check_simulation(
    unit: &Unit,
    source: EvidenceSource,
    justification: Option<&str>,
) -> Result<(), SimulationRefusal> {
    if !source.is_simulated() {
        return Ok(());
    }
    let name = || unit_name(unit);
    if unit.simulation == Simulation::NotPermitted {
        return Err(SimulationRefusal::NotPermitted { unit: name() });
    }
    if source == EvidenceSource::Simulation {
        return Err(SimulationRefusal::OutsideRealisticWorkingEnvironment { unit: name() });
    }
    match unit.simulation {
        Simulation::ExceptionalOnly if justification.is_none_or(|j| j.trim().is_empty()) => {
            Err(SimulationRefusal::NeedsExceptionalCircumstances { unit: name() })
        }
        _ => Ok(()),
    }
}

/// Whether `criterion` is one of the unit's judged items (its ACs, or its LOs where it has no
/// ACs).
pub fn check_criterion(unit: &Unit, criterion: &str) -> Result<(), JudgementRefusal> {
    let items = unit.judged_items();
    if items.iter().any(|(n, _)| *n == criterion) {
        return Ok(());
    }
    Err(JudgementRefusal::NotACriterion {
        unit: unit_name(unit),
        criterion: criterion.to_string(),
        known: items.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", "),
    })
}

/// The latest judgement of `criterion` of `unit`: the greatest `at` instant; where instants
/// are equal, or `at` is not RFC 3339, the one later in the slice wins, and any judgement with
/// a valid `at` beats one without.
pub(crate) fn latest_judgement<'a>(
    unit: &str,
    criterion: &str,
    judgements: &'a [Judgement],
) -> Option<&'a Judgement> {
    judgements
        .iter()
        .enumerate()
        .filter(|(_, j)| j.unit == unit && j.criterion == criterion)
        .max_by_key(|(i, j)| (j.instant(), *i))
        .map(|(_, j)| j)
}

/// The current (non-superseded) evidence items mapped to `criterion` of `unit`, each once.
pub(crate) fn current_items<'a>(
    unit: &str,
    criterion: &str,
    mappings: &[Mapping],
    evidence: &'a [EvidenceItem],
) -> Vec<&'a EvidenceItem> {
    let mapped: BTreeSet<&str> = mappings
        .iter()
        .filter(|m| m.unit == unit && m.criterion == criterion)
        .map(|m| m.evidence.as_str())
        .collect();
    let mut seen = BTreeSet::new();
    evidence
        .iter()
        .filter(|e| e.is_current() && mapped.contains(e.id.as_str()))
        .filter(|e| seen.insert(e.id.as_str()))
        .collect()
}

/// Where `criterion` of `unit` stands.
///
/// - Only current items count: superseded items, and mappings naming no known item, are
///   ignored. (When an item is superseded, storage maps its replacement where it belongs.)
/// - Occasions are the distinct evidence dates among the current mapped items.
/// - The latest judgement wins (see [`Judgement`]). "Not yet met" shows its feedback.
/// - "Met" counts only with at least `unit.evidence_occasions` occasions (at least 1 when the
///   unit sets none: every AC must show where its evidence is), otherwise
///   [`CriterionStatus::NeedsOccasions`]. This holds for RPL too: prior learning reduces what
///   must be shown, but what is shown must still be sufficient.
pub fn criterion_status(
    unit: &Unit,
    criterion: &str,
    mappings: &[Mapping],
    judgements: &[Judgement],
    evidence: &[EvidenceItem],
) -> CriterionStatus {
    let items = current_items(&unit.key, criterion, mappings, evidence);
    let occasions = items.iter().map(|e| e.date).collect::<BTreeSet<_>>().len();
    match latest_judgement(&unit.key, criterion, judgements) {
        Some(j) if j.outcome == Outcome::NotYetMet => CriterionStatus::NotYetMet {
            feedback: j.feedback.clone(),
        },
        Some(j) => {
            let need = unit.evidence_occasions.unwrap_or(1).max(1) as usize;
            if occasions < need {
                CriterionStatus::NeedsOccasions {
                    have: occasions,
                    need,
                }
            } else {
                CriterionStatus::Met {
                    by: j.assessor.clone(),
                    at: j.at.clone(),
                    rpl: j.rpl,
                }
            }
        }
        None if items.is_empty() => CriterionStatus::NoEvidence,
        None => CriterionStatus::Evidenced {
            items: items.len(),
            occasions,
        },
    }
}
