//! The portfolio of evidence: upload, mapping, judging, RPL, sign-off, achievement logs,
//! marks and transfers (issue 6). The rules are `credence_domain::portfolio`; this module
//! decides who may do what and keeps the database and the evidence store consistent.

mod assessment;
pub use assessment::{CENTRE_CONFIRMATION, LEARNER_DECLARATION, UnitDecision};
mod evidence;
mod logs;
mod marks;
pub mod plan;
mod transfers;
mod view;
pub(crate) use view::NOT_CURRENT;

use super::people::Actor;
use super::{App, AppError, AppResult};
use crate::evidence_store::{Stored, UploadError};
use crate::store::{
    EvidenceRow, JudgementRow, KsbRow, LearnerRow, MappingRow, NewEvidence, RegistrationRow,
    SignatureRow, TransferRow, UnitResultRow,
};
use axum::body::Bytes;
use credence_domain::model::{Grading, Qualification, QualificationSize, Specification, Unit};
use credence_domain::people::conflict::Activity;
use credence_domain::portfolio::{
    self, CriterionStatus, EvidenceChange, EvidenceItem, EvidenceKind, EvidenceSource, Judgement,
    LearnerProgress, Mapping, Outcome, Signature, SignerRole, UnitProgress,
};
use credence_domain::rules::Catalogue as RulesCatalogue;
use futures_util::Stream;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Evidence kinds as forms and the API name them, with their titles.
pub const KINDS: &[(&str, &str)] = &[
    ("worksheet", "Worksheet"),
    ("questioning", "Record of oral or written questioning"),
    ("assignment", "Assignment, project or report"),
    ("candidate_or_peer_report", "Candidate or peer report"),
    (
        "professional_discussion",
        "Record of professional discussion",
    ),
    ("observation_checklist", "Observation checklist"),
    ("witness_testimony", "Witness testimony"),
    ("reflective_account", "Reflective account"),
    ("product_evidence", "Product evidence"),
    ("work_based_project", "Work-based project"),
    ("rpl_record", "Record of recognised prior learning (RPL)"),
    ("other", "Other"),
];

/// Where evidence comes from, as forms and the API name it.
pub const SOURCES: &[(&str, &str)] = &[
    ("real_workplace", "Real workplace"),
    (
        "realistic_working_environment",
        "Simulation in a realistic working environment (RWE)",
    ),
    (
        "simulation",
        "Simulation outside a realistic working environment",
    ),
];

fn source_of(code: &str) -> Option<EvidenceSource> {
    match code {
        "real_workplace" => Some(EvidenceSource::RealWorkplace),
        "realistic_working_environment" => Some(EvidenceSource::RealisticWorkingEnvironment),
        "simulation" => Some(EvidenceSource::Simulation),
        _ => None,
    }
}

fn kind_of(row: &EvidenceRow) -> EvidenceKind {
    match row.kind.as_str() {
        "worksheet" => EvidenceKind::Worksheet,
        "questioning" => EvidenceKind::Questioning,
        "assignment" => EvidenceKind::Assignment,
        "candidate_or_peer_report" => EvidenceKind::CandidateOrPeerReport,
        "professional_discussion" => EvidenceKind::ProfessionalDiscussion,
        "observation_checklist" => EvidenceKind::ObservationChecklist,
        "witness_testimony" => EvidenceKind::WitnessTestimony {
            witness_name: row.witness_name.clone().unwrap_or_default(),
            witness_role: row.witness_role.clone().unwrap_or_default(),
        },
        "reflective_account" => EvidenceKind::ReflectiveAccount,
        "product_evidence" => EvidenceKind::ProductEvidence,
        "work_based_project" => EvidenceKind::WorkBasedProject,
        "rpl_record" => EvidenceKind::RplRecord,
        _ => EvidenceKind::Other(row.kind_other.clone().unwrap_or_default()),
    }
}

/// What a person says about a file they upload.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct EvidenceMeta {
    pub title: String,
    /// When the evidence was produced: YYYY-MM-DD, or DD/MM/YYYY as people in the UK type it
    /// (stored as YYYY-MM-DD).
    pub date: String,
    /// One of the kinds (see `KINDS`): `worksheet`, `witness_testimony`, `other`...
    pub kind: String,
    /// Describes the evidence when `kind` is `other`.
    #[serde(default)]
    pub kind_other: Option<String>,
    /// Required for witness testimony.
    #[serde(default)]
    pub witness_name: Option<String>,
    #[serde(default)]
    pub witness_role: Option<String>,
    /// `real_workplace`, `realistic_working_environment` or `simulation`.
    pub source: String,
    /// Why simulation was needed, for units that allow it only in exceptional circumstances.
    #[serde(default)]
    pub simulation_note: Option<String>,
    /// The file's name as uploaded (for display only).
    #[serde(default)]
    pub file_name: String,
}

