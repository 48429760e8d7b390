//! Evidence over time (issue 17, item 2): the centre's page and API for the number of
//! occasions it asks for on each unit whose specification asks for evidence "on different
//! occasions". Who may read and set it is [`crate::app::authz::PracticeScope`].

use crate::app::occasions::{CentreOccasions, UnitOccasions};
use crate::app::people::Actor;
use crate::app::{AppError, AppResult};
use crate::web::access::{CurrentActor, client_address};
use crate::web::pages::{PageError, render};
use crate::web::{ApiError, ApiJson, ApiPath, AppState, ErrorBody};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use credence_domain::portfolio::MAX_OCCASIONS;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The page's routes.
pub fn router() -> Router<AppState> {
    crate::web::access::route(
        Router::new(),
        "/centres/{centre}/evidence-occasions",
        get(occasions_page).post(save_occasions),
    )
}

/// The API's routes, in the OpenAPI document.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(list_evidence_occasions, set_evidence_occasions))
}

// --- the page ---------------------------------------------------------------------------------

/// One unit on the page.
struct UnitBlock {
    /// Form field ids are numbered by the unit's place on the page.
    index: usize,
    key: String,
    ao_ref: String,
    title: String,
    programmes: String,
    minimum: u32,
    effective: u32,
    words: String,
    /// (occasions, who, when, reason) of the centre's setting.
    setting: Option<(i64, String, String, String)>,
    /// What the form shows: as typed after a problem, else the current number.
    typed_occasions: String,
    typed_reason: String,
    occasions_error: Option<String>,
    reason_error: Option<String>,
}

#[derive(Template)]
#[template(path = "evidence_occasions.html")]
struct OccasionsPage {
    title: String,
    has_error: bool,
    csrf: String,
    centre_id: i64,
    centre_name: String,
    units: Vec<UnitBlock>,
    may_set: bool,
    max: u32,
    notice: Option<String>,
    /// (field id, message) for the error summary.
    problems: Vec<(String, String)>,
}

#[derive(Deserialize, Default)]
struct Notice {
    #[serde(default)]
    saved: Option<String>,
}

/// What the form sent.
#[derive(Deserialize, Default, Clone)]
struct OccasionsForm {
    #[serde(default)]
    unit: String,
    #[serde(default)]
    occasions: String,
    #[serde(default)]
    reason: String,
}

fn block(index: usize, u: &UnitOccasions) -> UnitBlock {
    UnitBlock {
        index,
        key: u.unit.key.clone(),
        ao_ref: u.unit.ao_ref.clone(),
        title: u.unit.title.clone(),
        programmes: u.programmes.join(", "),
        minimum: u.minimum,
        effective: u.effective,
        words: u.words.clone().unwrap_or_default(),
        setting: u.setting.as_ref().map(|s| {
            (
                s.occasions,
                s.set_by_name
                    .clone()
                    .unwrap_or_else(|| "the operator".into()),
                crate::web::format::uk_date_time(&s.updated_at),
                s.reason.clone(),
            )
        }),
        typed_occasions: u.effective.to_string(),
        typed_reason: String::new(),
        occasions_error: None,
        reason_error: None,
    }
}

async fn page_response(
    app: &AppState,
    actor: &Actor,
    centre: i64,
    notice: Option<String>,
    typed: Option<(OccasionsForm, AppError)>,
) -> Result<Response, PageError> {
    let centre_row = app.centre(centre).await?;
    let c: CentreOccasions = app.centre_occasions(actor, centre).await?;
    let mut units: Vec<UnitBlock> = c
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| block(i + 1, u))
        .collect();
    let mut problems = Vec::new();
    let mut status = StatusCode::OK;
    if let Some((form, error)) = typed {
        status = crate::web::status_of(&error);
        let message = crate::web::public_message(&error);
        match units.iter_mut().find(|u| u.key == form.unit.trim()) {
            Some(u) => {
                u.typed_occasions = form.occasions.clone();
                u.typed_reason = form.reason.clone();
                let on_reason = message.starts_with("Say why");
                let field = if on_reason {
                    u.reason_error = Some(message.clone());
                    format!("reason-{}", u.index)
                } else {
                    u.occasions_error = Some(message.clone());
                    format!("occasions-{}", u.index)
                };
                problems.push((field, message));
            }
            None => problems.push(("units".into(), message)),
        }
    }
    let page = OccasionsPage {
        title: format!("Evidence over time: {}", centre_row.name),
        has_error: !problems.is_empty(),
        csrf: crate::web::access::csrf_token(),
        centre_id: centre,
        centre_name: centre_row.name,
        units,
        may_set: c.may_set,
        max: MAX_OCCASIONS,
        notice,
        problems,
    };
    let mut res = render(&page);
    *res.status_mut() = status;
    Ok(res)
}

async fn occasions_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Path(centre): Path<i64>,
    Query(n): Query<Notice>,
) -> Result<Response, PageError> {
    let notice = n
        .saved
        .map(|unit| format!("Saved: the number of occasions for {unit} is recorded, and every learner's criteria at the centre now use it."));
    page_response(&app, &actor, centre, notice, None).await
}

