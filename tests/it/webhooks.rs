//! The emulator's webhooks (affinity-api.md §5): subscriptions in v1 and v2, and deliveries to
//! a subscriber on 127.0.0.1 after the writes Affinity announces, in the shape of
//! `fixtures/affinity/webhook-payloads/`, retried when the subscriber fails.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::common::*;

/// A subscriber: every payload it takes goes to the channel; the first `fail_first` POSTs are
/// answered 500.
pub struct Subscriber {
    pub url: String,
    rx: mpsc::UnboundedReceiver<Value>,
    attempts: Arc<AtomicU32>,
}

pub async fn subscriber(fail_first: u32) -> Subscriber {
    let (tx, rx) = mpsc::unbounded_channel::<Value>();
    let attempts = Arc::new(AtomicU32::new(0));
    type S = (mpsc::UnboundedSender<Value>, Arc<AtomicU32>, u32);
    async fn take(State((tx, n, fail)): State<S>, Json(v): Json<Value>) -> StatusCode {
        if n.fetch_add(1, Ordering::SeqCst) < fail {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        tx.send(v).unwrap();
        StatusCode::OK
    }
    let app =
        Router::new()
            .route("/hook", post(take))
            .with_state((tx, attempts.clone(), fail_first));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Subscriber {
        url: format!("http://{addr}/hook"),
        rx,
        attempts,
    }
}

impl Subscriber {
    /// The next delivery, if one comes within `wait`.
    pub async fn within(&mut self, wait: Duration) -> Option<Value> {
        tokio::time::timeout(wait, self.rx.recv())
            .await
            .ok()
            .flatten()
    }

    pub async fn next(&mut self) -> Value {
        tokio::time::timeout(Duration::from_secs(10), self.rx.recv())
            .await
            .expect("a delivery within 10 s")
            .expect("the subscriber runs")
    }
}

fn payload(name: &str) -> Value {
    let path = crate::decode::fixtures()
        .join("webhook-payloads")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

/// The delivery has the documented envelope, and its body every key of the fixture's body.
fn assert_shaped_like(got: &Value, fixture: &str) {
    let want = payload(fixture);
    assert_eq!(keys(got), keys(&want), "{got}");
    assert_eq!(got["type"], want["type"]);
    let sent_at = got["sent_at"].as_i64().expect("sent_at is unix seconds");
    assert!(
        (sent_at - chrono::Utc::now().timestamp()).abs() < 60,
        "{got}"
    );
    let missing: Vec<String> = keys(&want["body"])
        .difference(&keys(&got["body"]))
        .cloned()
        .collect();
    assert!(
        missing.is_empty(),
        "{fixture}: body lacks {missing:?}: {got}"
    );
}

#[tokio::test]
async fn a_subscriber_receives_entry_value_and_merge_events() {
    let t = TestEmu::start().await;
    let mut sub = subscriber(0).await;
    let w = t
        .send_json(
            Method::POST,
            "/webhook/subscribe",
            json!({"webhook_url": sub.url, "subscriptions":
                   ["list_entry.created", "field_value.updated", "organization.merged"]}),
            200,
        )
        .await;
    assert_eq!(w["disabled"], false);
    // A write no subscription listens for is not sent.
    t.send_json(
        Method::POST,
        "/persons",
        json!({"first_name": "Nobody", "last_name": "Listens", "emails": []}),
        200,
    )
    .await;

    let entry = t
        .send_json(
            Method::POST,
            "/lists/301/list-entries",
            json!({"entity_id": 202}),
            200,
        )
        .await;
    let got = sub.next().await;
    assert_shaped_like(&got, "list_entry_created.json");
    assert_eq!(got["body"]["id"], entry["id"]);
    assert_eq!(got["body"]["entity"]["id"], 202);

    // 709 is organization 201's `Industry` (Software).
    t.send_json(
        Method::PUT,
        "/field-values/709",
        json!({"value": "Hardware"}),
        200,
    )
    .await;
    let got = sub.next().await;
    assert_shaped_like(&got, "field_value_updated.json");
    assert_eq!(got["body"]["id"], 709);
    assert_eq!(got["body"]["value"], "Hardware");
    assert_eq!(got["body"]["field"]["id"], 511);

    t.send_json(
        Method::POST,
        "/v2/company-merges",
        json!({"primaryCompanyId": 201, "duplicateCompanyId": 205}),
        202,
    )
    .await;
    let got = sub.next().await;
    assert_shaped_like(&got, "organization_merged.json");
    assert_eq!(got["body"]["removed_company"]["id"], 205);
    assert_eq!(got["body"]["company"]["id"], 201);
    // Nothing else came: the person create was not announced to this subscription.
    assert!(sub.rx.try_recv().is_err());
    assert_eq!(sub.attempts.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_failed_delivery_is_retried_and_subscriptions_are_at_most_three() {
    let t = TestEmu::start().await;
    let mut flaky = subscriber(2).await;
    // v2's route, every event by its list.
    let w = t
        .send_json(
            Method::POST,
            "/v2/webhooks",
            json!({"url": flaky.url, "subscriptions": ["person.created"]}),
            201,
        )
        .await;
    assert_eq!(w["status"], "active");
    t.send_json(
        Method::POST,
        "/persons",
        json!({"first_name": "Grace", "last_name": "Hopper", "emails": ["grace@example.com"]}),
        200,
    )
    .await;
    let got = flaky.next().await;
    assert_shaped_like(&got, "person_created.json");
    assert_eq!(got["body"]["first_name"], "Grace");
    assert_eq!(
        flaky.attempts.load(Ordering::SeqCst),
        3,
        "two failures, then it took it"
    );
    // Both versions see the same subscriptions.
    let v1 = t.get("/webhook", 200).await;
    assert_eq!(v1[0]["webhook_url"], flaky.url);
    // Three at most (§5).
    for i in 0..2 {
        t.send_json(
            Method::POST,
            "/webhook/subscribe",
            json!({"webhook_url": format!("http://127.0.0.1:9/{i}")}),
            200,
        )
        .await;
    }
    let refused = t
        .send_json(
            Method::POST,
            "/v2/webhooks",
            json!({"url": "http://127.0.0.1:9/x", "subscriptions": []}),
            400,
        )
        .await;
    assert_eq!(refused["errors"][0]["param"], "url");
    // An unknown event type is refused.
    let id = w["id"].as_i64().unwrap();
    t.send_json(
        Method::POST,
        &format!("/v2/webhooks/{id}"),
        json!({"subscriptions": ["made.up"]}),
        400,
    )
    .await;
    send(t.req(Method::DELETE, &format!("/v2/webhooks/{id}")), 204).await;
    assert_eq!(t.get("/webhook", 200).await.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_subscription_whose_deliveries_keep_failing_is_disabled() {
    let config = affinity_crm_emulator::EmulatorConfig {
        webhooks: affinity_crm_emulator::webhooks::DeliveryConfig {
            attempts: 3,
            backoff: Duration::from_millis(10),
            timeout: Duration::from_secs(2),
            ..Default::default()
        },
        ..Default::default()
    };
    let t = TestEmu::with(config, test_seed()).await;
    let dead = subscriber(u32::MAX).await;
    t.send_json(
        Method::POST,
        "/webhook/subscribe",
        json!({"webhook_url": dead.url}),
        200,
    )
    .await;
    t.send_json(
        Method::POST,
        "/organizations",
        json!({"name": "Nobody Hears"}),
        200,
    )
    .await;
    let mut disabled = false;
    for _ in 0..100 {
        if t.get("/webhook", 200).await[0]["disabled"] == true {
            disabled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(disabled, "the subscription is disabled after its attempts");
    assert_eq!(
        dead.attempts.load(Ordering::SeqCst),
        3,
        "three attempts, no more"
    );
}

#[tokio::test]
async fn v2_note_writes_are_announced_in_v1s_shape() {
    let t = TestEmu::start().await;
    let mut sub = subscriber(0).await;
    t.send_json(
        Method::POST,
        "/v2/webhooks",
        json!({"url": sub.url, "subscriptions": ["note.created", "note.updated", "note.deleted"]}),
        201,
    )
    .await;
    let note = t
        .send_json(
            Method::POST,
            "/v2/notes",
            json!({"type": "entities", "content": {"html": "<p>hi</p>"}, "persons": [{"id": 101}]}),
            201,
        )
        .await;
    let id = note["id"].as_i64().unwrap();
    t.send_json(
        Method::POST,
        &format!("/v2/notes/{id}"),
        json!({"content": {"html": "<p>edited</p>"}}),
        204,
    )
    .await;
    send(t.req(Method::DELETE, &format!("/v2/notes/{id}")), 204).await;
    // Each delivery goes on its own: they may arrive in any order.
    let mut got_all = std::collections::BTreeMap::new();
    for _ in 0..3 {
        let got = sub.next().await;
        got_all.insert(got["type"].as_str().unwrap().to_string(), got);
    }
    for (kind, content) in [
        ("note.created", "<p>hi</p>"),
        ("note.updated", "<p>edited</p>"),
        ("note.deleted", "<p>edited</p>"),
    ] {
        let got = &got_all[kind];
        assert_eq!(got["body"]["id"], id);
        // v1's note: snake_case, the persons by id.
        assert_eq!(got["body"]["person_ids"], json!([101]), "{got}");
        assert_eq!(got["body"]["content"], content);
    }
}
