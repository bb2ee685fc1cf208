//! The latency of `affsync listen`: from the moment a write is sent to Affinity (its own
//! answer's delay included) to the change in the mirror, for an entry added, a field value changed and an entry removed;
//! and for the enrichment loop, from a company added to a list to its mapped fields written in
//! Affinity. Each event is made alone (the next once the listener's queue is empty), the
//! emulator and the listener in this process, the mirror on SQLite; the mirror (or the
//! emulator's state) is looked at every 5 ms, so a figure is up to 5 ms late.
//!
//! Run with `cargo bench --bench listen`; `AFFSYNC_BENCH_EVENTS` (50) sets the events of each
//! kind, `AFFSYNC_BENCH_LATENCY_MS` (`0,100`) the emulator's delay before every answer. Each
//! scenario prints one Markdown table row for BENCHMARKS.md.

use std::time::{Duration, Instant};

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::state::Value;
use affinity_crm_emulator::{Emulator, EmulatorConfig, Seed};
use affsync::listen::{self, EnrichJob, ListenError, ListenOptions, ListenSummary};
use affsync::pull::{pull, PullOptions, Quiet};
use affsync::store::Store;
use serde_json::{json, Value as Json};
use tokio::sync::{oneshot, watch};

const KEY: &str = "bench-key";
/// The test tenant's Deal Flow, its Headcount field (a number on the list) and the value of
/// Headcount on entry 601.
const DEAL_FLOW: i64 = 301;
const HEADCOUNT: i64 = 505;
const HEADCOUNT_601: i64 = 705;

