//! The reviewers' side of matching: the queue of records the matcher could not settle, the
//! verdicts reviewers give them (stored, journaled, and used by the next match and push), and
//! the web page they do it on.
//!
//! - [`queue`]: a page of the queue with each record's candidates read from the mirror;
//! - [`pages`]: the HTML (pure: data in, text out, every record value escaped);
//! - [`server`]: the axum server (loopback by default, a token otherwise, CSRF on every POST).

pub mod compare;
pub mod pages;
pub mod queue;
pub mod server;

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use chrono::{DateTime, Utc};
use serde_json::json;

use crate::store::decisions::{ReviewRow, ReviewVerdict};
use crate::store::journal::RunEnd;
use crate::store::{Store, StoreError};
use affsync_core::journal::{JournalEvent, ReviewDetail, RunKind, Step};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error("no match decision for source record `{source_id}` of `{mapping}`")]
    UnknownRecord { mapping: String, source_id: String },
    #[error(
        "`{affinity_id}` is not a record in the mirror (accepting `{source_id}` of `{mapping}`)"
    )]
    UnknownAffinityRecord {
        mapping: String,
        source_id: String,
        affinity_id: String,
    },
    #[error("source record `{source_id}` of `{mapping}` has no reviewer's decision to undo")]
    NothingToUndo { mapping: String, source_id: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Diagnose for ReviewError {
    fn class(&self) -> ErrorClass {
        match self {
            ReviewError::Store(s) => s.class(),
            _ => ErrorClass::BadInput,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            ReviewError::UnknownRecord { mapping, .. } => Some(format!("run `affsync match {mapping}` first, and check the id with `affsync review list --mapping {mapping}`")),
            ReviewError::UnknownAffinityRecord { .. } => Some("give the Affinity id of an organization, person or opportunity the mirror holds; `affsync pull` refreshes it".into()),
            ReviewError::NothingToUndo { .. } => Some("`affsync review list --status decided` lists the verdicts".into()),
            ReviewError::Store(s) => s.hint(),
        }
    }
}

impl ReviewError {
    /// Whether the error is the user's input (exit code 2) rather than a failure.
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, ReviewError::Store(_))
    }
}

/// What a reviewer says about one source record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// It is this Affinity record.
    Accept(String),
    /// It is new: created by the next push in `create_update` mode.
    Create,
    /// None of the candidates, and not to be created.
    Reject,
    /// Forget the earlier verdict: the matcher's decision holds again.
    Undo,
}

impl Verdict {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Accept(_) => "accept",
            Verdict::Create => "create",
            Verdict::Reject => "reject",
            Verdict::Undo => "undo",
        }
    }
}

/// One verdict to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decide {
    pub mapping: String,
    pub source_id: String,
    pub verdict: Verdict,
}

/// Records verdicts: each is checked (the source record has a stored decision, an accepted id
/// is in the mirror, an undo has something to undo), stored, and journaled as a
/// `review_decided` (or `review_undone`) event on `src:ID` in one `review` run. Stops at the
/// first verdict that cannot be recorded; those before it stay recorded.
pub async fn decide(
    store: &Store,
    items: &[Decide],
    decided_by: Option<&str>,
    now: DateTime<Utc>,
) -> Result<usize, ReviewError> {
    let stamp = crate::store::time_text(now);
    let mut events = Vec::with_capacity(items.len());
    let mut result = Ok(());
    for it in items {
        match decide_one(store, it, decided_by, &stamp).await {
            Ok(ev) => events.push(ev),
            Err(e) => {
                result = Err(e);
                break;
            }
        }
    }
    if !events.is_empty() {
        let run = store.begin_run(RunKind::Review, None).await?;
        run.events(&events).await?;
        run.finish(RunEnd::ok(json!({ "decided": events.len() }), 0))
            .await?;
    }
    result.map(|()| events.len())
}

async fn decide_one(
    store: &Store,
    it: &Decide,
    decided_by: Option<&str>,
    stamp: &str,
) -> Result<JournalEvent, ReviewError> {
    let unknown = || ReviewError::UnknownRecord {
        mapping: it.mapping.clone(),
        source_id: it.source_id.clone(),
    };
    let item = store
        .queue_item(&it.mapping, &it.source_id)
        .await?
        .ok_or_else(unknown)?;
    let record = format!("src:{}", it.source_id);
    let (verdict, affinity_id) = match &it.verdict {
        Verdict::Undo => {
            if !store.undo_review(&it.mapping, &it.source_id).await? {
                return Err(ReviewError::NothingToUndo {
                    mapping: it.mapping.clone(),
                    source_id: it.source_id.clone(),
                });
            }
            let was = item.review.as_ref();
            return Ok(JournalEvent::new(
                record,
                Step::ReviewUndone(ReviewDetail {
                    verdict: was.map(|r| r.verdict.as_str().to_string()),
                    affinity_id: was.and_then(|r| r.affinity_id.clone()),
                    decided_by: decided_by.map(str::to_string),
                }),
            )
            .for_mapping(&it.mapping));
        }
        Verdict::Accept(id) => {
            let kind = queue::MappingInfo::load(&it.mapping).kind;
            let cards = store
                .entity_cards(kind, std::slice::from_ref(id), &[])
                .await?;
            if !cards.contains_key(id.trim()) {
                return Err(ReviewError::UnknownAffinityRecord {
                    mapping: it.mapping.clone(),
                    source_id: it.source_id.clone(),
                    affinity_id: id.clone(),
                });
            }
            (ReviewVerdict::Accept, Some(id.trim().to_string()))
        }
        Verdict::Create => (ReviewVerdict::Create, None),
        Verdict::Reject => (ReviewVerdict::Reject, None),
    };
    store
        .save_review(&ReviewRow {
            mapping: it.mapping.clone(),
            source_id: it.source_id.clone(),
            verdict,
            affinity_id: affinity_id.clone(),
            decided_by: decided_by.map(str::to_string),
            decided_at: stamp.to_string(),
        })
        .await?;
    Ok(JournalEvent::new(
        record,
        Step::ReviewDecided(ReviewDetail {
            verdict: Some(verdict.as_str().to_string()),
            affinity_id,
            decided_by: decided_by.map(str::to_string),
        }),
    )
    .for_mapping(&it.mapping))
}
