//! Evidence items: what a learner or assessor uploads into the portfolio.
//!
//! The file itself lives in the object store; the domain sees its SHA-256, size and media
//! type. An item is never edited in place once a unit is signed off: it is superseded by a
//! new item, with a reason, and the old one is kept (issue 6, "Sign off").

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// The kinds of evidence the specifications list (DOMAIN.md, "Evidence and assessment";
/// issue 6, "Upload evidence").
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    Worksheet,
    /// Record of oral or written questioning.
    Questioning,
    /// Assignment, project or report.
    Assignment,
    /// Candidate or peer report.
    CandidateOrPeerReport,
    /// Record of professional discussion.
    ProfessionalDiscussion,
    /// Assessor observation checklist.
    ObservationChecklist,
    /// Witness testimony, with who the witness is.
    WitnessTestimony {
        witness_name: String,
        witness_role: String,
    },
    ReflectiveAccount,
    ProductEvidence,
    WorkBasedProject,
    /// Record of recognised prior learning.
    RplRecord,
    /// Anything else, described in the uploader's words.
    Other(String),
}

impl EvidenceKind {
    /// The kind's title as people read it on the portfolio page and the achievement log.
    /// `Other` shows its own description (or "Other" when that is blank).
    pub fn title(&self) -> &str {
        match self {
            EvidenceKind::Worksheet => "Worksheet",
            EvidenceKind::Questioning => "Record of oral or written questioning",
            EvidenceKind::Assignment => "Assignment, project or report",
            EvidenceKind::CandidateOrPeerReport => "Candidate or peer report",
            EvidenceKind::ProfessionalDiscussion => "Record of professional discussion",
            EvidenceKind::ObservationChecklist => "Observation checklist",
            EvidenceKind::WitnessTestimony { .. } => "Witness testimony",
            EvidenceKind::ReflectiveAccount => "Reflective account",
            EvidenceKind::ProductEvidence => "Product evidence",
            EvidenceKind::WorkBasedProject => "Work-based project",
            EvidenceKind::RplRecord => "Record of recognised prior learning (RPL)",
            EvidenceKind::Other(text) if !text.trim().is_empty() => text.trim(),
            EvidenceKind::Other(_) => "Other",
        }
    }

    /// The title with its details: "Witness testimony by Sam Lee (Sales manager)".
    pub fn describe(&self) -> String {
        match self {
            EvidenceKind::WitnessTestimony {
                witness_name,
                witness_role,
            } => format!("Witness testimony by {witness_name} ({witness_role})"),
            other => other.title().to_string(),
        }
    }
}

impl std::fmt::Display for EvidenceKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Where the evidence was produced.
///
/// The specifications say simulation "must be undertaken in a 'realistic working
/// environment' (RWE)" (seed 000 line 445, seed 001 line 378, seed 002 line 248; DOMAIN.md
/// lines 76-78). So:
/// - [`RealWorkplace`](EvidenceSource::RealWorkplace): real work; never a simulation.
/// - [`RealisticWorkingEnvironment`](EvidenceSource::RealisticWorkingEnvironment): a
///   simulation carried out in an RWE meeting the specification's guidelines; the only
///   simulated setting that can ever count.
/// - [`Simulation`](EvidenceSource::Simulation): a simulation outside an RWE (a role play in a
///   classroom, say); it never counts. See [`crate::portfolio::judgement::check_simulation`].
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceSource {
    RealWorkplace,
    RealisticWorkingEnvironment,
    Simulation,
}

impl EvidenceSource {
    pub fn title(self) -> &'static str {
        match self {
            EvidenceSource::RealWorkplace => "Real workplace",
            EvidenceSource::RealisticWorkingEnvironment => {
                "Simulation in a realistic working environment"
            }
            EvidenceSource::Simulation => "Simulation outside a realistic working environment",
        }
    }

    /// Whether the evidence comes from a simulation of any kind (RWE or not).
    pub fn is_simulated(self) -> bool {
        !matches!(self, EvidenceSource::RealWorkplace)
    }
}

/// One piece of evidence in a learner's portfolio.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceItem {
    /// Stable identifier, assigned by storage.
    pub id: String,
    pub title: String,
    /// The date the evidence was produced (the activity, not the upload). Distinct dates are
    /// the "occasions" OCR asks for.
    #[serde(with = "crate::people::iso_date")]
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = Date))]
    pub date: NaiveDate,
    pub kind: EvidenceKind,
    pub source: EvidenceSource,
    /// SHA-256 of the file's bytes, lowercase hex.
    pub sha256: String,
    /// Size of the file in bytes.
    pub size: u64,
    /// Media type as detected on upload (`application/pdf`, `video/mp4`).
    pub media_type: String,
    /// The id of the item that replaced this one, once superseded. A superseded item is kept
    /// but no longer counts as evidence.
    pub superseded_by: Option<String>,
    /// Why it was superseded.
    pub supersede_reason: Option<String>,
}

impl EvidenceItem {
    /// Whether the item still counts: it has not been superseded.
    pub fn is_current(&self) -> bool {
        self.superseded_by.is_none()
    }
}
