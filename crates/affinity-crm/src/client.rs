//! [`Client`] and its one door to the network, [`Client::send`], plus paging in both styles.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::error::{classify, read_error_body, Error, RetrySpent};
use super::pacing::{wait_after_429, PaceState, RateReading};
use super::{v2, Config, V1Auth};

/// One request, before it goes out. Paths are relative to the client's base URL
/// (`/persons`, `/v2/companies`); `/v2/...` paths follow v2's conventions.
#[derive(Debug, Clone)]
pub struct Request {
    /// The HTTP method.
    pub method: Method,
    /// The path, relative to the base URL (`/persons`, `/v2/companies`).
    pub path: String,
    /// The query parameters, in order (repeats allowed).
    pub query: Vec<(String, String)>,
    /// The JSON body, if any.
    pub body: Option<serde_json::Value>,
    /// A body that is not JSON (a multipart upload): its content type and bytes. Wins over
    /// `body`.
    pub raw_body: Option<(String, Bytes)>,
    /// Whether sending it twice does no harm. Requests that are not (creates) are retried
    /// only when Affinity cannot have acted on them: a 429, a 408, or a connection that
    /// never opened.
    pub idempotent: bool,
}

impl Request {
    /// A request; POSTs are not idempotent unless said so ([`Request::idempotent`]).
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        let idempotent = method != Method::POST;
        Request {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            raw_body: None,
            idempotent,
        }
    }
    /// A GET.
    pub fn get(path: impl Into<String>) -> Self {
        Self::new(Method::GET, path)
    }
    /// A POST (not idempotent: a create).
    pub fn post(path: impl Into<String>) -> Self {
        Self::new(Method::POST, path)
    }
    /// A PUT.
    pub fn put(path: impl Into<String>) -> Self {
        Self::new(Method::PUT, path)
    }
    /// A PATCH.
    pub fn patch(path: impl Into<String>) -> Self {
        Self::new(Method::PATCH, path)
    }
    /// A DELETE.
    pub fn delete(path: impl Into<String>) -> Self {
        Self::new(Method::DELETE, path)
    }
    /// Adds a query parameter (repeat a key to send it several times).
    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }
    /// Adds a query parameter when there is a value.
    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }
    /// Sets the JSON body.
    pub fn json(mut self, body: &impl Serialize) -> Self {
        self.body = Some(serde_json::to_value(body).expect("request bodies serialize"));
        self
    }
    /// Sets a body that is not JSON, with its content type.
    pub fn raw(mut self, content_type: impl Into<String>, body: impl Into<Bytes>) -> Self {
        self.raw_body = Some((content_type.into(), body.into()));
        self
    }
    /// Says whether sending it twice does no harm (a POST that sets a value, say).
    pub fn idempotent(mut self, yes: bool) -> Self {
        self.idempotent = yes;
        self
    }
    fn is_v2(&self) -> bool {
        self.path == "/v2" || self.path.starts_with("/v2/")
    }
    /// `METHOD /path`, for messages (no query: it may carry search terms).
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// A GET of v2's `nextUrl`, re-aimed at the client's own base URL: only its path and
    /// query are kept, so a page never leaves the configured host or drops the auth.
    pub fn from_next_url(next: &str) -> Result<Request, String> {
        let parsed = url::Url::parse(next)
            .or_else(|_| url::Url::parse("http://base.invalid").and_then(|b| b.join(next)))
            .map_err(|e| format!("invalid `nextUrl` `{next}`: {e}"))?;
        let mut r = Request::get(parsed.path());
        r.query = parsed
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(r)
    }
}

/// A successful answer, its body read whole.
#[derive(Debug, Clone)]
pub struct Response {
    /// The HTTP status.
    pub status: reqwest::StatusCode,
    /// The answer's headers.
    pub headers: reqwest::header::HeaderMap,
    /// The JSON body, if any.
    pub body: Bytes,
    /// `METHOD /path` of the request.
    pub request: String,
}

impl Response {
    /// The body as `T`; `what` names it in a [`Error::Decode`].
    pub fn json<T: DeserializeOwned>(&self, what: &str) -> Result<T, Error> {
        let body: &[u8] = if self.body.is_empty() {
            b"null"
        } else {
            &self.body
        };
        serde_json::from_slice(body).map_err(|e| Error::Decode {
            request: self.request.clone(),
            what: what.to_string(),
            message: e.to_string(),
        })
    }
}

