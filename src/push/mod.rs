//! Push: a mapping file's records into Affinity, in `create_update` or `update_only` mode,
//! writing only what differs from the mirror, in as few calls as the API allows.
//!
//! 1. **Resolve** ([`resolve`]): the mapping checked and bound (no call); each record matched
//!    by a reviewer's verdict, its search term in the mirror, its search term in Affinity, then
//!    the fuzzy model; the mirror's values of the matched records read.
//! 2. **Plan** (the core's `plan::push`, pure): per record one operation: create, update the
//!    fields that differ, unchanged, skip (`skipped_no_match`, `awaiting_review`, rejected by a
//!    reviewer) or fail; a cell that does not convert is skipped with its reason.
//! 3. **Apply** ([`apply`]): creates through v1, list entries through v1, field values in one v2
//!    `update-fields` call per record and owner. A journal event is written before each create
//!    and list add and completed after it, so a rerun after a crash checks Affinity before
//!    doing it again; the mirror learns every write. A dry run is resolve and plan, never apply.

pub mod apply;
pub mod resolve;
pub mod values;

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::json;

use crate::matching::MatchError;
use crate::store::journal::RunEnd;
use crate::store::{Store, StoreError};
use affinity_crm::Client;
use affsync_core::diagnostic::{Diagnose, Diagnostic, ErrorClass};
use affsync_core::journal::{FieldChange, JournalEvent, RunKind, RunStatus, Step};
use affsync_core::mapping::Mapping;
use affsync_core::model::{Kind, RunId};
use affsync_core::plan::push::{plan, Op, RecordPlan, SkipKind};

pub use apply::{Done, Outcome};

/// How a push runs.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Resolve and plan, print the plan, write nothing.
    pub dry_run: bool,
    /// Refuse to start when the push would need more calls than this.
    pub max_calls: Option<u64>,
    /// Records written at once (the client paces them to the rate limit).
    pub concurrency: usize,
    /// The job the run belongs to.
    pub job: Option<String>,
    /// Push only these source records (by id): `affsync retry`.
    pub only: Option<BTreeSet<String>>,
    /// A cell that does not convert fails its record (else it is skipped, the rest written).
    pub strict: bool,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            dry_run: false,
            max_calls: None,
            concurrency: 4,
            job: None,
            only: None,
            strict: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("`{0}` has no `[push]` section")]
    NoPushSection(String),
    #[error("`{file}`, line {line}: {message}")]
    Mapping {
        file: String,
        line: usize,
        message: String,
        hint: String,
    },
    #[error("`affsync check` finds {} problem(s) in the mapping file; nothing was pushed:\n{}", .0.len(), .0.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"))]
    Check(Vec<Diagnostic>),
    #[error("the push needs {needed} API calls, more than `--max-calls {max}`")]
    OverMaxCalls { needed: u64, max: u64 },
    #[error("the push does not start: it needs {needed} API calls and the monthly quota has {left} left")]
    OverQuota { needed: u64, left: u64 },
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Api(#[from] affinity_crm::Error),
}

impl Diagnose for PushError {
    fn class(&self) -> ErrorClass {
        match self {
            PushError::NoPushSection(_)
            | PushError::Check(_)
            | PushError::Mapping { .. }
            | PushError::OverMaxCalls { .. }
            | PushError::OverQuota { .. } => ErrorClass::BadInput,
            PushError::Match(m) => m.class(),
            PushError::Store(s) => s.class(),
            PushError::Api(_) => ErrorClass::Failure,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            PushError::NoPushSection(_) => Some(
                "add `[push]` with `mode = \"create_update\"` or `mode = \"update_only\"`".into(),
            ),
            PushError::Mapping { hint, .. } => Some(hint.clone()),
            PushError::Check(_) => None,
            PushError::OverMaxCalls { .. } => {
                Some("raise `--max-calls`, or push part of the file".into())
            }
            PushError::OverQuota { .. } => {
                Some("wait for the quota to reset, or push part of the file".into())
            }
            PushError::Match(m) => m.hint(),
            PushError::Store(s) => s.hint(),
            PushError::Api(_) => None,
        }
    }
}

