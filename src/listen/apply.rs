//! The applier: takes the queue in order and brings the mirror up to date, one event at a time.
//!
//! An event is first turned into an [`Action`] by looking at the mirror only (no call): which
//! entry to read again, or what to flag gone. Then the action runs with at most one targeted
//! read, the list entry with every field (the same read a pull makes, one entry instead of a
//! page), so that what the mirror holds afterwards is what a pull would store:
//!
//! | event | action | reads |
//! |---|---|---|
//! | `list_entry.created` | read the entry | 1 |
//! | `field_value.*` | read the entry the value is on (a global value: any entry of its entity) | 1 |
//! | `field_value.created`, `.updated` of a single-valued field whose value the mirror holds (the echo of affsync's own write) | none | 0 |
//! | `organization.updated`, `person.updated`, `opportunity.updated` | read one entry of the entity | 1 |
//! | `list_entry.deleted` | flag the entry gone | 0 |
//! | `organization.deleted`, `person.deleted`, `opportunity.deleted` | flag it and its entries gone | 0 |
//! | `organization.merged` | move its entries to the survivor, flag it merged, read one of them | 1 |
//! | `list.*` | read the lists | 1 |
//! | `field.*` | read the list's field catalog (a global field: each pulled list of its kind) | 1 |
//! | anything else | journaled as not followed | 0 |
//!
//! Why this is idempotent and order-proof: nothing is written from an event's body but
//! deletions, and deletions are final (Affinity never reuses an id). Every other event makes
//! the applier read the record's current state, so the same event twice writes the same state
//! twice (the second time, nothing: the mirror writes only differences), and an older event
//! applied after a newer one reads the newer state. And it costs no more than needed: the
//! events of one batch were all received before the batch was read from the queue, so once an
//! entry has been read for one of them, the others about the same entry are already covered
//! and are settled without a call (`already_read`). `sent_at` is journaled, not trusted: it is
//! the time of a delivery attempt, in seconds, on Affinity's clock.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::Utc;
use futures::TryStreamExt;
use serde::Serialize;
use serde_json::Value as Json;
use tokio::sync::{watch, Notify};

use super::enrich::Enrichers;
use super::ListenError;
use crate::pull::{field_row, page_data, ENTRY_FIELD_TYPES};
use crate::store::listen::QueuedWebhook;
use crate::store::{Store, StoreError};
use affinity_crm::v1;
use affinity_crm::v2::ListEntryWithEntity;
use affinity_crm::{Client, Error as ApiError, Request};
use affsync_core::journal::{JournalEvent, Step, WebhookDetail, WebhookSkip};
use affsync_core::model::{EntryRow, FieldRow, Kind, Owner, RunId, ValueItem};

/// Deliveries taken from the queue at once.
const BATCH: i64 = 200;

/// How long the applier waits, once woken by a delivery, for the rest of its burst: one write
/// in Affinity can announce several events at once (an entry deleted announces its values
/// deleted first, then itself), sent in parallel; taken in one batch, the entry's deletion
/// settles its values' events without a read of an entry that is gone.
const COALESCE: Duration = Duration::from_millis(150);

/// What the listener did, for its run's counts and `--json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListenCounts {
    /// Events taken off the queue (applied, skipped or failed).
    pub events: u64,
    pub applied: u64,
    pub skipped: u64,
    /// Events whose read Affinity refused (journaled as failed, taken off the queue).
    pub failed: u64,
    /// Reads of Affinity the events took.
    pub reads: u64,
    /// Entries new in the mirror, changed, flagged gone.
    pub entries_new: u64,
    pub entries_changed: u64,
    pub entries_removed: u64,
    /// The enrichment loop: records pushed, records the source lacks.
    pub enriched: u64,
    pub not_in_source: u64,
}

/// What an event comes down to.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Read the entry with every field and store it.
    ReadEntry { list: i64, entry: i64 },
    /// Flag the entry gone.
    EntryGone { entry: i64 },
    /// Flag the entity and its entries gone.
    EntityGone { kind: Kind, id: i64 },
    /// Move the entries of `old` to `new`, flag `old` merged, read one of the entries.
    Merged { kind: Kind, old: i64, new: i64 },
    /// Read the lists.
    ReadLists,
    /// Read the field catalog of these lists; the event's field in v1's shape, when it gives
    /// one.
    ReadFields {
        lists: Vec<i64>,
        field: Option<Box<v1::Field>>,
    },
}

