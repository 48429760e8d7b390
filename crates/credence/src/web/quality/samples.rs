//! (being written)

use super::AppState;
use axum::Router;

pub(super) fn routes(r: Router<AppState>) -> Router<AppState> {
    r
}
