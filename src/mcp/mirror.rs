//! Mirror tools: answered from the mirror and the journal, never from Affinity. Each answer
//! carries `mirror`: when the last pull ended and when each list was last pulled.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{json, Value as Json};

use super::find::verdict;
use super::present::field_json;
use super::schema::tool;
use super::{parse, Group, McpServer, Snapshot, ToolError, ToolSpec};
use crate::store::mcp::{ValueFilter, ValueTest};
use crate::store::review::{QueueFilter, QueueStatus};
use affsync_core::journal::{RunKind, RunStatus};
use affsync_core::matcher::Kind;
use affsync_core::model::FieldRow;

/// A kind of record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KindArg {
    /// An organization (a company; v2 says `company`).
    Organization,
    /// A person.
    Person,
    /// An opportunity (a deal on an opportunity list).
    Opportunity,
}

impl KindArg {
    pub fn kind(self) -> Kind {
        match self {
            KindArg::Organization => Kind::Organization,
            KindArg::Person => Kind::Person,
            KindArg::Opportunity => Kind::Opportunity,
        }
    }
}

/// Finds an organization by name or domain.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindOrganizationArgs {
    /// A name (misspellings, legal forms and accents are fine: `Nortwind Analytcs`) or a
    /// domain or website (`northwind.io`, `https://www.northwind.io/about`), which is looked
    /// up exactly.
    #[schemars(length(min = 1, max = 200), example = &"Northwind Analytics")]
    pub query: String,
    /// At most this many records, best first (1 to 25; default 5).
    #[schemars(range(min = 1, max = 25))]
    pub limit: Option<u32>,
    /// Leave out records scoring below this (0 to 1; default 0.5). 0.92 and up reads as the
    /// same record, 0.80 to 0.92 as a possible one.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_score: Option<f64>,
}

/// Finds a person by name or email.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindPersonArgs {
    /// A full name (in either order, with typos or initials: `Lovelace, A.`) or an email
    /// address, which is looked up exactly (gmail dots and `+tags` folded).
    #[schemars(length(min = 1, max = 200), example = &"Ada Lovelace")]
    pub query: String,
    /// At most this many records, best first (1 to 25; default 5).
    #[schemars(range(min = 1, max = 25))]
    pub limit: Option<u32>,
    /// Leave out records scoring below this (0 to 1; default 0.5).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_score: Option<f64>,
}

/// Finds an opportunity by name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FindOpportunityArgs {
    /// The opportunity's name, or part of it, misspellings allowed (`Northwind Series B`).
    #[schemars(length(min = 1, max = 200), example = &"Northwind Series B")]
    pub query: String,
    /// At most this many records, best first (1 to 25; default 5).
    #[schemars(range(min = 1, max = 25))]
    pub limit: Option<u32>,
    /// Leave out records scoring below this (0 to 1; default 0.5).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_score: Option<f64>,
}

/// One record of the mirror.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetRecordArgs {
    /// What kind of record `id` is.
    pub kind: KindArg,
    /// Its Affinity id (as a find tool gives it).
    #[schemars(range(min = 1), example = 201)]
    pub id: i64,
}

/// How a filter compares a field's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FilterOp {
    /// The text (any case), the number, the option, or the date (`2026-03-01`) equals `value`.
    Equals,
    /// The text contains `value` (any case).
    Contains,
    /// A number above `value`, or a date after it.
    GreaterThan,
    /// A number below `value`, or a date before it.
    LessThan,
    /// The field has a value (`value` is not used).
    IsSet,
    /// The field has no value (`value` is not used).
    IsNotSet,
}

/// One condition on a field.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueFilterArg {
    /// The field's name as Affinity shows it (`Stage`, `Industry`) or its id (`field-123`).
    #[schemars(length(min = 1), example = &"Stage")]
    pub field: String,
    /// How to compare.
    pub op: FilterOp,
    /// What to compare with (a text, a number, a date `YYYY-MM-DD`, a dropdown option's text).
    #[schemars(example = &"Term Sheet")]
    pub value: Option<String>,
}

