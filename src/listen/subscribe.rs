//! The listener's webhook subscription (v1 `/webhook`, affinity-api.md §5): made once, found
//! again at each start (by the id the mirror keeps, else by its secret in the URL) and brought
//! up to date (a new port, switched back on after Affinity disabled it for failed deliveries),
//! never made twice. A tenant has at most 3; when others hold all of them the listener says
//! which, and stops.
//!
//! v1 is used because it is generally available; v2's `/v2/webhooks` is a beta (2026-09-08) and
//! keeps the same subscriptions.

use chrono::Utc;

use super::{redact, ListenError, HOOK_PREFIX};
use crate::store::journal::Run;
use crate::store::listen::ListenerRow;
use crate::store::Store;
use affinity_crm::v1::{NewWebhook, Webhook, WebhookUpdate};
use affinity_crm::{Client, WebhookId};
use affsync_core::journal::{JournalEvent, Step};

/// The events the mirror follows: list entries coming and going, field values, the entities
/// and opportunities the lists hold, the lists and the field catalog. Creations of entities are
/// left out: a new entity is on no list, and its `list_entry.created` brings it.
pub const EVENTS: &[&str] = &[
    "field.created",
    "field.deleted",
    "field.updated",
    "field_value.created",
    "field_value.deleted",
    "field_value.updated",
    "list.created",
    "list.deleted",
    "list.updated",
    "list_entry.created",
    "list_entry.deleted",
    "opportunity.deleted",
    "opportunity.updated",
    "organization.deleted",
    "organization.merged",
    "organization.updated",
    "person.deleted",
    "person.updated",
];

/// The URL subscribed: the origin (or the public URL's path), `/hooks/<secret>`, and the
/// token when there is one.
pub fn hook_url(
    origin: &str,
    public: Option<&url::Url>,
    secret: &str,
    token: Option<&str>,
) -> String {
    let base = match public {
        Some(u) => u.as_str().trim_end_matches('/').to_string(),
        None => origin.to_string(),
    };
    let mut url = format!("{base}{HOOK_PREFIX}{secret}");
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        let q: String = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("token", t)
            .finish();
        url.push('?');
        url.push_str(&q);
    }
    url
}

/// A subscription as a person reads it, without what its URL's path may hide: `12 (https://
/// hooks.example.com/…, made by user 7)`.
pub fn describe(w: &Webhook) -> String {
    let place = url::Url::parse(&w.webhook_url)
        .map(|u| format!("{}/…", u.origin().ascii_serialization()))
        .unwrap_or_else(|_| "an unreadable URL".into());
    let by = w
        .created_by
        .map(|p| format!(", made by user {}", p.0))
        .unwrap_or_default();
    let off = if w.disabled { ", disabled" } else { "" };
    format!("{} ({place}{by}{off})", w.id.0)
}

fn is_ours(w: &Webhook, listener: &ListenerRow) -> bool {
    listener.subscription_id == Some(w.id.0)
        || w.webhook_url
            .contains(&format!("{HOOK_PREFIX}{}", listener.secret))
}

/// Finds or makes the listener's subscription at `url`; gives its id and whether it was kept
/// from an earlier start.
pub async fn ensure(
    client: &Client,
    store: &Store,
    run: &Run,
    url: &str,
    origin: &str,
    secret: &str,
) -> Result<(i64, bool), ListenError> {
    let listener = store
        .listener()
        .await?
        .ok_or_else(|| ListenError::Api("the listener's row is missing".into()))?;
    let api = |e: affinity_crm::Error| ListenError::api(&e, secret);
    let all = client.webhooks_v1().await.map_err(api)?;
    let wanted: Vec<String> = super::subscribe::EVENTS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let (id, reused) = match all.iter().find(|w| is_ours(w, &listener)) {
        Some(w) => {
            let mut sorted = w.subscriptions.clone();
            sorted.sort();
            if w.webhook_url != url || w.disabled || sorted != wanted {
                client
                    .update_webhook_v1(
                        w.id,
                        &WebhookUpdate {
                            webhook_url: Some(url.to_string()),
                            subscriptions: Some(wanted.clone()),
                            disabled: Some(false),
                        },
                    )
                    .await
                    .map_err(api)?;
            }
            (w.id.0, true)
        }
        None if all.len() >= 3 => {
            return Err(ListenError::SubscriptionsFull {
                others: all.iter().map(describe).collect(),
            })
        }
        None => {
            let w = client
                .create_webhook_v1(&NewWebhook {
                    webhook_url: url.to_string(),
                    subscriptions: wanted.clone(),
                })
                .await
                .map_err(api)?;
            (w.id.0, false)
        }
    };
    store
        .set_listener_subscription(Some((id, origin)), Utc::now())
        .await?;
    run.events(&[JournalEvent::new(
        format!("webhook-subscription:{id}"),
        Step::Subscribed {
            subscription: id,
            events: wanted,
            reused,
        },
    )])
    .await?;
    Ok((id, reused))
}

/// Removes the listener's subscription (found as [`ensure`] finds it); gives its id.
pub async fn remove(
    client: &Client,
    store: &Store,
    run: &Run,
    listener: &ListenerRow,
) -> Result<i64, ListenError> {
    let api = |e: affinity_crm::Error| ListenError::Api(redact(&e.to_string(), &listener.secret));
    let all = client.webhooks_v1().await.map_err(api)?;
    let Some(w) = all.iter().find(|w| is_ours(w, listener)) else {
        store.set_listener_subscription(None, Utc::now()).await?;
        return Err(ListenError::NotSubscribed);
    };
    let id: WebhookId = w.id;
    client.delete_webhook_v1(id).await.map_err(api)?;
    store.set_listener_subscription(None, Utc::now()).await?;
    run.events(&[JournalEvent::new(
        format!("webhook-subscription:{}", id.0),
        Step::Unsubscribed { subscription: id.0 },
    )])
    .await?;
    Ok(id.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_are_sorted_and_affinitys() {
        let mut sorted = EVENTS.to_vec();
        sorted.sort();
        assert_eq!(
            sorted, EVENTS,
            "kept sorted: a restart compares them as a set"
        );
        for e in EVENTS {
            assert!(
                affinity_crm_emulator::webhooks::EVENTS.contains(e),
                "{e} is not an event Affinity sends"
            );
        }
    }

    #[test]
    fn the_url_carries_the_secret_and_the_token_and_a_description_neither() {
        let public = url::Url::parse("https://hooks.example.com/affsync/").unwrap();
        let u = hook_url(
            "https://hooks.example.com",
            Some(&public),
            "s3cr3t",
            Some("t k"),
        );
        assert_eq!(
            u,
            "https://hooks.example.com/affsync/hooks/s3cr3t?token=t+k"
        );
        let u = hook_url("http://127.0.0.1:5000", None, "s3cr3t", None);
        assert_eq!(u, "http://127.0.0.1:5000/hooks/s3cr3t");
        let w = Webhook {
            id: WebhookId(12),
            webhook_url: "https://other.example.com/in/their-secret".into(),
            subscriptions: vec![],
            disabled: true,
            created_by: Some(affinity_crm::PersonId(7)),
        };
        let d = describe(&w);
        assert_eq!(
            d,
            "12 (https://other.example.com/…, made by user 7, disabled)"
        );
        assert!(!d.contains("their-secret"));
    }
}