/// What a client has done so far, for benchmarks and pull summaries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Stats {
    /// Calls of [`Client::send`].
    pub calls: u64,
    /// HTTP attempts (calls plus retries and repeats after 429).
    pub attempts: u64,
    /// Repeats after a 408, 5xx or broken connection.
    pub retries: u64,
    /// 429 answers waited out.
    pub rate_limited: u64,
    /// Waits taken before a request to stay inside the budget.
    pub paced: u64,
    /// All time spent waiting (pacing, 429s, backoff).
    pub waited: Duration,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    attempts: AtomicU64,
    retries: AtomicU64,
    rate_limited: AtomicU64,
    paced: AtomicU64,
    waited_us: AtomicU64,
}

struct Inner {
    http: reqwest::Client,
    config: Config,
    pace: Mutex<PaceState>,
    last_reading: Mutex<Option<RateReading>>,
    counters: Counters,
}

/// Asked before every write (any method but GET) is sent, each retry included. A process that
/// may no longer write (a job whose lock another process took over while this one was paused)
/// is stopped there, before Affinity sees the request.
///
/// A write with a body is asked twice: [`WriteGate::check`] before it is handed to the
/// connection, and [`WriteGate::still_holds`] when the connection asks for the body's last
/// byte. A process paused in between (after the check, before its bytes left) sends, when it
/// resumes, a request that Affinity never completes, instead of a write it may no longer make.
pub trait WriteGate: Send + Sync {
    /// `Err(reason)` refuses the write; the request fails with [`Error::WriteRefused`].
    fn check(&self) -> futures::future::BoxFuture<'_, Result<(), String>>;
    /// Whether writing may still go on, answered at once with no I/O: asked as the request's
    /// last byte is about to be written. `false` aborts the request unfinished.
    fn still_holds(&self) -> bool {
        true
    }
}

/// A write's body whose last byte is given only while `gate` still holds; otherwise the body
/// fails, the connection drops an unfinished request (its `Content-Length` unmet), and
/// `refused` says why.
fn gated_body(
    bytes: bytes::Bytes,
    gate: Arc<dyn WriteGate>,
    refused: Arc<std::sync::atomic::AtomicBool>,
) -> reqwest::Body {
    let cut = bytes.len().saturating_sub(1);
    let (head, tail) = (bytes.slice(..cut), bytes.slice(cut..));
    let first = futures::stream::once(async move { Ok::<_, std::io::Error>(head) });
    let last = futures::stream::once(async move {
        if gate.still_holds() {
            Ok(tail)
        } else {
            refused.store(true, Ordering::SeqCst);
            Err(std::io::Error::other(
                "the write gate closed before the request's last byte was sent",
            ))
        }
    });
    reqwest::Body::wrap_stream(first.chain(last))
}

/// The Affinity API client. Cloning is cheap; clones share pacing state and counters.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    gate: Option<Arc<dyn WriteGate>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.config.base_url.as_str())
            .finish_non_exhaustive()
    }
}

/// How one attempt ended, for the retry loop.
enum Outcome {
    Done(Result<Response, Error>),
    /// Retry after backoff: the error to give if the budget is spent.
    Retry(Error),
    /// Wait this long (a 429), then repeat.
    RateLimited(Duration, Error),
}

