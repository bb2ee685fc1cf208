//! Resolve: every lookup a push plan needs, before the plan is made (DESIGN.md "plan, then
//! apply"). In order, per record:
//!
//! 1. a reviewer's verdict;
//! 2. its search term in the mirror;
//! 3. its search term in Affinity (one term search per distinct key the mirror lacks, then an
//!    exact comparison of the normalized key; a push's mirror learns what was found);
//! 4. the fuzzy model over the mirror.
//!
//! Then a create an earlier run began and never confirmed is looked for by its exact name, the
//! mirror's values of the matched records are read (from Affinity for those on no list in the
//! mirror, whose values no pull keeps), and persons and organizations that values name by email
//! or domain are looked up. What comes out is immutable: the planner's input.

use std::collections::{BTreeMap, BTreeSet};

use chrono::Utc;
use futures::{StreamExt, TryStreamExt};

use crate::matching::{self, record_keys, MatchCounts, MatchInputs};
use crate::pull::ENTITY_FIELD_TYPES;
use crate::store::pushed::LearnedEntity;
use crate::store::Store;
use affinity_crm::{v2, Client, FieldSelection, OrganizationId, PersonId};
use affsync_core::journal::{record_key, Step, PUSH_WRITE_STEPS};
use affsync_core::mapping::catalog::MirrorRefs;
use affsync_core::mapping::check::{check, Severity};
use affsync_core::mapping::{Mapping, PushMode};
use affsync_core::matcher::{normalize, Candidate, Decision, Kind, Method, Status};
use affsync_core::model::{ListRow, OwnedValue, Owner, RunId};
use affsync_core::plan::push::{bind_fields, Bound, MirrorState, PlanInput};

use super::{PushError, PushOptions};

/// A push checked and bound, before any call: the mapping, its list and its fields.
pub struct Prepared<'m> {
    pub mapping: &'m Mapping,
    pub mode: PushMode,
    pub strict: bool,
    pub list: Option<ListRow>,
    pub bound: Vec<Bound>,
    /// The persons and organizations the mirror knows (values may name them).
    pub refs: MirrorRefs,
}

/// Checks the mapping against the mirror's catalog (a mapping Affinity would reject costs no
/// call), finds its list and binds its fields.
pub async fn prepare<'m>(
    store: &Store,
    mapping: &'m Mapping,
    opts: &PushOptions,
) -> Result<Prepared<'m>, PushError> {
    let spec = mapping
        .push
        .as_ref()
        .ok_or_else(|| PushError::NoPushSection(mapping.file()))?;
    let catalog = store.catalog().await?;
    let refs = store.mirror_refs().await?;
    let sample = crate::io::source::sample_source(mapping);
    let errors: Vec<_> = check(mapping, &catalog, &refs, &sample)
        .into_iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Err(PushError::Check(errors));
    }
    let list = match &spec.add_to_list {
        None => None,
        Some(l) => {
            Some(
                catalog
                    .find_list(l.get_ref())
                    .cloned()
                    .ok_or_else(|| PushError::Mapping {
                        file: mapping.file(),
                        line: mapping.line(l.span()),
                        message: format!(
                            "`push.add_to_list` names `{}`, which the mirror does not hold",
                            l.get_ref()
                        ),
                        hint: "name a list as Affinity spells it (or its id), and pull it first"
                            .into(),
                    })?,
            )
        }
    };
    let bound = bind_fields(mapping, &catalog, list.as_ref()).map_err(|e| PushError::Mapping {
        file: mapping.file(),
        line: e.line,
        message: e.message,
        hint: e.hint,
    })?;
    Ok(Prepared {
        mapping,
        mode: *spec.mode.get_ref(),
        strict: opts.strict || spec.strict.as_ref().is_some_and(|s| *s.get_ref()),
        list,
        bound,
        refs,
    })
}

/// What an earlier run began and never confirmed, by record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenWrites {
    /// Records whose create was begun and never confirmed.
    pub creates: BTreeSet<String>,
    /// Records whose list add was begun and never confirmed.
    pub adds: BTreeSet<String>,
}

