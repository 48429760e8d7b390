//! A sample's page: what is sampled and why; opening it (the unit's snapshot); the IQA's
//! decisions per criterion and for the whole unit beside the snapshot; swapping a planned
//! sample; referrals and closing them.

use super::AppState;
use super::plan::{
    Problems, field, is_past, pairs, problem_status, qualification_units, readable_reason,
    registration_options, render_with, sample_field, shown_on_page, stage_title, state_tag,
    uk_date, unit_names,
};
use crate::app::AppError;
use crate::app::people::Actor;
use crate::app::quality::sampling::DecisionInput;
use crate::store::{DecisionRow, SampleRow};
use crate::web::access::{CurrentActor, client_address};
use crate::web::pages::PageError;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use serde_json::Value;

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    let r = crate::web::access::route(r, "/qa/samples/{sample}", get(sample_page));
    let r = crate::web::access::route(r, "/qa/samples/{sample}/open", post(open));
    let r = crate::web::access::route(r, "/qa/samples/{sample}/decision", post(decide));
    let r = crate::web::access::route(r, "/qa/samples/{sample}/close", post(close));
    let r = crate::web::access::route(r, "/qa/samples/{sample}/swap", post(swap));
    r
}

/// The sample's id from the path: anything but a number is a sample that does not exist.
fn sample_id(text: &str) -> Result<i64, PageError> {
    text.parse()
        .map_err(|_| PageError::from(AppError::NotFound(format!("sample {text}"))))
}

// --- the snapshot, as stored when the sample was opened ------------------------------------

fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

fn list<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// A criterion's status as the snapshot stored it (the portfolio's status, written out),
/// as a tag: (class, words).
fn snapshot_status(status: &str) -> (&'static str, String) {
    let name: String = status
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    match name.as_str() {
        "Met" if status.contains("rpl: true") => ("tag--green", "Met (RPL)".into()),
        "Met" => ("tag--green", "Met".into()),
        "NotYetMet" => ("tag--red", "Not yet met".into()),
        "Evidenced" => ("tag--blue", "Evidenced, not assessed".into()),
        "NeedsOccasions" => ("tag--yellow", "Judged met; more occasions needed".into()),
        "NoEvidence" | "" => ("tag--grey", "No evidence".into()),
        other => ("tag--grey", other.to_string()),
    }
}

fn outcome_words(outcome: &str) -> String {
    match outcome {
        "met" => "Met".into(),
        "not_yet_met" => "Not yet met".into(),
        other => other.replace('_', " "),
    }
}

struct EvidenceView {
    id: String,
    title: String,
    kind: String,
    date: String,
    location: String,
}

struct JudgementView {
    outcome: String,
    feedback: String,
    assessor: String,
    at: String,
    rpl: bool,
}

/// One criterion (or the whole unit) with the snapshot beside the IQA's decision fields.
struct CriterionView {
    /// The criterion's number; "unit" for the whole unit.
    key: String,
    /// Safe for ids.
    fid: String,
    number: String,
    text: String,
    tag: &'static str,
    status: String,
    evidence: Vec<EvidenceView>,
    judgements: Vec<JudgementView>,
    /// The form's values when it comes back with a problem.
    verdict: String,
    comments: String,
    action: String,
    due: String,
}

struct SignatureView {
    role: String,
    person: String,
    at: String,
    comments: String,
    withdrawn: String,
}

struct DecisionView {
    what: String,
    referred: bool,
    verdict: String,
    comments: String,
    action: String,
    due: String,
    overdue: bool,
    by: String,
    closed: String,
    closing_note: String,
}

#[derive(Clone, Default)]
struct SwapValues {
    registration: String,
    unit: String,
    stage: String,
    reason: String,
}

#[derive(Template)]
#[template(path = "qa_sample.html")]
struct SamplePage {
    title: String,
    has_error: bool,
    csrf: String,
    id: i64,
    centre_id: i64,
    centre_name: String,
    qan: String,
    learner_id: i64,
    learner: String,
    unit_ref: String,
    unit_title: String,
    unit_slug: String,
    assessor: String,
    stage: String,
    status: String,
    tag: &'static str,
    due: String,
    overdue: bool,
    reasons: Vec<String>,
    origin: String,
    opened: String,
    replaced_by: Option<i64>,
    replace_reason: String,
    may_open: bool,
    may_decide: bool,
    may_close: bool,
    has_snapshot: bool,
    snapshot_hash: String,
    signed_off: bool,
    criteria: Vec<CriterionView>,
    whole_unit: CriterionView,
    signatures: Vec<SignatureView>,
    decisions: Vec<DecisionView>,
    open_referrals: Vec<DecisionView>,
    registrations: Vec<(i64, String)>,
    unit_options: Vec<(String, String)>,
    swap: SwapValues,
    close_note: String,
    notice: Option<String>,
    problems: Problems,
}

