//! The portfolio of evidence: upload, mapping, judging, RPL, sign-off, achievement logs,
//! marks and transfers (issue 6). The rules are `credence_domain::portfolio`; this module
//! decides who may do what and keeps the database and the evidence store consistent.

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
    /// When the evidence was produced, YYYY-MM-DD.
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
    /// Every problem with what was given, by field.
    pub fn problems(&self, today: chrono::NaiveDate) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if self.title.trim().is_empty() {
            out.push(("title", "Enter a title for the evidence".to_string()));
        } else if self.title.chars().count() > 200 {
            out.push(("title", "The title must be 200 characters or fewer".into()));
        }
        match chrono::NaiveDate::parse_from_str(self.date.trim(), "%Y-%m-%d") {
            Ok(d) if d > today => out.push((
                "date",
                "The date the evidence was produced cannot be in the future".into(),
            )),
            Ok(_) => {}
            Err(_) => out.push((
                "date",
                "Enter the date the evidence was produced, as YYYY-MM-DD (for example 2026-11-02)"
                    .into(),
            )),
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

/// One unit as the learner's portfolio shows it.
#[derive(Debug, Clone)]
pub struct PortfolioUnit {
    pub unit: Unit,
    /// The qualifications of the learner's that list it, with its group there.
    pub in_qualifications: Vec<(String, Option<String>)>,
    pub progress: UnitProgress,
    /// Every current item mapped to each criterion, with its location.
    pub evidence_by_criterion: BTreeMap<String, Vec<(i64, String)>>,
    pub signatures: Vec<SignatureRow>,
    /// The hash of the evidence set as it is now.
    pub current_hash: String,
    /// Signed off by assessor and learner on the same evidence.
    pub locked: bool,
    /// Signed off, and the evidence has not changed since.
    pub signed_off_current: bool,
    pub results: Vec<UnitResultRow>,
}

/// A learner's qualification in the portfolio.
#[derive(Debug, Clone)]
pub struct PortfolioQualification {
    pub registration: RegistrationRow,
    pub qualification: Qualification,
    pub spec: Arc<Specification>,
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

fn to_signature(s: &SignatureRow) -> Signature {
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

impl App {
    /// A published specification by its catalogue version (registrations stay on the
    /// version they registered on).
    pub async fn specification_of_version(&self, id: i64) -> AppResult<Arc<Specification>> {
        if let Some(s) = self
            .published_cache
            .read()
            .map_err(|_| AppError::Internal("catalogue cache poisoned".into()))?
            .get(&id)
            .cloned()
        {
            return Ok(s);
        }
        let docs = self
            .store
            .version_documents(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("catalogue version {id}")))?;
        let spec: Arc<Specification> = Arc::new(serde_json::from_str(&docs.specification_json)?);
        self.published_cache
            .write()
            .map_err(|_| AppError::Internal("catalogue cache poisoned".into()))?
            .insert(id, spec.clone());
        Ok(spec)
    }

    /// An audit entry about a learner's portfolio, by `actor`.
    fn learner_entry(
        actor: &Actor,
        address: &str,
        action: &str,
        learner_id: i64,
        centre: Option<i64>,
        detail: serde_json::Value,
    ) -> crate::store::AuditDraft {
        Self::entry_by(
            actor,
            Some(address),
            action,
            &format!("learner {learner_id}"),
            centre,
            Some(learner_id),
            detail,
        )
    }

    /// The learner's stored portfolio. Every change bumps the learner's stamp in the same
    /// transaction, so what this server loaded before is used while the stamp is unchanged
    /// (one small query), and any number of servers agree.
    pub async fn portfolio_rows(&self, learner_id: i64) -> AppResult<(i64, Arc<PortfolioRows>)> {
        let stamp = self.store.portfolio_stamp(learner_id).await?;
        if let Some((at, rows)) = self
            .portfolio_cache
            .read()
            .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?
            .get(&learner_id)
            && *at == stamp
        {
            return Ok((stamp, rows.clone()));
        }
        let rows = Arc::new(PortfolioRows {
            evidence: self.store.evidence_of_learner(learner_id).await?,
            mappings: self.store.mappings_of_learner(learner_id).await?,
            ksbs: self.store.ksbs_of_learner(learner_id).await?,
            judgements: self.store.judgements_of_learner(learner_id).await?,
            signatures: self.store.signatures_of_learner(learner_id).await?,
            results: self.store.unit_results_of_learner(learner_id).await?,
            transfers: self.store.transfers_of_learner(learner_id).await?,
        });
        let mut cache = self
            .portfolio_cache
            .write()
            .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?;
        if cache.len() >= PORTFOLIO_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(learner_id, (stamp, rows.clone()));
        Ok((stamp, rows))
    }

    /// Whether the actor is an assessor assigned to one of the learner's current
    /// registrations. Declared interests refuse it with the reason.
    async fn assessing(
        &self,
        actor: &Actor,
        learner_id: i64,
    ) -> AppResult<Option<RegistrationRow>> {
        let regs = self.store.registrations_of_learner(learner_id).await?;
        for r in regs.into_iter().filter(|r| r.status != "transferred") {
            let assigned = self
                .store
                .assignments(r.registration_id)
                .await?
                .iter()
                .any(|a| a.person_id == actor.person_id && a.role == "assessor");
            if assigned && actor.centre_roles(r.centre_id).contains(&"assessor") {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// Refuse unless the actor is an assessor assigned to the learner with no declared
    /// interest in them.
    async fn require_assessor(&self, actor: &Actor, learner_id: i64) -> AppResult<RegistrationRow> {
        let Some(reg) = self.assessing(actor, learner_id).await? else {
            return Err(AppError::Forbidden(
                "Only an assessor assigned to this learner may do this. A centre administrator assigns assessors on the learner's page.".into(),
            ));
        };
        if let Err(why) = self
            .may_act(actor.person_id, learner_id, Activity::Assess)
            .await?
        {
            return Err(AppError::Forbidden(why));
        }
        Ok(reg)
    }

    /// Refuse unless the actor is the learner or their assigned assessor.
    async fn require_contributor(&self, actor: &Actor, learner_id: i64) -> AppResult<()> {
        if actor.learner_ids().contains(&learner_id) {
            return Ok(());
        }
        self.require_assessor(actor, learner_id).await.map(|_| ())
    }

    /// The learner's portfolio as `actor` may see it (the route's access policy has already
    /// checked that they may see the learner at all).
    pub async fn portfolio(&self, actor: &Actor, learner_id: i64) -> AppResult<Portfolio> {
        let learner = self
            .store
            .learner(learner_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("learner {learner_id}")))?;
        let scope = self.learner_scope(actor, learner_id).await?;
        let (stamp, stored) = self.portfolio_rows(learner_id).await?;
        let visible = scope.registrations().to_vec();
        let until = scope.until().map(str::to_string);
        let is_learner = scope.as_learner();
        let may_assess = until.is_none()
            && !is_learner
            && self.assessing(actor, learner_id).await?.is_some()
            && self
                .may_act(actor.person_id, learner_id, Activity::Assess)
                .await?
                .is_ok();
        // The computed portfolio depends on the stored rows (the stamp), the registrations
        // seen and the moment the view ends.
        let key = format!(
            "{stamp}|{:?}|{}|{}",
            scope.centres(),
            visible
                .iter()
                .map(|r| format!(
                    "{}:{}:{}",
                    r.registration_id, r.status, r.catalogue_version_id
                ))
                .collect::<Vec<_>>()
                .join(","),
            until.as_deref().unwrap_or("")
        );
        let cached = self
            .portfolio_core_cache
            .read()
            .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?
            .get(&learner_id)
            .filter(|(k, _)| *k == key)
            .map(|(_, c)| c.clone());
        let core = match cached {
            Some(core) => core,
            None => {
                let mut core = self
                    .compute_portfolio(&stored, visible, until.as_deref(), &scope)
                    .await?;
                core.key = key.clone();
                let core = Arc::new(core);
                let mut cache = self
                    .portfolio_core_cache
                    .write()
                    .map_err(|_| AppError::Internal("portfolio cache poisoned".into()))?;
                if cache.len() >= PORTFOLIO_CACHE_SIZE {
                    cache.clear();
                }
                cache.insert(learner_id, (key, core.clone()));
                core
            }
        };
        Ok(Portfolio {
            core,
            learner,
            may_add: is_learner || may_assess,
            may_assess,
            is_learner,
            record_until: until,
            stamp,
        })
    }

    async fn compute_portfolio(
        &self,
        stored: &PortfolioRows,
        visible: Vec<RegistrationRow>,
        until: Option<&str>,
        scope: &super::authz::LearnerScope,
    ) -> AppResult<PortfolioCore> {
        // Records made at a centre the actor does not see are not theirs to see (a learner
        // at two centres is two separate views); a transfer brings the old centre's along.
        let at_seen = |centre: Option<i64>| {
            scope.as_learner() || centre.is_some_and(|c| scope.sees_centre(c))
        };
        let before = |at: &str| until.is_none_or(|u| at <= u);
        let seen_regs: BTreeSet<i64> = visible.iter().map(|r| r.registration_id).collect();

        let mut qualifications = Vec::new();
        let mut seen_qans = BTreeSet::new();
        for r in visible {
            if !seen_qans.insert(r.qan.clone()) {
                continue;
            }
            let spec = self
                .specification_of_version(r.catalogue_version_id)
                .await?;
            if let Some(q) = spec.qualifications.iter().find(|q| q.qan == r.qan).cloned() {
                qualifications.push(PortfolioQualification {
                    registration: r,
                    qualification: q,
                    spec,
                });
            }
        }

        let evidence = kept(&stored.evidence, |e| {
            before(&e.added_at) && at_seen(Some(e.centre_id))
        });
        let known: BTreeSet<i64> = evidence.iter().map(|e| e.evidence_id).collect();
        let mappings = kept(&stored.mappings, |m| {
            known.contains(&m.evidence_id) && before(&m.mapped_at) && at_seen(m.centre_id)
        });
        let ksbs = kept(&stored.ksbs, |k| {
            known.contains(&k.evidence_id) && at_seen(k.centre_id)
        });
        let judgements = kept(&stored.judgements, |j| {
            before(&j.at) && at_seen(j.centre_id)
        });
        let signatures = kept(&stored.signatures, |s| {
            before(&s.at) && at_seen(s.centre_id)
        });
        let results = kept(&stored.results, |r| {
            before(&r.recorded_at)
                && (scope.as_learner()
                    || seen_regs.contains(&r.registration_id)
                    || stored.transfers.iter().any(|t| {
                        t.from_registration_id == r.registration_id
                            && t.new_registration_id
                                .is_some_and(|n| seen_regs.contains(&n))
                    }))
        });

        let items: Vec<EvidenceItem> = evidence.iter().map(to_item).collect();
        // Each unit's own mappings and judgements, so a unit's work is proportional to it.
        let mut maps_of: BTreeMap<&str, Vec<Mapping>> = BTreeMap::new();
        for m in &mappings {
            maps_of
                .entry(m.unit_key.as_str())
                .or_default()
                .push(to_mapping(m));
        }
        let mut judged_of: BTreeMap<&str, Vec<Judgement>> = BTreeMap::new();
        for j in &judgements {
            judged_of
                .entry(j.unit_key.as_str())
                .or_default()
                .push(to_judgement(j));
        }
        let none_m: Vec<Mapping> = Vec::new();
        let none_j: Vec<Judgement> = Vec::new();
        let current: BTreeSet<i64> = evidence
            .iter()
            .filter(|e| e.superseded_by.is_none())
            .map(|e| e.evidence_id)
            .collect();

        // Units in qualification order, each once.
        let mut units: Vec<PortfolioUnit> = Vec::new();
        for pq in &qualifications {
            for qu in &pq.qualification.units {
                if let Some(existing) = units.iter_mut().find(|u| u.unit.key == qu.unit) {
                    existing
                        .in_qualifications
                        .push((pq.qualification.qan.clone(), qu.group.clone()));
                    continue;
                }
                let Some(unit) = pq.spec.unit(&qu.unit) else {
                    continue;
                };
                let maps = maps_of.get(unit.key.as_str()).unwrap_or(&none_m);
                let judged = judged_of.get(unit.key.as_str()).unwrap_or(&none_j);
                let progress = portfolio::unit_progress(unit, maps, judged, &items);
                let mut evidence_by_criterion: BTreeMap<String, Vec<(i64, String)>> =
                    BTreeMap::new();
                for m in mappings
                    .iter()
                    .filter(|m| m.unit_key == unit.key && current.contains(&m.evidence_id))
                {
                    evidence_by_criterion
                        .entry(m.criterion.clone())
                        .or_default()
                        .push((m.evidence_id, m.location.clone()));
                }
                let unit_sigs: Vec<SignatureRow> = signatures
                    .iter()
                    .filter(|s| s.unit_key == unit.key)
                    .cloned()
                    .collect();
                let domain_sigs: Vec<Signature> = unit_sigs.iter().map(to_signature).collect();
                let current_hash = portfolio::evidence_set_hash(&unit.key, maps, &items);
                let signed = portfolio::signed_off_hash(&domain_sigs).map(str::to_string);
                units.push(PortfolioUnit {
                    in_qualifications: vec![(pq.qualification.qan.clone(), qu.group.clone())],
                    progress,
                    evidence_by_criterion,
                    locked: signed.is_some(),
                    signed_off_current: signed.as_deref() == Some(current_hash.as_str()),
                    current_hash,
                    signatures: unit_sigs,
                    results: results
                        .iter()
                        .filter(|r| r.unit_key == unit.key)
                        .cloned()
                        .collect(),
                    unit: unit.clone(),
                });
            }
        }
        let progress = LearnerProgress {
            met: units.iter().map(|u| u.progress.met).sum(),
            total: units.iter().map(|u| u.progress.total).sum(),
            complete_units: units.iter().filter(|u| u.progress.complete).count(),
            units: units
                .iter()
                .map(|u| (u.unit.key.clone(), u.progress.clone()))
                .collect(),
        };

        // Which of the learner's qualifications the signed-off units achieve.
        let signed_off: Vec<String> = units
            .iter()
            .filter(|u| u.locked)
            .map(|u| u.unit.key.clone())
            .collect();
        let mut achieved = Vec::new();
        let mut specs_seen = BTreeSet::new();
        for pq in &qualifications {
            if signed_off.is_empty() || !specs_seen.insert(pq.registration.catalogue_version_id) {
                continue;
            }
            let rc = RulesCatalogue::new(&pq.spec.qualifications, &pq.spec.units);
            if let Ok(claims) = rc.claimable(&signed_off) {
                for c in claims.into_iter().filter(|c| c.met) {
                    achieved.push((c.qan, c.title));
                }
            }
        }

        Ok(PortfolioCore {
            key: String::new(),
            qualifications,
            units,
            evidence,
            mappings,
            ksbs,
            judgements,
            progress,
            achieved,
            transfers: stored.transfers.clone(),
        })
    }

    /// The centre a new item is filed under: the learner's current centre (the first active
    /// registration).
    async fn current_centre(&self, learner_id: i64) -> AppResult<i64> {
        self.store
            .registrations_of_learner(learner_id)
            .await?
            .into_iter()
            .find(|r| r.status != "transferred")
            .map(|r| r.centre_id)
            .ok_or_else(|| {
                AppError::Conflict(
                    "the learner has no current registration, so evidence cannot be added".into(),
                )
            })
    }

    /// Check the metadata, then stream the file into the evidence store, then record it.
    /// Nothing is recorded unless the file is complete; a file whose record cannot be
    /// written is deleted again. Re-sending the same file with the same title and date
    /// (a retry after a lost answer) returns the item already recorded.
    pub async fn add_evidence<S, E>(
        &self,
        actor: &Actor,
        learner_id: i64,
        meta: &EvidenceMeta,
        body: S,
        address: &str,
    ) -> AppResult<i64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.require_contributor(actor, learner_id).await?;
        let problems = meta.problems(chrono::Utc::now().date_naive());
        if !problems.is_empty() {
            return Err(AppError::Validation(
                problems
                    .into_iter()
                    .map(|(_, m)| m)
                    .collect::<Vec<_>>()
                    .join("; "),
            ));
        }
        let centre_id = self.current_centre(learner_id).await?;
        let stored = self
            .evidence
            .put_stream(body, self.max_upload)
            .await
            .map_err(|e| match e {
                UploadError::TooLarge { .. } => AppError::TooLarge(e.to_string()),
                UploadError::Storage(m) => AppError::Internal(m),
                other => AppError::Validation(other.to_string()),
            })?;
        self.record_evidence(actor, learner_id, centre_id, meta, stored, address)
            .await
    }

    async fn record_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        centre_id: i64,
        meta: &EvidenceMeta,
        stored: Stored,
        address: &str,
    ) -> AppResult<i64> {
        let file_name = display_file_name(&meta.file_name);
        // A retry of an upload already recorded: keep the first, drop the copy.
        let existing = self
            .store
            .evidence_of_learner(learner_id)
            .await?
            .into_iter()
            .find(|e| {
                e.superseded_by.is_none()
                    && e.sha256 == stored.sha256
                    && e.title == meta.title.trim()
                    && e.evidence_date == meta.date.trim()
            });
        if let Some(e) = existing {
            let _ = self.evidence.delete(&stored.key).await;
            return Ok(e.evidence_id);
        }
        let row = NewEvidence {
            learner_id,
            centre_id,
            title: meta.title.trim().to_string(),
            evidence_date: meta.date.trim().to_string(),
            kind: meta.kind.clone(),
            kind_other: trimmed(&meta.kind_other),
            witness_name: trimmed(&meta.witness_name),
            witness_role: trimmed(&meta.witness_role),
            source: meta.source.clone(),
            simulation_note: trimmed(&meta.simulation_note),
            media_type: media_type_for(&file_name).to_string(),
            file_name,
            size: i64::try_from(stored.size).unwrap_or(i64::MAX),
            sha256: stored.sha256.clone(),
            object_key: stored.key.clone(),
            added_by: actor.person_id,
        };
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.add",
            learner_id,
            Some(centre_id),
            serde_json::json!({"title": row.title, "sha256": row.sha256, "size": row.size}),
        );
        let id = match self.store.audited(entry).insert_evidence(&row).await {
            Ok(id) => id,
            Err(e) => {
                // The record could not be written: the file must not stay behind.
                if let Err(d) = self.evidence.delete(&stored.key).await {
                    tracing::warn!(key = %stored.key, error = %d, "orphan evidence object left for the sweep");
                }
                return Err(e.into());
            }
        };
        Ok(id)
    }

    /// The centre a record about `unit` is filed under: that of the first registration seen
    /// whose qualification has the unit.
    fn centre_of_unit(p: &Portfolio, unit: &PortfolioUnit) -> AppResult<i64> {
        p.qualifications
            .iter()
            .find(|q| {
                unit.in_qualifications
                    .iter()
                    .any(|(qan, _)| *qan == q.qualification.qan)
            })
            .map(|q| q.registration.centre_id)
            .ok_or_else(|| AppError::NotFound(format!("a registration with {}", unit.unit.key)))
    }

    /// The units of the learner (from their current registrations) by key.
    fn unit_of<'a>(p: &'a Portfolio, unit_key: &str) -> AppResult<&'a PortfolioUnit> {
        p.unit(unit_key).ok_or_else(|| {
            AppError::Validation(format!(
                "'{unit_key}' is not a unit of this learner's qualifications"
            ))
        })
    }

    fn item_of(p: &Portfolio, evidence_id: i64) -> AppResult<&EvidenceRow> {
        p.item(evidence_id)
            .ok_or_else(|| AppError::NotFound(format!("evidence {evidence_id}")))
    }

    /// Map an item to a criterion of a unit, with where in the item it is shown.
    #[allow(clippy::too_many_arguments)]
    pub async fn map_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        unit_key: &str,
        criterion: &str,
        location: &str,
        address: &str,
    ) -> AppResult<()> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?;
        if item.superseded_by.is_some() {
            return Err(AppError::Conflict(
                "this evidence has been superseded: map its latest version".into(),
            ));
        }
        let unit = Self::unit_of(&p, unit_key)?;
        portfolio::check_criterion(&unit.unit, criterion)
            .map_err(|e| AppError::Validation(e.to_string()))?;
        let source = source_of(&item.source).unwrap_or(EvidenceSource::Simulation);
        portfolio::check_simulation(&unit.unit, source, item.simulation_note.as_deref())
            .map_err(|e| AppError::Validation(e.to_string()))?;
        if location.trim().is_empty() {
            return Err(AppError::Validation(
                "Say where in the evidence this criterion is shown (for example 'page 3' or '04:10 to 06:30')".into(),
            ));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.map",
            learner_id,
            Some(item.centre_id),
            serde_json::json!({"evidence": evidence_id, "unit": unit.unit.key, "criterion": criterion, "location": location.trim()}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .map_evidence(
                learner_id,
                evidence_id,
                &unit.unit.key,
                criterion,
                location.trim(),
                actor.person_id,
            )
            .await?;
        Ok(())
    }

    /// Take a mapping away (refused under a signed-off unit).
    pub async fn unmap_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        unit_key: &str,
        criterion: &str,
        address: &str,
    ) -> AppResult<()> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?;
        let unit = Self::unit_of(&p, unit_key)?;
        portfolio::may_change_evidence(unit.locked, &EvidenceChange::Delete)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.unmap",
            learner_id,
            Some(item.centre_id),
            serde_json::json!({"evidence": evidence_id, "unit": unit_key, "criterion": criterion}),
        );
        if !self
            .store
            .audited(entry)
            .expecting(p.stamp)
            .unmap_evidence(evidence_id, unit_key, criterion)
            .await?
        {
            return Err(AppError::NotFound("that mapping".into()));
        }
        Ok(())
    }

    /// Map an item to an apprenticeship KSB of one of the learner's units.
    pub async fn map_ksb(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        ksb: &str,
        address: &str,
    ) -> AppResult<()> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?;
        let ksb = ksb.trim().to_uppercase();
        let known: BTreeSet<String> = p
            .units
            .iter()
            .flat_map(|u| u.unit.ksb.iter().map(|k| k.code.to_uppercase()))
            .collect();
        if !known.contains(&ksb) {
            return Err(AppError::Validation(if known.is_empty() {
                "None of this learner's units map to an apprenticeship standard's KSBs".into()
            } else {
                format!(
                    "'{ksb}' is not a KSB of this learner's units; they map to {}",
                    known.into_iter().collect::<Vec<_>>().join(", ")
                )
            }));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.map_ksb",
            learner_id,
            Some(item.centre_id),
            serde_json::json!({"evidence": evidence_id, "ksb": ksb}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .map_ksb(learner_id, evidence_id, &ksb, actor.person_id)
            .await?;
        Ok(())
    }

    /// Delete an item that no signed-off unit uses; the file goes too.
    pub async fn delete_evidence(
        &self,
        actor: &Actor,
        learner_id: i64,
        evidence_id: i64,
        address: &str,
    ) -> AppResult<()> {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let item = Self::item_of(&p, evidence_id)?.clone();
        let locked = p.locked_units_of(evidence_id);
        if !locked.is_empty() || item.superseded_by.is_some() {
            return Err(AppError::Conflict(format!(
                "{} Units signed off with it: {}.",
                portfolio::LockRefusal::DeleteRefused,
                if locked.is_empty() {
                    "(it is an earlier version, kept for the record)".to_string()
                } else {
                    locked.join(", ")
                }
            )));
        }
        if p.evidence
            .iter()
            .any(|e| e.superseded_by == Some(evidence_id))
        {
            return Err(AppError::Conflict(
                "this item replaced an earlier version; it is kept with the history".into(),
            ));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.delete",
            learner_id,
            Some(item.centre_id),
            serde_json::json!({"evidence": evidence_id, "title": item.title, "sha256": item.sha256}),
        );
        let key = self
            .store
            .audited(entry)
            .expecting(p.stamp)
            .delete_evidence(evidence_id)
            .await?;
        if let Err(e) = self.evidence.delete(&key).await {
            tracing::warn!(%key, error = %e, "orphan evidence object left for the sweep");
        }
        Ok(())
    }

    /// Replace an item with a new version: the new file is stored and recorded, takes over
    /// the old one's mappings, and the old one is kept, marked superseded with the reason.
    #[allow(clippy::too_many_arguments)]
    pub async fn supersede_evidence<S, E>(
        &self,
        actor: &Actor,
        learner_id: i64,
        old_id: i64,
        reason: &str,
        meta: &EvidenceMeta,
        body: S,
        address: &str,
    ) -> AppResult<i64>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        self.require_contributor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let old = Self::item_of(&p, old_id)?.clone();
        let locked = !p.locked_units_of(old_id).is_empty();
        portfolio::may_change_evidence(
            locked,
            &EvidenceChange::Replace {
                reason: reason.to_string(),
            },
        )
        .map_err(|e| AppError::Validation(e.to_string()))?;
        if reason.trim().is_empty() {
            return Err(AppError::Validation(
                "Say why this evidence is being replaced".into(),
            ));
        }
        if old.superseded_by.is_some() {
            return Err(AppError::Conflict(
                "this evidence has already been superseded: replace its latest version".into(),
            ));
        }
        let new_id = self
            .add_evidence(actor, learner_id, meta, body, address)
            .await?;
        if new_id == old_id {
            return Err(AppError::Validation(
                "the new version is the same file with the same title and date: nothing to replace"
                    .into(),
            ));
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "evidence.supersede",
            learner_id,
            Some(old.centre_id),
            serde_json::json!({"evidence": old_id, "by": new_id, "reason": reason.trim()}),
        );
        self.store
            .audited(entry)
            .supersede_evidence(old_id, new_id, reason.trim())
            .await?;
        Ok(new_id)
    }

    /// Record an assessor's decision on one criterion (or RPL, before assessment).
    #[allow(clippy::too_many_arguments)]
    pub async fn judge(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        criterion: &str,
        outcome: Outcome,
        feedback: &str,
        rpl: bool,
        address: &str,
    ) -> AppResult<()> {
        let _reg = self.require_assessor(actor, learner_id).await?;
        let p = self.portfolio(actor, learner_id).await?;
        let unit = Self::unit_of(&p, unit_key)?;
        portfolio::check_criterion(&unit.unit, criterion)
            .map_err(|e| AppError::Validation(e.to_string()))?;
        if unit.locked {
            return Err(AppError::Conflict(format!(
                "unit {} is signed off: its decisions are final",
                unit.unit.ao_ref
            )));
        }
        if feedback.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(AppError::Validation(format!(
                "Feedback can be at most {MAX_FEEDBACK_CHARS} characters: put longer comments in a document and add it as evidence"
            )));
        }
        if outcome == Outcome::NotYetMet && feedback.trim().is_empty() {
            return Err(AppError::Validation(
                "Give feedback saying what is still needed to meet the criterion".into(),
            ));
        }
        let items = unit
            .evidence_by_criterion
            .get(criterion)
            .cloned()
            .unwrap_or_default();
        if outcome == Outcome::Met {
            if items.is_empty() {
                return Err(AppError::Validation(format!(
                    "no evidence is mapped to {criterion} of {}: map the evidence first, with where it shows the criterion",
                    unit.unit.ao_ref
                )));
            }
            for (id, _) in &items {
                if let Some(e) = p.item(*id) {
                    let source = source_of(&e.source).unwrap_or(EvidenceSource::Simulation);
                    portfolio::check_simulation(&unit.unit, source, e.simulation_note.as_deref())
                        .map_err(|why| {
                        AppError::Validation(format!("'{}' cannot count: {why}", e.title))
                    })?;
                }
            }
        }
        if rpl {
            let assessed = p
                .judgements
                .iter()
                .any(|j| j.unit_key == unit.unit.key && j.criterion == criterion && j.rpl == 0);
            if assessed {
                return Err(AppError::Conflict(
                    "RPL is recorded before assessment: this criterion has already been assessed"
                        .into(),
                ));
            }
        }
        let centre = Self::centre_of_unit(&p, unit)?;
        let entry = Self::learner_entry(
            actor,
            address,
            if rpl {
                "assessment.rpl"
            } else {
                "assessment.judge"
            },
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "criterion": criterion, "outcome": if outcome == Outcome::Met {"met"} else {"not_yet_met"}, "rpl": rpl}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .insert_judgement(
                learner_id,
                &unit.unit.key,
                criterion,
                if outcome == Outcome::Met {
                    "met"
                } else {
                    "not_yet_met"
                },
                feedback.trim(),
                rpl,
                actor.person_id,
                centre,
            )
            .await?;
        Ok(())
    }

    /// Sign a unit's declaration: as its assessor, then as the learner.
    pub async fn sign_unit(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        comments: &str,
        address: &str,
    ) -> AppResult<SignerRole> {
        if comments.chars().count() > MAX_FEEDBACK_CHARS {
            return Err(AppError::Validation(format!(
                "Comments can be at most {MAX_FEEDBACK_CHARS} characters"
            )));
        }
        let role = if actor.learner_ids().contains(&learner_id) {
            SignerRole::Learner
        } else {
            self.require_assessor(actor, learner_id).await?;
            SignerRole::Assessor
        };
        let p = self.portfolio(actor, learner_id).await?;
        let unit = Self::unit_of(&p, unit_key)?;
        let existing: Vec<Signature> = unit.signatures.iter().map(to_signature).collect();
        portfolio::can_sign(role, &unit.progress, &existing, &unit.current_hash)
            .map_err(|e| AppError::Conflict(e.to_string()))?;
        let role_code = match role {
            SignerRole::Assessor => "assessor",
            SignerRole::Learner => "learner",
        };
        let centre = Self::centre_of_unit(&p, unit)?;
        let entry = Self::learner_entry(
            actor,
            address,
            "unit.sign",
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "role": role_code, "evidence_hash": unit.current_hash}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .insert_signature(
                learner_id,
                &unit.unit.key,
                role_code,
                actor.person_id,
                comments.trim(),
                &unit.current_hash,
                centre,
            )
            .await?;
        Ok(role)
    }

    /// The achievement log of one of the learner's qualifications, ready to print.
    pub async fn achievement_log(
        &self,
        actor: &Actor,
        learner_id: i64,
        qan: &str,
    ) -> AppResult<(Portfolio, crate::pdf::AchievementLog)> {
        let p = self.portfolio(actor, learner_id).await?;
        let pq = p
            .qualifications
            .iter()
            .find(|q| q.qualification.qan == qan)
            .ok_or_else(|| AppError::NotFound(format!("the learner's qualification {qan}")))?;
        let mut units = Vec::new();
        for qu in &pq.qualification.units {
            let Some(pu) = p.unit(&qu.unit) else {
                continue;
            };
            let mandatory = qu
                .group
                .as_deref()
                .is_some_and(|g| g.eq_ignore_ascii_case("mandatory"));
            let taken = mandatory
                || pu
                    .progress
                    .per_criterion
                    .iter()
                    .any(|(_, s)| *s != CriterionStatus::NoEvidence)
                || !pu.signatures.is_empty();
            let mut criteria = Vec::new();
            for (number, text) in pu.unit.judged_items() {
                let status = pu
                    .progress
                    .per_criterion
                    .iter()
                    .find(|(n, _)| n == number)
                    .map(|(_, s)| s.clone())
                    .unwrap_or(CriterionStatus::NoEvidence);
                let latest = p
                    .judgements
                    .iter()
                    .rfind(|j| j.unit_key == pu.unit.key && j.criterion == number);
                let location = pu
                    .evidence_by_criterion
                    .get(number)
                    .map(|items| {
                        items
                            .iter()
                            .filter_map(|(id, loc)| {
                                p.item(*id).map(|e| format!("{} ({loc})", e.title))
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    })
                    .unwrap_or_default();
                let met = status.is_met();
                criteria.push(crate::pdf::LogCriterion {
                    number: number.to_string(),
                    text: text.to_string(),
                    date: if met {
                        latest
                            .map(|j| j.at.chars().take(10).collect())
                            .unwrap_or_default()
                    } else {
                        String::new()
                    },
                    location,
                    assessor: if met {
                        latest.map(|j| j.assessor_name.clone()).unwrap_or_default()
                    } else {
                        String::new()
                    },
                    rpl: met && latest.is_some_and(|j| j.rpl != 0),
                });
            }
            let status = if pu.locked {
                let when = pu
                    .signatures
                    .iter()
                    .filter(|s| s.role == "learner")
                    .map(|s| s.at.chars().take(10).collect::<String>())
                    .next_back()
                    .unwrap_or_default();
                format!(
                    "Signed off {when}; {} of {} criteria met",
                    pu.progress.met, pu.progress.total
                )
            } else {
                format!("{} of {} criteria met", pu.progress.met, pu.progress.total)
            };
            units.push(crate::pdf::LogUnit {
                reference: match &pu.unit.ofqual_ref {
                    Some(o) => format!("{} ({o})", pu.unit.ao_ref),
                    None => pu.unit.ao_ref.clone(),
                },
                title: pu.unit.title.clone(),
                level: pu.unit.level,
                credit: pu.unit.credit,
                taken,
                status,
                criteria,
                declarations: pu
                    .signatures
                    .iter()
                    .map(|s| crate::pdf::LogDeclaration {
                        role: if s.role == "assessor" {
                            "Assessor".into()
                        } else {
                            "Learner".into()
                        },
                        name: s.person_name.clone(),
                        at: s.at.clone(),
                        comments: s.comments.clone(),
                        evidence_hash: s.evidence_hash.clone(),
                    })
                    .collect(),
            });
        }
        let log = crate::pdf::AchievementLog {
            title: log_title(&pq.qualification).to_string(),
            learner_name: format!("{} {}", p.learner.given_name, p.learner.family_name),
            learner_uln: p.learner.uln.clone(),
            centre_name: pq.registration.centre_name.clone(),
            qualification: format!("{} {}", pq.qualification.qan, pq.qualification.title),
            generated_at: crate::store::now(),
            units,
        };
        Ok((p, log))
    }

    /// Record marks for a marked unit (ISMM) against its components, with reasonable
    /// adjustments and special consideration; the grade follows the AO's boundaries. The
    /// moderator's adjustment is the AO's (its staff or the centre's EQA).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_marks(
        &self,
        actor: &Actor,
        learner_id: i64,
        unit_key: &str,
        marks: &[(String, u32)],
        moderator_adjustment: Option<i32>,
        considerations: &[portfolio::SpecialConsideration],
        address: &str,
    ) -> AppResult<portfolio::GradeResult> {
        let p = self.portfolio(actor, learner_id).await?;
        let unit = Self::unit_of(&p, unit_key)?;
        let pq = p
            .qualifications
            .iter()
            .find(|q| {
                unit.in_qualifications
                    .iter()
                    .any(|(qan, _)| *qan == q.qualification.qan)
            })
            .ok_or_else(|| AppError::NotFound(format!("a qualification with {unit_key}")))?;
        let centre = pq.registration.centre_id;
        // What was given is checked first, so the answer says what to correct.
        let grading = self.grading_of(&pq.qualification).await?;
        portfolio::grade(
            &grading,
            &unit.unit.assessment_components,
            marks,
            moderator_adjustment.unwrap_or(0),
            considerations,
        )
        .map_err(|e| AppError::Validation(e.to_string()))?;
        // Moderation is the qualification's own AO's: its staff, or its EQA appointed here.
        let overseer = super::authz::oversees_registration(actor, &pq.registration);
        let centre_staff = actor
            .centre_roles(centre)
            .iter()
            .any(|r| *r == "assessor" || *r == "centre_admin");
        let previous = unit.results.last();
        let adjustment = match moderator_adjustment {
            Some(a) if overseer => a,
            Some(a) if previous.is_some_and(|r| i64::from(a) == r.moderator_adjustment) => a,
            Some(0) if previous.is_none() => 0,
            Some(_) => {
                return Err(AppError::Forbidden(
                    "Only the awarding organisation's moderator adjusts marks: leave the moderator's adjustment as it is".into(),
                ));
            }
            None => previous
                .map(|r| i32::try_from(r.moderator_adjustment).unwrap_or(0))
                .unwrap_or(0),
        };
        if !overseer && !centre_staff {
            return Err(AppError::Forbidden(
                "Marks are recorded by the centre's assessors and administrators, and moderated by the awarding organisation".into(),
            ));
        }
        let result = portfolio::grade(
            &grading,
            &unit.unit.assessment_components,
            marks,
            adjustment,
            considerations,
        )
        .map_err(|e| AppError::Validation(e.to_string()))?;
        if !overseer {
            self.require_assessor(actor, learner_id)
                .await
                .or_else(|e| {
                    if actor.centre_roles(centre).contains(&"centre_admin") {
                        Ok(pq.registration.clone())
                    } else {
                        Err(e)
                    }
                })?;
        }
        let entry = Self::learner_entry(
            actor,
            address,
            "marks.record",
            learner_id,
            Some(centre),
            serde_json::json!({"unit": unit.unit.key, "marks": marks, "moderator_adjustment": adjustment, "grade": result.grade.title(), "mark": result.adjusted}),
        );
        self.store
            .audited(entry)
            .expecting(p.stamp)
            .insert_unit_result(
                learner_id,
                pq.registration.registration_id,
                &unit.unit.key,
                &serde_json::to_string(marks)?,
                i64::from(adjustment),
                &serde_json::to_string(considerations)?,
                &serde_json::to_string(&result)?,
                result.grade.title(),
                actor.person_id,
            )
            .await?;
        Ok(result)
    }

    /// A qualification's grading with the AO's Merit and Distinction boundaries applied.
    pub async fn grading_of(&self, q: &Qualification) -> AppResult<Grading> {
        Ok(
            match (&q.grading, self.store.grade_boundaries(&q.qan).await?) {
                (Grading::Marked { pass_mark, .. }, Some((merit, distinction))) => {
                    Grading::Marked {
                        pass_mark: *pass_mark,
                        merit_mark: merit.and_then(|m| u32::try_from(m).ok()),
                        distinction_mark: distinction.and_then(|d| u32::try_from(d).ok()),
                    }
                }
                (g, _) => g.clone(),
            },
        )
    }

    /// The AO sets a marked qualification's Merit and Distinction boundaries.
    pub async fn set_grade_boundaries(
        &self,
        actor: &Actor,
        qan: &str,
        merit: Option<u32>,
        distinction: Option<u32>,
        address: &str,
    ) -> AppResult<()> {
        let cat = self.catalogue().await?;
        let (cs, q) = cat
            .qualification(qan)
            .ok_or_else(|| AppError::NotFound(format!("qualification {qan}")))?;
        let Grading::Marked { pass_mark, .. } = q.grading else {
            return Err(AppError::Validation(
                "this qualification is Pass only: it has no grade boundaries".into(),
            ));
        };
        if !actor
            .ao_codes()
            .contains(&cs.spec.awarding_organisation.code.as_str())
        {
            return Err(AppError::Forbidden(format!(
                "Only {}'s staff set this qualification's grade boundaries",
                cs.spec.awarding_organisation.code
            )));
        }
        // Check the order with the domain's own rule.
        let probe = Grading::Marked {
            pass_mark,
            merit_mark: merit,
            distinction_mark: distinction,
        };
        let component = [credence_domain::model::AssessmentComponent {
            name: "check".into(),
            weight_percent: 100,
            words: None,
        }];
        portfolio::grade(&probe, &component, &[("check".into(), 0)], 0, &[])
            .map_err(|e| AppError::Validation(e.to_string()))?;
        let entry = Self::entry_by(
            actor,
            Some(address),
            "grading.boundaries",
            qan,
            None,
            None,
            serde_json::json!({"merit": merit, "distinction": distinction}),
        );
        self.store
            .audited(entry)
            .set_grade_boundaries(
                qan,
                merit.map(i64::from),
                distinction.map(i64::from),
                actor.person_id,
            )
            .await?;
        Ok(())
    }

    /// A centre administrator asks to move a learner's registration to another centre.
    pub async fn request_transfer(
        &self,
        actor: &Actor,
        registration_id: i64,
        to_centre: i64,
        reason: &str,
        address: &str,
    ) -> AppResult<i64> {
        let reg = self
            .store
            .registration(registration_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("registration {registration_id}")))?;
        if !actor.centre_roles(reg.centre_id).contains(&"centre_admin") {
            return Err(AppError::Forbidden(
                "Only an administrator of the learner's centre asks for a transfer".into(),
            ));
        }
        if reg.status == "transferred" {
            return Err(AppError::Conflict(
                "this registration has already been transferred".into(),
            ));
        }
        if to_centre == reg.centre_id {
            return Err(AppError::Validation(
                "Choose the centre the learner is moving to, not their current one".into(),
            ));
        }
        self.store.centre(to_centre).await?.ok_or_else(|| {
            AppError::Validation("Choose the centre the learner is moving to".into())
        })?;
        let approved = self
            .store
            .approvals(to_centre)
            .await?
            .iter()
            .any(|a| a.qan == reg.qan);
        if !approved {
            return Err(AppError::Validation(format!(
                "that centre is not approved to offer {}: it must be approved before the learner can move there",
                reg.qan
            )));
        }
        if reason.trim().is_empty() {
            return Err(AppError::Validation(
                "Say why the learner is moving centre".into(),
            ));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            "transfer.request",
            &format!("learner {}", reg.learner_id),
            Some(reg.centre_id),
            None,
            serde_json::json!({"to_centre": to_centre, "qan": reg.qan}),
        );
        let id = self
            .store
            .audited(entry)
            .request_transfer(
                reg.learner_id,
                registration_id,
                to_centre,
                reason.trim(),
                actor.person_id,
            )
            .await?;
        Ok(id)
    }

    /// Transfers waiting for this AO staff member's decision.
    pub async fn transfers_to_decide(&self, actor: &Actor) -> AppResult<Vec<TransferRow>> {
        let cat = self.catalogue().await?;
        let aos = actor.ao_codes();
        Ok(self
            .store
            .pending_transfers()
            .await?
            .into_iter()
            .filter(|t| {
                cat.qualification(&t.qan).is_some_and(|(cs, _)| {
                    aos.contains(&cs.spec.awarding_organisation.code.as_str())
                })
            })
            .collect())
    }

    /// The AO approves or refuses a transfer.
    pub async fn decide_transfer(
        &self,
        actor: &Actor,
        transfer_id: i64,
        approve: bool,
        note: &str,
        address: &str,
    ) -> AppResult<()> {
        let t = self
            .store
            .transfer(transfer_id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("transfer {transfer_id}")))?;
        let cat = self.catalogue().await?;
        let ao = cat
            .qualification(&t.qan)
            .map(|(cs, _)| cs.spec.awarding_organisation.code.clone())
            .unwrap_or_default();
        if !actor.ao_codes().contains(&ao.as_str()) {
            return Err(AppError::NotFound(format!("transfer {transfer_id}")));
        }
        if !approve && note.trim().is_empty() {
            return Err(AppError::Validation(
                "Say why the transfer is refused, for the centre".into(),
            ));
        }
        let entry = Self::entry_by(
            actor,
            Some(address),
            if approve {
                "transfer.approve"
            } else {
                "transfer.refuse"
            },
            &format!("learner {}", t.learner_id),
            Some(t.from_centre_id),
            Some(t.learner_id),
            serde_json::json!({"transfer": transfer_id, "to_centre": t.to_centre_id, "note": note.trim()}),
        );
        let store = self.store.audited(entry);
        if approve {
            store
                .approve_transfer(transfer_id, actor.person_id, note.trim())
                .await?;
        } else {
            store
                .refuse_transfer(transfer_id, actor.person_id, note.trim())
                .await?;
        }
        Ok(())
    }

    /// Check that every evidence record's file is present, whole and unchanged, and list
    /// files no record names. Returns (records checked, problems, orphans).
    pub async fn check_evidence(
        &self,
        read_back: bool,
    ) -> AppResult<(usize, Vec<String>, Vec<String>)> {
        let rows = self.store.evidence_object_keys().await?;
        let mut problems = Vec::new();
        for (id, key, size, sha) in &rows {
            match self.evidence.size(key).await.map_err(AppError::Internal)? {
                None => problems.push(format!("evidence {id}: its file {key} is missing")),
                Some(s) if i64::try_from(s).unwrap_or(-1) != *size => problems.push(format!(
                    "evidence {id}: its file {key} has {s} bytes, the record says {size}"
                )),
                Some(_) if read_back => {
                    let got = self
                        .evidence
                        .sha256(key)
                        .await
                        .map_err(AppError::Internal)?;
                    if got != *sha {
                        problems.push(format!(
                            "evidence {id}: its file {key} has changed (SHA-256 {got}, recorded {sha})"
                        ));
                    }
                }
                Some(_) => {}
            }
        }
        let known = rows.iter().map(|(_, k, _, _)| k.clone()).collect();
        let orphans = self
            .evidence
            .orphans(&known, std::time::Duration::ZERO)
            .await
            .map_err(AppError::Internal)?;
        Ok((rows.len(), problems, orphans))
    }

    /// Remove files no record names and staging files of cut-off uploads, older than
    /// `grace` (an upload finishing on another server right now is left alone).
    pub async fn sweep_evidence(&self, grace: std::time::Duration) -> AppResult<(usize, usize)> {
        let known = self
            .store
            .evidence_object_keys()
            .await?
            .into_iter()
            .map(|(_, k, _, _)| k)
            .collect();
        let orphans = self
            .evidence
            .orphans(&known, grace)
            .await
            .map_err(AppError::Internal)?;
        // Read the records again: a record written since the first read is not an orphan.
        let known_now: std::collections::HashSet<String> = self
            .store
            .evidence_object_keys()
            .await?
            .into_iter()
            .map(|(_, k, _, _)| k)
            .collect();
        let mut removed = 0;
        for key in orphans.iter().filter(|k| !known_now.contains(*k)) {
            self.evidence
                .delete(key)
                .await
                .map_err(AppError::Internal)?;
            removed += 1;
        }
        let staging = self.evidence.stale_staging_files(grace, true).len();
        Ok((removed, staging))
    }
}

