//! The plan of a push: per record, what to write, from its match decision, its converted values
//! and what the mirror holds. Pure: [`plan`] is a function of a [`PlanInput`] that the engine
//! resolved first (the mirror, Affinity's term search, reviewers' verdicts); applying the plan
//! is the engine's, and a dry run is simply not applying it.
//!
//! A record's plan is one [`Op`]: create, update, unchanged, skip or fail, each carrying only
//! what it needs. A cell that does not convert is skipped with its reason (the record's other
//! values are written); with `strict`, such a record fails instead.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::journal::record_key;
use crate::mapping::catalog::Catalog;
use crate::mapping::convert::{convert, same_value, Resolve, Rule, Special, Target};
use crate::mapping::{Mapping, PushMode, WriteMode};
use crate::matcher::{normalize, Decision, SourceRecord, Status};
use crate::model::{FieldRow, Kind, ListRow, ValueItem};

/// The most fields one v2 `update-fields` call takes.
pub const FIELDS_PER_CALL: usize = 100;

/// Where a `[[fields]]` entry writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    /// Index into the mapping's `fields`.
    pub spec: usize,
    pub source: String,
    pub target: BoundTarget,
    /// A list field of `add_to_list`: written on the list entry, not the entity.
    pub on_entry: bool,
}

/// A bound field's target: a field of the catalog, or a record's own attribute.
#[derive(Debug, Clone, PartialEq)]
pub enum BoundTarget {
    Field(FieldRow),
    Special(Special),
}

impl Bound {
    pub fn target(&self) -> Target<'_> {
        match &self.target {
            BoundTarget::Field(f) => Target::Field(f),
            BoundTarget::Special(s) => Target::Special(*s),
        }
    }

    pub fn field(&self) -> Option<&FieldRow> {
        match &self.target {
            BoundTarget::Field(f) => Some(f),
            BoundTarget::Special(_) => None,
        }
    }

    pub fn special(&self) -> Option<Special> {
        match &self.target {
            BoundTarget::Special(s) => Some(*s),
            BoundTarget::Field(_) => None,
        }
    }

    /// The name in messages and the journal.
    pub fn name(&self) -> String {
        match &self.target {
            BoundTarget::Field(f) => f.name.clone(),
            BoundTarget::Special(s) => s.as_str().to_string(),
        }
    }
}

/// Why a `[[fields]]` entry cannot be bound (the checker reports these first; binding says
/// them again for a caller that did not check).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindError {
    pub line: usize,
    pub message: String,
    pub hint: String,
}

/// Binds each `[[fields]]` entry to its target in the catalog.
pub fn bind_fields(
    mapping: &Mapping,
    catalog: &Catalog,
    list: Option<&ListRow>,
) -> Result<Vec<Bound>, BindError> {
    let kind = mapping.kind();
    let mut out = Vec::new();
    for (i, f) in mapping.fields.iter().enumerate() {
        let name = f.affinity.get_ref().trim();
        let bad = |message: String, hint: &str| BindError {
            line: mapping.line(f.affinity.span()),
            message,
            hint: hint.to_string(),
        };
        if let Some(s) = Special::parse(name) {
            out.push(Bound {
                spec: i,
                source: f.source.get_ref().clone(),
                target: BoundTarget::Special(s),
                on_entry: false,
            });
            continue;
        }
        let fits = |c: &&FieldRow| {
            (c.id == name || c.name.eq_ignore_ascii_case(name))
                && match c.list_id {
                    None => c.entity_kind.is_none_or(|k| k == kind),
                    Some(l) => list.is_some_and(|x| x.id == l),
                }
        };
        let Some(field) = catalog.fields.iter().find(fits) else {
            return Err(bad(
                format!(
                    "`fields.affinity` names `{name}`, which is no field of this {} (global, or on `add_to_list`)",
                    kind.as_str()
                ),
                "run `affsync check` on the file for the fields there are",
            ));
        };
        if field.is_affinity_owned() {
            return Err(bad(
                format!(
                    "`{}` is a {} field: Affinity does not take writes to it",
                    field.name, field.field_type
                ),
                "map the value to a field of your own",
            ));
        }
        out.push(Bound {
            spec: i,
            source: f.source.get_ref().clone(),
            target: BoundTarget::Field(field.clone()),
            on_entry: field.list_id.is_some(),
        });
    }
    Ok(out)
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

/// The field writes of a record, on the entity and on its list entry.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Writes {
    pub entity: Vec<FieldWrite>,
    pub entry: Vec<FieldWrite>,
}

impl Writes {
    pub fn is_empty(&self) -> bool {
        self.entity.is_empty() && self.entry.is_empty()
    }

    pub fn len(&self) -> usize {
        self.entity.len() + self.entry.len()
    }

    pub fn all(&self) -> impl Iterator<Item = &FieldWrite> {
        self.entity.iter().chain(&self.entry)
    }

