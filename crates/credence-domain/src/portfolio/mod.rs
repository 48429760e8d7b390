//! The portfolio of evidence and assessment decisions (issue 6): the domain rules only.
//!
//! Pure like the rest of the crate: no I/O, no clock, no randomness. Timestamps are
//! arguments; uploads, storage, the pages and the achievement-log PDF live in the `credence`
//! crate and call these.
//!
//! - [`evidence`]: evidence items, their kinds and where they come from (real workplace,
//!   realistic working environment, simulation).
//! - [`judgement`]: mapping evidence to criteria, assessors' judgements, the simulation rule
//!   and the status of one criterion (including OCR's "different occasions").
//! - [`occasions`]: evidence over time: the occasions and span of a criterion's evidence,
//!   and the centre's setting of how many occasions are sufficient.
//! - [`progress`]: criteria met of total, per unit and per learner.
//! - [`moves`]: a registration moved to a newer version: which judgements still count.
//! - [`signoff`]: the hash of a unit's evidence set, the assessor's and learner's signatures,
//!   and what may change once a unit is locked.
//! - [`marks`]: marked assessment (ISMM): weighted component marks, moderation, special
//!   consideration and the Fail/Pass/Merit/Distinction grade.

pub mod evidence;
pub mod judgement;
pub mod marks;
pub mod moves;
pub mod occasions;
pub mod progress;
pub mod signoff;

pub use evidence::{EvidenceItem, EvidenceKind, EvidenceSource};
pub use judgement::{
    CriterionStatus, Judgement, JudgementRefusal, Mapping, Outcome, SimulationRefusal,
    check_criterion, check_simulation, criterion_status,
};
pub use marks::{
    ComponentMark, ConsiderationKind, Grade, GradeResult, MarkError, SpecialConsideration, grade,
};
pub use moves::{VersionMove, judgement_counts, unit_progress_after_moves};
pub use occasions::{
    MAX_OCCASIONS, Occasion, OccasionsRefusal, check_occasions_setting, effective_occasions,
    occasions_of, occasions_words, span_days, span_words,
};
pub use progress::{LearnerProgress, UnitProgress, learner_progress, unit_progress};
pub use signoff::{
    EvidenceChange, LockRefusal, SignOffRefusal, Signature, SignerRole, can_sign,
    evidence_set_hash, is_locked, may_change_evidence, signed_off_hash,
};

/// A unit as messages name it: "unit L3B1 'Prospecting and lead generation'".
pub(crate) fn unit_name(unit: &crate::model::Unit) -> String {
    format!("unit {} '{}'", unit.ao_ref, unit.title)
}
