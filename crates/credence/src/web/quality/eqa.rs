//! EQA visits and their reports (`/centres/{centre}/visits`, `/visits/{visit}`, the centre's
//! answers to actions and their closing), direct claim status per qualification
//! (`/centres/{centre}/direct-claim`, with its confirmation step) and the visits API. What
//! each person may do is decided by the use cases (`QaScope`); these pages show what the
//! person may do and, when the use case refuses, its message.

use super::AppState;
use crate::app::AppError;
use crate::app::authz::QaRole;
use crate::app::people::Actor;
use crate::app::quality::eqa::{ActionView, Sampled, VisitSummary, VisitView};
use crate::web::access::{CurrentActor, client_address};
use crate::web::pages::{PageError, render, render_status};
use crate::web::{ApiError, ApiQuery, ErrorBody};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use credence_domain::qa::{CentreRisk, VisitOutcome};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::{IntoParams, ToSchema};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    let r = crate::web::access::route(r, "/centres/{centre}/visits", get(visits).post(schedule));
    let r = crate::web::access::route(r, "/visits/{visit}", get(visit));
    let r = crate::web::access::route(r, "/visits/{visit}/report", post(report));
    let r = crate::web::access::route(r, "/eqa-actions/{action}/response", post(respond));
    let r = crate::web::access::route(r, "/eqa-actions/{action}/close", post(close));
    crate::web::access::route(
        r,
        "/centres/{centre}/direct-claim",
        get(direct_claim).post(direct_claim_change),
    )
}

pub(super) fn api_routes(
    r: utoipa_axum::router::OpenApiRouter<AppState>,
) -> utoipa_axum::router::OpenApiRouter<AppState> {
    r.routes(utoipa_axum::routes!(api_visits))
}

// --- shared by the quality pages ---------------------------------------------------------

pub(super) use crate::web::format::{uk_date, uk_opt};

/// An id from the path: anything but a number names nothing.
pub(super) fn path_id(raw: &str, what: &str) -> Result<i64, PageError> {
    raw.trim()
        .parse()
        .map_err(|_| PageError::from(AppError::NotFound(format!("That {what}"))))
}

/// What the use case said, to show on the page (it refused, or the input is wrong, or the
/// state moved on); anything else is an error page.
pub(super) fn shown(e: AppError) -> Result<String, PageError> {
    match e {
        AppError::Validation(m) | AppError::Conflict(m) | AppError::Forbidden(m) => {
            Ok(sentence(&m))
        }
        other => Err(other.into()),
    }
}

/// Whether the use case refused the person (not the input).
pub(super) fn is_forbidden(e: &AppError) -> bool {
    matches!(e, AppError::Forbidden(_))
}

/// The page re-shown after the use case refused: 403 when it forbade the person, else as
/// rendered (422 for an error on the page).
pub(super) fn refused(
    forbidden: bool,
    page: Result<Response, PageError>,
) -> Result<Response, PageError> {
    page.map(|mut r| {
        if forbidden {
            *r.status_mut() = axum::http::StatusCode::FORBIDDEN;
        }
        r
    })
}

