//! A page of the review queue, ready to show: each record with its candidates as the mirror
//! holds them (name, domains or emails, lists, the compared fields), field by field, the
//! facets of the whole queue with their counts, and the focused record's history.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Mutex;

use super::compare::{self, Agreement, Contribution};
use crate::store::review::{EntityCard, Progress, QueueFilter, QueueItem, QueueStatus};
use crate::store::{Store, StoreError};
use affsync_core::journal::StoredEvent;
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

/// One candidate's side of a compared field.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub value: String,
    pub agreement: Agreement,
    /// What the matcher said this field contributed to the candidate's weight, when the
    /// decision's reason says it.
    pub contribution: Option<Contribution>,
}

/// A compared field: the source's value, and each candidate's beside it (in the order of
/// [`ItemView::candidates`]).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldRow {
    pub column: String,
    pub attr: String,
    pub source: String,
    pub cells: Vec<Cell>,
}

/// One record of the page.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemView {
    pub item: QueueItem,
    pub candidates: Vec<CandidateView>,
    /// The record the reviewer accepted, when it is not among the candidates.
    pub accepted: Option<CandidateView>,
    pub info: MappingInfo,
    /// The compared fields, field by field.
    pub fields: Vec<FieldRow>,
    /// Open records of the same mapping file whose key column holds the same value as this
    /// one's (this one included), when it is open: what "the same for identical" decides.
    pub identical: usize,
}

impl ItemView {
    /// The column "identical" records agree on, and this record's value of it.
    pub fn key_value(&self) -> Option<(String, String)> {
        key_value(&self.item, &self.info)
    }
}

/// The column that identifies a record to a person (the first compared column, else the
/// search term) and a record's value of it; `None` when it has none.
pub fn key_value(item: &QueueItem, info: &MappingInfo) -> Option<(String, String)> {
    let column = info
        .compares
        .iter()
        .find(|(_, a)| a != "domain" && a != "email")
        .or_else(|| info.compares.first())
        .map(|(c, _)| c.clone())?;
    let v = source_text(item, &column);
    let v = v.trim();
    (!v.is_empty()).then(|| (column, v.to_string()))
}

/// A source record's value of a column, as text.
pub fn source_text(item: &QueueItem, column: &str) -> String {
    match item.decision.record.as_ref().and_then(|r| r.get(column)) {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(serde_json::Value::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

/// Whether the record is decided, or open in review, or open and unmatched.
pub fn bucket(item: &QueueItem) -> QueueStatus {
    if item.review.is_some() {
        QueueStatus::Decided
    } else if item.decision.status == "review" {
        QueueStatus::Review
    } else {
        QueueStatus::Unmatched
    }
}

/// Score bands of the facet, highest first: `(label, from, below)`.
pub const BANDS: [(&str, f64, f64); 5] = [
    ("0.9–1", 0.9, f64::INFINITY),
    ("0.8–0.9", 0.8, 0.9),
    ("0.7–0.8", 0.7, 0.8),
    ("0.5–0.7", 0.5, 0.7),
    ("below 0.5", f64::NEG_INFINITY, 0.5),
];

/// The band label of a score (`none` without one).
pub fn band_of(score: Option<f64>) -> &'static str {
    match score {
        None => "none",
        Some(s) => BANDS
            .iter()
            .find(|(_, lo, hi)| s >= *lo && s < *hi)
            .map(|(l, _, _)| *l)
            .unwrap_or("none"),
    }
}

/// How the page shows the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum View {
    /// The focused record alone.
    #[default]
    One,
    /// Every record of the page as a line, the focused one opened.
    List,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            View::One => "one",
            View::List => "list",
        }
    }
    pub fn parse(s: &str) -> Option<View> {
        match s {
            "one" => Some(View::One),
            "list" => Some(View::List),
            _ => None,
        }
    }
}