/// An event's action, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Plan {
    Do(Action),
    Skip(WebhookSkip),
}

/// One delivery as the applier reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: String,
    pub body: Json,
}

impl Event {
    /// The delivery's type and body; a payload that is not an object reads as an event of no
    /// type (journaled as not followed).
    pub fn parse(payload: &str) -> Event {
        let v: Json = serde_json::from_str(payload).unwrap_or(Json::Null);
        Event {
            kind: v
                .get("type")
                .and_then(Json::as_str)
                .unwrap_or_default()
                .to_string(),
            body: v.get("body").cloned().unwrap_or(Json::Null),
        }
    }

    fn int(&self, path: &[&str]) -> Option<i64> {
        let mut v = &self.body;
        for k in path {
            v = v.get(*k)?;
        }
        v.as_i64()
    }
}

/// v1's entity type codes (0 person, 1 organization, 8 opportunity).
fn kind_of_code(code: i64) -> Option<Kind> {
    match code {
        0 => Some(Kind::Person),
        1 => Some(Kind::Organization),
        8 => Some(Kind::Opportunity),
        _ => None,
    }
}

/// The entry to read for an entity's change: any live entry of it (they share its row and its
/// global values) on a pulled list.
async fn entry_of_entity(store: &Store, kind: Kind, id: i64) -> Result<Plan, StoreError> {
    for e in store.live_entries_of(kind, id).await? {
        if store.last_pulled_at(e.list_id).await?.is_some() {
            return Ok(Plan::Do(Action::ReadEntry {
                list: e.list_id,
                entry: e.id,
            }));
        }
    }
    Ok(Plan::Skip(WebhookSkip::NotMirrored))
}