fn blank(s: &Option<String>) -> bool {
    s.as_deref().is_none_or(|v| v.trim().is_empty())
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

impl EvidenceMeta {
    /// The date as stored, YYYY-MM-DD, whichever way it was typed (the registration form's
    /// parser); as given when it is not a date, which [`EvidenceMeta::problems`] reports.
    pub fn iso_date(&self) -> String {
        credence_domain::people::registration::parse_date(&self.date)
            .map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_else(|_| self.date.trim().to_string())
    }

    /// Every problem with what was given, by field.
    pub fn problems(&self, today: chrono::NaiveDate) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.title.trim().is_empty() {
            out.push(("title", "Enter a title for the evidence".to_string()));
        } else if self.title.chars().count() > 200 {
            out.push(("title", "The title must be 200 characters or fewer".into()));
        }
        match credence_domain::people::registration::parse_date(&self.date) {
            Ok(d) if d > today => out.push((
                "date",
                "The date the evidence was produced cannot be in the future".into(),
            )),
            Ok(_) => {}
            Err(_) if self.date.trim().is_empty() => out.push((
                "date",
                "Enter the date the evidence was produced, for example 02/11/2026 or 2026-11-02"
                    .into(),
            )),
            Err(why) => out.push(("date", format!("Date the evidence was produced: {why}"))),
        }
        if !KINDS.iter().any(|(c, _)| *c == self.kind) {
            out.push(("kind", "Choose the kind of evidence".into()));
        }
        if self.kind == "witness_testimony"
            && (blank(&self.witness_name) || blank(&self.witness_role))
        {
            out.push((
                "witness_name",
                "Enter the witness's name and their role (for example 'Sam Lee, sales manager')"
                    .into(),
            ));
        }
        if self.kind == "other" && blank(&self.kind_other) {
            out.push((
                "kind_other",
                "Describe what kind of evidence this is".into(),
            ));
        }
        if source_of(&self.source).is_none() {
            out.push((
                "source",
                "Choose where the evidence comes from: the real workplace, a realistic working environment, or a simulation".into(),
            ));
        }
        out
    }
}

/// The file name to show and offer for download: the last path segment, without control
/// characters, at most 150 characters. Never used as a path.
/// The longest feedback or comment accepted on a decision or signature, in characters.
pub const MAX_FEEDBACK_CHARS: usize = 10_000;

pub fn display_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let clean: String = base
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(150)
        .collect();
    let clean = clean.trim().trim_start_matches('.').to_string();
    if clean.is_empty() {
        "evidence".into()
    } else {
        clean
    }
}

/// The media type from the file name's extension, from a fixed list; anything else is
/// `application/octet-stream`. What the browser sends is not trusted.
pub fn media_type_for(file_name: &str) -> &'static str {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => "application/pdf",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "mp4" | "m4v" => "video/mp4",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mp3" => "audio/mpeg",
        "m4a" => "audio/mp4",
        "wav" => "audio/wav",
        "ogg" | "oga" => "audio/ogg",
        "txt" => "text/plain",
        "csv" => "text/csv",
        "doc" => "application/msword",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xls" => "application/vnd.ms-excel",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "ppt" => "application/vnd.ms-powerpoint",
        "pptx" => "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "odt" => "application/vnd.oasis.opendocument.text",
        _ => "application/octet-stream",
    }
}

/// Whether a browser may show the file in place (never HTML, SVG or anything scriptable).
pub fn shown_inline(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/pdf" | "image/png" | "image/jpeg" | "image/gif" | "image/webp" | "text/plain"
    ) || media_type.starts_with("audio/")
        || media_type.starts_with("video/")
}

/// How many occasions a unit's criteria need, and the occasions each has (issue 17).
#[derive(Debug, Clone)]
pub struct OccasionsRule {
    /// What each criterion needs: the centre's setting, else the specification's minimum.
    pub need: u32,
    /// The specification's minimum.
    pub minimum: u32,
    /// The centre's setting, where it recorded one.
    pub setting: Option<crate::store::OccasionsSettingRow>,
    /// Each judged item's occasions (current evidence only), oldest first.
    pub by_criterion: BTreeMap<String, Vec<portfolio::Occasion>>,
}

