//! Pages for people: server-rendered HTML in the GOV.UK Design System's patterns, working
//! without JavaScript.

use super::AppState;
use crate::app::catalogue::{CurrentSpec, qan_from_slug, qan_slug, unit_slug};
use crate::app::{AppError, catalogue::Catalogue};
use crate::web::access::CurrentActor;
use askama::Template;
use axum::extract::{Multipart, Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use credence_domain::corrections::{Correction, Corrections};
use credence_domain::import::{Entity, FindingKind, FindingStatus, Target};
use credence_domain::model::{Grading, Qualification, Range, Simulation, Specification, Unit};
use serde::Deserialize;

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = super::access::route(r, "/", get(home));
    let r = super::access::route(r, "/aos", get(aos));
    let r = super::access::route(r, "/aos/{code}", get(ao));
    let r = super::access::route(r, "/qualifications", get(qualifications));
    let r = super::access::route(r, "/qualifications/{qan}", get(qualification));
    let r = super::access::route(
        r,
        "/qualifications/{qan}/checker",
        get(qualification_checker),
    );
    let r = super::access::route(r, "/claim", get(claim));
    let r = super::access::route(r, "/units/{unit}", get(unit));
    let r = super::access::route(r, "/search", get(search));
    let r = super::access::route(r, "/catalogue/versions", get(versions));
    let r = super::access::route(r, "/catalogue/import", get(import_form).post(import_upload));
    let r = super::access::route(r, "/catalogue/versions/{id}", get(version));
    let r = super::access::route(
        r,
        "/catalogue/versions/{id}/corrections",
        post(version_correct),
    );
    let r = super::access::route(r, "/catalogue/versions/{id}/publish", post(version_publish));
    r
}

/// A page error: rendered as a page that says what happened and where to go.
pub struct PageError {
    status: StatusCode,
    title: String,
    message: String,
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        let status = super::status_of(&e);
        let title = match status {
            StatusCode::NOT_FOUND => "Page not found",
            StatusCode::INTERNAL_SERVER_ERROR => "Sorry, there is a problem with the service",
            _ => "There is a problem",
        };
        PageError {
            status,
            title: title.into(),
            message: super::public_message(&e),
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    title: String,
    has_error: bool,
    message: String,
    back: String,
    back_text: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let page = ErrorPage {
            title: self.title,
            has_error: false,
            message: super::with_reference(self.status, self.message),
            back: "/".into(),
            back_text: "Go to the catalogue".into(),
        };
        (self.status, render(&page)).into_response()
    }
}

/// A page that shows a problem answers 422, so clients and tests can tell.
pub fn render_status<T: Template>(has_error: bool, t: &T) -> Response {
    let status = if has_error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    (status, render(t)).into_response()
}

pub fn render<T: Template>(t: &T) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                super::with_reference(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "The page could not be rendered.".into(),
                ),
            )
                .into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct MessagePage {
    title: String,
    has_error: bool,
    message: String,
}

/// A page that only says something (refusals, mainly).
pub fn message_page(status: StatusCode, message: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Page not found",
        StatusCode::FORBIDDEN => "You cannot do this",
        _ => "There is a problem",
    };
    (
        status,
        render(&MessagePage {
            title: title.into(),
            has_error: false,
            message: super::with_reference(status, message.into()),
        }),
    )
        .into_response()
}

pub fn not_found_page() -> PageError {
    PageError {
        status: StatusCode::NOT_FOUND,
        title: "Page not found".into(),
        message: "If you typed the web address, check it is correct. If you pasted it, check you copied the entire address.".into(),
    }
}

fn not_found_msg(what: String) -> PageError {
    PageError::from(AppError::NotFound(what))
}

fn opt_range(r: Option<Range>) -> String {
    r.map(|r| r.to_string())
        .unwrap_or_else(|| "Not stated".into())
}

fn opt_num(n: Option<u32>) -> String {
    n.map(|n| n.to_string())
        .unwrap_or_else(|| "Not stated".into())
}

// ---------------------------------------------------------------------------------------

struct AoRow {
    code: String,
    name: String,
    specs: String,
    qualifications: usize,
    units: usize,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    title: String,
    has_error: bool,
    aos: Vec<AoRow>,
}

fn ao_rows(cat: &Catalogue) -> Vec<AoRow> {
    let mut rows: Vec<AoRow> = Vec::new();
    for cs in &cat.specs {
        let ao = &cs.spec.awarding_organisation;
        let idx = match rows.iter().position(|r| r.code == ao.code) {
            Some(i) => i,
            None => {
                rows.push(AoRow {
                    code: ao.code.clone(),
                    name: ao.name.clone(),
                    specs: String::new(),
                    qualifications: 0,
                    units: 0,
                });
                rows.len() - 1
            }
        };
        let r = &mut rows[idx];
        if !r.specs.is_empty() {
            r.specs.push_str("; ");
        }
        r.specs.push_str(&cs.spec.title);
        r.qualifications += cs.spec.qualifications.len();
        r.units += cs.spec.units.len();
    }
    rows
}