/// What an event comes down to, from the mirror alone.
pub async fn plan(store: &Store, ev: &Event) -> Result<Plan, StoreError> {
    use Plan::Skip;
    let unreadable = Ok(Skip(WebhookSkip::Unreadable));
    let (object, action) = ev.kind.split_once('.').unwrap_or((&ev.kind, ""));
    match (object, action) {
        ("list_entry", "created") => {
            let (Some(entry), Some(list)) = (ev.int(&["id"]), ev.int(&["list_id"])) else {
                return unreadable;
            };
            if let Some((_, true)) = store.entry_with_gone(entry).await? {
                return Ok(Skip(WebhookSkip::AlreadyGone));
            }
            if store.last_pulled_at(list).await?.is_none() {
                return Ok(Skip(WebhookSkip::NotMirrored));
            }
            Ok(Plan::Do(Action::ReadEntry { list, entry }))
        }
        ("list_entry", "deleted") => {
            let Some(entry) = ev.int(&["id"]) else {
                return unreadable;
            };
            Ok(match store.entry_with_gone(entry).await? {
                Some((_, false)) => Plan::Do(Action::EntryGone { entry }),
                Some((_, true)) => Skip(WebhookSkip::AlreadyGone),
                None => Skip(WebhookSkip::NotMirrored),
            })
        }
        ("field_value", "created" | "updated" | "deleted") => {
            let announces = action != "deleted";
            if let Some(entry) = ev.int(&["list_entry_id"]) {
                return Ok(match store.entry_with_gone(entry).await? {
                    Some((_, false))
                        if announces && holds_value(store, Owner::Entry(entry), ev).await? =>
                    {
                        Skip(WebhookSkip::AlreadyHeld)
                    }
                    Some((e, false)) => Plan::Do(Action::ReadEntry {
                        list: e.list_id,
                        entry,
                    }),
                    Some((_, true)) => Skip(WebhookSkip::AlreadyGone),
                    None => Skip(WebhookSkip::NotMirrored),
                });
            }
            let Some(entity) = ev.int(&["entity_id"]) else {
                return unreadable;
            };
            let kinds: Vec<Kind> = match ev
                .int(&["entity_type"])
                .or_else(|| ev.int(&["field", "entity_type"]))
                .and_then(kind_of_code)
            {
                Some(k) => vec![k],
                None => Kind::ALL.to_vec(),
            };
            for k in kinds {
                if announces && holds_value(store, Owner::Entity(k, entity), ev).await? {
                    return Ok(Skip(WebhookSkip::AlreadyHeld));
                }
                if let Plan::Do(a) = entry_of_entity(store, k, entity).await? {
                    return Ok(Plan::Do(a));
                }
            }
            Ok(Skip(WebhookSkip::NotMirrored))
        }
        (obj @ ("organization" | "person" | "opportunity"), "updated" | "deleted") => {
            let kind = Kind::parse(obj).expect("one of the three kinds");
            let Some(id) = ev.int(&["id"]) else {
                return unreadable;
            };
            if action == "updated" {
                return entry_of_entity(store, kind, id).await;
            }
            if store.entity_is_live(kind, id).await? {
                Ok(Plan::Do(Action::EntityGone { kind, id }))
            } else if store.live_entries_of(kind, id).await?.is_empty() {
                Ok(Skip(WebhookSkip::NotMirrored))
            } else {
                Ok(Plan::Do(Action::EntityGone { kind, id }))
            }
        }
        ("organization", "merged") => {
            let (Some(old), Some(new)) = (
                ev.int(&["removed_company", "id"]),
                ev.int(&["company", "id"]),
            ) else {
                return unreadable;
            };
            let kind = Kind::Organization;
            if store.entity_is_live(kind, old).await?
                || !store.live_entries_of(kind, old).await?.is_empty()
            {
                Ok(Plan::Do(Action::Merged { kind, old, new }))
            } else {
                // Not mirrored: the survivor's own entries (if any) bring its values with their
                // field value events.
                Ok(Skip(WebhookSkip::NotMirrored))
            }
        }
        ("list", "created" | "updated" | "deleted") => Ok(Plan::Do(Action::ReadLists)),
        ("field", "created" | "updated" | "deleted") => {
            let field: Option<v1::Field> = serde_json::from_value(ev.body.clone()).ok();
            let list = ev.int(&["list_id"]);
            let mut lists = Vec::new();
            match list {
                Some(l) => {
                    if store.last_pulled_at(l).await?.is_some() {
                        lists.push(l);
                    }
                }
                None => {
                    // A global field shows on every list of its kind.
                    let kind = ev.int(&["entity_type"]).and_then(kind_of_code);
                    for l in store.lists().await? {
                        if kind.is_none_or(|k| k == l.kind)
                            && store.last_pulled_at(l.id).await?.is_some()
                        {
                            lists.push(l.id);
                        }
                    }
                }
            }
            if lists.is_empty() {
                return Ok(Skip(WebhookSkip::NotMirrored));
            }
            Ok(Plan::Do(Action::ReadFields {
                lists,
                field: field.map(Box::new),
            }))
        }
        _ => Ok(Skip(WebhookSkip::NotFollowed)),
    }
}

/// Whether the mirror already holds the value a `field_value.created` or `.updated` event
/// announces (its v1 body: `field_id`, `value_type`, `value`), on the owner it names. Such an
/// event needs no read: it is the echo of affsync's own write (a push, the enrichment loop's
/// among them, records what it wrote in the mirror), or a delivery repeated. Skipping it writes
/// nothing, so it cannot put older state over newer: if the field changed again since, that
/// change announces a value the mirror does not hold, and is read. Only the value types whose
/// v1 shape says all that a pull stores are compared (numbers, text, dates, person and
/// organization ids), on single-valued fields only; any other is read. A multi-valued field is
/// always read: one of its values announced says nothing of the others (a value changed to
/// one the field already held would look held).
async fn holds_value(store: &Store, owner: Owner, ev: &Event) -> Result<bool, StoreError> {
    let (Some(field), Some(value_type)) = (ev.int(&["field_id"]), ev.int(&["value_type"])) else {
        return Ok(false);
    };
    let Some(value) = ev.body.get("value").filter(|v| !v.is_null()) else {
        return Ok(false);
    };
    let key = format!("field-{field}");
    let values = store.owner_values(owner).await?;
    let Some(items) = values.get(&key) else {
        return Ok(false);
    };
    // Whether the field holds several values: the body's `field` says (Affinity sends it,
    // fixtures/affinity/webhook-payloads/), else the mirror's catalog; not known is several.
    let multiple = match ev
        .body
        .pointer("/field/allows_multiple")
        .and_then(Json::as_bool)
    {
        Some(m) => m,
        None => store
            .fields_with_gone()
            .await?
            .into_iter()
            .find(|(f, _)| f.id == key)
            .is_none_or(|(f, _)| f.allows_multiple),
    };
    if multiple || items.len() != 1 {
        return Ok(false);
    }
    Ok(same_value(value_type, value, &items[0]))
}