impl Client {
    /// A client for this configuration. Fails only when the HTTP client cannot be built.
    pub fn new(config: Config) -> Result<Self, Error> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("affsync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Transport {
                request: "building the HTTP client".into(),
                message: e.to_string(),
                timeout: false,
                retry: RetrySpent::default(),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                config,
                pace: Mutex::new(PaceState::default()),
                last_reading: Mutex::new(None),
                counters: Counters::default(),
            }),
            gate: None,
        })
    }

    /// A clone (sharing pacing state and counters) whose writes are first asked of `gate`.
    pub fn with_write_gate(&self, gate: Arc<dyn WriteGate>) -> Client {
        Client {
            inner: self.inner.clone(),
            gate: Some(gate),
        }
    }

    /// The gate its writes are asked of, when it has one (for a client of another key that
    /// must write under the same lock).
    pub fn write_gate(&self) -> Option<Arc<dyn WriteGate>> {
        self.gate.clone()
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        Stats {
            calls: c.calls.load(Ordering::Relaxed),
            attempts: c.attempts.load(Ordering::Relaxed),
            retries: c.retries.load(Ordering::Relaxed),
            rate_limited: c.rate_limited.load(Ordering::Relaxed),
            paced: c.paced.load(Ordering::Relaxed),
            waited: Duration::from_micros(c.waited_us.load(Ordering::Relaxed)),
        }
    }

    /// The last rate-limit headers seen.
    pub fn last_rate_reading(&self) -> Option<RateReading> {
        *self.inner.last_reading.lock().unwrap()
    }

    fn url(&self, req: &Request) -> Result<url::Url, Error> {
        let base = self.inner.config.base_url.as_str().trim_end_matches('/');
        let mut url =
            url::Url::parse(&format!("{base}{}", req.path)).map_err(|e| Error::Decode {
                request: req.label(),
                what: "a URL".into(),
                message: e.to_string(),
            })?;
        if !req.query.is_empty() {
            url.query_pairs_mut().extend_pairs(req.query.iter());
        }
        Ok(url)
    }

    async fn wait(&self, d: Duration) {
        if d.is_zero() {
            return;
        }
        self.inner
            .counters
            .waited_us
            .fetch_add(d.as_micros() as u64, Ordering::Relaxed);
        tokio::time::sleep(d).await;
    }

    /// Sends one request: every request to Affinity goes through here.
    ///
    /// Attaches auth (v1 Basic with an empty user, or Bearer; v2 Bearer, affinity-api.md §1),
    /// paces by the last rate-limit reading, waits out 429s until the window resets, retries
    /// 408, 5xx and broken connections (a body that breaks mid-read included) with jittered
    /// backoff inside [`super::RetryPolicy`], and classifies what is left into [`Error`].
    pub async fn send(&self, req: Request) -> Result<Response, Error> {
        let cfg = &self.inner.config;
        let counters = &self.inner.counters;
        counters.calls.fetch_add(1, Ordering::Relaxed);
        let url = self.url(&req)?;
        let label = req.label();
        let start = Instant::now();
        let mut attempts = 0u32;
        let mut retries = 0u32;
        let mut waits_429 = 0u32;
        loop {
            if cfg.pacing {
                let wait = self
                    .inner
                    .pace
                    .lock()
                    .unwrap()
                    .pace(Instant::now(), cfg.pacing_low_water);
                if !wait.is_zero() {
                    counters.paced.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(request = %label, wait_ms = wait.as_millis() as u64, "pacing before the rate limit runs out");
                    self.wait(wait).await;
                }
            }
            if let Some(gate) = self.gate.as_ref().filter(|_| req.method != Method::GET) {
                if let Err(reason) = gate.check().await {
                    return Err(Error::WriteRefused {
                        request: label,
                        reason,
                    });
                }
            }
            attempts += 1;
            counters.attempts.fetch_add(1, Ordering::Relaxed);
            let outcome = self.attempt(&req, &url, &label, waits_429).await;
            let spent = |attempts| RetrySpent {
                attempts,
                elapsed: start.elapsed(),
            };
            match outcome {
                // A write that is not safe to repeat ends at its first answer: its error says
                // so (one attempt), as a retried one says how many it took.
                Outcome::Done(r) => return r.map_err(|e| with_spent(e, spent(attempts))),
                Outcome::RateLimited(wait, err) => {
                    if waits_429 >= cfg.retry.max_rate_limit_waits
                        || start.elapsed() + wait > cfg.retry.max_elapsed
                    {
                        return Err(with_spent(err, spent(attempts)));
                    }
                    waits_429 += 1;
                    counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                    tracing::info!(request = %label, wait_ms = wait.as_millis() as u64, "rate limited (429); waiting for the reset");
                    self.wait(wait).await;
                }
                Outcome::Retry(err) => {
                    // What it cost so far, in the log line of a retry as in the final error.
                    let err = with_spent(err, spent(attempts));
                    let delay = cfg.retry.backoff.delay(retries, rand::random::<f64>());
                    if retries >= cfg.retry.max_retries
                        || start.elapsed() + delay > cfg.retry.max_elapsed
                    {
                        return Err(err);
                    }
                    retries += 1;
                    counters.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(request = %label, error = %err, delay_ms = delay.as_millis() as u64, "retrying");
                    self.wait(delay).await;
                }
            }
        }
    }

    // Long by design: one HTTP attempt from request to classified outcome, each status class
    // a short branch, in the order the answer is read.
    async fn attempt(&self, req: &Request, url: &url::Url, label: &str, waits_429: u32) -> Outcome {
        let cfg = &self.inner.config;
        let mut rb = self
            .inner
            .http
            .request(req.method.clone(), url.clone())
            .timeout(cfg.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        let key = cfg.key.expose();
        rb = if req.is_v2() || cfg.v1_auth == V1Auth::Bearer {
            rb.bearer_auth(key)
        } else {
            rb.basic_auth("", Some(key))
        };
        if req.is_v2() {
            if let Some(v) = &cfg.v2_api_version {
                rb = rb.header("x-affinity-api-version", v);
            }
        }
        let body = match (&req.raw_body, &req.body) {
            (Some((content_type, bytes)), _) => Some((content_type.clone(), bytes.clone())),
            (None, Some(json)) => Some((
                "application/json".to_string(),
                serde_json::to_vec(json).unwrap_or_default().into(),
            )),
            (None, None) => None,
        };
        let refused = Arc::new(std::sync::atomic::AtomicBool::new(false));
        if let Some((content_type, bytes)) = body {
            rb = rb.header(reqwest::header::CONTENT_TYPE, content_type);
            rb = match self.gate.as_ref().filter(|_| req.method != Method::GET) {
                Some(gate) if !bytes.is_empty() => rb
                    .header(reqwest::header::CONTENT_LENGTH, bytes.len())
                    .body(gated_body(bytes, gate.clone(), refused.clone())),
                _ => rb.body(bytes),
            };
        }
        let transport = |e: reqwest::Error| Error::Transport {
            request: label.to_string(),
            message: error_chain(&e),
            timeout: e.is_timeout(),
            retry: RetrySpent::default(),
        };
        let resp = match rb.send().await {
            Ok(r) => r,
            Err(_) if refused.load(Ordering::SeqCst) => {
                return Outcome::Done(Err(Error::WriteRefused {
                    request: label.to_string(),
                    reason: "the write gate closed while the request was being sent; it was left unfinished, so Affinity did not take it".into(),
                }));
            }
            Err(e) => {
                // A connection that never opened cannot have changed anything.
                let retry = req.idempotent || e.is_connect();
                let err = transport(e);
                return if retry {
                    Outcome::Retry(err)
                } else {
                    Outcome::Done(Err(err))
                };
            }
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        let reading = RateReading::from_headers(&headers);
        if let Some(r) = &reading {
            self.inner.pace.lock().unwrap().update(r, Instant::now());
            *self.inner.last_reading.lock().unwrap() = Some(*r);
        }
        let body = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                // The answer broke mid-body (affinity-api.md: a dropped connection).
                let err = transport(e);
                return if req.idempotent {
                    Outcome::Retry(err)
                } else {
                    Outcome::Done(Err(err))
                };
            }
        };
        let code = status.as_u16();
        if status.is_success() {
            return Outcome::Done(Ok(Response {
                status,
                headers,
                body,
                request: label.to_string(),
            }));
        }
        // Error messages end up in logs: never let an echoed key through.
        let body = redact(&body, key);
        if code == 429 {
            let (message, _) = read_error_body(&body);
            let reset = reading.and_then(|r| {
                if r.org_spent() {
                    r.org_reset
                } else {
                    r.user_reset
                }
            });
            let err = Error::RateLimited {
                request: label.to_string(),
                message,
                reset: reset.map(Duration::from_secs),
                retry: RetrySpent::default(),
            };
            // The monthly quota resets at the month's end: waiting is no use (§4).
            if reading.is_some_and(|r| r.org_spent()) {
                return Outcome::Done(Err(err));
            }
            let retry_after = headers
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok());
            let wait = wait_after_429(
                reading.as_ref(),
                retry_after,
                &cfg.retry.backoff,
                waits_429,
                rand::random::<f64>(),
            );
            return Outcome::RateLimited(wait, err);
        }
        if code == 408 || status.is_server_error() {
            let (message, _) = read_error_body(&body);
            let err = Error::Server {
                request: label.to_string(),
                status: code,
                message,
                retry: RetrySpent::default(),
            };
            // 408: the server gave up before reading the request. A 5xx on a create may
            // have created the record, so it is not repeated (the push journal decides).
            return if req.idempotent || code == 408 {
                Outcome::Retry(err)
            } else {
                Outcome::Done(Err(err))
            };
        }
        Outcome::Done(Err(classify(
            label,
            &req.path,
            code,
            &body,
            &cfg.key_source,
        )))
    }

    /// Sends and decodes the body as `T`.
    pub async fn json<T: DeserializeOwned>(&self, req: Request, what: &str) -> Result<T, Error> {
        self.send(req).await?.json(what)
    }

    /// v1 paging: `page_size` and `page_token` until the token is null (affinity-api.md §2.2).
    /// Every other parameter stays identical across pages. An empty page that carries a
    /// token is followed; a token that repeats ends the stream with an error rather than
    /// looping. A bare-array answer is one whole page.
    pub fn v1_pages<T: DeserializeOwned + Send + 'static>(
        &self,
        req: Request,
        key: &'static str,
        page_size: Option<u32>,
    ) -> BoxStream<'static, Result<V1Page<T>, Error>> {
        let client = self.clone();
        let stream = async_stream::try_stream! {
            let mut token: Option<String> = None;
            let mut seen = std::collections::HashSet::new();
            loop {
                let mut r = req.clone();
                if let Some(n) = page_size {
                    r = r.query("page_size", n);
                }
                if let Some(t) = &token {
                    r = r.query("page_token", t);
                }
                let label = r.label();
                let value: serde_json::Value = client.json(r, "a page").await?;
                let page = V1Page::<T>::from_value(value, key).map_err(|message| Error::Decode {
                    request: label.clone(),
                    what: format!("a page of `{key}`"),
                    message,
                })?;
                token = page.next_page_token.clone();
                yield page;
                match &token {
                    None => break,
                    Some(t) => {
                        if !seen.insert(t.clone()) {
                            Err(Error::Decode {
                                request: label,
                                what: "a page token".into(),
                                message: format!("`next_page_token` `{t}` came back twice; stopping"),
                            })?;
                        }
                    }
                }
            }
        };
        Box::pin(stream)
    }

    /// The items of [`Client::v1_pages`], one by one.
    pub fn v1_items<T: DeserializeOwned + Send + 'static>(
        &self,
        req: Request,
        key: &'static str,
        page_size: Option<u32>,
    ) -> BoxStream<'static, Result<T, Error>> {
        flatten(self.v1_pages::<T>(req, key, page_size), |p| p.items)
    }

    /// v2 paging: follows `pagination.nextUrl` until null (affinity-api.md §3.1), always
    /// through this client's base URL and auth ([`Request::from_next_url`]).
    pub fn v2_pages<T: DeserializeOwned + Send + 'static>(
        &self,
        req: Request,
    ) -> BoxStream<'static, Result<v2::Page<T>, Error>> {
        let client = self.clone();
        let stream = async_stream::try_stream! {
            let mut next = Some(req);
            let mut seen = std::collections::HashSet::new();
            while let Some(r) = next.take() {
                let label = r.label();
                let page: v2::Page<T> = client.json(r, "a page").await?;
                if let Some(url) = &page.pagination.next_url {
                    if !seen.insert(url.clone()) {
                        Err(Error::Decode {
                            request: label.clone(),
                            what: "a page".into(),
                            message: format!("`nextUrl` `{url}` came back twice; stopping"),
                        })?;
                    }
                    next = Some(Request::from_next_url(url).map_err(|message| Error::Decode {
                        request: label.clone(),
                        what: "a page".into(),
                        message,
                    })?);
                }
                yield page;
            }
        };
        Box::pin(stream)
    }

    /// The items of [`Client::v2_pages`], one by one.
    pub fn v2_items<T: DeserializeOwned + Send + 'static>(
        &self,
        req: Request,
    ) -> BoxStream<'static, Result<T, Error>> {
        flatten(self.v2_pages::<T>(req), |p| p.data)
    }
}

