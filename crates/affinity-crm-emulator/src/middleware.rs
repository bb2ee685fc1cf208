//! What happens to every request before and after its route: the request count, latency,
//! auth, rate limits and their headers, and injected faults.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::{Datelike, TimeZone, Utc};
use rand::Rng;

use super::{version_of, versions, ApiError, AppState, EmulatorConfig, Version};

/// The per-key windows and the account's monthly counter.
#[derive(Debug)]
pub struct Limits {
    per_key: HashMap<String, Window>,
    month_used: u64,
    per_minute: u64,
    window: Duration,
    monthly: Option<u64>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    used: u64,
}

/// One limit's reading, as the headers and `/rate-limit` report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reading {
    pub limit: u64,
    pub remaining: u64,
    pub reset_secs: u64,
    pub used: u64,
}

impl Reading {
    /// `{limit, remaining, reset, used}`: the same keys in v1's `/rate-limit` and v2's
    /// `/v2/rate-limit` (affinity-api.md §4).
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "limit": self.limit,
            "remaining": self.remaining,
            "reset": self.reset_secs,
            "used": self.used,
        })
    }
}

/// Both readings after a request was counted (or refused).
#[derive(Debug, Clone, Copy)]
pub struct Readings {
    pub user: Reading,
    /// `None` when the account has no monthly quota.
    pub org: Option<Reading>,
}

impl Limits {
    pub fn new(c: &EmulatorConfig) -> Self {
        Limits {
            per_key: HashMap::new(),
            month_used: 0,
            per_minute: c.rate_limit_per_minute,
            window: c.rate_window,
            monthly: c.monthly_quota,
        }
    }

    fn window(&mut self, key: &str, now: Instant) -> &mut Window {
        let len = self.window;
        let w = self.per_key.entry(key.to_string()).or_insert(Window {
            start: now,
            used: 0,
        });
        if now.duration_since(w.start) >= len {
            *w = Window {
                start: now,
                used: 0,
            };
        }
        w
    }

    /// Counts one request of `key`; `monthly` is false for the routes Affinity does not count
    /// against the monthly quota (`/rate-limit`, `/auth/whoami`). Gives the readings, and
    /// whether the request is over a limit (then it was not counted).
    pub fn count(&mut self, key: &str, monthly: bool) -> (Readings, bool) {
        let now = Instant::now();
        let per_minute = self.per_minute;
        let w = *self.window(key, now);
        let org_spent = monthly && self.monthly.is_some_and(|q| self.month_used >= q);
        let over = w.used >= per_minute || org_spent;
        if !over {
            self.window(key, now).used += 1;
            if monthly {
                self.month_used += 1;
            }
        }
        (self.read(key), over)
    }

    /// The readings without counting anything.
    pub fn read(&mut self, key: &str) -> Readings {
        let now = Instant::now();
        let len = self.window;
        let per_minute = self.per_minute;
        let w = *self.window(key, now);
        let left = len.saturating_sub(now.duration_since(w.start));
        let user = Reading {
            limit: per_minute,
            remaining: per_minute.saturating_sub(w.used),
            // Whole seconds, rounded up: a client that waits this long finds a new window.
            reset_secs: left.as_millis().div_ceil(1000) as u64,
            used: w.used,
        };
        let org = self.monthly.map(|q| Reading {
            limit: q,
            remaining: q.saturating_sub(self.month_used),
            reset_secs: secs_to_month_end(),
            used: self.month_used,
        });
        Readings { user, org }
    }

    pub fn month_used(&self) -> u64 {
        self.month_used
    }
}

/// Seconds until the monthly quota resets, at the end of the month (UTC).
pub fn secs_to_month_end() -> u64 {
    let now = Utc::now();
    let (y, m) = if now.month() == 12 {
        (now.year() + 1, 1)
    } else {
        (now.year(), now.month() + 1)
    };
    let next = Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).unwrap();
    (next - now).num_seconds().max(0) as u64
}

/// The lowercase `x-ratelimit-*` headers (lowercase since 2026-01-14), all six on every answer
/// (affinity-api.md §4). Without a monthly quota the org ones say `unlimited`, as an uncapped
/// account's answers do [I: affinity-sync, a production mirror, requires all six and parses
/// `unlimited`]; their reset is still the month's end.
pub fn put_headers(h: &mut HeaderMap, r: &Readings) {
    let mut set = |name: &'static str, v: HeaderValue| {
        h.insert(name, v);
    };
    set("x-ratelimit-limit-user", r.user.limit.into());
    set("x-ratelimit-limit-user-remaining", r.user.remaining.into());
    set("x-ratelimit-limit-user-reset", r.user.reset_secs.into());
    match r.org {
        Some(o) => {
            set("x-ratelimit-limit-org", o.limit.into());
            set("x-ratelimit-limit-org-remaining", o.remaining.into());
            set("x-ratelimit-limit-org-reset", o.reset_secs.into());
        }
        None => {
            let unlimited = HeaderValue::from_static("unlimited");
            set("x-ratelimit-limit-org", unlimited.clone());
            set("x-ratelimit-limit-org-remaining", unlimited);
            set("x-ratelimit-limit-org-reset", secs_to_month_end().into());
        }
    }
}

