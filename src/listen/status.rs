//! The listener's state for `affsync status`: subscribed or not, its last event, the events
//! applied today (UTC), the queue's depth, and the drift the last reconciliation found.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::store::{Store, StoreError};
use affsync_core::journal::DriftDetail;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListenerStatus {
    /// A listener has run on this mirror.
    pub set_up: bool,
    pub subscribed: bool,
    pub subscription: Option<i64>,
    /// Where Affinity posts (no secret).
    pub origin: Option<String>,
    pub subscribed_at: Option<String>,
    pub last_event_at: Option<String>,
    pub events_today: i64,
    pub queued: i64,
    pub drift: Option<Drift>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drift {
    pub at: String,
    #[serde(flatten)]
    pub detail: DriftDetail,
}

/// The listener's state at `now`.
pub async fn status(store: &Store, now: DateTime<Utc>) -> Result<ListenerStatus, StoreError> {
    let l = store.listener().await?;
    let midnight = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc())
        .unwrap_or(now);
    let q = store.webhook_figures(midnight).await?;
    let drift = store
        .last_drift()
        .await?
        .map(|(at, detail)| Drift { at, detail });
    Ok(ListenerStatus {
        set_up: l.is_some(),
        subscribed: l.as_ref().is_some_and(|l| l.subscription_id.is_some()),
        subscription: l.as_ref().and_then(|l| l.subscription_id),
        origin: l.as_ref().and_then(|l| l.origin.clone()),
        subscribed_at: l.as_ref().and_then(|l| l.subscribed_at.clone()),
        last_event_at: q.last_received_at,
        events_today: q.applied_since,
        queued: q.queued,
        drift,
    })
}

/// The listener's lines under the jobs' table.
pub fn render(s: &ListenerStatus) -> String {
    if !s.set_up && s.drift.is_none() {
        return "listener: never started (`affsync listen`)\n".into();
    }
    let mut out = String::new();
    match (s.subscription, &s.origin) {
        (Some(id), Some(o)) => out.push_str(&format!(
            "listener: subscribed (webhook {id}, {o}/…, since {})\n",
            s.subscribed_at.as_deref().unwrap_or("?")
        )),
        (Some(id), None) => out.push_str(&format!("listener: subscribed (webhook {id})\n")),
        _ => out.push_str("listener: not subscribed\n"),
    }
    out.push_str(&format!(
        "  last event {}, {} applied today, {} queued\n",
        s.last_event_at.as_deref().unwrap_or("never"),
        s.events_today,
        s.queued
    ));
    match &s.drift {
        Some(d) => out.push_str(&format!(
            "  drift at the last reconciliation ({}): {} of {} entries ({} new, {} changed, {} removed)\n",
            d.at, d.detail.drift, d.detail.entries, d.detail.new, d.detail.changed, d.detail.removed
        )),
        None => out.push_str("  no reconciliation yet (a `{ reconcile = [...] }` job step)\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lines_say_what_a_person_needs() {
        let mut s = ListenerStatus {
            set_up: true,
            subscribed: true,
            subscription: Some(12),
            origin: Some("http://127.0.0.1:8790".into()),
            subscribed_at: Some("2026-11-21T09:30:00.000Z".into()),
            last_event_at: Some("2026-11-21T10:00:00.000Z".into()),
            events_today: 42,
            queued: 1,
            drift: Some(Drift {
                at: "2026-11-21T02:00:00.000Z".into(),
                detail: DriftDetail {
                    entries: 5000,
                    new: 1,
                    changed: 2,
                    drift: 3,
                    ..Default::default()
                },
            }),
        };
        let r = render(&s);
        assert!(
            r.contains("subscribed (webhook 12, http://127.0.0.1:8790/…"),
            "{r}"
        );
        assert!(r.contains("42 applied today, 1 queued"), "{r}");
        assert!(
            r.contains("3 of 5000 entries (1 new, 2 changed, 0 removed)"),
            "{r}"
        );
        s.subscription = None;
        s.drift = None;
        let r = render(&s);
        assert!(r.contains("not subscribed"), "{r}");
        assert!(r.contains("no reconciliation yet"), "{r}");
    }
}
