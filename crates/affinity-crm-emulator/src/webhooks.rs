//! Webhooks (affinity-api.md §5): the tenant's subscriptions, and the delivery of each event to
//! the subscribed URLs after a write that Affinity announces.
//!
//! A handler that writes calls [`State::announce`](crate::State::announce) while it holds the
//! tenant: that resolves the subscriptions listening for the event into [`Delivery`]s, kept in
//! the tenant's outbox. When the handler has answered, the middleware takes the outbox and
//! hands each delivery to [`Sender::spawn`], which POSTs it in the background, so a slow or
//! dead subscriber never delays an answer. One delivery is
//! `{"type": "<object>.<action>", "body": {…v1 resource…}, "sent_at": <unix seconds>}`
//! (the shape of `fixtures/affinity/webhook-payloads/`), `sent_at` set at each attempt.
//!
//! A failed attempt (no connection, or a status other than 2xx) is retried with exponential
//! backoff ([`DeliveryConfig`]); Affinity retries for up to 10 hours and then disables the
//! subscription, the emulator does the same within its much shorter budget [I].
//!
//! What becomes of each attempt is decided in one place, [`Sender::fate`]: with a drop rate
//! ([`DeliveryConfig::drop_rate`], `affsync emulator --webhook-drop-rate`), a seeded share of
//! the deliveries is lost on the way, as a network or a subscriber outage would lose them, for
//! rehearsing a listener's recovery (its reconciliation finds them). A dropped delivery is
//! never retried: the emulator behaves as if it had been taken. Whether a delivery is dropped
//! depends only on the seed and the delivery's place in the order deliveries were handed to
//! the sender, not on the timing of the background tasks, so a seed replays the same losses;
//! the deliveries dropped are kept ([`Sender::dropped`]) for tests to compare with.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value as Json};

use crate::Shared;

/// At most this many subscriptions per tenant (affinity-api.md §5).
pub const MAX_SUBSCRIPTIONS: usize = 3;

/// Every event type Affinity announces (§5; v2's `webhooks.SubscriptionType`).
pub const EVENTS: &[&str] = &[
    "field.created",
    "field.deleted",
    "field.updated",
    "field_value.created",
    "field_value.deleted",
    "field_value.updated",
    "file.created",
    "file.deleted",
    "list.created",
    "list.deleted",
    "list.updated",
    "list_entry.created",
    "list_entry.deleted",
    "note.created",
    "note.deleted",
    "note.updated",
    "opportunity.created",
    "opportunity.deleted",
    "opportunity.updated",
    "organization.created",
    "organization.deleted",
    "organization.merged",
    "organization.updated",
    "person.created",
    "person.deleted",
    "person.updated",
    "reminder.created",
    "reminder.deleted",
    "reminder.updated",
    "smart_interaction_value.updated",
];

/// How deliveries are sent.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Attempts per delivery, the first included.
    pub attempts: u32,
    /// The wait before the first retry; each further retry waits twice as long.
    pub backoff: Duration,
    /// The limit for one POST.
    pub timeout: Duration,
    /// The share of deliveries, 0 to 1, lost on the way and never retried.
    pub drop_rate: f64,
    /// The seed of which deliveries are lost.
    pub drop_seed: u64,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            attempts: 5,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
            drop_rate: 0.0,
            drop_seed: 0,
        }
    }
}

/// A subscription: where to send which events. An empty `subscriptions` means every event
/// (v1's `POST /webhook/subscribe` documents it so, §5).
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// Its id (from the tenant's id sequence).
    pub id: i64,
    /// Where events are POSTed.
    pub url: String,
    /// The event types sent; empty for all.
    pub subscriptions: Vec<String>,
    /// A disabled subscription gets nothing (set by hand, or after deliveries kept failing).
    pub disabled: bool,
    /// The user who made it.
    pub created_by: i64,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: Option<DateTime<Utc>>,
}

impl Subscription {
    /// Whether this subscription gets events of `kind`.
    pub fn wants(&self, kind: &str) -> bool {
        !self.disabled
            && (self.subscriptions.is_empty() || self.subscriptions.iter().any(|s| s == kind))
    }
}

/// One event on its way to one subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    /// The subscription it goes to.
    pub subscription_id: i64,
    /// Its URL when the event happened.
    pub url: String,
    /// `<object>.<action>`.
    pub kind: String,
    /// The resource, in v1's shape.
    pub body: Json,
}

impl Delivery {
    /// The payload of one attempt, stamped with the time it is sent.
    pub fn payload(&self, sent_at: DateTime<Utc>) -> Json {
        json!({ "type": self.kind, "body": self.body, "sent_at": sent_at.timestamp() })
    }
}

/// What becomes of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// It is sent.
    Send,
    /// It is lost on the way: not sent, and not retried.
    Drop,
}

/// Sends deliveries in the background, with retries.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    config: DeliveryConfig,
    /// Deliveries handed over so far: the next one's place in the order.
    handed: Arc<AtomicU64>,
    dropped: Arc<Mutex<Vec<Delivery>>>,
}

