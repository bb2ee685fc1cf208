//! The plan of a push: what to do with each record, from its match decision, its converted
//! values and what the mirror holds. Pure once the mirror state is loaded.

use affsync_core::model::{Kind, ListRow, Owner, ValueItem};
use std::collections::BTreeMap;

use serde::Serialize;

use crate::matching::MatchOutcome;
use crate::store::decisions::ReviewVerdict;
use crate::store::{Store, StoreError};
use affsync_core::mapping::convert::{convert, same_value, Resolve, Rule, Special};
use affsync_core::mapping::{Mapping, PushMode, WriteMode};
use affsync_core::matcher::{normalize, Status};

use super::Bound;

/// What happens to a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Unmatched in `create_update`: created with its values.
    Create,
    /// Matched: the values that differ are written, the record added to the list.
    Update,
    /// Matched, and Affinity already holds every value.
    Unchanged,
    /// Unmatched in `update_only`.
    SkippedNoMatch,
    /// The matcher could not decide: a reviewer has to.
    AwaitingReview,
    /// A reviewer said it is none of the candidates and not to be created.
    Rejected,
    /// A bad value, an unreadable row, or a write Affinity refused.
    Failed,
    /// The push stopped (quota spent) before this record.
    NotAttempted,
}

impl Action {
    /// The word the counts and the journal use.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Unchanged => "unchanged",
            Action::SkippedNoMatch => "skipped_no_match",
            Action::AwaitingReview => "awaiting_review",
            Action::Rejected => "rejected",
            Action::Failed => "failed",
            Action::NotAttempted => "not_attempted",
        }
    }
}

/// One field write: the field, what the mirror holds, what the source says.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldWrite {
    pub field_id: String,
    pub field_name: String,
    pub value_type: String,
    pub old: Vec<ValueItem>,
    pub new: Vec<ValueItem>,
}

/// What a created record starts with.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CreateSpec {
    pub name: Option<String>,
    pub domain: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub emails: Vec<String>,
}

/// The plan (and, once applied, the outcome) of one record.
#[derive(Debug, Clone)]
pub struct RecordPlan {
    pub row: usize,
    pub source_id: Option<String>,
    pub action: Action,
    pub affinity_id: Option<i64>,
    pub was_matched: bool,
    pub method: Option<String>,
    pub score: Option<f64>,
    pub create: Option<CreateSpec>,
    pub entity_writes: Vec<FieldWrite>,
    pub entry_writes: Vec<FieldWrite>,
    /// The record's entry on `add_to_list`, when it has one.
    pub entry_id: Option<i64>,
    pub add_to_list: bool,
    /// Why it is skipped or failed.
    pub reason: String,
    /// The fields that failed, with why.
    pub failures: Vec<(String, String)>,
    // Filled in by apply.
    pub added: bool,
    pub fields_written: usize,
    pub write_calls: u64,
}

impl RecordPlan {
    /// `src:ID`, or `row:N` for a row without an id.
    pub fn record_key(&self) -> String {
        crate::matching::record_key(self.source_id.as_deref(), self.row)
    }

    /// The write calls applying this plan takes (a created opportunity is on its list already).
    pub fn estimated_calls(&self) -> u64 {
        let batches = |w: &[FieldWrite]| w.len().div_ceil(100) as u64;
        match self.action {
            Action::Create | Action::Update => {
                u64::from(self.create.is_some())
                    + u64::from(self.add_to_list)
                    + batches(&self.entity_writes)
                    + batches(&self.entry_writes)
            }
            _ => 0,
        }
    }

    fn new(row: usize, source_id: Option<String>) -> RecordPlan {
        RecordPlan {
            row,
            source_id,
            action: Action::Failed,
            affinity_id: None,
            was_matched: false,
            method: None,
            score: None,
            create: None,
            entity_writes: Vec::new(),
            entry_writes: Vec::new(),
            entry_id: None,
            add_to_list: false,
            reason: String::new(),
            failures: Vec::new(),
            added: false,
            fields_written: 0,
            write_calls: 0,
        }
    }
}

/// What the mirror holds of the matched records.
#[derive(Debug, Default)]
pub struct MirrorState {
    /// Entity id → field id → values.
    pub entity_values: BTreeMap<i64, BTreeMap<String, Vec<ValueItem>>>,
    /// Entity id → its entry on `add_to_list`.
    pub entries: BTreeMap<i64, i64>,
    /// Entry id → field id → values.
    pub entry_values: BTreeMap<i64, BTreeMap<String, Vec<ValueItem>>>,
}