fn flatten<P: Send + 'static, T: Send + 'static>(
    pages: BoxStream<'static, Result<P, Error>>,
    items: fn(P) -> Vec<T>,
) -> BoxStream<'static, Result<T, Error>> {
    pages
        .flat_map(move |page| {
            let v: Vec<Result<T, Error>> = match page {
                Ok(p) => items(p).into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(v)
        })
        .boxed()
}

/// One v1 page: the items and the token of the next page (`None` at the end).
#[derive(Debug, Clone)]
pub struct V1Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The token of the next page; `None` at the end.
    pub next_page_token: Option<String>,
}

impl<T: DeserializeOwned> V1Page<T> {
    /// `{"<key>":[…],"next_page_token":…}`, or a bare array (an unpaged answer).
    pub fn from_value(value: serde_json::Value, key: &str) -> Result<Self, String> {
        match value {
            serde_json::Value::Array(_) => Ok(V1Page {
                items: serde_json::from_value(value).map_err(|e| e.to_string())?,
                next_page_token: None,
            }),
            serde_json::Value::Object(mut o) => {
                let items = match o.remove(key) {
                    Some(v) => serde_json::from_value(v).map_err(|e| e.to_string())?,
                    None => return Err(format!("no `{key}` in the page")),
                };
                let next_page_token = match o.remove("next_page_token") {
                    Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
                    _ => None,
                };
                Ok(V1Page {
                    items,
                    next_page_token,
                })
            }
            other => Err(format!("expected an object or an array, got `{other}`")),
        }
    }
}