/// The writes begun in earlier runs of this mapping and never confirmed (`create_started`
/// without `created`, `add_started` without `added_to_list`).
pub async fn open_writes(store: &Store, mapping: &str) -> Result<OpenWrites, PushError> {
    let mut open = OpenWrites::default();
    for e in store.events_with_steps(&PUSH_WRITE_STEPS).await? {
        if e.event.mapping.as_deref() != Some(mapping) {
            continue;
        }
        let r = e.event.record;
        match e.event.step {
            Step::CreateStarted { .. } => {
                open.creates.insert(r);
            }
            Step::Created { .. } => {
                open.creates.remove(&r);
            }
            Step::AddStarted { .. } => {
                open.adds.insert(r);
            }
            Step::AddedToList { .. } => {
                open.adds.remove(&r);
            }
            _ => {}
        }
    }
    Ok(open)
}

/// Everything the plan is made from.
pub struct Resolved {
    pub inputs: MatchInputs,
    pub decisions: Vec<Decision>,
    pub rejected: BTreeSet<String>,
    pub state: MirrorState,
    pub refs: MirrorRefs,
    pub open: OpenWrites,
    pub match_counts: MatchCounts,
    /// Records matched by a search term found in Affinity (not in the mirror before).
    pub found_in_affinity: usize,
    /// Term searches asked of Affinity (search terms, unconfirmed creates, referenced records).
    pub term_searches: usize,
    /// The calls the lookups took.
    pub lookup_calls: u64,
}

impl Resolved {
    /// The planner's input.
    pub fn plan_input<'a>(&'a self, p: &'a Prepared<'a>) -> PlanInput<'a> {
        PlanInput {
            mapping: p.mapping,
            mode: p.mode,
            strict: p.strict,
            list: p.list.as_ref(),
            bound: &p.bound,
            records: &self.inputs.records,
            decisions: &self.decisions,
            rejected: &self.rejected,
            state: &self.state,
            resolve: &self.refs,
        }
    }
}

/// Resolves a push: matches its records (search term in the mirror, then in Affinity, then
/// fuzzy), stores and journals the decisions in `run`, and reads what the plan needs. A dry
/// run asks Affinity the same questions but the mirror learns nothing.
pub async fn resolve(
    store: &Store,
    client: &Client,
    p: &Prepared<'_>,
    run: RunId,
    opts: &PushOptions,
    quota_left: Option<u64>,
) -> Result<Resolved, PushError> {
    let mapping = p.mapping;
    let mut inputs = matching::prepare(store, mapping).await?;
    if let Some(only) = &opts.only {
        inputs
            .records
            .retain(|r| r.id.as_ref().is_some_and(|s| only.contains(s)));
    }
    let learn = !opts.dry_run;
    let open = open_writes(store, &inputs.mapping).await?;
    let calls_before = client.stats().calls;
    let mut searches = 0;
    let found = search_terms(
        store,
        client,
        p,
        &mut inputs,
        learn,
        &mut searches,
        quota_left,
    )
    .await?;
    let mut decisions = matching::decide(mapping, &inputs);
    let found_in_affinity = decisions
        .iter()
        .filter(|d| {
            d.status == Status::Matched
                && d.method == Some(Method::Key)
                && d.affinity_id.as_ref().is_some_and(|a| found.contains(a))
        })
        .count();
    recover_creates(
        store,
        client,
        p,
        &inputs,
        &mut decisions,
        &open,
        learn,
        &mut searches,
    )
    .await?;
    let match_counts = matching::record(store, run, mapping, &inputs, &decisions).await?;
    let mut state = mirror_state(store, p, &decisions).await?;
    // Records found in Affinity by their search term are named by what Affinity answered
    // (a dry run does not keep them in the mirror).
    for c in &inputs.candidates {
        if let Ok(id) = c.id.parse::<i64>() {
            if !state.names.contains_key(&id) && !c.display_name().is_empty() {
                state.names.insert(id, c.display_name());
            }
        }
    }
    read_values_off_lists(store, client, p, &mut state, learn).await?;
    let mut refs = p.refs.clone();
    searches += super::values::look_up_references(
        store,
        client,
        mapping,
        &p.bound,
        &inputs.records,
        &mut refs,
        learn,
    )
    .await?;
    Ok(Resolved {
        rejected: inputs.rejected(),
        inputs,
        decisions,
        state,
        refs,
        open,
        match_counts,
        found_in_affinity,
        term_searches: searches,
        lookup_calls: client.stats().calls - calls_before,
    })
}

