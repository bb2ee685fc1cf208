//! Affinity → mirror by webhooks: `affsync listen`.
//!
//! The listener subscribes itself to Affinity's webhooks ([`subscribe`]) at a URL whose last
//! segment is a long random secret kept in the mirror (Affinity signs nothing, affinity-api.md
//! §5: the secret is what tells its deliveries from anyone's POST). Its receiver ([`server`])
//! stores each delivery in a durable queue in the store and only then acknowledges it, within
//! milliseconds; an applier ([`apply`]) takes the queue in order and brings the mirror up to
//! date with at most one targeted read per event, journaled in a `listen` run. Applying an event
//! never writes what its body says: it reads the record's current state (or, for a deletion,
//! which is final, flags it gone), so the same event twice, or two events out of order, leave
//! the mirror as a pull would. A value event whose value the mirror already holds needs no read
//! at all: that is the echo of affsync's own write (the enrichment loop's update), which the
//! mirror learned when it wrote.
//!
//! Around it: the enrichment loop ([`enrich`]: match and push a record as it lands on a list),
//! reconciliation ([`reconcile`]: a pull that counts what the webhooks missed), saved views
//! ([`view`]: a pull of a view's entries and fields) and the listener's state for `status`
//! ([`status`]).

pub mod apply;
pub mod enrich;
pub mod reconcile;
pub mod server;
pub mod status;
pub mod subscribe;
pub mod view;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{watch, Notify};

use crate::store::journal::RunEnd;
use crate::store::{Store, StoreError};
use affinity_crm::Client;
use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::journal::{RunKind, RunStatus};

pub use apply::ListenCounts;
pub use enrich::EnrichJob;

/// The path the subscribed URL has before its secret: `/hooks/<secret>`.
pub const HOOK_PREFIX: &str = "/hooks/";

/// How the listener runs.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    pub bind: IpAddr,
    /// 0 picks a free port (the subscription then follows it at each start).
    pub port: u16,
    /// The address Affinity reaches the listener at, when it is not the bound one (behind a
    /// tunnel or a proxy); required with a non-loopback `bind`.
    pub public_url: Option<url::Url>,
    /// Required with a non-loopback `bind`: every delivery must carry it (`?token=`, which the
    /// subscribed URL does).
    pub token: Option<String>,
    /// The enrichment loop's jobs (`on_list_entry` in `affsync.toml`).
    pub enrich: Vec<EnrichJob>,
    /// The first wait before the applier asks Affinity again after a failure that may pass
    /// (doubling up to a minute).
    pub retry_after: Duration,
}

impl Default for ListenOptions {
    fn default() -> Self {
        ListenOptions {
            bind: IpAddr::from([127, 0, 0, 1]),
            port: 0,
            public_url: None,
            token: None,
            enrich: Vec::new(),
            retry_after: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    #[error("refusing to listen on `{0}` without `--public-url` and `--token`: Affinity's deliveries carry no signature, and anyone who can reach the address could post events")]
    OpenAddress(IpAddr),
    #[error("`--public-url` `{0}` is not an http(s) URL with a host")]
    BadPublicUrl(String),
    #[error("cannot listen on `{addr}`: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("the tenant's {} webhook subscriptions are all taken by others: {}", others.len(), others.join("; "))]
    SubscriptionsFull { others: Vec<String> },
    #[error("this mirror's listener has no webhook subscription in Affinity")]
    NotSubscribed,
    #[error("job `{job}`: the mapping of its `on_list_entry` cannot be used: {message}")]
    Enrichment { job: String, message: String },
    /// An Affinity error, its text with the listener's secret taken out.
    #[error("Affinity refused the listener: {0}")]
    Api(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the listener stopped: {0}")]
    Serve(#[source] std::io::Error),
}

impl Diagnose for ListenError {
    fn class(&self) -> ErrorClass {
        match self {
            ListenError::OpenAddress(_)
            | ListenError::BadPublicUrl(_)
            | ListenError::Bind { .. }
            | ListenError::SubscriptionsFull { .. }
            | ListenError::NotSubscribed
            | ListenError::Enrichment { .. } => ErrorClass::BadInput,
            ListenError::Api(_) | ListenError::Serve(_) => ErrorClass::Failure,
            ListenError::Store(s) => s.class(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ListenError::OpenAddress(_) => Some("keep the default `--bind 127.0.0.1` behind a tunnel that forwards to it, or give `--public-url https://…` (the address Affinity posts to) and `--token SECRET`".into()),
            ListenError::BadPublicUrl(_) => Some("give the address Affinity can reach, e.g. `--public-url https://hooks.example.com`".into()),
            ListenError::Bind { .. } => Some("pick another `--port`, or 0 for a free one".into()),
            ListenError::SubscriptionsFull { .. } => Some("a tenant has at most 3 webhook subscriptions: remove one of those (Affinity's settings, or `DELETE /webhook/{id}`), then start the listener again".into()),
            ListenError::NotSubscribed => Some("`affsync listen` subscribes when it starts".into()),
            ListenError::Enrichment { .. } => Some("fix the mapping file `on_list_entry` names (`affsync check FILE` says what is wrong), or take `on_list_entry` off the job".into()),
            _ => None,
        }
    }
}

impl ListenError {
    /// An Affinity error as the listener reports it: without the secret, which a message
    /// that echoes the subscribed URL would otherwise carry.
    pub fn api(e: &affinity_crm::Error, secret: &str) -> ListenError {
        ListenError::Api(redact(&e.to_string(), secret))
    }
}

/// `text` with every occurrence of the secret replaced.
pub fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "…")
    }
}

/// A secret of 256 random bits, as 64 hex digits.
pub fn new_secret() -> String {
    use rand::Rng;
    let mut bytes = [0u8; 32];
    rand::rng().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Refuses a non-loopback address without a public URL and a token; checks the public URL.
pub fn check_exposure(opts: &ListenOptions) -> Result<(), ListenError> {
    if let Some(u) = &opts.public_url {
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(ListenError::BadPublicUrl(u.to_string()));
        }
    }
    let token = opts.token.as_deref().is_some_and(|t| !t.is_empty());
    if opts.bind.is_loopback() || (opts.public_url.is_some() && token) {
        Ok(())
    } else {
        Err(ListenError::OpenAddress(opts.bind))
    }
}

/// Where the listener is, once it listens.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The bound address.
    pub addr: SocketAddr,
    /// `scheme://host[:port]` Affinity posts to (the secret path not included).
    pub origin: String,
    /// The subscription's id in Affinity.
    pub subscription: i64,
    /// Whether the subscription of an earlier start was kept.
    pub reused: bool,
    /// The listen run in the journal.
    pub run: i64,
}

/// What a listener did, when it stops.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ListenSummary {
    pub run: i64,
    pub subscription: i64,
    #[serde(flatten)]
    pub counts: ListenCounts,
    pub api_calls: u64,
}

