//! v1 routes (affinity-api.md §2): snake_case, integer ids, `page_token` paging.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::middleware::presented_key;
use super::state::v1_time;
use super::{AppState, Version};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/whoami", get(whoami))
        .route("/rate-limit", get(rate_limit))
}

async fn whoami(State(s): State<AppState>) -> Json<Json_> {
    let st = s.tenant();
    Json(json!({
        "tenant": { "id": st.tenant.id, "name": st.tenant.name, "subdomain": st.tenant.subdomain },
        "user": {
            "id": st.user.id,
            "firstName": st.user.first_name,
            "lastName": st.user.last_name,
            "email": st.user.email,
        },
        "grant": { "type": "api_key", "scope": "external_api", "createdAt": v1_time(Utc::now()) },
    }))
}

/// `GET /rate-limit`: with no monthly quota, `limit` and `remaining` are the *strings*
/// `"unlimited"`, as a live tenant answers (affinity-api.md §4, fixture `rate_limit.json`).
async fn rate_limit(State(s): State<AppState>, headers: HeaderMap) -> Json<Json_> {
    let key = presented_key(&headers, Version::V1).unwrap_or_default();
    let r = s.limits.lock().unwrap().read(&key);
    let org = match r.org {
        Some(o) => {
            json!({ "limit": o.limit, "remaining": o.remaining, "reset": o.reset_secs, "used": o.used })
        }
        None => json!({
            "limit": "unlimited",
            "remaining": "unlimited",
            "reset": super::middleware::secs_to_month_end(),
            "used": s.limits.lock().unwrap().month_used(),
        }),
    };
    Json(json!({
        "rate": {
            "org_monthly": org,
            "api_key_per_minute": {
                "limit": r.user.limit, "remaining": r.user.remaining,
                "reset": r.user.reset_secs, "used": r.user.used,
            },
        }
    }))
}