/// The records' search terms that the mirror lacks, asked of Affinity: one term search per
/// distinct key (records sharing a key cost one search), then an exact comparison of the
/// normalized key. What is found becomes a candidate (and, for a push, the mirror learns it).
/// Gives the ids found.
async fn search_terms(
    store: &Store,
    client: &Client,
    p: &Prepared<'_>,
    inputs: &mut MatchInputs,
    learn: bool,
    searches: &mut usize,
    quota_left: Option<u64>,
) -> Result<BTreeSet<String>, PushError> {
    let kind = p.mapping.kind();
    let known = inputs.candidate_keys(kind);
    let mut wanted: Vec<String> = Vec::new();
    for rec in &inputs.records {
        if rec
            .id
            .as_ref()
            .is_some_and(|s| inputs.reviewed.contains_key(s))
        {
            continue; // a reviewer's verdict comes first
        }
        let keys = record_keys(p.mapping, rec);
        if keys.is_empty() || keys.iter().any(|k| known.contains(k)) {
            continue;
        }
        if let Some(k) = keys.into_iter().next() {
            if !wanted.contains(&k) {
                wanted.push(k);
            }
        }
    }
    if let Some(left) = quota_left {
        if wanted.len() as u64 > left {
            return Err(PushError::OverQuota {
                needed: wanted.len() as u64,
                left,
            });
        }
    }
    let mut found = BTreeSet::new();
    for key in wanted {
        *searches += 1;
        let hit = search(client, kind, &key, p.list.as_ref(), |e| {
            has_key(e, kind, &key)
        })
        .await?;
        if let Some(e) = hit {
            if learn {
                store.learn_entity(&e, Utc::now()).await?;
            }
            let id = learned_id(&e);
            if found.insert(id.to_string()) {
                inputs.candidates.push(candidate(&e));
            }
        }
    }
    Ok(found)
}

/// Whether a record found in Affinity holds the key.
fn has_key(e: &LearnedEntity, kind: Kind, key: &str) -> bool {
    match e {
        LearnedEntity::Organization {
            domain, domains, ..
        } => domain
            .iter()
            .chain(domains)
            .filter_map(|x| normalize::domain_key(x))
            .any(|k| k == key),
        LearnedEntity::Person { emails, .. } => emails
            .iter()
            .filter_map(|x| normalize::email_key(x))
            .any(|k| k == key),
        LearnedEntity::Opportunity { name, .. } => {
            kind == Kind::Opportunity && normalize::fold(name) == key
        }
    }
}

/// A record found in Affinity as a candidate of the matcher.
fn candidate(e: &LearnedEntity) -> Candidate {
    match e {
        LearnedEntity::Organization {
            id,
            name,
            domain,
            domains,
            global,
        } => {
            let mut c = Candidate::new(Kind::Organization, id.to_string(), name.clone());
            c.domains = domain.iter().chain(domains).cloned().collect();
            c.global = *global;
            c
        }
        LearnedEntity::Person {
            id,
            first_name,
            last_name,
            emails,
            ..
        } => {
            let name = [first_name.clone(), last_name.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let mut c = Candidate::new(Kind::Person, id.to_string(), name);
            c.first_name = first_name.clone();
            c.last_name = last_name.clone();
            c.emails = emails.clone();
            c
        }
        LearnedEntity::Opportunity { id, name, .. } => {
            Candidate::new(Kind::Opportunity, id.to_string(), name.clone())
        }
    }
}

/// A v1 person's `type` as v2 (and the mirror) names it (affinity-api.md §2.1).
pub(crate) fn v1_person_type(t: i64) -> &'static str {
    match t {
        1 => "internal",
        _ => "external",
    }
}

