//! Push: a mapping file's records into Affinity, in `create_update` or `update_only` mode,
//! writing only what differs from the mirror, in as few calls as the API allows.
//!
//! 1. **Match** ([`crate::matching`]), reviewers' decisions included. A record whose search term
//!    is not in the mirror is looked up in Affinity (term search, then an exact comparison of
//!    the normalized key) before it counts as unmatched; the mirror learns what was found.
//! 2. **Plan** ([`plan`], pure): per record, create / update the fields that differ / skip
//!    (`skipped_no_match`, `awaiting_review`, rejected by a reviewer) / fail (a bad value fails
//!    its record alone), and add to the list when it is not on it.
//! 3. **Apply** ([`apply`]): creates through v1, list entries through v1, field values in one v2
//!    `update-fields` call per record and owner (at most 100 fields a call). A journal event is
//!    written before each write (`create_started`, `add_started`) and completed after it, so a
//!    rerun after a crash checks Affinity before doing it again; the mirror learns every write.

pub mod apply;
pub mod plan;
pub mod values;

use affsync_core::model::RunId;
use affsync_core::model::{FieldRow, ListRow};
use std::collections::BTreeMap;

use chrono::Utc;
use serde::Serialize;
use serde_json::json;

use crate::matching::MatchError;
use crate::store::{RunStatus, Store, StoreError};
use affinity_crm::Client;
use affsync_core::mapping::convert::Special;
use affsync_core::mapping::{Mapping, PushMode};

pub use plan::{Action, FieldWrite, RecordPlan};

/// How a push runs.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Plan and print, write nothing.
    pub dry_run: bool,
    /// Refuse to start when the push would need more calls than this.
    pub max_calls: Option<u64>,
    /// Records written at once (the client paces them to the rate limit).
    pub concurrency: usize,
    /// The job the run belongs to.
    pub job: Option<String>,
    /// Push only these source records (by id): `affsync retry`.
    pub only: Option<std::collections::BTreeSet<String>>,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            dry_run: false,
            max_calls: None,
            concurrency: 4,
            job: None,
            only: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("`{0}` has no `[push]` section\nhint: add `[push]` with `mode = \"create_update\"` or `mode = \"update_only\"`")]
    NoPushSection(String),
    #[error("`{file}`, line {line}: {message}\nhint: {hint}")]
    Mapping {
        file: String,
        line: usize,
        message: String,
        hint: String,
    },
    #[error("`affsync check` finds {} problem(s) in the mapping file; nothing was pushed:\n{}", .0.len(), .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Check(Vec<affsync_core::mapping::check::Diagnostic>),
    #[error("the push needs about {needed} API calls, more than `--max-calls {max}`\nhint: raise `--max-calls`, or push part of the file")]
    OverMaxCalls { needed: u64, max: u64 },
    #[error("the push needs about {needed} API calls and the monthly quota has {left} left\nhint: wait for the quota to reset, or push part of the file")]
    OverQuota { needed: u64, left: u64 },
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Api(#[from] affinity_crm::Error),
}

impl PushError {
    /// Whether the error is the user's input (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        match self {
            PushError::NoPushSection(_)
            | PushError::Check(_)
            | PushError::Mapping { .. }
            | PushError::OverMaxCalls { .. }
            | PushError::OverQuota { .. } => true,
            PushError::Match(m) => m.is_bad_input(),
            _ => false,
        }
    }
}

/// Where a `[[fields]]` entry writes.
#[derive(Debug, Clone)]
pub struct Bound {
    /// Index into the mapping's `fields`.
    pub spec: usize,
    pub source: String,
    pub field: Option<FieldRow>,
    pub special: Option<Special>,
    /// A list field of `add_to_list`: written on the list entry, not the entity.
    pub on_entry: bool,
}

impl Bound {
    pub fn target(&self) -> affsync_core::mapping::convert::Target<'_> {
        use affsync_core::mapping::convert::Target;
        match (&self.field, self.special) {
            (Some(f), _) => Target::Field(f),
            (None, Some(s)) => Target::Special(s),
            (None, None) => unreachable!("a bound field has a target"),
        }
    }

    /// The name in messages and the journal.
    pub fn name(&self) -> String {
        match (&self.field, self.special) {
            (Some(f), _) => f.name.clone(),
            (None, Some(s)) => s.as_str().to_string(),
            (None, None) => String::new(),
        }
    }
}

