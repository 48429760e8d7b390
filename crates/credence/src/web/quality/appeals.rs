//! Appeals against assessment decisions (`/appeals`): the learner opens one, someone at the
//! centre other than the assessor reviews it, the learner may take it to the awarding
//! organisation, whose staff decide it. Each step shows who, when and the outcome (Ofqual's
//! condition on appeals). The use cases decide who may act; this page offers each person
//! the steps that are theirs.

use super::AppState;
use super::eqa::{csrf_of, is_forbidden, path_id, refused, shown, uk_date, uk_opt};
use crate::app::AppError;
use crate::app::people::Actor;
use crate::store::AppealRow;
use crate::web::access::{CurrentActor, client_address};
use crate::web::pages::{PageError, render_status};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use credence_domain::rules::Catalogue as RulesCatalogue;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    let r = crate::web::access::route(r, "/appeals", get(appeals).post(open));
    let r = crate::web::access::route(r, "/appeals/{appeal}/review", post(review));
    let r = crate::web::access::route(r, "/appeals/{appeal}/escalate", post(escalate));
    crate::web::access::route(r, "/appeals/{appeal}/decision", post(decide))
}

pub(super) struct AppealLine {
    id: i64,
    learner: String,
    qan: String,
    unit: String,
    criterion: String,
    grounds: String,
    stage: &'static str,
    stage_tag: &'static str,
    opened_by: String,
    opened_on: String,
    centre_outcome: String,
    centre_by: String,
    centre_on: String,
    centre_reason: String,
    escalated_on: String,
    ao_outcome: String,
    ao_by: String,
    ao_on: String,
    ao_reason: String,
    /// The centre's staff may review it now.
    may_review: bool,
    /// Why this person may not review it (they made the decision).
    review_block: String,
    may_escalate: bool,
    may_decide: bool,
    /// A refused review or decision on this appeal: the message and what was typed.
    error: Option<String>,
    draft_outcome: String,
    draft_reason: String,
}

/// One unit a learner may appeal a decision on: (registration, unit key, words, selected).
type UnitChoice = (i64, String, String, bool);

#[derive(Template)]
#[template(path = "appeals.html")]
pub(super) struct AppealsPage {
    title: String,
    has_error: bool,
    csrf: String,
    error: Option<String>,
    error_field: String,
    notice: Option<String>,
    lines: Vec<AppealLine>,
    /// A learner: may open an appeal on these registrations (id, words, selected).
    registrations: Vec<(i64, String, bool)>,
    /// Grouped by registration: (group label, units).
    units: Vec<(String, Vec<UnitChoice>)>,
    form: OpenForm,
    is_learner: bool,
}

#[derive(Deserialize, Default)]
pub(super) struct OpenForm {
    #[serde(default)]
    registration: String,
    #[serde(default)]
    unit: String,
    #[serde(default)]
    criterion: String,
    #[serde(default)]
    grounds: String,
}

#[derive(Deserialize, Default)]
pub(super) struct OutcomeForm {
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize, Default)]
pub(super) struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

/// What the page shows besides the appeals.
#[derive(Default)]
struct Shown {
    notice: Option<String>,
    /// The open form's error and field.
    error: Option<String>,
    error_field: &'static str,
    form: OpenForm,
    /// A refused step on one appeal: (appeal, message, outcome typed, reason typed).
    step: Option<(i64, String, String, String)>,
}

