//! The portfolio pages and API: evidence upload and download, mapping, judging, RPL,
//! sign-off, achievement logs (page, PDF), the portfolio zip, marks and transfers.
//! Access to the learner is decided in [`super::access`]; what a person may do to it
//! (upload, judge, sign) is decided in [`crate::app::portfolio`].

use super::access::{CurrentActor, client_address};
use super::pages::{PageError, render};
use super::{ApiError, ApiJson, AppState};
use crate::app::catalogue::{qan_from_slug, qan_slug, unit_slug};
use crate::app::portfolio::{EvidenceMeta, KINDS, Portfolio, SOURCES, shown_inline};
use crate::app::{AppError, AppResult};
use askama::Template;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use credence_domain::portfolio::{
    ConsiderationKind, CriterionStatus, Outcome, SpecialConsideration,
};
use futures_util::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = super::access::route(r, "/learners/{learner}/portfolio", get(portfolio_page));
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}",
        get(unit_page),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/judgements",
        post(judge),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/sign",
        post(sign),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/portfolio/units/{unit}/marks",
        post(marks),
    );
    let r = super::access::route(r, "/learners/{learner}/evidence/new", get(upload_form));
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence",
        post(upload).layer(DefaultBodyLimit::disable()),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}",
        get(evidence_page),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/file",
        get(download),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/mappings",
        post(map),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/mappings/remove",
        post(unmap),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/ksbs",
        post(map_ksb),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/supersede",
        post(supersede).layer(DefaultBodyLimit::disable()),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/evidence/{evidence}/delete",
        post(delete),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/achievement-log/{qan}",
        get(log_page),
    );
    let r = super::access::route(
        r,
        "/learners/{learner}/achievement-log/{qan}/pdf",
        get(log_pdf),
    );
    let r = super::access::route(r, "/learners/{learner}/portfolio.zip", get(zip));
    let r = super::access::route(
        r,
        "/centres/{centre}/registrations/{registration}/transfer",
        post(request_transfer),
    );
    let r = super::access::route(r, "/transfers/{id}/decision", post(decide_transfer));
    let r = super::access::route(
        r,
        "/qualifications/{qan}/grade-boundaries",
        post(grade_boundaries),
    );
    r
}

/// The portfolio's JSON API, in the OpenAPI document.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(api_portfolio))
        .routes(routes!(api_upload))
        .routes(routes!(api_map))
        .routes(routes!(api_judge))
        .routes(routes!(api_sign))
        .routes(routes!(api_delete_evidence))
        .routes(routes!(api_marks))
}

// --- shared -----------------------------------------------------------------------------------

fn human_date(at: &str) -> String {
    at.chars().take(10).collect()
}

fn status_tag(s: &CriterionStatus) -> (&'static str, String) {
    match s {
        CriterionStatus::NoEvidence => ("tag--grey", "No evidence".into()),
        CriterionStatus::Evidenced { items, occasions } => (
            "tag--blue",
            format!(
                "Evidenced: {items} item{}, {occasions} occasion{}; to be assessed",
                if *items == 1 { "" } else { "s" },
                if *occasions == 1 { "" } else { "s" }
            ),
        ),
        CriterionStatus::Met { rpl: true, .. } => ("tag--green", "Met (RPL)".into()),
        CriterionStatus::Met { .. } => ("tag--green", "Met".into()),
        CriterionStatus::NotYetMet { .. } => ("tag--red", "Not yet met".into()),
        CriterionStatus::NeedsOccasions { have, need } => (
            "tag--yellow",
            format!("Judged met; {have} of {need} occasions evidenced"),
        ),
    }
}

/// A page, with the status of the problem it shows (200 when none).
fn render_as<T: Template>(status: Option<StatusCode>, page: &T) -> Response {
    let mut res = render(page);
    if let Some(s) = status {
        *res.status_mut() = s;
    }
    res
}

fn percent(met: usize, total: usize) -> usize {
    (met * 100).checked_div(total).unwrap_or(0)
}

/// A user's mistake re-renders the page with the message (and the error's status); anything
/// else is an error page.
fn is_user_error(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation(_)
            | AppError::Conflict(_)
            | AppError::Forbidden(_)
            | AppError::TooLarge(_)
    )
}

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    done: Option<String>,
}

fn notice_text(code: Option<&str>) -> Option<String> {
    Some(
        match code? {
            "uploaded" => "Evidence uploaded. Now map it to the criteria it shows.",
            "mapped" => "Mapping saved.",
            "unmapped" => "Mapping removed.",
            "ksb" => "KSB mapping saved.",
            "superseded" => "New version saved; the earlier one is kept with the reason.",
            "deleted" => "Evidence deleted.",
            "judged" => "Decision recorded.",
            "signed" => "Declaration signed.",
            "marks" => "Marks recorded.",
            "transfer" => "Transfer requested: the awarding organisation will decide.",
            "decided" => "Transfer decided.",
            "boundaries" => "Grade boundaries saved.",
            _ => return None,
        }
        .to_string(),
    )
}

// --- the portfolio page ------------------------------------------------------------------------

struct QualRow {
    qan: String,
    slug: String,
    title: String,
    centre: String,
    status: String,
}

struct CritRow {
    /// "LO 2: Understand ..." on the first criterion of each learning outcome.
    lo_heading: String,
    /// The LO's assessor guidance, beside its criteria on the unit page.
    lo_guidance: String,
    number: String,
    text: String,
    tag: &'static str,
    status: String,
    feedback: String,
    evidence: Vec<(i64, String, String)>,
}

struct UnitRow {
    slug: String,
    ao_ref: String,
    title: String,
    groups: String,
    met: usize,
    total: usize,
    percent: usize,
    state: String,
    state_tag: &'static str,
    criteria: Vec<CritRow>,
}

struct EvRow {
    id: i64,
    title: String,
    kind: String,
    date: String,
    source: String,
    size: String,
    superseded: bool,
    mappings: usize,
    ksbs: String,
}

#[derive(Template)]
#[template(path = "portfolio.html")]
struct PortfolioPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    learner_id: i64,
    name: String,
    /// The page's main content, rendered once per portfolio state (see [`portfolio_body`]).
    body: std::sync::Arc<String>,
}

#[derive(Template)]
#[template(path = "portfolio_body.html")]
struct PortfolioBody {
    learner_id: i64,
    name: String,
    quals: Vec<QualRow>,
    met: usize,
    total: usize,
    percent: usize,
    complete_units: usize,
    units: Vec<UnitRow>,
    evidence: Vec<EvRow>,
    may_add: bool,
    achieved: Vec<String>,
    record_until: Option<String>,
}