    /// The calls the writes take: one per owner per [`FIELDS_PER_CALL`] fields.
    pub fn calls(&self) -> u64 {
        let batches = |w: &[FieldWrite]| w.len().div_ceil(FIELDS_PER_CALL) as u64;
        batches(&self.entity) + batches(&self.entry)
    }
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

impl CreateSpec {
    /// The name a person reads.
    pub fn display_name(&self) -> String {
        self.name.clone().unwrap_or_else(|| {
            [self.first_name.as_deref(), self.last_name.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

/// Why a record is not written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipKind {
    /// Unmatched in `update_only`.
    NoMatch,
    /// The matcher could not decide: a reviewer has to.
    AwaitingReview,
    /// A reviewer said it is none of the candidates and not to be created.
    Rejected,
}

impl SkipKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipKind::NoMatch => "skipped_no_match",
            SkipKind::AwaitingReview => "awaiting_review",
            SkipKind::Rejected => "rejected",
        }
    }
}

/// A cell that did not convert: skipped, the record's other values written.
#[derive(Debug, Clone, PartialEq)]
pub struct SkippedValue {
    pub field: String,
    pub value: String,
    pub reason: String,
}

/// What to do with one record.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Unmatched in `create_update` (or "create" by a reviewer): created with its values.
    Create {
        spec: CreateSpec,
        add_to_list: bool,
        writes: Writes,
    },
    /// Matched: the values that differ are written, the record added to the list.
    Update {
        affinity_id: i64,
        /// Its entry on `add_to_list`, when it has one.
        entry_id: Option<i64>,
        add_to_list: bool,
        writes: Writes,
    },
    /// Matched, on the list, and Affinity already holds every value.
    Unchanged {
        affinity_id: i64,
    },
    Skip {
        kind: SkipKind,
        reason: String,
    },
    /// An unreadable row, a record that cannot be created, a bad cell under `strict`.
    Fail {
        reason: String,
        fields: Vec<(String, String)>,
    },
}

impl Op {
    /// The word the counts, the dry run and the journal use for the planned action.
    pub fn as_str(&self) -> &'static str {
        match self {
            Op::Create { .. } => "created",
            Op::Update { .. } => "updated",
            Op::Unchanged { .. } => "unchanged",
            Op::Skip { kind, .. } => kind.as_str(),
            Op::Fail { .. } => "failed",
        }
    }

    /// Why a record is skipped or fails, as planned (empty for the others).
    pub fn reason(&self) -> String {
        match self {
            Op::Skip { reason, .. } | Op::Fail { reason, .. } => reason.clone(),
            _ => String::new(),
        }
    }

    /// The write calls applying it takes (a created opportunity is on its list already).
    pub fn write_calls(&self) -> u64 {
        match self {
            Op::Create {
                add_to_list,
                writes,
                ..
            } => 1 + u64::from(*add_to_list) + writes.calls(),
            Op::Update {
                add_to_list,
                writes,
                ..
            } => u64::from(*add_to_list) + writes.calls(),
            _ => 0,
        }
    }

    pub fn writes(&self) -> Option<&Writes> {
        match self {
            Op::Create { writes, .. } | Op::Update { writes, .. } => Some(writes),
            _ => None,
        }
    }

    pub fn add_to_list(&self) -> bool {
        matches!(
            self,
            Op::Create {
                add_to_list: true,
                ..
            } | Op::Update {
                add_to_list: true,
                ..
            }
        )
    }

    /// The Affinity record it is about, when it has one already.
    pub fn affinity_id(&self) -> Option<i64> {
        match self {
            Op::Update { affinity_id, .. } | Op::Unchanged { affinity_id } => Some(*affinity_id),
            _ => None,
        }
    }
}

/// The plan of one record.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPlan {
    pub row: usize,
    pub source_id: Option<String>,
    /// The record's name (from the source, else Affinity's), for people reading the plan.
    pub name: Option<String>,
    /// The matched Affinity record's name in the mirror (a fuzzy match's may differ from
    /// the source's).
    pub affinity_name: Option<String>,
    pub method: Option<String>,
    pub score: Option<f64>,
    pub op: Op,
    /// Cells that did not convert, skipped (the other values are written).
    pub skipped_values: Vec<SkippedValue>,
}

impl RecordPlan {
    /// `src:ID`, or `row:N` for a row without an id.
    pub fn record_key(&self) -> String {
        record_key(self.source_id.as_deref(), self.row)
    }

    /// Whether it was matched to a record Affinity has.
    pub fn was_matched(&self) -> bool {
        matches!(self.op, Op::Update { .. } | Op::Unchanged { .. })
    }
}

