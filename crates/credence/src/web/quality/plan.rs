//! The IQA's sampling plan of a centre (coverage grid, compliance, gaps, overdue samples,
//! the samples, generating the plan and adding samples by hand), the lead IQA's sampling
//! strategy, standardisation records, making an IQA lead, and the plan in the JSON API.

use super::AppState;
use crate::app::AppError;
use crate::app::authz::QaScope;
use crate::app::catalogue::Catalogue;
use crate::app::people::Actor;
use crate::app::portfolio::{KINDS, SOURCES};
use crate::app::quality::sampling::{CentrePlan, PlanSample, QualificationPlan, risk_titles};
use crate::web::access::{CurrentActor, client_address};
use crate::web::pages::{PageError, render};
use crate::web::{ApiError, ApiQuery};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use credence_domain::qa::{
    AssessorCoverage, AssessorRisk, Coverage, Gap, RiskRates, SamplingStrategy,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use utoipa::ToSchema;

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    let r = crate::web::access::route(r, "/centres/{centre}/qa", get(plan_page));
    let r = crate::web::access::route(r, "/centres/{centre}/qa/generate", post(generate));
    let r = crate::web::access::route(r, "/centres/{centre}/qa/samples", post(add_sample));
    let r = crate::web::access::route(
        r,
        "/centres/{centre}/qa/strategy",
        get(strategy_page).post(save_strategy),
    );
    let r = crate::web::access::route(
        r,
        "/centres/{centre}/standardisation",
        get(standardisation_page).post(record_standardisation),
    );
    let r = crate::web::access::route(r, "/centres/{centre}/lead-iqa", post(lead_iqa));
    r
}

pub(super) fn api_routes(
    r: utoipa_axum::router::OpenApiRouter<AppState>,
) -> utoipa_axum::router::OpenApiRouter<AppState> {
    r.routes(utoipa_axum::routes!(api_plan))
}

// --- shared with the sample pages -------------------------------------------------------------

pub(super) use crate::web::format::uk_date;

/// Whether a stored due date is before today.
pub(super) fn is_past(due_on: &str) -> bool {
    crate::app::quality::day_of(due_on) < crate::app::quality::today()
}

/// A sample's state as a tag: (class, words).
pub(super) fn state_tag(state: &str) -> (&'static str, String) {
    match state {
        "planned" => ("tag--grey", "Planned".into()),
        "open" => ("tag--blue", "Open".into()),
        "agreed" => ("tag--green", "Agreed".into()),
        "referred" => ("tag--red", "Referred back".into()),
        "swapped" => ("tag--grey", "Swapped".into()),
        other => ("tag--grey", other.to_string()),
    }
}

/// "Interim" or "Summative".
pub(super) fn stage_title(stage: &str) -> String {
    credence_domain::qa::Stage::parse(stage)
        .map(|s| s.title().to_string())
        .unwrap_or_else(|| stage.to_string())
}

/// Unit key to (AO reference, title), from the current catalogue.
pub(super) fn unit_names(cat: &Catalogue) -> HashMap<String, (String, String)> {
    let mut out = HashMap::new();
    for cs in &cat.specs {
        for u in &cs.spec.units {
            out.entry(u.key.clone())
                .or_insert_with(|| (u.ao_ref.clone(), u.title.clone()));
        }
    }
    out
}

/// The units of a qualification, as (key, "L3B1 Title"), from the current catalogue.
pub(super) fn qualification_units(cat: &Catalogue, qan: &str) -> Vec<(String, String)> {
    let Some((cs, q)) = cat.programme(qan) else {
        return Vec::new();
    };
    let mut units: Vec<(String, String)> = q
        .units
        .iter()
        .filter_map(|qu| cs.spec.unit(&qu.unit))
        .map(|u| (u.key.clone(), format!("{} {}", u.ao_ref, u.title)))
        .collect();
    units.sort_by(|a, b| a.1.cmp(&b.1));
    units.dedup();
    units
}

/// The centre's live registrations on a qualification the actor may see, as
/// (registration id, "Name (ULN)"), by name.
pub(super) async fn registration_options(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    qan: &str,
) -> Result<Vec<(i64, String)>, AppError> {
    let mut out: Vec<(i64, String)> = app
        .registrations_at_centre(
            actor,
            centre,
            crate::app::quality::sampling::PLAN_REGISTRATION_LIMIT,
        )
        .await?
        .into_iter()
        .filter(|r| r.qan == qan && r.status != "transferred")
        .map(|r| {
            let uln = r.uln.map(|u| format!(" (ULN {u})")).unwrap_or_default();
            (
                r.registration_id,
                format!("{} {}{uln}", r.given_name, r.family_name),
            )
        })
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

/// An evidence kind's or location's words, from its key.
pub(super) fn method_title(key: &str) -> String {
    KINDS
        .iter()
        .chain(SOURCES)
        .find(|(k, _)| *k == key)
        .map(|(_, t)| t.to_string())
        .unwrap_or_else(|| key.replace('_', " "))
}

/// A form's field-linked problems: (field id, message).
pub(super) type Problems = Vec<(String, String)>;

/// A user's mistake or a refusal the page shows; anything else is an error page.
pub(super) fn shown_on_page(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation(_)
            | AppError::Conflict(_)
            | AppError::Forbidden(_)
            | AppError::TooLarge(_)
    )
}