/// Whether a v1 field value (`value_type` by v1's codes, affinity-api.md §2.1) is the mirror's
/// item.
fn same_value(value_type: i64, v: &Json, item: &ValueItem) -> bool {
    let instant = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    match value_type {
        // A person, an organization: by id.
        0 | 1 => v.as_i64().is_some_and(|id| item.ref_id == Some(id)),
        3 => v.as_f64().is_some_and(|n| item.number == Some(n)),
        // v1 gives local offsets, the mirror UTC: the same instant.
        4 => match (
            v.as_str().and_then(instant),
            item.at.as_deref().and_then(instant),
        ) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        6 => v.as_str().is_some_and(|s| item.text.as_deref() == Some(s)),
        _ => false,
    }
}

/// What one action did.
#[derive(Debug, Clone, Default)]
pub struct Done {
    pub reads: u64,
    pub new: u64,
    pub changed: u64,
    pub removed: u64,
    /// An entry the mirror did not hold before (for the enrichment loop).
    pub landed: Option<EntryRow>,
}

/// Why an event could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// `GET /v2/lists/{list}/list-entries/{entry}` with every field (the spec's `fieldTypes`).
pub async fn read_entry(
    client: &Client,
    list: i64,
    entry: i64,
) -> Result<ListEntryWithEntity, ApiError> {
    let mut r = Request::get(format!("/v2/lists/{list}/list-entries/{entry}"));
    for t in ENTRY_FIELD_TYPES {
        r = r.query("fieldTypes", t);
    }
    client.json(r, "a list entry").await
}

/// A field row from a fresh v2 catalog: from the event's v1 field for that field, else from
/// what the mirror knows of the v1 half (what v2 does not say: list, entity, options, ...).
fn catalog_row(
    meta: &affinity_crm::v2::FieldMetadata,
    event_field: Option<&v1::Field>,
    stored: Option<&FieldRow>,
) -> FieldRow {
    let mut v1s = BTreeMap::new();
    if let Some(f) = event_field.filter(|f| meta.id.0 == format!("field-{}", f.id.0)) {
        v1s.insert(f.id.0, f.clone());
        return field_row(meta, &v1s);
    }
    let mut row = field_row(meta, &v1s);
    if let Some(s) = stored {
        row.list_id = s.list_id;
        row.entity_kind = s.entity_kind;
        row.allows_multiple = s.allows_multiple || row.allows_multiple;
        row.enrichment_source = row
            .enrichment_source
            .or_else(|| s.enrichment_source.clone());
        row.track_changes = s.track_changes;
        row.options = s.options.clone();
    }
    row
}

/// Applies the queue.
pub struct Applier<'a> {
    client: &'a Client,
    store: &'a Store,
    run: RunId,
    enrich: &'a Enrichers,
    secret: &'a str,
    counts: ListenCounts,
}

