//! Applying a push plan: the calls, the journal around each write, and what the mirror learns.

use affsync_core::model::RunId;
use affsync_core::model::{ListRow, Owner};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use serde_json::json;

use crate::matching::MatchOutcome;
use crate::store::pushed::LearnedEntity;
use crate::store::{Event, Store};
use affinity_crm::v1::{NewOpportunity, NewOrganization, NewPerson};
use affinity_crm::v2::{FieldId, FieldUpdate};
use affinity_crm::{Client, Error as ApiError, ListEntryId, ListId, OrganizationId, PersonId};
use affsync_core::mapping::Mapping;
use affsync_core::matcher::{normalize, Kind, Method, Status};

use super::plan::{Action, FieldWrite, RecordPlan};
use super::values::{to_v2, words};
use super::PushError;

/// Progress of the apply stage.
pub trait Progress: Sync {
    fn start(&self, _records: usize) {}
    fn record_done(&self) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// The monthly quota left, when Affinity says (one call).
pub async fn monthly_left(client: &Client) -> Result<Option<u64>, PushError> {
    let r = client.rate_limit_v2().await?;
    Ok(r.org_per_month.and_then(|q| q.remaining.count()))
}

/// Source records with a write begun in an earlier run and never completed: `(record, step)`
/// for `create_started` without `created`, `add_started` without `added_to_list`.
pub async fn unfinished(
    store: &Store,
    mapping: &str,
) -> Result<BTreeSet<(String, &'static str)>, PushError> {
    let events = store
        .events_with_steps(&["create_started", "created", "add_started", "added_to_list"])
        .await?;
    let mut open: BTreeSet<(String, &'static str)> = BTreeSet::new();
    for e in events {
        if e.event.detail.as_ref().and_then(|d| d["mapping"].as_str()) != Some(mapping) {
            continue;
        }
        let r = e.event.record.clone();
        match e.event.step.as_str() {
            "create_started" => {
                open.insert((r, "create"));
            }
            "created" => {
                open.remove(&(r, "create"));
            }
            "add_started" => {
                open.insert((r, "add"));
            }
            "added_to_list" => {
                open.remove(&(r, "add"));
            }
            _ => {}
        }
    }
    Ok(open)
}

/// An organization or person found in Affinity for a key or an exact name.
async fn search(
    client: &Client,
    kind: Kind,
    term: &str,
    keep: impl Fn(&LearnedEntity) -> bool,
) -> Result<Option<LearnedEntity>, ApiError> {
    match kind {
        Kind::Organization => {
            let found: Vec<_> = client
                .organizations_v1(Some(term), &[])
                .take(100)
                .try_collect()
                .await?;
            Ok(found
                .into_iter()
                .map(|o| LearnedEntity::Organization {
                    id: o.id.0,
                    name: o.name,
                    domain: o.domain,
                    domains: o.domains,
                    global: o.global,
                })
                .find(keep))
        }
        Kind::Person => {
            let found: Vec<_> = client
                .persons_v1(Some(term), &[])
                .take(100)
                .try_collect()
                .await?;
            Ok(found
                .into_iter()
                .map(|p| LearnedEntity::Person {
                    id: p.id.0,
                    first_name: p.first_name,
                    last_name: p.last_name,
                    emails: p.emails,
                })
                .find(keep))
        }
        Kind::Opportunity => Ok(None),
    }
}

fn learned_id(e: &LearnedEntity) -> i64 {
    match e {
        LearnedEntity::Organization { id, .. }
        | LearnedEntity::Person { id, .. }
        | LearnedEntity::Opportunity { id, .. } => *id,
    }
}

/// Looks up in Affinity the unmatched records the mirror may not know: by search-term key
/// (domain, email), and, for a record whose create was begun in an earlier run and never
/// completed, by exact name. Found records become matches and the mirror learns them.
pub async fn look_up_unmatched(
    store: &Store,
    client: &Client,
    mapping: &Mapping,
    outcome: &mut MatchOutcome,
    open: &BTreeSet<(String, &'static str)>,
    run: RunId,
) -> Result<usize, PushError> {
    let kind = mapping.kind();
    if kind == Kind::Opportunity {
        return Ok(0);
    }
    let cfg = mapping.match_config();
    let mut found = 0;
    let mut events = Vec::new();
    for (d, rec) in outcome.decisions.iter_mut().zip(&outcome.records) {
        if d.status != Status::Unmatched
            || d.method == Some(Method::Reviewer) && d.affinity_id.is_some()
        {
            continue;
        }
        let term = cfg
            .and_then(|c| c.search_term.as_ref())
            .and_then(|t| rec.values.get(t))
            .map(String::as_str)
            .unwrap_or("");
        let keys: Vec<String> = match kind {
            Kind::Organization => normalize::split_multi(term)
                .filter_map(normalize::domain_key)
                .collect(),
            _ => normalize::split_multi(term)
                .filter_map(normalize::email_key)
                .collect(),
        };
        let key_of = |e: &LearnedEntity| -> bool {
            match e {
                LearnedEntity::Organization {
                    domain, domains, ..
                } => domain
                    .iter()
                    .chain(domains)
                    .filter_map(|x| normalize::domain_key(x))
                    .any(|k| keys.contains(&k)),
                LearnedEntity::Person { emails, .. } => emails
                    .iter()
                    .filter_map(|x| normalize::email_key(x))
                    .any(|k| keys.contains(&k)),
                _ => false,
            }
        };
        let mut hit = None;
        if let Some(k) = keys.first() {
            hit = search(client, kind, k, key_of).await?;
        }
        let record_key = crate::matching::record_key(d.source_id.as_deref(), d.row);
        if hit.is_none() && open.contains(&(record_key.clone(), "create")) {
            // A create was begun and never confirmed: look for it by its exact name.
            let name = cfg
                .and_then(|c| c.compare.iter().find(|x| x.affinity == "name"))
                .and_then(|x| rec.values.get(&x.source))
                .cloned()
                .or_else(|| {
                    mapping
                        .fields
                        .iter()
                        .find(|f| f.affinity.get_ref() == "name")
                        .and_then(|f| rec.values.get(f.source.get_ref()).cloned())
                })
                .unwrap_or_default();
            let want = normalize::fold(&name);
            if !want.is_empty() {
                hit = search(client, kind, name.trim(), |e| match e {
                    LearnedEntity::Organization { name, .. } => normalize::fold(name) == want,
                    LearnedEntity::Person {
                        first_name,
                        last_name,
                        ..
                    } => {
                        normalize::fold(&format!(
                            "{} {}",
                            first_name.as_deref().unwrap_or(""),
                            last_name.as_deref().unwrap_or("")
                        )) == want
                    }
                    _ => false,
                })
                .await?;
            }
        }
        if let Some(e) = hit {
            store.learn_entity(&e, Utc::now()).await?;
            let id = learned_id(&e);
            d.status = Status::Matched;
            d.affinity_id = Some(id.to_string());
            d.method = Some(Method::Key);
            d.score = Some(1.0);
            d.reason = format!(
                "not in the mirror; found in Affinity by term search ({})",
                keys.first()
                    .cloned()
                    .unwrap_or_else(|| "by exact name".into())
            );
            found += 1;
            events.push(Event::new(
                record_key,
                "matched",
                Some(
                    json!({"mapping": outcome.mapping, "method": "key", "score": 1.0,
                    "affinity_id": id.to_string(), "reason": d.reason}),
                ),
            ));
        }
    }
    store.add_events(run, &events, Utc::now()).await?;
    Ok(found)
}

/// Journals a dry run: one `planned` event per record.
pub async fn journal_dry_run(
    store: &Store,
    run: RunId,
    plans: &[RecordPlan],
    mapping: &str,
) -> Result<(), PushError> {
    let events: Vec<Event> = plans
        .iter()
        .map(|p| {
            let fields: Vec<_> = p
                .entity_writes
                .iter()
                .chain(&p.entry_writes)
                .map(|w| json!({"field": w.field_name, "old": words(&w.old), "new": words(&w.new)}))
                .collect();
            Event::new(
                p.record_key(),
                "planned",
                Some(json!({"mapping": mapping, "action": p.action.as_str(), "affinity_id": p.affinity_id,
                    "fields": fields, "add_to_list": p.add_to_list, "reason": p.reason,
                    "estimated_calls": p.estimated_calls()})),
            )
        })
        .collect();
    store.add_events(run, &events, Utc::now()).await?;
    Ok(())
}

/// A list entry found or made: its id and when it was created.
type EntryFound = (i64, Option<String>);

struct Ctx<'a> {
    store: &'a Store,
    client: &'a Client,
    kind: Kind,
    list: Option<&'a ListRow>,
    run: RunId,
    mapping: &'a str,
    open: BTreeSet<(String, &'static str)>,
    stop: AtomicBool,
    stop_reason: Mutex<Option<String>>,
}

impl Ctx<'_> {
    async fn event(
        &self,
        record: &str,
        step: &str,
        mut detail: serde_json::Value,
    ) -> Result<(), PushError> {
        detail["mapping"] = json!(self.mapping);
        self.store
            .add_events(
                self.run,
                &[Event::new(record, step, Some(detail))],
                Utc::now(),
            )
            .await?;
        Ok(())
    }

    /// A failed call: the quota being spent stops the push; anything else fails the record.
    fn halt_on(&self, e: &ApiError) {
        if matches!(e, ApiError::RateLimited { .. }) {
            self.stop.store(true, Ordering::SeqCst);
            let mut r = self.stop_reason.lock().expect("not poisoned");
            if r.is_none() {
                *r = Some(format!("stopped: {e}"));
            }
        }
    }
}

/// Applies every plan; returns why the push stopped early, if it did.
#[allow(clippy::too_many_arguments)]
pub async fn apply(
    store: &Store,
    client: &Client,
    mapping: &Mapping,
    list: Option<&ListRow>,
    plans: &mut [RecordPlan],
    concurrency: usize,
    run: RunId,
    mapping_key: &str,
    open: BTreeSet<(String, &'static str)>,
    progress: &dyn Progress,
) -> Result<Option<String>, PushError> {
    let ctx = Ctx {
        store,
        client,
        kind: mapping.kind(),
        list,
        run,
        mapping: mapping_key,
        open,
        stop: AtomicBool::new(false),
        stop_reason: Mutex::new(None),
    };
    progress.start(plans.len());
    let results: Vec<Result<(), PushError>> = futures::stream::iter(plans.iter_mut())
        .map(|p| {
            let ctx = &ctx;
            async move {
                let r = apply_one(ctx, p).await;
                progress.record_done();
                r
            }
        })
        .buffered(concurrency)
        .collect()
        .await;
    for r in results {
        r?;
    }
    let reason = ctx.stop_reason.lock().expect("not poisoned").clone();
    Ok(reason)
}

async fn apply_one(ctx: &Ctx<'_>, p: &mut RecordPlan) -> Result<(), PushError> {
    let rk = p.record_key();
    match p.action {
        Action::Create | Action::Update => {}
        Action::Unchanged => {
            return ctx
                .event(
                    &rk,
                    "unchanged",
                    json!({"affinity_id": p.affinity_id.map(|i| i.to_string())}),
                )
                .await
        }
        Action::Failed => {
            let fields: Vec<_> = p
                .failures
                .iter()
                .map(|(f, r)| json!({"field": f, "reason": r}))
                .collect();
            return ctx
                .event(&rk, "failed", json!({"reason": p.reason, "fields": fields}))
                .await;
        }
        other => {
            return ctx
                .event(
                    &rk,
                    "skipped",
                    json!({"reason": other.as_str(), "detail": p.reason}),
                )
                .await
        }
    }
    if ctx.stop.load(Ordering::SeqCst) {
        p.action = Action::NotAttempted;
        return ctx
            .event(
                &rk,
                "skipped",
                json!({"reason": "not_attempted", "detail": "the push stopped before this record"}),
            )
            .await;
    }
    let fail = |p: &mut RecordPlan, field: Option<&str>, e: &ApiError| {
        ctx.halt_on(e);
        p.action = Action::Failed;
        p.reason = format!(
            "{}{e}",
            field.map(|f| format!("`{f}`: ")).unwrap_or_default()
        );
    };
    let ek = ctx.kind;

    // 1. Create.
    if let Some(c) = p.create.clone() {
        ctx.event(&rk, "create_started", json!({"kind": ctx.kind.as_str(), "name": c.name, "domain": c.domain, "emails": c.emails}))
            .await?;
        let created: Result<(LearnedEntity, Option<EntryFound>), ApiError> = match ctx.kind {
            Kind::Organization => ctx
                .client
                .create_organization_v1(&NewOrganization {
                    name: c.name.clone().unwrap_or_default(),
                    domain: c.domain.clone(),
                    person_ids: None,
                })
                .await
                .map(|o| {
                    (
                        LearnedEntity::Organization {
                            id: o.id.0,
                            name: o.name,
                            domain: o.domain,
                            domains: o.domains,
                            global: o.global,
                        },
                        None,
                    )
                }),
            Kind::Person => ctx
                .client
                .create_person_v1(&NewPerson {
                    first_name: c.first_name.clone().unwrap_or_default(),
                    last_name: c.last_name.clone().unwrap_or_default(),
                    emails: c.emails.clone(),
                    organization_ids: None,
                })
                .await
                .map(|x| {
                    (
                        LearnedEntity::Person {
                            id: x.id.0,
                            first_name: x.first_name,
                            last_name: x.last_name,
                            emails: x.emails,
                        },
                        None,
                    )
                }),
            Kind::Opportunity => {
                let list = ctx.list.expect("planned with a list");
                ctx.client
                    .create_opportunity_v1(&NewOpportunity {
                        name: c.name.clone().unwrap_or_default(),
                        list_id: ListId(list.id),
                        person_ids: None,
                        organization_ids: None,
                    })
                    .await
                    .map(|o| {
                        let entry = o
                            .list_entries
                            .as_ref()
                            .and_then(|es| es.iter().find(|e| e.list_id.0 == list.id))
                            .map(|e| (e.id.0, e.created_at.map(crate::store::time_text)));
                        (
                            LearnedEntity::Opportunity {
                                id: o.id.0,
                                name: o.name,
                                list_id: list.id,
                            },
                            entry,
                        )
                    })
            }
        };
        p.write_calls += 1;
        match created {
            Ok((e, entry)) => {
                let id = learned_id(&e);
                ctx.store.learn_entity(&e, Utc::now()).await?;
                if let (Some((eid, at)), Some(list)) = (entry, ctx.list) {
                    ctx.store
                        .learn_entry(eid, list.id, ek, id, at, Utc::now())
                        .await?;
                    p.entry_id = Some(eid);
                }
                p.affinity_id = Some(id);
                ctx.event(
                    &rk,
                    "created",
                    json!({"affinity_id": id.to_string(), "kind": ctx.kind.as_str()}),
                )
                .await?;
            }
            Err(e) => {
                fail(p, None, &e);
                return ctx
                    .event(
                        &rk,
                        "failed",
                        json!({"reason": "create", "message": e.to_string()}),
                    )
                    .await;
            }
        }
    }
    let id = p.affinity_id.expect("created or matched");

    // 2. The list entry.
    if p.add_to_list {
        let list = ctx.list.expect("planned with a list");
        let mut entry: Option<EntryFound> = None;
        if ctx.open.contains(&(rk.clone(), "add")) {
            // An add was begun and never confirmed: ask Affinity whether it happened.
            let entries = match ctx.kind {
                Kind::Organization => ctx
                    .client
                    .organization_v1(OrganizationId(id))
                    .await
                    .map(|o| o.list_entries),
                Kind::Person => ctx
                    .client
                    .person_v1(PersonId(id))
                    .await
                    .map(|o| o.list_entries),
                Kind::Opportunity => Ok(None),
            };
            match entries {
                Ok(es) => {
                    entry = es
                        .unwrap_or_default()
                        .into_iter()
                        .find(|e| e.list_id.0 == list.id)
                        .map(|e| (e.id.0, e.created_at.map(crate::store::time_text)));
                }
                Err(e) => {
                    fail(p, None, &e);
                    return ctx
                        .event(
                            &rk,
                            "failed",
                            json!({"reason": "add_to_list", "message": e.to_string()}),
                        )
                        .await;
                }
            }
        }
        if entry.is_none() {
            ctx.event(
                &rk,
                "add_started",
                json!({"list": list.name, "affinity_id": id.to_string()}),
            )
            .await?;
            p.write_calls += 1;
            match ctx.client.add_list_entry_v1(ListId(list.id), id).await {
                Ok(e) => entry = Some((e.id.0, e.created_at.map(crate::store::time_text))),
                Err(e) => {
                    fail(p, None, &e);
                    return ctx
                        .event(
                            &rk,
                            "failed",
                            json!({"reason": "add_to_list", "message": e.to_string()}),
                        )
                        .await;
                }
            }
        }
        let (eid, at) = entry.expect("found or added");
        ctx.store
            .learn_entry(eid, list.id, ek, id, at, Utc::now())
            .await?;
        p.entry_id = Some(eid);
        p.added = true;
        ctx.event(
            &rk,
            "added_to_list",
            json!({"list": list.name, "entry_id": eid.to_string(), "affinity_id": id.to_string()}),
        )
        .await?;
    }

    // 3. Field values: one update-fields call per owner (at most 100 fields a call).
    for on_entry in [false, true] {
        let writes: Vec<FieldWrite> = if on_entry {
            p.entry_writes.clone()
        } else {
            p.entity_writes.clone()
        };
        if writes.is_empty() {
            continue;
        }
        let mut updates = Vec::new();
        for w in &writes {
            match to_v2(&w.value_type, &w.new) {
                Some(value) => updates.push(FieldUpdate {
                    id: FieldId(w.field_id.clone()),
                    value,
                }),
                None => {
                    p.action = Action::Failed;
                    p.reason = format!(
                        "`{}`: Affinity takes no writes of `{}` values",
                        w.field_name, w.value_type
                    );
                    return ctx
                        .event(
                            &rk,
                            "failed",
                            json!({"field": w.field_name, "reason": p.reason}),
                        )
                        .await;
                }
            }
        }
        let (owner, res) = if on_entry {
            let (Some(list), Some(eid)) = (ctx.list, p.entry_id) else {
                continue;
            };
            (
                Owner::Entry(eid),
                ctx.client
                    .update_list_entry_fields_v2(ListId(list.id), ListEntryId(eid), &updates)
                    .await,
            )
        } else {
            let res = match ctx.kind {
                Kind::Organization => {
                    ctx.client
                        .update_company_fields_v2(OrganizationId(id), &updates)
                        .await
                }
                Kind::Person => {
                    ctx.client
                        .update_person_fields_v2(PersonId(id), &updates)
                        .await
                }
                Kind::Opportunity => Ok(0),
            };
            (Owner::Entity(ek, id), res)
        };
        match res {
            Ok(calls) => {
                p.write_calls += calls as u64;
                for w in &writes {
                    ctx.store
                        .learn_values(owner, &w.field_id, &w.new, Utc::now())
                        .await?;
                    ctx.event(
                        &rk,
                        "field_updated",
                        json!({"field": w.field_name, "field_id": w.field_id,
                        "old": words(&w.old), "new": words(&w.new), "affinity_id": id.to_string()}),
                    )
                    .await?;
                }
                p.fields_written += writes.len();
            }
            Err(e) => {
                p.write_calls += 1;
                let names = writes
                    .iter()
                    .map(|w| w.field_name.as_str())
                    .collect::<Vec<_>>()
                    .join("`, `");
                fail(p, Some(&names), &e);
                return ctx
                    .event(
                        &rk,
                        "failed",
                        json!({"field": names, "reason": "field write", "message": e.to_string()}),
                    )
                    .await;
            }
        }
    }
    Ok(())
}