fn outcome_words(o: Option<&str>) -> String {
    match o {
        Some("upheld") => "Upheld".into(),
        Some("not_upheld") => "Not upheld".into(),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

async fn appeals(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(q): Query<DoneQuery>,
) -> Result<Response, PageError> {
    let notice = match q.done.as_deref() {
        Some("opened") => Some(
            "Your appeal is open. Someone at your centre other than your assessor reviews it; any claim that involves the decision is held meanwhile.",
        ),
        Some("reviewed") => Some(
            "The centre's review is recorded. The learner can take the appeal to the awarding organisation.",
        ),
        Some("escalated") => {
            Some("Your appeal is with the awarding organisation, which decides it.")
        }
        Some("decided") => {
            Some("The awarding organisation's decision is recorded and the appeal is closed.")
        }
        _ => None,
    };
    let s = Shown {
        notice: notice.map(str::to_string),
        ..Shown::default()
    };
    appeals_page(&app, &actor, s).await
}

struct Names<'a> {
    app: &'a AppState,
    people: HashMap<i64, String>,
}

impl Names<'_> {
    async fn of(&mut self, id: Option<i64>) -> Result<String, PageError> {
        let Some(id) = id else {
            return Ok(String::new());
        };
        if let Some(n) = self.people.get(&id) {
            return Ok(n.clone());
        }
        let n = self
            .app
            .store
            .person(id)
            .await
            .map_err(AppError::from)?
            .map(|p| p.display_name)
            .unwrap_or_else(|| format!("person {id}"));
        self.people.insert(id, n.clone());
        Ok(n)
    }
}

async fn appeal_line(
    app: &AppState,
    actor: &Actor,
    names: &mut Names<'_>,
    a: &AppealRow,
    step: Option<&(i64, String, String, String)>,
) -> Result<AppealLine, PageError> {
    let reg = app
        .store
        .registration(a.registration_id)
        .await
        .map_err(AppError::from)?;
    let (qan, ao, unit) = match &reg {
        Some(r) => {
            let spec = app.specification_of_version(r.catalogue_version_id).await?;
            let unit = spec
                .unit(&a.unit_key)
                .map(|u| format!("{} {}", u.ao_ref, u.title))
                .unwrap_or_else(|| a.unit_key.clone());
            (r.qan.clone(), r.ao_code.clone(), unit)
        }
        None => (String::new(), String::new(), a.unit_key.clone()),
    };
    let learner = match &reg {
        Some(r) => format!("{} {}", r.given_name, r.family_name),
        None => format!("learner {}", a.learner_id),
    };
    let (stage, stage_tag) = match a.stage.as_str() {
        "centre" => ("With the centre", "tag--yellow"),
        "ao" => ("With the awarding organisation", "tag--blue"),
        _ => ("Closed", "tag--grey"),
    };
    let staff = actor
        .centre_roles(a.centre_id)
        .iter()
        .any(|r| matches!(*r, "centre_admin" | "iqa" | "assessor"));
    let open_at_centre = a.stage == "centre" && a.centre_outcome.is_none();
    let mut may_review = staff && open_at_centre;
    let mut review_block = String::new();
    if may_review {
        let assessed = app
            .store
            .judgements_of_learner(a.learner_id)
            .await
            .map_err(AppError::from)?
            .iter()
            .any(|j| {
                j.unit_key == a.unit_key
                    && j.assessor_id == actor.person_id
                    && a.criterion.as_ref().is_none_or(|c| *c == j.criterion)
            });
        if assessed {
            may_review = false;
            review_block =
                "You made the decision appealed against: someone else at the centre reviews it."
                    .into();
        }
    }
    let mine = step.filter(|(id, _, _, _)| *id == a.appeal_id);
    Ok(AppealLine {
        id: a.appeal_id,
        learner,
        qan,
        unit,
        criterion: a.criterion.clone().unwrap_or_default(),
        grounds: a.grounds.clone(),
        stage,
        stage_tag,
        opened_by: names.of(Some(a.opened_by)).await?,
        opened_on: uk_date(&a.opened_at),
        centre_outcome: outcome_words(a.centre_outcome.as_deref()),
        centre_by: names.of(a.centre_reviewer).await?,
        centre_on: uk_opt(a.centre_decided_at.as_deref()),
        centre_reason: a.centre_reason.clone().unwrap_or_default(),
        escalated_on: uk_opt(a.escalated_at.as_deref()),
        ao_outcome: outcome_words(a.ao_outcome.as_deref()),
        ao_by: names.of(a.ao_reviewer).await?,
        ao_on: uk_opt(a.ao_decided_at.as_deref()),
        ao_reason: a.ao_reason.clone().unwrap_or_default(),
        may_review,
        review_block,
        may_escalate: actor.learner_ids().contains(&a.learner_id)
            && a.centre_outcome.is_some()
            && a.escalated_at.is_none()
            && a.ao_outcome.is_none(),
        may_decide: a.stage == "ao" && !ao.is_empty() && actor.ao_codes().contains(&ao.as_str()),
        error: mine.map(|(_, m, _, _)| m.clone()),
        draft_outcome: mine.map(|(_, _, o, _)| o.clone()).unwrap_or_default(),
        draft_reason: mine.map(|(_, _, _, r)| r.clone()).unwrap_or_default(),
    })
}