async fn home(State(app): State<AppState>) -> Result<Response, PageError> {
    let cat = app.catalogue().await?;
    Ok(render(&HomePage {
        title: "Qualifications catalogue".into(),
        has_error: false,
        aos: ao_rows(&cat),
    }))
}

async fn aos(State(app): State<AppState>) -> Result<Response, PageError> {
    let cat = app.catalogue().await?;
    Ok(render(&HomePage {
        title: "Awarding organisations".into(),
        has_error: false,
        aos: ao_rows(&cat),
    }))
}

struct QualRow {
    slug: String,
    title: String,
    qan: String,
    level: u8,
    credit: String,
    glh: String,
    tqt: String,
}

struct QualGroup {
    code: String,
    name: String,
    rows: Vec<QualRow>,
}

struct UnitRow {
    slug: String,
    ao_ref: String,
    ofqual_ref: String,
    title: String,
    level: u8,
    credit: String,
    glh: String,
    tqt: String,
}

fn unit_row(u: &Unit) -> UnitRow {
    UnitRow {
        slug: unit_slug(&u.key),
        ao_ref: u.ao_ref.clone(),
        ofqual_ref: u.ofqual_ref.clone().unwrap_or_else(|| "None".into()),
        title: u.title.clone(),
        level: u.level,
        credit: opt_num(u.credit),
        glh: opt_num(u.glh),
        tqt: opt_num(u.tqt),
    }
}

#[derive(Template)]
#[template(path = "qualifications.html")]
struct QualificationsPage {
    title: String,
    has_error: bool,
    groups: Vec<QualGroup>,
    standalone: Vec<UnitRow>,
}

fn qual_group(cs: &CurrentSpec) -> QualGroup {
    QualGroup {
        code: cs.spec.key.clone(),
        name: format!("{} ({})", cs.spec.title, cs.spec.awarding_organisation.code),
        rows: cs
            .spec
            .qualifications
            .iter()
            .map(|q| QualRow {
                slug: qan_slug(&q.qan),
                title: q.title.clone(),
                qan: q.qan.clone(),
                level: q.level,
                credit: q.credit.to_string(),
                glh: opt_range(q.glh),
                tqt: opt_range(q.tqt),
            })
            .collect(),
    }
}

fn standalone_units(spec: &Specification) -> Vec<UnitRow> {
    spec.units
        .iter()
        .filter(|u| {
            !spec
                .qualifications
                .iter()
                .any(|q| q.units.iter().any(|qu| qu.unit == u.key))
        })
        .map(unit_row)
        .collect()
}

async fn qualifications(State(app): State<AppState>) -> Result<Response, PageError> {
    let cat = app.catalogue().await?;
    Ok(render(&QualificationsPage {
        title: "Qualifications".into(),
        has_error: false,
        groups: cat
            .specs
            .iter()
            .filter(|cs| !cs.spec.qualifications.is_empty())
            .map(qual_group)
            .collect(),
        standalone: cat
            .specs
            .iter()
            .flat_map(|cs| standalone_units(&cs.spec))
            .collect(),
    }))
}

async fn ao(
    State(app): State<AppState>,
    headers: axum::http::HeaderMap,
    Path(code): Path<String>,
) -> Result<Response, PageError> {
    // The AO's page is also its issuer Profile (the id in its credentials): a client asking
    // for JSON gets the Profile.
    let wants_json = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("json") && !a.contains("text/html"));
    if wants_json {
        let p = app.issuer_profile(&code).await?;
        return Ok((
            [(axum::http::header::CONTENT_TYPE, "application/ld+json")],
            p.to_string(),
        )
            .into_response());
    }
    let cat = app.catalogue().await?;
    let specs: Vec<&CurrentSpec> = cat
        .specs
        .iter()
        .filter(|cs| {
            cs.spec
                .awarding_organisation
                .code
                .eq_ignore_ascii_case(&code)
        })
        .collect();
    let Some(first) = specs.first() else {
        return Err(not_found_msg(format!("awarding organisation {code}")));
    };
    Ok(render(&QualificationsPage {
        title: first.spec.awarding_organisation.name.clone(),
        has_error: false,
        groups: specs
            .iter()
            .filter(|cs| !cs.spec.qualifications.is_empty())
            .map(|cs| qual_group(cs))
            .collect(),
        standalone: specs
            .iter()
            .flat_map(|cs| standalone_units(&cs.spec))
            .collect(),
    }))
}