/// Escape text for the zip's HTML index.
fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl App {
    /// The whole portfolio as one zip: an index (every item with its details, SHA-256 and
    /// mappings), the achievement log of each qualification as a PDF, and every evidence
    /// file, superseded versions included. Built in an unlinked temporary file (so nothing
    /// is left behind whatever happens) and returned open at its start, to stream.
    pub async fn portfolio_zip(&self, actor: &Actor, learner_id: i64) -> AppResult<std::fs::File> {
        use std::io::{Seek, Write};
        let p = self.portfolio(actor, learner_id).await?;
        let mut logs = Vec::new();
        for q in &p.qualifications {
            let (_, log) = self
                .achievement_log(actor, learner_id, &q.qualification.qan)
                .await?;
            logs.push((super::catalogue::qan_slug(&q.qualification.qan), log));
        }
        let entry = |e: &EvidenceRow| {
            format!(
                "evidence/{:05}-{}",
                e.evidence_id,
                display_file_name(&e.file_name)
            )
        };
        let mut index = format!(
            "<!doctype html><html lang=\"en-GB\"><head><meta charset=\"utf-8\"><title>Portfolio of {0}</title></head><body><h1>Portfolio of {0}</h1><p>{1} of {2} criteria met; made {3}.</p><h2>Achievement logs</h2><ul>",
            html_escape(&format!(
                "{} {}",
                p.learner.given_name, p.learner.family_name
            )),
            p.progress.met,
            p.progress.total,
            crate::store::now()
        );
        for (slug, log) in &logs {
            index.push_str(&format!(
                "<li><a href=\"achievement-log-{slug}.pdf\">{}</a></li>",
                html_escape(&format!("{} {}", log.title, log.qualification))
            ));
        }
        index.push_str("</ul><h2>Evidence</h2><table><thead><tr><th>File</th><th>Title</th><th>Date</th><th>Kind</th><th>Source</th><th>SHA-256</th><th>Mapped to</th><th>Status</th></tr></thead><tbody>");
        for e in &p.evidence {
            let mapped: Vec<String> = p
                .mappings
                .iter()
                .filter(|m| m.evidence_id == e.evidence_id)
                .map(|m| {
                    let unit = p
                        .unit(&m.unit_key)
                        .map(|u| u.unit.ao_ref.clone())
                        .unwrap_or_else(|| m.unit_key.clone());
                    format!("{unit} {} ({})", m.criterion, m.location)
                })
                .collect();
            let status = match (e.superseded_by, &e.supersede_reason) {
                (Some(by), Some(r)) => format!("Superseded by item {by}: {r}"),
                (Some(by), None) => format!("Superseded by item {by}"),
                _ => "Current".into(),
            };
            index.push_str(&format!(
                "<tr><td><a href=\"{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td><code>{5}</code></td><td>{6}</td><td>{7}</td></tr>",
                html_escape(&entry(e)),
                html_escape(&e.title),
                html_escape(&e.evidence_date),
                html_escape(kind_of(e).describe().as_str()),
                html_escape(SOURCES.iter().find(|(c, _)| *c == e.source).map(|(_, t)| *t).unwrap_or("")),
                e.sha256,
                html_escape(&mapped.join("; ")),
                html_escape(&status)
            ));
        }
        index.push_str("</tbody></table></body></html>\n");

        let path = std::env::temp_dir().join(format!("credence-zip-{}", uuid::Uuid::new_v4()));
        let file = std::fs::File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| AppError::Internal(format!("could not make the zip: {e}")))?;
        // Unlinked at once: the file disappears when the download ends, or if we crash.
        let _ = std::fs::remove_file(&path);
        let store = self.evidence.clone();
        let handle = tokio::runtime::Handle::current();
        let items: Vec<(String, String)> = p
            .evidence
            .iter()
            .map(|e| (entry(e), e.object_key.clone()))
            .collect();
        let built = tokio::task::spawn_blocking(move || -> Result<std::fs::File, String> {
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored)
                .large_file(true);
            let mut zip = zip::ZipWriter::new(file);
            let err = |e: &dyn std::fmt::Display| e.to_string();
            zip.start_file("index.html", opts).map_err(|e| err(&e))?;
            zip.write_all(index.as_bytes()).map_err(|e| err(&e))?;
            for (slug, log) in &logs {
                zip.start_file(format!("achievement-log-{slug}.pdf"), opts)
                    .map_err(|e| err(&e))?;
                zip.write_all(&crate::pdf::render(log))
                    .map_err(|e| err(&e))?;
            }
            for (name, key) in items {
                zip.start_file(name, opts).map_err(|e| err(&e))?;
                let (_, mut stream) = handle.block_on(store.get_stream(&key))?;
                while let Some(chunk) = handle.block_on(futures_util::StreamExt::next(&mut stream))
                {
                    zip.write_all(&chunk.map_err(|e| err(&e))?)
                        .map_err(|e| err(&e))?;
                }
            }
            let mut file = zip.finish().map_err(|e| err(&e))?;
            file.seek(std::io::SeekFrom::Start(0))
                .map_err(|e| err(&e))?;
            Ok(file)
        })
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(format!("could not make the zip: {e}")))?;
        Ok(built)
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
