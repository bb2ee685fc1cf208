//! v1 routes (affinity-api.md §2): snake_case, integer ids, `page_token` paging.

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