/// What a page of the queue shows: the filter (the store's, and the facets only the page
/// knows), the page, the view and the focused record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PageQuery {
    pub filter: QueueFilter,
    /// `key`, `fuzzy`, `reviewer`, or `none`.
    pub method: Option<String>,
    /// A band label of [`BANDS`] (or `none`).
    pub band: Option<String>,
    /// The compared column that disagrees most (or `none`).
    pub disagrees: Option<String>,
    /// From 1.
    pub page: i64,
    pub view: View,
    /// The focused record by position on the page (from 0).
    pub at: Option<usize>,
    /// The focused record by mapping file and source id (wins over `at` when on the page).
    pub focus: Option<(String, String)>,
    /// A score to preview "accept every suggestion at or above" with.
    pub preview_min: Option<f64>,
}

/// One value of a facet and how many records it would select (the other facets held).
#[derive(Debug, Clone, PartialEq)]
pub struct FacetValue {
    pub value: String,
    pub count: usize,
}

/// The facets of a page: each one's values with counts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Facets {
    pub mapping: Vec<FacetValue>,
    pub status: Vec<FacetValue>,
    pub band: Vec<FacetValue>,
    pub method: Vec<FacetValue>,
    pub disagrees: Vec<FacetValue>,
}

/// What "accept every suggestion at or above a score" would decide.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    pub min_score: f64,
    /// Open records in review of the filtered mapping file(s) with a best candidate scoring
    /// at least `min_score`.
    pub records: usize,
}

/// A page of the queue.
#[derive(Debug, Clone, PartialEq)]
pub struct QueuePage {
    pub query: PageQuery,
    pub filter: QueueFilter,
    /// From 1.
    pub page: i64,
    pub per_page: i64,
    /// Records the filter selects.
    pub total: i64,
    pub items: Vec<ItemView>,
    /// The focused record's position in `items`.
    pub focus: usize,
    pub progress: Progress,
    /// Mapping files with decisions, for the filter.
    pub mappings: Vec<String>,
    pub facets: Facets,
    pub preview: Option<Preview>,
    /// The focused record's verdicts given and undone, newest first.
    pub history: Vec<StoredEvent>,
}

impl QueuePage {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page).max(1)
    }
}

/// Candidates scoring below this (shown as 0.00) are not offered to a reviewer: nothing of
/// the record agrees with them, and an "accept" key beside them invites a wrong match.
pub const OFFER_FLOOR: f64 = 0.005;

/// The candidates a decision offers a reviewer, best first: those scoring at least
/// [`OFFER_FLOOR`], and the matcher's own choice whatever its score.
pub fn candidate_ids(item: &QueueItem) -> Vec<(String, Option<f64>)> {
    let chosen = item.decision.affinity_id.as_deref();
    scored_candidates(item)
        .into_iter()
        .filter(|(id, score)| Some(id.as_str()) == chosen || score.is_none_or(|s| s >= OFFER_FLOOR))
        .collect()
}

/// How many of a decision's candidates are not offered (they score below [`OFFER_FLOOR`]).
pub fn unoffered(item: &QueueItem) -> usize {
    scored_candidates(item).len() - candidate_ids(item).len()
}

