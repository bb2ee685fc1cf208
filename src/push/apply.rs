//! Applying a push plan: the calls, the journal around each write, and what the mirror learns.
//! Each record's [`Op`] becomes an [`Outcome`]; the plan itself is never changed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use chrono::Utc;
use futures::StreamExt;

use crate::store::pushed::LearnedEntity;
use crate::store::Store;
use affinity_crm::v1::{NewOpportunity, NewOrganization, NewPerson};
use affinity_crm::v2::{FieldId, FieldUpdate};
use affinity_crm::{Client, Error as ApiError, ListEntryId, ListId, OrganizationId, PersonId};
use affsync_core::journal::{FieldChange, FieldProblem, JournalEvent, Step};
use affsync_core::model::{Kind, ListRow, Owner, RunId};
use affsync_core::plan::push::{CreateSpec, FieldWrite, Op, RecordPlan, SkipKind, Writes};

use super::resolve::{learned_id, OpenWrites, Prepared};
use super::values::{as_pulled, to_v2, words, RefDetails};
use super::PushError;

/// Progress of the apply stage.
pub trait Progress: Sync {
    fn start(&self, _records: usize) {}
    fn record_done(&self) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// What became of one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Done {
    Created,
    Updated,
    Unchanged,
    Skipped(SkipKind),
    /// Affinity refused a write, or the record could not be created or planned.
    Failed(String),
    /// The push stopped (quota spent) before this record.
    NotAttempted,
}

impl Done {
    /// What a plan's operation comes to when it is applied without a fault.
    pub fn planned(op: &Op) -> Done {
        match op {
            Op::Create { .. } => Done::Created,
            Op::Update { .. } => Done::Updated,
            Op::Unchanged { .. } => Done::Unchanged,
            Op::Skip { kind, .. } => Done::Skipped(*kind),
            Op::Fail { reason, .. } => Done::Failed(reason.clone()),
        }
    }

    /// The word the counts and the summary use.
    pub fn as_str(&self) -> &'static str {
        match self {
            Done::Created => "created",
            Done::Updated => "updated",
            Done::Unchanged => "unchanged",
            Done::Skipped(k) => k.as_str(),
            Done::Failed(_) => "failed",
            Done::NotAttempted => "not_attempted",
        }
    }
}

/// One record's outcome.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub done: Done,
    /// The Affinity record (created or matched).
    pub affinity_id: Option<i64>,
    pub added: bool,
    pub fields_written: usize,
    pub values_skipped: usize,
    pub write_calls: u64,
}

impl Outcome {
    fn new(done: Done, affinity_id: Option<i64>) -> Outcome {
        Outcome {
            done,
            affinity_id,
            added: false,
            fields_written: 0,
            values_skipped: 0,
            write_calls: 0,
        }
    }
}

/// The monthly quota left, when Affinity says (one call).
pub async fn monthly_left(client: &Client) -> Result<Option<u64>, PushError> {
    let r = client.rate_limit_v2().await?;
    Ok(r.org_per_month.and_then(|q| q.remaining.count()))
}

/// A list entry found or made: its id, when it was created and by whom, as a pull reads them.
type EntryFound = (i64, Option<String>, Option<i64>);

fn entry_row(
    id: i64,
    list_id: i64,
    entity_kind: Kind,
    entity_id: i64,
    created_at: Option<String>,
    creator_id: Option<i64>,
) -> affsync_core::model::EntryRow {
    affsync_core::model::EntryRow {
        id,
        list_id,
        entity_kind,
        entity_id,
        created_at,
        creator_id,
    }
}

/// A v1 list entry as the mirror learns it (a push's and `affsync mcp`'s writes alike).
pub(crate) fn learned_entry(
    e: &affinity_crm::v1::ListEntry,
    entity_kind: Kind,
    entity_id: i64,
) -> affsync_core::model::EntryRow {
    let (id, at, by) = entry_found(e);
    entry_row(id, e.list_id.0, entity_kind, entity_id, at, by)
}

fn entry_found(e: &affinity_crm::v1::ListEntry) -> EntryFound {
    // v2, which pulls read, gives times to the second; v1 answers with milliseconds.
    let to_second = |t: chrono::DateTime<Utc>| {
        use chrono::Timelike;
        t.with_nanosecond(0).unwrap_or(t)
    };
    (
        e.id.0,
        e.created_at.map(|t| crate::store::time_text(to_second(t))),
        e.creator_id.map(|p| p.0),
    )
}

