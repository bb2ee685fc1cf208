//! Affinity → mirror. A pull reads the lists and the field catalog, then each chosen list's
//! entries with all their field values through v2, 100 entries a call, and stores each page
//! before it asks for the next (DESIGN.md "commit before you advance"). Entries that a complete
//! pass no longer sees are flagged gone; entities that no live entry holds any more are asked
//! of Affinity by id, in batches, to learn whether they were deleted or merged.

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::model::RunId;
use affsync_core::model::{
    EntityRow, EntryRow, FieldRow, Kind, ListRow, OpportunityRow, OptionRow, OrganizationRow,
    OwnedValue, Owner, PersonRow, ValueItem,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use crate::store::journal::{Run, RunEnd};
use crate::store::{PageData, PageRecord, Store, StoreError};
use affinity_crm::v1;
use affinity_crm::v2::{self, Entity, FieldValue, ListEntryWithEntity};
use affinity_crm::Color;
use affinity_crm::FieldSelection;
use affinity_crm::{Client, Error as ApiError, OpportunityId, OrganizationId, PersonId};
use affsync_core::journal::{JournalEvent, RunKind, Step};

/// The field types a list entry is asked for: all of them, so that one call per 100 entries
/// brings every value (affinity-api.md §3.1: without `fieldTypes` none come).
pub const ENTRY_FIELD_TYPES: &[&str] = &["enriched", "global", "list", "relationship-intelligence"];
/// The same, of an organization or person itself (its entries hold the list fields).
pub const ENTITY_FIELD_TYPES: &[&str] = &["enriched", "global", "relationship-intelligence"];

#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Lists by name (case-insensitive) or id.
    pub lists: Vec<String>,
    pub all_lists: bool,
    /// Lists pulled at once.
    pub concurrency: usize,
}