fn unit_rows(p: &Portfolio) -> Vec<UnitRow> {
    let titles: std::collections::HashMap<i64, &str> = p
        .evidence
        .iter()
        .map(|e| (e.evidence_id, e.title.as_str()))
        .collect();
    p.units
        .iter()
        .map(|u| {
            let headings: std::collections::HashMap<&str, (String, String)> = u
                .unit
                .learning_outcomes
                .iter()
                .filter_map(|lo| {
                    lo.criteria.first().map(|ac| {
                        (
                            ac.number.as_str(),
                            (
                                format!("LO {}: {}", lo.number, lo.text),
                                lo.assessor_guidance.clone().unwrap_or_default(),
                            ),
                        )
                    })
                })
                .collect();
            let criteria = u
                .unit
                .judged_items()
                .into_iter()
                .map(|(number, text)| {
                    let status = u
                        .progress
                        .per_criterion
                        .iter()
                        .find(|(n, _)| n == number)
                        .map(|(_, s)| s.clone())
                        .unwrap_or(CriterionStatus::NoEvidence);
                    let (tag, label) = status_tag(&status);
                    CritRow {
                        lo_heading: headings
                            .get(number)
                            .map(|h| h.0.clone())
                            .unwrap_or_default(),
                        lo_guidance: headings
                            .get(number)
                            .map(|h| h.1.clone())
                            .unwrap_or_default(),
                        number: number.to_string(),
                        text: text.to_string(),
                        tag,
                        status: label,
                        feedback: match &status {
                            CriterionStatus::NotYetMet { feedback } => feedback.clone(),
                            _ => String::new(),
                        },
                        evidence: u
                            .evidence_by_criterion
                            .get(number)
                            .map(|items| {
                                items
                                    .iter()
                                    .filter_map(|(id, loc)| {
                                        titles.get(id).map(|t| (*id, t.to_string(), loc.clone()))
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    }
                })
                .collect();
            let (state, state_tag) = if u.signed_off_current {
                ("Signed off".to_string(), "tag--green")
            } else if u.locked {
                ("Signed off; evidence added since".to_string(), "tag--green")
            } else if u.progress.complete {
                ("Ready to sign off".to_string(), "tag--blue")
            } else if u
                .progress
                .per_criterion
                .iter()
                .all(|(_, s)| *s == CriterionStatus::NoEvidence)
            {
                ("Not started".to_string(), "tag--grey")
            } else {
                ("In progress".to_string(), "tag--yellow")
            };
            UnitRow {
                slug: unit_slug(&u.unit.key),
                ao_ref: u.unit.ao_ref.clone(),
                title: u.unit.title.clone(),
                groups: u
                    .in_qualifications
                    .iter()
                    .filter_map(|(_, g)| g.clone())
                    .collect::<std::collections::BTreeSet<_>>()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", "),
                met: u.progress.met,
                total: u.progress.total,
                percent: percent(u.progress.met, u.progress.total),
                state,
                state_tag,
                criteria,
            }
        })
        .collect()
}

fn evidence_rows(p: &Portfolio) -> Vec<EvRow> {
    let mut mapped: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for m in p.mappings.iter() {
        *mapped.entry(m.evidence_id).or_default() += 1;
    }
    p.evidence
        .iter()
        .rev()
        .map(|e| EvRow {
            id: e.evidence_id,
            title: e.title.clone(),
            kind: KINDS
                .iter()
                .find(|(c, _)| *c == e.kind)
                .map(|(_, t)| t.to_string())
                .unwrap_or_else(|| e.kind.clone()),
            date: e.evidence_date.clone(),
            source: SOURCES
                .iter()
                .find(|(c, _)| *c == e.source)
                .map(|(_, t)| t.to_string())
                .unwrap_or_default(),
            size: crate::evidence_store::human_size(u64::try_from(e.size).unwrap_or(0)),
            superseded: e.superseded_by.is_some(),
            mappings: mapped.get(&e.evidence_id).copied().unwrap_or(0),
            ksbs: p
                .ksbs
                .iter()
                .filter(|k| k.evidence_id == e.evidence_id)
                .map(|k| k.ksb.clone())
                .collect::<Vec<_>>()
                .join(", "),
        })
        .collect()
}

/// The portfolio page's main content. Everything in it follows from the computed portfolio
/// and what the viewer may do, so it is rendered once per state and kept (most portfolio
/// views are reads of an unchanged portfolio).
fn portfolio_body(
    app: &AppState,
    p: &Portfolio,
    learner: i64,
    name: &str,
    quals: Vec<QualRow>,
) -> std::sync::Arc<String> {
    use std::sync::Arc;
    let key = format!("{}|{}|{:?}|{name}", p.core.key, p.may_add, p.record_until);
    if let Ok(bodies) = app.portfolio_pages.read()
        && let Some((k, body)) = bodies.get(&learner)
        && *k == key
    {
        return body.clone();
    }
    let page = PortfolioBody {
        learner_id: learner,
        name: name.to_string(),
        quals,
        met: p.progress.met,
        total: p.progress.total,
        percent: percent(p.progress.met, p.progress.total),
        complete_units: p.units.iter().filter(|u| u.locked).count(),
        units: unit_rows(p),
        evidence: evidence_rows(p),
        may_add: p.may_add,
        achieved: p
            .achieved
            .iter()
            .map(|(qan, title)| format!("{title} ({qan})"))
            .collect(),
        record_until: p.record_until.as_deref().map(human_date),
    };
    let body = Arc::new(page.render().unwrap_or_else(|e| {
        tracing::error!(error = %e, "portfolio template failed");
        "<p>The portfolio could not be shown.</p>".into()
    }));
    if let Ok(mut bodies) = app.portfolio_pages.write() {
        if bodies.len() >= crate::app::portfolio::PORTFOLIO_CACHE_SIZE {
            bodies.clear();
        }
        bodies.insert(learner, (key, body.clone()));
    }
    body
}

async fn portfolio_response(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    error: Option<AppError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    let name = format!("{} {}", p.learner.given_name, p.learner.family_name);
    let quals = p
        .qualifications
        .iter()
        .map(|q| {
            let achieved = p
                .achieved
                .iter()
                .any(|(qan, _)| *qan == q.qualification.qan);
            QualRow {
                qan: q.qualification.qan.clone(),
                slug: qan_slug(&q.qualification.qan),
                title: q.qualification.title.clone(),
                centre: q.registration.centre_name.clone(),
                status: if achieved {
                    "Achieved by the signed-off units".into()
                } else {
                    "Not yet achieved".into()
                },
            }
        })
        .collect();
    let body = portfolio_body(app, &p, learner, &name, quals);
    let status = error.as_ref().map(super::status_of);
    let page = PortfolioPage {
        title: format!("Portfolio: {name}"),
        has_error: error.is_some(),
        error: error.map(|e| super::public_message(&e)),
        notice,
        learner_id: learner,
        name,
        body,
    };
    Ok(render_as(status, &page))
}

async fn portfolio_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(learner): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    portfolio_response(&app, &actor, learner, None, notice_text(n.done.as_deref())).await
}

// --- the unit page: judging, RPL, sign-off, marks ----------------------------------------------

struct SigRow {
    role: String,
    name: String,
    at: String,
    comments: String,
    hash: String,
    current: bool,
}

struct ComponentRow {
    name: String,
    weight: u32,
    words: String,
    mark: String,
}

struct ResultRow {
    grade: String,
    mark: String,
    moderated: String,
    adjustments: String,
    by: String,
    at: String,
}

struct GuidanceRow {
    lo: String,
    text: String,
    guidance: String,
}

#[derive(Template)]
#[template(path = "portfolio_unit.html")]
struct UnitPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    learner_id: i64,
    name: String,
    unit: UnitRow,
    level: u8,
    credit: String,
    simulation: String,
    method: String,
    guidance: Vec<GuidanceRow>,
    occasions: Option<u32>,
    may_assess: bool,
    may_sign_assessor: bool,
    may_sign_learner: bool,
    sign_block: String,
    signatures: Vec<SigRow>,
    current_hash: String,
    components: Vec<ComponentRow>,
    results: Vec<ResultRow>,
    may_mark: bool,
    rpl_allowed: Vec<String>,
}

async fn unit_response(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    unit_slug_or_key: &str,
    error: Option<AppError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    let pu = p
        .units
        .iter()
        .find(|u| unit_slug(&u.unit.key) == unit_slug_or_key || u.unit.key == unit_slug_or_key)
        .ok_or_else(|| PageError::from(AppError::NotFound("that unit of this learner".into())))?;
    let rows = unit_rows(&p);
    let unit = rows
        .into_iter()
        .find(|r| r.slug == unit_slug(&pu.unit.key))
        .ok_or_else(|| PageError::from(AppError::NotFound("that unit".into())))?;
    let existing: Vec<credence_domain::portfolio::Signature> = pu
        .signatures
        .iter()
        .map(|s| credence_domain::portfolio::Signature {
            role: if s.role == "assessor" {
                credence_domain::portfolio::SignerRole::Assessor
            } else {
                credence_domain::portfolio::SignerRole::Learner
            },
            person: s.person_id.to_string(),
            at: s.at.clone(),
            comments: s.comments.clone(),
            evidence_hash: s.evidence_hash.clone(),
        })
        .collect();
    let check = |role| {
        credence_domain::portfolio::can_sign(role, &pu.progress, &existing, &pu.current_hash)
    };
    let assessor_check = check(credence_domain::portfolio::SignerRole::Assessor);
    let learner_check = check(credence_domain::portfolio::SignerRole::Learner);
    let sign_block = if p.may_assess {
        assessor_check.as_ref().err().map(ToString::to_string)
    } else if p.is_learner {
        learner_check.as_ref().err().map(ToString::to_string)
    } else {
        None
    }
    .unwrap_or_default();
    let latest = pu.results.last();
    let last_marks: Vec<(String, u32)> = latest
        .and_then(|r| serde_json::from_str(&r.marks).ok())
        .unwrap_or_default();
    let status = error.as_ref().map(super::status_of);
    let rpl_allowed = unit
        .criteria
        .iter()
        .filter(|c| {
            !p.judgements
                .iter()
                .any(|j| j.unit_key == pu.unit.key && j.criterion == c.number && j.rpl == 0)
        })
        .map(|c| c.number.clone())
        .collect();
    let page = UnitPage {
        title: format!("{} {}: portfolio", pu.unit.ao_ref, pu.unit.title),
        has_error: error.is_some(),
        error: error.map(|e| super::public_message(&e)),
        notice,
        csrf: super::access::csrf_token(),
        learner_id: learner,
        name: format!("{} {}", p.learner.given_name, p.learner.family_name),
        level: pu.unit.level,
        credit: pu
            .unit
            .credit
            .map(|c| c.to_string())
            .unwrap_or_else(|| "not given".into()),
        simulation: match pu.unit.simulation {
            credence_domain::model::Simulation::Permitted => {
                "Simulation is permitted, in a realistic working environment (RWE) only.".into()
            }
            credence_domain::model::Simulation::NotPermitted => {
                "Simulation is not permitted: evidence comes from real work.".into()
            }
            credence_domain::model::Simulation::ExceptionalOnly => {
                "Simulation only in exceptional circumstances, in an RWE, with the reason recorded."
                    .into()
            }
        },
        method: pu.unit.assessment_method.clone().unwrap_or_default(),
        guidance: pu
            .unit
            .learning_outcomes
            .iter()
            .map(|lo| GuidanceRow {
                lo: lo.number.clone(),
                text: lo.text.clone(),
                guidance: lo.assessor_guidance.clone().unwrap_or_default(),
            })
            .collect(),
        occasions: pu.unit.evidence_occasions,
        may_assess: p.may_assess,
        may_sign_assessor: p.may_assess && assessor_check.is_ok(),
        may_sign_learner: p.is_learner && learner_check.is_ok(),
        sign_block,
        signatures: pu
            .signatures
            .iter()
            .map(|s| SigRow {
                role: if s.role == "assessor" {
                    "Assessor".into()
                } else {
                    "Learner".into()
                },
                name: s.person_name.clone(),
                at: s.at.clone(),
                comments: s.comments.clone(),
                hash: s.evidence_hash.clone(),
                current: s.evidence_hash == pu.current_hash,
            })
            .collect(),
        current_hash: pu.current_hash.clone(),
        components: pu
            .unit
            .assessment_components
            .iter()
            .map(|c| ComponentRow {
                name: c.name.clone(),
                weight: c.weight_percent,
                words: c.words.map(|w| format!("{w} words")).unwrap_or_default(),
                mark: last_marks
                    .iter()
                    .find(|(n, _)| *n == c.name)
                    .map(|(_, m)| m.to_string())
                    .unwrap_or_default(),
            })
            .collect(),
        results: pu
            .results
            .iter()
            .rev()
            .filter_map(|r| {
                let g: credence_domain::portfolio::GradeResult =
                    serde_json::from_str(&r.result).ok()?;
                Some(ResultRow {
                    grade: r.grade.clone(),
                    mark: format!("{:.1}%", g.percent),
                    moderated: format!("{:+} points, {:.1}%", g.moderator_adjustment, g.moderated),
                    adjustments: if g.considerations.is_empty() {
                        "None".into()
                    } else {
                        g.considerations
                            .iter()
                            .map(|c| {
                                format!(
                                    "{}: {} (+{}%)",
                                    match c.kind {
                                        ConsiderationKind::ReasonableAdjustment =>
                                            "Reasonable adjustment",
                                        ConsiderationKind::SpecialConsideration =>
                                            "Special consideration",
                                    },
                                    c.note,
                                    c.adjustment_percent
                                )
                            })
                            .collect::<Vec<_>>()
                            .join("; ")
                    },
                    by: r.recorded_by_name.clone(),
                    at: human_date(&r.recorded_at),
                })
            })
            .collect(),
        may_mark: !pu.unit.assessment_components.is_empty()
            && (p.may_assess
                || actor.has_role("centre_admin")
                || actor.has_role("ao_staff")
                || actor.has_role("eqa")),
        rpl_allowed,
        unit,
    };
    Ok(render_as(status, &page))
}

async fn unit_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, unit)): Path<(i64, String)>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    unit_response(
        &app,
        &actor,
        learner,
        &unit,
        None,
        notice_text(n.done.as_deref()),
    )
    .await
}