struct UnitGroup {
    name: String,
    units: Vec<UnitRow>,
}

struct QualView {
    ao_code: String,
    ao_name: String,
    title: String,
    qan: String,
    level: u8,
    credit: String,
    glh: String,
    tqt: String,
    grading: String,
    age: String,
    assessment: Option<String>,
    entry: Option<String>,
    spec_title: String,
    doc_version: Option<String>,
    catalogue_version: i64,
    rules: Vec<String>,
    rules_text: Vec<String>,
    groups: Vec<UnitGroup>,
}

#[derive(Template)]
#[template(path = "qualification.html")]
struct QualificationPage {
    title: String,
    has_error: bool,
    q: QualView,
    checker: CheckerView,
}

#[derive(Template)]
#[template(path = "checker_result.html")]
struct CheckerFragment {
    checker: CheckerView,
}

struct CheckUnit {
    ao_ref: String,
    title: String,
    group: String,
    level: u8,
    credit: String,
    glh: String,
    checked: bool,
}

struct PlanView {
    headline: String,
    /// (unit, title, GLH, credit, why)
    units: Vec<(String, String, u32, u32, String)>,
    why_not: Vec<String>,
}

struct ResultView {
    achieved: bool,
    counted: usize,
    total_credit: u32,
    total_glh: u32,
    unmet: Vec<String>,
    notes: Vec<String>,
    plan: Option<PlanView>,
}

struct CheckerView {
    slug: String,
    units: Vec<CheckUnit>,
    result: Option<ResultView>,
}

/// The `unit=` values (repeated) and whether `plan` was asked, from a raw query string.
fn checker_params(query: Option<&str>) -> (Vec<String>, bool, bool) {
    let mut units = Vec::new();
    let mut plan = false;
    let mut asked = false;
    for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        match k.as_ref() {
            "unit" => {
                asked = true;
                units.push(v.into_owned());
            }
            "plan" => {
                asked = true;
                plan = true;
            }
            "check" => asked = true,
            _ => {}
        }
    }
    (units, plan, asked)
}

async fn checker_view(
    app: &AppState,
    cs: &CurrentSpec,
    q: &Qualification,
    query: Option<&str>,
) -> Result<CheckerView, AppError> {
    let (chosen, plan, asked) = checker_params(query);
    let units = q
        .units
        .iter()
        .filter_map(|qu| cs.spec.unit(&qu.unit).map(|u| (qu, u)))
        .map(|(qu, u)| CheckUnit {
            checked: chosen
                .iter()
                .any(|c| c.eq_ignore_ascii_case(&u.ao_ref) || *c == u.key),
            ao_ref: u.ao_ref.clone(),
            title: u.title.clone(),
            group: qu.group.clone().unwrap_or_else(|| "no group".into()),
            level: u.level,
            credit: opt_num(u.credit),
            glh: opt_num(u.glh),
        })
        .collect();
    let result = if asked {
        let e = app.check_rules(&q.qan, &chosen).await?;
        let mut notes: Vec<String> = e
            .not_counted
            .iter()
            .map(|n| format!("{} is not counted: {}", n.unit, n.reason))
            .collect();
        for s in &e.level_shares {
            notes.push(format!(
                "Level {} or above: {} of {} credits by credit value; {} of {} units by unit count",
                s.level, s.credit_at_level, s.total_credit, s.units_at_level, s.total_units
            ));
        }
        let plan = if plan {
            let p = app
                .plan(
                    &q.qan,
                    &credence_domain::rules::PlanRequest {
                        achieved: chosen.clone(),
                        wants: Vec::new(),
                        refuses: Vec::new(),
                    },
                )
                .await?;
            use credence_domain::rules::PlanStatus;
            Some(PlanView {
                headline: match p.status {
                    PlanStatus::AlreadyAchieved => {
                        "These units already achieve it: nothing more is needed.".into()
                    }
                    PlanStatus::NoCompletion => "No set of further units can complete it:".into(),
                    PlanStatus::Completion => format!(
                        "{} more {}, {} guided learning hours and {} credits: the fewest hours possible.",
                        p.units.len(),
                        if p.units.len() == 1 { "unit" } else { "units" },
                        p.added_glh,
                        p.added_credit
                    ),
                },
                units: p
                    .units
                    .iter()
                    .map(|u| {
                        (
                            u.ao_ref.clone(),
                            u.title.clone(),
                            u.glh,
                            u.credit,
                            u.reasons.join("; "),
                        )
                    })
                    .collect(),
                why_not: p.why_not.clone(),
            })
        } else {
            None
        };
        Some(ResultView {
            achieved: e.achieved,
            counted: e.counted.len(),
            total_credit: e.total_credit,
            total_glh: e.total_glh,
            unmet: e.unmet.iter().map(|u| u.message.clone()).collect(),
            notes,
            plan,
        })
    } else {
        None
    };
    Ok(CheckerView {
        slug: qan_slug(&q.qan),
        units,
        result,
    })
}

