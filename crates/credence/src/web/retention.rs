//! Records retention pages and API (issue 16): what falls due at an AO's centres
//! (`/records`) or at one centre (`/centres/{centre}/records`), legal holds placed and lifted
//! by AO staff, and the latest disposal runs. Who sees what is
//! [`crate::app::authz::RecordsScope`].

use crate::app::authz::RecordsScope;
use crate::app::people::Actor;
use crate::app::retention::{RetentionLine, RetentionOverview, RetentionState};
use crate::app::{AppError, AppResult};
use crate::web::access::CurrentActor;
use crate::web::pages::{PageError, render};
use crate::web::people::ConfirmPage;
use crate::web::{ApiError, ApiJson, ApiPath, ApiQuery, AppState, ErrorBody};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use credence_domain::records::HoldOn;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// The page's routes.
#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = crate::web::access::route(r, "/records", get(ao_page));
    let r = crate::web::access::route(r, "/centres/{centre}/records", get(centre_page));
    let r = crate::web::access::route(r, "/records/holds/new", get(new_hold_page).post(place_hold));
    let r = crate::web::access::route(
        r,
        "/records/holds/{hold}/lift",
        get(lift_page).post(lift_hold),
    );
    r
}

/// The API's routes, in the OpenAPI document.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(get_retention))
        .routes(routes!(create_hold))
        .routes(routes!(lift_hold_api))
}

/// The look-ahead windows the page offers, in days.
const WINDOWS: [u32; 4] = [30, 90, 180, 365];

fn today() -> chrono::NaiveDate {
    chrono::Utc::now().date_naive()
}

// --- the pages --------------------------------------------------------------------------------

/// One row of the table.
struct Row {
    learner: String,
    uln: String,
    centre: String,
    completed: String,
    kept_until: String,
    records: String,
    tag: &'static str,
    status: String,
}

fn row(l: &RetentionLine) -> Row {
    let (tag, status) = match l.state {
        RetentionState::Due => (" tag--red", "Due for disposal".to_string()),
        RetentionState::FallsDue => (" tag--yellow", "Falls due".to_string()),
        RetentionState::Held => (
            " tag--blue",
            format!("Legal hold: {}", l.hold_reason.clone().unwrap_or_default()),
        ),
    };
    Row {
        learner: format!("{} (learner {})", l.learner_name, l.learner_id),
        uln: l.uln.clone().unwrap_or_else(|| "none".into()),
        centre: l.centre_name.clone(),
        completed: crate::format::uk_opt(l.completed_on.as_deref()),
        kept_until: crate::format::uk_opt(l.kept_until.as_deref()),
        records: format!(
            "{} records, {} file{} ({})",
            l.records,
            l.files,
            if l.files == 1 { "" } else { "s" },
            crate::evidence_store::human_size(u64::try_from(l.file_bytes).unwrap_or(0))
        ),
        tag,
        status,
    }
}

/// (centre, due, falls due, held) per centre with anything to show.
fn by_centre(o: &RetentionOverview) -> Vec<(String, usize, usize, usize)> {
    let mut out: Vec<(String, usize, usize, usize)> = Vec::new();
    for l in &o.lines {
        let i = match out.iter().position(|c| c.0 == l.centre_name) {
            Some(i) => i,
            None => {
                out.push((l.centre_name.clone(), 0, 0, 0));
                out.len() - 1
            }
        };
        match l.state {
            RetentionState::Due => out[i].1 += 1,
            RetentionState::FallsDue => out[i].2 += 1,
            RetentionState::Held => out[i].3 += 1,
        }
    }
    out.sort();
    out
}

#[derive(Template)]
#[template(path = "records_retention.html")]
struct RetentionPage {
    title: String,
    has_error: bool,
    caption: String,
    /// Where the window form goes.
    base: String,
    crumbs: Vec<(String, String)>,
    notice: Option<String>,
    on: String,
    within: u32,
    windows: Vec<u32>,
    due: usize,
    falls_due: usize,
    held: usize,
    rows: Vec<Row>,
    centres: Vec<(String, usize, usize, usize)>,
    /// (id, what it covers, reason, placed by, placed on)
    holds: Vec<(i64, String, String, String, String)>,
    may_hold: bool,
    /// (run, day, disposed, files, held, finished)
    runs: Vec<(i64, String, i64, i64, i64, String)>,
}

#[derive(Deserialize, Default)]
struct Window {
    #[serde(default)]
    within: Option<u32>,
    #[serde(default)]
    placed: Option<i64>,
    #[serde(default)]
    lifted: Option<i64>,
}