impl PushError {
    /// Whether the error is the user's input (exit code 2).
    pub fn is_bad_input(&self) -> bool {
        self.class() == ErrorClass::BadInput
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
    /// Cells that did not convert: skipped, the records' other values written.
    pub values_skipped: usize,
    /// Found in Affinity by term search (not in the mirror before).
    pub found_in_affinity: usize,
    /// Term searches asked of Affinity.
    pub term_searches: usize,
    /// Every call the push makes: the lookups, the quota check and the writes.
    pub estimated_calls: u64,
    pub estimated_write_calls: u64,
    pub api_calls: u64,
    pub write_calls: u64,
}

/// How a push was set up, as its run's journal keeps it (the report shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PushSettings {
    pub mapping: String,
    pub mode: &'static str,
    pub add_to_list: Option<String>,
    pub strict: bool,
    pub dry_run: bool,
}

/// What a push did (or, dry, would do).
#[derive(Debug, Clone)]
pub struct PushReport {
    pub run: RunId,
    pub mapping: String,
    pub settings: PushSettings,
    /// The kind of record the mapping pushes.
    pub kind: Kind,
    pub dry_run: bool,
    pub plans: Vec<RecordPlan>,
    /// One per plan, in order (none for a dry run).
    pub outcomes: Vec<Outcome>,
    pub counts: PushCounts,
    /// Why the push stopped before the end, when it did.
    pub stopped: Option<String>,
}

impl PushReport {
    /// The summary as `--json` prints it: the counts, and each record's action, fields old →
    /// new and skipped cells.
    pub fn summary_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(&self.counts).expect("counts serialize");
        v["run"] = self.run.0.into();
        v["mapping"] = self.mapping.clone().into();
        v["dry_run"] = self.dry_run.into();
        v["stopped"] = self.stopped.clone().into();
        v["records_detail"] = self
            .plans
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let fields: Vec<_> =
                    p.op.writes()
                        .map(|w| {
                            w.all()
                            .map(|w| {
                                serde_json::json!({
                                    "field": w.field_name, "old": values::words(&w.old), "new": values::words(&w.new)
                                })
                            })
                            .collect()
                        })
                        .unwrap_or_default();
                let skipped: Vec<_> = p
                    .skipped_values
                    .iter()
                    .map(
                        |s| serde_json::json!({"field": s.field, "value": s.value, "reason": s.reason}),
                    )
                    .collect();
                serde_json::json!({
                    "source_id": p.source_id,
                    "row": p.row,
                    "name": p.name,
                    "action": self.action(i),
                    "affinity_id": self.affinity_id(i).map(|i| i.to_string()),
                    "affinity_name": p.affinity_name,
                    "method": p.method,
                    "score": p.score,
                    "add_to_list": p.op.add_to_list(),
                    "fields": fields,
                    "values_skipped": skipped,
                    "reason": p.op.reason(),
                })
            })
            .collect::<Vec<_>>()
            .into();
        v
    }

    /// Some records failed or were not attempted.
    pub fn partial(&self) -> bool {
        self.counts.failed > 0 || self.counts.not_attempted > 0 || self.stopped.is_some()
    }

    /// What became of each record: the outcome when applied, else the plan's action.
    pub fn action(&self, i: usize) -> &'static str {
        match self.outcomes.get(i) {
            Some(o) => o.done.as_str(),
            None => self.plans[i].op.as_str(),
        }
    }

    /// The Affinity record of a record: created or matched.
    pub fn affinity_id(&self, i: usize) -> Option<i64> {
        self.outcomes
            .get(i)
            .and_then(|o| o.affinity_id)
            .or_else(|| self.plans[i].op.affinity_id())
    }

    /// A record as a person reads it: `c027 Kestrel Farms LLC → Kestrel Farms Inc.
    /// (organization 297528530)` (Affinity's name when it is not the source's),
    /// `c049 Quarry Fleet → organization 2918538601`.
    pub fn label(&self, i: usize) -> String {
        let p = &self.plans[i];
        let mut s = p
            .source_id
            .clone()
            .unwrap_or_else(|| format!("row {}", p.row));
        if let Some(n) = &p.name {
            s.push(' ');
            s.push_str(n);
        }
        // Affinity's name when it is not the source's (a fuzzy match, another legal form).
        let other_name = p.affinity_name.as_ref().filter(|a| {
            p.name
                .as_ref()
                .is_none_or(|n| !n.trim().eq_ignore_ascii_case(a.trim()))
        });
        match (self.affinity_id(i), other_name) {
            (Some(id), Some(n)) => s.push_str(&format!(" → {n} ({} {id})", self.kind.as_str())),
            (Some(id), None) => s.push_str(&format!(" → {} {id}", self.kind.as_str())),
            (None, _) => {}
        }
        s
    }

    /// The records that failed, with why.
    pub fn failures(&self) -> Vec<(String, String)> {
        (0..self.plans.len())
            .filter_map(|i| {
                let why = match (self.outcomes.get(i), &self.plans[i].op) {
                    (
                        Some(Outcome {
                            done: Done::Failed(r),
                            ..
                        }),
                        _,
                    ) => r.clone(),
                    (None, Op::Fail { reason, .. }) => reason.clone(),
                    _ => return None,
                };
                Some((self.label(i), why))
            })
            .collect()
    }
}

