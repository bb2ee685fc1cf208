//! v1 routes (affinity-api.md §2): snake_case, integer ids, `page_token` paging.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::middleware::presented_key;
use super::state::v1_time;
use super::{AppState, Version};

pub(crate) mod common;
mod entities;
pub(crate) mod fields;
mod lists;
mod notes;
pub(crate) mod reminders;
pub(crate) mod webhooks;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/auth/whoami", get(whoami))
        .route("/rate-limit", get(rate_limit))
        .route("/lists", get(lists::all).post(lists::create))
        .route("/lists/{id}", get(lists::one))
        .route(
            "/lists/{lid}/list-entries",
            get(lists::entries).post(lists::add_entry),
        )
        .route(
            "/lists/{lid}/list-entries/{id}",
            get(lists::entry).delete(lists::delete_entry),
        )
        .route("/fields", get(fields::all).post(fields::create))
        .route("/fields/{id}", axum::routing::delete(fields::delete))
        .route("/persons/fields", get(fields::person_fields))
        .route("/organizations/fields", get(fields::organization_fields))
        .route("/field-values", get(fields::values).post(fields::add_value))
        .route(
            "/field-values/{id}",
            axum::routing::put(fields::update_value).delete(fields::delete_value),
        )
        .route("/field-value-changes", get(fields::changes))
        .route(
            "/persons",
            get(entities::persons).post(entities::create_person),
        )
        .route(
            "/persons/{id}",
            get(entities::person)
                .put(entities::update_person)
                .delete(entities::delete_person),
        )
        .route(
            "/organizations",
            get(entities::organizations).post(entities::create_organization),
        )
        .route(
            "/organizations/{id}",
            get(entities::organization)
                .put(entities::update_organization)
                .delete(entities::delete_organization),
        )
        .route(
            "/opportunities",
            get(entities::opportunities).post(entities::create_opportunity),
        )
        .route(
            "/opportunities/{id}",
            get(entities::opportunity)
                .put(entities::update_opportunity)
                .delete(entities::delete_opportunity),
        )
        .route("/reminders", get(reminders::all).post(reminders::create))
        .route(
            "/reminders/{id}",
            get(reminders::one)
                .put(reminders::update)
                .delete(reminders::delete),
        )
        .route(
            "/entity-files",
            get(reminders::files).post(reminders::upload),
        )
        .route("/entity-files/{id}", get(reminders::file))
        .route("/entity-files/download/{id}", get(reminders::download))
        .route("/relationships-strengths", get(reminders::strengths))
        .route("/webhook", get(webhooks::all))
        .route("/webhook/subscribe", post(webhooks::create))
        .route(
            "/webhook/{id}",
            get(webhooks::one)
                .put(webhooks::update)
                .delete(webhooks::delete),
        )
        .route("/notes", get(notes::all).post(notes::create))
        .route(
            "/notes/{id}",
            get(notes::one).put(notes::update).delete(notes::delete),
        )
        .route(
            "/interactions",
            get(notes::interactions).merge(post(notes::create_interaction)),
        )
        .route(
            "/interactions/{id}",
            get(notes::interaction)
                .put(notes::update_interaction)
                .delete(notes::delete_interaction),
        )
}

async fn whoami(State(s): State<AppState>) -> Json<Json_> {
    let st = s.tenant();
    // The user whose key asked (affinity-api.md §1).
    let user = st.caller();
    Json(json!({
        "tenant": { "id": st.tenant.id, "name": st.tenant.name, "subdomain": st.tenant.subdomain },
        "user": {
            "id": user.id,
            "firstName": user.first_name,
            "lastName": user.last_name,
            "email": user.email,
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
        Some(o) => o.json(),
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
            "api_key_per_minute": r.user.json(),
        }
    }))
}