/// One unit as the learner's portfolio shows it.
#[derive(Debug, Clone)]
pub struct PortfolioUnit {
    /// The unit as the learner's registration has it, with `evidence_occasions` the number
    /// that counts at the centre (see [`OccasionsRule`]).
    pub unit: Unit,
    /// Where the unit asks for evidence on different occasions.
    pub occasions: Option<OccasionsRule>,
    /// The qualifications of the learner's that list it, with its group there.
    pub in_qualifications: Vec<(String, Option<String>)>,
    pub progress: UnitProgress,
    /// Every current item mapped to each criterion, with its location.
    pub evidence_by_criterion: BTreeMap<String, Vec<(i64, String)>>,
    pub signatures: Vec<SignatureRow>,
    /// The learner's declarations and the centre's confirmations that the evidence is
    /// authentic, oldest first (where the AO asks for them: `unit.centre_authentication`).
    pub authentications: Vec<crate::store::AuthenticationRow>,
    /// The learner's latest declaration is on the evidence as it is now.
    pub declared_current: bool,
    /// The centre's latest confirmation is on the evidence as it is now.
    pub confirmed_current: bool,
    /// The hash of the evidence set as it is now.
    pub current_hash: String,
    /// Signed off by assessor and learner on the same evidence, at any time: the evidence
    /// under it is superseded, never deleted, even after a referral reopened the unit.
    pub locked: bool,
    /// Signed off now: a sign-off that no IQA referral has withdrawn. Decisions are final
    /// and the unit counts towards claims.
    pub signed_off: bool,
    /// Signed off once, and reopened by an IQA's referral: the assessor re-judges, both sign
    /// again.
    pub reopened: bool,
    /// Signed off, and the evidence has not changed since.
    pub signed_off_current: bool,
    pub results: Vec<UnitResultRow>,
    /// In the learner's plan (chosen, else proposed) for one of their qualifications: only
    /// these count towards progress.
    pub in_plan: bool,
    /// Something was done on it: evidence mapped, a decision, a signature. Shown even when
    /// outside the plan, so no work is hidden.
    pub has_work: bool,
}

impl PortfolioUnit {
    /// Authenticated as the AO asks: the learner declared the work their own and the centre
    /// confirmed it authentic, both on the evidence as it is now. Always true for a unit
    /// whose AO does not ask for it.
    pub fn authenticated(&self) -> bool {
        !self.unit.centre_authentication || (self.declared_current && self.confirmed_current)
    }
}

/// The units a registration's learner takes: chosen by the centre or the learner, or else
/// the planner's shortest proposal.
#[derive(Debug, Clone)]
pub struct QualificationPlan {
    /// Unit keys, in the qualification's order.
    pub units: Vec<String>,
    /// Chosen (by whom, when); `None` when this is the planner's proposal.
    pub chosen: Option<(Option<String>, String)>,
    /// When the planner finds no way to the qualification, why (in words).
    pub why_not: Vec<String>,
}

/// A learner's qualification in the portfolio.
#[derive(Debug, Clone)]
pub struct PortfolioQualification {
    pub registration: RegistrationRow,
    pub qualification: Qualification,
    pub spec: Arc<Specification>,
    pub plan: QualificationPlan,
}

/// A learner's portfolio as computed from the store: the same for everyone who sees the same
/// registrations up to the same moment, so a server keeps it while the learner's stamp holds.
#[derive(Debug, Clone)]
pub struct PortfolioCore {
    /// What it was computed from: the learner's stamp, the registrations seen, the end of
    /// the view. Equal keys, equal portfolios.
    pub key: String,
    pub qualifications: Vec<PortfolioQualification>,
    pub units: Vec<PortfolioUnit>,
    pub evidence: Vec<EvidenceRow>,
    pub mappings: Vec<MappingRow>,
    pub ksbs: Vec<KsbRow>,
    pub judgements: Vec<JudgementRow>,
    /// Replies on criteria's feedback (the thread beside each decision's feedback).
    pub replies: Vec<crate::store::ReplyRow>,
    pub progress: LearnerProgress,
    /// Qualifications the signed-off units achieve already.
    pub achieved: Vec<(String, String)>,
    pub transfers: Vec<TransferRow>,
}

