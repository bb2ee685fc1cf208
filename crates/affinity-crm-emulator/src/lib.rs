//! An emulator of Affinity's API (v1 and v2) for tests, demos and dry rehearsals.
//!
//! It is an axum server on 127.0.0.1 over an in-memory tenant ([`state::State`]), and it
//! reproduces the behaviours of `../shared/affinity-api.md` §8 that a client must survive:
//! paging quirks, substring `term` search with global organizations, immutable global
//! organizations, merged entities, unique emails, duplicate list entries, replace semantics,
//! dates at midnight US Pacific, `null` empty multi-values, ranked dropdowns by option id,
//! rate limits with their headers and 429s, and (on request) faults.
//!
//! It answers every operation of the three dated v2 versions (2024-01-01, 2026-07-15 and the
//! current 2026-09-17, picked per request by `X-Affinity-Api-Version` and echoed back, see
//! [`versions`]) and the v1 operations of the fact sheet, and it keeps webhook subscriptions
//! and delivers the events of each write to them ([`webhooks`]).
//!
//! Where Affinity's behaviour is undocumented, the choice made here is written beside the code
//! and marked `[I]`, as in the fact sheet.

pub mod generate;
pub mod middleware;
pub mod state;
pub mod v1;
pub mod v2;
pub mod versions;
pub mod webhooks;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use rand::rngs::StdRng;
use rand::SeedableRng;
use serde_json::json;
use tokio::sync::oneshot;

pub use state::{Invalid, Seed, SeedUser, State};

/// How the emulator behaves; the CLI's `affsync emulator` flags map onto it one to one.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// 0 picks a free port.
    pub port: u16,
    /// The first user's key ([`Seed::user`]). When set, a key that is neither this nor a
    /// further user's ([`Seed::users`]) is answered 401; when unset, any such key is the first
    /// user's.
    pub api_key: Option<String>,
    /// Requests per key per window (Affinity: 900 per minute).
    pub rate_limit_per_minute: u64,
    /// The length of the per-key window: a minute, shorter in tests.
    pub rate_window: Duration,
    /// Requests per account per month; `None` is no monthly quota (the `"unlimited"` case).
    pub monthly_quota: Option<u64>,
    /// Added before every answer.
    pub latency: Duration,
    /// The share of requests, 0 to 1, answered by a fault (500, 503 or a dropped connection).
    pub fault_rate: f64,
    pub fault_seed: u64,
    /// Keep every answer (for tests that check v2 answers against the OpenAPI spec).
    pub record: bool,
    /// Refuse every write (any method but GET) with a 403, as a key without write rights is
    /// refused: for tests that prove a command writes nothing.
    pub refuse_writes: bool,
    /// The v2 version of a request that names none (`X-Affinity-Api-Version`): the key's
    /// default version in Affinity (affinity-api.md §1). One of [`versions::VERSIONS`].
    pub default_api_version: &'static str,
    /// How webhook deliveries are sent: retries, their backoff, and the timeout of one POST.
    pub webhooks: webhooks::DeliveryConfig,
}

/// One answer the emulator gave, kept when [`EmulatorConfig::record`] is set.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    /// The route's template, e.g. `/v2/lists/{listId}/list-entries`.
    pub route: String,
    /// The request's path and query.
    pub uri: String,
    pub status: u16,
    /// The JSON body, if the answer had one.
    pub body: Option<serde_json::Value>,
    /// The v2 version the answer was given in (echoed as `X-Affinity-Api-Version`); `None` on
    /// v1 routes and on a request whose version was refused.
    pub api_version: Option<String>,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        EmulatorConfig {
            port: 0,
            api_key: None,
            rate_limit_per_minute: 900,
            rate_window: Duration::from_secs(60),
            monthly_quota: None,
            latency: Duration::ZERO,
            fault_rate: 0.0,
            fault_seed: 0,
            record: false,
            refuse_writes: false,
            default_api_version: versions::CURRENT,
            webhooks: webhooks::DeliveryConfig::default(),
        }
    }
}

/// One user's requests, as `/_emulator/stats` reports them under `users`.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CallerStats {
    /// Requests made with the user's key (429s included).
    pub requests: u64,
    /// Of which answered 429 (the key's per-minute window, or the account's month, spent).
    pub rate_limited: u64,
    /// Of which writes (any method but GET).
    pub writes: u64,
    /// Milliseconds from the emulator's start to the user's first and last write.
    pub first_write_ms: Option<u64>,
    pub last_write_ms: Option<u64>,
}