/// The API key a request presents: v1 takes Basic (empty user, key as password) or Bearer;
/// v2 takes Bearer only.
pub fn presented_key(headers: &HeaderMap, version: Version) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?.trim();
    if let Some(token) = auth.strip_prefix("Bearer ") {
        let token = token.trim();
        return (!token.is_empty()).then(|| token.to_string());
    }
    if version == Version::V1 {
        if let Some(b64) = auth.strip_prefix("Basic ") {
            let raw = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()?;
            let text = String::from_utf8(raw).ok()?;
            let (_user, key) = text.split_once(':')?;
            return (!key.is_empty()).then(|| key.to_string());
        }
    }
    None
}

/// The middleware in front of every API route.
// Long by design: one request's life in Affinity's order (auth, version header, quota,
// per-minute window, faults, latency, recording, rate-limit headers on the answer), each
// step a few lines that read best in sequence.
pub async fn affinity_layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    let version = version_of(&path);
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| path.clone());
    *s.stats
        .lock()
        .unwrap()
        .entry(format!("{} {}", req.method(), route))
        .or_insert(0) += 1;

    if !s.config.latency.is_zero() {
        tokio::time::sleep(s.config.latency).await;
    }

    // Whose key it is: a further user's own, else the first user's (`--api-key`, or any key
    // when none is set). Writes are attributed to the key's owner (affinity-api.md §1).
    let caller = presented_key(req.headers(), version).and_then(|k| {
        let st = s.tenant();
        let id = match st.user_by_key(&k) {
            Some(u) => u.id,
            None if s.config.api_key.as_deref().is_none_or(|want| want == k) => st.user.id,
            None => return None,
        };
        Some((k, id))
    });
    let Some((key, caller)) = caller else {
        return ApiError::new(
            version,
            StatusCode::UNAUTHORIZED,
            "Unauthorized: the API key is missing or not valid for this tenant",
        )
        .into_response();
    };

    let monthly = !matches!(
        route.as_str(),
        "/rate-limit" | "/auth/whoami" | "/v2/rate-limit" | "/v2/auth/whoami"
    );
    let (readings, over) = s.limits.lock().unwrap().count(&key, monthly);
    {
        let now = s.started.elapsed().as_millis() as u64;
        let mut callers = s.callers.lock().unwrap();
        let c = callers.entry(caller).or_default();
        c.requests += 1;
        c.rate_limited += u64::from(over);
        if req.method() != axum::http::Method::GET {
            c.writes += 1;
            c.first_write_ms.get_or_insert(now);
            c.last_write_ms = Some(now);
        }
    }
    if over {
        let per_minute = readings.user.remaining == 0;
        let msg = if per_minute {
            "Rate limit exceeded: too many requests for this API key in the current minute"
        } else {
            "Rate limit exceeded: the account's monthly request quota is spent"
        };
        let mut resp = ApiError::new(version, StatusCode::TOO_MANY_REQUESTS, msg).into_response();
        put_headers(resp.headers_mut(), &readings);
        return resp;
    }

    if s.config.refuse_writes && req.method() != axum::http::Method::GET {
        return ApiError::new(
            version,
            StatusCode::FORBIDDEN,
            "Forbidden: this emulator refuses every write",
        )
        .into_response();
    }

    if s.config.fault_rate > 0.0 {
        let (hit, pick) = {
            let mut rng = s.faults.lock().unwrap();
            (
                rng.random::<f64>() < s.config.fault_rate,
                rng.random_range(0..3u8),
            )
        };
        if hit {
            let mut resp = match pick {
                0 => ApiError::new(
                    version,
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal server error",
                )
                .into_response(),
                1 => ApiError::new(
                    version,
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable",
                )
                .into_response(),
                // A dropped connection: the status line goes out, then the body breaks, and
                // hyper closes the connection mid-response.
                _ => {
                    let broken = futures::stream::once(async {
                        Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                            std::io::ErrorKind::ConnectionReset,
                            "emulated dropped connection",
                        ))
                    });
                    Response::new(Body::from_stream(broken))
                }
            };
            put_headers(resp.headers_mut(), &readings);
            return resp;
        }
    }

    // v2's dated version (affinity-api.md §1): named by the request, or the key's default;
    // an unknown one is a 400, an operation the version lacks a 404 [I]. Echoed on the answer.
    let api_version = if version == Version::V2 {
        match req.headers().get(versions::HEADER) {
            None => Some(s.config.default_api_version),
            Some(raw) => {
                let raw = String::from_utf8_lossy(raw.as_bytes()).into_owned();
                match versions::parse(&raw) {
                    Some(v) => Some(v),
                    None => {
                        let mut resp = ApiError::new(
                            version,
                            StatusCode::BAD_REQUEST,
                            format!("The provided version: '{raw}' is not valid."),
                        )
                        .with_param("X-Affinity-Api-Version")
                        .into_response();
                        put_headers(resp.headers_mut(), &readings);
                        return finish(
                            &s,
                            req.method().to_string(),
                            route,
                            req.uri().to_string(),
                            None,
                            resp,
                        )
                        .await;
                    }
                }
            }
        }
    } else {
        None
    };
    let method = req.method().to_string();
    let uri = req.uri().to_string();
    let mut resp = match api_version {
        Some(v) if !versions::has(v, &method, &route) => ApiError::new(
            version,
            StatusCode::NOT_FOUND,
            format!("{method} {route} is not part of API version {v}"),
        )
        .into_response(),
        _ => {
            let mut req = req;
            if let Some(v) = api_version {
                req.extensions_mut().insert(ApiVersion(v));
            }
            crate::state::as_caller(caller, next.run(req)).await
        }
    };
    put_headers(resp.headers_mut(), &readings);
    if let Some(v) = api_version {
        resp.headers_mut()
            .insert(versions::HEADER, HeaderValue::from_static(v));
    }
    // The writes of this request announced their events; send them now that it has answered.
    let deliveries = std::mem::take(&mut s.tenant().outbox);
    for d in deliveries {
        s.sender.spawn(d, &s);
    }
    finish(&s, method, route, uri, api_version, resp).await
}