/// A learner's whole portfolio as one person may see it.
#[derive(Debug, Clone)]
pub struct Portfolio {
    pub core: Arc<PortfolioCore>,
    pub learner: LearnerRow,
    /// What the viewer may do.
    pub may_add: bool,
    pub may_assess: bool,
    pub is_learner: bool,
    /// Set when the viewer's centre keeps only its record up to a transfer.
    pub record_until: Option<String>,
    /// The learner's portfolio stamp this view was made from: a change states it, and is
    /// refused if someone else changed the portfolio since.
    pub stamp: i64,
}

impl std::ops::Deref for Portfolio {
    type Target = PortfolioCore;
    fn deref(&self) -> &PortfolioCore {
        &self.core
    }
}

impl PortfolioCore {
    pub fn unit(&self, key: &str) -> Option<&PortfolioUnit> {
        self.units.iter().find(|u| u.unit.key == key)
    }
    pub fn item(&self, id: i64) -> Option<&EvidenceRow> {
        self.evidence.iter().find(|e| e.evidence_id == id)
    }
    /// Units an item is mapped to that are signed off.
    pub fn locked_units_of(&self, evidence_id: i64) -> Vec<String> {
        let units: BTreeSet<&str> = self
            .mappings
            .iter()
            .filter(|m| m.evidence_id == evidence_id)
            .map(|m| m.unit_key.as_str())
            .collect();
        self.units
            .iter()
            .filter(|u| u.locked && units.contains(u.unit.key.as_str()))
            .map(|u| u.unit.ao_ref.clone())
            .collect()
    }
}

/// Everything stored in a learner's portfolio, as loaded from the database.
#[derive(Debug, Clone, Default)]
pub struct PortfolioRows {
    pub evidence: Vec<EvidenceRow>,
    pub mappings: Vec<MappingRow>,
    pub ksbs: Vec<KsbRow>,
    pub judgements: Vec<JudgementRow>,
    pub signatures: Vec<SignatureRow>,
    pub results: Vec<UnitResultRow>,
    pub transfers: Vec<TransferRow>,
    pub plans: Vec<crate::store::LearningPlanRow>,
    pub replies: Vec<crate::store::ReplyRow>,
    pub authentications: Vec<crate::store::AuthenticationRow>,
    /// The learner's registrations moved to newer versions: judgements of the criteria a
    /// move lists, recorded before it, no longer count.
    pub moves: Vec<credence_domain::portfolio::VersionMove>,
}

/// The rows a view keeps (a centre the learner left sees its record up to the transfer).
fn kept<T: Clone>(rows: &[T], keep: impl Fn(&T) -> bool) -> Vec<T> {
    rows.iter().filter(|r| keep(r)).cloned().collect()
}

/// Portfolios kept in memory, per server and per kind (rows, computed, rendered): enough for
/// the learners being worked on at once, bounded so a large portfolio (a few hundred KB)
/// cannot make the cache large; beyond this many it starts again.
pub const PORTFOLIO_CACHE_SIZE: usize = 256;

fn to_item(e: &EvidenceRow) -> EvidenceItem {
    EvidenceItem {
        id: e.evidence_id.to_string(),
        title: e.title.clone(),
        date: chrono::NaiveDate::parse_from_str(&e.evidence_date, "%Y-%m-%d").unwrap_or_default(),
        kind: kind_of(e),
        source: source_of(&e.source).unwrap_or(EvidenceSource::Simulation),
        sha256: e.sha256.clone(),
        size: u64::try_from(e.size).unwrap_or(0),
        media_type: e.media_type.clone(),
        superseded_by: e.superseded_by.map(|s| s.to_string()),
        supersede_reason: e.supersede_reason.clone(),
    }
}

fn to_mapping(m: &MappingRow) -> Mapping {
    Mapping {
        evidence: m.evidence_id.to_string(),
        unit: m.unit_key.clone(),
        criterion: m.criterion.clone(),
        location: m.location.clone(),
    }
}

fn to_judgement(j: &JudgementRow) -> Judgement {
    Judgement {
        unit: j.unit_key.clone(),
        criterion: j.criterion.clone(),
        outcome: if j.outcome == "met" {
            Outcome::Met
        } else {
            Outcome::NotYetMet
        },
        assessor: j.assessor_name.clone(),
        at: j.at.clone(),
        feedback: j.feedback.clone(),
        rpl: j.rpl != 0,
    }
}

pub(crate) fn to_signature(s: &SignatureRow) -> Signature {
    Signature {
        role: if s.role == "assessor" {
            SignerRole::Assessor
        } else {
            SignerRole::Learner
        },
        person: s.person_id.to_string(),
        at: s.at.clone(),
        comments: s.comments.clone(),
        evidence_hash: s.evidence_hash.clone(),
    }
}

