//! `affsync listen` against the emulator, which sends webhooks: each kind of change reaches the
//! mirror with at most one call (the emulator's request counts), and a reconciliation after
//! many webhook-applied changes finds no drift, or, with deliveries dropped on purpose,
//! exactly the dropped ones.

use std::collections::BTreeSet;
use std::time::Duration;

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::generate::{big_list_seed, BIG_LIST_ID};
use affinity_crm_emulator::EmulatorConfig;
use affsync::listen::{self, ListenError, ListenOptions, ListenSummary, Listening};
use affsync::pull::{pull, PullOptions, Quiet};
use affsync::store::Store;
use reqwest::Method;
use serde_json::json;
use tokio::sync::{oneshot, watch};

use crate::common::{TestEmu, KEY};
use crate::db::{fingerprint, sqlite, TestDb};

fn client(t: &TestEmu) -> Client {
    let config = Config::new(ApiKey::new(KEY), KeySource::Code)
        .with_base_url(&t.emu.base_url())
        .unwrap();
    Client::new(config).unwrap()
}

struct Running {
    stop: watch::Sender<bool>,
    task: std::thread::JoinHandle<Result<ListenSummary, ListenError>>,
    at: Listening,
}

/// Starts the listener as `affsync listen` runs: on a runtime of its own (its future is not
/// `Send`, so on a thread of its own too) and with a store of its own, on the same mirror.
///
/// Not the test's `Store`: that would share one pool between two runtimes. A Postgres
/// connection is a socket of the runtime that opened it, and once the listener's runtime has
/// stopped, a query of the test's that draws one of those from the pool fails with "A Tokio 1.x
/// context was found, but it is being shutdown" (seen in the reconciliation after `stop`, on
/// Postgres only: SQLite's connections run on threads of their own).
async fn start(t: &TestEmu, db: &TestDb) -> Running {
    start_with(t, db, ListenOptions::default()).await
}

/// [`start`] with these options.
async fn start_with(t: &TestEmu, db: &TestDb, opts: ListenOptions) -> Running {
    let (stop, rx) = watch::channel(false);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (c, url) = (client(t), db.url.clone());
    let task = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let store = Store::open(&url).await.expect("the listener's store opens");
            let r = listen::listen(&c, &store, &opts, rx, move |l| {
                let _ = ready_tx.send(l.clone());
            })
            .await;
            store.close().await;
            r
        })
    });
    let at = tokio::time::timeout(Duration::from_secs(10), ready_rx)
        .await
        .expect("the listener is ready within 10 s")
        .expect("the listener starts");
    Running { stop, task, at }
}

impl Running {
    async fn stop(self) -> ListenSummary {
        self.stop.send(true).unwrap();
        tokio::task::spawn_blocking(move || self.task.join())
            .await
            .unwrap()
            .unwrap()
            .expect("the listener stops cleanly")
    }
}

