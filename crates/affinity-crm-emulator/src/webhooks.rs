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
//! What becomes of each attempt is decided in one place, [`Sender::fate`], so that a seeded
//! drop rate (deliveries lost on the way, for rehearsing a listener's recovery) can be added
//! there without touching the handlers or the retry loop.

use std::sync::{Arc, Weak};
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
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            attempts: 5,
            backoff: Duration::from_millis(200),
            timeout: Duration::from_secs(5),
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
}

/// Sends deliveries in the background, with retries.
#[derive(Clone)]
pub struct Sender {
    http: reqwest::Client,
    config: DeliveryConfig,
}

impl Sender {
    /// A sender with this configuration.
    pub fn new(config: DeliveryConfig) -> Sender {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .user_agent("affinity-crm-emulator webhooks")
            .build()
            .unwrap_or_default();
        Sender { http, config }
    }

    /// What becomes of attempt `attempt` (1-based) of `d`: the one place where a drop rate
    /// would decide.
    pub fn fate(&self, _d: &Delivery, _attempt: u32) -> Fate {
        Fate::Send
    }

    /// Sends `d` until it is taken or the attempts run out; then disables its subscription
    /// (if the emulator still runs). Gives the number of attempts made and whether one
    /// succeeded.
    pub async fn deliver(&self, d: &Delivery, shared: &Weak<Shared>) -> (u32, bool) {
        let mut wait = self.config.backoff;
        for attempt in 1..=self.config.attempts.max(1) {
            let ok = match self.fate(d, attempt) {
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

    /// Sends `d` in the background.
    pub fn spawn(&self, d: Delivery, shared: &Arc<Shared>) {
        let sender = self.clone();
        let weak = Arc::downgrade(shared);
        tokio::spawn(async move {
            sender.deliver(&d, &weak).await;
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