/// The status a page showing these problems answers with: the app's (403 for a refusal,
/// 409 for a conflict), 422 for the page's own checks.
pub(super) fn problem_status(e: Option<&AppError>) -> StatusCode {
    match e {
        Some(e @ (AppError::Forbidden(_) | AppError::Conflict(_))) => crate::web::status_of(e),
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The actor's part in the centre's quality assurance, or (for someone who knows the centre
/// but has no part in it, such as an assessor there) the app's refusal to show on the page.
async fn scope_or_refusal(
    app: &AppState,
    actor: &Actor,
    centre: i64,
) -> Result<Result<QaScope, String>, PageError> {
    match app.qa_scope(actor, centre).await {
        Ok(s) => Ok(Ok(s)),
        Err(AppError::Forbidden(m)) => {
            Ok(Err(if actor.centre_roles(centre).contains(&"assessor") {
                format!("{m}. What an IQA refers back to you is on your home page.")
            } else {
                format!("{m}.")
            }))
        }
        Err(e) => Err(e.into()),
    }
}

/// Render a page with a status.
pub(super) fn render_with<T: Template>(status: StatusCode, page: &T) -> Response {
    let mut res = render(page);
    if res.status() == StatusCode::OK {
        *res.status_mut() = status;
    }
    res
}

/// A form body as (name, value) pairs.
pub(super) fn pairs(body: &[u8]) -> Vec<(String, String)> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The first value of a field.
pub(super) fn field<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// A form that does not carry a field every one of our forms sends was not made by the page:
/// refused as a form the server cannot read (as axum's `Form` refuses it).
pub(super) fn incomplete(name: &str) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        format!("Failed to deserialize form body: missing field `{name}`"),
    )
        .into_response()
}

// --- the plan page ------------------------------------------------------------------------

struct StrategyLine {
    label: String,
    value: String,
}

struct GridCell {
    /// Nothing assessed by this assessor in this unit.
    empty: bool,
    /// Work but no sample of it.
    gap: bool,
    interim: String,
    summative: String,
}

struct GridRow {
    name: String,
    risks: Vec<&'static str>,
    cells: Vec<GridCell>,
}

struct ComplianceRow {
    name: String,
    risks: Vec<&'static str>,
    learners: String,
    interim: String,
    summative: String,
    compliant: bool,
}

struct SampleView {
    id: i64,
    learner: String,
    unit: String,
    unit_title: String,
    assessor: String,
    stage: String,
    status: String,
    tag: &'static str,
    due: String,
    overdue: bool,
    reasons: Vec<String>,
}

struct OverdueView {
    id: Option<i64>,
    text: String,
    due: String,
}

struct Section {
    index: usize,
    qan: String,
    slug: String,
    title: String,
    strategy_source: String,
    strategy: Vec<StrategyLine>,
    risk_rates: Vec<StrategyLine>,
    work: usize,
    /// (AO ref, title)
    units: Vec<(String, String)>,
    grid: Vec<GridRow>,
    compliance: Vec<ComplianceRow>,
    gaps: Vec<String>,
    overdue: Vec<OverdueView>,
    samples: Vec<SampleView>,
    registrations: Vec<(i64, String)>,
    unit_options: Vec<(String, String)>,
    /// The add-a-sample form's values when it comes back with a problem.
    add: AddValues,
}

#[derive(Default, Clone)]
struct AddValues {
    registration: String,
    unit: String,
    stage: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "qa_plan.html")]
struct PlanPage {
    title: String,
    has_error: bool,
    csrf: String,
    centre_id: i64,
    centre_name: String,
    is_iqa: bool,
    is_lead: bool,
    role: String,
    picked: Option<String>,
    notice: Option<String>,
    problems: Problems,
    sections: Vec<Section>,
    /// Why this person sees nothing here.
    refusal: Option<String>,
}

