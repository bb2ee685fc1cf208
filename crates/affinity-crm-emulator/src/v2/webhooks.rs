//! v2 webhook subscriptions (beta, 2026-07-15 on; affinity-api.md §5): the same subscriptions
//! as v1's `/webhook`, in v2's words (`url`, `status`, `creator`).

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::Utc;
use serde_json::{json, Value as Json_};

use super::super::state::{v2_time, State as Tenant};
use super::{invalid, json_body, page, paged, path_id, Answer, Params, PathParams, LIMITS, V2};
use crate::v1::webhooks::{check_subscription, subscribe};
use crate::webhooks::Subscription;
use crate::{ApiError, AppState};

fn webhook_json(w: &Subscription) -> Json_ {
    json!({
        "id": w.id, "url": w.url, "subscriptions": w.subscriptions,
        "status": if w.disabled { "disabled" } else { "active" },
        "creator": { "id": w.created_by },
        "createdAt": v2_time(w.created_at), "updatedAt": w.updated_at.map(v2_time),
    })
}

fn find(st: &Tenant, path: &PathParams) -> Result<Subscription, ApiError> {
    let id = path_id(path, "webhookId")?;
    st.webhooks
        .get(&id)
        .cloned()
        .ok_or_else(|| ApiError::not_found(V2, format!("webhook {id}")))
}

fn events(body: &Json_, required: bool) -> Result<Option<Vec<String>>, ApiError> {
    match body.get("subscriptions") {
        None if required => Err(invalid("subscriptions", "`subscriptions` is required")),
        None => Ok(None),
        Some(v) => v
            .as_array()
            .and_then(|a| {
                a.iter()
                    .map(|e| e.as_str().map(String::from))
                    .collect::<Option<Vec<_>>>()
            })
            .map(Some)
            .ok_or_else(|| {
                invalid(
                    "subscriptions",
                    "`subscriptions` must be an array of event types",
                )
            }),
    }
}

/// `GET /v2/webhooks` (with `totalCount`, as the spec's `PaginationWithTotalCount` allows).
pub async fn list(State(s): State<AppState>, uri: Uri, q: RawQuery) -> Answer {
    let p = Params::parse(q);
    let total = p.flag("totalCount")?;
    let st = s.tenant();
    let all: Vec<&Subscription> = st.webhooks.values().collect();
    let pg = page(&p, all.len(), LIMITS)?;
    let data = all[pg.start..pg.end]
        .iter()
        .map(|w| webhook_json(w))
        .collect();
    Ok(Json(paged(&s, uri.path(), &p, pg, data, total)))
}

/// `GET /v2/webhooks/{id}`.
pub async fn one(State(s): State<AppState>, path: PathParams) -> Answer {
    Ok(Json(webhook_json(&find(&s.tenant(), &path)?)))
}

/// `POST /v2/webhooks {url, subscriptions}`: 201; at most three per tenant (§5).
pub async fn create(State(s): State<AppState>, body: Bytes) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let url = body
        .get("url")
        .and_then(Json_::as_str)
        .ok_or_else(|| invalid("url", "`url` is required"))?
        .to_string();
    let events = events(&body, true)?.unwrap_or_default();
    check_subscription(&url, &events, "url", "subscriptions").map_err(|(p, m)| invalid(&p, m))?;
    let mut st = s.tenant();
    let id = subscribe(&mut st, url, events).map_err(|m| invalid("url", m))?;
    let answer = webhook_json(&st.webhooks[&id]);
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `POST /v2/webhooks/{id} {url?, subscriptions?, status?}`: 204.
pub async fn update(
    State(s): State<AppState>,
    path: PathParams,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body = json_body(&body)?;
    let mut st = s.tenant();
    let w = find(&st, &path)?;
    let url = match body.get("url") {
        None => w.url.clone(),
        Some(u) => u
            .as_str()
            .ok_or_else(|| invalid("url", "`url` must be a string"))?
            .to_string(),
    };
    let events = events(&body, false)?.unwrap_or(w.subscriptions.clone());
    check_subscription(&url, &events, "url", "subscriptions").map_err(|(p, m)| invalid(&p, m))?;
    let disabled = match body.get("status").map(|v| v.as_str()) {
        None => w.disabled,
        Some(Some("active")) => false,
        Some(Some("disabled")) => true,
        Some(_) => return Err(invalid("status", "`status` must be `active` or `disabled`")),
    };
    let sub = st.webhooks.get_mut(&w.id).expect("found above");
    sub.url = url;
    sub.subscriptions = events;
    sub.disabled = disabled;
    sub.updated_at = Some(Utc::now());
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /v2/webhooks/{id}`: 204.
pub async fn delete(State(s): State<AppState>, path: PathParams) -> Result<Response, ApiError> {
    let mut st = s.tenant();
    let w = find(&st, &path)?;
    st.webhooks.remove(&w.id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