/// Reads what the mirror holds of every matched record.
pub async fn load_state(
    store: &Store,
    mapping: &Mapping,
    outcome: &MatchOutcome,
    bound: &[Bound],
    list: Option<&ListRow>,
) -> Result<MirrorState, StoreError> {
    let ek = mapping.kind();
    let mut state = MirrorState::default();
    let on_entity = bound.iter().any(|b| b.field.is_some() && !b.on_entry);
    let on_entry = bound.iter().any(|b| b.on_entry);
    for d in &outcome.decisions {
        if d.status != Status::Matched {
            continue;
        }
        let Some(id) = d.affinity_id.as_deref().and_then(|i| i.parse::<i64>().ok()) else {
            continue;
        };
        if on_entity && !state.entity_values.contains_key(&id) {
            let v = store.owner_values(Owner::Entity(ek, id)).await?;
            state.entity_values.insert(id, v);
        }
        if let Some(l) = list {
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

/// The plan of every record, in the source's order.
pub fn plan(
    mapping: &Mapping,
    mode: PushMode,
    outcome: &MatchOutcome,
    bound: &[Bound],
    list: Option<&ListRow>,
    state: &MirrorState,
    resolve: &dyn Resolve,
) -> Vec<RecordPlan> {
    let kind = mapping.kind();
    let cfg = mapping.match_config();
    let empty = BTreeMap::new();
    outcome
        .decisions
        .iter()
        .zip(&outcome.records)
        .map(|(d, rec)| {
            let mut p = RecordPlan::new(d.row, d.source_id.clone());
            p.method = d.method.map(|m| m.as_str().to_string());
            p.score = d.score;
            if d.status == Status::Error {
                p.action = Action::Failed;
                p.reason = d.reason.clone();
                return p;
            }
            // Every mapped value, converted; one bad value fails the record alone.
            let mut values: Vec<(&Bound, Vec<ValueItem>)> = Vec::new();
            for b in bound {
                let spec = &mapping.fields[b.spec];
                let cell = rec.values.get(&b.source).map(String::as_str).unwrap_or("");
                match convert(cell, Rule::of(spec), &b.target(), resolve) {
                    Ok(items) => values.push((b, items)),
                    Err(e) => p.failures.push((b.name(), format!("{e}; {}", e.hint()))),
                }
            }
            let verdict = d
                .source_id
                .as_ref()
                .and_then(|s| outcome.verdicts.get(s))
                .copied();
            match d.status {
                Status::Review => {
                    p.action = Action::AwaitingReview;
                    p.reason = d.reason.clone();
                    return p;
                }
                Status::Unmatched if verdict == Some(ReviewVerdict::Reject) => {
                    p.action = Action::Rejected;
                    p.reason = "a reviewer said it is none of the candidates".into();
                    return p;
                }
                Status::Unmatched if mode == PushMode::UpdateOnly => {
                    p.action = Action::SkippedNoMatch;
                    p.reason = format!("no match ({}), and the mode is `update_only`", d.reason);
                    return p;
                }
                _ => {}
            }
            if !p.failures.is_empty() {
                p.action = Action::Failed;
                p.reason = p
                    .failures
                    .iter()
                    .map(|(f, r)| format!("`{f}`: {r}"))
                    .collect::<Vec<_>>()
                    .join("; ");
                return p;
            }
            let special = |s: Special| {
                values
                    .iter()
                    .find(|(b, _)| b.special == Some(s))
                    .map(|(_, items)| items.clone())
                    .unwrap_or_default()
            };
            let text_of = |items: Vec<ValueItem>| items.into_iter().find_map(|i| i.text);
            if d.status == Status::Matched {
                let Some(id) = d.affinity_id.as_deref().and_then(|i| i.parse::<i64>().ok()) else {
                    p.action = Action::Failed;
                    p.reason = format!("matched to `{:?}`, which is not an Affinity id", d.affinity_id);
                    return p;
                };
                p.affinity_id = Some(id);
                p.was_matched = true;
                p.entry_id = state.entries.get(&id).copied();
                p.add_to_list = list.is_some() && p.entry_id.is_none();
                let ev = state.entity_values.get(&id).unwrap_or(&empty);
                let nv = p
                    .entry_id
                    .and_then(|e| state.entry_values.get(&e))
                    .unwrap_or(&empty);
                for (b, items) in &values {
                    let Some(f) = &b.field else { continue };
                    if items.is_empty() {
                        continue; // an empty cell writes nothing
                    }
                    let old = if b.on_entry { nv } else { ev }
                        .get(&f.id)
                        .cloned()
                        .unwrap_or_default();
                    let spec = &mapping.fields[b.spec];
                    if spec.write_mode() == WriteMode::FillBlank && !old.is_empty() {
                        continue;
                    }
                    if same_value(items, &old) {
                        continue;
                    }
                    let w = FieldWrite {
                        field_id: f.id.clone(),
                        field_name: f.name.clone(),
                        value_type: f.value_type.clone(),
                        old,
                        new: items.clone(),
                    };
                    if b.on_entry {
                        p.entry_writes.push(w);
                    } else {
                        p.entity_writes.push(w);
                    }
                }
                p.action = if p.entity_writes.is_empty() && p.entry_writes.is_empty() && !p.add_to_list {
                    Action::Unchanged
                } else {
                    Action::Update
                };
                return p;
            }
            // Unmatched (or "create" by a reviewer) in create_update: a new record.
            let compared = |attr: &str| {
                cfg.and_then(|c| c.compare.iter().find(|x| x.affinity == attr))
                    .and_then(|x| rec.values.get(&x.source))
                    .map(|v| v.trim().to_string())
                    .filter(|v| !v.is_empty())
            };
            let term = cfg
                .and_then(|c| c.search_term.as_ref())
                .and_then(|t| rec.values.get(t))
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty());
            let mut c = CreateSpec {
                name: text_of(special(Special::Name)).or_else(|| compared("name")),
                ..CreateSpec::default()
            };
            match kind {
                Kind::Organization => {
                    c.domain = text_of(special(Special::Domain)).or_else(|| {
                        term.as_deref()
                            .and_then(|t| normalize::split_multi(t).find_map(normalize::domain_key))
                    });
                    if c.name.is_none() {
                        p.action = Action::Failed;
                        p.reason = "cannot create an organization without a name: map a column to `name`".into();
                        return p;
                    }
                }
                Kind::Person => {
                    c.first_name = text_of(special(Special::FirstName)).or_else(|| compared("first_name"));
                    c.last_name = text_of(special(Special::LastName)).or_else(|| compared("last_name"));
                    c.emails = special(Special::Emails).into_iter().filter_map(|i| i.text).collect();
                    if c.emails.is_empty() {
                        if let Some(t) = &term {
                            c.emails = normalize::split_multi(t)
                                .filter_map(normalize::email_key)
                                .collect();
                        }
                    }
                    if c.first_name.is_none() || c.last_name.is_none() {
                        if let Some(n) = c.name.clone() {
                            let mut parts = n.split_whitespace();
                            let first = parts.next().map(str::to_string);
                            let rest = parts.collect::<Vec<_>>().join(" ");
                            c.first_name = c.first_name.or(first);
                            c.last_name = c.last_name.or(Some(rest).filter(|r| !r.is_empty()));
                        }
                    }
                    if c.first_name.is_none() || c.last_name.is_none() {
                        p.action = Action::Failed;
                        p.reason = "cannot create a person without a first and a last name: map columns to `first_name` and `last_name`".into();
                        return p;
                    }
                }
                Kind::Opportunity => {
                    if c.name.is_none() || list.is_none() {
                        p.action = Action::Failed;
                        p.reason = "cannot create an opportunity without a name and `push.add_to_list` (its list)".into();
                        return p;
                    }
                }
            }
            p.create = Some(c);
            p.add_to_list = list.is_some() && kind != Kind::Opportunity;
            for (b, items) in values {
                let Some(f) = &b.field else { continue };
                if items.is_empty() {
                    continue;
                }
                let w = FieldWrite {
                    field_id: f.id.clone(),
                    field_name: f.name.clone(),
                    value_type: f.value_type.clone(),
                    old: Vec::new(),
                    new: items,
                };
                if b.on_entry {
                    p.entry_writes.push(w);
                } else {
                    p.entity_writes.push(w);
                }
            }
            p.action = Action::Create;
            p
        })
        .collect()
}