/// The unit's key from its URL form, among the learner's units.
async fn unit_key(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    slug: &str,
) -> AppResult<String> {
    let p = app.portfolio(actor, learner).await?;
    p.units
        .iter()
        .find(|u| unit_slug(&u.unit.key) == slug || u.unit.key == slug)
        .map(|u| u.unit.key.clone())
        .ok_or_else(|| AppError::NotFound("that unit of this learner".into()))
}

#[derive(Deserialize)]
struct JudgeForm {
    criterion: String,
    outcome: String,
    #[serde(default)]
    feedback: String,
    #[serde(default)]
    rpl: Option<String>,
}

fn outcome_of(s: &str) -> AppResult<Outcome> {
    match s {
        "met" => Ok(Outcome::Met),
        "not_yet_met" => Ok(Outcome::NotYetMet),
        _ => Err(AppError::Validation("Choose 'met' or 'not yet met'".into())),
    }
}

async fn unit_action(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    unit: &str,
    result: AppResult<()>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!(
            "/learners/{learner}/portfolio/units/{}?done={done}",
            unit_slug(unit)
        ))
        .into_response()),
        Err(e) if is_user_error(&e) => {
            unit_response(app, actor, learner, unit, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn judge(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    axum::Form(f): axum::Form<JudgeForm>,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let result = async {
        let outcome = outcome_of(&f.outcome)?;
        app.judge(
            &actor,
            learner,
            &key,
            &f.criterion,
            outcome,
            &f.feedback,
            f.rpl.is_some(),
            &client_address(&headers),
        )
        .await
    }
    .await;
    unit_action(&app, &actor, learner, &key, result, "judged").await
}

#[derive(Deserialize)]
struct SignForm {
    #[serde(default)]
    comments: String,
}

async fn sign(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    axum::Form(f): axum::Form<SignForm>,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let result = app
        .sign_unit(
            &actor,
            learner,
            &key,
            &f.comments,
            &client_address(&headers),
        )
        .await
        .map(|_| ());
    unit_action(&app, &actor, learner, &key, result, "signed").await
}

async fn marks(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, unit)): Path<(i64, String)>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    // Fields: mark:<component>=N, moderator_adjustment, consideration_kind, consideration_note,
    // consideration_percent.
    let mut marks = Vec::new();
    let mut adjustment = None;
    let (mut kind, mut note, mut pct) = (String::new(), String::new(), String::new());
    let mut problem = None;
    for (k, v) in form_urlencoded::parse(&body) {
        if let Some(c) = k.strip_prefix("mark:") {
            match v.trim().parse::<u32>() {
                Ok(m) => marks.push((c.to_string(), m)),
                Err(_) => {
                    problem = Some(format!(
                        "Enter the mark for '{c}' as a whole number from 0 to 100"
                    ))
                }
            }
        } else if k == "moderator_adjustment" && !v.trim().is_empty() {
            match v.trim().parse::<i32>() {
                Ok(a) => adjustment = Some(a),
                Err(_) => problem = Some(
                    "Enter the moderator's adjustment as a whole number of points, such as -3 or 2"
                        .into(),
                ),
            }
        } else if k == "consideration_kind" {
            kind = v.to_string();
        } else if k == "consideration_note" {
            note = v.trim().to_string();
        } else if k == "consideration_percent" {
            pct = v.trim().to_string();
        }
    }
    let result = async {
        if let Some(p) = problem {
            return Err(AppError::Validation(p));
        }
        let mut considerations = Vec::new();
        if !note.is_empty() || !pct.is_empty() {
            let adjustment_percent = if pct.is_empty() {
                0
            } else {
                pct.parse::<u32>().map_err(|_| {
                    AppError::Validation(
                        "Enter special consideration as 0 to 5 percentage points".into(),
                    )
                })?
            };
            if note.is_empty() {
                return Err(AppError::Validation(
                    "Describe the reasonable adjustment or special consideration".into(),
                ));
            }
            considerations.push(SpecialConsideration {
                kind: if kind == "reasonable_adjustment" {
                    ConsiderationKind::ReasonableAdjustment
                } else {
                    ConsiderationKind::SpecialConsideration
                },
                note: note.clone(),
                adjustment_percent,
            });
        }
        app.record_marks(
            &actor,
            learner,
            &key,
            &marks,
            adjustment,
            &considerations,
            &client_address(&headers),
        )
        .await
        .map(|_| ())
    }
    .await;
    unit_action(&app, &actor, learner, &key, result, "marks").await
}