async fn qualification_checker(
    State(app): State<AppState>,
    Path(qan): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let cat = app.catalogue().await?;
    let qan = qan_from_slug(&qan);
    let (cs, q) = cat
        .qualification(&qan)
        .ok_or_else(|| not_found_msg(format!("qualification {qan}")))?;
    // Asking for the fragment is asking for an answer, even with nothing ticked.
    let query = format!("check=1&{}", query.unwrap_or_default());
    let checker = checker_view(&app, cs, q, Some(&query)).await?;
    Ok(render(&CheckerFragment { checker }))
}

pub fn grading_words(g: &Grading) -> String {
    match g {
        Grading::PassOnly => "Pass only: every pass criterion of every unit".into(),
        Grading::Marked {
            pass_mark,
            merit_mark,
            distinction_mark,
        } => {
            let b = |m: &Option<u32>| {
                m.map(|m| format!("{m}%"))
                    .unwrap_or_else(|| "set by the awarding organisation".into())
            };
            format!(
                "Marked: Fail / Pass ({pass_mark}% or more) / Merit ({}) / Distinction ({})",
                b(merit_mark),
                b(distinction_mark)
            )
        }
    }
}

fn qual_view(cs: &CurrentSpec, q: &Qualification) -> QualView {
    let spec = &cs.spec;
    let mut groups: Vec<UnitGroup> = Vec::new();
    for qu in &q.units {
        let name = qu.group.clone().unwrap_or_else(|| "Units".into());
        let Some(u) = spec.unit(&qu.unit) else {
            continue;
        };
        match groups.iter_mut().find(|g| g.name == name) {
            Some(g) => g.units.push(unit_row(u)),
            None => groups.push(UnitGroup {
                name,
                units: vec![unit_row(u)],
            }),
        }
    }
    QualView {
        ao_code: spec.awarding_organisation.code.clone(),
        ao_name: spec.awarding_organisation.name.clone(),
        title: q.title.clone(),
        qan: q.qan.clone(),
        level: q.level,
        credit: q.credit.to_string(),
        glh: opt_range(q.glh),
        tqt: opt_range(q.tqt),
        grading: grading_words(&q.grading),
        age: q
            .minimum_age
            .map(|a| format!("Approved for learners aged {a} and over"))
            .unwrap_or_else(|| "No age restriction stated".into()),
        assessment: q.assessment.clone(),
        entry: q.entry_requirements.clone(),
        spec_title: spec.title.clone(),
        doc_version: spec.document_version.clone(),
        catalogue_version: cs.version.version_number,
        rules: super::api::rules_in_words(spec, q),
        rules_text: q.rules_text.clone(),
        groups,
    }
}