impl Default for PullOptions {
    fn default() -> Self {
        PullOptions {
            lists: Vec::new(),
            all_lists: true,
            concurrency: 4,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("no list named `{name}`\navailable lists: {}", available.join(", "))]
    UnknownList {
        name: String,
        available: Vec<String>,
    },
    #[error("no list chosen\navailable lists: {}", available.join(", "))]
    NoListChosen { available: Vec<String> },
    #[error("pulling from Affinity failed: {0}")]
    Api(#[from] ApiError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Diagnose for PullError {
    fn class(&self) -> ErrorClass {
        match self {
            PullError::UnknownList { .. } | PullError::NoListChosen { .. } => ErrorClass::BadInput,
            PullError::Api(_) => ErrorClass::Failure,
            PullError::Store(s) => s.class(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            PullError::UnknownList { .. } => {
                Some("name a list as Affinity spells it, or give its id".into())
            }
            PullError::NoListChosen { .. } => {
                Some("add `--list NAME` (repeatable) or `--all-lists`".into())
            }
            _ => None,
        }
    }
}

/// What a pull did to one list (journaled as its `pulled` step).
pub use affsync_core::journal::ListPulled as ListSummary;

/// What a whole pull did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PullSummary {
    pub run: i64,
    pub lists: Vec<ListSummary>,
    /// Entities no live entry holds any more, asked of Affinity.
    pub entities_checked: usize,
    pub entities_removed: usize,
    pub entities_merged: usize,
    pub api_calls: u64,
    pub seconds: f64,
}

/// Told as a pull goes, for progress bars.
pub trait Progress: Send + Sync {
    fn list_started(&self, _list: &ListRow) {}
    fn page_done(&self, _list_id: i64, _entries_so_far: usize) {}
    fn list_done(&self, _summary: &ListSummary) {}
}

/// No progress shown.
pub struct Quiet;
impl Progress for Quiet {}

/// Finds the chosen lists among Affinity's, by id or by name (case-insensitive).
pub fn choose_lists(
    all: &[ListRow],
    wanted: &[String],
    all_lists: bool,
) -> Result<Vec<ListRow>, PullError> {
    let available = || {
        all.iter()
            .map(|l| format!("{} ({})", l.name, l.id))
            .collect::<Vec<_>>()
    };
    if all_lists {
        return Ok(all.to_vec());
    }
    if wanted.is_empty() {
        return Err(PullError::NoListChosen {
            available: available(),
        });
    }
    let mut out: Vec<ListRow> = Vec::new();
    for w in wanted {
        let w = w.trim();
        let found = all
            .iter()
            .find(|l| l.id.to_string() == w)
            .or_else(|| all.iter().find(|l| l.name.eq_ignore_ascii_case(w)));
        match found {
            Some(l) if !out.iter().any(|o| o.id == l.id) => out.push(l.clone()),
            Some(_) => {}
            None => {
                return Err(PullError::UnknownList {
                    name: w.to_string(),
                    available: available(),
                })
            }
        }
    }
    Ok(out)
}

/// Pulls the chosen lists into the mirror.
pub async fn pull(
    client: &Client,
    store: &Store,
    opts: &PullOptions,
    progress: &dyn Progress,
) -> Result<PullSummary, PullError> {
    pull_for_job(client, store, opts, progress, None).await
}

/// [`pull`] as a step of a job: its run row carries the job's name.
pub async fn pull_for_job(
    client: &Client,
    store: &Store,
    opts: &PullOptions,
    progress: &dyn Progress,
    job: Option<&str>,
) -> Result<PullSummary, PullError> {
    let started = Instant::now();
    let calls_before = client.stats().attempts;
    let run = store.begin_run(RunKind::Pull, job).await?;
    let result = pull_run(client, store, opts, progress, &run)
        .await
        .map(|mut summary| {
            summary.api_calls = client.stats().attempts - calls_before;
            summary.seconds = started.elapsed().as_secs_f64();
            summary
        });
    let api_calls = client.stats().attempts - calls_before;
    // A failed pull's run is closed as failed; the pages stored so far stay (a rerun
    // completes them).
    run.close(
        result,
        |s| RunEnd::ok(serde_json::to_value(s).unwrap_or_default(), api_calls),
        api_calls,
    )
    .await
}

async fn pull_run(
    client: &Client,
    store: &Store,
    opts: &PullOptions,
    progress: &dyn Progress,
    run: &Run,
) -> Result<PullSummary, PullError> {
    let run = run.id();
    let lists: Vec<ListRow> = client
        .lists_v2()
        .map_ok(|l| list_row(&l))
        .try_collect::<Vec<_>>()
        .await?
        .into_iter()
        .flatten()
        .collect();
    store.sync_lists(run, &lists, Utc::now()).await?;
    let chosen = choose_lists(&lists, &opts.lists, opts.all_lists)?;

    // v1's catalog carries what v2's lacks: dropdown options, multi-valued, list and entity.
    let v1_fields: BTreeMap<i64, v1::Field> = client
        .fields_v1(&[])
        .await?
        .into_iter()
        .map(|f| (f.id.0, f))
        .collect();

    let summaries: Vec<ListSummary> = futures::stream::iter(chosen.iter())
        .map(|l| pull_list(client, store, l, &v1_fields, progress, run))
        .buffer_unordered(opts.concurrency.max(1))
        .try_collect()
        .await?;
    let mut summaries = summaries;
    summaries.sort_by_key(|s| chosen.iter().position(|l| l.id == s.list_id));

    let mut summary = PullSummary {
        run: run.0,
        lists: summaries,
        ..Default::default()
    };
    check_orphans(client, store, run, &mut summary).await?;
    Ok(summary)
}

/// A v2 list as the mirror keeps it (none for a list of a type the mirror does not know).
pub fn list_row(l: &v2::List) -> Option<ListRow> {
    let kind = Kind::parse(l.list_type.as_deref()?)?;
    Some(ListRow {
        id: l.id.0,
        name: l.name.clone(),
        kind,
        is_public: l.is_public,
        owner_id: l.owner_id.map(|p| p.0),
        creator_id: l.creator_id.map(|p| p.0),
    })
}

/// A v2 field merged with what v1 knows of it (`field-N` is v1 field N, affinity-api.md §3.1).
pub fn field_row(meta: &v2::FieldMetadata, v1_fields: &BTreeMap<i64, v1::Field>) -> FieldRow {
    let v1 = meta
        .id
        .0
        .strip_prefix("field-")
        .and_then(|n| n.parse::<i64>().ok())
        .and_then(|n| v1_fields.get(&n));
    let entity_kind = v1.and_then(|f| match f.entity_type {
        Some(v1::EntityType::Person) => Some(Kind::Person),
        Some(v1::EntityType::Organization) => Some(Kind::Organization),
        Some(v1::EntityType::Opportunity) => Some(Kind::Opportunity),
        _ => None,
    });
    FieldRow {
        id: meta.id.0.clone(),
        name: meta.name.clone(),
        field_type: meta.field_type.clone(),
        value_type: meta.value_type.clone(),
        list_id: v1.and_then(|f| f.list_id.map(|l| l.0)),
        entity_kind,
        allows_multiple: v1.map(|f| f.allows_multiple).unwrap_or(false)
            || meta.value_type.ends_with("-multi"),
        enrichment_source: meta
            .enrichment_source
            .clone()
            .or_else(|| v1.and_then(|f| f.enrichment_source.clone()))
            .filter(|s| s != "none"),
        track_changes: v1.map(|f| f.track_changes),
        options: v1
            .map(|f| {
                let mut o: Vec<OptionRow> = f
                    .dropdown_options
                    .iter()
                    .map(|o| OptionRow {
                        option_id: o.id.0,
                        text: o.text.clone(),
                        rank: o.rank,
                        color: o.color.as_ref().map(|c| match c {
                            Color::Code(n) => n.to_string(),
                            Color::Name(s) => s.clone(),
                        }),
                    })
                    .collect();
                o.sort_by_key(|o| o.option_id);
                o
            })
            .unwrap_or_default(),
    }
}

async fn pull_list(
    client: &Client,
    store: &Store,
    list: &ListRow,
    v1_fields: &BTreeMap<i64, v1::Field>,
    progress: &dyn Progress,
    run: RunId,
) -> Result<ListSummary, PullError> {
    let started = Instant::now();
    let calls = AtomicU64::new(0);
    progress.list_started(list);
    let mut s = ListSummary {
        list_id: list.id,
        list: list.name.clone(),
        ..Default::default()
    };

    let metas: Vec<v2::FieldMetadata> = client.list_fields_v2(list.id.into()).try_collect().await?;
    calls.fetch_add(metas.len().div_ceil(100).max(1) as u64, Ordering::Relaxed);
    let fields: Vec<FieldRow> = metas.iter().map(|m| field_row(m, v1_fields)).collect();
    let f = store.sync_fields(run, list.id, &fields, Utc::now()).await?;
    s.fields_new = f.new;
    s.fields_changed = f.changed;

    let mut seen_entries = BTreeSet::new();
    let mut seen_entities = BTreeSet::new();
    let mut pages =
        client.list_entry_pages_v2(list.id.into(), &FieldSelection::types(ENTRY_FIELD_TYPES));
    while let Some(page) = pages.next().await {
        let page = page?;
        calls.fetch_add(1, Ordering::Relaxed);
        let data = page_data(&page.data);
        let out = store.apply_page(run, &data, Utc::now()).await?;
        s.entries_seen += out.seen;
        s.new += out.new;
        s.changed += out.changed;
        s.field_values += out.values_seen;
        s.field_values_written += out.values_written;
        seen_entries.extend(out.entry_ids);
        seen_entities.extend(out.entity_ids);
        progress.page_done(list.id, s.entries_seen);
    }
    s.entities = seen_entities.len();

    // Only a complete pass may say an entry is gone.
    let record = format!("list:{}", list.id);
    let last_seen = store.last_pulled_at(list.id).await?;
    let removed = store
        .flag_entries_gone(
            run,
            list.id,
            &seen_entries,
            last_seen.as_deref(),
            Utc::now(),
        )
        .await?;
    s.removed = removed.len();
    s.api_calls = calls.load(Ordering::Relaxed);
    s.seconds = started.elapsed().as_secs_f64();
    store
        .add_events(
            run,
            &[JournalEvent::new(record, Step::Pulled(s.clone()))],
            Utc::now(),
        )
        .await?;
    progress.list_done(&s);
    Ok(s)
}

/// Entities that no live entry holds: still in Affinity (only taken off their lists: kept),
/// deleted (flagged gone), or merged (flagged, with the survivor).
async fn check_orphans(
    client: &Client,
    store: &Store,
    run: RunId,
    summary: &mut PullSummary,
) -> Result<(), PullError> {
    let orphans = store.orphan_entities().await?;
    summary.entities_checked = orphans.len();
    for kind in Kind::ALL {
        let ids: Vec<i64> = orphans
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, id)| *id)
            .collect();
        for chunk in ids.chunks(100) {
            let present: BTreeSet<i64> = match kind {
                Kind::Organization => {
                    let ids: Vec<OrganizationId> = chunk.iter().map(|i| (*i).into()).collect();
                    client
                        .companies_v2(&ids, &FieldSelection::none())
                        .map_ok(|c| c.id.0)
                        .try_collect()
                        .await?
                }
                Kind::Person => {
                    let ids: Vec<PersonId> = chunk.iter().map(|i| (*i).into()).collect();
                    client
                        .persons_v2(&ids, &FieldSelection::none())
                        .map_ok(|p| p.id.0)
                        .try_collect()
                        .await?
                }
                Kind::Opportunity => {
                    let ids: Vec<OpportunityId> = chunk.iter().map(|i| (*i).into()).collect();
                    client
                        .opportunities_v2(&ids)
                        .map_ok(|o| o.id.0)
                        .try_collect()
                        .await?
                }
            };
            for id in chunk.iter().filter(|id| !present.contains(id)) {
                // One call each, only for the missing: it tells a merge (422 naming the
                // survivor, §8.4) from a deletion (404).
                let answer = match kind {
                    Kind::Organization => client
                        .company_v2((*id).into(), &FieldSelection::none())
                        .await
                        .map(|_| ()),
                    Kind::Person => client
                        .person_v2((*id).into(), &FieldSelection::none())
                        .await
                        .map(|_| ()),
                    Kind::Opportunity => client.opportunity_v2((*id).into()).await.map(|_| ()),
                };
                match answer {
                    Ok(()) => {}
                    Err(ApiError::Merged { new_id, .. }) => {
                        store
                            .flag_entity_gone(run, kind, *id, Some(new_id), Utc::now())
                            .await?;
                        summary.entities_merged += 1;
                    }
                    Err(ApiError::NotFound { .. }) => {
                        store
                            .flag_entity_gone(run, kind, *id, None, Utc::now())
                            .await?;
                        summary.entities_removed += 1;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    }
    Ok(())
}

/// One page of v2 list entries as mirror records.
pub fn page_data(entries: &[ListEntryWithEntity]) -> PageData {
    let mut records = Vec::with_capacity(entries.len());
    for e in entries {
        let (entity, fields) = match &e.entity {
            Entity::Company(c) => (
                EntityRow::Organization(OrganizationRow {
                    id: c.id.0,
                    name: c.name.clone(),
                    domain: c.domain.clone(),
                    domains: c.domains.clone(),
                    is_global: c.is_global,
                }),
                &c.fields,
            ),
            Entity::Person(p) => (
                EntityRow::Person(PersonRow {
                    id: p.id.0,
                    first_name: p.first_name.clone(),
                    last_name: p.last_name.clone(),
                    primary_email: p.primary_email_address.clone(),
                    emails: p.email_addresses.clone(),
                    person_type: p.person_type.clone(),
                }),
                &p.fields,
            ),
            Entity::Opportunity(o) => (
                EntityRow::Opportunity(OpportunityRow {
                    id: o.id.0,
                    name: o.name.clone(),
                    list_id: o.list_id.map(|l| l.0).or(Some(e.list_id.0)),
                }),
                &o.fields,
            ),
            Entity::Other { kind, .. } => {
                tracing::warn!(entry = e.id.0, kind = %kind, "skipping a list entry of an unknown type");
                continue;
            }
        };
        let kind = entity.kind();
        let values = fields
            .iter()
            .map(|f| OwnedValue {
                // List fields belong to the entry; the others to the entity (and so are
                // shared by every list it is on). Opportunities have only list fields (§2.3).
                owner: if f.field_type == "list" || kind == Kind::Opportunity {
                    Owner::Entry(e.id.0)
                } else {
                    Owner::Entity(kind, entity.id())
                },
                field_id: f.id.0.clone(),
                items: value_items(&f.value),
            })
            .collect();
        records.push(PageRecord {
            entry: EntryRow {
                id: e.id.0,
                list_id: e.list_id.0,
                entity_kind: kind,
                entity_id: entity.id(),
                created_at: e.created_at.map(crate::store::time_text),
                creator_id: e.creator_id.map(|p| p.0),
            },
            entity,
            values,
        });
    }
    PageData { records }
}

fn person_name(first: Option<&str>, last: Option<&str>, email: Option<&str>) -> Option<String> {
    let name = [first, last]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() {
        email.map(str::to_string)
    } else {
        Some(name)
    }
}

fn location_text(l: &v2::Location) -> Option<String> {
    let parts: Vec<&str> = [&l.street_address, &l.city, &l.state, &l.country]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// A v2 value as typed mirror items: none when empty, one per element when multi-valued.
pub fn value_items(v: &FieldValue) -> Vec<ValueItem> {
    let t = v.value_type().to_string();
    let item = || ValueItem {
        value_type: t.clone(),
        ..Default::default()
    };
    let text = |s: &String| ValueItem {
        text: Some(s.clone()),
        ..item()
    };
    let number = |n: f64| ValueItem {
        number: Some(n),
        ..item()
    };
    let location = |l: &v2::Location| ValueItem {
        text: location_text(l),
        json: serde_json::to_string(l).ok(),
        ..item()
    };
    let dropdown = |d: &v2::Dropdown| ValueItem {
        ref_id: Some(d.dropdown_option_id.0),
        text: d.text.clone(),
        ..item()
    };
    let person = |p: &v2::PersonRef| ValueItem {
        ref_id: Some(p.id.0),
        text: person_name(
            p.first_name.as_deref(),
            p.last_name.as_deref(),
            p.primary_email_address.as_deref(),
        ),
        json: serde_json::to_string(p).ok(),
        ..item()
    };
    let company = |c: &v2::CompanyRef| ValueItem {
        ref_id: Some(c.id.0),
        text: c.name.clone(),
        json: serde_json::to_string(c).ok(),
        ..item()
    };
    use FieldValue::*;
    match v {
        Text(s) | FilterableText(s) => s.iter().map(text).collect(),
        FilterableTextMulti(v) => v.iter().flatten().map(text).collect(),
        Number(n) => n.iter().map(|n| number(*n)).collect(),
        NumberMulti(v) => v.iter().flatten().map(|n| number(*n)).collect(),
        Datetime(d) => d
            .iter()
            .map(|d| ValueItem {
                at: Some(crate::store::time_text(*d)),
                ..item()
            })
            .collect(),
        Location(l) => l.iter().map(location).collect(),
        LocationMulti(v) => v.iter().flatten().map(location).collect(),
        Dropdown(d) => d.iter().map(dropdown).collect(),
        DropdownMulti(v) => v.iter().flatten().map(dropdown).collect(),
        RankedDropdown(r) => r
            .iter()
            .map(|r| ValueItem {
                ref_id: Some(r.dropdown_option_id.0),
                text: r.text.clone(),
                number: r.rank.map(|n| n as f64),
                ..item()
            })
            .collect(),
        Person(p) => p.iter().map(person).collect(),
        PersonMulti(v) => v.iter().flatten().map(person).collect(),
        Company(c) => c.iter().map(company).collect(),
        CompanyMulti(v) => v.iter().flatten().map(company).collect(),
        FormulaNumber(f) => f
            .iter()
            .filter_map(|f| f.calculated_value)
            .map(number)
            .collect(),
        Interaction(i) => i
            .iter()
            .map(|i| ValueItem {
                text: Some(i.kind.clone()),
                at: i.at.map(crate::store::time_text),
                ref_id: i.id,
                json: Some(i.raw.to_string()),
                ..item()
            })
            .collect(),
        Other { data, .. } => match data {
            serde_json::Value::Null => vec![],
            serde_json::Value::Array(a) => a
                .iter()
                .map(|x| ValueItem {
                    json: Some(x.to_string()),
                    ..item()
                })
                .collect(),
            x => vec![ValueItem {
                json: Some(x.to_string()),
                ..item()
            }],
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lists() -> Vec<ListRow> {
        vec![
            ListRow {
                id: 301,
                name: "Deal Flow".into(),
                kind: Kind::Organization,
                is_public: true,
                owner_id: None,
                creator_id: None,
            },
            ListRow {
                id: 302,
                name: "LPs".into(),
                kind: Kind::Person,
                is_public: true,
                owner_id: None,
                creator_id: None,
            },
        ]
    }

    #[test]
    fn lists_are_chosen_by_id_or_name_in_any_case() {
        let got = choose_lists(&lists(), &["deal flow".into(), "302".into()], false).unwrap();
        assert_eq!(got.iter().map(|l| l.id).collect::<Vec<_>>(), vec![301, 302]);
        let got = choose_lists(&lists(), &["301".into(), "Deal Flow".into()], false).unwrap();
        assert_eq!(got.len(), 1, "a list named twice is pulled once");
        assert_eq!(choose_lists(&lists(), &[], true).unwrap().len(), 2);
    }

    #[test]
    fn an_unknown_list_names_the_available_ones() {
        let e = choose_lists(&lists(), &["Dealflow".into()], false).unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("no list named `Dealflow`"), "{msg}");
        assert!(msg.contains("Deal Flow (301), LPs (302)"), "{msg}");
        let e = choose_lists(&lists(), &[], false).unwrap_err();
        assert!(e.hint().is_some_and(|h| h.contains("--all-lists")), "{e}");
    }

    #[test]
    fn values_become_typed_items() {
        let v: FieldValue = serde_json::from_value(serde_json::json!({
            "type": "dropdown-multi",
            "data": [{"dropdownOptionId": 7, "text": "Seed"}, {"dropdownOptionId": 8, "text": "A"}]
        }))
        .unwrap();
        let items = value_items(&v);
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].ref_id, Some(8));
        assert_eq!(items[1].text.as_deref(), Some("A"));
        let empty: FieldValue =
            serde_json::from_value(serde_json::json!({"type": "number-multi", "data": null}))
                .unwrap();
        assert!(
            value_items(&empty).is_empty(),
            "an empty multi value has no items"
        );
        let d: FieldValue = serde_json::from_value(
            serde_json::json!({"type": "datetime", "data": "2024-04-01T07:00:00Z"}),
        )
        .unwrap();
        assert_eq!(
            value_items(&d)[0].at.as_deref(),
            Some("2024-04-01T07:00:00.000Z")
        );
        let p: FieldValue = serde_json::from_value(serde_json::json!({
            "type": "person", "data": {"id": 5, "firstName": "Ada", "lastName": null, "primaryEmailAddress": "a@x.io"}
        }))
        .unwrap();
        assert_eq!(value_items(&p)[0].text.as_deref(), Some("Ada"));
    }
}
