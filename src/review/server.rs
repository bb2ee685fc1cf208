//! The review page's server (axum). Safety first: it listens on 127.0.0.1 unless told
//! otherwise, and any other address needs a token; with a token, every request carries it (a
//! `?token=` link sets a cookie, or an `Authorization: Bearer` / `X-Affsync-Token` header).
//! Every request that changes state is a POST whose form carries the server run's CSRF token.
//! Pages are sent with a content security policy that allows no script but the page's own file,
//! which may fetch from the page's own origin and nowhere else.

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use rand::Rng;
use serde::Deserialize;

use super::pages::{self, PageCtx};
use super::queue::{self, ItemView, MappingInfo, PageQuery, View, PER_PAGE};
use super::{decide, Decide, ReviewError, Verdict};
use crate::store::review::{QueueFilter, QueueStatus};
use crate::store::Store;

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("refusing to listen on `{0}` without `--token`: anyone who can reach it could decide matches")]
    OpenWithoutToken(IpAddr),
    #[error("the token has {0} characters; a token must have at least 16")]
    ShortToken(usize),
    #[error("cannot listen on `{addr}`: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the review server stopped: {0}")]
    Serve(#[source] std::io::Error),
}

impl Diagnose for ServeError {
    fn class(&self) -> ErrorClass {
        match self {
            ServeError::OpenWithoutToken(_)
            | ServeError::ShortToken(_)
            | ServeError::Bind { .. } => ErrorClass::BadInput,
            ServeError::Serve(_) => ErrorClass::Failure,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ServeError::OpenWithoutToken(_) => Some("add `--token SECRET` (then open the page with `?token=SECRET`), or keep the default `--bind 127.0.0.1`".into()),
            ServeError::ShortToken(_) => Some(
                "use a long random secret, such as the output of `openssl rand -hex 16`".into(),
            ),
            ServeError::Bind { .. } => Some("pick another `--port`, or 0 for a free one".into()),
            ServeError::Serve(_) => None,
        }
    }
}

/// How to serve.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub bind: IpAddr,
    pub port: u16,
    /// Required on any address but a loopback one.
    pub token: Option<String>,
    /// The name decisions are stored with when the page has not been given one.
    pub reviewer: Option<String>,
    /// The tenant's subdomain, for links into the Affinity web app (none without it).
    pub subdomain: Option<String>,
    /// Host names besides the bound address (and loopback names) that requests may name: the
    /// page's public name behind a proxy.
    pub allowed_hosts: Vec<String>,
}

/// A token shorter than this is refused: it could be guessed.
pub const MIN_TOKEN_LEN: usize = 16;

/// Refuses an address other than loopback without a token, and a token too short to be a
/// secret.
pub fn check_bind(bind: IpAddr, token: Option<&str>) -> Result<(), ServeError> {
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        if t.chars().count() < MIN_TOKEN_LEN {
            return Err(ServeError::ShortToken(t.chars().count()));
        }
    }
    if bind.is_loopback() || token.is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(ServeError::OpenWithoutToken(bind))
    }
}

struct AppState {
    store: Store,
    csrf: String,
    token: Option<String>,
    reviewer: Option<String>,
    subdomain: Option<String>,
    cache: queue::Cache,
}

type Shared = Arc<AppState>;

/// A random token of 32 hex digits.
pub fn random_token() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The page's routes over a store: `GET /`, `GET /search`, `GET /app.js`, and the POSTs
/// `/decide`, `/decide-same`, `/accept-above`, `/undo-last`, `/reviewer` (each with the form
/// token; the script's keys send these very forms).
pub fn router(store: Store, opts: &ServeOptions, csrf: String) -> Router {
    let state = Arc::new(AppState {
        store,
        csrf,
        token: opts.token.clone().filter(|t| !t.is_empty()),
        reviewer: opts.reviewer.clone().filter(|r| !r.trim().is_empty()),
        subdomain: opts.subdomain.clone(),
        cache: queue::Cache::default(),
    });
    Router::new()
        .route("/", get(queue_page))
        .route("/search", get(search_page))
        .route("/app.js", get(app_js))
        .route("/decide", post(decide_form))
        .route("/decide-same", post(decide_same))
        .route("/undo-last", post(undo_last))
        .route("/accept-above", post(accept_above))
        .route("/reviewer", post(set_reviewer))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
}