async fn retention_page(
    app: &AppState,
    scope: &RecordsScope,
    caption: String,
    base: String,
    crumbs: Vec<(String, String)>,
    w: Window,
) -> Result<Response, PageError> {
    let within = w.within.unwrap_or(90).clamp(1, 3650);
    let o = app.retention_overview(scope, today(), within).await?;
    let notice = match (w.placed, w.lifted) {
        (Some(id), _) => Some(format!(
            "Legal hold {id} placed: nothing it covers is disposed of or erased until it is lifted."
        )),
        (None, Some(id)) => Some(format!(
            "Legal hold {id} lifted: its records follow the retention rules again."
        )),
        _ => None,
    };
    let page = RetentionPage {
        title: "Records retention".into(),
        has_error: false,
        caption,
        base,
        crumbs,
        notice,
        on: crate::format::uk_date(&o.on),
        within: o.within_days,
        windows: {
            let mut w = WINDOWS.to_vec();
            if !w.contains(&o.within_days) {
                w.push(o.within_days);
                w.sort_unstable();
            }
            w
        },
        due: o.count(RetentionState::Due),
        falls_due: o.count(RetentionState::FallsDue),
        held: o.count(RetentionState::Held),
        rows: o.lines.iter().map(row).collect(),
        centres: by_centre(&o),
        holds: o
            .holds
            .iter()
            .map(|h| {
                (
                    h.legal_hold_id,
                    match (h.learner_id, h.centre_id) {
                        (Some(l), _) => format!("Learner {} (learner {l})", h.subject_name),
                        (None, Some(_)) => format!("Centre {}", h.subject_name),
                        _ => String::new(),
                    },
                    h.reason.clone(),
                    h.placed_by.clone(),
                    crate::format::uk_date(&h.placed_at),
                )
            })
            .collect(),
        may_hold: scope.may_hold(),
        runs: o
            .runs
            .iter()
            .map(|r| {
                (
                    r.retention_run_id,
                    crate::format::uk_date(&r.on_day),
                    r.disposed,
                    r.files,
                    r.held,
                    r.finished_at
                        .as_deref()
                        .map(crate::format::uk_date_time)
                        .unwrap_or_else(|| "not finished".into()),
                )
            })
            .collect(),
    };
    Ok(render(&page))
}

async fn ao_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Query(w): Query<Window>,
) -> Result<Response, PageError> {
    let scope = app.records_scope(&actor, None).await?;
    let caption = scope.ao().unwrap_or_default().to_string();
    retention_page(
        &app,
        &scope,
        caption,
        "/records".into(),
        vec![("/home".into(), "Your work".into())],
        w,
    )
    .await
}

async fn centre_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
    Query(w): Query<Window>,
) -> Result<Response, PageError> {
    let scope = app.records_scope(&actor, Some(centre)).await?;
    let name = app.centre(centre).await?.name;
    retention_page(
        &app,
        &scope,
        name.clone(),
        format!("/centres/{centre}/records"),
        vec![
            ("/home".into(), "Your work".into()),
            (format!("/centres/{centre}"), name),
        ],
        w,
    )
    .await
}

#[derive(Template)]
#[template(path = "legal_hold_new.html")]
struct NewHoldPage {
    title: String,
    has_error: bool,
    csrf: String,
    /// (field id, message)
    problems: Vec<(String, String)>,
    on: String,
    learner: String,
    centre: String,
    reason: String,
    centres: Vec<(i64, String)>,
}

#[derive(Deserialize, Default, Clone)]
struct HoldForm {
    #[serde(default)]
    on: String,
    #[serde(default)]
    learner: String,
    #[serde(default)]
    centre: String,
    #[serde(default)]
    reason: String,
}

async fn hold_form(
    app: &AppState,
    actor: &Actor,
    form: HoldForm,
    problem: Option<(String, AppError)>,
) -> Result<Response, PageError> {
    let scope = app.records_scope(actor, None).await?;
    scope.require_hold()?;
    let mut status = StatusCode::OK;
    let problems = match problem {
        Some((field, e)) => {
            status = crate::web::status_of(&e);
            vec![(field, crate::web::public_message(&e))]
        }
        None => Vec::new(),
    };
    let page = NewHoldPage {
        title: "Place a legal hold".into(),
        has_error: !problems.is_empty(),
        csrf: crate::web::people::csrf_of(actor),
        problems,
        on: if form.on.is_empty() {
            "learner".into()
        } else {
            form.on
        },
        learner: form.learner,
        centre: form.centre,
        reason: form.reason,
        centres: app.centres_for_hold(&scope).await?,
    };
    let mut res = render(&page);
    *res.status_mut() = status;
    Ok(res)
}

async fn new_hold_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    hold_form(&app, &actor, HoldForm::default(), None).await
}

/// What the form names, or the field at fault and why.
async fn hold_target(
    app: &AppState,
    scope: &RecordsScope,
    form: &HoldForm,
) -> Result<HoldOn, (String, AppError)> {
    match form.on.as_str() {
        "centre" => form
            .centre
            .trim()
            .parse::<i64>()
            .map(HoldOn::Centre)
            .map_err(|_| {
                (
                    "centre".to_string(),
                    AppError::Validation("Choose the centre the hold covers".into()),
                )
            }),
        "learner" => app
            .learner_for_hold(scope, &form.learner)
            .await
            .map(HoldOn::Learner)
            .map_err(|e| ("learner".to_string(), e)),
        _ => Err((
            "on-learner".to_string(),
            AppError::Validation("Choose whether the hold covers a learner or a centre".into()),
        )),
    }
}