/// A list's entries from the mirror, filtered on field values.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchListArgs {
    /// The list's name (any case) or id.
    #[schemars(length(min = 1), example = &"Deal Flow")]
    pub list: String,
    /// Every filter must hold (none: every entry).
    #[serde(default)]
    pub filters: Vec<ValueFilterArg>,
    /// Entries per answer (1 to 200; default 25).
    #[schemars(range(min = 1, max = 200))]
    pub limit: Option<u32>,
    /// Entries to skip, for the next page (default 0).
    #[schemars(range(min = 0))]
    pub offset: Option<u32>,
}

/// A record's journal timeline.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTimelineArgs {
    /// What kind of record `id` is.
    pub kind: KindArg,
    /// Its Affinity id.
    #[schemars(range(min = 1), example = 201)]
    pub id: i64,
    /// The last this many events (1 to 500; default 100).
    #[schemars(range(min = 1, max = 500))]
    pub limit: Option<u32>,
}

/// A run's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatusArg {
    Running,
    Ok,
    Partial,
    Failed,
}

/// A kind of run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RunKindArg {
    Pull,
    Match,
    Push,
    PushDryRun,
    Job,
    Review,
    LogActivity,
    Contacts,
    Mcp,
}

/// The runs of the journal.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRunsArgs {
    /// Only runs with this outcome.
    pub status: Option<RunStatusArg>,
    /// Only runs of this kind.
    pub kind: Option<RunKindArg>,
    /// The newest this many (1 to 200; default 20).
    #[schemars(range(min = 1, max = 200), example = 20)]
    pub limit: Option<u32>,
}

/// Which records of the review queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum QueueStatusArg {
    /// Not decided yet (in review or unmatched).
    Open,
    /// Not decided, the matcher could not choose between candidates.
    Review,
    /// Not decided, no candidate.
    Unmatched,
    /// Decided by a reviewer.
    Decided,
    /// All of them.
    All,
}

/// The review queue.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewQueueArgs {
    /// A mapping file as `affsync match` keys it (`mappings/companies.toml`); all when absent.
    #[schemars(example = &"mappings/companies.toml")]
    pub mapping: Option<String>,
    /// Which records (default `open`).
    pub status: Option<QueueStatusArg>,
    /// Only records whose best score is at least this.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub min_score: Option<f64>,
    /// Only records whose best score is at most this.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub max_score: Option<f64>,
    /// Records per answer (1 to 100; default 20).
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<u32>,
    /// Records to skip, for the next page.
    #[schemars(range(min = 0))]
    pub offset: Option<u32>,
}

/// The lists and fields the mirror holds.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MirrorCatalogArgs {
    /// Only this list's fields (name or id); every field when absent.
    #[schemars(example = &"Deal Flow")]
    pub list: Option<String>,
}