/// A message as a sentence: its first letter a capital.
pub(super) fn sentence(m: &str) -> String {
    let mut chars = m.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

pub(super) fn csrf_of(a: &Actor) -> String {
    a.csrf.clone().unwrap_or_default()
}

fn outcome_words(o: Option<&str>) -> (String, &'static str) {
    match o.and_then(VisitOutcome::parse) {
        Some(VisitOutcome::Satisfactory) => ("Satisfactory".into(), "tag--green"),
        Some(VisitOutcome::Unsatisfactory) => ("Unsatisfactory".into(), "tag--red"),
        None => match o {
            Some(other) => (other.to_string(), "tag--grey"),
            None => ("Not reported yet".into(), "tag--grey"),
        },
    }
}

fn risk_words(r: Option<&str>) -> String {
    match r {
        Some(r) => CentreRisk::parse(r)
            .map(|c| c.title().to_string())
            .unwrap_or_else(|| r.to_string()),
        None => String::new(),
    }
}

/// What the page says about the sanction, wherever a report can be written or read.
const SANCTION: &str = "An unsatisfactory outcome withdraws the centre's direct claim status for the awarding organisation's qualifications, and holds the centre's claims until every action of the visit is closed.";

// --- the centre's visits -----------------------------------------------------------------

pub(super) struct VisitLine {
    id: i64,
    planned: String,
    visited: String,
    eqa: String,
    ao: String,
    outcome: String,
    outcome_tag: &'static str,
    risk: String,
    open_actions: usize,
    overdue_actions: usize,
}

fn visit_line(v: &VisitView) -> VisitLine {
    let (outcome, outcome_tag) = outcome_words(v.visit.outcome.as_deref());
    VisitLine {
        id: v.visit.visit,
        planned: uk_date(&v.visit.planned_on),
        visited: uk_opt(v.visit.visited_on.as_deref()),
        eqa: v.visit.eqa_name.clone(),
        ao: v.visit.ao.clone(),
        outcome,
        outcome_tag,
        risk: risk_words(v.visit.risk.as_deref()),
        open_actions: v.actions.iter().filter(|a| a.closed_at.is_none()).count(),
        overdue_actions: v.actions.iter().filter(|a| a.overdue).count(),
    }
}

pub(super) struct DueLine {
    ao: String,
    due_by: String,
    overdue: bool,
    scheduled: String,
}

#[derive(Deserialize, Default)]
pub(super) struct ScheduleForm {
    #[serde(default)]
    eqa: String,
    #[serde(default)]
    planned_on: String,
}

#[derive(Template)]
#[template(path = "visits.html")]
pub(super) struct VisitsPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    /// The field the error is about: eqa or planned_on.
    error_field: &'static str,
    notice: Option<String>,
    centre_id: i64,
    centre_name: String,
    /// The use case's refusal: this person has no part in the centre's quality assurance.
    refusal: Option<String>,
    visits: Vec<VisitLine>,
    due: Vec<DueLine>,
    can_schedule: bool,
    ao: String,
    /// (person, name, selected)
    eqas: Vec<(i64, String, bool)>,
    planned_on: String,
}

#[derive(Deserialize, Default)]
pub(super) struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

async fn visits(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let notice = (q.done.as_deref() == Some("scheduled"))
        .then(|| "The visit is scheduled: the EQA sees it on their home page.".to_string());
    visits_page(&app, &actor, centre, None, notice, ScheduleForm::default()).await
}

async fn visits_page(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    error: Option<String>,
    notice: Option<String>,
    form: ScheduleForm,
) -> Result<Response, PageError> {
    let c = app.centre(centre).await?;
    let (list, refusal) = match app.visits(actor, Some(centre)).await {
        Ok(v) => (v, None),
        Err(e) => (Vec::new(), Some(shown(e)?)),
    };
    let ao = actor
        .ao_codes()
        .first()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let mut can_schedule = false;
    let mut eqas = Vec::new();
    if !ao.is_empty() && refusal.is_none() {
        can_schedule = app.approvals(centre).await?.iter().any(|a| a.ao_code == ao);
        eqas = app
            .store
            .centre_eqas(centre)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .filter(|(_, _, a)| *a == ao)
            .map(|(p, n, _)| (p, n, form.eqa == p.to_string()))
            .collect();
    }
    let mut due = Vec::new();
    if refusal.is_none() && (!actor.ao_codes().is_empty() || !actor.eqa_centres.is_empty()) {
        due = app
            .visits_due(actor)
            .await?
            .into_iter()
            .filter(|d| d.centre == centre)
            .map(|d| DueLine {
                ao: d.ao,
                due_by: uk_date(&d.due_by),
                overdue: d.overdue,
                scheduled: uk_opt(d.scheduled.as_deref()),
            })
            .collect();
    }
    let error_field = match &error {
        Some(m) if m.contains("EQA") => "eqa",
        _ => "planned_on",
    };
    Ok(render_status(
        error.is_some(),
        &VisitsPage {
            title: format!("EQA visits: {}", c.name),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            error_field,
            notice,
            centre_id: centre,
            centre_name: c.name,
            refusal,
            visits: list.iter().map(visit_line).collect(),
            due,
            can_schedule,
            ao,
            eqas,
            planned_on: form.planned_on,
        },
    ))
}

