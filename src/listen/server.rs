//! The receiver (axum): `POST /hooks/<secret>` stores the delivery in the queue and answers
//! 200; the store's insert is the only work done before the answer, so a delivery is
//! acknowledged in milliseconds and never lost once acknowledged. Everything else answers 404,
//! a wrong secret included, so that the path cannot be probed.
//!
//! Before that, the servers' shared guard ([`crate::http_guard`]): a `Host` that is not the
//! listener's (its bound address, a loopback name, or the host of `--public-url`) is refused,
//! as is a cross-origin `Origin` (a browser page posting to a loopback listener). A listener
//! with a token wants it on every delivery (`?token=`, which the subscribed URL carries, or
//! `X-Affsync-Token`/`Authorization: Bearer`).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use axum::Router;
use chrono::Utc;
use serde_json::Value as Json;
use tokio::sync::Notify;

use super::HOOK_PREFIX;
use crate::http_guard::AllowedHosts;
use crate::store::Store;

/// What the receiver needs.
pub struct Receiver {
    store: Store,
    secret: String,
    token: Option<String>,
    wake: Arc<Notify>,
}

impl Receiver {
    pub fn new(store: Store, secret: &str, token: Option<String>, wake: Arc<Notify>) -> Receiver {
        Receiver {
            store,
            secret: secret.to_string(),
            token: token.filter(|t| !t.is_empty()),
            wake,
        }
    }
}

/// The hosts the listener answers to: its bound address (and the loopback names when that is
/// loopback), and the host of the public URL.
pub fn allowed_hosts(local: SocketAddr, public: Option<&url::Url>) -> AllowedHosts {
    let extra: Vec<String> = public
        .and_then(|u| crate::http_guard::url_host(u.as_str()))
        .into_iter()
        .collect();
    AllowedHosts::for_bind(local, &extra)
}

/// The routes: everything goes through the guard, then [`receive`], which answers 404 but to a
/// delivery.
pub fn router(r: Arc<Receiver>, hosts: AllowedHosts) -> Router {
    Router::new()
        .fallback(receive)
        .with_state(r)
        .layer(middleware::from_fn_with_state(
            Arc::new(hosts),
            crate::http_guard::check,
        ))
}

/// Equal strings, compared in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn token_of(headers: &HeaderMap, uri: &Uri) -> Option<String> {
    let from_query = uri.query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == "token")
            .map(|(_, v)| v.into_owned())
    });
    from_query
        .or_else(|| {
            headers
                .get("x-affsync-token")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        })
        .or_else(|| {
            headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .map(str::to_string)
        })
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// `sent_at` as Unix seconds: a number, or a number in a string (lenient with the API).
pub fn sent_at(payload: &Json) -> Option<i64> {
    match payload.get("sent_at")? {
        Json::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

async fn receive(
    State(r): State<Arc<Receiver>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let secret_ok = uri
        .path()
        .strip_prefix(HOOK_PREFIX)
        .is_some_and(|s| same_secret(s, &r.secret));
    if method != Method::POST || !secret_ok {
        return not_found();
    }
    if let Some(t) = &r.token {
        if !token_of(&headers, &uri).is_some_and(|got| same_secret(&got, t)) {
            return (StatusCode::UNAUTHORIZED, "token required\n").into_response();
        }
    }
    let payload: Json = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (StatusCode::BAD_REQUEST, format!("not JSON: {e}\n")).into_response();
        }
    };
    let kind = payload
        .get("type")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_string();
    let text = String::from_utf8_lossy(&body);
    match r
        .store
        .enqueue_webhook(&kind, sent_at(&payload), &text, Utc::now())
        .await
    {
        Ok(id) => {
            tracing::debug!(event = %kind, queued = id, "webhook delivery queued");
            r.wake.notify_one();
            (StatusCode::OK, "ok\n").into_response()
        }
        Err(e) => {
            // Not acknowledged: Affinity sends it again.
            tracing::error!(event = %kind, error = %e, "cannot queue a webhook delivery");
            (StatusCode::SERVICE_UNAVAILABLE, "cannot queue the event\n").into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().unwrap());
        }
        h
    }

    #[test]
    fn the_listener_answers_to_its_own_hosts_and_the_public_one() {
        let local: SocketAddr = "127.0.0.1:5050".parse().unwrap();
        let public = url::Url::parse("https://Hooks.Example.com/affsync").unwrap();
        let a = allowed_hosts(local, Some(&public));
        for ok in [
            "127.0.0.1:5050",
            "localhost:5050",
            "hooks.example.com",
            "hooks.example.com:443",
        ] {
            assert!(a.allows(ok), "{ok}");
        }
        assert!(!a.allows("evil.example:5050"));
        let a = allowed_hosts(local, None);
        assert!(!a.allows("hooks.example.com"));
    }

    #[test]
    fn sent_at_is_read_leniently() {
        assert_eq!(
            sent_at(&serde_json::json!({"sent_at": 1636642712})),
            Some(1636642712)
        );
        assert_eq!(sent_at(&serde_json::json!({"sent_at": "17"})), Some(17));
        assert_eq!(sent_at(&serde_json::json!({"sent_at": null})), None);
        assert_eq!(sent_at(&serde_json::json!({})), None);
    }

    #[test]
    fn a_token_is_taken_from_the_query_or_a_header() {
        let uri: Uri = "/hooks/x?token=abc".parse().unwrap();
        assert_eq!(token_of(&HeaderMap::new(), &uri).as_deref(), Some("abc"));
        let uri: Uri = "/hooks/x".parse().unwrap();
        let h = headers(&[("x-affsync-token", "def")]);
        assert_eq!(token_of(&h, &uri).as_deref(), Some("def"));
        let h = headers(&[("authorization", "Bearer ghi")]);
        assert_eq!(token_of(&h, &uri).as_deref(), Some("ghi"));
        assert_eq!(token_of(&HeaderMap::new(), &uri), None);
    }
}