/// Every candidate a decision lists, best first, with its score.
fn scored_candidates(item: &QueueItem) -> Vec<(String, Option<f64>)> {
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

/// The candidate a decision would accept: the matcher's choice, else its best candidate.
pub fn best_candidate(item: &QueueItem) -> Option<String> {
    item.decision
        .affinity_id
        .clone()
        .or_else(|| candidate_ids(item).into_iter().next().map(|(id, _)| id))
}

/// The compared fields of a record against its candidates.
pub fn field_rows(item: &QueueItem, info: &MappingInfo, cands: &[CandidateView]) -> Vec<FieldRow> {
    info.compares
        .iter()
        .map(|(column, attr)| {
            let source = source_text(item, column);
            let cells = cands
                .iter()
                .map(|c| {
                    let contribution =
                        compare::contribution(&item.decision.reason, &c.affinity_id, column, attr);
                    let (value, local) = match &c.card {
                        Some(card) => (
                            compare::card_value(card, attr),
                            compare::agreement(info.kind, attr, &source, card),
                        ),
                        None => (String::new(), Agreement::Missing),
                    };
                    Cell {
                        value,
                        agreement: contribution
                            .as_ref()
                            .map(|k| Agreement::of_level(&k.level))
                            .unwrap_or(local),
                        contribution,
                    }
                })
                .collect();
            FieldRow {
                column: column.clone(),
                attr: attr.clone(),
                source,
                cells,
            }
        })
        .collect()
}

/// The compared column that disagrees most with the best candidate: the worst agreement,
/// then the lowest contribution; `None` when none is close or different.
pub fn worst_field(fields: &[FieldRow]) -> Option<String> {
    fields
        .iter()
        .filter_map(|f| f.cells.first().map(|c| (f, c)))
        // A value missing on either side is neutral, as in the matcher.
        .filter(|(_, c)| matches!(c.agreement, Agreement::Different | Agreement::Close))
        .min_by(|(_, a), (_, b)| {
            let w = |c: &Cell| c.contribution.as_ref().map(|k| k.weight).unwrap_or(0.0);
            a.agreement.cmp(&b.agreement).then(w(a).total_cmp(&w(b)))
        })
        .map(|(f, _)| f.column.clone())
}

/// What the page remembers between requests: each record's most disagreeing field, by the
/// decision it was computed from (so that the mirror is read once per decision, not per page).
#[derive(Debug, Default)]
pub struct Cache {
    worst: Mutex<HashMap<RecordKey, (Stamp, Option<String>)>>,
}

/// A queued record: its mapping file and source id.
type RecordKey = (String, String);
/// The decision a cached value was computed from (its time and best candidate).
type Stamp = String;

/// Reads every record of the queue (the facets count them all), selects the query's, and
/// gives the page `query.page` with the mirror's records of every candidate on it.
pub async fn load_page(
    store: &Store,
    query: &PageQuery,
    per_page: i64,
    cache: &Cache,
) -> Result<QueuePage, StoreError> {
    let per_page = per_page.clamp(1, 500);
    let every = QueueFilter {
        status: QueueStatus::All,
        ..QueueFilter::default()
    };
    let (all, _) = store.review_queue(&every, 0, i64::MAX / 2).await?;
    let mappings = store.decision_mappings().await?;
    let mut infos: BTreeMap<String, MappingInfo> = BTreeMap::new();
    for it in &all {
        let m = &it.decision.mapping;
        if !infos.contains_key(m) {
            infos.insert(m.clone(), MappingInfo::load(m));
        }
    }
    let worst = worst_fields(store, &all, &infos, cache).await?;

    // Each facet counts the records the other facets select.
    let f = &query.filter;
    let status_ok = |it: &QueueItem, st: QueueStatus| -> bool {
        let b = bucket(it);
        match st {
            QueueStatus::All => true,
            QueueStatus::Open => b != QueueStatus::Decided,
            s => b == s,
        }
    };
    let method_of = |it: &QueueItem| it.decision.method.clone().unwrap_or_else(|| "none".into());
    let keep = |i: usize, skip: &str| -> bool {
        let it = &all[i];
        let d = &it.decision;
        (skip == "mapping" || f.mapping.as_ref().is_none_or(|m| *m == d.mapping))
            && (skip == "status" || status_ok(it, f.status))
            && f.min_score.is_none_or(|m| d.score.is_some_and(|s| s >= m))
            && f.max_score.is_none_or(|m| d.score.is_some_and(|s| s <= m))
            && (skip == "band" || query.band.as_ref().is_none_or(|b| b == band_of(d.score)))
            && (skip == "method" || query.method.as_ref().is_none_or(|m| *m == method_of(it)))
            && (skip == "disagrees"
                || query
                    .disagrees
                    .as_ref()
                    .is_none_or(|w| worst[i].as_deref().unwrap_or("none") == w.as_str()))
    };
    let count = |facet: &str,
                 value_of: &dyn Fn(usize) -> Vec<String>,
                 order: &[String]|
     -> Vec<FacetValue> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for i in 0..all.len() {
            if keep(i, facet) {
                for v in value_of(i) {
                    *counts.entry(v).or_default() += 1;
                }
            }
        }
        let mut out: Vec<FacetValue> = order
            .iter()
            .map(|v| FacetValue {
                value: v.clone(),
                count: counts.remove(v).unwrap_or(0),
            })
            .collect();
        out.extend(
            counts
                .into_iter()
                .map(|(value, count)| FacetValue { value, count }),
        );
        out
    };
    let facets = Facets {
        mapping: count(
            "mapping",
            &|i| vec![all[i].decision.mapping.clone()],
            &mappings,
        ),
        status: count(
            "status",
            &|i| {
                let b = bucket(&all[i]);
                let mut v = vec![b.as_str().to_string(), "all".to_string()];
                if b != QueueStatus::Decided {
                    v.push("open".into());
                }
                v
            },
            &QueueStatus::ALL.map(|s| s.as_str().to_string()),
        ),
        band: count(
            "band",
            &|i| vec![band_of(all[i].decision.score).to_string()],
            &BANDS.map(|(l, _, _)| l.to_string()),
        ),
        method: count("method", &|i| vec![method_of(&all[i])], &[]),
        disagrees: count(
            "disagrees",
            &|i| vec![worst[i].clone().unwrap_or_else(|| "none".into())],
            &[],
        ),
    };

    let selected: Vec<usize> = (0..all.len()).filter(|&i| keep(i, "")).collect();
    let total = selected.len() as i64;
    let pages = ((total + per_page - 1) / per_page).max(1);
    let page = query.page.clamp(1, pages);
    let on_page: Vec<usize> = selected
        .iter()
        .copied()
        .skip(((page - 1) * per_page) as usize)
        .take(per_page as usize)
        .collect();

    // The mirror's records of the page's candidates, per mapping file.
    let mut wanted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for &i in &on_page {
        let it = &all[i];
        let ids = wanted.entry(it.decision.mapping.clone()).or_default();
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

    // Open records by mapping file and key value, for "the same for identical".
    let mut identical: HashMap<(String, String), usize> = HashMap::new();
    for it in all.iter().filter(|it| it.review.is_none()) {
        let info = &infos[&it.decision.mapping];
        if let Some((_, v)) = key_value(it, info) {
            *identical
                .entry((it.decision.mapping.clone(), v))
                .or_default() += 1;
        }
    }

    let items: Vec<ItemView> = on_page
        .iter()
        .map(|&i| {
            let it = all[i].clone();
            let m = it.decision.mapping.clone();
            let info = infos.get(&m).cloned().unwrap_or_default();
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
            let mut shown = candidates.clone();
            shown.extend(accepted.clone());
            let fields = field_rows(&it, &info, &shown);
            let identical = if it.review.is_none() {
                key_value(&it, &info)
                    .and_then(|(_, v)| identical.get(&(m.clone(), v)).copied())
                    .unwrap_or(0)
            } else {
                0
            };
            ItemView {
                item: it,
                candidates,
                accepted,
                info,
                fields,
                identical,
            }
        })
        .collect();

    let focus = query
        .focus
        .as_ref()
        .and_then(|(m, s)| {
            items
                .iter()
                .position(|it| it.item.decision.mapping == *m && it.item.decision.source_id == *s)
        })
        .or(query.at)
        .unwrap_or(0)
        .min(items.len().saturating_sub(1));
    let history = match items.get(focus) {
        Some(it) => store
            .review_history(Some(&format!("src:{}", it.item.decision.source_id)), 50)
            .await?
            .into_iter()
            .filter(|e| e.event.mapping.as_deref() == Some(&it.item.decision.mapping))
            .collect(),
        None => Vec::new(),
    };

    // Progress over the mapping filter alone.
    let in_mapping = all
        .iter()
        .filter(|it| f.mapping.as_ref().is_none_or(|m| *m == it.decision.mapping));
    let (mut reviewed, mut remaining) = (0, 0);
    for it in in_mapping {
        if it.review.is_some() {
            reviewed += 1;
        } else {
            remaining += 1;
        }
    }
    let preview = query.preview_min.map(|min| Preview {
        min_score: min,
        records: above(&all, f.mapping.as_deref(), min).len(),
    });

    Ok(QueuePage {
        query: query.clone(),
        filter: f.clone(),
        page,
        per_page,
        total,
        items,
        focus,
        progress: Progress {
            reviewed,
            remaining,
        },
        mappings,
        facets,
        preview,
        history,
    })
}

/// The open records in review (of one mapping file when given) whose best candidate scores
/// at least `min`, best score first, with the candidate each would accept.
pub fn above<'a>(
    all: &'a [QueueItem],
    mapping: Option<&str>,
    min: f64,
) -> Vec<(&'a QueueItem, String)> {
    let mut out: Vec<(&QueueItem, String)> = all
        .iter()
        .filter(|it| it.review.is_none() && it.decision.status == "review")
        .filter(|it| mapping.is_none_or(|m| m == it.decision.mapping))
        .filter(|it| it.decision.score.is_some_and(|s| s >= min))
        .filter_map(|it| best_candidate(it).map(|b| (it, b)))
        .collect();
    out.sort_by(|a, b| {
        b.0.decision
            .score
            .unwrap_or(0.0)
            .total_cmp(&a.0.decision.score.unwrap_or(0.0))
    });
    out
}