async fn schedule(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(f): Form<ScheduleForm>,
) -> Result<Response, PageError> {
    let Ok(eqa) = f.eqa.trim().parse::<i64>() else {
        return visits_page(
            &app,
            &actor,
            centre,
            Some("Choose the EQA who makes the visit".into()),
            None,
            f,
        )
        .await;
    };
    match app
        .schedule_visit(
            &actor,
            centre,
            eqa,
            &f.planned_on,
            &client_address(&headers),
        )
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/centres/{centre}/visits?done=scheduled")).into_response())
        }
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            refused(
                forbidden,
                visits_page(&app, &actor, centre, Some(m), None, f).await,
            )
        }
    }
}

// --- one visit -----------------------------------------------------------------------------

/// The report form as typed, kept when the use case refuses it.
#[derive(Default)]
pub(super) struct ReportForm {
    visited_on: String,
    outcome: String,
    risk: String,
    findings: String,
    sampled: BTreeSet<String>,
    /// (what, due on), five rows
    actions: Vec<(String, String)>,
}

const ACTION_ROWS: usize = 5;

pub(super) struct SampleOption {
    value: String,
    id: String,
    label: String,
    checked: bool,
}

pub(super) struct SampleGroup {
    legend: String,
    options: Vec<SampleOption>,
}

pub(super) struct ActionLine {
    id: i64,
    text: String,
    due: String,
    overdue: bool,
    response: String,
    responded: String,
    closed: String,
    status: &'static str,
    status_tag: &'static str,
    /// The answer as typed, when saving it was refused.
    draft: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "visit.html")]
pub(super) struct VisitPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    /// Where the error summary's link goes.
    error_field: String,
    v: VisitLine,
    centre_id: i64,
    centre_name: String,
    reported: bool,
    reported_at: String,
    findings: String,
    sampled: Vec<String>,
    actions: Vec<ActionLine>,
    may_report: bool,
    may_answer: bool,
    may_close: bool,
    sanction: &'static str,
    form: ReportForm,
    groups: Vec<SampleGroup>,
    /// More registrations than the form lists.
    groups_cut: bool,
    outcomes: Vec<(&'static str, &'static str)>,
    risks: Vec<(&'static str, &'static str)>,
}

async fn visit(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "visit")?;
    visit_page(&app, &actor, id, None, ReportForm::default(), None).await
}

/// The field a report's error is about, for the error summary's link.
fn report_field(message: &str) -> &'static str {
    let m = message.to_lowercase();
    if m.contains("date of the visit") {
        "visited_on"
    } else if m.contains("outcome") {
        "outcome-satisfactory"
    } else if m.contains("risk") {
        "risk-low"
    } else if m.contains("findings") {
        "findings"
    } else if m.contains("action") {
        "action_text_1"
    } else {
        "sampled"
    }
}

