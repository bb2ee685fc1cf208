//! v2 routes (affinity-api.md §3): camelCase, `{data, pagination}` pages with `nextUrl`.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::middleware::presented_key;
use super::state::v2_time;
use super::{AppState, Version};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v2/auth/whoami", get(whoami))
        .route("/v2/rate-limit", get(rate_limit))
}

async fn whoami(State(s): State<AppState>) -> Json<Json_> {
    let st = s.tenant();
    Json(json!({
        "tenant": { "id": st.tenant.id, "name": st.tenant.name, "subdomain": st.tenant.subdomain },
        "user": {
            "id": st.user.id,
            "firstName": st.user.first_name,
            "lastName": st.user.last_name,
            "emailAddress": st.user.email,
        },
        "grant": { "type": "api-key", "scopes": ["api"], "createdAt": v2_time(Utc::now()) },
    }))
}

/// `GET /v2/rate-limit` (beta): `orgPerMonth` only when a monthly quota applies.
async fn rate_limit(State(s): State<AppState>, headers: HeaderMap) -> Json<Json_> {
    let key = presented_key(&headers, Version::V2).unwrap_or_default();
    let r = s.limits.lock().unwrap().read(&key);
    let mut body = json!({
        "callerPerMinute": {
            "limit": r.user.limit, "remaining": r.user.remaining,
            "reset": r.user.reset_secs, "used": r.user.used,
        }
    });
    if let Some(o) = r.org {
        body["orgPerMonth"] = json!({ "limit": o.limit, "remaining": o.remaining, "reset": o.reset_secs, "used": o.used });
    }
    Json(body)
}