async fn place_hold(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Form(form): Form<HoldForm>,
) -> Result<Response, PageError> {
    let scope = app.records_scope(&actor, None).await?;
    let on = match hold_target(&app, &scope, &form).await {
        Ok(on) => on,
        Err(p) => return hold_form(&app, &actor, form, Some(p)).await,
    };
    match app.place_hold_in(&scope, on, &form.reason).await {
        Ok(id) => Ok(Redirect::to(&format!("/records?placed={id}")).into_response()),
        Err(e @ AppError::Validation(_)) => {
            let field = if e.to_string().contains("reason") {
                "reason"
            } else {
                "learner"
            };
            hold_form(&app, &actor, form, Some((field.into(), e))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn lift_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(hold): Path<i64>,
) -> Result<Response, PageError> {
    let scope = app.records_scope(&actor, None).await?;
    scope.require_hold()?;
    let h = app.hold_within(&scope, hold).await?;
    let mut page = ConfirmPage::new(
        &actor,
        format!("Lift legal hold {hold}?"),
        format!("/records/holds/{hold}/lift"),
    );
    page.caption = "Records retention".into();
    page.paragraphs = vec![
        format!(
            "It covers {}: {}.",
            match h.learner_id {
                Some(l) => format!("every record of learner {} (learner {l})", h.subject_name),
                None => format!("every record made at {}", h.subject_name),
            },
            h.reason
        ),
        format!(
            "Placed by {} on {}.",
            h.placed_by,
            crate::format::uk_date(&h.placed_at)
        ),
    ];
    page.warning = "Once lifted, records past their retention are disposed of by the next daily retention run, and cannot be recovered.".into();
    page.button = "Lift the hold".into();
    page.cancel = "/records".into();
    Ok(render(&page))
}

async fn lift_hold(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(hold): Path<i64>,
) -> Result<Response, PageError> {
    let scope = app.records_scope(&actor, None).await?;
    app.lift_hold_in(&scope, hold).await?;
    Ok(Redirect::to(&format!("/records?lifted={hold}")).into_response())
}

// --- the API ----------------------------------------------------------------------------------

/// Which records to look at.
#[derive(Deserialize, IntoParams)]
struct RetentionQuery {
    /// Look this many days ahead (default 90, at most 3650).
    within: Option<u32>,
    /// Only this centre (its administrators must give it; AO staff may).
    centre: Option<i64>,
}

/// What is due for disposal, what falls due within `within` days, and what a legal hold
/// keeps past its retention, at the centres your organisation approves (AO staff) or at
/// your centre (`centre`, its administrators); with the latest disposal runs.
#[utoipa::path(get, path = "/api/v1/records/retention", tag = "records", params(RetentionQuery),
    responses(
        (status = 200, body = RetentionOverview),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn get_retention(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiQuery(q): ApiQuery<RetentionQuery>,
) -> Result<Json<RetentionOverview>, ApiError> {
    let scope = app.records_scope(&actor, q.centre).await?;
    Ok(Json(
        app.retention_overview(&scope, today(), q.within.unwrap_or(90))
            .await?,
    ))
}

/// A legal hold to place: on a learner (`learner`: their ULN or learner number) or on a
/// centre (`centre_id`), with the reason.
#[derive(Deserialize, ToSchema)]
pub struct NewHold {
    pub learner: Option<String>,
    pub centre_id: Option<i64>,
    /// The claim, investigation or appeal.
    pub reason: String,
}

/// A legal hold placed.
#[derive(Serialize, ToSchema)]
pub struct HoldPlaced {
    pub legal_hold_id: i64,
}

/// Place a legal hold (AO staff): nothing it covers is disposed of or erased until it is
/// lifted. Recorded in the audit log; the reason stays in the hold, out of the hashed entry.
#[utoipa::path(post, path = "/api/v1/records/holds", tag = "records", request_body = NewHold,
    responses(
        (status = 201, body = HoldPlaced),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_hold(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiJson(body): ApiJson<NewHold>,
) -> Result<(StatusCode, Json<HoldPlaced>), ApiError> {
    let scope = app.records_scope(&actor, None).await?;
    let on: AppResult<HoldOn> = match (&body.learner, body.centre_id) {
        (Some(l), None) => app.learner_for_hold(&scope, l).await.map(HoldOn::Learner),
        (None, Some(c)) => Ok(HoldOn::Centre(c)),
        _ => Err(AppError::Validation(
            "Give either learner (a ULN or learner number) or centre_id, not both".into(),
        )),
    };
    let id = app.place_hold_in(&scope, on?, &body.reason).await?;
    Ok((StatusCode::CREATED, Json(HoldPlaced { legal_hold_id: id })))
}

/// Lift a legal hold (AO staff). It stays on record as lifted, with who and when.
#[utoipa::path(post, path = "/api/v1/records/holds/{hold}/lift", tag = "records",
    params(("hold" = i64, Path, description = "the hold's id")),
    responses(
        (status = 204, description = "lifted"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn lift_hold_api(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(hold): ApiPath<i64>,
) -> Result<StatusCode, ApiError> {
    let scope = app.records_scope(&actor, None).await?;
    app.lift_hold_in(&scope, hold).await?;
    Ok(StatusCode::NO_CONTENT)
}