/// The counts of a push.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PushCounts {
    pub records: usize,
    pub matched: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub skipped_no_match: usize,
    pub awaiting_review: usize,
    pub rejected: usize,
    pub failed: usize,
    /// Records not attempted because the push stopped (quota spent).
    pub not_attempted: usize,
    pub added_to_list: usize,
    pub fields_written: usize,
    /// Found in Affinity by term search (not in the mirror before).
    pub found_in_affinity: usize,
    pub estimated_calls: u64,
    pub api_calls: u64,
    pub write_calls: u64,
}

/// What a push did (or, dry, would do).
#[derive(Debug, Clone)]
pub struct PushReport {
    pub run: RunId,
    pub mapping: String,
    pub dry_run: bool,
    pub plans: Vec<RecordPlan>,
    pub counts: PushCounts,
    /// Why the push stopped before the end, when it did.
    pub stopped: Option<String>,
}

impl PushReport {
    /// Some records failed or were not attempted.
    pub fn partial(&self) -> bool {
        self.counts.failed > 0 || self.counts.not_attempted > 0 || self.stopped.is_some()
    }
}

/// Binds each `[[fields]]` entry to its target in the catalog.
pub fn bind_fields(
    mapping: &Mapping,
    catalog: &[FieldRow],
    list: Option<&ListRow>,
) -> Result<Vec<Bound>, PushError> {
    let kind = mapping.kind().as_str();
    let mut out = Vec::new();
    for (i, f) in mapping.fields.iter().enumerate() {
        let name = f.affinity.get_ref().trim();
        let bad = |message: String, hint: String| PushError::Mapping {
            file: mapping.file(),
            line: mapping.line(f.affinity.span()),
            message,
            hint,
        };
        if let Some(s) = Special::parse(name) {
            out.push(Bound {
                spec: i,
                source: f.source.get_ref().clone(),
                field: None,
                special: Some(s),
                on_entry: false,
            });
            continue;
        }
        let fits = |c: &&FieldRow| {
            (c.id == name || c.name.eq_ignore_ascii_case(name))
                && match c.list_id {
                    None => c.entity_kind.is_none_or(|k| k.as_str() == kind),
                    Some(l) => list.is_some_and(|x| x.id == l),
                }
        };
        let found: Vec<&FieldRow> = catalog.iter().filter(fits).collect();
        let Some(field) = found.first() else {
            return Err(bad(
                format!("`fields.affinity` names `{name}`, which is no field of this {} (global, or on `add_to_list`)", mapping.kind().as_str()),
                "run `affsync check` on the file for the fields there are".into(),
            ));
        };
        if field.field_type == "enriched" || field.field_type == "relationship-intelligence" {
            return Err(bad(
                format!(
                    "`{}` is a {} field: Affinity does not take writes to it",
                    field.name, field.field_type
                ),
                "map the value to a field of your own".into(),
            ));
        }
        out.push(Bound {
            spec: i,
            source: f.source.get_ref().clone(),
            field: Some((*field).clone()),
            special: None,
            on_entry: field.list_id.is_some(),
        });
    }
    Ok(out)
}