/// The learners' units an EQA may sample on this visit: the centre's registrations on the
/// visit's AO's qualifications, with the units assessed or signed off there.
async fn sample_groups(
    app: &AppState,
    actor: &Actor,
    v: &VisitSummary,
    chosen: &BTreeSet<String>,
) -> Result<(Vec<SampleGroup>, bool), PageError> {
    const MOST: usize = 200;
    let regs: Vec<crate::store::RegistrationRow> = app
        .registrations_at_centre(actor, v.centre, 5000)
        .await?
        .into_iter()
        .filter(|r| r.ao_code == v.ao && r.status != "transferred")
        .collect();
    let mut worked: BTreeMap<i64, BTreeSet<String>> = BTreeMap::new();
    // (learner, unit) -> roles that signed (both, once signed off)
    let mut signed: BTreeMap<(i64, String), BTreeSet<String>> = BTreeMap::new();
    for j in app
        .store
        .unit_work_at_centre(v.centre)
        .await
        .map_err(AppError::from)?
    {
        worked
            .entry(j.learner_id)
            .or_default()
            .insert(j.unit_key.clone());
        if j.signed_at.is_some() {
            signed
                .entry((j.learner_id, j.unit_key))
                .or_default()
                .extend(["assessor".to_string(), "learner".to_string()]);
        }
    }
    let mut groups = Vec::new();
    let mut cut = false;
    for r in regs {
        let Some(units) = worked.get(&r.learner_id) else {
            continue;
        };
        if groups.len() == MOST {
            cut = true;
            break;
        }
        let spec = app.specification_of_version(r.catalogue_version_id).await?;
        let Some(q) = spec.programme(&r.qan) else {
            continue;
        };
        let options: Vec<SampleOption> = q
            .units
            .iter()
            .filter(|qu| units.contains(&qu.unit))
            .enumerate()
            .map(|(i, qu)| {
                let value = format!("{}:{}", r.registration_id, qu.unit);
                let name = spec
                    .unit(&qu.unit)
                    .map(|u| format!("{} {}", u.ao_ref, u.title))
                    .unwrap_or_else(|| qu.unit.clone());
                let roles = signed.get(&(r.learner_id, qu.unit.clone()));
                let state = match roles {
                    Some(s) if s.contains("assessor") && s.contains("learner") => "signed off",
                    Some(s) if s.contains("assessor") => "signed by the assessor",
                    _ => "assessed, not signed off",
                };
                SampleOption {
                    id: format!("s-{}-{i}", r.registration_id),
                    checked: chosen.contains(&value),
                    value,
                    label: format!("{name} ({state})"),
                }
            })
            .collect();
        if options.is_empty() {
            continue;
        }
        groups.push(SampleGroup {
            legend: format!(
                "{} {}{}, {}",
                r.given_name,
                r.family_name,
                r.uln
                    .as_deref()
                    .map(|u| format!(" (ULN {u})"))
                    .unwrap_or_default(),
                r.qan
            ),
            options,
        });
    }
    Ok((groups, cut))
}

/// The report's sampled work in words: "Priya Shah, 610/3788/6: L3B1 Prospecting".
async fn sampled_words(app: &AppState, v: &VisitSummary) -> Result<Vec<String>, PageError> {
    let list: Vec<Sampled> = serde_json::from_value(v.sampled.clone()).unwrap_or_default();
    let mut out = Vec::new();
    for s in list {
        let Some(r) = app
            .store
            .registration(s.registration)
            .await
            .map_err(AppError::from)?
        else {
            out.push(format!("Registration {}: {}", s.registration, s.unit));
            continue;
        };
        let spec = app.specification_of_version(r.catalogue_version_id).await?;
        let unit = spec
            .unit(&s.unit)
            .map(|u| format!("{} {}", u.ao_ref, u.title))
            .unwrap_or_else(|| s.unit.clone());
        out.push(format!(
            "{} {}, {}: {unit}",
            r.given_name, r.family_name, r.qan
        ));
    }
    Ok(out)
}

fn action_line(a: &ActionView, answer: Option<&(i64, String, String)>) -> ActionLine {
    let (status, status_tag) = if a.closed_at.is_some() {
        ("Closed", "tag--green")
    } else if a.response.is_some() {
        ("Answered, waiting to be closed", "tag--blue")
    } else if a.overdue {
        ("Overdue", "tag--red")
    } else {
        ("Open", "tag--yellow")
    };
    let mine = answer.filter(|(id, _, _)| *id == a.action);
    ActionLine {
        id: a.action,
        text: a.text.clone(),
        due: uk_date(&a.due_on),
        overdue: a.overdue,
        response: a.response.clone().unwrap_or_default(),
        responded: uk_opt(a.responded_at.as_deref()),
        closed: uk_opt(a.closed_at.as_deref()),
        status,
        status_tag,
        draft: mine
            .map(|(_, d, _)| d.clone())
            .unwrap_or_else(|| a.response.clone().unwrap_or_default()),
        error: mine.map(|(_, _, e)| e.clone()),
    }
}