/// Runs the listener until `stop` turns true: binds, serves, subscribes (after it serves, as
/// Affinity test-calls a new URL), applies the queue (first what an earlier run left in it),
/// and on stop finishes the event in hand and closes its run. `ready` is told where it
/// listens.
pub async fn listen(
    client: &Client,
    store: &Store,
    opts: &ListenOptions,
    mut stop: watch::Receiver<bool>,
    ready: impl FnOnce(&Listening),
) -> Result<ListenSummary, ListenError> {
    check_exposure(opts)?;
    let addr = SocketAddr::new(opts.bind, opts.port);
    let tcp = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ListenError::Bind { addr, source })?;
    let local = tcp
        .local_addr()
        .map_err(|source| ListenError::Bind { addr, source })?;
    let listener = store
        .listener_or_new(&new_secret(), chrono::Utc::now())
        .await?;
    let secret = listener.secret.clone();
    let origin = match &opts.public_url {
        Some(u) => u.origin().ascii_serialization(),
        None => format!("http://{local}"),
    };
    let calls_before = client.stats().attempts;
    let run = store.begin_run(RunKind::Listen, None).await?;

    let wake = Arc::new(Notify::new());
    let receiver = Arc::new(server::Receiver::new(
        store.clone(),
        &secret,
        opts.token.clone(),
        wake.clone(),
    ));
    let (serve_stop_tx, mut serve_stop_rx) = watch::channel(false);
    let app = server::router(
        receiver,
        server::allowed_hosts(local, opts.public_url.as_ref()),
    );
    let serving = tokio::spawn(async move {
        axum::serve(tcp, app)
            .with_graceful_shutdown(async move {
                let _ = serve_stop_rx.wait_for(|s| *s).await;
            })
            .await
    });

    let result = async {
        let url = subscribe::hook_url(
            &origin,
            opts.public_url.as_ref(),
            &secret,
            opts.token.as_deref(),
        );
        let (subscription, reused) =
            subscribe::ensure(client, store, &run, &url, &origin, &secret).await?;
        ready(&Listening {
            addr: local,
            origin: origin.clone(),
            subscription,
            reused,
            run: run.id().0,
        });
        tracing::info!(%origin, subscription, reused, "listening for Affinity's webhooks");
        let enrichers = enrich::Enrichers::load(&opts.enrich)?;
        let applier = apply::Applier::new(client, store, run.id(), &enrichers, &secret);
        let counts = applier.run(&wake, &mut stop, opts.retry_after).await?;
        Ok::<_, ListenError>((subscription, counts))
    }
    .await;

    let _ = serve_stop_tx.send(true);
    let served = serving.await;
    let api_calls = client.stats().attempts - calls_before;
    let result = result.and_then(|r| match served {
        Ok(Err(e)) => Err(ListenError::Serve(e)),
        _ => Ok(r),
    });
    let result = result.map(|(subscription, counts)| ListenSummary {
        run: run.id().0,
        subscription,
        counts,
        api_calls,
    });
    run.close(
        result,
        |s| RunEnd {
            status: if s.counts.failed > 0 {
                RunStatus::Partial
            } else {
                RunStatus::Ok
            },
            counts: serde_json::to_value(s).unwrap_or_default(),
            api_calls,
            note: (s.counts.failed > 0).then(|| {
                format!(
                    "{} could not be applied",
                    affsync_core::model::counted(s.counts.failed, "event")
                )
            }),
        },
        api_calls,
    )
    .await
}

/// Removes the listener's own subscription; gives its id.
pub async fn unsubscribe(client: &Client, store: &Store) -> Result<i64, ListenError> {
    let Some(listener) = store.listener().await? else {
        return Err(ListenError::NotSubscribed);
    };
    let run = store.begin_run(RunKind::Listen, None).await?;
    let result = subscribe::remove(client, store, &run, &listener).await;
    let calls = client.stats().attempts;
    run.close(
        result,
        |id| RunEnd::ok(serde_json::json!({ "unsubscribed": id }), calls),
        calls,
    )
    .await
}
