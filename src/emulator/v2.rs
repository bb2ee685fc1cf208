//! v2 routes (affinity-api.md §3): camelCase, `{data, pagination}` pages with `nextUrl`.

use axum::Router;

use super::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