async fn qualification(
    State(app): State<AppState>,
    Path(qan): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, PageError> {
    let cat = app.catalogue().await?;
    let qan = qan_from_slug(&qan);
    // A unit taken on its own (a registration's code may be one) has the unit's page.
    if cat.qualification(&qan).is_none()
        && let Some((_, p)) = cat.programme(&qan)
        && p.is_unit()
    {
        return Ok(axum::response::Redirect::permanent(&format!(
            "/units/{}",
            crate::app::catalogue::unit_slug(&p.units[0].unit)
        ))
        .into_response());
    }
    let (cs, q) = cat
        .qualification(&qan)
        .ok_or_else(|| not_found_msg(format!("qualification {qan}")))?;
    let checker = checker_view(&app, cs, q, query.as_deref()).await?;
    Ok(render(&QualificationPage {
        title: q.title.clone(),
        has_error: false,
        q: qual_view(cs, q),
        checker,
    }))
}

struct ClaimRow {
    qan: String,
    slug: String,
    title: String,
    detail: String,
    unmet: Vec<String>,
}

#[derive(Template)]
#[template(path = "claim.html")]
struct ClaimPage {
    title: String,
    has_error: bool,
    units: String,
    asked: bool,
    met: Vec<ClaimRow>,
    not_yet: Vec<ClaimRow>,
}

#[derive(Deserialize)]
struct ClaimParams {
    units: Option<String>,
}

async fn claim(
    State(app): State<AppState>,
    Query(p): Query<ClaimParams>,
) -> Result<Response, PageError> {
    let units_text = p.units.unwrap_or_default();
    let units = crate::app::rules::split_units(&units_text);
    let (mut met, mut not_yet) = (Vec::new(), Vec::new());
    if !units.is_empty() {
        let cat = app.catalogue().await?;
        let ref_of = |key: &str| {
            cat.unit(key)
                .map(|(_, u)| u.ao_ref.clone())
                .unwrap_or_else(|| key.to_string())
        };
        for c in app.claimable(&units).await? {
            if c.met {
                met.push(ClaimRow {
                    slug: qan_slug(&c.qan),
                    detail: format!(
                        "Claim with {} ({} credits)",
                        c.claim_with
                            .iter()
                            .map(|k| ref_of(k))
                            .collect::<Vec<_>>()
                            .join(", "),
                        c.claim_credit
                    ),
                    qan: c.qan,
                    title: c.title,
                    unmet: Vec::new(),
                });
            } else if !c.held.is_empty() {
                not_yet.push(ClaimRow {
                    slug: qan_slug(&c.qan),
                    detail: match &c.completion {
                        Some(p) => format!(
                            "{} more {} ({} GLH): {}",
                            p.units.len(),
                            if p.units.len() == 1 { "unit" } else { "units" },
                            p.glh,
                            p.units
                                .iter()
                                .map(|k| ref_of(k))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        None => c.why_not.join("; "),
                    },
                    qan: c.qan,
                    title: c.title,
                    unmet: c.unmet.iter().map(|u| u.message.clone()).collect(),
                });
            }
        }
    }
    Ok(render(&ClaimPage {
        title: "What can be claimed".into(),
        has_error: false,
        asked: !units.is_empty(),
        units: units_text,
        met,
        not_yet,
    }))
}

struct LoView {
    number: String,
    text: String,
    criteria: Vec<(String, String)>,
    content: Vec<(Option<String>, String)>,
    guidance: Option<String>,
}

struct KsbView {
    standard: String,
    code: String,
    text: String,
}

struct QualLink {
    slug: String,
    title: String,
    qan: String,
    group: String,
}

struct UnitView {
    ao_code: String,
    ao_ref: String,
    other_refs: Vec<String>,
    title: String,
    ofqual_ref: String,
    level: u8,
    credit: String,
    glh: String,
    tqt: String,
    simulation: String,
    occasions: Option<u32>,
    /// The AO asks for the evidence to be authenticated (OCR).
    authentication: bool,
    /// Guidance on assessment for the whole unit (OCR: the assessment strategy's words).
    assessment_guidance: Option<String>,
    method: Option<String>,
    sector: Option<String>,
    purpose: Option<String>,
    components: Vec<String>,
    los: Vec<LoView>,
    ksb: Vec<KsbView>,
    nos: Vec<String>,
    qualifications: Vec<QualLink>,
}

#[derive(Template)]
#[template(path = "unit.html")]
struct UnitPage {
    title: String,
    has_error: bool,
    u: UnitView,
}

pub fn simulation_words(s: Simulation) -> &'static str {
    match s {
        Simulation::Permitted => "Permitted, in a realistic working environment",
        Simulation::NotPermitted => "Not permitted: evidence must come from real work",
        Simulation::ExceptionalOnly => "Only in exceptional circumstances",
    }
}

async fn unit(State(app): State<AppState>, Path(id): Path<String>) -> Result<Response, PageError> {
    let cat = app.catalogue().await?;
    let (cs, u) = cat
        .unit(&id)
        .ok_or_else(|| not_found_msg(format!("unit {id}")))?;
    let view = UnitView {
        ao_code: cs.spec.awarding_organisation.code.clone(),
        ao_ref: u.ao_ref.clone(),
        other_refs: u.other_refs.clone(),
        title: u.title.clone(),
        ofqual_ref: u.ofqual_ref.clone().unwrap_or_else(|| "None given".into()),
        level: u.level,
        credit: opt_num(u.credit),
        glh: opt_num(u.glh),
        tqt: opt_num(u.tqt),
        simulation: simulation_words(u.simulation).into(),
        occasions: u.evidence_occasions,
        authentication: u.centre_authentication,
        assessment_guidance: u.assessment_guidance.clone(),
        method: u.assessment_method.clone(),
        sector: u.sector.clone(),
        purpose: u.purpose.clone(),
        components: u
            .assessment_components
            .iter()
            .map(|c| match c.words {
                Some(w) => format!("{} ({}%, {w} words)", c.name, c.weight_percent),
                None => format!("{} ({}%)", c.name, c.weight_percent),
            })
            .collect(),
        los: u
            .learning_outcomes
            .iter()
            .map(|lo| LoView {
                number: lo.number.clone(),
                text: lo.text.clone(),
                criteria: lo
                    .criteria
                    .iter()
                    .map(|ac| (ac.number.clone(), ac.text.clone()))
                    .collect(),
                content: lo
                    .indicative_content
                    .iter()
                    .map(|c| (c.number.clone(), c.text.clone()))
                    .collect(),
                guidance: lo.assessor_guidance.clone(),
            })
            .collect(),
        ksb: u
            .ksb
            .iter()
            .map(|k| KsbView {
                standard: k.standard.clone(),
                code: k.code.clone(),
                text: k.text.clone(),
            })
            .collect(),
        nos: u.nos.clone(),
        qualifications: cat
            .qualifications_with_unit(&u.key)
            .into_iter()
            .map(|(_, q)| QualLink {
                slug: qan_slug(&q.qan),
                title: q.title.clone(),
                qan: q.qan.clone(),
                group: q
                    .units
                    .iter()
                    .find(|qu| qu.unit == u.key)
                    .and_then(|qu| qu.group.clone())
                    .unwrap_or_else(|| "None".into()),
            })
            .collect(),
    };
    Ok(render(&UnitPage {
        title: format!("{} {}", u.ao_ref, u.title),
        has_error: false,
        u: view,
    }))
}

struct HitView {
    slug: String,
    ao_ref: String,
    unit_title: String,
    level: i64,
    number: String,
    text: String,
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    title: String,
    has_error: bool,
    query: String,
    /// (slug, QAN, title, level)
    quals: Vec<(String, String, String, u8)>,
    /// (slug, reference, title, level)
    units: Vec<(String, String, String, u8)>,
    hits: Vec<HitView>,
    limit: usize,
}

#[derive(Deserialize)]
struct SearchParams {
    q: Option<String>,
}

async fn search(
    State(app): State<AppState>,
    Query(p): Query<SearchParams>,
) -> Result<Response, PageError> {
    const LIMIT: usize = 200;
    let query = p.q.unwrap_or_default().trim().to_string();
    let hits = if query.is_empty() {
        Vec::new()
    } else {
        app.search_criteria(&query, LIMIT as i64).await?
    };
    let cat = app.catalogue().await?;
    let (quals, units) = cat.find(&query);
    Ok(render(&SearchPage {
        title: if query.is_empty() {
            "Search the catalogue".into()
        } else {
            format!("{query}: search the catalogue")
        },
        has_error: false,
        quals: quals
            .into_iter()
            .take(LIMIT)
            .map(|q| (qan_slug(&q.qan), q.qan.clone(), q.title.clone(), q.level))
            .collect(),
        units: units
            .into_iter()
            .take(LIMIT)
            .map(|u| {
                (
                    unit_slug(&u.key),
                    u.ao_ref.clone(),
                    u.title.clone(),
                    u.level,
                )
            })
            .collect(),
        query,
        hits: hits
            .into_iter()
            .map(|h| HitView {
                slug: unit_slug(&h.unit_key),
                ao_ref: h.ao_ref,
                unit_title: h.unit_title,
                level: h.level,
                number: h.number,
                text: h.text,
            })
            .collect(),
        limit: LIMIT,
    }))
}

// ---------------------------------------------------------------------------------------
// Catalogue administration

struct VersionView {
    id: i64,
    title: String,
    ao: String,
    key: String,
    number: i64,
    status: String,
    status_class: &'static str,
    open: i64,
    imported_at: String,
    published_at: String,
    source_name: String,
    sha_short: String,
}

fn version_view(v: crate::store::VersionRow) -> VersionView {
    let current = v.is_current == 1;
    let (status, status_class) = match v.status.as_str() {
        "published" if current => ("Published (current)".to_string(), "green"),
        "published" => ("Published (superseded)".to_string(), "grey"),
        _ => ("Draft".to_string(), "yellow"),
    };
    VersionView {
        id: v.catalogue_version_id,
        title: v.title,
        ao: v.ao_code,
        key: v.spec_key,
        number: v.version_number,
        status,
        status_class,
        open: v.open_findings,
        imported_at: crate::web::format::uk_date_time(&v.imported_at),
        published_at: v
            .published_at
            .as_deref()
            .map_or_else(|| "Not published".into(), crate::web::format::uk_date_time),
        source_name: v.source_name,
        sha_short: v.source_sha256.chars().take(12).collect(),
    }
}

#[derive(Template)]
#[template(path = "versions.html")]
struct VersionsPage {
    title: String,
    has_error: bool,
    versions: Vec<VersionView>,
}

async fn versions(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    let scope = app.catalogue_scope(&actor)?;
    Ok(render(&VersionsPage {
        title: "Catalogue versions".into(),
        has_error: false,
        versions: app
            .versions(&scope)
            .await?
            .into_iter()
            .map(version_view)
            .collect(),
    }))
}

#[derive(Template)]
#[template(path = "import.html")]
struct ImportPage {
    title: String,
    has_error: bool,
    error: Option<String>,
}

async fn import_form() -> Response {
    render(&ImportPage {
        title: "Import a specification".into(),
        has_error: false,
        error: None,
    })
}

fn import_error(status: StatusCode, message: String) -> Response {
    (
        status,
        render(&ImportPage {
            title: "Import a specification".into(),
            has_error: true,
            error: Some(message),
        }),
    )
        .into_response()
}

async fn import_upload(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    mut form: Multipart,
) -> Response {
    let scope = match app.catalogue_scope(&actor) {
        Ok(s) => s,
        Err(e) => return import_error(super::status_of(&e), super::public_message(&e)),
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut corrections: Option<Vec<u8>> = None;
    let mut publish = false;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return import_error(
                    e.status(),
                    format!(
                        "The upload could not be read ({}). Choose the file again.",
                        e.body_text()
                    ),
                );
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        let file_name = field.file_name().unwrap_or("upload.txt").to_string();
        let bytes = match field.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return import_error(
                    e.status(),
                    format!(
                        "The upload could not be read: the file must be at most {} MB ({}).",
                        credence_domain::import::MAX_SOURCE_BYTES / (1024 * 1024),
                        e.body_text()
                    ),
                );
            }
        };
        match name.as_str() {
            "file" if !bytes.is_empty() => file = Some((file_name, bytes.to_vec())),
            "corrections" if !bytes.is_empty() => corrections = Some(bytes.to_vec()),
            "publish" => publish = true,
            _ => {}
        }
    }
    let Some((name, bytes)) = file else {
        return import_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Select a specification file".into(),
        );
    };
    match app
        .import(&scope, &name, &bytes, corrections.as_deref(), publish)
        .await
    {
        Ok(outcome) => match outcome.versions.as_slice() {
            [one] => Redirect::to(&format!("/catalogue/versions/{}", one.id)).into_response(),
            _ => Redirect::to("/catalogue/versions").into_response(),
        },
        Err(e) => import_error(super::status_of(&e), super::public_message(&e)),
    }
}

