//! What `affsync listen` keeps: its secret and subscription (`listener`), the durable queue of
//! webhook deliveries (`listen_events`), and the few mirror writes an event makes that a page
//! of a pull does not (an entry or an entity flagged gone on its own, entries moved to the
//! survivor of a merge). Schema: `migrations/*/0008_listen.sql`.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use affsync_core::journal::{DriftDetail, JournalEvent, Step};
use affsync_core::model::{EntryRow, Kind, RunId};

use super::journal::insert_events;
use super::mirror::entry_row;
use super::{col, time_text, Ctx, Store, StoreError};

/// The listener's row.
#[derive(Clone, PartialEq, Eq)]
pub struct ListenerRow {
    /// The secret path segment: never printed, never logged (`Debug` hides it).
    pub secret: String,
    pub subscription_id: Option<i64>,
    /// `scheme://host:port` it subscribed at, without the secret.
    pub origin: Option<String>,
    pub subscribed_at: Option<String>,
}

impl std::fmt::Debug for ListenerRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerRow")
            .field("secret", &"***")
            .field("subscription_id", &self.subscription_id)
            .field("origin", &self.origin)
            .field("subscribed_at", &self.subscribed_at)
            .finish()
    }
}

/// A delivery waiting in the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuedWebhook {
    pub id: i64,
    pub received_at: String,
    pub kind: String,
    pub sent_at: Option<i64>,
    pub payload: String,
}

/// The queue's figures, for `status`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QueueFigures {
    /// Received and not yet applied.
    pub queued: i64,
    /// Applied (or found to need nothing) since the time asked about.
    pub applied_since: i64,
    pub last_received_at: Option<String>,
    pub last_applied_at: Option<String>,
}

fn listener_from(r: &AnyRow) -> Result<ListenerRow, StoreError> {
    Ok(ListenerRow {
        secret: col(r, "secret")?,
        subscription_id: col(r, "subscription_id")?,
        origin: col(r, "origin")?,
        subscribed_at: col(r, "subscribed_at")?,
    })
}

impl Store {
    /// The listener's row, if a listener ever started on this mirror.
    pub async fn listener(&self) -> Result<Option<ListenerRow>, StoreError> {
        let row = sqlx::query(
            "SELECT secret, subscription_id, origin, subscribed_at FROM listener WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .ctx("reading the listener")?;
        row.as_ref().map(listener_from).transpose()
    }

    /// The listener's row, made with `secret` when there is none yet (a later start keeps the
    /// first secret, and so the URL Affinity has).
    pub async fn listener_or_new(
        &self,
        secret: &str,
        now: DateTime<Utc>,
    ) -> Result<ListenerRow, StoreError> {
        sqlx::query(
            "INSERT INTO listener (id, secret, created_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING",
        )
        .bind(secret)
        .bind(time_text(now))
        .execute(&self.pool)
        .await
        .ctx("writing the listener")?;
        self.listener()
            .await?
            .ok_or_else(|| StoreError::Corrupt("the listener row vanished".into()))
    }

    /// Records the listener's subscription (or, with `None`, that it has none).
    pub async fn set_listener_subscription(
        &self,
        subscription: Option<(i64, &str)>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE listener SET subscription_id = $1, origin = $2, subscribed_at = $3 WHERE id = 1",
        )
        .bind(subscription.map(|s| s.0))
        .bind(subscription.map(|s| s.1.to_string()))
        .bind(subscription.map(|_| time_text(now)))
        .execute(&self.pool)
        .await
        .ctx("writing the listener's subscription")?;
        Ok(())
    }

    /// Puts a delivery in the queue; gives its place.
    pub async fn enqueue_webhook(
        &self,
        kind: &str,
        sent_at: Option<i64>,
        payload: &str,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO listen_events (received_at, kind, sent_at, payload) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(time_text(now))
        .bind(kind)
        .bind(sent_at)
        .bind(payload)
        .fetch_one(&self.pool)
        .await
        .ctx("queueing a webhook delivery")?;
        col(&row, "id")
    }