/// Waits until the listener's queue is empty and `done` holds, for at most `secs`.
async fn wait_for<F, Fut>(store: &Store, secs: u64, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let queued = store
            .webhook_figures(chrono::Utc::now())
            .await
            .unwrap()
            .queued;
        if queued == 0 && done().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not reached within {secs} s ({queued} queued)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn live(store: &Store, entry: i64) -> Option<bool> {
    store
        .entry_with_gone(entry)
        .await
        .unwrap()
        .map(|(_, gone)| !gone)
}

async fn headcount_601(store: &Store) -> Option<f64> {
    let list = store.find_list("Deal Flow").await.unwrap().unwrap();
    let view = store.list_view(&list).await.unwrap();
    let e = view.entries.iter().find(|e| e.entry.id == 601)?;
    e.values.get("field-505")?.first()?.number
}

#[tokio::test]
async fn an_entry_added_a_value_changed_and_an_entry_removed_reach_the_mirror_with_one_call_at_most(
) {
    let t = TestEmu::start().await;
    let (db, pulled) = pulled_pair(&t).await;
    let store = &db.store;
    let l = start(&t, &db).await;
    assert!(!l.at.reused, "a first start subscribes");

    // Engine Works (205) is on no list: added to Deal Flow.
    let before = t.served().await;
    let e = add_entry(&t, 301, 205).await;
    let entry = e["id"].as_i64().unwrap();
    wait_for(store, 10, || async {
        live(store, entry).await == Some(true)
    })
    .await;
    let calls = t.served().await - before - 1;
    assert_eq!(calls, 1, "an entry added costs the listener one read");

    // A list field's value changed: 601's Headcount, 42.
    assert_eq!(headcount_601(store).await, Some(42.0));
    let before = t.served().await;
    t.send_json(Method::PUT, "/field-values/705", json!({"value": 43}), 200)
        .await;
    wait_for(store, 10, || async {
        headcount_601(store).await == Some(43.0)
    })
    .await;
    let calls = t.served().await - before - 1;
    assert_eq!(calls, 1, "a value changed costs the listener one read");

    // An entry removed: no read at all.
    let before = t.served().await;
    remove_entry(&t, 301, 602).await;
    wait_for(store, 10, || async {
        live(store, 602).await == Some(false)
    })
    .await;
    let calls = t.served().await - before - 1;
    assert_eq!(calls, 0, "an entry removed costs the listener nothing");

    let summary = l.stop().await;
    assert_eq!(summary.counts.failed, 0);
    assert_eq!(summary.counts.reads, 2);

    // What the listener kept is what a pull stores.
    pull(&client(&t), &pulled.store, &PullOptions::default(), &Quiet)
        .await
        .unwrap();
    assert_eq!(
        fingerprint(store, false).await,
        fingerprint(&pulled.store, false).await
    );
}

/// Adds `n` entries to the big list (each an organization already on it: lists allow repeat
/// entries), each one `list_entry.created`; gives their ids.
async fn add_entries(t: &TestEmu, n: usize) -> Vec<i64> {
    let mut ids = Vec::new();
    for i in 0..n {
        let e = t
            .send_json(
                Method::POST,
                &format!("/lists/{BIG_LIST_ID}/list-entries"),
                json!({"entity_id": 2_000_000 + i as i64}),
                200,
            )
            .await;
        ids.push(e["id"].as_i64().unwrap());
    }
    ids
}

/// The entries of `list_entry.created` deliveries the emulator dropped so far.
fn dropped_entries(t: &TestEmu) -> BTreeSet<i64> {
    t.emu
        .dropped_deliveries()
        .iter()
        .filter(|d| d.kind == "list_entry.created")
        .map(|d| d.body["id"].as_i64().unwrap())
        .collect()
}

/// Waits until each of `added` that the emulator did not drop is live in the mirror and the
/// queue is empty, for at most `secs`.
///
/// Not until as many events were settled as changes were made: a delivery can arrive twice
/// (an answer later than the sender's timeout makes it send again; Affinity's deliveries are
/// at least once), so that count can be reached while a change is still on its way, and the
/// reconciliation then finds it. And the drops are read again each time: a delivery's fate is
/// decided when its task first runs, which can be after the write that announced it answered.
async fn wait_for_entries(t: &TestEmu, store: &Store, added: &[i64], secs: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    let mut missing: BTreeSet<i64> = added.iter().copied().collect();
    loop {
        let dropped = dropped_entries(t);
        let mut still = BTreeSet::new();
        for &e in missing.difference(&dropped) {
            if live(store, e).await != Some(true) {
                still.insert(e);
            }
        }
        missing = still;
        let queued = store
            .webhook_figures(chrono::Utc::now())
            .await
            .unwrap()
            .queued;
        if missing.is_empty() && queued == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} entries not in the mirror within {secs} s ({queued} queued), e.g. {:?}",
            missing.len(),
            missing.iter().take(5).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Makes 1,000 changes with the listener running, waits for them, stops it and reconciles:
/// the entries drifted, the deliveries dropped, and how many entries the listener added to
/// the mirror (a delivery that came twice is applied twice, so its applied events can
/// outnumber the changes; its new entries cannot).
async fn reconcile_after_changes(drop_rate: f64) -> (Vec<i64>, BTreeSet<i64>, usize) {
    let config = EmulatorConfig {
        rate_limit_per_minute: 100_000,
        webhooks: affinity_crm_emulator::webhooks::DeliveryConfig {
            drop_rate,
            drop_seed: 18,
            ..Default::default()
        },
        ..Default::default()
    };
    let t = TestEmu::with(config, big_list_seed(1_000, 18)).await;
    let db = sqlite().await;
    let store = &db.store;
    pull(&client(&t), store, &PullOptions::default(), &Quiet)
        .await
        .unwrap();
    let l = start(&t, &db).await;
    let added = add_entries(&t, 1_000).await;
    wait_for_entries(&t, store, &added, 60).await;
    let dropped = dropped_entries(&t);
    let summary = l.stop().await;
    assert_eq!(summary.counts.failed, 0);
    let r = listen::reconcile::reconcile(&client(&t), store, &[], None)
        .await
        .unwrap();
    assert_eq!(r.drift.entries, 2_000);
    let drifted: Vec<i64> = r.drift.drifted.clone();
    (drifted, dropped, summary.counts.entries_new as usize)
}

#[tokio::test]
async fn a_reconciliation_after_1000_webhook_applied_changes_finds_no_drift() {
    let (drifted, dropped, landed) = reconcile_after_changes(0.0).await;
    assert!(dropped.is_empty());
    assert_eq!(
        landed, 1_000,
        "every entry reached the mirror by its webhook"
    );
    assert_eq!(drifted, Vec::<i64>::new(), "no drift");
}

#[tokio::test]
async fn a_reconciliation_after_dropped_deliveries_finds_exactly_the_dropped_ones() {
    let (drifted, dropped, landed) = reconcile_after_changes(0.05).await;
    assert!(
        !dropped.is_empty(),
        "the seed drops some of 1,000 deliveries"
    );
    assert_eq!(landed + dropped.len(), 1_000);
    assert_eq!(drifted, dropped.into_iter().collect::<Vec<_>>());
}

/// The enrichment loop's mapping: Headcount (a list field) and Last Funding Date from a CSV.
const ENRICH_MAPPING: &str = r#"version = 1
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

[[fields]]
source = "funded"
affinity = "Last Funding Date"
type = "date"
"#;

/// The values Affinity holds on a list entry: field id → value.
fn entry_values(
    t: &TestEmu,
    entry: i64,
) -> std::collections::BTreeMap<i64, affinity_crm_emulator::state::Value> {
    let st = t.emu.shared.tenant();
    st.field_values
        .values()
        .filter(|v| v.list_entry_id == Some(entry))
        .map(|v| (v.field_id, v.value.clone()))
        .collect()
}

/// The enrichment loop (`on_list_entry`): the mapping's source has a row for Engine Works (on
/// no list, so not in the mirror yet); once it is added to Deal Flow in Affinity, the listener's
/// read brings it into the mirror, the row is matched to it offline, and its mapped fields are
/// written to its new entry: in at most 3 calls in all (the read, the push's quota check, one
/// update), every request the emulator receives counted. The `field_value.*` events the update
/// announces are the echo of affsync's own write: the mirror learned those values from the
/// write, so they cost no read, and the mirror still equals a fresh pull. A record the source
/// lacks is journaled as such and costs no more than its read.
#[tokio::test]
async fn a_company_added_to_a_list_gets_its_enrichment_fields_in_three_calls_at_most() {
    use affinity_crm_emulator::state::Value;
    let t = TestEmu::start().await;
    let db = sqlite().await;
    let store = &db.store;
    let pulled = sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("companies.csv"),
        "source_id,company_name,website,headcount,funded\n\
         EW1,Engine Works,https://www.engineworks.co.uk/,77,2024-05-01\n\
         ZZ1,Zeta Nowhere,zeta-nowhere.example,5,2020-01-01\n",
    )
    .unwrap();
    let mapping = dir.path().join("companies.toml");
    std::fs::write(&mapping, ENRICH_MAPPING).unwrap();
    for s in [store, &pulled.store] {
        pull(&client(&t), s, &PullOptions::default(), &Quiet)
            .await
            .unwrap();
    }
    let opts = ListenOptions {
        enrich: vec![listen::EnrichJob {
            job: "enrich-deal-flow".into(),
            list: "Deal Flow".into(),
            mapping,
        }],
        ..ListenOptions::default()
    };
    let l = start_with(&t, &db, opts).await;

    // Engine Works (205) added to Deal Flow.
    let since = chrono::Utc::now();
    let mark = t.emu.recorded().len();
    let e = add_entry(&t, 301, 205).await;
    let entry = e["id"].as_i64().unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let v = entry_values(&t, entry);
        if v.get(&505) == Some(&Value::Number(77.0)) && v.contains_key(&503) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the entry's fields are not written within 20 s: {v:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let Value::Date(at) = &entry_values(&t, entry)[&503] else {
        panic!("Last Funding Date is a date");
    };
    assert_eq!(at.date_naive().to_string(), "2024-05-01");
    // Every event of the loop settled: the entry's creation and the two values the update
    // announced (one `field_value.created` each), so that a read of the echo, had there been
    // one, has been made before the calls are counted.
    wait_for(store, 10, || async {
        store.webhook_figures(since).await.unwrap().applied_since >= 3
    })
    .await;
    // Every request the emulator received after the test's own write, in the order answered.
    let calls: Vec<String> = t.emu.recorded()[mark + 1..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.route))
        .collect();
    assert!(
        calls.len() <= 3,
        "the enrichment loop took {} calls in all: {calls:?}",
        calls.len()
    );
    assert_eq!(
        calls.last().map(String::as_str),
        Some("PATCH /v2/lists/{listId}/list-entries/{listEntryId}/fields"),
        "the last call is the update: {calls:?}"
    );

    // Cobol Systems (202) added again: the source has no row for it.
    let before = t.served().await;
    let e = add_entry(&t, 301, 202).await;
    let again = e["id"].as_i64().unwrap();
    wait_for(store, 10, || async {
        live(store, again).await == Some(true)
    })
    .await;
    let summary = l.stop().await;
    assert_eq!(t.served().await - before - 1, 1, "only the listener's read");
    assert!(entry_values(&t, again).is_empty());
    assert_eq!(summary.counts.failed, 0);
    assert_eq!(summary.counts.enriched, 1, "{summary:?}");
    assert_eq!(summary.counts.not_in_source, 1, "{summary:?}");

    // Nothing lost by not reading the echo: what the listener kept is what a pull stores.
    pull(&client(&t), &pulled.store, &PullOptions::default(), &Quiet)
        .await
        .unwrap();
    assert_eq!(
        fingerprint(store, false).await,
        fingerprint(&pulled.store, false).await
    );
}