pub fn specs() -> Vec<ToolSpec> {
    vec![
        tool::<FindOrganizationArgs>(
            "find_organization",
            Group::Mirror,
            "Find an organization",
            "Finds organizations in the mirror by name (fuzzy, through affsync's matcher: a misspelt name still finds its record) or by domain or website (exact). Each result has its id, name, domains, lists, a score from 0 to 1 and a verdict (`match` from 0.92, `possible` from 0.80, else `weak`). Use the id with get_record.",
            json!({"query": "Nortwind Analytcs", "limit": 5}),
        ),
        tool::<FindPersonArgs>(
            "find_person",
            Group::Mirror,
            "Find a person",
            "Finds persons in the mirror by name (fuzzy: order, typos and initials tolerated) or by email (exact, normalized). Each result has its id, name, emails, lists, score and verdict.",
            json!({"query": "ada.lovelace@example.com"}),
        ),
        tool::<FindOpportunityArgs>(
            "find_opportunity",
            Group::Mirror,
            "Find an opportunity",
            "Finds opportunities (deals) in the mirror by name, fuzzily. Each result has its id, name, lists, score and verdict.",
            json!({"query": "Northwind Series B", "min_score": 0.6}),
        ),
        tool::<GetRecordArgs>(
            "get_record",
            Group::Mirror,
            "Read a record",
            "One organization, person or opportunity from the mirror: its name, domains or emails, every field value it holds (global, enriched and relationship-intelligence, by field name), each list it is on with that entry's list fields, and its interaction dates (first and last email, last meeting, next meeting, ...).",
            json!({"kind": "organization", "id": 201}),
        ),
        tool::<SearchListArgs>(
            "search_list",
            Group::Mirror,
            "Search a list",
            "A list's live entries from the mirror, each with its entity and field values, filtered on field values (every filter must hold), a page at a time by entry id. Field names are the ones mirror_catalog gives.",
            json!({"list": "Deal Flow", "filters": [{"field": "Stage", "op": "equals", "value": "Term Sheet"}], "limit": 25}),
        ),
        tool::<RecordTimelineArgs>(
            "record_timeline",
            Group::Mirror,
            "A record's timeline",
            "What affsync's journal holds about a record, oldest first: pulled as new or changed, matched by a mapping file's records, fields pushed (old → new), added to lists, reviewers' verdicts, writes made through this server (with the assistant that asked).",
            json!({"kind": "organization", "id": 201, "limit": 50}),
        ),
        tool::<ListRunsArgs>(
            "list_runs",
            Group::Mirror,
            "Runs and outcomes",
            "The runs of affsync's journal, newest first (pulls, matches, pushes, jobs, reviews, writes made through this server): kind, job, start and end, status, error, the API calls each made and its counts per step.",
            json!({"status": "failed", "limit": 10}),
        ),
        tool::<ReviewQueueArgs>(
            "review_queue",
            Group::Mirror,
            "The review queue",
            "Records of enrichment files that matching could not settle (in review or unmatched), newest run first, with their candidates (id, name, score), the matcher's reason, and any reviewer's verdict; and how many are reviewed and remaining.",
            json!({"status": "open", "min_score": 0.8, "limit": 20}),
        ),
        tool::<MirrorCatalogArgs>(
            "mirror_catalog",
            Group::Mirror,
            "Lists and fields",
            "The lists the mirror holds (id, name, kind, when pulled) and the field catalog: each field's id, name, type (global, list, enriched, relationship-intelligence), value type, list and dropdown options. Field names here are what search_list and set_fields take.",
            json!({"list": "Deal Flow"}),
        ),
    ]
}

fn clamp(v: Option<u32>, default: u32, max: u32) -> usize {
    v.unwrap_or(default).clamp(1, max) as usize
}

impl McpServer {
    pub(super) async fn mirror_call(&self, name: &str, args: Json) -> Result<Json, ToolError> {
        let snap = self.snapshot().await?;
        let mut out = match name {
            "find_organization" => {
                let a: FindOrganizationArgs = parse(args)?;
                self.find(&snap, Kind::Organization, &a.query, a.limit, a.min_score)
            }
            "find_person" => {
                let a: FindPersonArgs = parse(args)?;
                self.find(&snap, Kind::Person, &a.query, a.limit, a.min_score)
            }
            "find_opportunity" => {
                let a: FindOpportunityArgs = parse(args)?;
                self.find(&snap, Kind::Opportunity, &a.query, a.limit, a.min_score)
            }
            "get_record" => self.get_record(&snap, parse(args)?).await,
            "search_list" => self.search_list(&snap, parse(args)?).await,
            "record_timeline" => self.record_timeline(parse(args)?).await,
            "list_runs" => self.list_runs(parse(args)?).await,
            "review_queue" => self.review_queue(parse(args)?).await,
            "mirror_catalog" => self.mirror_catalog(&snap, parse(args)?),
            other => Err(ToolError::new(format!("no mirror tool `{other}`"), "")),
        }?;
        if let Json::Object(o) = &mut out {
            o.insert("mirror".into(), snap.freshness_json());
        }
        Ok(out)
    }