/// What applying needs, shared by the records written at once.
pub struct Ctx<'a> {
    store: &'a Store,
    client: &'a Client,
    kind: Kind,
    list: Option<&'a ListRow>,
    run: RunId,
    mapping: &'a str,
    open: &'a OpenWrites,
    refs: &'a RefDetails,
    stop: AtomicBool,
    stop_reason: Mutex<Option<String>>,
}

impl<'a> Ctx<'a> {
    pub fn new(
        store: &'a Store,
        client: &'a Client,
        prepared: &'a Prepared<'a>,
        run: RunId,
        mapping: &'a str,
        open: &'a OpenWrites,
        refs: &'a RefDetails,
    ) -> Ctx<'a> {
        Ctx {
            store,
            client,
            kind: prepared.mapping.kind(),
            list: prepared.list.as_ref(),
            run,
            mapping,
            open,
            refs,
            stop: AtomicBool::new(false),
            stop_reason: Mutex::new(None),
        }
    }

    async fn event(&self, record: &str, step: Step) -> Result<(), PushError> {
        let e = JournalEvent::new(record, step).for_mapping(self.mapping);
        self.store.add_events(self.run, &[e], Utc::now()).await?;
        Ok(())
    }

    /// A failed call: the quota being spent, or a write the client's gate refused (a job
    /// whose lock was taken over), stops the push; anything else fails the record.
    fn halt_on(&self, e: &ApiError) {
        if matches!(
            e,
            ApiError::RateLimited { .. } | ApiError::WriteRefused { .. }
        ) {
            self.stop.store(true, Ordering::SeqCst);
            let mut r = self.stop_reason.lock().expect("not poisoned");
            if r.is_none() {
                *r = Some(format!("stopped: {e}"));
            }
        }
    }

    /// Journals a failed record and gives its outcome.
    async fn failed(
        &self,
        rk: &str,
        mut out: Outcome,
        reason: &str,
        field: Option<String>,
        e: &ApiError,
    ) -> Result<Outcome, PushError> {
        self.halt_on(e);
        let shown = match &field {
            Some(f) => format!("`{f}`: {e}"),
            None => e.to_string(),
        };
        self.event(
            rk,
            Step::Failed {
                reason: Some(reason.to_string()),
                field,
                fields: vec![],
                message: Some(e.to_string()),
                error: None,
                action: None,
            },
        )
        .await?;
        out.done = Done::Failed(shown);
        Ok(out)
    }
}

/// Applies every plan; gives each record's outcome, and why the push stopped early, if it did.
pub async fn apply(
    ctx: &Ctx<'_>,
    plans: &[RecordPlan],
    concurrency: usize,
    progress: &dyn Progress,
) -> Result<(Vec<Outcome>, Option<String>), PushError> {
    progress.start(plans.len());
    // By index: a stream mapped by a closure that takes `&RecordPlan` could not be proven
    // `Send` for every lifetime, which the MCP server's handler needs.
    let results: Vec<Result<Outcome, PushError>> = futures::stream::iter(0..plans.len())
        .map(|i| apply_counted(ctx, &plans[i], progress))
        .buffered(concurrency)
        .collect()
        .await;
    let outcomes = results.into_iter().collect::<Result<Vec<_>, _>>()?;
    let reason = ctx.stop_reason.lock().expect("not poisoned").clone();
    Ok((outcomes, reason))
}

/// Journals each value of the record's plan that is skipped (a cell that does not convert),
/// a step of its own; gives how many.
async fn journal_skips(ctx: &Ctx<'_>, rk: &str, p: &RecordPlan) -> Result<usize, PushError> {
    for s in &p.skipped_values {
        ctx.event(
            rk,
            Step::ValueSkipped {
                field: s.field.clone(),
                value: Some(s.value.clone()),
                reason: Some(s.reason.clone()),
            },
        )
        .await?;
    }
    Ok(p.skipped_values.len())
}

/// One record, then a tick of the progress.
async fn apply_counted(
    ctx: &Ctx<'_>,
    p: &RecordPlan,
    progress: &dyn Progress,
) -> Result<Outcome, PushError> {
    let r = apply_one(ctx, p).await;
    progress.record_done();
    r
}

