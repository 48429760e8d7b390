//! Rules of combination: is a qualification achieved, what can a learner claim now, and the
//! shortest way to a qualification.
//!
//! The rules are data ([`crate::model::Requirement`]), never code per qualification
//! (DOMAIN.md, "Rules of combination"; issue 4, "What must hold": "Every rule kind in the seeds,
//! as data"). A qualification is compiled once into a [`CompiledQualification`]: its units are
//! numbered `0..n` and each requirement becomes bit masks over those numbers, so a check is a
//! handful of word operations with no allocation ([`CompiledQualification::achieved`]).
//!
//! Three questions are answered here (issue 4, "What a user can do"):
//!
//! 1. **Is it achieved?** [`CompiledQualification::evaluate`] / [`Catalogue::evaluate`]: yes, or
//!    no with every unmet requirement in plain words ([`Unmet`]). The claim is evaluated as
//!    given: every listed unit that belongs counts (so a claim over a maximum fails); a unit that
//!    does not belong is reported, not counted, and is no failure by itself; a unit listed twice
//!    counts once.
//! 2. **What can I claim now?** [`Catalogue::claimable`]: for every qualification, whether some
//!    subset of the learner's units meets it (the one with most credit), and otherwise how far.
//! 3. **What is the shortest way to X?** [`CompiledQualification::plan`] /
//!    [`Catalogue::plan`]: the further units with the fewest guided learning hours (ties: fewest
//!    credits, then fewest units, then the set holding the earliest unit key), found by an exact
//!    branch and bound, each with the reason it is chosen; or why no completion exists.
//!
//! Beyond the rules, "achieved" in the full sense also needs every learning outcome met,
//! assessor sign-off, IQA and the quality gates (DOMAIN.md): that is not this module's concern;
//! this module answers the rules of combination only.
//!
//! Pure: no I/O, no clock, no randomness. [`mod@bench`] takes its timer as an argument.

mod claim;
mod compiled;
mod explain;
mod plan;
mod set;

pub mod bench;
#[doc(hidden)]
pub mod fixtures;

pub use claim::{Claimable, Completion};
pub use compiled::{CompiledQualification, CompiledUnit};
pub use plan::{Plan, PlanRequest, PlanStatus, PlannedUnit};
pub use set::{MAX_UNITS, UnitSet, UnitSetIter};

use crate::model::{Qualification, Unit, UnitKey};
use serde::Serialize;
use std::collections::HashMap;

/// Why a qualification cannot be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("qualification {qan} names unit {unit}, which is not in the catalogue")]
    UnknownUnit { qan: String, unit: UnitKey },
    #[error(
        "qualification {qan} has {count} units; the rules engine handles at most {max} per qualification"
    )]
    TooManyUnits {
        qan: String,
        count: usize,
        max: usize,
    },
    #[error("no qualification {0} in the catalogue")]
    UnknownQualification(String),
}

/// Why a listed unit was not counted towards a qualification.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotCountedReason {
    /// The unit exists but is not one of this qualification's units.
    NotInQualification,
    /// No unit of the catalogue is known by this identifier.
    Unknown,
}

impl std::fmt::Display for NotCountedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NotCountedReason::NotInQualification => "not a unit of this qualification",
            NotCountedReason::Unknown => "no unit is known by this reference",
        })
    }
}

/// A listed unit that does not count, as the caller wrote it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotCounted {
    pub unit: String,
    pub reason: NotCountedReason,
}

/// Both readings of a "minimum share at or above a level" requirement (ISP L5: "Units selected
/// must equate to a minimum of 50% at Level 5 or above"). The rule is decided by credit
/// (DOMAIN.md: "we read this by credit value"); the unit-count reading is shown alongside.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LevelShare {
    /// Index of the requirement in [`Qualification::rules`].
    pub requirement: usize,
    pub level: u8,
    pub percent: u32,
    pub credit_at_level: u32,
    pub total_credit: u32,
    pub units_at_level: u32,
    pub total_units: u32,
    /// The rule as it is decided: by credit value. With no credit at all it holds vacuously.
    pub met_by_credit: bool,
    /// The other reading, by number of units, for information.
    pub met_by_unit_count: bool,
}

/// What exactly is unmet, as data. Messages are in [`Unmet::message`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UnmetKind {
    /// The qualification has no rules of combination recorded: it is never achieved by default.
    NoRules,
    CreditBelowMinimum {
        credit: u32,
        min: u32,
    },
    CreditAboveMaximum {
        credit: u32,
        max: u32,
    },
    TooFewUnitsInGroups {
        groups: Vec<String>,
        units: u32,
        min: u32,
    },
    TooLittleCreditInGroups {
        groups: Vec<String>,
        credit: u32,
        min: u32,
    },
    MissingMandatoryUnit {
        unit: UnitKey,
        ao_ref: String,
    },
    TooFewChosen {
        from: Vec<UnitKey>,
        units: u32,
        min: u32,
    },
    TooManyChosen {
        from: Vec<UnitKey>,
        units: u32,
        max: u32,
    },
    NoRouteComplete {
        routes: Vec<Vec<UnitKey>>,
    },
    ShareBelowMinimum(LevelShare),
}