    fn find(
        &self,
        snap: &Snapshot,
        kind: Kind,
        query: &str,
        limit: Option<u32>,
        min_score: Option<f64>,
    ) -> Result<Json, ToolError> {
        if query.trim().is_empty() {
            return Err(ToolError::new(
                "`query` is empty",
                "give a name, a domain or an email",
            ));
        }
        let idx = snap.index_of(kind);
        let hits = idx.find(query, clamp(limit, 5, 25), min_score.unwrap_or(0.5));
        let results: Vec<Json> = hits
            .iter()
            .map(|h| {
                let c = &idx.cands[h.cand];
                let mut r = json!({
                    "kind": kind.as_str(),
                    "id": c.id.parse::<i64>().ok(),
                    "name": c.name,
                    "score": (h.score * 1000.0).round() / 1000.0,
                    "verdict": verdict(h.score),
                    "found_by": h.by,
                    "lists": c.lists.iter().map(|l| l.name.clone()).collect::<Vec<_>>(),
                });
                match kind {
                    Kind::Organization => {
                        r["domains"] = json!(c.domains);
                        r["global"] = json!(c.global);
                    }
                    Kind::Person => r["emails"] = json!(c.emails),
                    Kind::Opportunity => {}
                }
                r
            })
            .collect();
        let note = if results.is_empty() {
            format!(
                "no {} in the mirror resembles `{query}`: it may not be on a pulled list; the live tool list_{} asks Affinity (1 call)",
                kind.as_str(),
                kind.plural()
            )
        } else {
            format!(
                "{} of {} {} in the mirror",
                results.len(),
                idx.cands.len(),
                kind.plural()
            )
        };
        Ok(json!({ "query": query, "results": results, "note": note }))
    }

    async fn get_record(&self, snap: &Snapshot, a: GetRecordArgs) -> Result<Json, ToolError> {
        let kind = a.kind.kind();
        let store = self.store();
        let Some(rec) = store.mirror_record(kind, a.id).await? else {
            return Err(ToolError::new(
                format!("the mirror has no {} {}", kind.as_str(), a.id),
                format!(
                    "find it with find_{} (by name), or ask Affinity with get_{} (1 call)",
                    kind.as_str(),
                    kind.as_str()
                ),
            ));
        };
        let fields: BTreeMap<&str, &FieldRow> = snap
            .catalog
            .fields
            .iter()
            .map(|f| (f.id.as_str(), f))
            .collect();
        let own = store
            .values_of(kind.as_str(), &[a.id])
            .await?
            .remove(&a.id)
            .unwrap_or_default();
        let mut values = Vec::new();
        let mut interactions = serde_json::Map::new();
        for (fid, items) in &own {
            let f = fields.get(fid.as_str()).copied();
            if items.iter().any(|i| i.value_type == "interaction") {
                let at = items.iter().find_map(|i| i.at.clone());
                let name = f.map(|f| f.name.clone()).unwrap_or_else(|| fid.clone());
                interactions.insert(name, json!(at));
                continue;
            }
            values.push(field_json(f, fid, items));
        }
        let memberships = store.memberships(kind, a.id).await?;
        let entry_ids: Vec<i64> = memberships.iter().map(|m| m.entry_id).collect();
        let mut entry_values = store.values_of("entry", &entry_ids).await?;
        let lists: Vec<Json> = memberships
            .iter()
            .map(|m| {
                let vals = entry_values.remove(&m.entry_id).unwrap_or_default();
                json!({
                    "list": m.list_name, "list_id": m.list_id, "entry_id": m.entry_id,
                    "added_at": m.created_at, "removed_at": m.gone_at,
                    "fields": vals.iter().map(|(fid, items)| field_json(fields.get(fid.as_str()).copied(), fid, items)).collect::<Vec<_>>(),
                })
            })
            .collect();
        let mut record = json!({
            "kind": kind.as_str(), "id": rec.id, "name": rec.name,
            "first_seen_at": rec.first_seen_at, "changed_at": rec.changed_at,
        });
        match kind {
            Kind::Organization => {
                record["domain"] = json!(rec.domain);
                record["domains"] = json!(rec.domains);
                record["global"] = json!(rec.is_global);
            }
            Kind::Person => {
                record["first_name"] = json!(rec.first_name);
                record["last_name"] = json!(rec.last_name);
                record["primary_email"] = json!(rec.primary_email);
                record["emails"] = json!(rec.emails);
                record["person_type"] = json!(rec.person_type);
            }
            Kind::Opportunity => record["list_id"] = json!(rec.list_id),
        }
        if let Some(g) = &rec.gone_at {
            record["gone_at"] = json!(g);
        }
        if let Some(m) = rec.merged_into {
            record["merged_into"] = json!(m);
        }
        Ok(json!({
            "record": record,
            "fields": values,
            "lists": lists,
            "interactions": interactions,
        }))
    }