async fn apply_one(ctx: &Ctx<'_>, p: &RecordPlan) -> Result<Outcome, PushError> {
    let rk = p.record_key();
    match &p.op {
        Op::Unchanged { affinity_id } => {
            // A cell that still does not convert is skipped on every run, not only the first:
            // the run says so, as its dry run does.
            let skipped = journal_skips(ctx, &rk, p).await?;
            ctx.event(
                &rk,
                Step::Unchanged {
                    affinity_id: Some(affinity_id.to_string()),
                },
            )
            .await?;
            let mut out = Outcome::new(Done::Unchanged, Some(*affinity_id));
            out.values_skipped = skipped;
            return Ok(out);
        }
        Op::Fail { reason, fields } => {
            let fields = fields
                .iter()
                .map(|(f, r)| FieldProblem {
                    field: f.clone(),
                    reason: r.clone(),
                })
                .collect();
            ctx.event(
                &rk,
                Step::Failed {
                    reason: Some(reason.clone()),
                    field: None,
                    fields,
                    message: None,
                    error: None,
                    action: None,
                },
            )
            .await?;
            return Ok(Outcome::new(Done::Failed(reason.clone()), None));
        }
        Op::Skip { kind, reason } => {
            ctx.event(
                &rk,
                Step::Skipped {
                    reason: Some(kind.as_str().to_string()),
                    detail: Some(reason.clone()),
                    why: None,
                    row: None,
                    problem: None,
                },
            )
            .await?;
            return Ok(Outcome::new(Done::Skipped(*kind), None));
        }
        Op::Create { .. } | Op::Update { .. } => {}
    }
    if ctx.stop.load(Ordering::SeqCst) {
        ctx.event(
            &rk,
            Step::Skipped {
                reason: Some(Done::NotAttempted.as_str().into()),
                detail: Some("the push stopped before this record".into()),
                why: None,
                row: None,
                problem: None,
            },
        )
        .await?;
        return Ok(Outcome::new(Done::NotAttempted, None));
    }
    let mut out = Outcome::new(Done::Updated, None);
    out.values_skipped = journal_skips(ctx, &rk, p).await?;
    let (id, entry_id, add, writes) = match &p.op {
        Op::Create {
            spec,
            add_to_list,
            writes,
        } => {
            out.done = Done::Created;
            out.write_calls += 1;
            match create(ctx, &rk, spec).await? {
                Ok((id, entry)) => (id, entry, *add_to_list, writes),
                Err(e) => return ctx.failed(&rk, out, "create", None, &e).await,
            }
        }
        Op::Update {
            affinity_id,
            entry_id,
            add_to_list,
            writes,
        } => (*affinity_id, *entry_id, *add_to_list, writes),
        _ => unreachable!("the other operations returned above"),
    };
    out.affinity_id = Some(id);
    let mut entry_id = entry_id;
    if add {
        match add_to_list(ctx, &rk, id, &mut out).await? {
            Ok(eid) => {
                entry_id = Some(eid);
                out.added = true;
            }
            Err(e) => return ctx.failed(&rk, out, "add_to_list", None, &e).await,
        }
    }
    write_fields(ctx, &rk, id, entry_id, writes, out).await
}

/// Creates the record (journaled before and after); gives its id and, for an opportunity, its
/// entry on the list it was created on.
async fn create(
    ctx: &Ctx<'_>,
    rk: &str,
    c: &CreateSpec,
) -> Result<Result<(i64, Option<i64>), ApiError>, PushError> {
    ctx.event(
        rk,
        Step::CreateStarted {
            kind: ctx.kind.as_str().into(),
            name: Some(c.display_name()),
            domain: c.domain.clone(),
            emails: c.emails.clone(),
        },
    )
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
                let e = LearnedEntity::Organization {
                    id: o.id.0,
                    name: o.name,
                    domain: o.domain,
                    domains: o.domains,
                    global: o.global,
                };
                (e, None)
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
                let e = LearnedEntity::Person {
                    id: x.id.0,
                    person_type: Some(super::resolve::v1_person_type(x.person_type).into()),
                    first_name: x.first_name,
                    last_name: x.last_name,
                    emails: x.emails,
                };
                (e, None)
            }),
        Kind::Opportunity => {
            let list = ctx.list.expect("an opportunity is planned with its list");
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
                        .map(entry_found);
                    let e = LearnedEntity::Opportunity {
                        id: o.id.0,
                        name: o.name,
                        list_id: list.id,
                    };
                    (e, entry)
                })
        }
    };
    let (e, entry) = match created {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let id = learned_id(&e);
    ctx.store.learn_entity(&e, Utc::now()).await?;
    let mut entry_id = None;
    if let (Some((eid, at, by)), Some(list)) = (entry, ctx.list) {
        ctx.store
            .learn_entry(&entry_row(eid, list.id, ctx.kind, id, at, by), Utc::now())
            .await?;
        entry_id = Some(eid);
    }
    ctx.event(
        rk,
        Step::Created {
            affinity_id: id.to_string(),
            kind: Some(ctx.kind.as_str().into()),
            name: Some(c.display_name()),
        },
    )
    .await?;
    Ok(Ok((id, entry_id)))
}