/// The visit page. `answer` is (action, text typed, error) when an answer or closing was
/// refused.
async fn visit_page(
    app: &AppState,
    actor: &Actor,
    id: i64,
    error: Option<String>,
    mut form: ReportForm,
    answer: Option<(i64, String, String)>,
) -> Result<Response, PageError> {
    let view = app.visit(actor, id).await?;
    let v = &view.visit;
    let role = app.qa_scope(actor, v.centre).await?.role().clone();
    let reported = v.reported_at.is_some();
    let may_report = !reported && v.eqa == actor.person_id;
    let (groups, groups_cut) = if may_report {
        sample_groups(app, actor, v, &form.sampled).await?
    } else {
        (Vec::new(), false)
    };
    form.actions
        .resize(ACTION_ROWS, (String::new(), String::new()));
    let error_field = match (&error, &answer) {
        (_, Some((a, _, _)))
            if role == QaRole::CentreAdmin
                && view
                    .actions
                    .iter()
                    .any(|x| x.action == *a && x.closed_at.is_none()) =>
        {
            format!("answer-{a}")
        }
        (Some(m), None) if may_report => report_field(m).to_string(),
        _ => String::new(),
    };
    let has_error = error.is_some() || answer.is_some();
    let error = error.or_else(|| answer.as_ref().map(|(_, _, e)| e.clone()));
    Ok(render_status(
        has_error,
        &VisitPage {
            title: format!(
                "EQA visit to {} on {}",
                v.centre_name,
                uk_date(v.visited_on.as_deref().unwrap_or(&v.planned_on))
            ),
            has_error,
            csrf: csrf_of(actor),
            error,
            error_field,
            v: visit_line(&view),
            centre_id: v.centre,
            centre_name: v.centre_name.clone(),
            reported,
            reported_at: uk_opt(v.reported_at.as_deref()),
            findings: v.findings.clone(),
            sampled: sampled_words(app, v).await?,
            actions: view
                .actions
                .iter()
                .map(|a| action_line(a, answer.as_ref()))
                .collect(),
            may_report,
            may_answer: role == QaRole::CentreAdmin,
            may_close: matches!(role, QaRole::Eqa { .. } | QaRole::AoStaff { .. }),
            sanction: SANCTION,
            form,
            groups,
            groups_cut,
            outcomes: VisitOutcome::ALL
                .iter()
                .map(|o| (o.key(), o.title()))
                .collect(),
            risks: CentreRisk::ALL
                .iter()
                .map(|r| (r.key(), r.title()))
                .collect(),
        },
    ))
}

async fn report(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "visit")?;
    let mut f = ReportForm {
        actions: vec![(String::new(), String::new()); ACTION_ROWS],
        ..ReportForm::default()
    };
    for (k, v) in fields {
        match k.as_str() {
            "visited_on" => f.visited_on = v,
            "outcome" => f.outcome = v,
            "risk" => f.risk = v,
            "findings" => f.findings = v,
            "sampled" => {
                f.sampled.insert(v);
            }
            other => {
                let row = |prefix: &str| {
                    other
                        .strip_prefix(prefix)
                        .and_then(|n| n.parse::<usize>().ok())
                        .filter(|n| (1..=ACTION_ROWS).contains(n))
                };
                if let Some(n) = row("action_text_") {
                    f.actions[n - 1].0 = v;
                } else if let Some(n) = row("action_due_") {
                    f.actions[n - 1].1 = v;
                }
            }
        }
    }
    let mut sampled = Vec::new();
    for s in &f.sampled {
        match s
            .split_once(':')
            .and_then(|(r, u)| r.parse::<i64>().ok().map(|r| (r, u.to_string())))
        {
            Some(pair) => sampled.push(pair),
            None => {
                return visit_page(
                    &app,
                    &actor,
                    id,
                    Some("Choose the learners' units sampled from the list".into()),
                    f,
                    None,
                )
                .await;
            }
        }
    }
    let actions: Vec<(String, String)> = f
        .actions
        .iter()
        .filter(|(t, d)| !t.trim().is_empty() || !d.trim().is_empty())
        .cloned()
        .collect();
    match app
        .report_visit(
            &actor,
            id,
            &f.visited_on,
            &f.outcome,
            &f.risk,
            &sampled,
            &f.findings,
            &actions,
            &client_address(&headers),
        )
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/visits/{id}")).into_response()),
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            refused(
                forbidden,
                visit_page(&app, &actor, id, Some(m), f, None).await,
            )
        }
    }
}