struct FindingView {
    id: String,
    kind: &'static str,
    line: usize,
    seen: String,
    message: String,
    candidates: String,
    first_candidate: String,
    resolution: Option<String>,
    status: &'static str,
    status_class: &'static str,
    open: bool,
    target: Option<(String, String, String)>,
}

#[derive(Template)]
#[template(path = "version.html")]
struct VersionPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    notice: Option<String>,
    v: VersionView,
    is_draft: bool,
    layout: String,
    source_lines: usize,
    counts: String,
    repaired: usize,
    open: usize,
    resolved: usize,
    findings: Vec<FindingView>,
    /// The current version this one is compared with (its id and number), where there is
    /// another one of the same specification.
    compared_with: Option<(i64, i64)>,
    /// What changed from the current version to this one, in sentences.
    changes: Vec<String>,
    /// Who this version touches, where the specification has older versions: each centre
    /// with learners on one (id, name, learners, judged criteria to re-assess).
    touches: Option<Vec<(i64, String, usize, usize)>>,
}

fn kind_words(k: FindingKind) -> &'static str {
    match k {
        FindingKind::InferredNumber => "inferred number",
        FindingKind::RejoinedText => "re-joined text",
        FindingKind::CompletedTitle => "completed title",
        FindingKind::Disagreement => "tables disagree",
        FindingKind::InvalidIdentifier => "invalid identifier",
        FindingKind::Duplicate => "duplicate",
        FindingKind::MissingValue => "missing value",
        FindingKind::Other => "note",
    }
}

