//! v1 webhook subscriptions (affinity-api.md §5): `GET /webhook`, `GET /webhook/{id}`,
//! `POST /webhook/subscribe`, `PUT /webhook/{id}`, `DELETE /webhook/{id}`. The deliveries
//! themselves are `crate::webhooks`'.

use axum::body::Bytes;
use axum::extract::State;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value as Json_};

use super::common::*;
use crate::state::State as Tenant;
use crate::webhooks::{Subscription, EVENTS, MAX_SUBSCRIPTIONS};
use crate::{ApiError, AppState};

/// The v1 resource: `{id, webhook_url, subscriptions, disabled, created_by}` (§5), and
/// `updated_at` [I: affinity-sync, whose models forbid unknown keys and were written against
/// the live API, requires it].
pub fn webhook_json(w: &Subscription) -> Json_ {
    json!({
        "id": w.id,
        "webhook_url": w.url,
        "subscriptions": w.subscriptions,
        "disabled": w.disabled,
        "created_by": w.created_by,
        "updated_at": w.updated_at.map(crate::state::v1_time),
    })
}

/// Checks a subscription's event types and URL; shared with v2, which names the params
/// differently.
pub fn check_subscription(
    url: &str,
    events: &[String],
    url_param: &str,
    events_param: &str,
) -> Result<(), (String, String)> {
    let parsed = url::Url::parse(url)
        .map_err(|e| (url_param.to_string(), format!("`{url}` is not a URL: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err((
            url_param.to_string(),
            format!("`{url}` is not an http(s) URL"),
        ));
    }
    if let Some(bad) = events.iter().find(|e| !EVENTS.contains(&e.as_str())) {
        return Err((
            events_param.to_string(),
            format!("`{bad}` is not a webhook event"),
        ));
    }
    Ok(())
}

/// A new subscription, or the refusal: at most three per tenant (§5).
pub fn subscribe(st: &mut Tenant, url: String, events: Vec<String>) -> Result<i64, String> {
    if st.webhooks.len() >= MAX_SUBSCRIPTIONS {
        return Err(format!(
            "a tenant has at most {MAX_SUBSCRIPTIONS} webhook subscriptions"
        ));
    }
    let id = st.next_id();
    let created_by = st.caller_id();
    st.webhooks.insert(
        id,
        Subscription {
            id,
            url,
            subscriptions: events,
            disabled: false,
            created_by,
            created_at: Utc::now(),
            updated_at: None,
        },
    );
    Ok(id)
}

fn find(st: &Tenant, id: i64) -> Result<&Subscription, ApiError> {
    st.webhooks
        .get(&id)
        .ok_or_else(|| not_found(format!("webhook subscription {id}")))
}

/// `GET /webhook`: a bare array (§2.2).
pub async fn all(State(s): State<AppState>) -> Answer {
    let st = s.tenant();
    ok(st.webhooks.values().map(webhook_json).collect())
}

/// `GET /webhook/{id}`.
pub async fn one(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let st = s.tenant();
    ok(webhook_json(find(&st, id)?))
}

#[derive(Deserialize)]
struct NewWebhook {
    webhook_url: String,
    #[serde(default)]
    subscriptions: Vec<String>,
}

/// `POST /webhook/subscribe {webhook_url, subscriptions?}`: no subscriptions means every event.
/// Affinity test-calls the URL first; the emulator does not, so a subscriber may start after
/// subscribing [I].
pub async fn create(State(s): State<AppState>, b: Bytes) -> Answer {
    let nw: NewWebhook = body(&b)?;
    check_subscription(
        &nw.webhook_url,
        &nw.subscriptions,
        "webhook_url",
        "subscriptions",
    )
    .map_err(|(p, m)| invalid(&p, m))?;
    let mut st = s.tenant();
    let id = subscribe(&mut st, nw.webhook_url, nw.subscriptions)
        .map_err(|m| invalid("webhook_url", m))?;
    created(webhook_json(&st.webhooks[&id]))
}

#[derive(Deserialize)]
struct WebhookUpdate {
    webhook_url: Option<String>,
    subscriptions: Option<Vec<String>>,
    disabled: Option<bool>,
}

/// `PUT /webhook/{id} {webhook_url?, subscriptions?, disabled?}`: for its creator only (§5);
/// the status for others is undocumented: 403 [I], as for deleting another's note.
pub async fn update(State(s): State<AppState>, P(id): P<i64>, b: Bytes) -> Answer {
    let wu: WebhookUpdate = body(&b)?;
    let mut st = s.tenant();
    let w = find(&st, id)?.clone();
    if w.created_by != st.caller_id() {
        return Err(crate::ApiError::new(
            crate::Version::V1,
            axum::http::StatusCode::FORBIDDEN,
            format!("only the creator of webhook subscription {id} can change it"),
        ));
    }
    let url = wu.webhook_url.unwrap_or(w.url);
    let events = wu.subscriptions.unwrap_or(w.subscriptions);
    check_subscription(&url, &events, "webhook_url", "subscriptions")
        .map_err(|(p, m)| invalid(&p, m))?;
    let sub = st.webhooks.get_mut(&id).expect("checked above");
    sub.url = url;
    sub.subscriptions = events;
    if let Some(d) = wu.disabled {
        sub.disabled = d;
    }
    sub.updated_at = Some(Utc::now());
    ok(webhook_json(sub))
}

/// `DELETE /webhook/{id}`.
pub async fn delete(State(s): State<AppState>, P(id): P<i64>) -> Answer {
    let mut st = s.tenant();
    find(&st, id)?;
    st.webhooks.remove(&id);
    success()
}