/// What the mirror holds of the matched records.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MirrorState {
    /// Entity id → field id → values.
    pub entity_values: BTreeMap<i64, BTreeMap<String, Vec<ValueItem>>>,
    /// Entity id → its entry on `add_to_list`.
    pub entries: BTreeMap<i64, i64>,
    /// Entry id → field id → values.
    pub entry_values: BTreeMap<i64, BTreeMap<String, Vec<ValueItem>>>,
    /// Entity id → its name in the mirror.
    pub names: BTreeMap<i64, String>,
}

/// Everything a plan is made from, resolved by the engine before planning.
pub struct PlanInput<'a> {
    pub mapping: &'a Mapping,
    pub mode: PushMode,
    /// A cell that does not convert fails its record instead of being skipped.
    pub strict: bool,
    pub list: Option<&'a ListRow>,
    pub bound: &'a [Bound],
    pub records: &'a [SourceRecord],
    /// One decision per record, in the records' order (reviewers' verdicts applied).
    pub decisions: &'a [Decision],
    /// Source ids a reviewer rejected (none of the candidates, and not to be created).
    pub rejected: &'a std::collections::BTreeSet<String>,
    pub state: &'a MirrorState,
    pub resolve: &'a dyn Resolve,
}

/// The plan of every record, in the source's order.
pub fn plan(input: &PlanInput) -> Vec<RecordPlan> {
    input
        .decisions
        .iter()
        .zip(input.records)
        .map(|(d, rec)| {
            let mut p = plan_record(input, d, rec);
            p.affinity_name =
                p.op.affinity_id()
                    .and_then(|id| input.state.names.get(&id).cloned());
            p
        })
        .collect()
}

/// A record's values, converted: the good ones by binding, the cells that did not convert.
struct Converted<'a> {
    values: Vec<(&'a Bound, Vec<ValueItem>)>,
    skipped: Vec<SkippedValue>,
}

fn convert_record<'a>(input: &PlanInput<'a>, rec: &SourceRecord) -> Converted<'a> {
    let mut out = Converted {
        values: Vec::new(),
        skipped: Vec::new(),
    };
    for b in input.bound {
        let spec = &input.mapping.fields[b.spec];
        let cell = rec.values.get(&b.source).map(String::as_str).unwrap_or("");
        match convert(cell, Rule::of(spec), &b.target(), input.resolve) {
            Ok(items) => out.values.push((b, items)),
            Err(e) => out.skipped.push(SkippedValue {
                field: b.name(),
                value: cell.to_string(),
                reason: format!("{e}; {}", e.hint()),
            }),
        }
    }
    out
}

fn plan_record(input: &PlanInput, d: &Decision, rec: &SourceRecord) -> RecordPlan {
    let mut p = RecordPlan {
        row: d.row,
        source_id: d.source_id.clone(),
        name: source_name(input, rec),
        affinity_name: None,
        method: d.method.map(|m| m.as_str().to_string()),
        score: d.score,
        op: Op::Fail {
            reason: String::new(),
            fields: vec![],
        },
        skipped_values: Vec::new(),
    };
    let fail = |reason: String| Op::Fail {
        reason,
        fields: vec![],
    };
    if d.status == Status::Error {
        p.op = fail(d.reason.clone());
        return p;
    }
    let rejected = d
        .source_id
        .as_ref()
        .is_some_and(|s| input.rejected.contains(s));
    let skip = match d.status {
        Status::Review => Some((SkipKind::AwaitingReview, d.reason.clone())),
        Status::Unmatched if rejected => Some((
            SkipKind::Rejected,
            "a reviewer said it is none of the candidates".to_string(),
        )),
        Status::Unmatched if input.mode == PushMode::UpdateOnly => Some((
            SkipKind::NoMatch,
            format!("no match ({}), and the mode is `update_only`", d.reason),
        )),
        _ => None,
    };
    if let Some((kind, reason)) = skip {
        p.op = Op::Skip { kind, reason };
        return p;
    }
    let conv = convert_record(input, rec);
    if input.strict && !conv.skipped.is_empty() {
        p.op = Op::Fail {
            reason: conv
                .skipped
                .iter()
                .map(|s| format!("`{}`: {}", s.field, s.reason))
                .collect::<Vec<_>>()
                .join("; "),
            fields: conv
                .skipped
                .iter()
                .map(|s| (s.field.clone(), s.reason.clone()))
                .collect(),
        };
        return p;
    }
    p.skipped_values = conv.skipped;
    p.op = if d.status == Status::Matched {
        match d.affinity_id.as_deref().and_then(|i| i.parse::<i64>().ok()) {
            Some(id) => {
                if p.name.is_none() {
                    p.name = input.state.names.get(&id).cloned();
                }
                plan_update(input, id, &conv.values)
            }
            None => fail(format!(
                "matched to `{}`, which is not an Affinity id",
                d.affinity_id.as_deref().unwrap_or_default()
            )),
        }
    } else {
        plan_create(input, rec, conv.values)
    };
    p
}

