//! Reconciliation: a pull as any other (every entry of the lists read, the mirror compared and
//! brought up to date), whose differences are, on a mirror the listener keeps, what the
//! webhooks missed: its drift. A pull's journal says per entry what it found new, changed or
//! gone; the reconciliation counts those, names the entries, and journals the count as a
//! `drift` event in the pull's run, which `status` shows. Drift is the listener's health: zero
//! when every event arrived and was applied.
//!
//! What Affinity announces by no webhook shows up here too, as drift the listener could not
//! have avoided: enrichment updates (affinity-api.md §5: field-value events skip them) and
//! relationship-intelligence dates, which move with interactions.

use std::collections::BTreeSet;

use chrono::Utc;
use serde::Serialize;

use crate::pull::{self, PullError, PullOptions, PullSummary, Quiet};
use crate::store::Store;
use affinity_crm::Client;
use affsync_core::journal::{DriftDetail, JournalEvent, Step};
use affsync_core::model::RunId;

/// What a reconciliation found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reconciled {
    pub pull: PullSummary,
    pub drift: DriftDetail,
}

/// Pulls `lists` (every list when empty) and journals the drift found.
pub async fn reconcile(
    client: &Client,
    store: &Store,
    lists: &[String],
    job: Option<&str>,
) -> Result<Reconciled, PullError> {
    let opts = PullOptions {
        lists: lists.to_vec(),
        all_lists: lists.is_empty(),
        ..PullOptions::default()
    };
    let s = pull::pull_for_job(client, store, &opts, &Quiet, job).await?;
    let run = RunId(s.run);
    let mut drifted = BTreeSet::new();
    for e in store.events(run).await? {
        let entry = e
            .event
            .record
            .strip_prefix("entry:")
            .and_then(|n| n.parse::<i64>().ok());
        if let (Some(id), Step::New { .. } | Step::Changed { .. } | Step::Removed { .. }) =
            (entry, &e.event.step)
        {
            drifted.insert(id);
        }
    }
    let sum = |f: fn(&pull::ListSummary) -> usize| s.lists.iter().map(f).sum::<usize>();
    let (new, changed, removed) = (sum(|l| l.new), sum(|l| l.changed), sum(|l| l.removed));
    let drift = DriftDetail {
        lists: s.lists.iter().map(|l| l.list.clone()).collect(),
        entries: sum(|l| l.entries_seen),
        new,
        changed,
        removed,
        drift: new + changed + removed,
        drifted: drifted.into_iter().collect(),
    };
    store
        .add_events(
            run,
            &[JournalEvent::new(
                "reconciliation",
                Step::Drift(drift.clone()),
            )],
            Utc::now(),
        )
        .await?;
    Ok(Reconciled { pull: s, drift })
}