/// Runs a push (or a dry run) of one mapping file.
pub async fn push(
    store: &Store,
    client: &Client,
    mapping: &Mapping,
    opts: &PushOptions,
    progress: &dyn apply::Progress,
) -> Result<PushReport, PushError> {
    let spec = mapping
        .push
        .as_ref()
        .ok_or_else(|| PushError::NoPushSection(mapping.file()))?;
    let mode = *spec.mode.get_ref();
    // The checker first: a mapping Affinity would reject costs no call.
    let catalog = store.catalog().await?;
    // The persons and organizations values may name: the checker's, then push's (with what
    // Affinity's term search adds).
    let mut refs = store.mirror_refs().await?;
    {
        use crate::io::source::sample_source;
        use affsync_core::mapping::check::{check, Severity};
        let errors: Vec<_> = check(mapping, &catalog, &refs, &sample_source(mapping))
            .into_iter()
            .filter(|d| d.severity == Severity::Error)
            .collect();
        if !errors.is_empty() {
            return Err(PushError::Check(errors));
        }
    }
    let list = match &spec.add_to_list {
        None => None,
        Some(l) => match store.find_list(l.get_ref()).await? {
            Some(found) => Some(found),
            None => {
                return Err(PushError::Mapping {
                    file: mapping.file(),
                    line: mapping.line(l.span()),
                    message: format!(
                        "`push.add_to_list` names `{}`, which the mirror does not hold",
                        l.get_ref()
                    ),
                    hint: "name a list as Affinity spells it (or its id), and pull it first".into(),
                })
            }
        },
    };
    let bound = bind_fields(mapping, &catalog.fields, list.as_ref())?;
    let calls_before = client.stats().calls;

    let run = store
        .start_run(
            if opts.dry_run { "push-dry-run" } else { "push" },
            opts.job.as_deref(),
            Utc::now(),
        )
        .await?;
    let result = run_push(
        store,
        client,
        mapping,
        mode,
        list.as_ref(),
        &bound,
        opts,
        run,
        &mut refs,
        progress,
    )
    .await;
    let api_calls = client.stats().calls - calls_before;
    match result {
        Ok(mut report) => {
            report.counts.api_calls = api_calls;
            let status = if report.partial() {
                RunStatus::Partial
            } else {
                RunStatus::Ok
            };
            store
                .finish_run(
                    run,
                    status,
                    &json!(report.counts),
                    api_calls,
                    report.stopped.as_deref(),
                    Utc::now(),
                )
                .await?;
            Ok(report)
        }
        Err(e) => {
            let _ = store
                .finish_run(
                    run,
                    RunStatus::Failed,
                    &json!({}),
                    api_calls,
                    Some(&e.to_string()),
                    Utc::now(),
                )
                .await;
            Err(e)
        }
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_push(
    store: &Store,
    client: &Client,
    mapping: &Mapping,
    mode: PushMode,
    list: Option<&ListRow>,
    bound: &[Bound],
    opts: &PushOptions,
    run: RunId,
    refs: &mut affsync_core::mapping::catalog::MirrorRefs,
    progress: &dyn apply::Progress,
) -> Result<PushReport, PushError> {
    let mut outcome =
        crate::matching::run_match_in(store, mapping, opts.job.as_deref(), Some(run)).await?;
    if let Some(only) = &opts.only {
        let keep: Vec<bool> = outcome
            .decisions
            .iter()
            .map(|d| d.source_id.as_ref().is_some_and(|s| only.contains(s)))
            .collect();
        let mut k = keep.iter();
        outcome
            .decisions
            .retain(|_| *k.next().expect("one flag per decision"));
        let mut k = keep.iter();
        outcome
            .records
            .retain(|_| *k.next().expect("one flag per record"));
    }
    // Writes begun in an earlier run and never confirmed: asked of Affinity before redoing them.
    let open = apply::unfinished(store, &outcome.mapping).await?;
    let found = apply::look_up_unmatched(store, client, mapping, &mut outcome, &open, run).await?;
    let state = plan::load_state(store, mapping, &outcome, bound, list).await?;
    values::look_up_references(store, client, mapping, bound, &outcome.records, refs).await?;
    let mut plans = plan::plan(mapping, mode, &outcome, bound, list, &state, &*refs);
    let estimated: u64 = plans.iter().map(|p| p.estimated_calls()).sum();
    let mut counts = PushCounts {
        records: plans.len(),
        found_in_affinity: found,
        estimated_calls: estimated,
        ..PushCounts::default()
    };
    if !opts.dry_run {
        if let Some(max) = opts.max_calls {
            if estimated > max {
                return Err(PushError::OverMaxCalls {
                    needed: estimated,
                    max,
                });
            }
        }
        if estimated > 0 {
            if let Some(left) = apply::monthly_left(client).await? {
                if estimated > left {
                    return Err(PushError::OverQuota {
                        needed: estimated,
                        left,
                    });
                }
            }
        }
    }
    let mut stopped = None;
    if opts.dry_run {
        apply::journal_dry_run(store, run, &plans, &outcome.mapping).await?;
    } else {
        stopped = apply::apply(
            store,
            client,
            mapping,
            list,
            &mut plans,
            opts.concurrency.max(1),
            run,
            &outcome.mapping,
            open,
            progress,
        )
        .await?;
    }
    let mut by_action: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &plans {
        *by_action.entry(p.action.as_str()).or_default() += 1;
        if p.was_matched {
            counts.matched += 1;
        }
        if p.added {
            counts.added_to_list += 1;
        }
        counts.fields_written += p.fields_written;
        counts.write_calls += p.write_calls;
    }
    let n = |a: &str| by_action.get(a).copied().unwrap_or(0);
    counts.created = n("created");
    counts.updated = n("updated");
    counts.unchanged = n("unchanged");
    counts.skipped_no_match = n("skipped_no_match");
    counts.awaiting_review = n("awaiting_review");
    counts.rejected = n("rejected");
    counts.failed = n("failed");
    counts.not_attempted = n("not_attempted");
    Ok(PushReport {
        run,
        mapping: outcome.mapping,
        dry_run: opts.dry_run,
        plans,
        counts,
        stopped,
    })
}