/// `body` with every occurrence of `key` replaced by `***`.
fn redact(body: &[u8], key: &str) -> Bytes {
    let text = String::from_utf8_lossy(body);
    if key.is_empty() || !text.contains(key) {
        return Bytes::copy_from_slice(body);
    }
    Bytes::from(text.replace(key, "***"))
}

/// Sets the retry cost on the variants that carry one.
fn with_spent(mut e: Error, spent: RetrySpent) -> Error {
    match &mut e {
        Error::RateLimited { retry, .. }
        | Error::Server { retry, .. }
        | Error::Transport { retry, .. } => *retry = spent,
        _ => {}
    }
    e
}

/// A reqwest error with its causes (hyper's "connection reset" sits a few levels down).
fn error_chain(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(cause) = src {
        s.push_str(": ");
        s.push_str(&cause.to_string());
        src = cause.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_url_keeps_path_and_query_only() {
        let r = Request::from_next_url(
            "https://api.affinity.co/v2/lists/1/list-entries?cursor=abc%3D&fieldIds=field-1&fieldIds=field-2",
        )
        .unwrap();
        assert_eq!(r.path, "/v2/lists/1/list-entries");
        assert_eq!(
            r.query,
            vec![
                ("cursor".to_string(), "abc=".to_string()),
                ("fieldIds".into(), "field-1".into()),
                ("fieldIds".into(), "field-2".into())
            ]
        );
        let r = Request::from_next_url("/v2/companies?cursor=x").unwrap();
        assert_eq!(r.path, "/v2/companies");
    }

    #[test]
    fn v1_page_shapes() {
        type Case<'a> = (&'a str, Result<(usize, Option<&'a str>), ()>);
        let cases: &[Case] = &[
            (
                r#"{"persons":[1,2],"next_page_token":"t"}"#,
                Ok((2, Some("t"))),
            ),
            (
                r#"{"persons":[],"next_page_token":"t"}"#,
                Ok((0, Some("t"))),
            ),
            (r#"{"persons":[1],"next_page_token":null}"#, Ok((1, None))),
            (r#"{"persons":[1]}"#, Ok((1, None))),
            (r#"[1,2,3]"#, Ok((3, None))),
            (r#"{"other":[1]}"#, Err(())),
            (r#"3"#, Err(())),
        ];
        for (body, want) in cases {
            let got = V1Page::<i64>::from_value(serde_json::from_str(body).unwrap(), "persons")
                .map(|p| (p.items.len(), p.next_page_token))
                .map_err(|_| ());
            let want = want.map(|(n, t)| (n, t.map(String::from)));
            assert_eq!(got, want, "{body}");
        }
    }

    #[test]
    fn echoed_keys_are_redacted() {
        assert_eq!(&redact(b"bad key abc123!", "abc123")[..], b"bad key ***!");
        assert_eq!(&redact(b"fine", "abc123")[..], b"fine");
    }

    #[test]
    fn creates_are_not_idempotent() {
        assert!(!Request::post("/persons").idempotent);
        assert!(Request::put("/persons/1").idempotent);
        assert!(Request::patch("/v2/x").idempotent);
        assert!(Request::post("/v2/x").idempotent(true).idempotent);
    }
}
