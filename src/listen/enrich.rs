//! The enrichment loop: a job's `on_list_entry = { list = "Deal Flow", mapping = "…" }` in
//! `affsync.toml` makes `affsync listen` match and push each record as it lands on that list.
//!
//! When the listener has stored a new entry (its read brought the entity and every value), the
//! mapping's source rows are matched against the mirror offline (the matcher, no call), and the
//! rows matched to the record that landed are pushed, and only they (a push run of the job,
//! `only` those rows): the mirror already holds the record, so no term search is needed, and
//! the push writes the fields that differ in one update per owner. In all: the listener's read,
//! the push's quota check and its update. A record no source row matches is journaled as such
//! (`not_in_source`) in the listen run.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::Utc;

use super::ListenError;
use crate::matching;
use crate::push::{self, PushOptions, PushReport};
use crate::store::{Store, StoreError};
use affinity_crm::Client;
use affsync_core::journal::{JournalEvent, Step};
use affsync_core::mapping::Mapping;
use affsync_core::matcher::Status;
use affsync_core::model::{EntryRow, RunId};

/// One `on_list_entry` of a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrichJob {
    /// The job's name (its push runs carry it).
    pub job: String,
    /// The list, by name or id.
    pub list: String,
    /// The mapping file (resolved against the config file's folder).
    pub mapping: PathBuf,
}

/// A job with its mapping read and checked.
pub struct Enricher {
    pub job: EnrichJob,
    mapping: Mapping,
}

/// The loop's jobs.
#[derive(Default)]
pub struct Enrichers {
    all: Vec<Enricher>,
}

/// What became of a record that landed.
#[derive(Debug, Clone, PartialEq)]
pub enum Enriched {
    /// Its source rows were pushed (the push's run).
    Pushed { run: i64, rows: usize },
    /// No source row matches it.
    NotInSource,
}

#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error(transparent)]
    Match(#[from] crate::matching::MatchError),
    #[error(transparent)]
    Push(#[from] crate::push::PushError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Enrichers {
    /// Reads every job's mapping file: one that does not parse stops the listener before it
    /// starts (strict with people).
    pub fn load(jobs: &[EnrichJob]) -> Result<Enrichers, ListenError> {
        let mut all = Vec::new();
        for j in jobs {
            let mapping =
                crate::io::load_mapping(&j.mapping).map_err(|e| ListenError::Enrichment {
                    job: j.job.clone(),
                    message: e.to_string(),
                })?;
            all.push(Enricher {
                job: j.clone(),
                mapping,
            });
        }
        Ok(Enrichers { all })
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    /// The jobs whose list is `list_id` (named by name or id).
    pub async fn for_list(
        &self,
        store: &Store,
        list_id: i64,
    ) -> Result<Vec<&Enricher>, StoreError> {
        if self.all.is_empty() {
            return Ok(Vec::new());
        }
        let lists = store.lists().await?;
        Ok(self
            .all
            .iter()
            .filter(|e| {
                let w = e.job.list.trim();
                lists.iter().any(|l| {
                    l.id == list_id && (l.id.to_string() == w || l.name.eq_ignore_ascii_case(w))
                })
            })
            .collect())
    }
}

impl Enricher {
    /// Matches the mapping's rows against the mirror and pushes those matched to the entry's
    /// entity.
    pub async fn run(
        &self,
        client: &Client,
        store: &Store,
        run: RunId,
        entry: &EntryRow,
    ) -> Result<Enriched, EnrichError> {
        let m = &self.mapping;
        let entity = format!("{}:{}", entry.entity_kind, entry.entity_id);
        if m.kind() != entry.entity_kind {
            return Ok(Enriched::NotInSource);
        }
        let inputs = matching::prepare(store, m).await?;
        let id = entry.entity_id.to_string();
        let rows: BTreeSet<String> = matching::decide(m, &inputs)
            .into_iter()
            .filter(|d| d.status == Status::Matched && d.affinity_id.as_deref() == Some(&id))
            .filter_map(|d| d.source_id)
            .collect();
        if rows.is_empty() {
            let name = store
                .entity_name(entry.entity_kind, entry.entity_id)
                .await?;
            store
                .add_events(
                    run,
                    &[JournalEvent::new(
                        entity,
                        Step::NotInSource {
                            list: self.job.list.clone(),
                            name,
                        },
                    )
                    .for_mapping(m.file())],
                    Utc::now(),
                )
                .await?;
            tracing::info!(job = %self.job.job, record = %entry.entity_id, "landed on the list; the enrichment source has no row for it");
            return Ok(Enriched::NotInSource);
        }
        let n = rows.len();
        let opts = PushOptions {
            job: Some(self.job.job.clone()),
            only: Some(rows),
            ..PushOptions::default()
        };
        let r: PushReport = push::push(store, client, m, &opts, &push::apply::Quiet).await?;
        tracing::info!(job = %self.job.job, record = %entry.entity_id, run = r.run.0, fields = r.counts.fields_written, "enriched as it landed");
        Ok(Enriched::Pushed {
            run: r.run.0,
            rows: n,
        })
    }
}