/// Listens and serves until Ctrl-C; `ready` is told the address once it listens.
pub async fn serve(
    store: Store,
    opts: ServeOptions,
    ready: impl FnOnce(SocketAddr),
) -> Result<(), ServeError> {
    check_bind(opts.bind, opts.token.as_deref())?;
    let addr = SocketAddr::new(opts.bind, opts.port);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServeError::Bind { addr, source })?;
    let allowed = Arc::new(crate::http_guard::AllowedHosts::for_bind(
        local,
        &opts.allowed_hosts,
    ));
    let app = router(store, &opts, random_token()).layer(middleware::from_fn_with_state(
        allowed,
        crate::http_guard::check,
    ));
    ready(local);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(ServeError::Serve)
}

/// Equal strings, compared in time that does not depend on where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A cookie's value from the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| {
            url::form_urlencoded::parse(format!("v={v}").as_bytes())
                .next()
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
}

const TOKEN_COOKIE: &str = "affsync_token";
const REVIEWER_COOKIE: &str = "affsync_reviewer";

/// The token check (when the server has one) and the headers every answer carries.
async fn guard(State(st): State<Shared>, req: Request, next: Next) -> Response {
    let mut set_cookie = None;
    if let Some(token) = &st.token {
        let headers = req.headers();
        let from_header = headers
            .get("x-affsync-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or_else(|| {
                headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.strip_prefix("Bearer "))
                    .map(str::to_string)
            });
        let from_query = req.uri().query().and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "token")
                .map(|(_, v)| v.into_owned())
        });
        let ok = |t: &Option<String>| t.as_deref().is_some_and(|t| same_secret(t, token));
        if ok(&from_query) {
            let cookie = format!("{TOKEN_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict");
            if req.method() == axum::http::Method::GET {
                // The cookie carries the token from now on: the address loses it, so that it
                // stays out of the address bar, the history and any link copied from there.
                let rest: Vec<(String, String)> =
                    url::form_urlencoded::parse(req.uri().query().unwrap_or_default().as_bytes())
                        .filter(|(k, _)| k != "token")
                        .map(|(k, v)| (k.into_owned(), v.into_owned()))
                        .collect();
                let q = url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(rest)
                    .finish();
                let to = if q.is_empty() {
                    req.uri().path().to_string()
                } else {
                    format!("{}?{q}", req.uri().path())
                };
                let mut resp = Redirect::to(&to).into_response();
                if let Ok(v) = HeaderValue::from_str(&cookie) {
                    resp.headers_mut().insert(header::SET_COOKIE, v);
                }
                return with_headers(resp);
            }
            set_cookie = Some(cookie);
        } else if !ok(&from_header) && !ok(&cookie(headers, TOKEN_COOKIE)) {
            return with_headers(
                (
                    StatusCode::UNAUTHORIZED,
                    Html(pages::render_message(
                        "Token required",
                        "this review page needs its token: open it with `?token=…` as given to whoever started it",
                    )),
                )
                    .into_response(),
            );
        }
    }
    let mut resp = next.run(req).await;
    if let Some(c) = set_cookie {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    with_headers(resp)
}

fn with_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // `same-origin`, not `no-referrer`: under `no-referrer` a browser posts a plain form with
    // `Origin: null`, which the Host/Origin guard refuses (every decision without script
    // failed); links out (into Affinity) still carry no referrer.
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The page's only script: the keys, and links and forms followed without a full page load.
async fn app_js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        include_str!("app.js"),
    )
}

fn failure(status: StatusCode, title: &str, message: &str) -> Response {
    (status, Html(pages::render_message(title, message))).into_response()
}

fn store_failure(e: impl std::fmt::Display) -> Response {
    tracing::error!("review page: {e}");
    failure(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Something failed",
        &e.to_string(),
    )
}

#[derive(Debug, Deserialize, Default)]
struct QueueParams {
    mapping: Option<String>,
    status: Option<String>,
    min_score: Option<String>,
    max_score: Option<String>,
    method: Option<String>,
    band: Option<String>,
    disagrees: Option<String>,
    view: Option<String>,
    page: Option<String>,
    at: Option<String>,
    fm: Option<String>,
    fs: Option<String>,
    preview_min: Option<String>,
    notice: Option<String>,
    /// The notice's signature: only notices this server made are shown.
    nsig: Option<String>,
}