    async fn search_list(&self, snap: &Snapshot, a: SearchListArgs) -> Result<Json, ToolError> {
        let Some(list) = snap.catalog.find_list(&a.list).cloned() else {
            let names: Vec<String> = snap
                .catalog
                .lists
                .iter()
                .map(|l| format!("`{}`", l.name))
                .collect();
            return Err(ToolError::new(
                format!("the mirror holds no list `{}`", a.list),
                if names.is_empty() {
                    "pull a list first (`affsync pull --all-lists`)".to_string()
                } else {
                    format!("the lists are {}", names.join(", "))
                },
            ));
        };
        let carried: BTreeSet<&str> = snap
            .catalog
            .list_fields
            .get(&list.id)
            .map(|v| v.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let mut filters = Vec::new();
        for f in &a.filters {
            let w = f.field.trim();
            let field = snap
                .catalog
                .fields
                .iter()
                .filter(|x| carried.contains(x.id.as_str()) || x.list_id == Some(list.id))
                .find(|x| x.id == w || x.name.eq_ignore_ascii_case(w))
                .ok_or_else(|| {
                    let names: Vec<String> = snap
                        .catalog
                        .fields
                        .iter()
                        .filter(|x| carried.contains(x.id.as_str()) || x.list_id == Some(list.id))
                        .map(|x| x.name.clone())
                        .collect();
                    let close = affsync_core::mapping::convert::closest(w, &names, 3);
                    ToolError::new(
                        format!("`{}` has no field `{w}`", list.name),
                        if close.is_empty() {
                            "mirror_catalog lists the list's fields".to_string()
                        } else {
                            format!(
                                "did you mean {}?",
                                close
                                    .iter()
                                    .map(|c| format!("`{c}`"))
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                    )
                })?;
            let value = f.value.clone().unwrap_or_default();
            let number = value.trim().replace(',', "").parse::<f64>().ok();
            let needs_value = !matches!(f.op, FilterOp::IsSet | FilterOp::IsNotSet);
            if needs_value && value.trim().is_empty() {
                return Err(ToolError::new(
                    format!("the filter on `{}` needs a `value`", field.name),
                    "give `value`, or use `is_set` / `is_not_set`",
                ));
            }
            let test = match f.op {
                FilterOp::Equals => ValueTest::Equals {
                    text: value,
                    number,
                },
                FilterOp::Contains => ValueTest::Contains(value),
                FilterOp::GreaterThan => ValueTest::Above {
                    text: value,
                    number,
                },
                FilterOp::LessThan => ValueTest::Below {
                    text: value,
                    number,
                },
                FilterOp::IsSet => ValueTest::IsSet,
                FilterOp::IsNotSet => ValueTest::IsNotSet,
            };
            filters.push(ValueFilter {
                field_id: field.id.clone(),
                on_entry: field.list_id.is_some() || field.field_type == "list",
                test,
            });
        }
        let limit = clamp(a.limit, 25, 200) as i64;
        let offset = a.offset.unwrap_or(0) as i64;
        let store = self.store();
        let (hits, more) = store
            .filtered_entries(list.id, list.kind, &filters, offset, limit)
            .await?;
        let entry_ids: Vec<i64> = hits.iter().map(|h| h.entry.id).collect();
        let entity_ids: Vec<i64> = hits.iter().map(|h| h.entry.entity_id).collect();
        let mut ev = store.values_of("entry", &entry_ids).await?;
        let mut gv = store.values_of(list.kind.as_str(), &entity_ids).await?;
        let fields: BTreeMap<&str, &FieldRow> = snap
            .catalog
            .fields
            .iter()
            .map(|f| (f.id.as_str(), f))
            .collect();
        let entries: Vec<Json> = hits
            .iter()
            .map(|h| {
                let mut vals: Vec<Json> = Vec::new();
                for (fid, items) in ev
                    .remove(&h.entry.id)
                    .unwrap_or_default()
                    .iter()
                    .chain(gv.remove(&h.entry.entity_id).unwrap_or_default().iter())
                {
                    if !carried.is_empty() && !carried.contains(fid.as_str()) {
                        continue;
                    }
                    vals.push(field_json(fields.get(fid.as_str()).copied(), fid, items));
                }
                json!({
                    "entry_id": h.entry.id,
                    "entity": {
                        "kind": list.kind.as_str(), "id": h.entry.entity_id, "name": h.name,
                        "domain": h.domain, "email": h.email,
                    },
                    "added_at": h.entry.created_at,
                    "fields": vals,
                })
            })
            .collect();
        Ok(json!({
            "list": { "id": list.id, "name": list.name, "kind": list.kind.as_str() },
            "entries": entries,
            "offset": offset,
            "more": more,
            "next_offset": more.then_some(offset + limit),
        }))
    }

    async fn record_timeline(&self, a: RecordTimelineArgs) -> Result<Json, ToolError> {
        let kind = a.kind.kind();
        let store = self.store();
        let mut records = vec![format!("{}:{}", kind.as_str(), a.id)];
        for m in store.memberships(kind, a.id).await? {
            records.push(format!("entry:{}", m.entry_id));
        }
        let mut mappings = BTreeMap::new();
        for (mapping, source) in store.decisions_naming(&a.id.to_string()).await? {
            let r = format!("src:{source}");
            mappings
                .entry(r.clone())
                .or_insert_with(BTreeSet::new)
                .insert(mapping);
            records.push(r);
        }
        records.sort();
        records.dedup();
        let limit = clamp(a.limit, 100, 500) as i64;
        let events = store.events_of_records(&records, limit * 2).await?;
        let id = a.id.to_string();
        let mut out = Vec::new();
        for (e, run_kind, job) in events {
            // A source record's events are about this record only under a mapping whose
            // decision names it (another file's `src:X` is another record).
            if e.event.record.starts_with("src:") {
                let ok = match (&e.event.mapping, mappings.get(&e.event.record)) {
                    (Some(m), Some(ms)) => ms.contains(m),
                    _ => e.event.step.affinity_id().as_deref() == Some(id.as_str()),
                };
                if !ok {
                    continue;
                }
            }
            out.push(json!({
                "at": e.at, "run": e.run_id.0, "run_kind": run_kind, "job": job,
                "record": e.event.record, "mapping": e.event.mapping,
                "step": e.event.step.name(), "what": e.event.step.describe(),
            }));
        }
        let skip = out.len().saturating_sub(limit as usize);
        let out: Vec<Json> = out.into_iter().skip(skip).collect();
        Ok(json!({ "records": records, "events": out }))
    }

    async fn list_runs(&self, a: ListRunsArgs) -> Result<Json, ToolError> {
        let limit = clamp(a.limit, 20, 200) as i64;
        let status = a.status.map(|s| match s {
            RunStatusArg::Running => RunStatus::Running,
            RunStatusArg::Ok => RunStatus::Ok,
            RunStatusArg::Partial => RunStatus::Partial,
            RunStatusArg::Failed => RunStatus::Failed,
        });
        let kind = a.kind.map(|k| match k {
            RunKindArg::Pull => RunKind::Pull,
            RunKindArg::Match => RunKind::Match,
            RunKindArg::Push => RunKind::Push,
            RunKindArg::PushDryRun => RunKind::PushDryRun,
            RunKindArg::Job => RunKind::Job,
            RunKindArg::Review => RunKind::Review,
            RunKindArg::LogActivity => RunKind::LogActivity,
            RunKindArg::Contacts => RunKind::Contacts,
            RunKindArg::Mcp => RunKind::Mcp,
        });
        let store = self.store();
        let fetch = if kind.is_some() { limit * 20 } else { limit };
        let mut runs = store
            .runs_with_status(status.map(RunStatus::as_str), fetch)
            .await?;
        if let Some(k) = kind {
            runs.retain(|r| r.kind == k.as_str());
        }
        runs.truncate(limit as usize);
        let ids: Vec<i64> = runs.iter().map(|r| r.id.0).collect();
        let steps = store.step_counts(&ids).await?;
        let out: Vec<Json> = runs
            .iter()
            .map(|r| {
                json!({
                    "run": r.id.0, "kind": r.kind, "job": r.job, "started_at": r.started_at,
                    "ended_at": r.ended_at, "status": r.status, "api_calls": r.api_calls,
                    "error": r.error, "counts": r.counts,
                    "steps": steps.get(&r.id.0),
                })
            })
            .collect();
        Ok(json!({ "runs": out }))
    }

    async fn review_queue(&self, a: ReviewQueueArgs) -> Result<Json, ToolError> {
        let status = match a.status.unwrap_or(QueueStatusArg::Open) {
            QueueStatusArg::Open => QueueStatus::Open,
            QueueStatusArg::Review => QueueStatus::Review,
            QueueStatusArg::Unmatched => QueueStatus::Unmatched,
            QueueStatusArg::Decided => QueueStatus::Decided,
            QueueStatusArg::All => QueueStatus::All,
        };
        let filter = QueueFilter {
            mapping: a.mapping.clone(),
            status,
            min_score: a.min_score,
            max_score: a.max_score,
        };
        let limit = clamp(a.limit, 20, 100) as i64;
        let offset = a.offset.unwrap_or(0) as i64;
        let store = self.store();
        let (items, total) = store.review_queue(&filter, offset, limit).await?;
        let progress = store.review_progress(a.mapping.as_deref()).await?;
        let mut ids = BTreeSet::new();
        for i in &items {
            if let Some(Json::Array(cs)) = &i.decision.candidates {
                for c in cs {
                    if let Some(id) = c["affinity_id"]
                        .as_str()
                        .and_then(|s| s.parse().ok())
                        .or_else(|| c["affinity_id"].as_i64())
                    {
                        ids.insert(id);
                    }
                }
            }
        }
        let names = store.names_by_id(&ids).await?;
        let out: Vec<Json> = items
            .iter()
            .map(|i| {
                let d = &i.decision;
                let cands: Vec<Json> = match &d.candidates {
                    Some(Json::Array(cs)) => cs
                        .iter()
                        .map(|c| {
                            let id = c["affinity_id"]
                                .as_str()
                                .and_then(|s| s.parse::<i64>().ok())
                                .or_else(|| c["affinity_id"].as_i64());
                            json!({
                                "affinity_id": id, "score": c["score"],
                                "name": id.and_then(|id| names.get(&id)).map(|(_, n)| n.clone()),
                            })
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                json!({
                    "mapping": d.mapping, "source_id": d.source_id, "status": d.status,
                    "score": d.score, "reason": d.reason, "record": d.record,
                    "candidates": cands, "run": d.run_id.map(|r| r.0),
                    "verdict": i.review.as_ref().map(|r| json!({
                        "verdict": r.verdict.as_str(), "affinity_id": r.affinity_id,
                        "decided_by": r.decided_by, "decided_at": r.decided_at,
                    })),
                })
            })
            .collect();
        Ok(json!({
            "items": out, "total": total, "offset": offset,
            "progress": { "reviewed": progress.reviewed, "remaining": progress.remaining },
        }))
    }

    fn mirror_catalog(&self, snap: &Snapshot, a: MirrorCatalogArgs) -> Result<Json, ToolError> {
        let list = match &a.list {
            None => None,
            Some(l) => Some(snap.catalog.find_list(l).cloned().ok_or_else(|| {
                ToolError::new(
                    format!("the mirror holds no list `{l}`"),
                    "leave `list` out to see every list",
                )
            })?),
        };
        let carried: Option<BTreeSet<&str>> = list.as_ref().map(|l| {
            snap.catalog
                .list_fields
                .get(&l.id)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default()
        });
        let lists: Vec<Json> = snap
            .catalog
            .lists
            .iter()
            .map(|l| {
                let pulled = snap
                    .freshness
                    .lists
                    .iter()
                    .find(|(id, _, _)| *id == l.id)
                    .and_then(|(_, _, at)| at.clone());
                json!({ "id": l.id, "name": l.name, "kind": l.kind.as_str(), "public": l.is_public, "last_pulled_at": pulled })
            })
            .collect();
        let fields: Vec<Json> = snap
            .catalog
            .fields
            .iter()
            .filter(|f| {
                carried
                    .as_ref()
                    .is_none_or(|c| c.contains(f.id.as_str()) || list.as_ref().is_some_and(|l| f.list_id == Some(l.id)))
            })
            .map(|f| {
                json!({
                    "id": f.id, "name": f.name, "field_type": f.field_type, "value_type": f.value_type,
                    "list_id": f.list_id, "entity": f.entity_kind.map(|k| k.as_str()),
                    "multiple": f.allows_multiple, "writable": !f.is_affinity_owned(),
                    "options": f.options.iter().map(|o| o.text.clone()).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(json!({ "lists": lists, "fields": fields }))
    }
}
