//! The web server: pages for people (server-rendered, no JavaScript needed) and the JSON API
//! with its OpenAPI document. Handlers are thin: they call [`crate::app`].

pub mod access;
pub mod api;
mod api_people;
mod case;
pub mod certificates;
pub mod metrics;
pub mod occasions;
/// Dates and times for pages: [`crate::format`] (the PDFs use it too).
pub use crate::format;
pub mod pager;
pub mod pages;
pub mod people;
pub mod portfolio;
mod quality;
pub mod records;
pub mod request_id;
pub mod retention;
pub mod second_factor;
pub mod tasks;
pub mod version_moves;

use crate::app::{App, AppError};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use utoipa::ToSchema;

/// Largest request body: a specification upload is at most 8 MiB of text, plus form
/// overhead.
pub const MAX_BODY: usize = credence_domain::import::MAX_SOURCE_BYTES + 1024 * 1024;

pub type AppState = App;

/// The whole application router.
pub fn router(app: App) -> Router {
    let (api_router, openapi) = api::router()
        .merge(api_people::router())
        .merge(portfolio::api_router())
        .merge(quality::api_router())
        .merge(certificates::api_router())
        .merge(occasions::api_router())
        .merge(version_moves::api_router())
        .merge(records::api_router())
        .merge(retention::api_router())
        .merge(tasks::api_router())
        .split_for_parts();
    let openapi_json = openapi.to_pretty_json().unwrap_or_default();
    let r = Router::new()
        .merge(pages::router())
        .merge(people::router())
        .merge(portfolio::router())
        .merge(quality::router())
        .merge(certificates::router())
        .merge(occasions::router())
        .merge(version_moves::router())
        .merge(second_factor::router())
        .merge(records::router())
        .merge(retention::router())
        .merge(tasks::router())
        .merge(api_router)
        .merge(case::router());
    let r = access::route(
        r,
        "/api/openapi.json",
        get(move || async move {
            (
                [(header::CONTENT_TYPE, "application/json")],
                openapi_json.clone(),
            )
        }),
    );
    let r = access::route(r, "/static/app.css", get(stylesheet));
    let r = access::route(r, "/static/checker.js", get(checker_script));
    let r = access::route(r, "/static/upload.js", get(upload_script));
    let r = access::route(r, "/static/daily.js", get(daily_script));
    let r = access::route(r, "/healthz", get(healthz));
    let r = access::route(r, "/readyz", get(readyz));
    let metrics = std::sync::Arc::new(metrics::Metrics::default());
    let counters = metrics.clone();
    let r = access::route(
        r,
        "/metrics",
        get(
            move |axum::extract::State(app): axum::extract::State<App>| {
                metrics::render(counters.clone(), app)
            },
        ),
    );
    r
        // Every route above passes through the access decision; nothing is added after.
        .route_layer(axum::middleware::from_fn_with_state(
            app.clone(),
            access::authorize,
        ))
        .fallback(access::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::map_response(security_headers))
        // Outermost: every answer, refusals and unknown paths included, is timed and
        // carries the request id.
        .layer(axum::middleware::from_fn_with_state(
            metrics,
            metrics::track,
        ))
        .layer(axum::middleware::from_fn(request_id::assign))
        .with_state(app)
}

/// The OpenAPI document, for `credence openapi` and the freshness check in CI.
pub fn openapi_json() -> String {
    let (_, openapi) = api::router()
        .merge(api_people::router())
        .merge(portfolio::api_router())
        .merge(quality::api_router())
        .merge(certificates::api_router())
        .merge(occasions::api_router())
        .merge(version_moves::api_router())
        .merge(records::api_router())
        .merge(retention::api_router())
        .merge(tasks::api_router())
        .split_for_parts();
    openapi.to_pretty_json().unwrap_or_default()
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/app.css"),
    )
}

async fn checker_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/checker.js"),
    )
}

async fn upload_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/upload.js"),
    )
}

async fn daily_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        include_str!("../../static/daily.js"),
    )
}

async fn healthz(axum::extract::State(app): axum::extract::State<App>) -> Response {
    match app.store.ping().await {
        Ok(()) => "ok".into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, "database unavailable").into_response()
        }
    }
}

/// `GET /readyz`: whether this server should be sent traffic. 200 "ready" when the
/// database answers, the evidence store answers and no migration is pending; otherwise 503
/// with one line per failed check. Details of a failure go to the log, not to the caller.
async fn readyz(axum::extract::State(app): axum::extract::State<App>) -> Response {
    let mut problems = Vec::new();
    match app.store.ping().await {
        Err(e) => {
            tracing::error!(error = %e, "readiness: the database is not answering");
            problems.push("database: not answering (the server's log says why)".to_string());
            problems.push("migrations: not checked, the database is not answering".to_string());
        }
        Ok(()) => match app.store.pending_migrations().await {
            Ok(pending) if pending.is_empty() => {}
            Ok(pending) => problems.push(format!(
                "migrations: {} pending ({}): run `credence migrate`, or restart one server so it migrates",
                pending.len(),
                pending.join(", ")
            )),
            Err(e) => {
                tracing::error!(error = %e, "readiness: could not read the applied migrations");
                problems.push(
                    "migrations: could not read the applied migrations (the server's log says why)"
                        .to_string(),
                );
            }
        },
    }
    if let Err(e) = app.evidence.reachable().await {
        tracing::error!(error = %e, "readiness: the evidence store is not reachable");
        problems.push("evidence store: not reachable (the server's log says why)".to_string());
    }
    if problems.is_empty() {
        "ready".into_response()
    } else {
        let mut body = problems.join("\n");
        body.push('\n');
        (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
    }
}

async fn security_headers(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    ));
    res
}