// --- evidence: upload, page, download, mapping ------------------------------------------------

#[derive(Template)]
#[template(path = "evidence_new.html")]
struct UploadPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    csrf: String,
    learner_id: i64,
    name: String,
    kinds: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    limit: String,
    meta: EvidenceMeta,
    today: String,
    /// Set when replacing an item: its id and title.
    replacing: Option<(i64, String)>,
}

async fn upload_page(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    meta: EvidenceMeta,
    error: Option<AppError>,
    replacing: Option<(i64, String)>,
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    if !p.may_add {
        return Err(AppError::Forbidden(
            "Only the learner and their assigned assessor add evidence to this portfolio.".into(),
        )
        .into());
    }
    let status = error.as_ref().map(super::status_of);
    let page = UploadPage {
        title: if replacing.is_some() {
            "Replace evidence".into()
        } else {
            "Add evidence".into()
        },
        has_error: error.is_some(),
        error: error.map(|e| super::public_message(&e)),
        csrf: super::access::csrf_token(),
        learner_id: learner,
        name: format!("{} {}", p.learner.given_name, p.learner.family_name),
        kinds: KINDS.to_vec(),
        sources: SOURCES.to_vec(),
        limit: crate::evidence_store::human_size(app.max_upload),
        meta,
        today: chrono::Utc::now().date_naive().to_string(),
        replacing,
    };
    Ok(render_as(status, &page))
}

async fn upload_form(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(learner): Path<i64>,
) -> Result<Response, PageError> {
    let meta = EvidenceMeta {
        source: "real_workplace".into(),
        ..EvidenceMeta::default()
    };
    upload_page(&app, &actor, learner, meta, None, None).await
}