pub(super) fn learned_id(e: &LearnedEntity) -> i64 {
    match e {
        LearnedEntity::Organization { id, .. }
        | LearnedEntity::Person { id, .. }
        | LearnedEntity::Opportunity { id, .. } => *id,
    }
}

/// An organization, person or opportunity (on `list`) found in Affinity by a term search and
/// kept by `keep`.
pub(super) async fn search(
    client: &Client,
    kind: Kind,
    term: &str,
    list: Option<&ListRow>,
    keep: impl Fn(&LearnedEntity) -> bool,
) -> Result<Option<LearnedEntity>, affinity_crm::Error> {
    let found: Vec<LearnedEntity> = match kind {
        Kind::Organization => {
            client
                .organizations_v1(Some(term), &[])
                .take(100)
                .map_ok(|o| LearnedEntity::Organization {
                    id: o.id.0,
                    name: o.name,
                    domain: o.domain,
                    domains: o.domains,
                    global: o.global,
                })
                .try_collect()
                .await?
        }
        Kind::Person => {
            client
                .persons_v1(Some(term), &[])
                .take(100)
                .map_ok(|p| LearnedEntity::Person {
                    id: p.id.0,
                    person_type: Some(v1_person_type(p.person_type).into()),
                    first_name: p.first_name,
                    last_name: p.last_name,
                    emails: p.emails,
                })
                .try_collect()
                .await?
        }
        Kind::Opportunity => {
            let Some(list) = list else { return Ok(None) };
            let list_id = list.id;
            client
                .opportunities_v1(Some(term))
                .take(100)
                .try_filter(move |o| {
                    let on = o
                        .list_entries
                        .as_ref()
                        .is_none_or(|es| es.iter().any(|e| e.list_id.0 == list_id));
                    futures::future::ready(on)
                })
                .map_ok(|o| LearnedEntity::Opportunity {
                    id: o.id.0,
                    name: o.name,
                    list_id,
                })
                .try_collect()
                .await?
        }
    };
    Ok(found.into_iter().find(keep))
}

/// The name a record would be created with, for finding a create that was never confirmed.
fn create_name(p: &Prepared<'_>, rec: &affsync_core::matcher::SourceRecord) -> String {
    let cfg = p.mapping.match_config();
    cfg.and_then(|c| c.compare.iter().find(|x| x.affinity == "name"))
        .and_then(|x| rec.values.get(&x.source))
        .cloned()
        .or_else(|| {
            p.bound
                .iter()
                .find(|b| b.special() == Some(affsync_core::mapping::convert::Special::Name))
                .and_then(|b| rec.values.get(&b.source).cloned())
        })
        .or_else(|| {
            // A person: first and last names.
            let part = |attr: &str| {
                cfg.and_then(|c| c.compare.iter().find(|x| x.affinity == attr))
                    .and_then(|x| rec.values.get(&x.source))
                    .cloned()
            };
            match (part("first_name"), part("last_name")) {
                (Some(f), Some(l)) => Some(format!("{f} {l}")),
                _ => None,
            }
        })
        .unwrap_or_default()
}

/// Records still unmatched whose create an earlier run began and never confirmed (killed, or
/// the answer lost after Affinity wrote it): looked for in Affinity by exact name before they
/// are created again; found ones become matches.
#[allow(clippy::too_many_arguments)]
async fn recover_creates(
    store: &Store,
    client: &Client,
    p: &Prepared<'_>,
    inputs: &MatchInputs,
    decisions: &mut [Decision],
    open: &OpenWrites,
    learn: bool,
    searches: &mut usize,
) -> Result<(), PushError> {
    let kind = p.mapping.kind();
    for (d, rec) in decisions.iter_mut().zip(&inputs.records) {
        let rk = record_key(d.source_id.as_deref(), d.row);
        if d.status != Status::Unmatched || !open.creates.contains(&rk) {
            continue;
        }
        let name = create_name(p, rec);
        let want = normalize::fold(&name);
        if want.is_empty() {
            continue;
        }
        *searches += 1;
        let same_name = |e: &LearnedEntity| match e {
            LearnedEntity::Organization { name, .. } | LearnedEntity::Opportunity { name, .. } => {
                normalize::fold(name) == want
            }
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
        };
        let Some(e) = search(client, kind, name.trim(), p.list.as_ref(), same_name).await? else {
            continue;
        };
        if learn {
            store.learn_entity(&e, Utc::now()).await?;
        }
        d.status = Status::Matched;
        d.affinity_id = Some(learned_id(&e).to_string());
        d.method = Some(Method::Key);
        d.score = Some(1.0);
        d.reason = format!(
            "an earlier run began creating it and never saw the answer; found in Affinity by its exact name `{}`",
            name.trim()
        );
    }
    Ok(())
}

