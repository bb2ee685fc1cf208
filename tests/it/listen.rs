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
use crate::db::{fingerprint, sqlite};

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

async fn start(t: &TestEmu, store: &Store) -> Running {
    let (stop, rx) = watch::channel(false);
    let (ready_tx, ready_rx) = oneshot::channel();
    let (c, s) = (client(t), store.clone());
    // On a thread of its own, as `affsync listen` runs it on its main task (its future is
    // not `Send`).
    let task = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(listen::listen(
            &c,
            &s,
            &ListenOptions::default(),
            rx,
            move |l| {
                let _ = ready_tx.send(l.clone());
            },
        ))
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
    let db = sqlite().await;
    let store = &db.store;
    // Another mirror, pulled now and again at the end, for comparing: a mirror keeps what it
    // saw go as gone, so a fresh one would differ by that alone.
    let pulled = sqlite().await;
    for s in [store, &pulled.store] {
        pull(&client(&t), s, &PullOptions::default(), &Quiet)
            .await
            .unwrap();
    }
    let l = start(&t, store).await;
    assert!(!l.at.reused, "a first start subscribes");

    // Engine Works (205) is on no list: added to Deal Flow.
    let before = t.served().await;
    let e = t
        .send_json(
            Method::POST,
            "/lists/301/list-entries",
            json!({"entity_id": 205}),
            200,
        )
        .await;
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
    t.send_json(
        Method::DELETE,
        "/lists/301/list-entries/602",
        json!({}),
        200,
    )
    .await;
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
    let l = start(&t, store).await;
    let added = add_entries(&t, 1_000).await;
    let dropped: BTreeSet<i64> = t
        .emu
        .dropped_deliveries()
        .iter()
        .filter(|d| d.kind == "list_entry.created")
        .map(|d| d.body["id"].as_i64().unwrap())
        .collect();
    let want = added.len() - dropped.len();
    wait_for(store, 60, || async {
        store
            .webhook_figures(chrono::DateTime::UNIX_EPOCH)
            .await
            .unwrap()
            .applied_since as usize
            >= want
    })
    .await;
    let summary = l.stop().await;
    assert_eq!(summary.counts.failed, 0);
    let r = listen::reconcile::reconcile(&client(&t), store, &[], None)
        .await
        .unwrap();
    assert_eq!(r.drift.entries, 2_000);
    let drifted: Vec<i64> = r.drift.drifted.clone();
    (drifted, dropped, summary.counts.applied as usize)
}

#[tokio::test]
async fn a_reconciliation_after_1000_webhook_applied_changes_finds_no_drift() {
    let (drifted, dropped, applied) = reconcile_after_changes(0.0).await;
    assert!(dropped.is_empty());
    assert_eq!(applied, 1_000);
    assert_eq!(drifted, Vec::<i64>::new(), "no drift");
}

#[tokio::test]
async fn a_reconciliation_after_dropped_deliveries_finds_exactly_the_dropped_ones() {
    let (drifted, dropped, applied) = reconcile_after_changes(0.05).await;
    assert!(
        !dropped.is_empty(),
        "the seed drops some of 1,000 deliveries"
    );
    assert_eq!(applied + dropped.len(), 1_000);
    assert_eq!(drifted, dropped.into_iter().collect::<Vec<_>>());
}
