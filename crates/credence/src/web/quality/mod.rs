//! Pages and API for quality assurance (issue 12): the IQA's plan, samples and decisions,
//! the sampling strategy and standardisation ([`plan`], [`samples`]); EQA visits and
//! reports and direct claim status ([`eqa`]); claims and the gate ([`claims`]); appeals
//! ([`appeals`]). Access is decided in [`super::access`] first; the use cases decide the rest
//! through `QaScope`.

mod appeals;
mod claims;
mod eqa;
mod plan;
mod samples;

use super::AppState;
use axum::Router;

/// The pages.
pub fn router() -> Router<AppState> {
    let r = Router::new();
    let r = plan::routes(r);
    let r = samples::routes(r);
    let r = eqa::routes(r);
    let r = claims::routes(r);
    appeals::routes(r)
}

/// The JSON API, with its OpenAPI document.
pub fn api_router() -> utoipa_axum::router::OpenApiRouter<AppState> {
    plan::api_routes(utoipa_axum::router::OpenApiRouter::new())
        .merge(claims::api_routes(utoipa_axum::router::OpenApiRouter::new()))
        .merge(eqa::api_routes(utoipa_axum::router::OpenApiRouter::new()))
}