#[derive(Deserialize)]
pub(super) struct AnswerForm {
    #[serde(default)]
    response: String,
}

/// The visit an action belongs to, or not found.
async fn visit_of_action(app: &AppState, action: i64) -> Result<i64, PageError> {
    Ok(app
        .store
        .action(action)
        .await
        .map_err(AppError::from)?
        .ok_or_else(|| AppError::NotFound("That action".into()))?
        .visit_id)
}

async fn respond(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "action")?;
    let visit = visit_of_action(&app, id).await?;
    match app
        .respond_action(&actor, id, &f.response, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/visits/{visit}#action-{id}")).into_response()),
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            refused(
                forbidden,
                visit_page(
                    &app,
                    &actor,
                    visit,
                    None,
                    ReportForm::default(),
                    Some((id, f.response, m)),
                )
                .await,
            )
        }
    }
}

async fn close(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "action")?;
    let visit = visit_of_action(&app, id).await?;
    match app
        .close_action(&actor, id, &client_address(&headers))
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/visits/{visit}#action-{id}")).into_response()),
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            refused(
                forbidden,
                visit_page(&app, &actor, visit, Some(m), ReportForm::default(), None).await,
            )
        }
    }
}

// --- direct claim status ---------------------------------------------------------------------

pub(super) struct DcsLine {
    qan: String,
    slug: String,
    title: String,
    granted: bool,
    by: String,
    when: String,
    reason: String,
    /// The reason as typed for this qualification's form, and its error.
    draft: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "direct_claim.html")]
pub(super) struct DcsPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    error_field: String,
    notice: Option<String>,
    centre_id: i64,
    centre_name: String,
    /// AO staff may grant and withdraw; others read.
    manage: bool,
    ao: String,
    /// `None`: meets the eligibility; else the unmet conditions (AO staff only).
    unmet: Option<Vec<String>>,
    lines: Vec<DcsLine>,
    /// Why this person only reads.
    note: Option<String>,
    /// The refusal is for want of a second factor: say where to set one up.
    needs_second_factor: bool,
}

#[derive(Template)]
#[template(path = "direct_claim_confirm.html")]
pub(super) struct DcsConfirmPage {
    title: String,
    has_error: bool,
    csrf: String,
    centre_id: i64,
    centre_name: String,
    qan: String,
    qual_title: String,
    granted: bool,
    reason: String,
}

#[derive(Deserialize, Default)]
pub(super) struct DcsForm {
    #[serde(default)]
    qan: String,
    /// yes (grant) or no (withdraw)
    #[serde(default)]
    granted: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: String,
}

async fn direct_claim(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
) -> Result<Response, PageError> {
    dcs_page(&app, &actor, centre, None, None, &DcsForm::default()).await
}

async fn person_name(app: &AppState, id: Option<i64>) -> Result<String, PageError> {
    Ok(match id {
        Some(p) => app
            .store
            .person(p)
            .await
            .map_err(AppError::from)?
            .map(|p| p.display_name)
            .unwrap_or_else(|| format!("person {p}")),
        None => "Not recorded".into(),
    })
}