/// The record's name as the source gives it: the `name` target, or the compared name columns.
fn source_name(input: &PlanInput, rec: &SourceRecord) -> Option<String> {
    let spec = create_spec(input, rec, &[]);
    let n = spec.display_name();
    (!n.trim().is_empty()).then_some(n)
}

fn plan_update(input: &PlanInput, id: i64, values: &[(&Bound, Vec<ValueItem>)]) -> Op {
    let empty = BTreeMap::new();
    let state = input.state;
    let entry_id = state.entries.get(&id).copied();
    let add_to_list = input.list.is_some() && entry_id.is_none();
    let ev = state.entity_values.get(&id).unwrap_or(&empty);
    let nv = entry_id
        .and_then(|e| state.entry_values.get(&e))
        .unwrap_or(&empty);
    let mut writes = Writes::default();
    for (b, items) in values {
        let Some(f) = b.field() else { continue };
        if items.is_empty() {
            continue; // an empty cell writes nothing
        }
        let old = if b.on_entry { nv } else { ev }
            .get(&f.id)
            .cloned()
            .unwrap_or_default();
        let spec = &input.mapping.fields[b.spec];
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
            writes.entry.push(w);
        } else {
            writes.entity.push(w);
        }
    }
    if writes.is_empty() && !add_to_list {
        Op::Unchanged { affinity_id: id }
    } else {
        Op::Update {
            affinity_id: id,
            entry_id,
            add_to_list,
            writes,
        }
    }
}

/// What a new record is created with: its own attributes from the mapped values, else from
/// the compared columns and the search term.
fn create_spec(
    input: &PlanInput,
    rec: &SourceRecord,
    values: &[(&Bound, Vec<ValueItem>)],
) -> CreateSpec {
    let cfg = input.mapping.match_config();
    let special = |s: Special| {
        values
            .iter()
            .find(|(b, _)| b.special() == Some(s))
            .map(|(_, items)| items.clone())
            .unwrap_or_default()
    };
    let text_of = |items: Vec<ValueItem>| items.into_iter().find_map(|i| i.text);
    let compared = |attr: &str| {
        cfg.and_then(|c| c.compare.iter().find(|x| x.affinity == attr))
            .and_then(|x| rec.values.get(&x.source))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let mapped_text = |s: Special| {
        input
            .bound
            .iter()
            .find(|b| b.special() == Some(s))
            .and_then(|b| rec.values.get(&b.source))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let term = cfg
        .and_then(|c| c.search_term.as_ref())
        .and_then(|t| rec.values.get(t))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty());
    let mut c = CreateSpec {
        name: text_of(special(Special::Name))
            .or_else(|| compared("name"))
            .or_else(|| mapped_text(Special::Name)),
        ..CreateSpec::default()
    };
    match input.mapping.kind() {
        Kind::Organization => {
            c.domain = text_of(special(Special::Domain)).or_else(|| {
                term.as_deref()
                    .and_then(|t| normalize::split_multi(t).find_map(normalize::domain_key))
            });
        }
        Kind::Person => {
            c.first_name = text_of(special(Special::FirstName))
                .or_else(|| compared("first_name"))
                .or_else(|| mapped_text(Special::FirstName));
            c.last_name = text_of(special(Special::LastName))
                .or_else(|| compared("last_name"))
                .or_else(|| mapped_text(Special::LastName));
            c.emails = special(Special::Emails)
                .into_iter()
                .filter_map(|i| i.text)
                .collect();
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
        }
        Kind::Opportunity => {}
    }
    c
}

fn plan_create(input: &PlanInput, rec: &SourceRecord, values: Vec<(&Bound, Vec<ValueItem>)>) -> Op {
    let kind = input.mapping.kind();
    let c = create_spec(input, rec, &values);
    let cannot = |reason: &str| Op::Fail {
        reason: reason.to_string(),
        fields: vec![],
    };
    match kind {
        Kind::Organization if c.name.is_none() => {
            return cannot(
                "cannot create an organization without a name: map a column to `name`",
            )
        }
        Kind::Person if c.first_name.is_none() || c.last_name.is_none() => {
            return cannot("cannot create a person without a first and a last name: map columns to `first_name` and `last_name`")
        }
        Kind::Opportunity if c.name.is_none() || input.list.is_none() => {
            return cannot(
                "cannot create an opportunity without a name and `push.add_to_list` (its list)",
            )
        }
        _ => {}
    }
    let mut writes = Writes::default();
    for (b, items) in values {
        let Some(f) = b.field() else { continue };
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
            writes.entry.push(w);
        } else {
            writes.entity.push(w);
        }
    }
    Op::Create {
        spec: c,
        add_to_list: input.list.is_some() && kind != Kind::Opportunity,
        writes,
    }
}

#[cfg(test)]
mod tests;