impl<'a> Applier<'a> {
    pub fn new(
        client: &'a Client,
        store: &'a Store,
        run: RunId,
        enrich: &'a Enrichers,
        secret: &'a str,
    ) -> Applier<'a> {
        Applier {
            client,
            store,
            run,
            enrich,
            secret,
            counts: ListenCounts::default(),
        }
    }

    /// Applies the queue until `stop` turns true (the event in hand is finished first); waits
    /// for `wake` when the queue is empty.
    pub async fn run(
        mut self,
        wake: &Notify,
        stop: &mut watch::Receiver<bool>,
        retry_after: Duration,
    ) -> Result<ListenCounts, ListenError> {
        let mut wait = retry_after;
        loop {
            if *stop.borrow() {
                return Ok(self.counts);
            }
            match self.drain(stop).await {
                Ok(0) => {
                    wait = retry_after;
                    tokio::select! {
                        _ = wake.notified() => tokio::time::sleep(COALESCE).await,
                        _ = stop.changed() => {}
                        // A safety net: the queue is looked at now and then even unwoken.
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
                Ok(_) => wait = retry_after,
                Err(ApplyError::Store(e)) => return Err(e.into()),
                Err(ApplyError::Api(e)) => {
                    // A failure that may pass (a 5xx, a broken connection, the rate limit):
                    // the event stays queued and is tried again.
                    tracing::warn!(
                        error = %super::redact(&e.to_string(), self.secret),
                        retry_in_s = wait.as_secs_f64(),
                        "cannot apply a webhook event yet"
                    );
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => {}
                    }
                    wait = (wait * 2).min(Duration::from_secs(60));
                }
            }
        }
    }

    /// Applies one batch of the queue; gives how many events it took off.
    async fn drain(&mut self, stop: &watch::Receiver<bool>) -> Result<usize, ApplyError> {
        let batch = self.store.queued_webhooks(BATCH).await?;
        let mut read: BTreeSet<ReadKey> = BTreeSet::new();
        // The entries the batch deletes: an event about one of them needs no read (deletions
        // are final).
        let deleted: BTreeSet<i64> = batch
            .iter()
            .map(|q| Event::parse(&q.payload))
            .filter(|e| e.kind == "list_entry.deleted")
            .filter_map(|e| e.int(&["id"]))
            .collect();
        let mut done = 0;
        for q in &batch {
            if *stop.borrow() {
                break;
            }
            self.one(q, &mut read, &deleted).await?;
            done += 1;
        }
        Ok(done)
    }

    /// Applies one event and takes it off the queue. A transient failure leaves it queued
    /// (the error is returned); a refusal that a retry would not change is journaled as
    /// failed and the event taken off.
    async fn one(
        &mut self,
        q: &QueuedWebhook,
        read: &mut BTreeSet<ReadKey>,
        deleted: &BTreeSet<i64>,
    ) -> Result<(), ApplyError> {
        let ev = Event::parse(&q.payload);
        let mut detail = WebhookDetail {
            event: ev.kind.clone(),
            queued: q.id,
            sent_at: q.sent_at,
            reads: 0,
        };
        let record = format!("webhook:{}", q.id);
        let planned = match plan(self.store, &ev).await? {
            Plan::Do(Action::ReadEntry { entry, .. }) if deleted.contains(&entry) => {
                Plan::Do(Action::EntryGone { entry })
            }
            p => p,
        };
        let step = match planned {
            Plan::Skip(why) => Step::WebhookSkipped { event: detail, why },
            Plan::Do(action) if action.reads() && read.contains(&action.key()) => {
                Step::WebhookSkipped {
                    event: detail,
                    why: WebhookSkip::AlreadyRead,
                }
            }
            Plan::Do(action) => match self.act(&action).await {
                Ok(d) => {
                    if action.reads() {
                        read.insert(action.key());
                    }
                    if let Action::Merged { kind, new, .. } = &action {
                        // Its read was of one of the survivor's entries.
                        if let Some(e) = self.store.live_entries_of(*kind, *new).await?.first() {
                            read.insert(
                                Action::ReadEntry {
                                    list: e.list_id,
                                    entry: e.id,
                                }
                                .key(),
                            );
                        }
                    }
                    detail.reads = d.reads;
                    self.counts.reads += d.reads;
                    self.counts.entries_new += d.new;
                    self.counts.entries_changed += d.changed;
                    self.counts.entries_removed += d.removed;
                    if let Some(entry) = &d.landed {
                        self.enrich_landed(entry).await?;
                    }
                    Step::WebhookApplied(detail)
                }
                Err(ApplyError::Api(e)) if !e.is_transient() => {
                    self.counts.failed += 1;
                    Step::Failed {
                        reason: Some("webhook_event".into()),
                        field: None,
                        fields: vec![],
                        message: Some(super::redact(&e.to_string(), self.secret)),
                        error: None,
                        action: Some(ev.kind.clone()),
                    }
                }
                Err(e) => return Err(e),
            },
        };
        match &step {
            Step::WebhookApplied(_) => self.counts.applied += 1,
            Step::WebhookSkipped { .. } => self.counts.skipped += 1,
            _ => {}
        }
        self.counts.events += 1;
        let reads = match &step {
            Step::WebhookApplied(d) => d.reads,
            _ => 0,
        };
        self.store
            .add_events(
                self.run,
                &[JournalEvent::new(record, step.clone())],
                Utc::now(),
            )
            .await?;
        self.store
            .settle_webhook(q.id, &step, self.run, reads, Utc::now())
            .await?;
        tracing::debug!(event = %ev.kind, queued = q.id, step = %step.describe(), "webhook event settled");
        Ok(())
    }

    async fn enrich_landed(&mut self, entry: &EntryRow) -> Result<(), ApplyError> {
        for job in self.enrich.for_list(self.store, entry.list_id).await? {
            match job.run(self.client, self.store, self.run, entry).await {
                Ok(super::enrich::Enriched::Pushed { .. }) => self.counts.enriched += 1,
                Ok(super::enrich::Enriched::NotInSource) => self.counts.not_in_source += 1,
                Err(e) => {
                    // The loop's failure is the push's (journaled in its own run): the mirror's
                    // event is applied all the same.
                    tracing::error!(job = %job.job.job, entry = entry.id, error = %e, "the enrichment loop failed on a record");
                }
            }
        }
        Ok(())
    }

    /// Runs an action.
    async fn act(&self, action: &Action) -> Result<Done, ApplyError> {
        let now = Utc::now;
        let mut d = Done::default();
        match action {
            Action::ReadEntry { list, entry } => {
                self.read_entry_into(*list, *entry, &mut d).await?;
            }
            Action::EntryGone { entry } => {
                d.removed += self
                    .store
                    .flag_entries_gone_by_id(self.run, &[*entry], now())
                    .await?
                    .len() as u64;
            }
            Action::EntityGone { kind, id } => {
                let ids: Vec<i64> = self
                    .store
                    .live_entries_of(*kind, *id)
                    .await?
                    .iter()
                    .map(|e| e.id)
                    .collect();
                d.removed += self
                    .store
                    .flag_entries_gone_by_id(self.run, &ids, now())
                    .await?
                    .len() as u64;
                if self.store.entity_is_live(*kind, *id).await? {
                    self.store
                        .flag_entity_gone(self.run, *kind, *id, None, now())
                        .await?;
                }
            }
            Action::Merged { kind, old, new } => {
                d.changed += self
                    .store
                    .move_entries(self.run, *kind, *old, *new, now())
                    .await?
                    .len() as u64;
                if self.store.entity_is_live(*kind, *old).await? {
                    self.store
                        .flag_entity_gone(self.run, *kind, *old, Some(*new), now())
                        .await?;
                }
                if let Plan::Do(Action::ReadEntry { list, entry }) =
                    entry_of_entity(self.store, *kind, *new).await?
                {
                    self.read_entry_into(list, entry, &mut d).await?;
                }
            }
            Action::ReadLists => {
                d.reads += 1;
                let lists: Vec<_> = self
                    .client
                    .lists_v2()
                    .map_ok(|l| crate::pull::list_row(&l))
                    .try_collect::<Vec<_>>()
                    .await?
                    .into_iter()
                    .flatten()
                    .collect();
                self.store.sync_lists(self.run, &lists, now()).await?;
            }
            Action::ReadFields { lists, field } => {
                let stored: BTreeMap<String, FieldRow> = self
                    .store
                    .fields_with_gone()
                    .await?
                    .into_iter()
                    .map(|(f, _)| (f.id.clone(), f))
                    .collect();
                for list in lists {
                    d.reads += 1;
                    let metas: Vec<_> = self
                        .client
                        .list_fields_v2((*list).into())
                        .try_collect()
                        .await?;
                    let rows: Vec<FieldRow> = metas
                        .iter()
                        .map(|m| catalog_row(m, field.as_deref(), stored.get(&m.id.0)))
                        .collect();
                    self.store
                        .sync_fields(self.run, *list, &rows, now())
                        .await?;
                }
            }
        }
        Ok(d)
    }

    /// Reads one entry and stores it; an entry Affinity no longer has is flagged gone.
    async fn read_entry_into(&self, list: i64, entry: i64, d: &mut Done) -> Result<(), ApplyError> {
        d.reads += 1;
        match read_entry(self.client, list, entry).await {
            Ok(e) => {
                let page = page_data(std::slice::from_ref(&e));
                let out = self.store.apply_page(self.run, &page, Utc::now()).await?;
                d.new += out.new as u64;
                d.changed += out.changed as u64;
                if out.new > 0 {
                    d.landed = page.records.first().map(|r| r.entry.clone());
                }
            }
            Err(ApiError::NotFound { .. }) => {
                d.removed += self
                    .store
                    .flag_entries_gone_by_id(self.run, &[entry], Utc::now())
                    .await?
                    .len() as u64;
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }
}

impl Action {
    /// Whether the action reads Affinity (and so covers the batch's other events about the
    /// same thing).
    pub fn reads(&self) -> bool {
        matches!(
            self,
            Action::ReadEntry { .. } | Action::ReadLists | Action::ReadFields { .. }
        )
    }
}

/// What an action is about, for the batch's set of reads made.
pub type ReadKey = (u8, i64, i64, Vec<i64>);

impl Action {
    pub fn key(&self) -> ReadKey {
        match self {
            Action::ReadEntry { list, entry } => (0, *list, *entry, vec![]),
            Action::EntryGone { entry } => (1, 0, *entry, vec![]),
            Action::EntityGone { kind, id } => (2, *kind as i64, *id, vec![]),
            Action::Merged { kind, old, new } => (3, *kind as i64, *old, vec![*new]),
            Action::ReadLists => (4, 0, 0, vec![]),
            // A field event's own v1 body is part of what it brings: only the same lists and
            // the same field count as read.
            Action::ReadFields { lists, field } => {
                (5, field.as_ref().map_or(0, |f| f.id.0), 0, lists.clone())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_reads_leniently() {
        let e = Event::parse(
            r#"{"type":"list_entry.created","body":{"id":5,"list_id":3},"sent_at":1}"#,
        );
        assert_eq!(e.kind, "list_entry.created");
        assert_eq!(e.int(&["id"]), Some(5));
        assert_eq!(e.int(&["nope"]), None);
        let e = Event::parse("[1, 2]");
        assert_eq!(e.kind, "");
        assert_eq!(e.body, Json::Null);
        let e = Event::parse(
            r#"{"type":"organization.merged","body":{"removed_company":{"id":1},"company":{"id":2}}}"#,
        );
        assert_eq!(e.int(&["removed_company", "id"]), Some(1));
    }

    #[test]
    fn a_v1_value_is_compared_with_the_mirrors_item_by_what_a_pull_stores() {
        let item = |f: fn(&mut ValueItem)| {
            let mut i = ValueItem {
                value_type: String::new(),
                text: None,
                number: None,
                at: None,
                ref_id: None,
                json: None,
            };
            f(&mut i);
            i
        };
        let number = item(|i| i.number = Some(77.0));
        let date = item(|i| i.at = Some("2024-05-01T07:00:00+00:00".into()));
        let text = item(|i| i.text = Some("Series A".into()));
        let org = item(|i| i.ref_id = Some(205));
        let cases: &[(i64, Json, &ValueItem, bool)] = &[
            (3, serde_json::json!(77), &number, true),
            (3, serde_json::json!(77.5), &number, false),
            (3, serde_json::json!("77"), &number, false),
            // The same instant at another offset.
            (
                4,
                serde_json::json!("2024-05-01T00:00:00.000-07:00"),
                &date,
                true,
            ),
            (
                4,
                serde_json::json!("2024-05-02T00:00:00.000-07:00"),
                &date,
                false,
            ),
            (6, serde_json::json!("Series A"), &text, true),
            (6, serde_json::json!("Series B"), &text, false),
            (1, serde_json::json!(205), &org, true),
            (0, serde_json::json!(206), &org, false),
            // Types whose v1 shape is not compared are always read.
            (2, serde_json::json!("Series A"), &text, false),
            (5, serde_json::json!({"city": "Leeds"}), &text, false),
        ];
        for (vt, v, i, want) in cases {
            assert_eq!(same_value(*vt, v, i), *want, "type {vt}, {v}");
        }
    }

    #[test]
    fn only_reads_cover_other_events() {
        assert!(Action::ReadEntry { list: 1, entry: 2 }.reads());
        assert!(Action::ReadLists.reads());
        assert!(!Action::EntryGone { entry: 2 }.reads());
        assert!(!Action::EntityGone {
            kind: Kind::Person,
            id: 2
        }
        .reads());
        let mut s = BTreeSet::new();
        s.insert(Action::ReadEntry { list: 1, entry: 2 }.key());
        assert!(s.contains(&Action::ReadEntry { list: 1, entry: 2 }.key()));
        assert!(!s.contains(&Action::ReadEntry { list: 1, entry: 3 }.key()));
    }
}