async fn dcs_page(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    error: Option<String>,
    notice: Option<String>,
    form: &DcsForm,
) -> Result<Response, PageError> {
    let c = app.centre(centre).await?;
    let cat = app.catalogue().await?;
    let grants = app
        .store
        .direct_claims(centre)
        .await
        .map_err(AppError::from)?;
    let (manage, ao, unmet, quals, note) = match app.direct_claim_view(actor, centre).await {
        Ok(view) => (
            true,
            view.ao.clone(),
            view.eligible.err(),
            view.qualifications,
            None,
        ),
        Err(e) => {
            // An EQA (or anyone the policy lets in who is not the AO's staff) reads the
            // status of the qualifications of the AOs they oversee here.
            shown(e)?;
            let note = "Only the awarding organisation's staff grant or withdraw direct claim status: you can see it here.".to_string();
            let aos: Vec<String> = actor
                .eqa_centres
                .iter()
                .filter(|(c, _)| *c == centre)
                .map(|(_, a)| a.clone())
                .collect();
            let quals = app
                .approvals(centre)
                .await?
                .into_iter()
                .filter(|a| aos.contains(&a.ao_code))
                .map(|a| {
                    let g = grants.iter().find(|g| g.qan == a.qan).cloned();
                    (a.qan, g)
                })
                .collect();
            (false, aos.join(", "), None, quals, Some(note))
        }
    };
    let mut lines = Vec::new();
    for (qan, grant) in quals {
        let mine = form.qan.trim() == qan;
        lines.push(DcsLine {
            slug: crate::app::catalogue::qan_slug(&qan),
            title: cat
                .programme(&qan)
                .map(|(_, q)| q.title.clone())
                .unwrap_or_default(),
            granted: grant.is_some(),
            by: match &grant {
                Some(g) => person_name(app, g.granted_by).await?,
                None => String::new(),
            },
            when: grant
                .as_ref()
                .map(|g| uk_date(&g.granted_at))
                .unwrap_or_default(),
            reason: grant.map(|g| g.reason).unwrap_or_default(),
            draft: if mine {
                form.reason.clone()
            } else {
                String::new()
            },
            error: if mine { error.clone() } else { None },
            qan,
        });
    }
    let error_field = lines
        .iter()
        .find(|l| l.error.is_some())
        .map(|l| format!("reason-{}", l.slug))
        .unwrap_or_default();
    let needs_second_factor = error
        .as_deref()
        .is_some_and(|m| m.contains("second factor"));
    Ok(render_status(
        error.is_some(),
        &DcsPage {
            title: format!("Direct claim status: {}", c.name),
            has_error: error.is_some(),
            csrf: csrf_of(actor),
            error,
            error_field,
            notice,
            centre_id: centre,
            centre_name: c.name,
            manage,
            ao,
            unmet,
            lines,
            note,
            needs_second_factor,
        },
    ))
}

/// Grant or withdraw direct claim status for one qualification: checked, then confirmed,
/// then done.
pub(super) async fn direct_claim_change(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(f): Form<DcsForm>,
) -> Result<Response, PageError> {
    let refuse = |m: String, forbidden: bool| {
        let app = app.clone();
        let actor = actor.clone();
        let f = &f;
        async move {
            refused(
                forbidden,
                dcs_page(&app, &actor, centre, Some(m), None, f).await,
            )
        }
    };
    let view = match app.direct_claim_view(&actor, centre).await {
        Ok(v) => v,
        Err(e) => return refuse(shown(e)?, false).await,
    };
    // The second factor is asked for first, so nobody confirms only to be refused.
    if let Err(e) = app
        .ao_scope(&actor, &view.ao)
        .and_then(|s| s.require_second_factor())
    {
        let forbidden = is_forbidden(&e);
        return refuse(shown(e)?, forbidden).await;
    }
    let granted = match f.granted.as_str() {
        "yes" => true,
        "no" => false,
        _ => {
            return refuse(
                "Choose whether to grant or withdraw direct claim status".into(),
                false,
            )
            .await;
        }
    };
    let Some(qan) = view
        .qualifications
        .iter()
        .map(|(q, _)| q.clone())
        .find(|q| *q == f.qan.trim())
    else {
        return refuse(
            format!(
                "Choose one of the centre's qualifications approved by {}",
                view.ao
            ),
            false,
        )
        .await;
    };
    if f.reason.trim().is_empty() {
        return refuse(
            format!(
                "Give the reason for {} direct claim status for {qan}",
                if granted { "granting" } else { "withdrawing" }
            ),
            false,
        )
        .await;
    }
    if f.confirm != "yes" {
        let c = app.centre(centre).await?;
        let cat = app.catalogue().await?;
        return Ok(render(&DcsConfirmPage {
            title: format!(
                "{} direct claim status for {qan}",
                if granted { "Grant" } else { "Withdraw" }
            ),
            has_error: false,
            csrf: csrf_of(&actor),
            centre_id: centre,
            centre_name: c.name,
            qual_title: cat
                .programme(&qan)
                .map(|(_, q)| q.title.clone())
                .unwrap_or_default(),
            qan,
            granted,
            reason: f.reason.trim().to_string(),
        }));
    }
    match app
        .set_direct_claim(
            &actor,
            centre,
            &qan,
            granted,
            &f.reason,
            &client_address(&headers),
        )
        .await
    {
        Ok(()) => {
            dcs_page(
                &app,
                &actor,
                centre,
                None,
                Some(format!(
                    "Direct claim status for {qan} {}.",
                    if granted { "granted" } else { "withdrawn" }
                )),
                &DcsForm::default(),
            )
            .await
        }
        Err(e) => {
            let forbidden = is_forbidden(&e);
            refuse(shown(e)?, forbidden).await
        }
    }
}

