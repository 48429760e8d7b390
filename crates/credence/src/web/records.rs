//! A person's own data: the "Your data" page (download, erasure request with confirmation)
//! and the API (`GET /api/v1/me/data`, `POST /api/v1/me/erasure`). Only for the signed-in
//! person themselves: the use cases take the actor's own scope, never a path parameter.

use super::access::CurrentActor;
use super::pages::{PageError, render, render_status};
use super::portfolio::{file_response, tokio_util_stream};
use super::{ApiError, AppState, ErrorBody};
use crate::app::people::Actor;
use crate::app::records::{ErasureAnswer, PersonalDataZip};
use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn api_router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_own_data))
        .routes(routes!(create_erasure))
}

#[expect(
    clippy::let_and_return,
    reason = "one route a line, each through access::route"
)]
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = super::access::route(r, "/account/data", get(own_data_page));
    let r = super::access::route(r, "/account/data.zip", get(own_data_zip));
    let r = super::access::route(r, "/account/data/erasure", post(erase));
    r
}

fn zip_response(z: PersonalDataZip) -> Response {
    let size = z.file.metadata().map(|m| m.len()).ok();
    file_response(
        Body::from_stream(tokio_util_stream(z.file)),
        "application/zip",
        "attachment",
        &z.file_name,
        size,
        "",
    )
}

/// Everything Credence holds about you, as a zip: `index.json` says what each file is
/// (docs/records.md), `data/*.json` holds each kind of record, `evidence/` your evidence
/// files byte for byte. Only ever your own; the download is recorded in the audit log.
#[utoipa::path(get, path = "/api/v1/me/data", tag = "people",
    responses(
        (status = 200, description = "a zip of everything held about you, with index.json", content_type = "application/zip"),
        (status = 401, body = ErrorBody)))]
async fn get_own_data(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, ApiError> {
    Ok(zip_response(app.personal_data_zip(&actor).await?))
}

/// Ask for your data to be erased: what can be erased now is erased (each erasure in the
/// audit log), and the answer lists what must be kept and until when (retention: 3 years
/// from completion for portfolios and assessment records; the certificate register
/// permanently; audit entries hold no personal data).
#[utoipa::path(post, path = "/api/v1/me/erasure", tag = "people",
    responses(
        (status = 200, body = ErasureAnswer),
        (status = 401, body = ErrorBody)))]
async fn create_erasure(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Json<ErasureAnswer>, ApiError> {
    Ok(Json(app.erase_own_data(&actor).await?))
}

#[derive(Template)]
#[template(path = "own_data.html")]
struct OwnDataPage {
    title: String,
    has_error: bool,
    error: Option<String>,
    csrf: String,
    staff: bool,
    on: String,
    answer: ErasureAnswer,
    /// What, tag class suffix, decision in words, why.
    rows: Vec<(String, String, String, String)>,
    erasable_count: usize,
    erased_count: usize,
}

fn decision_words(i: &crate::app::records::ErasureItem) -> (String, String) {
    let until = i
        .kept_until
        .as_deref()
        .map(crate::format::uk_date)
        .unwrap_or_default();
    match i.decision.as_str() {
        "erased" => (" tag--green".into(), "Erased".into()),
        "erasable" => (" tag--green".into(), "Erased now".into()),
        "disposed" => (" tag--grey".into(), "Already erased".into()),
        "kept_until" => (" tag--blue".into(), format!("Kept until {until}")),
        "kept_while_in_progress" => (" tag--blue".into(), "Kept while in progress".into()),
        "kept_permanently" => (" tag--grey".into(), "Kept permanently".into()),
        "held" => (" tag--red".into(), "Kept: legal hold".into()),
        _ => (
            " tag--grey".into(),
            "Kept while your account is open".into(),
        ),
    }
}

fn page(actor: &Actor, answer: ErasureAnswer, error: Option<String>) -> Response {
    let rows = answer
        .items
        .iter()
        .map(|i| {
            let (class, words) = decision_words(i);
            (i.what.clone(), class, words, i.reason.clone())
        })
        .collect();
    let erased_count = answer.erased().count();
    let page = OwnDataPage {
        title: "Your data".into(),
        has_error: error.is_some(),
        error,
        csrf: actor.csrf.clone().unwrap_or_default(),
        staff: actor.grants.iter().any(|g| g.role != "learner"),
        on: crate::format::uk_date(&answer.on),
        erasable_count: if answer.carried_out { 0 } else { erased_count },
        erased_count,
        rows,
        answer,
    };
    if page.has_error {
        render_status(true, &page)
    } else {
        render(&page)
    }
}

async fn own_data_page(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
) -> Result<Response, PageError> {
    let answer = app.erasure_preview(&actor).await?;
    Ok(page(&actor, answer, None))
}

async fn own_data_zip(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    headers: axum::http::HeaderMap,
) -> Result<Response, PageError> {
    if app.own_data_zip_is_a_task(&actor).await? {
        // Gigabytes of evidence: zipped in the background, followed on the task's page.
        let task = app
            .start_task(
                &actor,
                crate::app::tasks::TaskWork::OwnDataZip,
                &crate::web::access::client_address(&headers),
            )
            .await?;
        return Ok(super::tasks::see_task(task));
    }
    Ok(zip_response(app.personal_data_zip(&actor).await?))
}

#[derive(Deserialize)]
struct EraseForm {
    #[serde(default)]
    confirm: String,
}

async fn erase(
    State(app): State<AppState>,
    CurrentActor(actor): CurrentActor,
    Form(f): Form<EraseForm>,
) -> Result<Response, PageError> {
    if f.confirm != "yes" {
        let answer = app.erasure_preview(&actor).await?;
        return Ok(page(
            &actor,
            answer,
            Some("Tick the box to confirm you want what can be erased now erased".into()),
        ));
    }
    let answer = app.erase_own_data(&actor).await?;
    Ok(page(&actor, answer, None))
}