fn score(s: &Option<String>) -> Option<f64> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|x| x.is_finite())
}

fn some(s: &Option<String>) -> Option<String> {
    s.clone().filter(|s| !s.trim().is_empty())
}

fn query_of(p: &QueueParams) -> PageQuery {
    PageQuery {
        filter: QueueFilter {
            mapping: some(&p.mapping),
            status: p
                .status
                .as_deref()
                .and_then(QueueStatus::parse)
                .unwrap_or_default(),
            min_score: score(&p.min_score),
            max_score: score(&p.max_score),
        },
        method: some(&p.method),
        band: some(&p.band),
        disagrees: some(&p.disagrees),
        page: p
            .page
            .as_deref()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(1),
        view: p.view.as_deref().and_then(View::parse).unwrap_or_default(),
        at: p.at.as_deref().and_then(|s| s.parse().ok()),
        focus: some(&p.fm).zip(some(&p.fs)),
        preview_min: score(&p.preview_min),
    }
}

/// Who signs this browser's decisions: the name it gave (its cookie), else the server's
/// `--reviewer` (`true`: the default).
fn reviewer_of(st: &AppState, headers: &HeaderMap) -> Option<(String, bool)> {
    cookie(headers, REVIEWER_COOKIE)
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .map(|n| (n, false))
        .or_else(|| st.reviewer.clone().map(|n| (n, true)))
}

fn ctx(st: &AppState, headers: &HeaderMap, notice: Option<String>) -> PageCtx {
    let who = reviewer_of(st, headers);
    PageCtx {
        csrf: st.csrf.clone(),
        reviewer_is_default: who.as_ref().is_some_and(|(_, d)| *d),
        reviewer: who.map(|(n, _)| n),
        notice,
        subdomain: st.subdomain.clone(),
    }
}

async fn queue_page(
    State(st): State<Shared>,
    headers: HeaderMap,
    Query(p): Query<QueueParams>,
) -> Response {
    let query = query_of(&p);
    match queue::load_page(&st.store, &query, PER_PAGE, &st.cache).await {
        Ok(q) => {
            let notice = p.notice.filter(|n| {
                p.nsig
                    .as_deref()
                    .is_some_and(|s| same_secret(s, &notice_sig(&st.csrf, n)))
            });
            Html(pages::render_queue(&q, &ctx(&st, &headers, notice))).into_response()
        }
        Err(e) => store_failure(e),
    }
}

#[derive(Debug, Deserialize)]
struct SearchParams {
    mapping: String,
    source_id: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    back: String,
}

async fn search_page(
    State(st): State<Shared>,
    headers: HeaderMap,
    Query(p): Query<SearchParams>,
) -> Response {
    let item = match st.store.queue_item(&p.mapping, &p.source_id).await {
        Ok(Some(i)) => i,
        Ok(None) => {
            return failure(
                StatusCode::NOT_FOUND,
                "No such record",
                &format!("no decision for `{}` of `{}`", p.source_id, p.mapping),
            )
        }
        Err(e) => return store_failure(e),
    };
    let info = MappingInfo::load(&p.mapping);
    let results = if p.q.trim().is_empty() {
        Vec::new()
    } else {
        let kinds = match info.kind {
            Some(k) => vec![k],
            None => affsync_core::model::Kind::ALL.to_vec(),
        };
        let mut all = Vec::new();
        for k in kinds {
            match st.store.search_mirror(k, &p.q, 25).await {
                Ok(r) => all.extend(r),
                Err(e) => return store_failure(e),
            }
        }
        all
    };
    let view = ItemView {
        candidates: Vec::new(),
        accepted: None,
        fields: Vec::new(),
        identical: 0,
        info,
        item,
    };
    let back = clean_back(&p.back);
    Html(pages::render_search(
        &ctx(&st, &headers, None),
        &view,
        &p.q,
        &results,
        &back,
    ))
    .into_response()
}

/// The keys a `back` query string may hold: the page's filter, facets, view and page.
const BACK_KEYS: [&str; 9] = [
    "mapping",
    "status",
    "min_score",
    "max_score",
    "method",
    "band",
    "disagrees",
    "view",
    "page",
];