/// Runs a push (or a dry run) of one mapping file.
pub async fn push(
    store: &Store,
    client: &Client,
    mapping: &Mapping,
    opts: &PushOptions,
    progress: &dyn apply::Progress,
) -> Result<PushReport, PushError> {
    let prepared = resolve::prepare(store, mapping, opts).await?;
    let calls_before = client.stats().calls;
    let kind = if opts.dry_run {
        RunKind::PushDryRun
    } else {
        RunKind::Push
    };
    let run = store.begin_run(kind, opts.job.as_deref()).await?;
    let result = run_push(store, client, &prepared, opts, run.id(), progress).await;
    let api_calls = client.stats().calls - calls_before;
    let result = result.map(|mut r| {
        r.counts.api_calls = api_calls;
        r
    });
    run.close(
        result,
        |r| RunEnd {
            status: if r.partial() {
                RunStatus::Partial
            } else {
                RunStatus::Ok
            },
            counts: {
                let mut c = json!(r.counts);
                c["settings"] = json!(r.settings);
                c
            },
            api_calls,
            note: r.stopped.clone(),
        },
        api_calls,
    )
    .await
}

async fn run_push(
    store: &Store,
    client: &Client,
    prepared: &resolve::Prepared<'_>,
    opts: &PushOptions,
    run: RunId,
    progress: &dyn apply::Progress,
) -> Result<PushReport, PushError> {
    // The monthly quota is asked first, once (a dry run counts that call for the push): a push
    // the quota cannot cover does not start, and spends nothing on term searches.
    let quota_left = if opts.dry_run {
        None
    } else {
        apply::monthly_left(client).await?
    };
    if quota_left == Some(0) {
        return Err(PushError::OverQuota { needed: 1, left: 0 });
    }
    let resolved = resolve::resolve(store, client, prepared, run, opts, quota_left).await?;
    let plans = plan(&resolved.plan_input(prepared));
    let writes: u64 = plans.iter().map(|p| p.op.write_calls()).sum();
    let mut counts = PushCounts {
        records: plans.len(),
        found_in_affinity: resolved.found_in_affinity,
        term_searches: resolved.term_searches,
        estimated_calls: 1 + resolved.lookup_calls + writes,
        estimated_write_calls: writes,
        ..PushCounts::default()
    };
    let mapping = resolved.inputs.mapping.clone();
    let settings = PushSettings {
        mapping: mapping.clone(),
        mode: match prepared.mode {
            affsync_core::mapping::PushMode::CreateUpdate => "create_update",
            affsync_core::mapping::PushMode::UpdateOnly => "update_only",
        },
        add_to_list: prepared.list.as_ref().map(|l| l.name.clone()),
        strict: prepared.strict,
        dry_run: opts.dry_run,
    };
    if opts.dry_run {
        journal_dry_run(store, run, &plans, &mapping).await?;
        tally(&mut counts, &plans, &[]);
        return Ok(PushReport {
            run,
            mapping,
            settings,
            kind: prepared.mapping.kind(),
            dry_run: true,
            plans,
            outcomes: Vec::new(),
            counts,
            stopped: None,
        });
    }
    if let Some(max) = opts.max_calls {
        if writes > max {
            return Err(PushError::OverMaxCalls {
                needed: writes,
                max,
            });
        }
    }
    if let Some(left) = quota_left.map(|l| l.saturating_sub(resolved.lookup_calls)) {
        if writes > left {
            return Err(PushError::OverQuota {
                needed: writes,
                left,
            });
        }
    }
    let refs = referenced(store, &plans).await?;
    let ctx = apply::Ctx::new(
        store,
        client,
        prepared,
        run,
        &mapping,
        &resolved.open,
        &refs,
    );
    let (outcomes, stopped) = apply::apply(&ctx, &plans, opts.concurrency.max(1), progress).await?;
    // Records created now are matched: the review queue no longer offers them.
    let created: Vec<(String, i64)> = plans
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.done == Done::Created)
        .filter_map(|(p, o)| Some((p.source_id.clone()?, o.affinity_id?)))
        .collect();
    store
        .settle_created(&mapping, &created, run, chrono::Utc::now())
        .await?;
    tally(&mut counts, &plans, &outcomes);
    Ok(PushReport {
        run,
        mapping,
        settings,
        kind: prepared.mapping.kind(),
        dry_run: false,
        plans,
        outcomes,
        counts,
        stopped,
    })
}