async fn version_page(
    app: &AppState,
    scope: &crate::app::authz::CatalogueScope,
    id: i64,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let (row, imported) = app.version_in_scope(scope, id).await?;
    let is_draft = row.status == "draft";
    let spec = &imported.specification;
    let los: usize = spec.units.iter().map(|u| u.learning_outcomes.len()).sum();
    let acs: usize = spec
        .units
        .iter()
        .flat_map(|u| &u.learning_outcomes)
        .map(|lo| lo.criteria.len())
        .sum();
    let report = &imported.report;
    let count = |s: FindingStatus| report.findings.iter().filter(|f| f.status == s).count();
    let findings = report
        .findings
        .iter()
        .map(|f| {
            let (status, status_class) = match f.status {
                FindingStatus::Repaired => ("Repaired", "blue"),
                FindingStatus::Open => ("Open", "red"),
                FindingStatus::Resolved => ("Resolved", "green"),
            };
            FindingView {
                id: f.id.clone(),
                kind: kind_words(f.kind),
                line: f.line,
                seen: f.seen.clone(),
                message: f.message.clone(),
                candidates: f.candidates.join(" | "),
                first_candidate: f.candidates.first().cloned().unwrap_or_default(),
                resolution: f.resolution.clone(),
                status,
                status_class,
                open: f.status == FindingStatus::Open,
                target: f.target.as_ref().map(|t| {
                    let e = match t.entity {
                        Entity::Unit => "unit",
                        Entity::Qualification => "qualification",
                    };
                    (e.to_string(), t.key.clone(), t.field.clone())
                }),
            }
        })
        .collect();
    // What this version changes from the current one of the same specification.
    let current =
        app.versions(scope).await?.into_iter().find(|v| {
            v.spec_key == row.spec_key && v.is_current == 1 && v.catalogue_version_id != id
        });
    let (compared_with, changes) = match current {
        Some(c) => {
            let (_, _, changes) = app.version_diff(scope, c.catalogue_version_id, id).await?;
            (
                Some((c.catalogue_version_id, c.version_number)),
                changes.iter().map(|c| c.sentence()).collect(),
            )
        }
        None => (None, Vec::new()),
    };
    // Who it touches: centres with learners on an older version of the specification.
    let older = app
        .versions(scope)
        .await?
        .iter()
        .any(|v| v.spec_key == row.spec_key && v.version_number < row.version_number);
    let touches = if older {
        Some(
            app.version_impact(scope, id, None)
                .await?
                .centres
                .iter()
                .map(|c| {
                    (
                        c.centre_id,
                        c.name.clone(),
                        c.learners.len(),
                        c.reassess_count(),
                    )
                })
                .collect(),
        )
    } else {
        None
    };
    let has_error = error.is_some();
    let page = VersionPage {
        compared_with,
        changes,
        touches,
        title: format!("{} (version {})", row.title, row.version_number),
        has_error,
        error,
        notice,
        is_draft,
        layout: report.layout.describe().into(),
        source_lines: report.source_lines,
        counts: format!(
            "{} qualifications, {} units, {los} learning outcomes, {acs} assessment criteria",
            spec.qualifications.len(),
            spec.units.len()
        ),
        repaired: count(FindingStatus::Repaired),
        open: count(FindingStatus::Open),
        resolved: count(FindingStatus::Resolved),
        findings,
        v: version_view(row),
    };
    let status = if has_error {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, render(&page)).into_response())
}