/// A `back` query string, rebuilt from its pairs (so that it can only ever be a query).
fn clean_back(back: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in url::form_urlencoded::parse(back.as_bytes()) {
        if BACK_KEYS.contains(&k.as_ref()) {
            q.append_pair(&k, &v);
        }
    }
    q.finish()
}

/// Where the page goes after a POST: the record to focus, by position or by id.
enum Then {
    At(usize),
    Record(String, String),
    Top,
}

/// A notice's signature under the server run's secret: a notice in an address someone else
/// made is not shown.
fn notice_sig(secret: &str, notice: &str) -> String {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(format!("{secret}\0{notice}").as_bytes());
    d.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

fn back_to(st: &AppState, back: &str, notice: &str, then: Then) -> Response {
    let mut q = url::form_urlencoded::Serializer::new(clean_back(back));
    match then {
        Then::At(at) => {
            q.append_pair("at", &at.to_string());
        }
        Then::Record(m, s) => {
            q.append_pair("fm", &m).append_pair("fs", &s);
        }
        Then::Top => {}
    }
    q.append_pair("notice", notice)
        .append_pair("nsig", &notice_sig(&st.csrf, notice));
    Redirect::to(&format!("./?{}", q.finish())).into_response()
}

fn csrf_ok(st: &AppState, given: &str) -> bool {
    same_secret(given, &st.csrf)
}

fn csrf_refused() -> Response {
    failure(
        StatusCode::FORBIDDEN,
        "Form expired",
        "the form's token does not match this server run (it was restarted, or the request did not come from its page): reload the page and try again",
    )
}

fn unnamed() -> Response {
    failure(
        StatusCode::BAD_REQUEST,
        "Who is deciding?",
        "every decision is signed: give your name at the top of the page first (it is kept in this browser)",
    )
}

fn refused(e: ReviewError) -> Response {
    match e {
        e @ ReviewError::Store(_) => store_failure(e),
        e => failure(
            StatusCode::BAD_REQUEST,
            "Cannot record that",
            &e.to_string(),
        ),
    }
}

#[derive(Debug, Deserialize)]
struct DecideForm {
    #[serde(default)]
    csrf: String,
    mapping: String,
    source_id: String,
    verdict: String,
    #[serde(default)]
    affinity_id: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    at: String,
}

/// The form's verdict, or the page that says it is none (boxed: a response is large).
fn verdict_of(f: &DecideForm) -> Result<Verdict, Box<Response>> {
    Ok(match f.verdict.as_str() {
        "accept" if !f.affinity_id.trim().is_empty() => Verdict::Accept(f.affinity_id.clone()),
        "create" => Verdict::Create,
        "reject" => Verdict::Reject,
        "undo" => Verdict::Undo,
        other => {
            return Err(Box::new(failure(
                StatusCode::BAD_REQUEST,
                "Unknown decision",
                &format!("`{other}` is not a decision (accept with an id, create, reject, undo)"),
            )))
        }
    })
}

fn words(verdict: &Verdict) -> String {
    match verdict {
        Verdict::Accept(id) => format!("accepted {id}"),
        Verdict::Create => "to be created".into(),
        Verdict::Reject => "not a match".into(),
        Verdict::Undo => "decision undone".into(),
    }
}

async fn decide_form(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<DecideForm>,
) -> Response {
    if !csrf_ok(&st, &f.csrf) {
        return csrf_refused();
    }
    let verdict = match verdict_of(&f) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some((who, _)) = reviewer_of(&st, &headers) else {
        return unnamed();
    };
    let item = Decide {
        mapping: f.mapping.clone(),
        source_id: f.source_id.clone(),
        verdict: verdict.clone(),
    };
    match decide(&st.store, &[item], Some(&who), Utc::now()).await {
        Ok(_) => {
            let then = match (&verdict, f.at.parse()) {
                (Verdict::Undo, _) => Then::Record(f.mapping.clone(), f.source_id.clone()),
                (_, Ok(at)) => Then::At(at),
                _ => Then::Top,
            };
            back_to(
                &st,
                &f.back,
                &format!("{}: {}", f.source_id, words(&verdict)),
                then,
            )
        }
        Err(e) => refused(e),
    }
}

/// The same verdict for every open record of the mapping file whose key column holds the
/// value this record's does (OpenRefine's "match all identical cells").
async fn decide_same(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<DecideForm>,
) -> Response {
    if !csrf_ok(&st, &f.csrf) {
        return csrf_refused();
    }
    let verdict = match verdict_of(&f) {
        Ok(Verdict::Undo) => {
            return failure(
                StatusCode::BAD_REQUEST,
                "Unknown decision",
                "undo is one record at a time (or `u`: your last decision)",
            )
        }
        Ok(v) => v,
        Err(r) => return *r,
    };
    let Some((who, _)) = reviewer_of(&st, &headers) else {
        return unnamed();
    };
    let info = MappingInfo::load(&f.mapping);
    let item = match st.store.queue_item(&f.mapping, &f.source_id).await {
        Ok(Some(i)) => i,
        Ok(None) => {
            return refused(ReviewError::UnknownRecord {
                mapping: f.mapping.clone(),
                source_id: f.source_id.clone(),
            })
        }
        Err(e) => return store_failure(e),
    };
    let Some((column, value)) = queue::key_value(&item, &info) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "Nothing to compare",
            &format!(
                "`{}` has no value to find identical records by",
                f.source_id
            ),
        );
    };
    let open = QueueFilter {
        mapping: Some(f.mapping.clone()),
        status: QueueStatus::Open,
        ..QueueFilter::default()
    };
    let items = match st.store.review_queue(&open, 0, i64::MAX / 2).await {
        Ok((items, _)) => items,
        Err(e) => return store_failure(e),
    };
    let todo: Vec<Decide> = items
        .iter()
        .filter(|it| queue::key_value(it, &info).is_some_and(|(_, v)| v == value))
        .map(|it| Decide {
            mapping: it.decision.mapping.clone(),
            source_id: it.decision.source_id.clone(),
            verdict: verdict.clone(),
        })
        .collect();
    match decide(&st.store, &todo, Some(&who), Utc::now()).await {
        Ok(n) => back_to(
            &st,
            &f.back,
            &format!("{n} records with {column} = “{value}”: {}", words(&verdict)),
            f.at.parse().map(Then::At).unwrap_or(Then::Top),
        ),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct BulkForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    mapping: String,
    min_score: String,
    #[serde(default)]
    max_records: String,
    #[serde(default)]
    back: String,
}