fn events() -> usize {
    std::env::var("AFFSYNC_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50)
}

fn latencies() -> Vec<u64> {
    std::env::var("AFFSYNC_BENCH_LATENCY_MS")
        .unwrap_or_else(|_| "0,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

fn seed() -> Seed {
    serde_json::from_str(include_str!(
        "../crates/affinity-crm-emulator/fixtures/test-tenant.json"
    ))
    .unwrap()
}

struct Bench {
    emu: Emulator,
    http: reqwest::Client,
    store: Store,
    url: String,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start(latency_ms: u64) -> Bench {
        let emu = Emulator::start(
            EmulatorConfig {
                api_key: Some(KEY.into()),
                latency: Duration::from_millis(latency_ms),
                // The bench's own writes share the key: no pacing of the listener by them.
                rate_limit_per_minute: 100_000,
                ..Default::default()
            },
            seed(),
        )
        .await
        .unwrap();
        let client = client(&emu);
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let store = Store::open(&url).await.unwrap();
        pull(&client, &store, &PullOptions::default(), &Quiet)
            .await
            .unwrap();
        Bench {
            emu,
            http: reqwest::Client::new(),
            store,
            url,
            _dir: dir,
        }
    }

    /// A v1 write, as a person's edit in Affinity; gives its answer.
    async fn write(&self, method: reqwest::Method, path: &str, body: Json) -> Json {
        let r = self
            .http
            .request(method, format!("{}{path}", self.emu.base_url()))
            .basic_auth("", Some(KEY))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap_or(Json::Null)
    }

    fn served(&self) -> u64 {
        self.emu.stats().values().sum()
    }

    /// Waits until the listener's queue is empty and stays so for 300 ms (the echoes of a
    /// write settled), so that the next event is measured alone.
    async fn settle(&self) {
        let mut quiet_since = Instant::now();
        loop {
            let q = self
                .store
                .webhook_figures(chrono::Utc::now())
                .await
                .unwrap()
                .queued;
            if q > 0 {
                quiet_since = Instant::now();
            } else if quiet_since.elapsed() >= Duration::from_millis(300) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn live(&self, entry: i64) -> Option<bool> {
        self.store
            .entry_with_gone(entry)
            .await
            .unwrap()
            .map(|(_, gone)| !gone)
    }

    async fn headcount_601(&self) -> Option<f64> {
        let list = self.store.find_list("Deal Flow").await.unwrap().unwrap();
        let view = self.store.list_view(&list).await.unwrap();
        let e = view.entries.iter().find(|e| e.entry.id == 601)?;
        e.values.get(&format!("field-{HEADCOUNT}"))?.first()?.number
    }

    /// The value Affinity holds for `field` on list entry `entry`.
    fn affinity_value(&self, entry: i64, field: i64) -> Option<Value> {
        let st = self.emu.shared.tenant();
        st.field_values
            .values()
            .find(|v| v.list_entry_id == Some(entry) && v.field_id == field)
            .map(|v| v.value.clone())
    }
}

fn client(emu: &Emulator) -> Client {
    Client::new(
        Config::new(ApiKey::new(KEY), KeySource::Code)
            .with_base_url(&emu.base_url())
            .unwrap(),
    )
    .unwrap()
}

/// Polls `done` every 5 ms for at most 30 s; gives the time since `t0`.
async fn until<F, Fut>(t0: Instant, mut done: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    loop {
        if done().await {
            return t0.elapsed();
        }
        assert!(t0.elapsed() < Duration::from_secs(30), "not within 30 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

struct Running {
    stop: watch::Sender<bool>,
    task: std::thread::JoinHandle<Result<ListenSummary, ListenError>>,
}

/// The listener as `affsync listen` runs it, on a thread and a runtime of its own with a store
/// of its own on the same mirror (its future is not `Send`).
async fn start(b: &Bench, opts: ListenOptions) -> Running {
    let (stop, rx) = watch::channel(false);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (c, url) = (client(&b.emu), b.url.clone());
    let task = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let store = Store::open(&url).await.unwrap();
            let r = listen::listen(&c, &store, &opts, rx, move |_| {
                let _ = ready_tx.send(());
            })
            .await;
            store.close().await;
            r
        })
    });
    ready_rx.await.expect("the listener starts");
    Running { stop, task }
}

impl Running {
    async fn stop(self) -> ListenSummary {
        self.stop.send(true).unwrap();
        tokio::task::spawn_blocking(move || self.task.join())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
    }
}

/// Median and 95th percentile (nearest rank).
fn figures(mut d: Vec<Duration>) -> (Duration, Duration, Duration) {
    d.sort();
    let n = d.len();
    let median = if n % 2 == 1 {
        d[n / 2]
    } else {
        (d[n / 2 - 1] + d[n / 2]) / 2
    };
    let p95 = d[(n * 95).div_ceil(100) - 1];
    (median, p95, d[n - 1])
}

fn row(what: &str, latency_ms: u64, d: Vec<Duration>, calls: u64) {
    let n = d.len();
    let (median, p95, max) = figures(d);
    println!(
        "| {what}, latency {latency_ms} ms | {n} | {:.0} ms | {:.0} ms | {:.0} ms | {:.2} |",
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        calls as f64 / n as f64
    );
}

/// Entries added, a value changed, the entries removed: `n` of each, one at a time.
async fn mirror(latency_ms: u64) {
    let n = events();
    let b = Bench::start(latency_ms).await;
    let l = start(&b, ListenOptions::default()).await;

    let (mut added, mut d, mut calls) = (Vec::new(), Vec::new(), 0);
    for _ in 0..n {
        b.settle().await;
        let before = b.served();
        // Engine Works (205), on no list, again and again: lists allow repeat entries.
        let t0 = Instant::now();
        let e = b
            .write(
                reqwest::Method::POST,
                &format!("/lists/{DEAL_FLOW}/list-entries"),
                json!({"entity_id": 205}),
            )
            .await;
        let entry = e["id"].as_i64().unwrap();
        d.push(until(t0, || async { b.live(entry).await == Some(true) }).await);
        added.push(entry);
        b.settle().await;
        calls += b.served() - before - 1;
    }
    row("entry added → mirror", latency_ms, d, calls);

    let (mut d, mut calls) = (Vec::new(), 0);
    for i in 0..n {
        b.settle().await;
        let before = b.served();
        let v = 1_000.0 + i as f64;
        let t0 = Instant::now();
        b.write(
            reqwest::Method::PUT,
            &format!("/field-values/{HEADCOUNT_601}"),
            json!({ "value": v }),
        )
        .await;
        d.push(until(t0, || async { b.headcount_601().await == Some(v) }).await);
        b.settle().await;
        calls += b.served() - before - 1;
    }
    row("field value changed → mirror", latency_ms, d, calls);

    let (mut d, mut calls) = (Vec::new(), 0);
    for entry in added {
        b.settle().await;
        let before = b.served();
        let t0 = Instant::now();
        b.write(
            reqwest::Method::DELETE,
            &format!("/lists/{DEAL_FLOW}/list-entries/{entry}"),
            json!({}),
        )
        .await;
        d.push(until(t0, || async { b.live(entry).await == Some(false) }).await);
        b.settle().await;
        calls += b.served() - before - 1;
    }
    row("entry removed → mirror", latency_ms, d, calls);
    let s = l.stop().await;
    assert_eq!(s.counts.failed, 0);
    b.emu.stop().await;
}

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "companies.csv"
id = "source_id"

[match]
search_term = "website"

[push]
mode = "update_only"
add_to_list = "Deal Flow"

[[fields]]
source = "headcount"
affinity = "Headcount"
type = "number"
"#;

/// The enrichment loop: `n` new companies, each with a row in the enrichment source, added to
/// Deal Flow one at a time; the time until its Headcount is written in Affinity.
async fn enrichment(latency_ms: u64) {
    let n = events();
    let b = Bench::start(latency_ms).await;
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("source_id,company_name,website,headcount\n");
    let mut orgs = Vec::new();
    for i in 0..n {
        let (name, domain) = (format!("Bench Works {i}"), format!("benchworks{i}.example"));
        let o = b
            .write(
                reqwest::Method::POST,
                "/organizations",
                json!({ "name": name, "domain": domain }),
            )
            .await;
        orgs.push(o["id"].as_i64().unwrap());
        csv.push_str(&format!("B{i},{name},https://{domain}/,{}\n", 100 + i));
    }
    std::fs::write(dir.path().join("companies.csv"), csv).unwrap();
    let mapping = dir.path().join("companies.toml");
    std::fs::write(&mapping, MAPPING).unwrap();
    let l = start(
        &b,
        ListenOptions {
            enrich: vec![EnrichJob {
                job: "enrich".into(),
                list: "Deal Flow".into(),
                mapping,
            }],
            ..ListenOptions::default()
        },
    )
    .await;
    let (mut d, mut calls) = (Vec::new(), 0);
    for (i, org) in orgs.into_iter().enumerate() {
        b.settle().await;
        let before = b.served();
        let want = Value::Number(100.0 + i as f64);
        let t0 = Instant::now();
        let e = b
            .write(
                reqwest::Method::POST,
                &format!("/lists/{DEAL_FLOW}/list-entries"),
                json!({ "entity_id": org }),
            )
            .await;
        let entry = e["id"].as_i64().unwrap();
        d.push(
            until(t0, || async {
                b.affinity_value(entry, HEADCOUNT).as_ref() == Some(&want)
            })
            .await,
        );
        b.settle().await;
        calls += b.served() - before - 1;
    }
    row(
        "enrichment loop: company added → fields in Affinity",
        latency_ms,
        d,
        calls,
    );
    let s = l.stop().await;
    assert_eq!(s.counts.failed, 0);
    assert_eq!(s.counts.enriched as usize, n, "{s:?}");
    b.emu.stop().await;
}

fn main() {
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        println!("| scenario | events | median | p95 | max | calls per event |");
        println!("|---|---|---|---|---|---|");
        for latency in latencies() {
            if which.is_empty() || which == "mirror" {
                mirror(latency).await;
            }
            if which.is_empty() || which == "enrichment" {
                enrichment(latency).await;
            }
        }
    });
}