/// Each record's most disagreeing field (in the order of `all`), from the cache or computed
/// against the mirror's record of its best candidate.
async fn worst_fields(
    store: &Store,
    all: &[QueueItem],
    infos: &BTreeMap<String, MappingInfo>,
    cache: &Cache,
) -> Result<Vec<Option<String>>, StoreError> {
    let stamp = |it: &QueueItem| {
        format!(
            "{}|{}",
            it.decision.decided_at,
            best_candidate(it).unwrap_or_default()
        )
    };
    let key = |it: &QueueItem| (it.decision.mapping.clone(), it.decision.source_id.clone());
    let mut missing: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    let mut out: Vec<Option<Option<String>>> = {
        let c = cache.worst.lock().unwrap_or_else(|e| e.into_inner());
        all.iter()
            .enumerate()
            .map(|(i, it)| match c.get(&key(it)) {
                Some((s, w)) if *s == stamp(it) => Some(w.clone()),
                _ => {
                    missing
                        .entry(it.decision.mapping.clone())
                        .or_default()
                        .push(i);
                    None
                }
            })
            .collect()
    };
    for (m, idx) in &missing {
        let info = &infos[m];
        let ids: Vec<String> = idx
            .iter()
            .filter_map(|&i| best_candidate(&all[i]))
            .collect();
        let cards = store
            .entity_cards(info.kind, &ids, &info.field_keys())
            .await?;
        let mut c = cache.worst.lock().unwrap_or_else(|e| e.into_inner());
        for &i in idx {
            let it = &all[i];
            let w = best_candidate(it).and_then(|b| {
                let cand = CandidateView {
                    card: cards.get(&b).cloned(),
                    affinity_id: b,
                    score: None,
                };
                worst_field(&field_rows(it, info, std::slice::from_ref(&cand)))
            });
            c.insert(key(it), (stamp(it), w.clone()));
            out[i] = Some(w);
        }
    }
    Ok(out.into_iter().map(Option::flatten).collect())
}