/// Accepts the best candidate of the open records in review scoring at least `min_score`
/// (of the filtered mapping file, or all): at most `max_records` of them, the best first (the
/// preview's count: the queue may have changed since).
async fn accept_above(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<BulkForm>,
) -> Response {
    if !csrf_ok(&st, &f.csrf) {
        return csrf_refused();
    }
    let Some(min) = score(&Some(f.min_score.clone())) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "Not a score",
            &format!("`{}` is not a score between 0 and 1", f.min_score),
        );
    };
    let Ok(bound) = f.max_records.trim().parse::<usize>() else {
        return failure(
            StatusCode::BAD_REQUEST,
            "How many?",
            "preview first: the form says how many records it may decide at most",
        );
    };
    let Some((who, _)) = reviewer_of(&st, &headers) else {
        return unnamed();
    };
    let every = QueueFilter {
        status: QueueStatus::All,
        ..QueueFilter::default()
    };
    let all = match st.store.review_queue(&every, 0, i64::MAX / 2).await {
        Ok((items, _)) => items,
        Err(e) => return store_failure(e),
    };
    let mapping = Some(f.mapping.as_str()).filter(|m| !m.is_empty());
    let qualifying = queue::above(&all, mapping, min);
    let todo: Vec<Decide> = qualifying
        .iter()
        .take(bound)
        .map(|(it, best)| Decide {
            mapping: it.decision.mapping.clone(),
            source_id: it.decision.source_id.clone(),
            verdict: Verdict::Accept(best.clone()),
        })
        .collect();
    match decide(&st.store, &todo, Some(&who), Utc::now()).await {
        Ok(n) => back_to(
            &st,
            &f.back,
            &format!(
                "accepted {n} suggestions scoring at least {min} ({} qualified, at most {bound} asked)",
                qualifying.len()
            ),
            Then::Top,
        ),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct UndoLastForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    back: String,
}

