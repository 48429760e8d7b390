//! (being written)

use super::AppState;
use axum::Router;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r
}

pub(super) fn api_routes(
    r: utoipa_axum::router::OpenApiRouter<AppState>,
) -> utoipa_axum::router::OpenApiRouter<AppState> {
    r
}