/// What every handler shares.
pub struct Shared {
    pub config: EmulatorConfig,
    tenant: Mutex<State>,
    pub(crate) limits: Mutex<middleware::Limits>,
    pub(crate) stats: Mutex<BTreeMap<String, u64>>,
    /// Requests by the user whose key made them (never the key itself).
    pub(crate) callers: Mutex<BTreeMap<i64, CallerStats>>,
    /// When the emulator started, for the callers' first and last request times.
    pub(crate) started: std::time::Instant,
    pub(crate) faults: Mutex<StdRng>,
    pub(crate) recorded: Mutex<Vec<Recorded>>,
    pub(crate) sender: webhooks::Sender,
    /// The address the server listens on, for v2's absolute `nextUrl`s.
    pub base_url: String,
}

impl Shared {
    /// The tenant, locked. Handlers never hold it across an `.await`.
    pub fn tenant(&self) -> MutexGuard<'_, State> {
        self.tenant.lock().unwrap_or_else(|e| e.into_inner())
    }
}

pub type AppState = Arc<Shared>;

/// Which version's conventions an answer follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// An error answer in Affinity's shape.
///
/// v2: `{"errors":[{"code","message","param"?}]}` (SPEC). v1's error body is undocumented
/// [I]: the emulator answers `{"errors":["<message>"]}`, a list of strings, the form the
/// merged-entity message (`organization_id: … has been merged into …`) is reported in.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub version: Version,
    pub status: StatusCode,
    /// The v2 error code (`not-found`, `validation`, …).
    pub code: &'static str,
    pub message: String,
    pub param: Option<String>,
}