/// Undoes this reviewer's last decision still in force (all the records it decided at once,
/// for a bulk decision); the journal keeps both.
async fn undo_last(
    State(st): State<Shared>,
    headers: HeaderMap,
    Form(f): Form<UndoLastForm>,
) -> Response {
    if !csrf_ok(&st, &f.csrf) {
        return csrf_refused();
    }
    let Some((who, _)) = reviewer_of(&st, &headers) else {
        return unnamed();
    };
    let reviews = match st.store.reviews(None).await {
        Ok(r) => r,
        Err(e) => return store_failure(e),
    };
    let mine: Vec<_> = reviews
        .into_iter()
        .filter(|r| r.decided_by.as_deref() == Some(who.as_str()))
        .collect();
    let Some(last) = mine.iter().map(|r| r.decided_at.clone()).max() else {
        return back_to(
            &st,
            &f.back,
            &format!("nothing to undo: no decision of {who}'s is in force"),
            Then::Top,
        );
    };
    let todo: Vec<Decide> = mine
        .iter()
        .filter(|r| r.decided_at == last)
        .map(|r| Decide {
            mapping: r.mapping.clone(),
            source_id: r.source_id.clone(),
            verdict: Verdict::Undo,
        })
        .collect();
    let first = todo
        .first()
        .map(|d| Then::Record(d.mapping.clone(), d.source_id.clone()))
        .unwrap_or(Then::Top);
    let names: Vec<&str> = todo.iter().map(|d| d.source_id.as_str()).collect();
    match decide(&st.store, &todo, Some(&who), Utc::now()).await {
        Ok(_) => back_to(
            &st,
            &f.back,
            &format!("undone: {}", names.join(", ")),
            first,
        ),
        Err(e) => refused(e),
    }
}

#[derive(Debug, Deserialize)]
struct ReviewerForm {
    #[serde(default)]
    csrf: String,
    name: String,
    #[serde(default)]
    back: String,
    #[serde(default)]
    at: String,
}

async fn set_reviewer(State(st): State<Shared>, Form(f): Form<ReviewerForm>) -> Response {
    if !csrf_ok(&st, &f.csrf) {
        return csrf_refused();
    }
    let name = f.name.trim();
    if name.is_empty() {
        return failure(
            StatusCode::BAD_REQUEST,
            "Who is deciding?",
            "give a name: it signs every decision made in this browser",
        );
    }
    let value: String = url::form_urlencoded::byte_serialize(name.as_bytes()).collect();
    let mut resp = back_to(
        &st,
        &f.back,
        &format!("decisions are now signed {name}"),
        f.at.parse().map(Then::At).unwrap_or(Then::Top),
    );
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{REVIEWER_COOKIE}={value}; Path=/; Max-Age=31536000; SameSite=Strict"
    )) {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_goes_without_a_token() {
        for (addr, token, ok) in [
            ("127.0.0.1", None, true),
            ("::1", None, true),
            ("0.0.0.0", None, false),
            ("192.168.1.10", None, false),
            ("0.0.0.0", Some(""), false),
            ("0.0.0.0", Some("s3cret"), false),
            ("127.0.0.1", Some("s3cret"), false),
            ("0.0.0.0", Some("s3cret-0123456789"), true),
        ] {
            let ip: IpAddr = addr.parse().unwrap();
            assert_eq!(check_bind(ip, token).is_ok(), ok, "{addr} {token:?}");
        }
    }

    #[test]
    fn back_keeps_only_the_filter() {
        for (input, want) in [
            ("mapping=m.toml&page=2", "mapping=m.toml&page=2"),
            ("x=1&status=review&notice=hi", "status=review"),
            ("//evil.example/", ""),
        ] {
            assert_eq!(clean_back(input), want);
        }
    }

    #[test]
    fn cookies_are_read_by_name_and_decoded() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; affsync_reviewer=Ada+L%C3%B6f; b=2"),
        );
        assert_eq!(cookie(&h, REVIEWER_COOKIE).as_deref(), Some("Ada Löf"));
        assert_eq!(cookie(&h, "c"), None);
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
        assert_eq!(random_token().len(), 32);
        assert_ne!(random_token(), random_token());
    }
}