/// One error of the API's error envelope.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong and what to do about it.
    pub detail: String,
    /// The input field at fault, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// Every API error has this shape.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub errors: Vec<ErrorDetail>,
}

/// An API error: a status and the envelope.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub detail: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        ApiError {
            status,
            detail: detail.into(),
            field: None,
        }
    }
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
    pub fn not_found(what: impl Into<String>) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            format!("{} was not found", what.into()),
        )
    }
}

/// The HTTP status for an application error; the one place this is decided.
pub fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Validation(_)
        | AppError::Import(_)
        | AppError::Corrections(_)
        | AppError::Export(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::Limited(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The message shown to the user: internal details stay in the log.
pub fn public_message(e: &AppError) -> String {
    match e {
        AppError::Internal(detail) => {
            // Inside a request the log line carries the request id through its span; the
            // reference is logged as well for the command line, which has no request.
            let reference = request_id::reference();
            tracing::error!(%reference, %detail, "internal error");
            format!(
                "Something went wrong on our side. Try again; if it keeps happening, tell your administrator and quote this reference: {reference}."
            )
        }
        other => other.to_string(),
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::new(status_of(&e), public_message(&e))
    }
}

/// `message`, with the reference to quote when the answer is a server error (5xx), unless
/// it already says it: every 5xx page and API error names the request's id.
pub fn with_reference(status: StatusCode, message: String) -> String {
    if !status.is_server_error() {
        return message;
    }
    let reference = request_id::reference();
    if message.contains(&reference) {
        message
    } else {
        format!("{message} Quote this reference: {reference}.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            axum::Json(ErrorBody {
                errors: vec![ErrorDetail {
                    detail: with_reference(self.status, self.detail),
                    field: self.field,
                }],
            }),
        )
            .into_response()
    }
}

macro_rules! rejection_to_api_error {
    ($($t:ty),*) => {$(
        impl From<$t> for ApiError {
            fn from(r: $t) -> Self {
                ApiError::new(r.status(), r.body_text())
            }
        }
    )*};
}
rejection_to_api_error!(
    axum::extract::rejection::JsonRejection,
    axum::extract::rejection::QueryRejection,
    axum::extract::rejection::PathRejection,
    axum::extract::rejection::BytesRejection
);

/// `Json` whose rejection is our error envelope.
#[derive(axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// `Query` whose rejection is our error envelope.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// A listing's `limit` (1 to `max`; None when left out) and `offset` (0 when left out),
/// or a 422 saying which is wrong.
pub fn api_range(
    limit: Option<i64>,
    offset: Option<i64>,
    max: i64,
) -> Result<(Option<i64>, i64), ApiError> {
    if let Some(l) = limit
        && !(1..=max).contains(&l)
    {
        return Err(AppError::Validation(format!("limit must be from 1 to {max}")).into());
    }
    let offset = offset.unwrap_or(0);
    if offset < 0 {
        return Err(AppError::Validation("offset must be 0 or more".into()).into());
    }
    Ok((limit, offset))
}

/// A listing's answer with, when a `limit` was given and the page is full, a `Link` header
/// to the next page (`</api/v1/…?…&limit=…&offset=…>; rel="next"`), keeping the listing's
/// other parameters (those with a value).
pub fn with_next_link(
    mut r: axum::response::Response,
    path: &str,
    keep: &[(&str, Option<String>)],
    limit: Option<i64>,
    offset: i64,
    count: usize,
) -> axum::response::Response {
    let Some(limit) = limit.filter(|l| i64::try_from(count).ok() == Some(*l)) else {
        return r;
    };
    let mut q = form_urlencoded::Serializer::new(String::new());
    for (k, v) in keep {
        if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
            q.append_pair(k, v);
        }
    }
    q.append_pair("limit", &limit.to_string());
    q.append_pair("offset", &(offset + limit).to_string());
    if let Ok(link) =
        axum::http::HeaderValue::from_str(&format!("<{path}?{}>; rel=\"next\"", q.finish()))
    {
        r.headers_mut().insert(axum::http::header::LINK, link);
    }
    r
}

/// A raw body whose rejection (too large, unreadable) is our error envelope.
pub struct ApiBytes(pub axum::body::Bytes);

impl<S: Send + Sync> axum::extract::FromRequest<S> for ApiBytes {
    type Rejection = ApiError;
    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        axum::body::Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|r| {
                let mut e = ApiError::from(r);
                if e.status == StatusCode::PAYLOAD_TOO_LARGE {
                    e.detail = format!(
                        "The request body is over the {} MB limit: send a smaller file",
                        MAX_BODY / (1024 * 1024)
                    );
                }
                e
            })
    }
}

/// `Path` whose rejection is our error envelope.
#[derive(axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