// --- API -------------------------------------------------------------------------------------

/// One learner's unit an EQA sampled.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ApiSampled {
    pub registration: i64,
    pub learner: i64,
    /// The unit's key.
    pub unit: String,
}

/// An action of an EQA visit, for the centre.
#[derive(Serialize, ToSchema)]
pub struct ApiVisitAction {
    pub action: i64,
    pub text: String,
    /// YYYY-MM-DD
    pub due_on: String,
    /// The centre's answer.
    pub response: Option<String>,
    pub responded_at: Option<String>,
    pub closed_at: Option<String>,
    /// Open past its due date.
    pub overdue: bool,
}

/// An EQA visit: planned, and once reported its outcome, risk rating, what was sampled,
/// findings and actions.
#[derive(Serialize, ToSchema)]
pub struct ApiVisit {
    pub visit: i64,
    pub centre: i64,
    pub centre_name: String,
    /// The awarding organisation whose EQA visits.
    pub ao: String,
    pub eqa: i64,
    pub eqa_name: String,
    /// YYYY-MM-DD
    pub planned_on: String,
    /// YYYY-MM-DD, once reported.
    pub visited_on: Option<String>,
    /// satisfactory or unsatisfactory, once reported.
    pub outcome: Option<String>,
    /// The centre's risk rating: low, medium or high, once reported.
    pub risk: Option<String>,
    pub sampled: Vec<ApiSampled>,
    pub findings: String,
    pub reported_at: Option<String>,
    pub actions: Vec<ApiVisitAction>,
}

impl From<VisitView> for ApiVisit {
    fn from(v: VisitView) -> Self {
        let s = v.visit;
        ApiVisit {
            visit: s.visit,
            centre: s.centre,
            centre_name: s.centre_name,
            ao: s.ao,
            eqa: s.eqa,
            eqa_name: s.eqa_name,
            planned_on: s.planned_on,
            visited_on: s.visited_on,
            outcome: s.outcome,
            risk: s.risk,
            sampled: serde_json::from_value(s.sampled).unwrap_or_default(),
            findings: s.findings,
            reported_at: s.reported_at,
            actions: v
                .actions
                .into_iter()
                .map(|a| ApiVisitAction {
                    action: a.action,
                    text: a.text,
                    due_on: a.due_on,
                    response: a.response,
                    responded_at: a.responded_at,
                    closed_at: a.closed_at,
                    overdue: a.overdue,
                })
                .collect(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitsQuery {
    /// Only this centre's visits.
    pub centre: Option<i64>,
}

/// EQA visits you may see: an EQA's own, an awarding organisation's staff's for their AO,
/// a centre's (its IQAs and administrators) for that centre; `centre` narrows to one centre.
#[utoipa::path(get, path = "/api/v1/visits", tag = "quality",
    params(VisitsQuery),
    responses((status = 200, body = Vec<ApiVisit>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn api_visits(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(q): ApiQuery<VisitsQuery>,
) -> Result<Json<Vec<ApiVisit>>, ApiError> {
    let list = app.visits(&actor, q.centre).await?;
    Ok(Json(list.into_iter().map(ApiVisit::from).collect()))
}