/// One unmet requirement: which one, what, and in the user's words.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unmet {
    /// Index of the requirement in [`Qualification::rules`]; `None` for [`UnmetKind::NoRules`].
    pub requirement: Option<usize>,
    #[serde(flatten)]
    pub kind: UnmetKind,
    /// Plain words: "2 CORE units, needs at least 4", "12 credits, the minimum is 13".
    pub message: String,
}

/// The answer to "is it achieved?" for one claim.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evaluation {
    pub qan: String,
    pub achieved: bool,
    /// Units counted, each once, in the order first listed.
    pub counted: Vec<UnitKey>,
    /// Listed units that do not count (not part of the qualification, or unknown).
    pub not_counted: Vec<NotCounted>,
    /// Identifiers that named a unit already listed (counted once).
    pub duplicates: Vec<String>,
    pub total_credit: u32,
    pub total_glh: u32,
    /// Every unmet requirement, in the order of the qualification's rules. Empty when achieved.
    pub unmet: Vec<Unmet>,
    /// Both readings of every level-share requirement, met or not.
    pub level_shares: Vec<LevelShare>,
}

/// A catalogue's qualifications and units, indexed for lookups by key and by reference.
///
/// Units are found by [`UnitKey`], and a claim may name a unit by its key, its Ofqual
/// reference, its AO reference (`L3B1`) or another reference, case-insensitively.
pub struct Catalogue<'a> {
    qualifications: &'a [Qualification],
    by_key: HashMap<&'a str, &'a Unit>,
    by_ref: HashMap<String, &'a Unit>,
}

impl<'a> Catalogue<'a> {
    /// Index the catalogue. Where two units share a key, the first is used.
    pub fn new(qualifications: &'a [Qualification], units: &'a [Unit]) -> Self {
        let mut by_key = HashMap::with_capacity(units.len());
        let mut by_ref = HashMap::with_capacity(units.len() * 2);
        for u in units {
            by_key.entry(u.key.as_str()).or_insert(u);
        }
        for u in units {
            for r in std::iter::once(&u.key)
                .chain(u.ofqual_ref.iter())
                .chain(std::iter::once(&u.ao_ref))
                .chain(u.other_refs.iter())
            {
                by_ref.entry(normalise(r)).or_insert(u);
            }
        }
        Catalogue {
            qualifications,
            by_key,
            by_ref,
        }
    }

    pub fn qualifications(&self) -> &'a [Qualification] {
        self.qualifications
    }

    pub fn qualification(&self, qan: &str) -> Option<&'a Qualification> {
        self.qualifications.iter().find(|q| q.qan == qan.trim())
    }

    /// The unit with this key.
    pub fn unit(&self, key: &str) -> Option<&'a Unit> {
        self.by_key.get(key).copied()
    }

    /// The unit an identifier names: key, Ofqual reference, AO reference or other reference.
    pub fn resolve(&self, ident: &str) -> Option<&'a Unit> {
        self.unit(ident.trim())
            .or_else(|| self.by_ref.get(&normalise(ident)).copied())
    }

    /// Compile one qualification against this catalogue's units.
    pub fn compile(&self, q: &Qualification) -> Result<CompiledQualification, RulesError> {
        CompiledQualification::new(q, |k| self.unit(k))
    }

    fn compile_qan(&self, qan: &str) -> Result<CompiledQualification, RulesError> {
        let q = self
            .qualification(qan)
            .ok_or_else(|| RulesError::UnknownQualification(qan.trim().to_string()))?;
        self.compile(q)
    }

    /// Is the qualification achieved by this claim? (Question 1.) Listed identifiers that name
    /// no unit of the catalogue are reported as [`NotCountedReason::Unknown`].
    pub fn evaluate<S: AsRef<str>>(
        &self,
        qan: &str,
        claim: &[S],
    ) -> Result<Evaluation, RulesError> {
        let c = self.compile_qan(qan)?;
        Ok(c.evaluate_with(claim, &|id| self.resolve(id).is_some()))
    }

    /// The shortest way to the qualification. (Question 3.)
    pub fn plan(&self, qan: &str, request: &PlanRequest) -> Result<Plan, RulesError> {
        let c = self.compile_qan(qan)?;
        Ok(c.plan_request_with(request, &|id| self.resolve(id).is_some()))
    }

    /// For every qualification of the catalogue, in catalogue order: met or not with the
    /// learner's achieved units, the units to claim it with, or how far it is. (Question 2.)
    pub fn claimable<S: AsRef<str>>(&self, achieved: &[S]) -> Result<Vec<Claimable>, RulesError> {
        self.qualifications
            .iter()
            .map(|q| {
                let c = self.compile(q)?;
                Ok(c.claimable_with(achieved, &|id| self.resolve(id).is_some()))
            })
            .collect()
    }
}

/// Identifier normalisation for lookups: trimmed, ASCII lower case.
pub(crate) fn normalise(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}