/// What the mirror knows of the persons and organizations the plans' values refer to.
async fn referenced(store: &Store, plans: &[RecordPlan]) -> Result<values::RefDetails, PushError> {
    let (mut persons, mut orgs) = (BTreeSet::new(), BTreeSet::new());
    for w in plans
        .iter()
        .filter_map(|p| p.op.writes())
        .flat_map(|w| w.all())
    {
        let ids = w.new.iter().filter_map(|i| i.ref_id);
        if w.value_type.starts_with("person") {
            persons.extend(ids);
        } else if w.value_type.starts_with("company") {
            orgs.extend(ids);
        }
    }
    Ok(store.ref_details(&persons, &orgs).await?)
}

/// The counts of a plan (dry) or of its outcomes.
fn tally(counts: &mut PushCounts, plans: &[RecordPlan], outcomes: &[Outcome]) {
    for (i, p) in plans.iter().enumerate() {
        if p.was_matched() {
            counts.matched += 1;
        }
        let done = match outcomes.get(i) {
            Some(o) => {
                counts.added_to_list += usize::from(o.added);
                counts.fields_written += o.fields_written;
                counts.write_calls += o.write_calls;
                counts.values_skipped += o.values_skipped;
                o.done.clone()
            }
            None => {
                counts.added_to_list += usize::from(p.op.add_to_list());
                counts.fields_written += p.op.writes().map_or(0, |w| w.len());
                counts.values_skipped += p.skipped_values.len();
                Done::planned(&p.op)
            }
        };
        *match done {
            Done::Created => &mut counts.created,
            Done::Updated => &mut counts.updated,
            Done::Unchanged => &mut counts.unchanged,
            Done::Skipped(SkipKind::NoMatch) => &mut counts.skipped_no_match,
            Done::Skipped(SkipKind::AwaitingReview) => &mut counts.awaiting_review,
            Done::Skipped(SkipKind::Rejected) => &mut counts.rejected,
            Done::NotAttempted => &mut counts.not_attempted,
            Done::Failed(_) => &mut counts.failed,
        } += 1;
    }
}

/// Journals a dry run: one `planned` event per record.
async fn journal_dry_run(
    store: &Store,
    run: RunId,
    plans: &[RecordPlan],
    mapping: &str,
) -> Result<(), PushError> {
    let events: Vec<JournalEvent> = plans
        .iter()
        .map(|p| {
            let fields =
                p.op.writes()
                    .map(|w| {
                        w.all()
                            .map(|w| FieldChange {
                                field: w.field_name.clone(),
                                field_id: Some(w.field_id.clone()),
                                old: Some(values::words(&w.old)),
                                new: Some(values::words(&w.new)),
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            let reason = match &p.op {
                Op::Skip { reason, .. } | Op::Fail { reason, .. } => reason.clone(),
                _ => String::new(),
            };
            JournalEvent::new(
                p.record_key(),
                Step::Planned {
                    action: p.op.as_str().to_string(),
                    affinity_id: p.op.affinity_id(),
                    fields,
                    add_to_list: p.op.add_to_list(),
                    reason,
                    estimated_calls: p.op.write_calls(),
                },
            )
            .for_mapping(mapping)
        })
        .collect();
    store.add_events(run, &events, chrono::Utc::now()).await?;
    Ok(())
}
