//! The latency of `affsync listen`: from the moment a write is sent to Affinity (its own
//! answer's delay included) to the change in the mirror, for an entry added, a field value changed and an entry removed;
//! and for the enrichment loop, from a company added to a list to its mapped fields written in
//! Affinity. Each event is made alone (the next once the listener's queue is empty), the
//! emulator and the listener in this process, the mirror on SQLite; the mirror (or the
//! emulator's state) is looked at every 5 ms, so a figure is up to 5 ms late.
//!
//! Run with `cargo bench --bench listen`; `AFFSYNC_BENCH_EVENTS` (50) sets the events of each
//! kind, `AFFSYNC_BENCH_LATENCY_MS` (`0,100`) the emulator's delay before every answer. Each
//! scenario prints one Markdown table row for BENCHMARKS.md. `cargo bench --bench listen --
//! calls` counts instead the calls a day to keep 20 lists × 5,000 entries current
//! ([`calls_a_day`]).

use std::time::{Duration, Instant};

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::generate::{big_list_seed, BIG_LIST_ID};
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
        Bench::start_with(latency_ms, seed()).await
    }

    /// The emulator with `seed`, and a mirror that has pulled every list.
    async fn start_with(latency_ms: u64, seed: Seed) -> Bench {
        let emu = Emulator::start(
            EmulatorConfig {
                api_key: Some(KEY.into()),
                latency: Duration::from_millis(latency_ms),
                // The bench's own writes share the key: no pacing of the listener by them.
                rate_limit_per_minute: 100_000,
                ..Default::default()
            },
            seed,
        )
        .await
        .unwrap();
        let client = client(&emu);
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("b.db").display());
        let store = Store::open(&url).await.unwrap();
        let every = PullOptions {
            all_lists: true,
            ..PullOptions::default()
        };
        pull(&client, &store, &every, &Quiet).await.unwrap();
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

/// 20 lists of `per` organizations each: the generated list's seed, its entries dealt out to
/// 19 copies of the list (the values of its list fields kept on the entries that stay).
fn twenty_lists(per: usize) -> Seed {
    let mut s = big_list_seed(per * 20, 7);
    let base = s.lists[0].clone();
    for k in 1..20 {
        let mut l = base.clone();
        l.id = BIG_LIST_ID + k;
        l.name = format!("{} {k}", base.name);
        s.lists.push(l);
    }
    let mut moved = std::collections::HashSet::new();
    for (i, e) in s.list_entries.iter_mut().enumerate() {
        e.list_id = BIG_LIST_ID + (i / per) as i64;
        if e.list_id != BIG_LIST_ID {
            moved.insert(e.id);
        }
    }
    s.field_values
        .retain(|v| v.list_entry_id.is_none_or(|e| !moved.contains(&e)));
    s
}

/// `n` of `all`, evenly spread.
fn spread<T: Clone>(all: &[T], n: usize) -> Vec<T> {
    let step = (all.len() / n).max(1);
    all.iter().step_by(step).take(n).cloned().collect()
}

/// Calls a day to keep 20 lists × `AFFSYNC_BENCH_PER_LIST` (5,000) entries current at 50
/// changes a day, run at that scale: a nightly full pull when nothing changed, the listener's
/// reads for 50 changes (20 values changed, 15 entries added, 15 removed), and the weekly
/// reconciliation (a full pull) after them, which must find no drift.
async fn calls_a_day() {
    let per: usize = std::env::var("AFFSYNC_BENCH_PER_LIST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let b = Bench::start_with(0, twenty_lists(per)).await;
    let every = PullOptions {
        all_lists: true,
        ..PullOptions::default()
    };
    let before = b.served();
    pull(&client(&b.emu), &b.store, &every, &Quiet)
        .await
        .unwrap();
    let nightly = b.served() - before;

    let l = start(&b, ListenOptions::default()).await;
    let (values, entries): (Vec<i64>, Vec<(i64, i64)>) = {
        let st = b.emu.shared.tenant();
        let headcounts: Vec<i64> = st
            .field_values
            .values()
            .filter(|v| v.field_id == 5013)
            .map(|v| v.id)
            .collect();
        let values = spread(&headcounts, 20);
        let all: Vec<(i64, i64)> = st
            .list_entries
            .values()
            .map(|e| (e.list_id, e.entity_id))
            .collect();
        (values, spread(&all, 15))
    };
    let before = b.served();
    for (i, id) in values.iter().enumerate() {
        b.write(
            reqwest::Method::PUT,
            &format!("/field-values/{id}"),
            json!({ "value": 10_000 + i }),
        )
        .await;
    }
    let mut added = Vec::new();
    for (list, entity) in &entries {
        // Onto the next list, where it is not yet.
        let to = BIG_LIST_ID + (list - BIG_LIST_ID + 1) % 20;
        let e = b
            .write(
                reqwest::Method::POST,
                &format!("/lists/{to}/list-entries"),
                json!({ "entity_id": entity }),
            )
            .await;
        added.push(e["id"].as_i64().unwrap());
    }
    let gone: Vec<(i64, i64)> = {
        let st = b.emu.shared.tenant();
        let all: Vec<(i64, i64)> = st
            .list_entries
            .values()
            .filter(|e| !added.contains(&e.id))
            .map(|e| (e.list_id, e.id))
            .collect();
        spread(&all[all.len() / 3..], 15)
    };
    for (list, entry) in &gone {
        b.write(
            reqwest::Method::DELETE,
            &format!("/lists/{list}/list-entries/{entry}"),
            json!({}),
        )
        .await;
    }
    let own = (values.len() + added.len() + gone.len()) as u64;
    b.settle().await;
    let listened = b.served() - before - own;
    let s = l.stop().await;
    assert_eq!(s.counts.failed, 0, "{s:?}");

    let before = b.served();
    let r = affsync::listen::reconcile::reconcile(&client(&b.emu), &b.store, &[], None)
        .await
        .unwrap();
    let weekly = b.served() - before;
    assert_eq!(r.drift.drift, 0, "the listener kept up: {:?}", r.drift);

    let changes = own as f64;
    let listen_day = listened as f64 * 50.0 / changes;
    let reconcile_day = weekly as f64 / 7.0;
    println!();
    println!("20 lists x {per} entries, {own} changes made and listened to");
    println!("| way | calls a day |");
    println!("|---|---|");
    println!("| nightly full pull (measured: {nightly} calls) | **{nightly}** |");
    println!("| `affsync listen`: {listened} reads for {own} changes | {listen_day:.0} |");
    println!("| weekly reconciliation ({weekly} calls, drift 0) / 7 | {reconcile_day:.0} |");
    println!(
        "| **listen + weekly reconciliation** | **{:.0}** ({:.0}% of the nightly pulls) |",
        listen_day + reconcile_day,
        100.0 * (listen_day + reconcile_day) / nightly as f64
    );
    b.emu.stop().await;
}

fn main() {
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        if which == "calls" {
            calls_a_day().await;
            return;
        }
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