    /// The deliveries not yet applied, oldest first.
    pub async fn queued_webhooks(&self, limit: i64) -> Result<Vec<QueuedWebhook>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, received_at, kind, sent_at, payload FROM listen_events WHERE applied_at IS NULL ORDER BY id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .ctx("reading the webhook queue")?;
        rows.iter()
            .map(|r| {
                Ok(QueuedWebhook {
                    id: col(r, "id")?,
                    received_at: col(r, "received_at")?,
                    kind: col(r, "kind")?,
                    sent_at: col(r, "sent_at")?,
                    payload: col(r, "payload")?,
                })
            })
            .collect()
    }

    /// Takes a delivery off the queue with what became of it (the journal step's name).
    pub async fn settle_webhook(
        &self,
        id: i64,
        outcome: &Step,
        run: RunId,
        reads: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE listen_events SET applied_at = $1, outcome = $2, run_id = $3, reads = $4 WHERE id = $5",
        )
        .bind(time_text(now))
        .bind(outcome.name())
        .bind(run.0)
        .bind(reads as i64)
        .bind(id)
        .execute(&self.pool)
        .await
        .ctx("settling a webhook delivery")?;
        Ok(())
    }

    /// The queue's depth and what was applied since `since`.
    pub async fn webhook_figures(&self, since: DateTime<Utc>) -> Result<QueueFigures, StoreError> {
        let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM listen_events WHERE applied_at IS NULL) AS queued, \
             (SELECT COUNT(*) FROM listen_events WHERE applied_at >= $1) AS applied, \
             (SELECT MAX(received_at) FROM listen_events) AS last_received, \
             (SELECT MAX(applied_at) FROM listen_events) AS last_applied",
        )
        .bind(time_text(since))
        .fetch_one(&self.pool)
        .await
        .ctx("reading the webhook queue")?;
        Ok(QueueFigures {
            queued: col(&row, "queued")?,
            applied_since: col(&row, "applied")?,
            last_received_at: col(&row, "last_received")?,
            last_applied_at: col(&row, "last_applied")?,
        })
    }

    /// The last reconciliation's drift, and when it was found.
    pub async fn last_drift(&self) -> Result<Option<(String, DriftDetail)>, StoreError> {
        let name = Step::Drift(DriftDetail::default()).name();
        let row = sqlx::query(
            "SELECT run_id, at, record, step, detail FROM events WHERE step = $1 ORDER BY id DESC LIMIT 1",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading the last reconciliation")?;
        let Some(row) = row else { return Ok(None) };
        let e = super::journal::event_from_row(&row)?;
        Ok(match e.event.step {
            Step::Drift(d) => Some((e.at, d)),
            _ => None,
        })
    }

    /// A list entry, and whether it is gone.
    pub async fn entry_with_gone(&self, id: i64) -> Result<Option<(EntryRow, bool)>, StoreError> {
        let row = sqlx::query(
            "SELECT id, list_id, entity_kind, entity_id, created_at, creator_id, gone_at FROM list_entries WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
        .ctx("reading a list entry")?;
        row.as_ref()
            .map(|r| {
                let gone: Option<String> = col(r, "gone_at")?;
                Ok((entry_row(r)?, gone.is_some()))
            })
            .transpose()
    }

    /// The live entries that hold an entity, on any list, by id.
    pub async fn live_entries_of(&self, kind: Kind, id: i64) -> Result<Vec<EntryRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, list_id, entity_kind, entity_id, created_at, creator_id FROM list_entries \
             WHERE entity_kind = $1 AND entity_id = $2 AND gone_at IS NULL ORDER BY id",
        )
        .bind(kind.as_str())
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .ctx("reading an entity's list entries")?;
        rows.iter().map(entry_row).collect()
    }

    /// Flags live list entries gone (Affinity removed them), each journaled as removed from
    /// its list; gives the ids flagged (those already gone are left as they are).
    pub async fn flag_entries_gone_by_id(
        &self,
        run: RunId,
        ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let now_s = time_text(now);
        let mut tx = self.write_tx("flagging an entry gone").await?;
        let conn: &mut AnyConnection = &mut tx;
        let mut flagged = Vec::new();
        let mut events = Vec::new();
        for id in ids {
            let row = sqlx::query(
                "UPDATE list_entries SET gone_at = $1, last_seen_at = $1 WHERE id = $2 AND gone_at IS NULL RETURNING list_id",
            )
            .bind(now_s.clone())
            .bind(*id)
            .fetch_optional(&mut *conn)
            .await
            .ctx("flagging an entry gone")?;
            if let Some(r) = row {
                let list: i64 = col(&r, "list_id")?;
                flagged.push(*id);
                events.push(JournalEvent::new(
                    format!("entry:{id}"),
                    Step::Removed { list: Some(list) },
                ));
            }
        }
        if !events.is_empty() {
            insert_events(conn, self.backend, run, &events, now).await?;
        }
        tx.commit().await.ctx("flagging an entry gone")?;
        Ok(flagged)
    }

    /// Moves the live entries of `old` to `new` (Affinity moves a merged entity's entries to
    /// the survivor, their ids and list values kept), each journaled as changed; gives them.
    pub async fn move_entries(
        &self,
        run: RunId,
        kind: Kind,
        old: i64,
        new: i64,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let moved: Vec<i64> = self
            .live_entries_of(kind, old)
            .await?
            .iter()
            .map(|e| e.id)
            .collect();
        if moved.is_empty() {
            return Ok(moved);
        }
        let mut tx = self
            .write_tx("moving entries to a merge's survivor")
            .await?;
        let conn: &mut AnyConnection = &mut tx;
        sqlx::query(
            "UPDATE list_entries SET entity_id = $1, changed_at = $2 WHERE entity_kind = $3 AND entity_id = $4 AND gone_at IS NULL",
        )
        .bind(new)
        .bind(time_text(now))
        .bind(kind.as_str())
        .bind(old)
        .execute(&mut *conn)
        .await
        .ctx("moving entries to a merge's survivor")?;
        let events: Vec<JournalEvent> = moved
            .iter()
            .map(|id| {
                JournalEvent::new(
                    format!("entry:{id}"),
                    Step::Changed {
                        changed: vec![format!("entity {kind}:{old} → {kind}:{new}")],
                        name: None,
                    },
                )
            })
            .collect();
        insert_events(conn, self.backend, run, &events, now).await?;
        tx.commit()
            .await
            .ctx("moving entries to a merge's survivor")?;
        Ok(moved)
    }

    /// An entity's name as people read it (a person's first and last name, else email).
    pub async fn entity_name(&self, kind: Kind, id: i64) -> Result<Option<String>, StoreError> {
        let sql = match kind {
            Kind::Organization => "SELECT name AS a, CAST(NULL AS TEXT) AS b, CAST(NULL AS TEXT) AS c FROM organizations WHERE id = $1",
            Kind::Person => {
                "SELECT first_name AS a, last_name AS b, primary_email AS c FROM persons WHERE id = $1"
            }
            Kind::Opportunity => "SELECT name AS a, CAST(NULL AS TEXT) AS b, CAST(NULL AS TEXT) AS c FROM opportunities WHERE id = $1",
        };
        let row = sqlx::query(sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading an entity's name")?;
        let Some(r) = row else { return Ok(None) };
        let parts: Vec<String> = [
            col::<Option<String>>(&r, "a")?,
            col::<Option<String>>(&r, "b")?,
        ]
        .into_iter()
        .flatten()
        .filter(|s| !s.trim().is_empty())
        .collect();
        Ok(if parts.is_empty() {
            col::<Option<String>>(&r, "c")?
        } else {
            Some(parts.join(" "))
        })
    }

    /// Whether an entity is in the mirror and live.
    pub async fn entity_is_live(&self, kind: Kind, id: i64) -> Result<bool, StoreError> {
        let table = match kind {
            Kind::Organization => "organizations",
            Kind::Person => "persons",
            Kind::Opportunity => "opportunities",
        };
        let sql = format!("SELECT id FROM {table} WHERE id = $1 AND gone_at IS NULL");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .ctx("reading an entity")?;
        Ok(row.is_some())
    }
}