impl ApiError {
    pub fn new(version: Version, status: StatusCode, message: impl Into<String>) -> Self {
        let code = match status.as_u16() {
            400 => "validation",
            401 => "authentication",
            403 => "authorization",
            404 => "not-found",
            405 => "method-not-allowed",
            409 => "conflict",
            422 => "unprocessable-entity",
            429 => "rate-limit",
            _ => "server",
        };
        ApiError {
            version,
            status,
            code,
            message: message.into(),
            param: None,
        }
    }
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }
    pub fn with_code(mut self, code: &'static str) -> Self {
        self.code = code;
        self
    }
    pub fn not_found(version: Version, what: impl std::fmt::Display) -> Self {
        ApiError::new(version, StatusCode::NOT_FOUND, format!("{what} not found"))
    }
    /// A refused write: 422 in v1, 400 `validation` in v2.
    pub fn invalid(version: Version, inv: Invalid) -> Self {
        match version {
            Version::V1 => ApiError::new(
                version,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{}: {}", inv.param, inv.message),
            ),
            Version::V2 => {
                ApiError::new(version, StatusCode::BAD_REQUEST, inv.message).with_param(inv.param)
            }
        }
    }
    /// A read of a merged entity (affinity-api.md §8.4): 422 naming the surviving id.
    pub fn merged(version: Version, param: &str, old: i64, new: i64) -> Self {
        let message = format!("{old} no longer exists as it has been merged into {new}");
        match version {
            Version::V1 => ApiError::new(
                version,
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("{param}: {message}"),
            ),
            Version::V2 => ApiError::new(version, StatusCode::UNPROCESSABLE_ENTITY, message),
        }
    }
    pub fn body(&self) -> serde_json::Value {
        match self.version {
            Version::V1 => json!({ "errors": [self.message] }),
            Version::V2 => {
                let mut e = json!({ "code": self.code, "message": self.message });
                if let Some(p) = &self.param {
                    e["param"] = json!(p);
                }
                json!({ "errors": [e] })
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

/// The version a path belongs to.
pub fn version_of(path: &str) -> Version {
    if path == "/v2" || path.starts_with("/v2/") {
        Version::V2
    } else {
        Version::V1
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    pub addr: SocketAddr,
    pub shared: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Emulator {
    /// Binds 127.0.0.1 on `config.port` (0 for a free one) and serves `seed` in the background.
    pub async fn start(config: EmulatorConfig, seed: Seed) -> Result<Emulator, EmulatorError> {
        let state = State::from_seed(seed).map_err(EmulatorError::InvalidSeed)?;
        if let Some(u) = config.api_key.as_deref().and_then(|k| state.user_by_key(k)) {
            return Err(EmulatorError::InvalidSeed(Invalid::new(
                "users.api_key",
                format!("user {} has the first user's key (`--api-key`)", u.id),
            )));
        }
        let port = config.port;
        let bind = |source| EmulatorError::Bind { port, source };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(bind)?;
        let addr = listener.local_addr().map_err(bind)?;
        let shared = Arc::new(Shared {
            limits: Mutex::new(middleware::Limits::new(&config)),
            stats: Mutex::new(BTreeMap::new()),
            callers: Mutex::new(BTreeMap::new()),
            started: std::time::Instant::now(),
            faults: Mutex::new(StdRng::seed_from_u64(config.fault_seed)),
            recorded: Mutex::new(Vec::new()),
            sender: webhooks::Sender::new(config.webhooks.clone()),
            tenant: Mutex::new(state),
            base_url: format!("http://{addr}"),
            config,
        });
        let app = router(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "emulator server stopped");
            }
        });
        Ok(Emulator {
            addr,
            shared,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// `http://127.0.0.1:PORT`
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// Requests served so far, per `METHOD /route`.
    pub fn stats(&self) -> BTreeMap<String, u64> {
        self.shared.stats.lock().unwrap().clone()
    }

    /// The webhook deliveries lost on purpose so far ([`webhooks::DeliveryConfig::drop_rate`]).
    pub fn dropped_deliveries(&self) -> Vec<webhooks::Delivery> {
        self.shared.sender.dropped()
    }

    /// The answers kept so far (empty unless [`EmulatorConfig::record`] is set).
    pub fn recorded(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().unwrap().clone()
    }

    /// Runs until the server stops (for `affsync emulator`).
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The whole app: v1, v2, the emulator's own stats route, and the middleware.
pub fn router(shared: AppState) -> Router {
    let api = Router::new()
        .merge(v1::router())
        .merge(v2::router())
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            middleware::affinity_layer,
        ))
        .with_state(shared.clone());
    Router::new()
        .route("/_emulator/stats", axum::routing::get(stats))
        .route("/_emulator/webhooks/dropped", axum::routing::get(dropped))
        .with_state(shared)
        .merge(api)
}

async fn fallback(uri: axum::http::Uri) -> ApiError {
    let v = version_of(uri.path());
    ApiError::new(
        v,
        StatusCode::NOT_FOUND,
        format!("no route for {}", uri.path()),
    )
}

async fn stats(
    axum::extract::State(s): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    let routes = s.stats.lock().unwrap().clone();
    let total: u64 = routes.values().sum();
    let users = s.callers.lock().unwrap().clone();
    axum::Json(json!({ "total": total, "routes": routes, "users": users }))
}

/// The webhook deliveries dropped on purpose: `[{"subscription_id", "type", "body"}]`.
async fn dropped(
    axum::extract::State(s): axum::extract::State<AppState>,
) -> axum::Json<serde_json::Value> {
    let all: Vec<serde_json::Value> = s
        .sender
        .dropped()
        .iter()
        .map(|d| json!({ "subscription_id": d.subscription_id, "type": d.kind, "body": d.body }))
        .collect();
    axum::Json(json!(all))
}

/// The demo tenant shipped with the binary (`fixtures/demo-tenant.json`).
pub fn demo_seed() -> Seed {
    serde_json::from_str(include_str!("../fixtures/demo-tenant.json"))
        .expect("fixtures/demo-tenant.json is a valid seed")
}

/// Why the emulator cannot start, or a seed cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EmulatorError {
    /// The seed parsed but does not hold together (a dangling id, a duplicate email, ...).
    #[error("invalid seed: {0}")]
    InvalidSeed(Invalid),
    /// The seed file cannot be read.
    #[error("cannot read seed `{file}`: {source}")]
    ReadSeed {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// The seed file is not a seed (JSON, in the format of [`state`]).
    #[error("invalid seed `{file}` at line {line}, column {column}: {message}")]
    ParseSeed {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The port cannot be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
}

impl EmulatorError {
    /// What to do about it, for a person.
    pub fn hint(&self) -> Option<&'static str> {
        match self {
            EmulatorError::ParseSeed { .. } | EmulatorError::InvalidSeed(_) => {
                Some("see the seed format in the emulator crate's `state` module")
            }
            EmulatorError::Bind { .. } => Some("pick another `--port`, or 0 for a free one"),
            EmulatorError::ReadSeed { .. } => None,
        }
    }
}

/// Reads a seed file, with the file's name in any error.
pub fn load_seed(path: &std::path::Path) -> Result<Seed, EmulatorError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::ReadSeed {
        file: file.clone(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| EmulatorError::ParseSeed {
        file,
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })
}