/// The title of a qualification's achievement log.
pub fn log_title(q: &Qualification) -> &'static str {
    match q.size {
        QualificationSize::Award => "Achievement log: Award",
        _ => "Achievement log: Certificate and Diploma",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploaded_file_names_are_names_never_paths() {
        assert_eq!(display_file_name("../../etc/passwd"), "passwd");
        assert_eq!(display_file_name("C:\\Users\\sam\\call.mp4"), "call.mp4");
        assert_eq!(display_file_name(".hidden"), "hidden");
        assert_eq!(display_file_name("a\"b\u{7}c.pdf"), "abc.pdf");
        assert_eq!(display_file_name("/"), "evidence");
        assert_eq!(display_file_name(&"x".repeat(500)).chars().count(), 150);
    }

    #[test]
    fn media_types_come_from_a_fixed_list_and_scriptable_ones_never_show_inline() {
        assert_eq!(media_type_for("Observation.PDF"), "application/pdf");
        assert_eq!(media_type_for("call.mp4"), "video/mp4");
        for risky in [
            "page.html",
            "image.svg",
            "x.xhtml",
            "script.js",
            "noextension",
        ] {
            assert_eq!(media_type_for(risky), "application/octet-stream", "{risky}");
            assert!(!shown_inline(media_type_for(risky)), "{risky}");
        }
        assert!(shown_inline("image/png") && shown_inline("video/mp4"));
        assert!(!shown_inline("text/html") && !shown_inline("image/svg+xml"));
    }

    fn meta() -> EvidenceMeta {
        EvidenceMeta {
            title: "Observed call".into(),
            date: "2026-11-02".into(),
            kind: "observation_checklist".into(),
            source: "real_workplace".into(),
            file_name: "call.pdf".into(),
            ..EvidenceMeta::default()
        }
    }

    #[test]
    fn the_evidence_date_is_read_as_people_in_the_uk_type_it() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        for typed in ["02/11/2026", "2/11/2026", "2026-11-02", " 02.11.2026 "] {
            let m = EvidenceMeta {
                date: typed.into(),
                ..meta()
            };
            assert!(m.problems(today).is_empty(), "{typed}");
            assert_eq!(m.iso_date(), "2026-11-02", "{typed}");
        }
        for (typed, says) in [
            ("", "Enter the date the evidence was produced"),
            ("31/02/2026", "Date the evidence was produced:"),
            ("02/11/26", "two-digit year"),
            ("24/11/2026", "cannot be in the future"),
        ] {
            let m = EvidenceMeta {
                date: typed.into(),
                ..meta()
            };
            let p = m.problems(today);
            assert_eq!(p.len(), 1, "{typed}: {p:?}");
            assert!(p[0].1.contains(says), "{typed}: {}", p[0].1);
        }
    }

    #[test]
    fn evidence_details_are_checked_field_by_field() {
        let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        assert!(meta().problems(today).is_empty());
        let fields = |m: EvidenceMeta| {
            m.problems(today)
                .into_iter()
                .map(|(f, _)| f)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fields(EvidenceMeta {
                title: " ".into(),
                ..meta()
            }),
            ["title"]
        );
        assert_eq!(
            fields(EvidenceMeta {
                date: "2026-12-01".into(),
                ..meta()
            }),
            ["date"]
        );
        assert_eq!(
            fields(EvidenceMeta {
                date: "2/11/26".into(),
                ..meta()
            }),
            ["date"]
        );
        assert_eq!(
            fields(EvidenceMeta {
                kind: "video".into(),
                ..meta()
            }),
            ["kind"]
        );
        assert_eq!(
            fields(EvidenceMeta {
                source: "home".into(),
                ..meta()
            }),
            ["source"]
        );
        // A witness testimony names the witness and their role; "other" says what it is.
        let witness = EvidenceMeta {
            kind: "witness_testimony".into(),
            witness_name: Some("Dana Whitfield".into()),
            ..meta()
        };
        assert_eq!(fields(witness.clone()), ["witness_name"]);
        assert!(
            fields(EvidenceMeta {
                witness_role: Some("Sales director".into()),
                ..witness
            })
            .is_empty()
        );
        assert_eq!(
            fields(EvidenceMeta {
                kind: "other".into(),
                ..meta()
            }),
            ["kind_other"]
        );
    }
}