/// `affsync listen --port 0`, the binary, on the mirror `db`, reaching Affinity at `base`; once
/// it says where it listens (after it subscribed), that line and the rest of its stdout.
async fn spawn_listen(
    dir: &std::path::Path,
    db: &str,
    base: &str,
) -> (
    tokio::process::Child,
    String,
    tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) {
    spawn_listen_with(dir, db, base, &["--port", "0"]).await
}

/// `affsync listen FLAGS --database-url DB` from `dir`, reaching Affinity at `base` (no token
/// from the environment).
fn listen_command(
    dir: &std::path::Path,
    db: &str,
    base: &str,
    flags: &[&str],
) -> tokio::process::Command {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"));
    c.arg("listen")
        .args(flags)
        .args(["--database-url", db])
        .current_dir(dir)
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", base)
        .env("RUST_LOG", "warn")
        .env_remove("AFFSYNC_LISTEN_TOKEN");
    c
}

/// As [`spawn_listen`], with the listener's own flags (`--port`, `--bind`, …).
async fn spawn_listen_with(
    dir: &std::path::Path,
    db: &str,
    base: &str,
    flags: &[&str],
) -> (
    tokio::process::Child,
    String,
    tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) {
    use tokio::io::AsyncBufReadExt;
    let mut child = listen_command(dir, db, base, flags)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("affsync listen starts");
    let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("the listener says where it listens within 30 s")
        .unwrap()
        .expect("a line on stdout");
    assert!(first.starts_with("listening on "), "{first}");
    (child, first, lines)
}

