//! A page of the review queue, ready to show: each record with its candidates as the mirror
//! holds them (name, domains or emails, lists, the compared fields).

use std::collections::BTreeMap;
use std::path::Path;

use crate::store::review::{EntityCard, Progress, QueueFilter, QueueItem};
use crate::store::{Store, StoreError};
use affsync_core::matcher::config::Attr;
use affsync_core::matcher::Kind;

/// Records on a page of the queue.
pub const PER_PAGE: i64 = 50;

/// What the review needs from a mapping file: the kind of record it matches and what it
/// compares. Read from the file at the decisions' key (a path relative to the working folder);
/// when the file cannot be read, the kind is unknown and nothing is listed as compared.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MappingInfo {
    pub kind: Option<Kind>,
    /// `(source column, Affinity attribute)` of each `[[match.compare]]` entry, the search term
    /// first (as `search term`).
    pub compares: Vec<(String, String)>,
}

impl MappingInfo {
    pub fn load(key: &str) -> MappingInfo {
        let Ok(m) = crate::io::load_mapping(Path::new(key)) else {
            return MappingInfo::default();
        };
        let kind = m.kind();
        let mut compares = Vec::new();
        if let Some(cfg) = m.match_config() {
            if let Some(t) = &cfg.search_term {
                let attr = match kind {
                    Kind::Organization => "domain",
                    Kind::Person => "email",
                    Kind::Opportunity => "name",
                };
                compares.push((t.clone(), attr.to_string()));
            }
            for c in &cfg.compare {
                compares.push((c.source.clone(), c.affinity.clone()));
            }
        }
        MappingInfo {
            kind: Some(kind),
            compares,
        }
    }

    /// The field keys (names or ids) the mapping compares.
    pub fn field_keys(&self) -> Vec<String> {
        let mut keys: Vec<String> = self
            .compares
            .iter()
            .filter_map(|(_, a)| match Attr::parse(a) {
                Attr::Field(f) => Some(f),
                _ => None,
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

/// A candidate of a record: its id and score (from the matcher), and its mirror record.
#[derive(Debug, Clone, PartialEq)]
pub struct CandidateView {
    pub affinity_id: String,
    pub score: Option<f64>,
    /// `None` when the mirror no longer holds it.
    pub card: Option<EntityCard>,
}

/// One record of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub item: QueueItem,
    pub candidates: Vec<CandidateView>,
    /// The record the reviewer accepted, when it is not among the candidates.
    pub accepted: Option<CandidateView>,
    pub info: MappingInfo,
}

/// A page of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePage {
    pub filter: QueueFilter,
    /// From 1.
    pub page: i64,
    pub per_page: i64,
    /// Records the filter selects.
    pub total: i64,
    pub items: Vec<ItemView>,
    pub progress: Progress,
    /// Mapping files with decisions, for the filter.
    pub mappings: Vec<String>,
}

impl QueuePage {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// The candidates a decision lists, best first.
pub fn candidate_ids(item: &QueueItem) -> Vec<(String, Option<f64>)> {
    item.decision
        .candidates
        .as_ref()
        .and_then(|c| c.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|c| {
                    let id = match &c["affinity_id"] {
                        serde_json::Value::String(s) => s.clone(),
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => return None,
                    };
                    Some((id, c["score"].as_f64()))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Reads page `page` (from 1) of the queue under `filter`, with the mirror's records of every
/// candidate on it.
pub async fn load_page(
    store: &Store,
    filter: &QueueFilter,
    page: i64,
    per_page: i64,
) -> Result<QueuePage, StoreError> {
    let page = page.max(1);
    let per_page = per_page.clamp(1, 500);
    let (items, total) = store
        .review_queue(filter, (page - 1) * per_page, per_page)
        .await?;
    let progress = store.review_progress(filter.mapping.as_deref()).await?;
    let mappings = store.decision_mappings().await?;

    // Mapping files and the ids to read from the mirror for each.
    let mut infos: BTreeMap<String, MappingInfo> = BTreeMap::new();
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for it in &items {
        let m = &it.decision.mapping;
        if !infos.contains_key(m) {
            infos.insert(m.clone(), MappingInfo::load(m));
        }
        let ids = wanted.entry(m.clone()).or_default();
        ids.extend(candidate_ids(it).into_iter().map(|(id, _)| id));
        if let Some(id) = it.review.as_ref().and_then(|r| r.affinity_id.clone()) {
            ids.push(id);
        }
    }
    let mut cards: BTreeMap<String, BTreeMap<String, EntityCard>> = BTreeMap::new();
    for (m, ids) in &wanted {
        let info = &infos[m];
        cards.insert(
            m.clone(),
            store
                .entity_cards(info.kind, ids, &info.field_keys())
                .await?,
        );
    }
    let views = items
        .into_iter()
        .map(|it| {
            let m = it.decision.mapping.clone();
            let by_id = cards.get(&m);
            let card = |id: &str| by_id.and_then(|c| c.get(id)).cloned();
            let candidates: Vec<CandidateView> = candidate_ids(&it)
                .into_iter()
                .map(|(id, score)| CandidateView {
                    card: card(&id),
                    affinity_id: id,
                    score,
                })
                .collect();
            let accepted = it
                .review
                .as_ref()
                .and_then(|r| r.affinity_id.clone())
                .filter(|id| !candidates.iter().any(|c| c.affinity_id == *id))
                .map(|id| CandidateView {
                    card: card(&id),
                    affinity_id: id,
                    score: None,
                });
            ItemView {
                item: it,
                candidates,
                accepted,
                info: infos.get(&m).cloned().unwrap_or_default(),
            }
        })
        .collect();
    Ok(QueuePage {
        filter: filter.clone(),
        page,
        per_page,
        total,
        items: views,
        progress,
        mappings,
    })
}