/// The entity fields of the records on no list in the mirror (found by a term search, or
/// matched off `within_list`) are read from Affinity, up to 100 in a call: no pull keeps them,
/// and a value planned against a guess of empty would replace what Affinity holds. A push's
/// mirror learns them.
async fn read_values_off_lists(
    store: &Store,
    client: &Client,
    p: &Prepared<'_>,
    state: &mut MirrorState,
    learn: bool,
) -> Result<(), PushError> {
    let kind = p.mapping.kind();
    if kind == Kind::Opportunity || !p.bound.iter().any(|b| b.field().is_some() && !b.on_entry) {
        return Ok(());
    }
    let ids: BTreeSet<i64> = state.entity_values.keys().copied().collect();
    let off: Vec<i64> = store.on_no_list(kind, &ids).await?.into_iter().collect();
    let fields = FieldSelection::types(ENTITY_FIELD_TYPES);
    for chunk in off.chunks(100) {
        let read: Vec<(i64, Vec<v2::Field>)> = match kind {
            Kind::Organization => {
                let ids: Vec<OrganizationId> = chunk.iter().map(|&i| i.into()).collect();
                client
                    .companies_v2(&ids, &fields)
                    .map_ok(|c| (c.id.0, c.fields))
                    .try_collect()
                    .await?
            }
            _ => {
                let ids: Vec<PersonId> = chunk.iter().map(|&i| i.into()).collect();
                client
                    .persons_v2(&ids, &fields)
                    .map_ok(|c| (c.id.0, c.fields))
                    .try_collect()
                    .await?
            }
        };
        let mut learned = Vec::new();
        for (id, fs) in read {
            let mut values = BTreeMap::new();
            for f in fs {
                let items = crate::pull::value_items(&f.value);
                if !items.is_empty() {
                    values.insert(f.id.0.clone(), items.clone());
                }
                learned.push(OwnedValue {
                    owner: Owner::Entity(kind, id),
                    field_id: f.id.0,
                    items,
                });
            }
            state.entity_values.insert(id, values);
        }
        if learn {
            store.learn_owned_values(&learned, Utc::now()).await?;
        }
    }
    Ok(())
}

/// What the mirror holds of every matched record: its values, its entry on the list, its name.
async fn mirror_state(
    store: &Store,
    p: &Prepared<'_>,
    decisions: &[Decision],
) -> Result<MirrorState, PushError> {
    let ek = p.mapping.kind();
    let mut state = MirrorState::default();
    let on_entity = p.bound.iter().any(|b| b.field().is_some() && !b.on_entry);
    let on_entry = p.bound.iter().any(|b| b.on_entry);
    let ids: BTreeSet<i64> = decisions
        .iter()
        .filter(|d| d.status == Status::Matched)
        .filter_map(|d| d.affinity_id.as_deref().and_then(|i| i.parse().ok()))
        .collect();
    let names: BTreeMap<i64, String> = store.entity_names(ek, &ids).await?;
    state.names = names;
    for id in ids {
        if on_entity {
            let v = store.owner_values(Owner::Entity(ek, id)).await?;
            state.entity_values.insert(id, v);
        }
        if let Some(l) = &p.list {
            if let Some(e) = store.entry_of(l.id, ek, id).await? {
                state.entries.insert(id, e);
                if on_entry && !state.entry_values.contains_key(&e) {
                    let v = store.owner_values(Owner::Entry(e)).await?;
                    state.entry_values.insert(e, v);
                }
            }
        }
    }
    Ok(state)
}