fn fid(key: &str) -> String {
    key.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

fn criterion_from(v: &Value) -> CriterionView {
    let number = text(v, "number");
    let (tag, status) = snapshot_status(&text(v, "status"));
    CriterionView {
        fid: fid(&number),
        key: number.clone(),
        number,
        text: text(v, "text"),
        tag,
        status,
        evidence: list(v, "evidence")
            .iter()
            .map(|e| EvidenceView {
                id: text(e, "id"),
                title: text(e, "title"),
                kind: super::plan::method_title(&text(e, "kind")),
                date: uk_date(&text(e, "date")),
                location: text(e, "location"),
            })
            .collect(),
        judgements: list(v, "judgements")
            .iter()
            .map(|j| JudgementView {
                outcome: outcome_words(&text(j, "outcome")),
                feedback: text(j, "feedback"),
                assessor: text(j, "assessor"),
                at: uk_date(&text(j, "at")),
                rpl: j.get("rpl").and_then(Value::as_bool).unwrap_or(false),
            })
            .collect(),
        verdict: String::new(),
        comments: String::new(),
        action: String::new(),
        due: String::new(),
    }
}

fn whole_unit() -> CriterionView {
    CriterionView {
        key: "unit".into(),
        fid: "unit".into(),
        number: String::new(),
        text: "The whole unit".into(),
        tag: "tag--grey",
        status: String::new(),
        evidence: Vec::new(),
        judgements: Vec::new(),
        verdict: String::new(),
        comments: String::new(),
        action: String::new(),
        due: String::new(),
    }
}

fn decision_view(d: &DecisionRow, criteria: &[CriterionView]) -> DecisionView {
    let what = match &d.criterion {
        None => "The whole unit".to_string(),
        Some(c) => match criteria.iter().find(|x| x.number == *c) {
            Some(x) => format!("{c} {}", x.text),
            None => c.clone(),
        },
    };
    let referred = d.verdict == "refer";
    DecisionView {
        what,
        referred,
        verdict: if referred {
            "Referred back".into()
        } else {
            "Agreed".into()
        },
        comments: d.comments.clone(),
        action: d.action.clone(),
        due: d.due_on.as_deref().map(uk_date).unwrap_or_default(),
        overdue: referred && d.closed_at.is_none() && d.due_on.as_deref().is_some_and(is_past),
        by: format!("{}, {}", d.iqa_name, uk_date(&d.at)),
        closed: d.closed_at.as_deref().map(uk_date).unwrap_or_default(),
        closing_note: d.closing_note.clone().unwrap_or_default(),
    }
}

/// What the page was given back by a form that had a problem.
#[derive(Default)]
struct Returned {
    problems: Problems,
    status: Option<StatusCode>,
    /// The decision form's pairs.
    decision: Vec<(String, String)>,
    swap: Option<SwapValues>,
    close_note: String,
}

async fn sample_response(
    app: &AppState,
    actor: &Actor,
    id: i64,
    notice: Option<String>,
    returned: Returned,
) -> Result<Response, PageError> {
    let (s, decisions): (SampleRow, Vec<DecisionRow>) = app.sample_view(actor, id).await?;
    let scope = app.qa_scope(actor, s.centre_id).await?;
    let centre = app.centre(s.centre_id).await?;
    let cat = app.catalogue().await?;
    let names = unit_names(&cat);
    let snapshot: Option<Value> = s
        .snapshot
        .as_deref()
        .and_then(|t| serde_json::from_str(t).ok());
    let (unit_ref, unit_title) = match &snapshot {
        Some(v) => {
            let u = v.get("unit").cloned().unwrap_or_default();
            (text(&u, "ao_ref"), text(&u, "title"))
        }
        None => names.get(&s.unit_key).cloned().unwrap_or_default(),
    };
    let (unit_ref, unit_title) = if unit_ref.is_empty() {
        (s.unit_key.clone(), unit_title)
    } else {
        (unit_ref, unit_title)
    };
    let mut criteria: Vec<CriterionView> = snapshot
        .as_ref()
        .map(|v| list(v, "criteria").iter().map(criterion_from).collect())
        .unwrap_or_default();
    let mut unit_row = whole_unit();
    for c in criteria.iter_mut().chain(std::iter::once(&mut unit_row)) {
        let get = |name: &str| {
            field(&returned.decision, &format!("{name}_{}", c.key))
                .unwrap_or_default()
                .to_string()
        };
        c.verdict = get("verdict");
        c.comments = get("comments");
        c.action = get("action");
        c.due = get("due");
    }
    let signatures = snapshot
        .as_ref()
        .map(|v| {
            list(v, "signatures")
                .iter()
                .map(|g| SignatureView {
                    role: if text(g, "role") == "assessor" {
                        "Assessor".into()
                    } else {
                        "Learner".into()
                    },
                    person: text(g, "person"),
                    at: uk_date(&text(g, "at")),
                    comments: text(g, "comments"),
                    withdrawn: {
                        let w = text(g, "withdrawn_at");
                        if w.is_empty() { w } else { uk_date(&w) }
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let decision_views: Vec<DecisionView> = decisions
        .iter()
        .map(|d| decision_view(d, &criteria))
        .collect();
    let open_referrals = decisions
        .iter()
        .filter(|d| d.verdict == "refer" && d.closed_at.is_none())
        .map(|d| decision_view(d, &criteria))
        .collect();
    let is_iqa = scope.is_iqa();
    let planned = s.state == "planned";
    let (registrations, unit_options) = if is_iqa && planned {
        (
            registration_options(app, actor, s.centre_id, &s.qan).await?,
            qualification_units(&cat, &s.qan),
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let opened = match (&s.opened_at, s.iqa_id) {
        (Some(at), Some(iqa)) => {
            let name = app
                .store
                .person(iqa)
                .await
                .map_err(AppError::from)?
                .map(|p| p.display_name)
                .unwrap_or_default();
            format!("by {name} on {}", uk_date(at))
        }
        _ => String::new(),
    };
    let (tag, status) = state_tag(&s.state);
    let learner = format!("{} {}", s.given_name, s.family_name);
    let page = SamplePage {
        title: format!("Sample: {learner}, {unit_ref}"),
        has_error: !returned.problems.is_empty(),
        csrf: actor.csrf.clone().unwrap_or_default(),
        id,
        centre_id: s.centre_id,
        centre_name: centre.name,
        qan: s.qan.clone(),
        learner_id: s.learner_id,
        learner,
        unit_slug: crate::app::catalogue::unit_slug(&s.unit_key),
        unit_ref,
        unit_title,
        assessor: s.assessor_name.clone(),
        stage: stage_title(&s.stage),
        status,
        tag,
        due: uk_date(&s.due_on),
        overdue: matches!(s.state.as_str(), "planned" | "open") && is_past(&s.due_on),
        reasons: {
            let reasons: Vec<String> = serde_json::from_str(&s.reasons).unwrap_or_default();
            let refs = names
                .iter()
                .map(|(k, (r, _))| (k.clone(), r.clone()))
                .collect();
            let assessors =
                std::collections::HashMap::from([(s.assessor_id, s.assessor_name.clone())]);
            reasons
                .iter()
                .map(|r| readable_reason(r, &refs, &assessors))
                .collect()
        },
        origin: if s.origin == "manual" {
            "Added by hand".into()
        } else {
            "Generated by the plan".into()
        },
        opened,
        replaced_by: s.replaced_by,
        replace_reason: s.replace_reason.clone().unwrap_or_default(),
        may_open: is_iqa && planned,
        may_decide: is_iqa && s.state == "open" && s.iqa_id == Some(actor.person_id),
        may_close: is_iqa && s.state == "referred",
        has_snapshot: snapshot.is_some(),
        snapshot_hash: s.snapshot_hash.clone().unwrap_or_default(),
        signed_off: snapshot
            .as_ref()
            .and_then(|v| v.get("signed_off"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        criteria,
        whole_unit: unit_row,
        signatures,
        decisions: decision_views,
        open_referrals,
        registrations,
        unit_options,
        swap: returned.swap.unwrap_or_else(|| SwapValues {
            stage: s.stage.clone(),
            ..Default::default()
        }),
        close_note: returned.close_note,
        notice,
        problems: returned.problems,
    };
    Ok(render_with(
        returned.status.unwrap_or(StatusCode::OK),
        &page,
    ))
}

#[derive(Deserialize, Default)]
struct Done {
    #[serde(default)]
    done: Option<String>,
}

fn notice_of(done: Option<&str>) -> Option<String> {
    Some(
        match done? {
            "added" => "Sample added to the plan.",
            "opened" => "Sample opened: the unit as it stands now is kept as this sample's snapshot. Record your decisions beside it.",
            "agreed" => "Decisions recorded: you agreed with the assessor.",
            "referred" => "Decisions recorded: the unit is referred back to the assessor, whose home page now shows your action. Close the referral once it is resolved.",
            "closed" => "Referral closed: the sample is agreed.",
            "swapped" => "Sample swapped: this sample replaces the one you swapped out.",
            _ => return None,
        }
        .to_string(),
    )
}

async fn sample_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(sample): Path<String>,
    Query(q): Query<Done>,
) -> Result<Response, PageError> {
    let id = sample_id(&sample)?;
    sample_response(
        &app,
        &actor,
        id,
        notice_of(q.done.as_deref()),
        Returned::default(),
    )
    .await
}

/// After an action: back to the sample with a notice, or the page with the problem.
async fn after(
    app: &AppState,
    actor: &Actor,
    id: i64,
    result: Result<String, AppError>,
    problem_field: &str,
    mut returned: Returned,
) -> Result<Response, PageError> {
    match result {
        Ok(done) => Ok(Redirect::to(&format!("/qa/samples/{id}?done={done}")).into_response()),
        Err(e) if shown_on_page(&e) => {
            if returned.problems.is_empty() {
                returned
                    .problems
                    .push((problem_field.to_string(), crate::web::public_message(&e)));
            }
            returned.status = Some(problem_status(Some(&e)));
            sample_response(app, actor, id, None, returned).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn open(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(sample): Path<String>,
) -> Result<Response, PageError> {
    let id = sample_id(&sample)?;
    let result = app
        .open_sample(&actor, id, &client_address(&headers))
        .await
        .map(|()| "opened".to_string());
    after(&app, &actor, id, result, "open", Returned::default()).await
}

/// Which field of the decision form an app's message is about.
fn decision_field(message: &str, keys: &[String]) -> String {
    let m = message.to_lowercase();
    let about = keys
        .iter()
        .find(|k| *k != "unit" && m.contains(&format!("criterion {}", k.to_lowercase())))
        .cloned()
        .or_else(|| m.contains("the unit").then(|| "unit".to_string()));
    let Some(k) = about else {
        return keys
            .first()
            .map(|k| format!("verdict-{}-agree", fid(k)))
            .unwrap_or_else(|| "decision".into());
    };
    let f = fid(&k);
    if m.contains("due") || m.contains("date") {
        format!("due-{f}")
    } else if m.contains("must do") || m.contains("action") {
        format!("action-{f}")
    } else if m.contains("comments") {
        format!("comments-{f}")
    } else {
        format!("verdict-{f}-agree")
    }
}

async fn decide(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(sample): Path<String>,
    body: axum::body::Bytes,
) -> Result<Response, PageError> {
    let id = sample_id(&sample)?;
    let p = pairs(&body);
    // The criteria the sample's snapshot holds, then the whole unit: only those are decided.
    let (s, _) = app.sample_view(&actor, id).await?;
    let mut keys: Vec<String> = s
        .snapshot
        .as_deref()
        .and_then(|t| serde_json::from_str::<Value>(t).ok())
        .map(|v| {
            list(&v, "criteria")
                .iter()
                .map(|c| text(c, "number"))
                .collect()
        })
        .unwrap_or_default();
    keys.push("unit".into());
    let mut problems = Problems::new();
    let mut decisions = Vec::new();
    for k in &keys {
        let get = |name: &str| {
            field(&p, &format!("{name}_{k}"))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        let verdict = get("verdict");
        if !matches!(verdict.as_str(), "agree" | "refer") {
            continue;
        }
        let what = if k == "unit" {
            "the whole unit".to_string()
        } else {
            format!("criterion {k}")
        };
        if verdict == "refer" {
            if get("action").is_empty() {
                problems.push((
                    format!("action-{}", fid(k)),
                    format!("Say what the assessor must do about {what} when referring it back"),
                ));
            }
            if get("due").is_empty() {
                problems.push((
                    format!("due-{}", fid(k)),
                    format!("Enter the date the action on {what} is due, for example 31/12/2026"),
                ));
            }
        }
        decisions.push(DecisionInput {
            criterion: (k != "unit").then(|| k.clone()),
            verdict,
            comments: get("comments"),
            action: get("action"),
            due_on: get("due"),
        });
    }
    if decisions.is_empty() && problems.is_empty() {
        problems.push((
            keys.first()
                .map(|k| format!("verdict-{}-agree", fid(k)))
                .unwrap_or_default(),
            "Agree or refer back at least one criterion or the whole unit".into(),
        ));
    }
    let returned = |problems: Problems| Returned {
        problems,
        decision: p.clone(),
        ..Default::default()
    };
    if !problems.is_empty() {
        let mut r = returned(problems);
        r.status = Some(StatusCode::UNPROCESSABLE_ENTITY);
        return sample_response(&app, &actor, id, None, r).await;
    }
    let referred = decisions.iter().any(|d| d.verdict == "refer");
    let result = app
        .decide_sample(&actor, id, &decisions, &client_address(&headers))
        .await
        .map(|_| if referred { "referred" } else { "agreed" }.to_string());
    let problem_field = match &result {
        Err(e) => decision_field(&crate::web::public_message(e), &keys),
        Ok(_) => String::new(),
    };
    after(
        &app,
        &actor,
        id,
        result,
        &problem_field,
        returned(Problems::new()),
    )
    .await
}

#[derive(Deserialize)]
struct CloseForm {
    note: String,
}

async fn close(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(sample): Path<String>,
    Form(f): Form<CloseForm>,
) -> Result<Response, PageError> {
    let id = sample_id(&sample)?;
    let result = app
        .close_referral(&actor, id, &f.note, &client_address(&headers))
        .await
        .map(|()| "closed".to_string());
    after(
        &app,
        &actor,
        id,
        result,
        "note",
        Returned {
            close_note: f.note.clone(),
            ..Default::default()
        },
    )
    .await
}

#[derive(Deserialize)]
struct SwapForm {
    registration: String,
    unit: String,
    #[serde(default)]
    stage: String,
    reason: String,
}

async fn swap(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(sample): Path<String>,
    Form(f): Form<SwapForm>,
) -> Result<Response, PageError> {
    let id = sample_id(&sample)?;
    let values = SwapValues {
        registration: f.registration.clone(),
        unit: f.unit.clone(),
        stage: f.stage.clone(),
        reason: f.reason.clone(),
    };
    let result = async {
        let registration: i64 = f.registration.trim().parse().map_err(|_| {
            AppError::Validation("Choose the learner whose work to sample instead".into())
        })?;
        if f.unit.trim().is_empty() {
            return Err(AppError::Validation(
                "Choose the unit to sample instead".into(),
            ));
        }
        if f.stage.trim().is_empty() {
            return Err(AppError::Validation(
                "Choose the stage to sample: interim or summative".into(),
            ));
        }
        app.swap_sample(
            &actor,
            id,
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
        Ok(new) => Ok(Redirect::to(&format!("/qa/samples/{new}?done=swapped")).into_response()),
        Err(e) => {
            // A registration the IQA cannot use is a mistake in the form, not a missing page.
            let e = match e {
                AppError::NotFound(what) if what.starts_with("registration") => {
                    AppError::Validation(format!(
                        "{what} was not found at this centre: choose a learner from the list"
                    ))
                }
                e => e,
            };
            let field = format!("swap-{}", sample_field(&e));
            after(
                &app,
                &actor,
                id,
                Err(e),
                &field,
                Returned {
                    swap: Some(values),
                    ..Default::default()
                },
            )
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_status_reads_as_words() {
        assert_eq!(snapshot_status("Met { rpl: false }").1, "Met");
        assert_eq!(snapshot_status("Met { rpl: true }").1, "Met (RPL)");
        assert_eq!(
            snapshot_status("NotYetMet { feedback: \"x\" }").1,
            "Not yet met"
        );
        assert_eq!(snapshot_status("").1, "No evidence");
    }

    #[test]
    fn a_problem_is_linked_to_its_field() {
        let keys = vec!["1.1".to_string(), "1.2".to_string(), "unit".to_string()];
        assert_eq!(
            decision_field("The due date for criterion 1.2 is in the past", &keys),
            "due-1-2"
        );
        assert_eq!(
            decision_field(
                "Say what the assessor must do about the unit when referring it back",
                &keys
            ),
            "action-unit"
        );
        assert_eq!(decision_field("something else", &keys), "verdict-1-1-agree");
    }
}