/// Read the form's text fields (which come before the file), then stream the file field
/// into the portfolio: a new item, or a new version of `replacing` (with the form's
/// `reason`). Returns what the form said, and the new item's id or the problem.
async fn receive_upload(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    multipart: &mut Multipart,
    replacing: Option<i64>,
    address: &str,
) -> (EvidenceMeta, AppResult<i64>) {
    let mut meta = EvidenceMeta::default();
    let mut reason = String::new();
    let result = loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break Err(AppError::Validation("Choose the file to upload".into())),
            Err(e) => {
                break Err(AppError::Validation(format!(
                    "the form could not be read: {e}"
                )));
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            meta.file_name = field.file_name().unwrap_or_default().to_string();
            if meta.file_name.is_empty() {
                break Err(AppError::Validation("Choose the file to upload".into()));
            }
            break match replacing {
                Some(old) => {
                    app.supersede_evidence(actor, learner, old, &reason, &meta, field, address)
                        .await
                }
                None => {
                    app.add_evidence(actor, learner, &meta, field, address)
                        .await
                }
            };
        }
        let value = match field.text().await {
            Ok(v) => v,
            Err(e) => {
                break Err(AppError::Validation(format!(
                    "the form could not be read: {e}"
                )));
            }
        };
        match name.as_str() {
            "title" => meta.title = value,
            "date" => meta.date = value,
            "kind" => meta.kind = value,
            "kind_other" => meta.kind_other = Some(value),
            "witness_name" => meta.witness_name = Some(value),
            "witness_role" => meta.witness_role = Some(value),
            "source" => meta.source = value,
            "simulation_note" => meta.simulation_note = Some(value),
            "reason" => reason = value,
            _ => {}
        }
    };
    // Read what is left of the request so the browser sees the answer.
    while let Ok(Some(_)) = multipart.next_field().await {}
    (meta, result)
}