/// A number from 0 to 1 drawn from `seed` and `n` alone (SplitMix64's finalizer): the same
/// pair gives the same draw whatever ran before.
fn draw(seed: u64, n: u64) -> f64 {
    let mut z = seed ^ n.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

impl Sender {
    /// A sender with this configuration.
    pub fn new(config: DeliveryConfig) -> Sender {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent("affinity-crm-emulator webhooks")
            .build()
            .unwrap_or_default();
        Sender {
            http,
            config,
            handed: Arc::new(AtomicU64::new(0)),
            dropped: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// What becomes of attempt `attempt` (1-based) of the delivery handed over `n`th (from
    /// 0): the one place where the drop rate decides. A delivery is dropped whole, on its
    /// first attempt; a retry is never dropped (a lost delivery is not retried at all).
    pub fn fate(&self, _d: &Delivery, n: u64, attempt: u32) -> Fate {
        let rate = self.config.drop_rate;
        if attempt == 1 && rate > 0.0 && draw(self.config.drop_seed, n) < rate {
            Fate::Drop
        } else {
            Fate::Send
        }
    }

    /// The deliveries dropped so far, in the order they were handed over.
    pub fn dropped(&self) -> Vec<Delivery> {
        self.dropped
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Sends `d`, the delivery handed over `n`th, until it is taken or the attempts run out;
    /// then disables its subscription (if the emulator still runs). Gives the number of
    /// attempts made and whether one succeeded (a dropped delivery counts as taken: the
    /// emulator does not know it was lost).
    pub async fn deliver(&self, d: &Delivery, n: u64, shared: &Weak<Shared>) -> (u32, bool) {
        let mut wait = self.config.backoff;
        for attempt in 1..=self.config.attempts.max(1) {
            let ok = match self.fate(d, n, attempt) {
                Fate::Drop => {
                    tracing::debug!(url = %d.url, kind = %d.kind, "webhook delivery dropped");
                    self.dropped
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(d.clone());
                    return (attempt, true);
                }
                Fate::Send => {
                    let r = self
                        .http
                        .post(&d.url)
                        .json(&d.payload(Utc::now()))
                        .send()
                        .await;
                    matches!(r, Ok(resp) if resp.status().is_success())
                }
            };
            if ok {
                return (attempt, true);
            }
            tracing::debug!(url = %d.url, kind = %d.kind, attempt, "webhook delivery failed");
            if attempt < self.config.attempts {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
        }
        if let Some(s) = shared.upgrade() {
            let mut st = s.tenant();
            if let Some(sub) = st.webhooks.get_mut(&d.subscription_id) {
                sub.disabled = true;
                sub.updated_at = Some(Utc::now());
            }
        }
        (self.config.attempts, false)
    }

    /// Sends `d` in the background; its place in the order is taken now, as it is handed
    /// over.
    pub fn spawn(&self, d: Delivery, shared: &Arc<Shared>) {
        let n = self.handed.fetch_add(1, Ordering::SeqCst);
        let sender = self.clone();
        let weak = Arc::downgrade(shared);
        tokio::spawn(async move {
            sender.deliver(&d, n, &weak).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_subscriptions_take_every_event_and_disabled_ones_none() {
        let mut s = Subscription {
            id: 1,
            url: "http://127.0.0.1:1/".into(),
            subscriptions: vec![],
            disabled: false,
            created_by: 1,
            created_at: Utc::now(),
            updated_at: None,
        };
        assert!(s.wants("person.created"));
        s.subscriptions = vec!["list_entry.created".into()];
        assert!(s.wants("list_entry.created"));
        assert!(!s.wants("person.created"));
        s.disabled = true;
        assert!(!s.wants("list_entry.created"));
    }

    fn delivery() -> Delivery {
        Delivery {
            subscription_id: 1,
            url: String::new(),
            kind: "person.created".into(),
            body: json!({"id": 1}),
        }
    }

    #[test]
    fn a_drop_rate_drops_that_share_by_seed_and_never_a_retry() {
        let sender = |rate: f64, seed: u64| {
            Sender::new(DeliveryConfig {
                drop_rate: rate,
                drop_seed: seed,
                ..Default::default()
            })
        };
        let d = delivery();
        let fates = |s: &Sender| (0..2000).map(|n| s.fate(&d, n, 1)).collect::<Vec<_>>();
        let s = sender(0.1, 7);
        let dropped = fates(&s).iter().filter(|f| **f == Fate::Drop).count();
        assert!(
            (150..250).contains(&dropped),
            "{dropped} of 2000 dropped at 0.1"
        );
        assert_eq!(
            fates(&s),
            fates(&sender(0.1, 7)),
            "a seed replays its drops"
        );
        assert_ne!(
            fates(&s),
            fates(&sender(0.1, 8)),
            "another seed drops others"
        );
        assert!((0..2000).all(|n| s.fate(&d, n, 2) == Fate::Send));
        assert!(fates(&sender(0.0, 7)).iter().all(|f| *f == Fate::Send));
        assert!(fates(&sender(1.0, 7)).iter().all(|f| *f == Fate::Drop));
    }

    #[test]
    fn payload_has_the_documented_keys() {
        let d = Delivery {
            subscription_id: 1,
            url: String::new(),
            kind: "person.created".into(),
            body: json!({"id": 1}),
        };
        let p = d.payload(DateTime::from_timestamp(1_636_645_209, 0).unwrap());
        assert_eq!(
            p,
            json!({"type": "person.created", "body": {"id": 1}, "sent_at": 1_636_645_209})
        );
    }
}