fn strategy_lines(s: &SamplingStrategy) -> (Vec<StrategyLine>, Vec<StrategyLine>) {
    let line = |label: &str, value: String| StrategyLine {
        label: label.into(),
        value,
    };
    let main = vec![
        line(
            "Learners sampled",
            format!("{}% of each assessor's learners", s.learner_rate),
        ),
        line(
            "Interim work",
            format!(
                "{}% of each assessor's units judged but not signed off",
                s.interim_rate
            ),
        ),
        line(
            "Summative work",
            format!("{}% of each assessor's signed-off units", s.summative_rate),
        ),
        line(
            "Methods to cover",
            if s.methods.is_empty() {
                "Every method used in the period".into()
            } else {
                s.methods
                    .iter()
                    .map(|m| method_title(m))
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        ),
        line(
            "Days to sample",
            format!(
                "A sample is due {} days after its work is ready",
                s.days_to_sample
            ),
        ),
    ];
    let risks = AssessorRisk::ALL
        .iter()
        .map(|r| StrategyLine {
            label: capitalise(r.title()),
            value: format!("{}%", s.risk_rates.rate(*r)),
        })
        .collect();
    (main, risks)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn compliance_text(sampled: usize, required: usize, of: usize, what: &str, rate: u8) -> String {
    let what = if of == 1 {
        what.trim_end_matches('s')
    } else {
        what
    };
    format!("{sampled} sampled, {required} required ({rate}% of {of} {what})")
}

/// The plan's reasons with names for the keys and ids the domain writes in them ("covers
/// unit T/651/0346" becomes "covers unit L3C1", "covers method product_evidence" becomes
/// "covers method Product evidence", "covers assessor 7" names them).
pub(super) fn readable_reason(
    reason: &str,
    units: &HashMap<String, String>,
    assessors: &HashMap<i64, String>,
) -> String {
    let mut words: Vec<String> = Vec::new();
    let mut it = reason.split(' ').peekable();
    while let Some(w) = it.next() {
        words.push(w.to_string());
        let Some(next) = it.peek() else { continue };
        let (key, rest) = match next.find(['(', ',', ';', ')']) {
            Some(i) => next.split_at(i),
            None => (*next, ""),
        };
        let named = match w {
            "unit" => units.get(key).cloned(),
            "method" | "location" => KINDS
                .iter()
                .chain(SOURCES)
                .any(|(k, _)| *k == key)
                .then(|| method_title(key)),
            "assessor" => key
                .parse()
                .ok()
                .and_then(|id: i64| assessors.get(&id).cloned()),
            _ => None,
        };
        if let Some(n) = named {
            words.push(format!("{n}{rest}"));
            it.next();
        }
    }
    words.join(" ")
}

fn gap_message(
    g: &Gap,
    assessors: &BTreeMap<i64, String>,
    units: &BTreeMap<String, String>,
) -> String {
    match g {
        Gap::Unit(u) => format!(
            "Unit {} has work in the period but no sample",
            units.get(u).cloned().unwrap_or_else(|| u.clone())
        ),
        Gap::Assessor(a) => match assessors.get(a) {
            Some(name) => {
                format!("{name} made decisions in the period but none of them is sampled")
            }
            None => capitalise(&g.message()),
        },
        Gap::Method(m) => format!(
            "{} was used in the period but no work assessed with it is sampled",
            method_title(m)
        ),
        Gap::Location(l) => format!(
            "No work assessed in the location \"{}\" in the period is sampled",
            method_title(l)
        ),
        Gap::Group(_) => capitalise(&g.message()),
    }
}

fn sample_view(
    s: &PlanSample,
    unit_titles: &BTreeMap<String, String>,
    unit_refs: &HashMap<String, String>,
    assessors: &HashMap<i64, String>,
) -> SampleView {
    let (tag, status) = state_tag(&s.status);
    SampleView {
        id: s.sample,
        learner: s.learner_name.clone(),
        unit: s.unit_ref.clone(),
        unit_title: unit_titles
            .get(&s.unit)
            .cloned()
            .unwrap_or_else(|| s.unit.clone()),
        assessor: s.assessor_name.clone(),
        stage: stage_title(&s.stage),
        status,
        tag,
        due: uk_date(&s.due_on),
        overdue: s.overdue,
        reasons: s
            .reasons
            .iter()
            .map(|r| readable_reason(r, unit_refs, assessors))
            .collect(),
    }
}

fn grid_of(
    coverage: &Coverage,
    assessors: &BTreeMap<i64, String>,
    units: &BTreeMap<String, String>,
) -> (Vec<(String, String)>, Vec<GridRow>) {
    let mut unit_keys: Vec<&String> = coverage
        .cells
        .iter()
        .map(|c| &c.unit)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let label = |k: &String| units.get(k).cloned().unwrap_or_else(|| k.clone());
    unit_keys.sort_by_key(|k| label(k));
    let columns = unit_keys
        .iter()
        .map(|k| {
            let l = label(k);
            match l.split_once(' ') {
                Some((r, t)) => (r.to_string(), t.to_string()),
                None => (l.clone(), String::new()),
            }
        })
        .collect();
    let risks_of: HashMap<i64, &AssessorCoverage> =
        coverage.assessors.iter().map(|a| (a.assessor, a)).collect();
    let ids: BTreeSet<i64> = coverage
        .cells
        .iter()
        .map(|c| c.assessor)
        .chain(coverage.assessors.iter().map(|a| a.assessor))
        .collect();
    let mut rows: Vec<GridRow> = ids
        .into_iter()
        .map(|a| GridRow {
            name: assessors
                .get(&a)
                .cloned()
                .unwrap_or_else(|| format!("Assessor {a}")),
            risks: risks_of
                .get(&a)
                .map(|c| risk_titles(&c.risks))
                .unwrap_or_default(),
            cells: unit_keys
                .iter()
                .map(|u| {
                    match coverage
                        .cells
                        .iter()
                        .find(|c| c.assessor == a && &&c.unit == u)
                    {
                        Some(c) => GridCell {
                            empty: c.interim_work + c.summative_work == 0,
                            gap: c.interim_work + c.summative_work > 0
                                && c.interim_sampled + c.summative_sampled == 0,
                            interim: format!("{}/{}", c.interim_sampled, c.interim_work),
                            summative: format!("{}/{}", c.summative_sampled, c.summative_work),
                        },
                        None => GridCell {
                            empty: true,
                            gap: false,
                            interim: String::new(),
                            summative: String::new(),
                        },
                    }
                })
                .collect(),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    (columns, rows)
}

#[allow(clippy::too_many_arguments)]
async fn section_of(
    app: &AppState,
    actor: &Actor,
    plan: &CentrePlan,
    q: &QualificationPlan,
    index: usize,
    cat: &Catalogue,
    is_iqa: bool,
    add: Option<&AddValues>,
) -> Result<Section, AppError> {
    let (strategy, risk_rates) = strategy_lines(&q.strategy);
    let (units, grid) = grid_of(&q.coverage, &plan.assessors, &plan.units);
    let compliance = {
        let mut rows: Vec<ComplianceRow> = q
            .coverage
            .assessors
            .iter()
            .map(|a| ComplianceRow {
                name: plan
                    .assessors
                    .get(&a.assessor)
                    .cloned()
                    .unwrap_or_else(|| format!("Assessor {}", a.assessor)),
                risks: risk_titles(&a.risks),
                learners: compliance_text(
                    a.learners_sampled,
                    a.learners_required,
                    a.learners,
                    "learners",
                    a.learner_rate,
                ),
                interim: compliance_text(
                    a.interim_sampled,
                    a.interim_required,
                    a.interim_work,
                    "units",
                    a.interim_rate,
                ),
                summative: compliance_text(
                    a.summative_sampled,
                    a.summative_required,
                    a.summative_work,
                    "units",
                    a.summative_rate,
                ),
                compliant: a.compliant,
            })
            .collect();
        rows.sort_by(|a, b| a.name.cmp(&b.name));
        rows
    };
    let overdue = q
        .coverage
        .overdue
        .iter()
        .map(|o| {
            let s = q.samples.iter().find(|s| {
                s.registration == o.registration && s.unit == o.unit && s.stage == o.stage.key()
            });
            let unit = plan
                .units
                .get(&o.unit)
                .cloned()
                .unwrap_or_else(|| o.unit.clone());
            let assessor = plan.assessors.get(&o.assessor).cloned().unwrap_or_default();
            OverdueView {
                id: s.map(|s| s.sample),
                text: format!(
                    "{}: {unit}, {} (assessor {assessor})",
                    s.map(|s| s.learner_name.clone()).unwrap_or_default(),
                    o.stage.title().to_lowercase()
                ),
                due: o.due_on.format("%-d %B %Y").to_string(),
            }
        })
        .collect();
    let unit_refs: HashMap<String, String> = plan
        .units
        .iter()
        .map(|(k, v)| (k.clone(), v.split(' ').next().unwrap_or(k).to_string()))
        .collect();
    let assessor_names: HashMap<i64, String> = plan
        .assessors
        .iter()
        .map(|(k, v)| (*k, v.clone()))
        .collect();
    let mut samples: Vec<SampleView> = q
        .samples
        .iter()
        .map(|s| sample_view(s, &plan.units, &unit_refs, &assessor_names))
        .collect();
    samples.sort_by(|a, b| {
        let order = |v: &SampleView| match v.status.as_str() {
            "Open" => 0,
            "Planned" => 1,
            "Referred back" => 2,
            _ => 3,
        };
        (order(a), !a.overdue).cmp(&(order(b), !b.overdue))
    });
    let (registrations, unit_options) = if is_iqa {
        let with_work: BTreeSet<&String> = q.coverage.cells.iter().map(|c| &c.unit).collect();
        let mut units = qualification_units(cat, &q.qan);
        // Units with assessed work first: only those can be sampled.
        units.sort_by_key(|(k, _)| !with_work.contains(k));
        (
            registration_options(app, actor, plan.centre, &q.qan).await?,
            units,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(Section {
        index,
        qan: q.qan.clone(),
        slug: crate::app::catalogue::qan_slug(&q.qan),
        title: q.title.clone(),
        strategy_source: match &q.strategy_set_at {
            Some(at) => format!("Set by the lead IQA on {}", uk_date(at)),
            None => {
                "The defaults: the lead IQA has not set a strategy for this qualification".into()
            }
        },
        strategy,
        risk_rates,
        work: q.work,
        units,
        grid,
        compliance,
        gaps: q
            .coverage
            .gaps
            .iter()
            .map(|g| gap_message(g, &plan.assessors, &plan.units))
            .collect(),
        overdue,
        samples,
        registrations,
        unit_options,
        add: add.cloned().unwrap_or_default(),
    })
}

#[derive(Deserialize, Default)]
struct PlanQuery {
    #[serde(default)]
    qualification: Option<String>,
    #[serde(default)]
    added: Option<usize>,
    /// A sample added by hand.
    #[serde(default)]
    sample_added: Option<i64>,
}

fn picked(q: Option<&str>) -> Option<String> {
    q.map(str::trim)
        .filter(|q| !q.is_empty())
        .map(crate::app::catalogue::qan_from_slug)
}

fn role_words(scope: &QaScope) -> String {
    use crate::app::authz::QaRole;
    match scope.role() {
        QaRole::Iqa { lead: true } => "lead IQA".into(),
        QaRole::Iqa { lead: false } => "IQA".into(),
        QaRole::CentreAdmin => "centre administrator".into(),
        QaRole::Eqa { aos } => format!("EQA for {}", aos.join(", ")),
        QaRole::AoStaff { aos } => format!("{} staff", aos.join(", ")),
    }
}

/// A problem the plan page shows: the error, the field (or button) it is about, and the
/// add-a-sample form's values with its qualification when it came from that form.
struct PlanProblem {
    error: AppError,
    field: String,
    add: Option<(String, AddValues)>,
}

/// The plan page, with a notice or a problem.
async fn plan_response(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    qualification: Option<String>,
    notice: Option<String>,
    problem: Option<PlanProblem>,
) -> Result<Response, PageError> {
    let centre_row = app.centre(centre).await?;
    let scope = match scope_or_refusal(app, actor, centre).await? {
        Ok(s) => s,
        Err(refusal) => {
            return Ok(render(&PlanPage {
                title: format!("Sampling plan: {}", centre_row.name),
                has_error: false,
                csrf: String::new(),
                centre_id: centre,
                centre_name: centre_row.name,
                is_iqa: false,
                is_lead: false,
                role: String::new(),
                picked: None,
                notice: None,
                problems: Problems::new(),
                sections: Vec::new(),
                refusal: Some(refusal),
            }));
        }
    };
    let plan = app.qa_plan(actor, centre, qualification.as_deref()).await?;
    let cat = app.catalogue().await?;
    let mut sections = Vec::new();
    for (i, q) in plan.qualifications.iter().enumerate() {
        let add = problem
            .as_ref()
            .and_then(|p| p.add.as_ref())
            .filter(|(qan, _)| *qan == q.qan)
            .map(|(_, v)| v);
        sections.push(section_of(app, actor, &plan, q, i, &cat, scope.is_iqa(), add).await?);
    }
    let mut problems = Problems::new();
    let mut status = StatusCode::OK;
    if let Some(p) = &problem {
        let field = match &p.add {
            Some((qan, _)) => {
                let index = sections
                    .iter()
                    .find(|s| s.qan == *qan)
                    .map_or(0, |s| s.index);
                format!("add-{}-{index}", p.field)
            }
            None => p.field.clone(),
        };
        problems.push((field, crate::web::public_message(&p.error)));
        status = problem_status(Some(&p.error));
    }
    let page = PlanPage {
        title: format!("Sampling plan: {}", centre_row.name),
        has_error: !problems.is_empty(),
        csrf: actor.csrf.clone().unwrap_or_default(),
        centre_id: centre,
        centre_name: centre_row.name,
        is_iqa: scope.is_iqa(),
        is_lead: scope.is_lead_iqa(),
        role: role_words(&scope),
        picked: qualification,
        notice,
        problems,
        sections,
        refusal: None,
    };
    Ok(render_with(status, &page))
}

async fn plan_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
    Query(q): Query<PlanQuery>,
) -> Result<Response, PageError> {
    let notice = match q.sample_added {
        Some(id) => Some(format!(
            "Sample {id} added to the plan: open it from the samples below."
        )),
        None => q.added.map(|n| match n {
            0 => "No sample added: the plan already covers the work and meets the strategy."
                .to_string(),
            n => format!("{} added to the plan.", plural(n, "sample", "samples")),
        }),
    };
    plan_response(
        &app,
        &actor,
        centre,
        picked(q.qualification.as_deref()),
        notice,
        None,
    )
    .await
}

#[derive(Deserialize)]
struct GenerateForm {
    /// Blank: every qualification.
    qualification: String,
}

fn plan_link(centre: i64, qualification: Option<&str>, extra: &str) -> String {
    let mut query: Vec<String> = Vec::new();
    if let Some(q) = qualification {
        query.push(format!(
            "qualification={}",
            form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ));
    }
    if !extra.is_empty() {
        query.push(extra.to_string());
    }
    if query.is_empty() {
        format!("/centres/{centre}/qa")
    } else {
        format!("/centres/{centre}/qa?{}", query.join("&"))
    }
}

async fn generate(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(f): Form<GenerateForm>,
) -> Result<Response, PageError> {
    let qualification = picked(Some(&f.qualification));
    if app.qa_plan_is_a_task(&actor, centre).await? {
        // A large centre: the plan is generated in the background, followed on its page.
        let task = app
            .start_task(
                &actor,
                crate::app::tasks::TaskWork::QaPlan {
                    centre,
                    qualification: qualification.clone(),
                },
                &client_address(&headers),
            )
            .await?;
        return Ok(crate::web::tasks::see_task(task));
    }
    match app
        .generate_qa_plan(
            &actor,
            centre,
            qualification.as_deref(),
            &client_address(&headers),
        )
        .await
    {
        Ok(n) => Ok(Redirect::to(&plan_link(
            centre,
            qualification.as_deref(),
            &format!("added={n}"),
        ))
        .into_response()),
        Err(e) if shown_on_page(&e) => {
            plan_response(
                &app,
                &actor,
                centre,
                qualification,
                None,
                Some(PlanProblem {
                    error: e,
                    field: "generate".into(),
                    add: None,
                }),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "message.html")]
struct Refusal {
    title: String,
    has_error: bool,
    message: String,
}

/// A refusal or a problem with an action that has no form to show it beside.
pub(super) fn refusal_page(status: StatusCode, e: &AppError) -> Response {
    let title = match status {
        StatusCode::FORBIDDEN => "You cannot do this",
        StatusCode::NOT_FOUND => "Page not found",
        _ => "There is a problem",
    };
    render_with(
        status,
        &Refusal {
            title: title.into(),
            has_error: true,
            message: crate::web::public_message(e),
        },
    )
}

#[derive(Deserialize)]
struct AddForm {
    qualification: String,
    registration: String,
    unit: String,
    #[serde(default)]
    stage: String,
    reason: String,
}

/// Which field of the add (or swap) form a problem is about.
pub(super) fn sample_field(e: &AppError) -> &'static str {
    let m = e.to_string().to_lowercase();
    if m.contains("reason") || m.contains("why") {
        "reason"
    } else if m.contains("stage") {
        "stage"
    } else if m.contains("registration") || m.contains("learner") {
        "registration"
    } else {
        "unit"
    }
}

async fn add_sample(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(f): Form<AddForm>,
) -> Result<Response, PageError> {
    let qualification = picked(Some(&f.qualification));
    let values = AddValues {
        registration: f.registration.clone(),
        unit: f.unit.clone(),
        stage: f.stage.clone(),
        reason: f.reason.clone(),
    };
    let result = async {
        let registration: i64 =
            f.registration.trim().parse().map_err(|_| {
                AppError::Validation("Choose the learner whose work to sample".into())
            })?;
        if f.unit.trim().is_empty() {
            return Err(AppError::Validation("Choose the unit to sample".into()));
        }
        if f.stage.trim().is_empty() {
            return Err(AppError::Validation(
                "Choose the stage to sample: interim or summative".into(),
            ));
        }
        app.add_sample(
            &actor,
            centre,
            registration,
            f.unit.trim(),
            f.stage.trim(),
            &f.reason,
            &client_address(&headers),
        )
        .await
    }
    .await;
    match result {
        Ok(id) => Ok(Redirect::to(&plan_link(
            centre,
            qualification.as_deref(),
            &format!("sample_added={id}"),
        ))
        .into_response()),
        Err(e) if shown_on_page(&e) || matches!(e, AppError::NotFound(_)) => {
            let field = sample_field(&e).to_string();
            let e = match e {
                AppError::NotFound(what) => AppError::Validation(format!(
                    "{what} was not found at this centre: choose a learner from the list"
                )),
                e => e,
            };
            plan_response(
                &app,
                &actor,
                centre,
                qualification.clone(),
                None,
                Some(PlanProblem {
                    error: e,
                    field,
                    add: Some((qualification.unwrap_or_default(), values)),
                }),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// --- the sampling strategy ----------------------------------------------------------------

/// One numeric field of the strategy form.
struct StrategyField {
    id: String,
    label: String,
    hint: String,
    value: String,
    error: Option<String>,
    /// The ids of its hint and error message.
    described_by: String,
}

fn strategy_field(
    id: &str,
    label: &str,
    hint: &str,
    value: &str,
    problems: &Problems,
) -> StrategyField {
    let error = problems
        .iter()
        .find(|(f, _)| f == id)
        .map(|(_, m)| m.clone());
    let mut described = Vec::new();
    if !hint.is_empty() {
        described.push(format!("{id}-hint"));
    }
    if error.is_some() {
        described.push(format!("{id}-error"));
    }
    StrategyField {
        id: id.into(),
        label: label.into(),
        hint: hint.into(),
        value: value.into(),
        error,
        described_by: described.join(" "),
    }
}

impl StrategyValues {
    /// The form's numeric fields: base rates, days to sample, risk rates.
    fn fields(
        &self,
        problems: &Problems,
    ) -> (Vec<StrategyField>, StrategyField, Vec<StrategyField>) {
        let base = vec![
            strategy_field(
                "learner_rate",
                "Learners to sample, %",
                "The percentage of each assessor's learners who have at least one sample",
                &self.learner_rate,
                problems,
            ),
            strategy_field(
                "interim_rate",
                "Interim work to sample, %",
                "The percentage of each assessor's units judged but not signed off",
                &self.interim_rate,
                problems,
            ),
            strategy_field(
                "summative_rate",
                "Summative work to sample, %",
                "The percentage of each assessor's signed-off units",
                &self.summative_rate,
                problems,
            ),
        ];
        let days = strategy_field(
            "days_to_sample",
            "Days to sample",
            "A sample is due this many days after its work is ready (1 to 365)",
            &self.days_to_sample,
            problems,
        );
        let risks = self
            .risks
            .iter()
            .map(|(k, title, v)| {
                strategy_field(
                    &format!("risk_{k}"),
                    &format!("{title}, %"),
                    "",
                    v,
                    problems,
                )
            })
            .collect();
        (base, days, risks)
    }
}

/// The strategy form's values as typed.
#[derive(Clone, Default)]
struct StrategyValues {
    learner_rate: String,
    interim_rate: String,
    summative_rate: String,
    days_to_sample: String,
    /// (risk key, title, value)
    risks: Vec<(&'static str, String, String)>,
    methods: Vec<String>,
}

impl StrategyValues {
    fn of(s: &SamplingStrategy) -> Self {
        StrategyValues {
            learner_rate: s.learner_rate.to_string(),
            interim_rate: s.interim_rate.to_string(),
            summative_rate: s.summative_rate.to_string(),
            days_to_sample: s.days_to_sample.to_string(),
            risks: AssessorRisk::ALL
                .iter()
                .map(|r| {
                    (
                        r.key(),
                        capitalise(r.title()),
                        s.risk_rates.rate(*r).to_string(),
                    )
                })
                .collect(),
            methods: s.methods.clone(),
        }
    }

    fn from_form(p: &[(String, String)]) -> Self {
        let get = |k: &str| field(p, k).unwrap_or_default().trim().to_string();
        StrategyValues {
            learner_rate: get("learner_rate"),
            interim_rate: get("interim_rate"),
            summative_rate: get("summative_rate"),
            days_to_sample: get("days_to_sample"),
            risks: AssessorRisk::ALL
                .iter()
                .map(|r| {
                    (
                        r.key(),
                        capitalise(r.title()),
                        get(&format!("risk_{}", r.key())),
                    )
                })
                .collect(),
            methods: p
                .iter()
                .filter(|(k, _)| k == "methods")
                .map(|(_, v)| v.clone())
                .collect(),
        }
    }

    /// The strategy, or every problem with the form (field id, message).
    fn strategy(&self) -> Result<SamplingStrategy, Problems> {
        let mut problems = Problems::new();
        let mut rate = |id: &str, what: &str, text: &str| -> u8 {
            match text.trim().trim_end_matches('%').trim().parse::<u8>() {
                Ok(n) if n <= 100 => n,
                _ => {
                    problems.push((
                        id.to_string(),
                        format!("Enter the {what} as a whole number from 0 to 100"),
                    ));
                    0
                }
            }
        };
        let learner_rate = rate("learner_rate", "learner rate", &self.learner_rate);
        let interim_rate = rate("interim_rate", "interim rate", &self.interim_rate);
        let summative_rate = rate("summative_rate", "summative rate", &self.summative_rate);
        let mut risk = |key: &str| -> u8 {
            let (k, title, v) = self
                .risks
                .iter()
                .find(|(k, _, _)| *k == key)
                .cloned()
                .unwrap_or((key, String::new(), String::new()));
            rate(
                &format!("risk_{k}"),
                &format!("rate for \"{}\"", title.to_lowercase()),
                &v,
            )
        };
        let risk_rates = RiskRates {
            new_to_centre: risk("new_to_centre"),
            working_towards: risk("working_towards"),
            cpd_short: risk("cpd_short"),
            recent_referrals: risk("recent_referrals"),
            new_qualification: risk("new_qualification"),
            standardisation_concern: risk("standardisation_concern"),
        };
        let days_to_sample = match self.days_to_sample.trim().parse::<u16>() {
            Ok(n) if (1..=365).contains(&n) => n,
            _ => {
                problems.push((
                    "days_to_sample".into(),
                    "Enter the days to sample as a whole number from 1 to 365".into(),
                ));
                30
            }
        };
        let methods: Vec<String> = self
            .methods
            .iter()
            .filter(|m| KINDS.iter().any(|(k, _)| k == m))
            .cloned()
            .collect();
        if methods.len() != self.methods.len() {
            problems.push((
                format!("method-{}", KINDS[0].0),
                "Choose the methods to cover from the list".into(),
            ));
        }
        if problems.is_empty() {
            Ok(SamplingStrategy {
                learner_rate,
                interim_rate,
                summative_rate,
                methods,
                days_to_sample,
                risk_rates,
            })
        } else {
            Err(problems)
        }
    }
}

#[derive(Template)]
#[template(path = "qa_strategy.html")]
struct StrategyPage {
    title: String,
    has_error: bool,
    csrf: String,
    centre_id: i64,
    centre_name: String,
    is_lead: bool,
    /// (QAN, title)
    qualifications: Vec<(String, String)>,
    qan: String,
    qual_title: String,
    source: String,
    base_fields: Vec<StrategyField>,
    /// One field, as a list for the template's loop.
    days_field: Vec<StrategyField>,
    risk_fields: Vec<StrategyField>,
    /// (key, words, ticked)
    method_choices: Vec<(&'static str, &'static str, bool)>,
    notice: Option<String>,
    problems: Problems,
    read_only: Vec<StrategyLine>,
    read_only_risks: Vec<StrategyLine>,
    /// Why this person sees nothing here.
    refusal: Option<String>,
}

#[derive(Deserialize, Default)]
struct StrategyQuery {
    #[serde(default)]
    qualification: Option<String>,
    #[serde(default)]
    saved: Option<String>,
}

async fn strategy_response(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    qualification: Option<String>,
    notice: Option<String>,
    typed: Option<(StrategyValues, Problems, StatusCode)>,
) -> Result<Response, PageError> {
    let centre_row = app.centre(centre).await?;
    let scope = match scope_or_refusal(app, actor, centre).await? {
        Ok(s) => s,
        Err(refusal) => {
            return Ok(render(&StrategyPage {
                title: format!("Sampling strategy: {}", centre_row.name),
                has_error: false,
                csrf: String::new(),
                centre_id: centre,
                centre_name: centre_row.name,
                is_lead: false,
                qualifications: Vec::new(),
                qan: String::new(),
                qual_title: String::new(),
                source: String::new(),
                base_fields: Vec::new(),
                days_field: Vec::new(),
                risk_fields: Vec::new(),
                method_choices: Vec::new(),
                notice: None,
                problems: Problems::new(),
                read_only: Vec::new(),
                read_only_risks: Vec::new(),
                refusal: Some(refusal),
            }));
        }
    };
    let cat = app.catalogue().await?;
    let qualifications: Vec<(String, String)> = app
        .approvals(centre)
        .await?
        .into_iter()
        .filter(|a| scope.sees_ao(&a.ao_code))
        .map(|a| {
            let title = cat
                .programme(&a.qan)
                .map(|(_, q)| q.title.clone())
                .unwrap_or_default();
            (a.qan, title)
        })
        .collect();
    let qan = match qualification {
        Some(q) if qualifications.iter().any(|(x, _)| *x == q) => q,
        Some(q) => {
            return Err(AppError::NotFound(format!("qualification {q} at this centre")).into());
        }
        None => match qualifications.first() {
            Some((q, _)) => q.clone(),
            None => String::new(),
        },
    };
    let (strategy, set_at) = if qan.is_empty() {
        (SamplingStrategy::default(), None)
    } else {
        app.sampling_strategy(centre, &qan).await?
    };
    let (read_only, read_only_risks) = strategy_lines(&strategy);
    let (values, problems, status) = match typed {
        Some((v, p, s)) => (v, p, s),
        None => (
            StrategyValues::of(&strategy),
            Problems::new(),
            StatusCode::OK,
        ),
    };
    let (base_fields, days_field, risk_fields) = values.fields(&problems);
    let method_choices = KINDS
        .iter()
        .map(|(k, t)| (*k, *t, values.methods.iter().any(|m| m == k)))
        .collect();
    let page = StrategyPage {
        title: format!("Sampling strategy: {}", centre_row.name),
        has_error: !problems.is_empty(),
        csrf: actor.csrf.clone().unwrap_or_default(),
        centre_id: centre,
        centre_name: centre_row.name,
        is_lead: scope.is_lead_iqa(),
        qual_title: qualifications
            .iter()
            .find(|(q, _)| *q == qan)
            .map(|(_, t)| t.clone())
            .unwrap_or_default(),
        qualifications,
        qan,
        source: match set_at {
            Some(at) => format!("Set by the lead IQA on {}", uk_date(&at)),
            None => "The defaults (not set yet)".into(),
        },
        base_fields,
        days_field: vec![days_field],
        risk_fields,
        method_choices,
        notice,
        problems,
        read_only,
        read_only_risks,
        refusal: None,
    };
    Ok(render_with(status, &page))
}

async fn strategy_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
    Query(q): Query<StrategyQuery>,
) -> Result<Response, PageError> {
    let notice = q
        .saved
        .is_some()
        .then(|| "The sampling strategy is saved. The next plan follows it.".to_string());
    strategy_response(
        &app,
        &actor,
        centre,
        picked(q.qualification.as_deref()),
        notice,
        None,
    )
    .await
}

async fn save_strategy(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let p = pairs(&body);
    let Some(qan) = field(&p, "qualification").map(|q| q.trim().to_string()) else {
        return Ok(incomplete("qualification"));
    };
    let values = StrategyValues::from_form(&p);
    let strategy = match values.strategy() {
        Ok(s) => s,
        Err(problems) => {
            return strategy_response(
                &app,
                &actor,
                centre,
                Some(qan),
                None,
                Some((values, problems, StatusCode::UNPROCESSABLE_ENTITY)),
            )
            .await;
        }
    };
    match app
        .set_sampling_strategy(&actor, centre, &qan, &strategy, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!(
            "/centres/{centre}/qa/strategy?qualification={}&saved=1",
            form_urlencoded::byte_serialize(qan.as_bytes()).collect::<String>()
        ))
        .into_response()),
        Err(e) if shown_on_page(&e) => {
            let status = problem_status(Some(&e));
            let problems = crate::web::public_message(&e)
                .split("; ")
                .map(|m| ("learner_rate".to_string(), m.to_string()))
                .collect();
            strategy_response(
                &app,
                &actor,
                centre,
                Some(qan),
                None,
                Some((values, problems, status)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// --- standardisation ------------------------------------------------------------------------

struct StandardisationView {
    kind: String,
    held_on: String,
    assessor: String,
    attendees: String,
    units: String,
    outcome: String,
    concerns: bool,
    notes: String,
    actions: String,
    recorded: String,
}

#[derive(Clone, Default)]
struct StandardisationValues {
    kind: String,
    held_on: String,
    assessor: String,
    attendees: Vec<String>,
    units: String,
    outcome: String,
    notes: String,
    actions: String,
}

#[derive(Template)]
#[template(path = "standardisation.html")]
struct StandardisationPage {
    title: String,
    has_error: bool,
    csrf: String,
    centre_id: i64,
    centre_name: String,
    is_iqa: bool,
    records: Vec<StandardisationView>,
    /// (person, name)
    assessors: Vec<(String, String)>,
    /// (person, "Name, role")
    staff: Vec<(String, String)>,
    values: StandardisationValues,
    notice: Option<String>,
    problems: Problems,
    /// Why this person sees nothing here.
    refusal: Option<String>,
}

#[derive(Deserialize, Default)]
struct StandardisationQuery {
    #[serde(default)]
    recorded: Option<String>,
}

async fn standardisation_response(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    notice: Option<String>,
    typed: Option<(StandardisationValues, Problems, StatusCode)>,
) -> Result<Response, PageError> {
    let centre_row = app.centre(centre).await?;
    let scope = match scope_or_refusal(app, actor, centre).await? {
        Ok(s) => s,
        Err(refusal) => {
            return Ok(render(&StandardisationPage {
                title: format!("Standardisation: {}", centre_row.name),
                has_error: false,
                csrf: String::new(),
                centre_id: centre,
                centre_name: centre_row.name,
                is_iqa: false,
                records: Vec::new(),
                assessors: Vec::new(),
                staff: Vec::new(),
                values: StandardisationValues::default(),
                notice: None,
                problems: Problems::new(),
                refusal: Some(refusal),
            }));
        }
    };
    let records = app.standardisations(actor, centre).await?;
    let staff_rows = app
        .store
        .centre_staff(centre)
        .await
        .map_err(AppError::from)?;
    let mut names: HashMap<i64, String> = HashMap::new();
    let mut staff: Vec<(String, String)> = Vec::new();
    let mut roles: BTreeMap<i64, (String, Vec<&'static str>)> = BTreeMap::new();
    for s in &staff_rows {
        names.insert(s.person_id, s.display_name.clone());
        if s.role == "learner" {
            continue;
        }
        roles
            .entry(s.person_id)
            .or_insert_with(|| (s.display_name.clone(), Vec::new()))
            .1
            .push(crate::app::people::role_name(&s.role));
    }
    for (id, (name, r)) in &roles {
        staff.push((id.to_string(), format!("{name} ({})", r.join(", "))));
    }
    staff.sort_by(|a, b| a.1.cmp(&b.1));
    let mut assessors: Vec<(String, String)> = staff_rows
        .iter()
        .filter(|s| s.role == "assessor")
        .map(|s| (s.person_id.to_string(), s.display_name.clone()))
        .collect();
    assessors.sort_by(|a, b| a.1.cmp(&b.1));
    assessors.dedup();
    let name_of = |id: i64| {
        names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| format!("person {id}"))
    };
    let records = records
        .into_iter()
        .map(|r| {
            let attendees: Vec<i64> = serde_json::from_str(&r.attendees).unwrap_or_default();
            let units: Vec<String> = serde_json::from_str(&r.units).unwrap_or_default();
            StandardisationView {
                kind: if r.kind == "observation" {
                    "Observation".into()
                } else {
                    "Meeting".into()
                },
                held_on: uk_date(&r.held_on),
                assessor: r.assessor_id.map(name_of).unwrap_or_default(),
                attendees: attendees
                    .into_iter()
                    .map(name_of)
                    .collect::<Vec<_>>()
                    .join(", "),
                units: units.join(", "),
                concerns: r.outcome == "concerns",
                outcome: if r.outcome == "concerns" {
                    "Concerns".into()
                } else {
                    "Satisfactory".into()
                },
                notes: r.notes,
                actions: r.actions,
                recorded: format!("{}, {}", name_of(r.recorded_by), uk_date(&r.recorded_at)),
            }
        })
        .collect();
    let (values, problems, status) = typed.unwrap_or_else(blank_standardisation);
    let page = StandardisationPage {
        title: format!("Standardisation: {}", centre_row.name),
        has_error: !problems.is_empty(),
        csrf: actor.csrf.clone().unwrap_or_default(),
        centre_id: centre,
        centre_name: centre_row.name,
        is_iqa: scope.is_iqa(),
        records,
        assessors,
        staff,
        values,
        notice,
        problems,
        refusal: None,
    };
    Ok(render_with(status, &page))
}

fn blank_standardisation() -> (StandardisationValues, Problems, StatusCode) {
    (
        StandardisationValues {
            kind: "meeting".into(),
            ..Default::default()
        },
        Problems::new(),
        StatusCode::OK,
    )
}

async fn standardisation_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
    Query(q): Query<StandardisationQuery>,
) -> Result<Response, PageError> {
    let notice = q
        .recorded
        .is_some()
        .then(|| "Standardisation recorded.".to_string());
    standardisation_response(&app, &actor, centre, notice, None).await
}

/// Which field of the standardisation form an app's problem is about.
fn standardisation_field(e: &AppError) -> &'static str {
    let m = e.to_string().to_lowercase();
    if m.contains("date") {
        "held_on"
    } else if m.contains("observed") || m.contains("assessor") {
        "assessor"
    } else if m.contains("staff") {
        "attendees"
    } else if m.contains("outcome") {
        "outcome-satisfactory"
    } else if m.contains("meeting or an observation") {
        "kind-meeting"
    } else if m.contains("notes") {
        "notes"
    } else if m.contains("actions") {
        "actions"
    } else {
        "held_on"
    }
}

async fn record_standardisation(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let p = pairs(&body);
    let Some(held_on) = field(&p, "held_on").map(str::to_string) else {
        return Ok(incomplete("held_on"));
    };
    let get = |k: &str| field(&p, k).unwrap_or_default().to_string();
    let values = StandardisationValues {
        kind: get("kind"),
        held_on: held_on.clone(),
        assessor: get("assessor"),
        attendees: p
            .iter()
            .filter(|(k, _)| k == "attendees")
            .map(|(_, v)| v.clone())
            .collect(),
        units: get("units"),
        outcome: get("outcome"),
        notes: get("notes"),
        actions: get("actions"),
    };
    let mut problems = Problems::new();
    if !matches!(values.kind.as_str(), "meeting" | "observation") {
        problems.push((
            "kind-meeting".into(),
            "Choose whether this was a meeting or an observation".into(),
        ));
    }
    if values.held_on.trim().is_empty() {
        problems.push((
            "held_on".into(),
            "Enter the date it was held, for example 27/11/2026".into(),
        ));
    }
    let assessor = if values.kind == "observation" {
        match values.assessor.trim().parse::<i64>() {
            Ok(a) => Some(a),
            Err(_) => {
                problems.push((
                    "assessor".into(),
                    "Choose the assessor who was observed".into(),
                ));
                None
            }
        }
    } else {
        None
    };
    if !matches!(values.outcome.as_str(), "satisfactory" | "concerns") {
        problems.push((
            "outcome-satisfactory".into(),
            "Choose the outcome: satisfactory or concerns".into(),
        ));
    }
    let attendees: Vec<i64> = values
        .attendees
        .iter()
        .filter_map(|a| a.parse().ok())
        .collect();
    if !problems.is_empty() {
        return standardisation_response(
            &app,
            &actor,
            centre,
            None,
            Some((values, problems, StatusCode::UNPROCESSABLE_ENTITY)),
        )
        .await;
    }
    let units: Vec<String> = values
        .units
        .split(',')
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(str::to_string)
        .collect();
    match app
        .record_standardisation(
            &actor,
            centre,
            &values.kind,
            values.held_on.trim(),
            assessor,
            &attendees,
            &units,
            &values.outcome,
            &values.notes,
            &values.actions,
            &client_address(&headers),
        )
        .await
    {
        Ok(_) => Ok(
            Redirect::to(&format!("/centres/{centre}/standardisation?recorded=1")).into_response(),
        ),
        Err(e) if shown_on_page(&e) => {
            let problems = vec![(
                standardisation_field(&e).to_string(),
                crate::web::public_message(&e),
            )];
            standardisation_response(
                &app,
                &actor,
                centre,
                None,
                Some((values, problems, problem_status(Some(&e)))),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

// --- the lead IQA -----------------------------------------------------------------------------

#[derive(Deserialize)]
struct LeadForm {
    person: String,
    lead: String,
}

async fn lead_iqa(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(f): Form<LeadForm>,
) -> Result<Response, PageError> {
    let result = async {
        let person: i64 = f
            .person
            .trim()
            .parse()
            .map_err(|_| AppError::Validation("Choose the IQA".into()))?;
        let lead = match f.lead.trim() {
            "true" => true,
            "false" => false,
            _ => {
                return Err(AppError::Validation(
                    "Say whether the IQA is to be the lead IQA or not".into(),
                ));
            }
        };
        app.set_lead_iqa(&actor, centre, person, lead, &client_address(&headers))
            .await
    }
    .await;
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/centres/{centre}")).into_response()),
        Err(e) if shown_on_page(&e) => Ok(refusal_page(problem_status(Some(&e)), &e)),
        Err(e) => Err(e.into()),
    }
}

// --- the JSON API ---------------------------------------------------------------------------

/// One sample of the plan.
#[derive(Serialize, ToSchema)]
pub struct ApiPlanSample {
    pub sample: i64,
    pub registration: i64,
    pub learner: i64,
    pub learner_name: String,
    /// The unit key.
    pub unit: String,
    /// The unit's AO reference (e.g. "L3B1").
    pub unit_ref: String,
    pub assessor: i64,
    pub assessor_name: String,
    /// interim or summative
    pub stage: String,
    /// planned, open, agreed or referred
    pub status: String,
    /// plan or manual
    pub origin: String,
    pub reasons: Vec<String>,
    /// YYYY-MM-DD
    pub due_on: String,
    pub overdue: bool,
}

/// The plan of one qualification at the centre.
#[derive(Serialize, ToSchema)]
pub struct ApiQualificationPlan {
    pub qan: String,
    pub title: String,
    pub strategy: SamplingStrategy,
    /// When the lead IQA set the strategy; null for the defaults.
    pub strategy_set_at: Option<String>,
    /// The samples on the plan (swapped-out ones excluded), oldest first.
    pub samples: Vec<ApiPlanSample>,
    pub coverage: Coverage,
    /// How many learner-unit pieces of work there are to sample from.
    pub work: usize,
}

/// A centre's IQA sampling plan, per qualification, as `credence qa plan --format json`
/// prints it.
#[derive(Serialize, ToSchema)]
pub struct ApiCentrePlan {
    pub centre: i64,
    pub qualifications: Vec<ApiQualificationPlan>,
    /// Assessor id to name (JSON object keys are the ids as text).
    #[schema(value_type = BTreeMap<String, String>)]
    pub assessors: BTreeMap<i64, String>,
    /// Unit key to "L3B1 Title".
    pub units: BTreeMap<String, String>,
}

impl From<CentrePlan> for ApiCentrePlan {
    fn from(p: CentrePlan) -> Self {
        ApiCentrePlan {
            centre: p.centre,
            assessors: p.assessors,
            units: p.units,
            qualifications: p
                .qualifications
                .into_iter()
                .map(|q| ApiQualificationPlan {
                    qan: q.qan,
                    title: q.title,
                    strategy: q.strategy,
                    strategy_set_at: q.strategy_set_at,
                    coverage: q.coverage,
                    work: q.work,
                    samples: q
                        .samples
                        .into_iter()
                        .map(|s| ApiPlanSample {
                            sample: s.sample,
                            registration: s.registration,
                            learner: s.learner,
                            learner_name: s.learner_name,
                            unit: s.unit,
                            unit_ref: s.unit_ref,
                            assessor: s.assessor,
                            assessor_name: s.assessor_name,
                            stage: s.stage,
                            status: s.status,
                            origin: s.origin,
                            reasons: s.reasons,
                            due_on: s.due_on,
                            overdue: s.overdue,
                        })
                        .collect(),
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PlanParams {
    /// One qualification's plan (its QAN, e.g. 610/3788/6); every qualification with
    /// learners at the centre when absent.
    #[serde(default)]
    pub qualification: Option<String>,
}

/// The centre's current IQA sampling plan: samples, coverage (assessors x units, interim and
/// summative), each assessor's compliance with the strategy, gaps and overdue samples.
#[utoipa::path(get, path = "/api/v1/centres/{centre}/qa/plan", tag = "quality",
    params(("centre" = i64, Path, description = "The centre's id"), PlanParams),
    responses((status = 200, body = ApiCentrePlan), (status = 401, body = crate::web::ErrorBody), (status = 403, body = crate::web::ErrorBody), (status = 404, body = crate::web::ErrorBody)))]
pub async fn api_plan(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    crate::web::ApiPath(centre): crate::web::ApiPath<i64>,
    ApiQuery(q): ApiQuery<PlanParams>,
) -> Result<axum::Json<ApiCentrePlan>, ApiError> {
    let plan = app
        .qa_plan(
            &actor,
            centre,
            picked(q.qualification.as_deref()).as_deref(),
        )
        .await?;
    Ok(axum::Json(plan.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_name_units_methods_and_assessors() {
        let units = HashMap::from([("T/651/0346".to_string(), "L3C1".to_string())]);
        let assessors = HashMap::from([(7, "Sam Okafor".to_string())]);
        let r = |s: &str| readable_reason(s, &units, &assessors);
        assert_eq!(
            r("covers unit T/651/0346 (first sample of this unit)"),
            "covers unit L3C1 (first sample of this unit)"
        );
        assert_eq!(
            r("covers method product_evidence"),
            "covers method Product evidence"
        );
        assert_eq!(
            r("covers location real_workplace"),
            "covers location Real workplace"
        );
        assert_eq!(
            r("covers assessor 7 (first sample of their decisions)"),
            "covers assessor Sam Okafor (first sample of their decisions)"
        );
        assert_eq!(r("learner not yet sampled"), "learner not yet sampled");
        assert_eq!(uk_date("2026-11-29T10:00:00Z"), "29 November 2026");
    }
}
