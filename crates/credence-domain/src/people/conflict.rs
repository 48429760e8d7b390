//! Conflicts of interest. Staff declare personal interests in learners (a relative, a line
//! manager...); no one with such an interest assesses, quality assures or moderates that
//! learner, and an IQA never verifies their own assessment decision.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What kind of personal interest a member of staff has in a learner.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InterestKind {
    Relative,
    LineManager,
    Friend,
    Colleague,
    Financial,
    /// Anything else, in the declarer's words.
    Other(String),
}

impl fmt::Display for InterestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InterestKind::Relative => f.write_str("relative"),
            InterestKind::LineManager => f.write_str("line manager"),
            InterestKind::Friend => f.write_str("friend"),
            InterestKind::Colleague => f.write_str("colleague"),
            InterestKind::Financial => f.write_str("financial interest"),
            InterestKind::Other(text) => write!(f, "{}", text.trim()),
        }
    }
}

/// A declared interest of a member of staff in a learner.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interest {
    /// The person id of the member of staff who declared it.
    pub staff: String,
    /// The learner id.
    pub learner: String,
    pub kind: InterestKind,
    #[serde(with = "super::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub declared_on: NaiveDate,
}

/// What someone would do with a learner's work.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activity {
    Assess,
    InternalQualityAssure,
    Moderate,
    ExternalQualityAssure,
}

impl Activity {
    /// The activity as a verb phrase: "assess", "internally quality assure".
    pub fn verb(self) -> &'static str {
        match self {
            Activity::Assess => "assess",
            Activity::InternalQualityAssure => "internally quality assure",
            Activity::Moderate => "moderate",
            Activity::ExternalQualityAssure => "externally quality assure",
        }
    }
    /// Who should do it instead: "assessor", "IQA".
    pub fn role_noun(self) -> &'static str {
        match self {
            Activity::Assess => "assessor",
            Activity::InternalQualityAssure => "IQA",
            Activity::Moderate => "moderator",
            Activity::ExternalQualityAssure => "EQA",
        }
    }
}

/// Why someone may not act.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConflictRefusal {
    #[error(
        "{staff} may not {} the work of learner {learner}: they declared an interest in this learner ({}) on {}; choose another {}",
        .activity.verb(),
        join_kinds(.kinds),
        crate::people::registration::uk_day(*.declared_on),
        .activity.role_noun()
    )]
    DeclaredInterest {
        staff: String,
        learner: String,
        activity: Activity,
        /// Every kind declared, in declaration order.
        kinds: Vec<InterestKind>,
        /// The earliest declaration.
        declared_on: NaiveDate,
    },
    #[error(
        "{iqa} may not verify this decision: it is their own assessment decision, and an IQA never verifies their own decisions; ask another IQA to sample it"
    )]
    OwnDecision { iqa: String },
}

fn join_kinds(kinds: &[InterestKind]) -> String {
    kinds
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `staff` may carry out `activity` on `learner`'s work, given every declared interest.
/// Any declared interest of that person in that learner refuses every activity.
pub fn may_act(
    staff: &str,
    learner: &str,
    activity: Activity,
    interests: &[Interest],
) -> Result<(), ConflictRefusal> {
    let mut kinds: Vec<InterestKind> = Vec::new();
    let mut earliest: Option<NaiveDate> = None;
    for i in interests
        .iter()
        .filter(|i| i.staff == staff && i.learner == learner)
    {
        if !kinds.contains(&i.kind) {
            kinds.push(i.kind.clone());
        }
        earliest = Some(earliest.map_or(i.declared_on, |e| e.min(i.declared_on)));
    }
    match earliest {
        None => Ok(()),
        Some(declared_on) => Err(ConflictRefusal::DeclaredInterest {
            staff: staff.to_string(),
            learner: learner.to_string(),
            activity,
            kinds,
            declared_on,
        }),
    }
}

/// Whether `iqa` may verify a decision made by `assessor_of_decision`: never their own.
pub fn may_verify(iqa: &str, assessor_of_decision: &str) -> Result<(), ConflictRefusal> {
    if iqa == assessor_of_decision {
        return Err(ConflictRefusal::OwnDecision {
            iqa: iqa.to_string(),
        });
    }
    Ok(())
}

/// Both checks an IQA's verification needs: not their own decision, and no declared interest
/// in the learner. Every refusal that applies, own decision first.
pub fn may_verify_decision(
    iqa: &str,
    assessor_of_decision: &str,
    learner: &str,
    interests: &[Interest],
) -> Result<(), Vec<ConflictRefusal>> {
    let refusals: Vec<ConflictRefusal> = [
        may_verify(iqa, assessor_of_decision),
        may_act(iqa, learner, Activity::InternalQualityAssure, interests),
    ]
    .into_iter()
    .filter_map(Result::err)
    .collect();
    if refusals.is_empty() {
        Ok(())
    } else {
        Err(refusals)
    }
}