/// The v2 version a request is served in, for handlers whose answer differs by version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiVersion(pub &'static str);

/// Keeps the answer when recording is on.
async fn finish(
    s: &AppState,
    method: String,
    route: String,
    uri: String,
    api_version: Option<&'static str>,
    resp: Response,
) -> Response {
    if s.config.record {
        record(s, method, route, uri, api_version, resp).await
    } else {
        resp
    }
}

/// Keeps a copy of the answer, then gives it back whole.
async fn record(
    s: &AppState,
    method: String,
    route: String,
    uri: String,
    api_version: Option<&'static str>,
    resp: Response,
) -> Response {
    let (parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    s.recorded.lock().unwrap().push(super::Recorded {
        method,
        route,
        uri,
        status: parts.status.as_u16(),
        body: serde_json::from_slice(&bytes).ok(),
        api_version: api_version.map(String::from),
    });
    Response::from_parts(parts, Body::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(per_minute: u64, monthly: Option<u64>) -> EmulatorConfig {
        EmulatorConfig {
            rate_limit_per_minute: per_minute,
            monthly_quota: monthly,
            ..Default::default()
        }
    }

    #[test]
    fn per_key_window_refuses_past_the_limit_and_keys_are_separate() {
        let mut l = Limits::new(&cfg(2, None));
        assert!(!l.count("a", true).1);
        assert!(!l.count("a", true).1);
        let (r, over) = l.count("a", true);
        assert!(over);
        assert_eq!(r.user.remaining, 0);
        assert!(r.org.is_none());
        assert!(!l.count("b", true).1, "another key has its own window");
    }

    #[test]
    fn monthly_quota_is_per_account_and_skips_uncounted_routes() {
        let mut l = Limits::new(&cfg(100, Some(2)));
        assert!(!l.count("a", true).1);
        assert!(!l.count("b", true).1);
        assert!(
            l.count("c", true).1,
            "the account's quota is shared by keys"
        );
        assert!(!l.count("c", false).1, "/rate-limit is not counted monthly");
        assert_eq!(l.month_used(), 2);
    }

    #[test]
    fn keys_from_basic_and_bearer() {
        let mut h = HeaderMap::new();
        let basic = base64::engine::general_purpose::STANDARD.encode(":secret");
        h.insert("authorization", format!("Basic {basic}").parse().unwrap());
        assert_eq!(presented_key(&h, Version::V1).as_deref(), Some("secret"));
        assert_eq!(presented_key(&h, Version::V2), None, "v2 takes Bearer only");
        h.insert("authorization", "Bearer tok".parse().unwrap());
        assert_eq!(presented_key(&h, Version::V2).as_deref(), Some("tok"));
        assert_eq!(presented_key(&h, Version::V1).as_deref(), Some("tok"));
    }
}