/// Adds the record to the list (journaled before and after), unless an earlier run's add that
/// was never confirmed turns out to have happened; gives the entry's id.
async fn add_to_list(
    ctx: &Ctx<'_>,
    rk: &str,
    id: i64,
    out: &mut Outcome,
) -> Result<Result<i64, ApiError>, PushError> {
    let list = ctx.list.expect("planned with a list");
    let mut entry: Option<EntryFound> = None;
    if ctx.open.adds.contains(rk) {
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
                    .map(|e| entry_found(&e));
            }
            Err(e) => return Ok(Err(e)),
        }
    }
    if entry.is_none() {
        ctx.event(
            rk,
            Step::AddStarted {
                list: list.name.clone(),
                affinity_id: Some(id.to_string()),
            },
        )
        .await?;
        out.write_calls += 1;
        match ctx.client.add_list_entry_v1(ListId(list.id), id).await {
            Ok(e) => entry = Some(entry_found(&e)),
            Err(e) => return Ok(Err(e)),
        }
    }
    let (eid, at, by) = entry.expect("found or added");
    ctx.store
        .learn_entry(&entry_row(eid, list.id, ctx.kind, id, at, by), Utc::now())
        .await?;
    ctx.event(
        rk,
        Step::AddedToList {
            list: list.name.clone(),
            entry_id: Some(eid.to_string()),
            affinity_id: Some(id.to_string()),
        },
    )
    .await?;
    Ok(Ok(eid))
}

/// Writes the field values: one update-fields call per owner (at most 100 fields a call).
async fn write_fields(
    ctx: &Ctx<'_>,
    rk: &str,
    id: i64,
    entry_id: Option<i64>,
    writes: &Writes,
    mut out: Outcome,
) -> Result<Outcome, PushError> {
    for (on_entry, ws) in [(false, &writes.entity), (true, &writes.entry)] {
        if ws.is_empty() {
            continue;
        }
        let mut updates = Vec::new();
        for w in ws {
            match to_v2(&w.value_type, &w.new) {
                Some(value) => updates.push(FieldUpdate {
                    id: FieldId(w.field_id.clone()),
                    value,
                }),
                None => {
                    let reason = format!(
                        "`{}`: Affinity takes no writes of `{}` values",
                        w.field_name, w.value_type
                    );
                    ctx.event(
                        rk,
                        Step::Failed {
                            reason: Some(reason.clone()),
                            field: Some(w.field_name.clone()),
                            fields: vec![],
                            message: None,
                            error: None,
                            action: None,
                        },
                    )
                    .await?;
                    out.done = Done::Failed(reason);
                    return Ok(out);
                }
            }
        }
        let (owner, res) = if on_entry {
            let (Some(list), Some(eid)) = (ctx.list, entry_id) else {
                continue;
            };
            let res = ctx
                .client
                .update_list_entry_fields_v2(ListId(list.id), ListEntryId(eid), &updates)
                .await;
            (Owner::Entry(eid), res)
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
            (Owner::Entity(ctx.kind, id), res)
        };
        match res {
            Ok(calls) => {
                out.write_calls += calls as u64;
                learn_written(ctx, rk, id, owner, ws).await?;
                out.fields_written += ws.len();
            }
            Err(e) => {
                out.write_calls += 1;
                let names = ws
                    .iter()
                    .map(|w| w.field_name.as_str())
                    .collect::<Vec<_>>()
                    .join("`, `");
                return ctx.failed(rk, out, "field write", Some(names), &e).await;
            }
        }
    }
    Ok(out)
}

/// The mirror learns written values; the journal says each one, old → new.
async fn learn_written(
    ctx: &Ctx<'_>,
    rk: &str,
    id: i64,
    owner: Owner,
    ws: &[FieldWrite],
) -> Result<(), PushError> {
    for w in ws {
        let read = as_pulled(&w.value_type, &w.new, ctx.refs);
        ctx.store
            .learn_values(owner, &w.field_id, &read, Utc::now())
            .await?;
        ctx.event(
            rk,
            Step::FieldUpdated {
                change: FieldChange {
                    field: w.field_name.clone(),
                    field_id: Some(w.field_id.clone()),
                    old: Some(words(&w.old)),
                    new: Some(words(&w.new)),
                },
                affinity_id: Some(id.to_string()),
            },
        )
        .await?;
    }
    Ok(())
}