async fn upload(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(learner): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let address = client_address(&headers);
    let (meta, result) =
        receive_upload(&app, &actor, learner, &mut multipart, None, &address).await;
    match result {
        Ok(id) => Ok(
            Redirect::to(&format!("/learners/{learner}/evidence/{id}?done=uploaded"))
                .into_response(),
        ),
        Err(e) if is_user_error(&e) => {
            upload_page(&app, &actor, learner, meta, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

struct MapRow {
    unit_key: String,
    unit: String,
    criterion: String,
    text: String,
    location: String,
    locked: bool,
}

#[derive(Template)]
#[template(path = "evidence.html")]
struct EvidencePage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    csrf: String,
    learner_id: i64,
    name: String,
    id: i64,
    item_title: String,
    kind: String,
    date: String,
    source: String,
    simulation_note: String,
    file_name: String,
    media_type: String,
    size: String,
    sha256: String,
    added_by: String,
    added_at: String,
    superseded_by: Option<i64>,
    supersede_reason: String,
    supersedes: Vec<(i64, String, String)>,
    mappings: Vec<MapRow>,
    ksbs: Vec<String>,
    ksb_options: Vec<(String, String)>,
    options: Vec<(String, String)>,
    may_change: bool,
    locked_units: String,
    kind_code: String,
    source_code: String,
    kind_other: String,
    witness_name: String,
    witness_role: String,
}

async fn evidence_response(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    id: i64,
    error: Option<AppError>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let p = app.portfolio(actor, learner).await?;
    let e = p
        .item(id)
        .ok_or_else(|| PageError::from(AppError::NotFound(format!("evidence {id}"))))?;
    let mappings = p
        .mappings
        .iter()
        .filter(|m| m.evidence_id == id)
        .map(|m| {
            let pu = p.unit(&m.unit_key);
            MapRow {
                unit_key: m.unit_key.clone(),
                unit: pu
                    .map(|u| u.unit.ao_ref.clone())
                    .unwrap_or_else(|| m.unit_key.clone()),
                text: pu
                    .and_then(|u| {
                        u.unit
                            .judged_items()
                            .into_iter()
                            .find(|(n, _)| *n == m.criterion)
                            .map(|(_, t)| t.to_string())
                    })
                    .unwrap_or_default(),
                criterion: m.criterion.clone(),
                location: m.location.clone(),
                locked: pu.is_some_and(|u| u.locked),
            }
        })
        .collect();
    let options = p
        .units
        .iter()
        .flat_map(|u| {
            u.unit.judged_items().into_iter().map(move |(n, t)| {
                let short: String = t.chars().take(90).collect();
                (
                    format!("{}|{n}", u.unit.key),
                    format!("{} {n}: {short}", u.unit.ao_ref),
                )
            })
        })
        .collect();
    let ksb_options: Vec<(String, String)> = p
        .units
        .iter()
        .flat_map(|u| u.unit.ksb.iter())
        .map(|k| {
            (
                k.code.to_uppercase(),
                format!(
                    "{}: {}",
                    k.code,
                    k.text.chars().take(80).collect::<String>()
                ),
            )
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let status = error.as_ref().map(super::status_of);
    let page = EvidencePage {
        title: format!("Evidence: {}", e.title),
        has_error: error.is_some(),
        error: error.map(|e| super::public_message(&e)),
        notice,
        csrf: super::access::csrf_token(),
        learner_id: learner,
        name: format!("{} {}", p.learner.given_name, p.learner.family_name),
        id,
        item_title: e.title.clone(),
        kind: match e.kind.as_str() {
            "witness_testimony" => format!(
                "Witness testimony by {} ({})",
                e.witness_name.clone().unwrap_or_default(),
                e.witness_role.clone().unwrap_or_default()
            ),
            "other" => e.kind_other.clone().unwrap_or_else(|| "Other".into()),
            k => KINDS
                .iter()
                .find(|(c, _)| *c == k)
                .map(|(_, t)| t.to_string())
                .unwrap_or_default(),
        },
        date: e.evidence_date.clone(),
        source: SOURCES
            .iter()
            .find(|(c, _)| *c == e.source)
            .map(|(_, t)| t.to_string())
            .unwrap_or_default(),
        simulation_note: e.simulation_note.clone().unwrap_or_default(),
        file_name: e.file_name.clone(),
        media_type: e.media_type.clone(),
        size: crate::evidence_store::human_size(u64::try_from(e.size).unwrap_or(0)),
        sha256: e.sha256.clone(),
        added_by: e.added_by_name.clone(),
        added_at: e.added_at.clone(),
        superseded_by: e.superseded_by,
        supersede_reason: e.supersede_reason.clone().unwrap_or_default(),
        supersedes: p
            .evidence
            .iter()
            .filter(|o| o.superseded_by == Some(id))
            .map(|o| {
                (
                    o.evidence_id,
                    o.title.clone(),
                    o.supersede_reason.clone().unwrap_or_default(),
                )
            })
            .collect(),
        mappings,
        ksbs: p
            .ksbs
            .iter()
            .filter(|k| k.evidence_id == id)
            .map(|k| k.ksb.clone())
            .collect(),
        ksb_options,
        options,
        may_change: p.may_add && e.superseded_by.is_none(),
        locked_units: p.locked_units_of(id).join(", "),
        kind_code: e.kind.clone(),
        source_code: e.source.clone(),
        kind_other: e.kind_other.clone().unwrap_or_default(),
        witness_name: e.witness_name.clone().unwrap_or_default(),
        witness_role: e.witness_role.clone().unwrap_or_default(),
    };
    Ok(render_as(status, &page))
}

async fn evidence_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, id)): Path<(i64, i64)>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    evidence_response(
        &app,
        &actor,
        learner,
        id,
        None,
        notice_text(n.done.as_deref()),
    )
    .await
}

async fn evidence_action(
    app: &AppState,
    actor: &crate::app::people::Actor,
    learner: i64,
    id: i64,
    result: AppResult<()>,
    done: &str,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(
            Redirect::to(&format!("/learners/{learner}/evidence/{id}?done={done}")).into_response(),
        ),
        Err(e) if is_user_error(&e) => {
            evidence_response(app, actor, learner, id, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The file, streamed, with headers that never let a browser run it as a page.
async fn download(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    let p = app.portfolio(&actor, learner).await?;
    let e = p
        .item(id)
        .ok_or_else(|| PageError::from(AppError::NotFound(format!("evidence {id}"))))?;
    let (size, stream) = app
        .evidence
        .get_stream(&e.object_key)
        .await
        .map_err(AppError::Internal)?;
    let media = if shown_inline(&e.media_type) {
        e.media_type.as_str()
    } else {
        "application/octet-stream"
    };
    let disposition = if shown_inline(&e.media_type) {
        "inline"
    } else {
        "attachment"
    };
    Ok(file_response(
        Body::from_stream(stream),
        media,
        disposition,
        &e.file_name,
        Some(size),
        &e.sha256,
    ))
}

/// A file response: its type, how to show it, its name (ASCII fallback plus RFC 5987),
/// and a content security policy that runs nothing.
fn file_response(
    body: Body,
    media: &str,
    disposition: &str,
    file_name: &str,
    size: Option<u64>,
    sha256: &str,
) -> Response {
    let ascii: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ()".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(file_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let mut res = Response::new(body);
    let h = res.headers_mut();
    let set = |h: &mut HeaderMap, k: header::HeaderName, v: String| {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_TYPE, media.to_string());
    set(
        h,
        header::CONTENT_DISPOSITION,
        format!("{disposition}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"),
    );
    if let Some(s) = size {
        set(h, header::CONTENT_LENGTH, s.to_string());
    }
    if !sha256.is_empty() {
        set(h, header::ETAG, format!("\"{sha256}\""));
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; media-src 'self'; img-src 'self'; sandbox"),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    res
}

#[derive(Deserialize)]
struct MapForm {
    /// `unit key|criterion`.
    target: String,
    #[serde(default)]
    location: String,
}

fn split_target(target: &str) -> AppResult<(String, String)> {
    target
        .rsplit_once('|')
        .map(|(u, c)| (u.to_string(), c.to_string()))
        .ok_or_else(|| AppError::Validation("Choose the criterion this evidence shows".into()))
}

async fn map(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    axum::Form(f): axum::Form<MapForm>,
) -> Result<Response, PageError> {
    let result = async {
        let (unit, criterion) = split_target(&f.target)?;
        app.map_evidence(
            &actor,
            learner,
            id,
            &unit,
            &criterion,
            &f.location,
            &client_address(&headers),
        )
        .await
    }
    .await;
    evidence_action(&app, &actor, learner, id, result, "mapped").await
}

async fn unmap(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    axum::Form(f): axum::Form<MapForm>,
) -> Result<Response, PageError> {
    let result = async {
        let (unit, criterion) = split_target(&f.target)?;
        app.unmap_evidence(
            &actor,
            learner,
            id,
            &unit,
            &criterion,
            &client_address(&headers),
        )
        .await
    }
    .await;
    evidence_action(&app, &actor, learner, id, result, "unmapped").await
}

#[derive(Deserialize)]
struct KsbForm {
    #[serde(default)]
    ksb: String,
}

async fn map_ksb(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    axum::Form(f): axum::Form<KsbForm>,
) -> Result<Response, PageError> {
    let result = app
        .map_ksb(&actor, learner, id, &f.ksb, &client_address(&headers))
        .await;
    evidence_action(&app, &actor, learner, id, result, "ksb").await
}

async fn supersede(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
    mut multipart: Multipart,
) -> Result<Response, PageError> {
    let address = client_address(&headers);
    let (_, result) =
        receive_upload(&app, &actor, learner, &mut multipart, Some(id), &address).await;
    match result {
        Ok(new_id) => Ok(Redirect::to(&format!(
            "/learners/{learner}/evidence/{new_id}?done=superseded"
        ))
        .into_response()),
        Err(e) if is_user_error(&e) => {
            evidence_response(&app, &actor, learner, id, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn delete(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((learner, id)): Path<(i64, i64)>,
) -> Result<Response, PageError> {
    match app
        .delete_evidence(&actor, learner, id, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(
            Redirect::to(&format!("/learners/{learner}/portfolio?done=deleted")).into_response(),
        ),
        Err(e) if is_user_error(&e) => {
            evidence_response(&app, &actor, learner, id, Some(e), None).await
        }
        Err(e) => Err(e.into()),
    }
}

// --- achievement logs and the zip --------------------------------------------------------------

#[derive(Template)]
#[template(path = "achievement_log.html")]
struct LogPage {
    title: String,
    has_error: bool,
    learner_id: i64,
    slug: String,
    log: crate::pdf::AchievementLog,
}

async fn log_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, qan)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let (_, log) = app
        .achievement_log(&actor, learner, &qan_from_slug(&qan))
        .await?;
    Ok(render(&LogPage {
        title: format!("{}: {}", log.title, log.learner_name),
        has_error: false,
        learner_id: learner,
        slug: qan_slug(&qan_from_slug(&qan)),
        log,
    }))
}

async fn log_pdf(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path((learner, qan)): Path<(i64, String)>,
) -> Result<Response, PageError> {
    let qan = qan_from_slug(&qan);
    let (_, log) = app.achievement_log(&actor, learner, &qan).await?;
    let bytes = tokio::task::spawn_blocking(move || crate::pdf::render(&log))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let len = bytes.len() as u64;
    Ok(file_response(
        Body::from(bytes),
        "application/pdf",
        "inline",
        &format!("achievement-log-{}-{learner}.pdf", qan_slug(&qan)),
        Some(len),
        "",
    ))
}

async fn zip(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(learner): Path<i64>,
) -> Result<Response, PageError> {
    let file = app.portfolio_zip(&actor, learner).await?;
    let size = file.metadata().map(|m| m.len()).ok();
    let stream = tokio_util_stream(file);
    Ok(file_response(
        Body::from_stream(stream),
        "application/zip",
        "attachment",
        &format!("portfolio-{learner}.zip"),
        size,
        "",
    ))
}

/// Stream an (already unlinked) temporary file in 64 KiB chunks.
fn tokio_util_stream(
    file: std::fs::File,
) -> impl futures_util::Stream<Item = Result<axum::body::Bytes, std::io::Error>> {
    let file = tokio::fs::File::from_std(file);
    futures_util::stream::unfold(file, |mut file| async move {
        use tokio::io::AsyncReadExt;
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok(axum::body::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    })
}

// --- transfers and grade boundaries ---------------------------------------------------------

#[derive(Deserialize)]
struct TransferForm {
    to_centre: String,
    #[serde(default)]
    reason: String,
}

async fn request_transfer(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path((centre, registration)): Path<(i64, i64)>,
    axum::Form(f): axum::Form<TransferForm>,
) -> Result<Response, PageError> {
    let reg = app
        .store
        .registration(registration)
        .await
        .map_err(AppError::from)?
        .filter(|r| r.centre_id == centre)
        .ok_or_else(|| {
            PageError::from(AppError::NotFound(format!("registration {registration}")))
        })?;
    let result = async {
        let to: i64 = f.to_centre.trim().parse().map_err(|_| {
            AppError::Validation("Choose the centre the learner is moving to".into())
        })?;
        app.request_transfer(
            &actor,
            registration,
            to,
            &f.reason,
            &client_address(&headers),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(
            Redirect::to(&format!("/learners/{}?done=transfer", reg.learner_id)).into_response(),
        ),
        // The learner page again, with the problem where the form is.
        Err(e) if is_user_error(&e) => {
            let status = super::status_of(&e);
            let mut res = super::people::learner_page(
                &app,
                &actor,
                reg.learner_id,
                Some(super::public_message(&e)),
                None,
            )
            .await?;
            *res.status_mut() = status;
            Ok(res)
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct DecisionForm {
    decision: String,
    #[serde(default)]
    note: String,
}

async fn decide_transfer(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(id): Path<i64>,
    axum::Form(f): axum::Form<DecisionForm>,
) -> Result<Response, PageError> {
    let approve = match f.decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(AppError::Validation("Choose approve or refuse".into()).into()),
    };
    app.decide_transfer(&actor, id, approve, &f.note, &client_address(&headers))
        .await?;
    Ok(Redirect::to("/home?done=decided").into_response())
}

#[derive(Deserialize)]
struct BoundaryForm {
    #[serde(default)]
    merit: String,
    #[serde(default)]
    distinction: String,
}

async fn grade_boundaries(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(qan): Path<String>,
    axum::Form(f): axum::Form<BoundaryForm>,
) -> Result<Response, PageError> {
    let parse = |s: &str, what: &str| -> AppResult<Option<u32>> {
        if s.trim().is_empty() {
            return Ok(None);
        }
        s.trim().parse().map(Some).map_err(|_| {
            AppError::Validation(format!(
                "Enter the {what} boundary as a percentage, such as 65"
            ))
        })
    };
    let qan = qan_from_slug(&qan);
    let merit = parse(&f.merit, "Merit")?;
    let distinction = parse(&f.distinction, "Distinction")?;
    app.set_grade_boundaries(&actor, &qan, merit, distinction, &client_address(&headers))
        .await?;
    Ok(Redirect::to(&format!(
        "/qualifications/{}?done=boundaries",
        qan_slug(&qan)
    ))
    .into_response())
}

// --- the API ---------------------------------------------------------------------------------

/// One criterion's standing in the portfolio.
#[derive(Serialize, ToSchema)]
pub struct ApiCriterion {
    pub number: String,
    pub status: CriterionStatus,
    /// Current evidence mapped to it: id and location.
    pub evidence: Vec<ApiMappedEvidence>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiMappedEvidence {
    pub evidence: i64,
    pub location: String,
}

#[derive(Serialize, ToSchema)]
pub struct ApiUnit {
    pub unit: String,
    pub ao_ref: String,
    pub title: String,
    pub met: usize,
    pub total: usize,
    pub signed_off: bool,
    /// SHA-256 of the unit's evidence set now: what a signature would carry.
    pub evidence_hash: String,
    pub criteria: Vec<ApiCriterion>,
}

#[derive(Serialize, ToSchema)]
pub struct ApiEvidence {
    pub id: i64,
    pub title: String,
    pub date: String,
    pub kind: String,
    pub source: String,
    pub file_name: String,
    pub media_type: String,
    pub size: i64,
    pub sha256: String,
    pub superseded_by: Option<i64>,
    pub supersede_reason: Option<String>,
    /// Where to download it.
    pub href: String,
}

/// A learner's portfolio.
#[derive(Serialize, ToSchema)]
pub struct ApiPortfolio {
    pub learner: i64,
    pub met: usize,
    pub total: usize,
    /// Qualifications (QANs) the signed-off units achieve.
    pub achieved: Vec<String>,
    pub units: Vec<ApiUnit>,
    pub evidence: Vec<ApiEvidence>,
}

fn api_portfolio_of(p: &Portfolio) -> ApiPortfolio {
    ApiPortfolio {
        learner: p.learner.learner_id,
        met: p.progress.met,
        total: p.progress.total,
        achieved: p.achieved.iter().map(|(q, _)| q.clone()).collect(),
        units: p
            .units
            .iter()
            .map(|u| ApiUnit {
                unit: u.unit.key.clone(),
                ao_ref: u.unit.ao_ref.clone(),
                title: u.unit.title.clone(),
                met: u.progress.met,
                total: u.progress.total,
                signed_off: u.locked,
                evidence_hash: u.current_hash.clone(),
                criteria: u
                    .progress
                    .per_criterion
                    .iter()
                    .map(|(n, s)| ApiCriterion {
                        number: n.clone(),
                        status: s.clone(),
                        evidence: u
                            .evidence_by_criterion
                            .get(n)
                            .map(|v| {
                                v.iter()
                                    .map(|(id, loc)| ApiMappedEvidence {
                                        evidence: *id,
                                        location: loc.clone(),
                                    })
                                    .collect()
                            })
                            .unwrap_or_default(),
                    })
                    .collect(),
            })
            .collect(),
        evidence: p
            .evidence
            .iter()
            .map(|e| ApiEvidence {
                id: e.evidence_id,
                title: e.title.clone(),
                date: e.evidence_date.clone(),
                kind: e.kind.clone(),
                source: e.source.clone(),
                file_name: e.file_name.clone(),
                media_type: e.media_type.clone(),
                size: e.size,
                sha256: e.sha256.clone(),
                superseded_by: e.superseded_by,
                supersede_reason: e.supersede_reason.clone(),
                href: format!("/learners/{}/evidence/{}/file", e.learner_id, e.evidence_id),
            })
            .collect(),
    }
}

/// A learner's portfolio: every unit and criterion with its status and evidence, and the
/// evidence items.
#[utoipa::path(get, path = "/api/v1/learners/{learner}/portfolio", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id")),
    responses((status = 200, body = ApiPortfolio), (status = 401, body = super::ErrorBody), (status = 404, body = super::ErrorBody)))]
pub async fn api_portfolio(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    super::ApiPath(learner): super::ApiPath<i64>,
) -> Result<axum::Json<ApiPortfolio>, ApiError> {
    let p = app.portfolio(&actor, learner).await?;
    Ok(axum::Json(api_portfolio_of(&p)))
}

/// What the uploader says about the file, as query parameters; the request body is the
/// file itself.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    pub title: String,
    /// YYYY-MM-DD
    pub date: String,
    /// worksheet, questioning, assignment, candidate_or_peer_report, professional_discussion,
    /// observation_checklist, witness_testimony, reflective_account, product_evidence,
    /// work_based_project, rpl_record, other
    pub kind: String,
    /// real_workplace, realistic_working_environment, simulation
    pub source: String,
    pub file_name: String,
    pub kind_other: Option<String>,
    pub witness_name: Option<String>,
    pub witness_role: Option<String>,
    pub simulation_note: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// Upload one evidence file: the body is the file's bytes, streamed; the details are query
/// parameters. Re-sending the same file with the same title and date returns the same item,
/// so an interrupted upload can simply be sent again.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/evidence", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), UploadParams),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Created), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 413, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn api_upload(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    super::ApiPath(learner): super::ApiPath<i64>,
    super::ApiQuery(q): super::ApiQuery<UploadParams>,
    body: Body,
) -> Result<(StatusCode, axum::Json<Created>), ApiError> {
    let meta = EvidenceMeta {
        title: q.title,
        date: q.date,
        kind: q.kind,
        kind_other: q.kind_other,
        witness_name: q.witness_name,
        witness_role: q.witness_role,
        source: q.source,
        simulation_note: q.simulation_note,
        file_name: q.file_name,
    };
    let stream = body.into_data_stream().map_err(|e| e.to_string());
    let id = app
        .add_evidence(&actor, learner, &meta, stream, &client_address(&headers))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(Created { id })))
}

#[derive(Deserialize, ToSchema)]
pub struct ApiMapping {
    /// The unit's key (`L/650/7899`) as the portfolio lists it.
    pub unit: String,
    /// `1.2`
    pub criterion: String,
    /// Where in the evidence it is shown.
    pub location: String,
}

/// Map an evidence item to a criterion of one of the learner's units.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/evidence/{evidence}/mappings", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("evidence" = i64, Path, description = "The evidence item's id")),
    request_body = ApiMapping,
    responses((status = 204), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn api_map(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    super::ApiPath((learner, evidence)): super::ApiPath<(i64, i64)>,
    ApiJson(m): ApiJson<ApiMapping>,
) -> Result<StatusCode, ApiError> {
    app.map_evidence(
        &actor,
        learner,
        evidence,
        &m.unit,
        &m.criterion,
        &m.location,
        &client_address(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ApiJudgement {
    pub unit: String,
    pub criterion: String,
    pub outcome: Outcome,
    #[serde(default)]
    pub feedback: String,
    /// Met by recognised prior learning (before assessment).
    #[serde(default)]
    pub rpl: bool,
}

/// Record an assessor's decision on a criterion.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/judgements", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id")),
    request_body = ApiJudgement,
    responses((status = 204), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn api_judge(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    super::ApiPath(learner): super::ApiPath<i64>,
    ApiJson(j): ApiJson<ApiJudgement>,
) -> Result<StatusCode, ApiError> {
    app.judge(
        &actor,
        learner,
        &j.unit,
        &j.criterion,
        j.outcome,
        &j.feedback,
        j.rpl,
        &client_address(&headers),
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ApiSignature {
    #[serde(default)]
    pub comments: String,
}

#[derive(Serialize, ToSchema)]
pub struct Signed {
    /// `assessor` or `learner`.
    pub role: String,
}

/// Sign a unit's declaration, as its assessor or as the learner (the learner signs after the
/// assessor, on the same evidence).
#[utoipa::path(post, path = "/api/v1/learners/{learner}/units/{unit}/signatures", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("unit" = String, Path, description = "The unit's key or its URL form (L-650-7899)")),
    request_body = ApiSignature,
    responses((status = 201, body = Signed), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn api_sign(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    super::ApiPath((learner, unit)): super::ApiPath<(i64, String)>,
    ApiJson(s): ApiJson<ApiSignature>,
) -> Result<(StatusCode, axum::Json<Signed>), ApiError> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let role = app
        .sign_unit(
            &actor,
            learner,
            &key,
            &s.comments,
            &client_address(&headers),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(Signed {
            role: match role {
                credence_domain::portfolio::SignerRole::Assessor => "assessor".into(),
                credence_domain::portfolio::SignerRole::Learner => "learner".into(),
            },
        }),
    ))
}

/// Delete an evidence item that no signed-off unit uses (its file goes too). Under a
/// signed-off unit an item can only be replaced, with a reason, on its page.
#[utoipa::path(delete, path = "/api/v1/learners/{learner}/evidence/{evidence}", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("evidence" = i64, Path, description = "The evidence item's id")),
    responses((status = 204), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 409, body = super::ErrorBody)))]
pub async fn api_delete_evidence(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    super::ApiPath((learner, evidence)): super::ApiPath<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    app.delete_evidence(&actor, learner, evidence, &client_address(&headers))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
pub struct ApiComponentMark {
    /// The component's name as the unit lists it ("Report", "Presentation").
    pub component: String,
    /// Percent, 0 to 100.
    pub mark: u32,
}

#[derive(Deserialize, ToSchema)]
pub struct ApiMarks {
    pub marks: Vec<ApiComponentMark>,
    /// The moderator's adjustment in percentage points: the awarding organisation's (its
    /// staff or the centre's EQA). Left out, the last one recorded stands.
    #[serde(default)]
    pub moderator_adjustment: Option<i32>,
    /// Reasonable adjustments and special consideration, recorded with the result.
    #[serde(default)]
    pub considerations: Vec<SpecialConsideration>,
}

/// Record marks for a marked unit (ISMM): the grade follows the AO's boundaries.
#[utoipa::path(post, path = "/api/v1/learners/{learner}/units/{unit}/marks", tag = "portfolio",
    params(("learner" = i64, Path, description = "The learner's id"), ("unit" = String, Path, description = "The unit's key or its URL form (ISMM-Unit-1)")),
    request_body = ApiMarks,
    responses((status = 201, body = credence_domain::portfolio::GradeResult), (status = 401, body = super::ErrorBody), (status = 403, body = super::ErrorBody), (status = 404, body = super::ErrorBody), (status = 422, body = super::ErrorBody)))]
pub async fn api_marks(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    super::ApiPath((learner, unit)): super::ApiPath<(i64, String)>,
    ApiJson(m): ApiJson<ApiMarks>,
) -> Result<
    (
        StatusCode,
        axum::Json<credence_domain::portfolio::GradeResult>,
    ),
    ApiError,
> {
    let key = unit_key(&app, &actor, learner, &unit).await?;
    let marks: Vec<(String, u32)> = m.marks.into_iter().map(|c| (c.component, c.mark)).collect();
    let result = app
        .record_marks(
            &actor,
            learner,
            &key,
            &marks,
            m.moderator_adjustment,
            &m.considerations,
            &client_address(&headers),
        )
        .await?;
    Ok((StatusCode::CREATED, axum::Json(result)))
}