/// The rest of a listener's stdout, once it has stopped.
async fn rest(
    mut lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
) -> String {
    let mut out = String::new();
    while let Ok(Some(l)) = lines.next_line().await {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Kills `affsync listen` (SIGKILL) while the one read it makes for a delivery it has already
/// acknowledged is in flight: the delivery was stored in the mirror's queue before it was
/// answered, so the restarted listener (which keeps its subscription) applies it, and the
/// mirror equals a fresh pull. Then SIGTERM stops the listener cleanly, and `--unsubscribe`
/// removes its subscription from Affinity.
#[tokio::test]
async fn a_listener_killed_between_acknowledge_and_apply_loses_nothing_after_restart() {
    use crate::proxy::{Fault, Proxy, Rule};
    let t = TestEmu::start().await;
    let (db, pulled) = pulled_pair(&t).await;
    let store = &db.store;
    let dir = tempfile::tempdir().unwrap();
    // The listener reaches Affinity through the proxy, which lets its first read of one list
    // entry reach the emulator and then holds the answer; the deliveries come straight from
    // the emulator.
    let proxy = Proxy::start(
        &t.emu,
        vec![Rule {
            method: "GET",
            path: "/v2/lists/301/list-entries/",
            nth: 1,
            fault: Fault::Hold,
        }],
    )
    .await;
    let (mut child, first, _) = spawn_listen(dir.path(), &db.url, &proxy.url).await;
    assert!(first.contains(", new,"), "{first}");
    let subscription: Vec<i64> = t.emu.shared.tenant().webhooks.keys().copied().collect();
    assert_eq!(subscription.len(), 1);

    // Engine Works (205) added to Deal Flow: its `list_entry.created` is delivered, queued and
    // acknowledged; the listener's read of the entry is held.
    let e = add_entry(&t, 301, 205).await;
    let entry = e["id"].as_i64().unwrap();
    proxy.held().await;
    let figures = store.webhook_figures(chrono::Utc::now()).await.unwrap();
    assert_eq!(figures.queued, 1, "the delivery is queued, not yet applied");
    assert_eq!(live(store, entry).await, None, "not in the mirror yet");
    child.kill().await.unwrap(); // SIGKILL
    drop(proxy);
    assert_eq!(
        live(store, entry).await,
        None,
        "the killed listener never wrote it"
    );

    // Restarted, straight to Affinity: it keeps its subscription and applies what it had
    // queued.
    let (child, first, lines) = spawn_listen(dir.path(), &db.url, &t.emu.base_url()).await;
    assert!(first.contains(", kept,"), "{first}");
    wait_for(store, 20, || async {
        live(store, entry).await == Some(true)
    })
    .await;
    let pid = child.id().unwrap().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the listener stops within 30 s of SIGTERM")
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "a clean stop");
    let said = rest(lines).await;
    assert!(
        said.starts_with("stopped: 1 events (1 applied"),
        "the restarted listener applied the queued event: {said}"
    );
    assert_eq!(
        t.emu
            .shared
            .tenant()
            .webhooks
            .keys()
            .copied()
            .collect::<Vec<_>>(),
        subscription,
        "stopping keeps the subscription"
    );

    // What the listener kept is what a pull stores.
    pull(&client(&t), &pulled.store, &PullOptions::default(), &Quiet)
        .await
        .unwrap();
    assert_eq!(
        fingerprint(store, false).await,
        fingerprint(&pulled.store, false).await
    );

    // `--unsubscribe` removes it from Affinity.
    let out = listen_command(dir.path(), &db.url, &t.emu.base_url(), &["--unsubscribe"])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{said}");
    assert_eq!(
        said.trim(),
        format!("removed webhook subscription {}", subscription[0])
    );
    assert!(t.emu.shared.tenant().webhooks.is_empty());
    crate::common::assert_no_run_running(store).await;
}

/// A list's live entries in the mirror with their values of `fields`: entry id → field id →
/// values.
async fn entries_with(
    store: &Store,
    list: &str,
    fields: &[&str],
) -> std::collections::BTreeMap<
    i64,
    std::collections::BTreeMap<String, Vec<affsync_core::model::ValueItem>>,
> {
    let list = store.find_list(list).await.unwrap().unwrap();
    let view = store.list_view(&list).await.unwrap();
    view.entries
        .into_iter()
        .map(|e| {
            let values = e
                .values
                .into_iter()
                .filter(|(f, _)| fields.contains(&f.as_str()))
                .collect();
            (e.entry.id, values)
        })
        .collect()
}

/// `affsync pull --view`: a saved view's entries (named `LIST/VIEW`, or by the view's id) reach
/// the mirror with the values of the fields the view shows and only those, as a pull of the
/// whole list stores them; the list does not count as pulled (a view is part of it); an
/// unknown view exits 2 and names the list's views.
#[tokio::test]
async fn pull_view_stores_a_saved_views_entries_with_the_fields_it_shows() {
    use futures::TryStreamExt;
    // The full tenant: the test tenant with a saved view on Deal Flow, among the rest.
    let t = TestEmu::with(
        EmulatorConfig::default(),
        crate::every_operation::full_seed(),
    )
    .await;
    let db = sqlite().await;
    let store = &db.store;
    let run = |args: &'static [&'static str]| {
        let url = db.url.clone();
        let base = t.emu.base_url();
        async move {
            let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
                .args(args)
                .args(["--database-url", &url])
                .env("AFFINITY_API_KEY", KEY)
                .env("AFFINITY_BASE_URL", base)
                .env("RUST_LOG", "warn")
                .output()
                .await
                .unwrap();
            (
                out.status.code().unwrap_or(-1),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        }
    };
    // What Affinity's view shows: its entries, and the fields of its columns.
    let shown: Vec<_> = client(&t)
        .saved_view_entries_v2(affinity_crm::ListId(301), affinity_crm::SavedViewId(951))
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<i64> = shown.iter().map(|e| e.id.0).collect();
    let columns = ["field-501", "field-505"];

    let (code, out, err) = run(&["pull", "--view", "Deal Flow/Pipeline board"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!(
            "Deal Flow/Pipeline board: {n} entries, {n} new,",
            n = ids.len()
        )),
        "{out}"
    );
    let got = entries_with(store, "Deal Flow", &columns).await;
    assert_eq!(got.keys().copied().collect::<Vec<_>>(), ids);
    let all = store.find_list("Deal Flow").await.unwrap().unwrap();
    let stored: BTreeSet<String> = store
        .list_view(&all)
        .await
        .unwrap()
        .entries
        .iter()
        .flat_map(|e| e.values.keys().cloned())
        .collect();
    assert!(
        stored.iter().all(|f| columns.contains(&f.as_str())),
        "only the view's fields: {stored:?}"
    );
    assert_eq!(
        store.last_pulled_at(301).await.unwrap(),
        None,
        "the list is not pulled"
    );

    // The values are those a pull of the whole list stores.
    let pulled = sqlite().await;
    pull(&client(&t), &pulled.store, &PullOptions::default(), &Quiet)
        .await
        .unwrap();
    let whole = entries_with(&pulled.store, "Deal Flow", &columns).await;
    let whole: std::collections::BTreeMap<_, _> = whole
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .collect();
    assert_eq!(got, whole);
    assert!(
        got.values().any(|v| !v.is_empty()),
        "the view's entries have values: {got:?}"
    );

    // By the view's id, again: nothing new.
    let (code, out, err) = run(&["pull", "--view", "951", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["view_id"], 951);
    assert_eq!(v["entries_seen"].as_u64(), Some(ids.len() as u64));
    assert_eq!(v["new"], 0);
    assert_eq!(v["changed"], 0);

    let (code, _, err) = run(&["pull", "--view", "Deal Flow/Nope"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no saved view named `Nope` on `Deal Flow`"),
        "{err}"
    );
    assert!(err.contains("Pipeline board (951)"), "{err}");
    let (code, _, err) = run(&["pull", "--view", "Nowhere/Pipeline board"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no list named `Nowhere`"), "{err}");

    // A job's `{ pull_view = "…" }` step does the same.
    let dir = tempfile::tempdir().unwrap();
    let mirror = format!("sqlite://{}", dir.path().join("job.db").display());
    std::fs::write(
        dir.path().join("affsync.toml"),
        format!(
            "database_url = \"{mirror}\"\n[affinity]\nbase_url = \"{}\"\nkey_env = \"AFFINITY_API_KEY\"\n\n\
             [[jobs]]\nname = \"views\"\nschedule = \"0 0 2 * * *\"\nsteps = [ {{ pull_view = \"Deal Flow/Pipeline board\" }} ]\n",
            t.emu.base_url()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["run", "views"])
        .current_dir(dir.path())
        .env("AFFINITY_API_KEY", KEY)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let job = Store::open(&mirror).await.unwrap();
    assert_eq!(entries_with(&job, "Deal Flow", &columns).await, got);
    assert!(job
        .runs(10)
        .await
        .unwrap()
        .iter()
        .any(|r| r.kind == "pull" && r.job.as_deref() == Some("views") && r.status == "ok"));
    job.close().await;
}

/// Deliveries posted by hand to the listener's hook, one at a time (each applied before the
/// next is posted), or all at once.
async fn deliver(store: &Store, at: &Listening, payloads: &[serde_json::Value], one_by_one: bool) {
    let secret = store.listener().await.unwrap().unwrap().secret;
    let url = format!("http://{}{}{secret}", at.addr, listen::HOOK_PREFIX);
    let http = reqwest::Client::new();
    for p in payloads {
        let r = http.post(&url).json(p).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "{p}");
        if one_by_one {
            wait_for(store, 10, || async { true }).await;
        }
    }
    wait_for(store, 10, || async { true }).await;
}

/// The same delivery twice, and deliveries out of order (a value's older change after its
/// newer one, an entry's deletion before its creation), leave the mirror equal to a fresh
/// pull. Affinity's own deliveries to the listener are turned off; a second subscriber takes
/// them, and the test posts them to the listener in the order it chooses.
#[tokio::test]
async fn the_same_delivery_twice_or_deliveries_out_of_order_leave_the_mirror_as_a_fresh_pull() {
    let t = TestEmu::start().await;
    let (db, pulled) = pulled_pair(&t).await;
    let store = &db.store;
    let l = start(&t, &db).await;
    t.emu
        .shared
        .tenant()
        .webhooks
        .get_mut(&l.at.subscription)
        .unwrap()
        .disabled = true;
    let mut sub = crate::webhooks::subscriber(0).await;
    t.send_json(
        Method::POST,
        "/webhook/subscribe",
        json!({ "webhook_url": sub.url }),
        200,
    )
    .await;

    // Engine Works (205) added to Deal Flow; 601's Headcount 42 → 43 → 44; entry 602 removed;
    // Cobol Systems (202) added and removed again.
    let e = add_entry(&t, 301, 205).await;
    let added = e["id"].as_i64().unwrap();
    for v in [43, 44] {
        t.send_json(Method::PUT, "/field-values/705", json!({ "value": v }), 200)
            .await;
    }
    remove_entry(&t, 301, 602).await;
    let e = add_entry(&t, 301, 202).await;
    let fleeting = e["id"].as_i64().unwrap();
    remove_entry(&t, 301, fleeting).await;
    let mut got = Vec::new();
    while let Some(p) = sub.within(Duration::from_secs(1)).await {
        got.push(p);
    }
    let find = |kind: &str, pred: &dyn Fn(&serde_json::Value) -> bool| -> serde_json::Value {
        got.iter()
            .find(|p| p["type"] == kind && pred(&p["body"]))
            .unwrap_or_else(|| panic!("a `{kind}` delivery: {got:?}"))
            .clone()
    };
    let created = find("list_entry.created", &|b| b["id"] == added);
    let to_43 = find("field_value.updated", &|b| {
        b["id"] == 705 && b["value"].as_f64() == Some(43.0)
    });
    let to_44 = find("field_value.updated", &|b| {
        b["id"] == 705 && b["value"].as_f64() == Some(44.0)
    });
    let removed = find("list_entry.deleted", &|b| b["id"] == 602);
    let fleeting_created = find("list_entry.created", &|b| b["id"] == fleeting);
    let fleeting_removed = find("list_entry.deleted", &|b| b["id"] == fleeting);
    assert_eq!(live(store, added).await, None, "nothing delivered yet");

    // Out of order, one at a time: the newer value first, the older after it; a deletion
    // before the creation it follows; the rest as they came.
    let mut order = vec![
        to_44.clone(),
        to_43.clone(),
        fleeting_removed.clone(),
        fleeting_created.clone(),
        created.clone(),
        removed.clone(),
    ];
    order.extend(got.iter().cloned());
    deliver(store, &l.at, &order, true).await;
    assert_eq!(
        headcount_601(store).await,
        Some(44.0),
        "the newer value stays"
    );
    assert_eq!(live(store, added).await, Some(true));
    assert_eq!(live(store, 602).await, Some(false));
    assert_ne!(live(store, fleeting).await, Some(true));

    // And every delivery again, at once.
    deliver(store, &l.at, &got, false).await;
    let summary = l.stop().await;
    assert_eq!(summary.counts.failed, 0);
    assert_eq!(headcount_601(store).await, Some(44.0));

    pull(&client(&t), &pulled.store, &PullOptions::default(), &Quiet)
        .await
        .unwrap();
    assert_eq!(
        fingerprint(store, false).await,
        fingerprint(&pulled.store, false).await
    );
}

/// The listener answers 404 to anything but a POST to its secret path, acknowledges an event
/// type it does not follow (journaled as such, nothing read); and with the tenant's 3
/// subscriptions taken by others, `affsync listen` refuses (exit 2), naming them.
#[tokio::test]
async fn the_listener_hides_its_path_takes_unknown_events_and_refuses_when_subscriptions_are_full()
{
    let t = TestEmu::start().await;
    let db = sqlite().await;
    let store = &db.store;
    pull(&client(&t), store, &PullOptions::default(), &Quiet)
        .await
        .unwrap();
    let l = start(&t, &db).await;
    let secret = store.listener().await.unwrap().unwrap().secret;
    let base = format!("http://{}", l.at.addr);
    let http = reqwest::Client::new();
    let event = json!({"type": "reminder.created", "body": {"id": 1}, "sent_at": 1});
    for (method, path) in [
        (
            Method::POST,
            format!("{}{}", listen::HOOK_PREFIX, "0".repeat(64)),
        ),
        (Method::POST, "/".to_string()),
        (Method::GET, format!("{}{secret}", listen::HOOK_PREFIX)),
    ] {
        let r = http
            .request(method.clone(), format!("{base}{path}"))
            .json(&event)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 404, "{method} off the secret path");
    }
    let before = t.served().await;
    let r = http
        .post(format!("{base}{}{secret}", listen::HOOK_PREFIX))
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    wait_for(store, 10, || async {
        store
            .webhook_figures(chrono::DateTime::UNIX_EPOCH)
            .await
            .unwrap()
            .applied_since
            >= 1
    })
    .await;
    let summary = l.stop().await;
    assert_eq!(t.served().await - before, 0, "nothing read for it");
    assert_eq!(
        (summary.counts.events, summary.counts.skipped),
        (1, 1),
        "{summary:?}"
    );

    // The listener's subscription removed, and 3 others made.
    listen::unsubscribe(&client(&t), store).await.unwrap();
    let mut others = Vec::new();
    for i in 0..3 {
        let w = t
            .send_json(
                Method::POST,
                "/webhook/subscribe",
                json!({ "webhook_url": format!("https://hooks{i}.example.com/in/secret{i}") }),
                200,
            )
            .await;
        others.push(w["id"].as_i64().unwrap());
    }
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["listen", "--port", "0", "--database-url", &db.url])
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("the tenant's 3 webhook subscriptions are all taken by others"),
        "{err}"
    );
    for (i, id) in others.iter().enumerate() {
        assert!(
            err.contains(&format!("{id} (https://hooks{i}.example.com/…")),
            "{err}"
        );
        assert!(!err.contains(&format!("secret{i}")), "paths hidden: {err}");
    }
    assert!(err.contains("hint: "), "{err}");
}

/// Adds `entity` to list `list` through v1, as a person in Affinity would; gives the entry.
async fn add_entry(t: &TestEmu, list: i64, entity: i64) -> serde_json::Value {
    t.send_json(
        Method::POST,
        &format!("/lists/{list}/list-entries"),
        json!({ "entity_id": entity }),
        200,
    )
    .await
}

/// Removes entry `entry` from list `list` through v1.
async fn remove_entry(t: &TestEmu, list: i64, entry: i64) {
    t.send_json(
        Method::DELETE,
        &format!("/lists/{list}/list-entries/{entry}"),
        json!({}),
        200,
    )
    .await;
}

/// Two mirrors of `t`, both pulled: the listener's, and one to pull again at the end for
/// comparing (a mirror keeps what it saw go as gone, so a fresh one would differ by that).
async fn pulled_pair(t: &TestEmu) -> (TestDb, TestDb) {
    let (db, pulled) = (sqlite().await, sqlite().await);
    for s in [&db.store, &pulled.store] {
        pull(&client(t), s, &PullOptions::default(), &Quiet)
            .await
            .unwrap();
    }
    (db, pulled)
}

/// `affsync listen` with `flags`, run to its end (one that does not listen; killed after 60 s,
/// which fails the test): exit code, stdout, stderr.
async fn listen_cli(
    dir: &std::path::Path,
    db: &str,
    base: &str,
    flags: &[&str],
) -> (i32, String, String) {
    let run = listen_command(dir, db, base, flags)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .unwrap_or_else(|_| {
            panic!(
                "`affsync listen {}` did not end within 60 s",
                flags.join(" ")
            )
        })
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A port no one listens on now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The binary on another address than loopback: refused without `--public-url` and `--token`
/// (nothing subscribed); with them, it subscribes the public URL with the token, a delivery
/// without the token is refused and one with it is applied; `listen --status` (text and
/// JSON) says what it did, before it ever ran and while it runs.
#[tokio::test]
async fn a_listener_on_another_address_needs_a_public_url_and_a_token_and_its_status_says_what_it_did(
) {
    let t = TestEmu::start().await;
    let (db, _) = pulled_pair(&t).await;
    let store = &db.store;
    let dir = tempfile::tempdir().unwrap();
    let base = t.emu.base_url();

    let (code, out, _) = listen_cli(dir.path(), &db.url, &base, &["--status"]).await;
    assert_eq!(code, 0, "{out}");
    assert_eq!(out, "listener: never started (`affsync listen`)\n");

    let port = free_port().to_string();
    let (code, _, err) = listen_cli(
        dir.path(),
        &db.url,
        &base,
        &["--bind", "0.0.0.0", "--port", &port],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("0.0.0.0"), "{err}");
    assert!(
        err.contains("--public-url") && err.contains("--token"),
        "{err}"
    );
    // `--bind 0.0.0.0 --port P --public-url URL --token t0k`.
    let exposed = |public: &str| -> Vec<String> {
        let flags = ["--bind", "0.0.0.0", "--port", &port, "--public-url", public];
        flags
            .iter()
            .chain(&["--token", "t0k"])
            .map(|f| f.to_string())
            .collect()
    };
    let ftp = exposed("ftp://x");
    let ftp: Vec<&str> = ftp.iter().map(String::as_str).collect();
    let (code, _, err) = listen_cli(dir.path(), &db.url, &base, &ftp).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`--public-url` `ftp://x"), "{err}");
    assert!(
        t.emu.shared.tenant().webhooks.is_empty(),
        "nothing subscribed"
    );

    // With a public URL (here the same machine) and a token.
    let public = format!("http://127.0.0.1:{port}");
    let flags = exposed(&public);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (child, first, lines) = spawn_listen_with(dir.path(), &db.url, &base, &flags).await;
    assert!(
        first.starts_with(&format!("listening on {public} ")),
        "{first}"
    );
    let hooks: Vec<String> = t
        .emu
        .shared
        .tenant()
        .webhooks
        .values()
        .map(|w| w.url.clone())
        .collect();
    assert_eq!(hooks.len(), 1);
    let hook = url::Url::parse(&hooks[0]).unwrap();
    assert_eq!(hook.origin().ascii_serialization(), public, "{hook}");
    assert_eq!(hook.query(), Some("token=t0k"), "{hook}");
    assert!(
        !first.contains(hook.path()),
        "the secret path is never printed: {first}"
    );

    // A delivery to the secret path without the token is refused, and nothing is queued.
    let mut bare = hook.clone();
    bare.set_query(None);
    let http = reqwest::Client::new();
    let r = http
        .post(bare.as_str())
        .json(&json!({"type": "list_entry.created", "body": {}, "sent_at": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(
        store
            .webhook_figures(chrono::Utc::now())
            .await
            .unwrap()
            .queued,
        0
    );

    // Affinity's own delivery (with the token) is applied.
    let e = add_entry(&t, 301, 205).await;
    let entry = e["id"].as_i64().unwrap();
    wait_for(store, 20, || async {
        live(store, entry).await == Some(true)
    })
    .await;

    let (code, out, _) = listen_cli(dir.path(), &db.url, &base, &["--status"]).await;
    assert_eq!(code, 0, "{out}");
    let id = t
        .emu
        .shared
        .tenant()
        .webhooks
        .keys()
        .copied()
        .next()
        .unwrap();
    assert!(
        out.starts_with(&format!(
            "listener: subscribed (webhook {id}, {public}/…, since "
        )),
        "{out}"
    );
    assert!(out.contains(", 1 applied today, 0 queued"), "{out}");
    assert!(!out.contains(hook.path()), "{out}");
    let (code, out, _) = listen_cli(dir.path(), &db.url, &base, &["--status", "--json"]).await;
    assert_eq!(code, 0, "{out}");
    let j: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(j["subscribed"], json!(true), "{j}");
    assert_eq!(j["subscription"], json!(id), "{j}");
    assert_eq!(j["origin"], json!(public), "{j}");
    assert_eq!(
        (j["events_today"].as_i64(), j["queued"].as_i64()),
        (Some(1), Some(0)),
        "{j}"
    );
    assert!(j["last_event_at"].is_string(), "{j}");

    let pid = child.id().unwrap().to_string();
    assert!(std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let out = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the listener stops within 30 s of SIGTERM")
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let said = rest(lines).await;
    assert!(said.starts_with("stopped: 1 events (1 applied"), "{said}");
}