async fn appeals_page(app: &AppState, actor: &Actor, s: Shown) -> Result<Response, PageError> {
    let list = app.appeals(actor).await?;
    let mut names = Names {
        app,
        people: HashMap::new(),
    };
    let mut lines = Vec::new();
    for a in &list {
        lines.push(appeal_line(app, actor, &mut names, a, s.step.as_ref()).await?);
    }
    // A learner may open an appeal on a unit of their current registrations that has an
    // assessment decision.
    let mut registrations = Vec::new();
    let mut units = Vec::new();
    for l in actor.learner_ids() {
        let judged: BTreeSet<String> = app
            .store
            .judgements_of_learner(l)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .map(|j| j.unit_key)
            .collect();
        for r in app
            .store
            .registrations_of_learner(l)
            .await
            .map_err(AppError::from)?
            .into_iter()
            .filter(|r| r.status == "registered")
        {
            let spec = app.specification_of_version(r.catalogue_version_id).await?;
            let title = spec
                .programme(&r.qan)
                .map(|q| q.title.clone())
                .unwrap_or_default();
            let words = format!("{} {title} at {}", r.qan, r.centre_name);
            let choices: Vec<UnitChoice> = spec
                .programme(&r.qan)
                .map(|q| {
                    q.units
                        .iter()
                        .filter(|qu| judged.contains(&qu.unit))
                        .map(|qu| {
                            let w = spec
                                .unit(&qu.unit)
                                .map(|u| format!("{} {}", u.ao_ref, u.title))
                                .unwrap_or_else(|| qu.unit.clone());
                            (
                                r.registration_id,
                                qu.unit.clone(),
                                w,
                                s.form.unit == qu.unit,
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            registrations.push((
                r.registration_id,
                words.clone(),
                s.form.registration == r.registration_id.to_string(),
            ));
            if !choices.is_empty() {
                units.push((words, choices));
            }
        }
    }
    let step_error = s.step.as_ref().map(|(id, m, _, _)| (*id, m.clone()));
    let has_error = s.error.is_some() || step_error.is_some();
    let (error, error_field) = match (s.error, step_error) {
        (Some(m), _) => (Some(m), s.error_field.to_string()),
        (None, Some((id, m))) => {
            let line = lines.iter().find(|l| l.id == id);
            let field = match line {
                Some(l) if (l.may_review || l.may_decide) && m.starts_with("Choose whether") => {
                    format!("outcome-{id}-upheld")
                }
                Some(l) if l.may_review || l.may_decide => format!("reason-{id}"),
                _ => format!("appeal-{id}"),
            };
            (Some(m), field)
        }
        (None, None) => (None, String::new()),
    };
    Ok(render_status(
        has_error,
        &AppealsPage {
            title: "Appeals".into(),
            has_error,
            csrf: csrf_of(actor),
            error,
            error_field,
            notice: s.notice,
            lines,
            is_learner: !actor.learner_ids().is_empty(),
            registrations,
            units,
            form: s.form,
        },
    ))
}

/// The key of the unit the learner named (chosen from the list, or typed as a reference)
/// on the registration's qualification.
async fn unit_key(
    app: &AppState,
    registration: i64,
    unit: &str,
) -> Result<Option<String>, PageError> {
    let Some(r) = app
        .store
        .registration(registration)
        .await
        .map_err(AppError::from)?
    else {
        return Ok(None);
    };
    let spec = app.specification_of_version(r.catalogue_version_id).await?;
    let rc = RulesCatalogue::new(&spec.qualifications, &spec.units);
    Ok(rc.resolve(unit).map(|u| u.key.clone()))
}

async fn open(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Form(f): Form<OpenForm>,
) -> Result<Response, PageError> {
    let refuse = |m: String, field: &'static str, f: OpenForm| Shown {
        error: Some(m),
        error_field: field,
        form: f,
        ..Shown::default()
    };
    if actor.learner_ids().is_empty() {
        let s = refuse(
            "Only a learner appeals an assessment decision, from their own account".into(),
            "",
            f,
        );
        return appeals_page(&app, &actor, s).await;
    }
    let Ok(registration) = f.registration.trim().parse::<i64>() else {
        let s = refuse("Choose the qualification".into(), "registration", f);
        return appeals_page(&app, &actor, s).await;
    };
    if f.unit.trim().is_empty() {
        let s = refuse(
            "Choose the unit whose assessment decision you appeal".into(),
            "unit",
            f,
        );
        return appeals_page(&app, &actor, s).await;
    }
    let Some(key) = unit_key(&app, registration, &f.unit).await? else {
        let s = refuse(
            format!("{} is not a unit of that qualification", f.unit.trim()),
            "unit",
            f,
        );
        return appeals_page(&app, &actor, s).await;
    };
    let criterion = Some(f.criterion.trim()).filter(|c| !c.is_empty());
    match app
        .open_appeal(
            &actor,
            registration,
            &key,
            criterion,
            &f.grounds,
            &client_address(&headers),
        )
        .await
    {
        Ok(id) => Ok(Redirect::to(&format!("/appeals?done=opened#appeal-{id}")).into_response()),
        Err(AppError::NotFound(_)) => {
            let s = refuse("Choose one of your registrations".into(), "registration", f);
            appeals_page(&app, &actor, s).await
        }
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            let field = if m.contains("grounds") || m.contains("Say why") {
                "grounds"
            } else if criterion.is_some() && m.contains("decision") {
                "criterion"
            } else {
                "unit"
            };
            refused(
                forbidden,
                appeals_page(&app, &actor, refuse(m, field, f)).await,
            )
        }
    }
}

/// Upheld or not, as the form says; `None` when neither was chosen.
fn upheld(outcome: &str) -> Option<bool> {
    match outcome {
        "upheld" => Some(true),
        "not_upheld" => Some(false),
        _ => None,
    }
}

async fn review(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(f): Form<OutcomeForm>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "appeal")?;
    let result = match upheld(&f.outcome) {
        None => Err(AppError::Validation(
            "Choose whether the appeal is upheld or not".into(),
        )),
        Some(up) => {
            app.review_appeal(&actor, id, up, &f.reason, &client_address(&headers))
                .await
        }
    };
    step_done(&app, &actor, id, result, "reviewed", f).await
}

async fn decide(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(raw): Path<String>,
    Form(f): Form<OutcomeForm>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "appeal")?;
    let result = match upheld(&f.outcome) {
        None => Err(AppError::Validation(
            "Choose whether the appeal is upheld or not".into(),
        )),
        Some(up) => {
            app.decide_appeal(&actor, id, up, &f.reason, &client_address(&headers))
                .await
        }
    };
    step_done(&app, &actor, id, result, "decided", f).await
}

async fn escalate(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(raw): Path<String>,
) -> Result<Response, PageError> {
    let id = path_id(&raw, "appeal")?;
    let result = app
        .escalate_appeal(&actor, id, &client_address(&headers))
        .await;
    step_done(
        &app,
        &actor,
        id,
        result,
        "escalated",
        OutcomeForm::default(),
    )
    .await
}

/// After a step on an appeal: back to the list, or the list with the refusal at the appeal.
async fn step_done(
    app: &AppState,
    actor: &Actor,
    id: i64,
    result: Result<(), AppError>,
    done: &str,
    f: OutcomeForm,
) -> Result<Response, PageError> {
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/appeals?done={done}#appeal-{id}")).into_response()),
        Err(e) => {
            let forbidden = is_forbidden(&e);
            let m = shown(e)?;
            let s = Shown {
                step: Some((id, m, f.outcome, f.reason)),
                ..Shown::default()
            };
            refused(forbidden, appeals_page(app, actor, s).await)
        }
    }
}