#[derive(Deserialize)]
struct NoticeParams {
    notice: Option<String>,
}

async fn version(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<String>,
    Query(p): Query<NoticeParams>,
) -> Result<Response, PageError> {
    let scope = app.catalogue_scope(&actor)?;
    let id: i64 = id
        .parse()
        .map_err(|_| not_found_msg(format!("catalogue version {id}")))?;
    let notice = match p.notice.as_deref() {
        Some("corrected") => Some("Your correction was applied.".to_string()),
        Some("published") => Some("This version is published.".to_string()),
        _ => None,
    };
    version_page(&app, &scope, id, None, notice).await
}

#[derive(Deserialize)]
struct CorrectionForm {
    entity: Option<String>,
    key: Option<String>,
    field: Option<String>,
    value: Option<String>,
    finding: Option<String>,
    note: Option<String>,
}

async fn version_correct(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
    Form(f): Form<CorrectionForm>,
) -> Result<Response, PageError> {
    let scope = app.catalogue_scope(&actor)?;
    let note = f.note.unwrap_or_default();
    let correction = if let Some(finding) = f.finding.filter(|s| !s.is_empty()) {
        Correction {
            target: None,
            value: None,
            finding: Some(finding),
            accept: true,
            note,
        }
    } else {
        let entity = match f.entity.as_deref() {
            Some("unit") => Entity::Unit,
            Some("qualification") => Entity::Qualification,
            _ => {
                return version_page(
                    &app,
                    &scope,
                    id,
                    Some("The correction names no record: use the form beside the finding.".into()),
                    None,
                )
                .await;
            }
        };
        Correction {
            target: Some(Target {
                entity,
                key: f.key.unwrap_or_default(),
                field: f.field.unwrap_or_default(),
            }),
            value: Some(f.value.unwrap_or_default()),
            finding: None,
            accept: false,
            note,
        }
    };
    match app
        .correct(
            &scope,
            id,
            &Corrections {
                corrections: vec![correction],
            },
        )
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/catalogue/versions/{id}?notice=corrected")).into_response())
        }
        Err(e @ (AppError::NotFound(_) | AppError::Internal(_))) => Err(e.into()),
        Err(e) => version_page(&app, &scope, id, Some(super::public_message(&e)), None).await,
    }
}

async fn version_publish(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let scope = app.catalogue_scope(&actor)?;
    match app.publish(&scope, id).await {
        Ok(_) => {
            Ok(Redirect::to(&format!("/catalogue/versions/{id}?notice=published")).into_response())
        }
        Err(e @ (AppError::NotFound(_) | AppError::Internal(_))) => Err(e.into()),
        Err(e) => version_page(&app, &scope, id, Some(super::public_message(&e)), None).await,
    }
}