/// The number as typed, or what to do.
fn parse_occasions(typed: &str) -> AppResult<u32> {
    typed.trim().parse::<u32>().map_err(|_| {
        AppError::Validation(format!(
            "Enter the number of occasions as a whole number, for example 3 (at most {MAX_OCCASIONS})"
        ))
    })
}

async fn save_occasions(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    Path(centre): Path<i64>,
    Form(form): Form<OccasionsForm>,
) -> Result<Response, PageError> {
    let result = match parse_occasions(&form.occasions) {
        Ok(n) => app
            .set_centre_occasions(
                &actor,
                centre,
                &form.unit,
                n,
                &form.reason,
                &client_address(&headers),
            )
            .await
            .map(|u| u.unit.ao_ref),
        Err(e) => Err(e),
    };
    match result {
        Ok(ao_ref) => Ok(Redirect::to(&format!(
            "/centres/{centre}/evidence-occasions?saved={}",
            form_urlencoded::byte_serialize(format!("unit {ao_ref}").as_bytes())
                .collect::<String>()
        ))
        .into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Forbidden(_) | AppError::Conflict(_))) => {
            page_response(&app, &actor, centre, None, Some((form, e))).await
        }
        Err(e) => Err(e.into()),
    }
}

// --- the API ----------------------------------------------------------------------------------

/// One unit's occasions at a centre.
#[derive(Serialize, ToSchema)]
pub struct ApiUnitOccasions {
    /// The unit's key (`H/502/8599`).
    pub unit: String,
    pub ao_ref: String,
    pub title: String,
    /// The qualifications (QANs), or the unit's own reference, the centre is approved for
    /// that include the unit.
    pub programmes: Vec<String>,
    /// The specification's minimum number of occasions.
    pub minimum: u32,
    /// The specification's sentence about occasions, in its own words.
    pub words: Option<String>,
    /// The number each criterion needs at this centre: `setting.occasions`, else `minimum`.
    pub effective: u32,
    /// The centre's own setting, where it recorded one.
    pub setting: Option<ApiOccasionsSetting>,
}

/// A centre's recorded setting.
#[derive(Serialize, ToSchema)]
pub struct ApiOccasionsSetting {
    pub occasions: i64,
    pub reason: String,
    /// The person who set it (`null` for the operator's command line).
    pub set_by: Option<i64>,
    pub set_by_name: Option<String>,
    /// RFC 3339, UTC.
    pub set_at: String,
}

/// The centre's units that ask for evidence on different occasions.
#[derive(Serialize, ToSchema)]
pub struct ApiCentreOccasions {
    pub centre: i64,
    /// Whether the caller may set them (the centre's administrators and its lead IQA).
    pub may_set: bool,
    pub units: Vec<ApiUnitOccasions>,
}

/// Set the number of occasions a unit's evidence must come from at this centre.
#[derive(Deserialize, ToSchema)]
pub struct ApiSetOccasions {
    /// The unit's key (`H/502/8599`).
    pub unit: String,
    /// At least the specification's minimum, at most 20.
    pub occasions: u32,
    /// Why the centre asks for this many (kept with the setting and in the audit log).
    pub reason: String,
}

fn api_unit(u: &UnitOccasions) -> ApiUnitOccasions {
    ApiUnitOccasions {
        unit: u.unit.key.clone(),
        ao_ref: u.unit.ao_ref.clone(),
        title: u.unit.title.clone(),
        programmes: u.programmes.clone(),
        minimum: u.minimum,
        words: u.words.clone(),
        effective: u.effective,
        setting: u.setting.as_ref().map(|s| ApiOccasionsSetting {
            occasions: s.occasions,
            reason: s.reason.clone(),
            set_by: s.set_by,
            set_by_name: s.set_by_name.clone(),
            set_at: s.updated_at.clone(),
        }),
    }
}

/// The units the centre is approved for that ask for evidence on different occasions, with
/// the specification's minimum and the centre's own setting.
#[utoipa::path(get, path = "/api/v1/centres/{centre}/evidence-occasions", tag = "centres",
    params(("centre" = i64, Path, description = "centre id")),
    responses((status = 200, body = ApiCentreOccasions), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn list_evidence_occasions(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    ApiPath(centre): ApiPath<i64>,
) -> Result<Json<ApiCentreOccasions>, ApiError> {
    let c = app.centre_occasions(&actor, centre).await?;
    Ok(Json(ApiCentreOccasions {
        centre: c.centre_id,
        may_set: c.may_set,
        units: c.units.iter().map(api_unit).collect(),
    }))
}

/// Record how many occasions the centre asks for on a unit (the centre's administrators or
/// its lead IQA), with the reason. Every learner's criteria at the centre use it at once.
#[utoipa::path(post, path = "/api/v1/centres/{centre}/evidence-occasions", tag = "centres",
    params(("centre" = i64, Path, description = "centre id")),
    request_body = ApiSetOccasions,
    responses((status = 200, body = ApiUnitOccasions), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn set_evidence_occasions(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: HeaderMap,
    ApiPath(centre): ApiPath<i64>,
    ApiJson(body): ApiJson<ApiSetOccasions>,
) -> Result<Json<ApiUnitOccasions>, ApiError> {
    let u = app
        .set_centre_occasions(
            &actor,
            centre,
            &body.unit,
            body.occasions,
            &body.reason,
            &client_address(&headers),
        )
        .await?;
    Ok(Json(api_unit(&u)))
}
