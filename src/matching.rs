//! The match stage: a mapping file's source records against the mirror, with reviewers'
//! decisions winning over computed ones. Decisions are stored (one per source record, the
//! latest) and journaled (one event per record); push reads them back.

use crate::export::csv_cell as cell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::Utc;
use serde_json::json;

use crate::mapping::Mapping;
use crate::source::{read_records, SourceError};
use crate::store::decisions::{DecisionRow, ReviewVerdict};
use crate::store::{Event, RunId, RunStatus, Store, StoreError};
use affsync_core::matcher::config::Attr;
use affsync_core::matcher::{
    waterfall, Contribution, Decision, Matcher, Reviewed, ReviewerDecision, SourceRecord, Status,
};

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("`{0}` has no `[match]` section\nhint: add `[match]` with a `search_term` or a `[[match.compare]]` entry")]
    NoMatchSection(String),
    #[error("the mirror is empty: nothing to match against\nhint: run `affsync pull` first")]
    EmptyMirror,
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl MatchError {
    /// Whether the error is the user's input (exit code 2) rather than a failure.
    pub fn is_bad_input(&self) -> bool {
        matches!(
            self,
            MatchError::NoMatchSection(_) | MatchError::EmptyMirror | MatchError::Source(_)
        )
    }
}

/// The stable key a mapping file's decisions are stored under: its path relative to the
/// working folder when it is inside it, else its absolute path.
pub fn mapping_key(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let rel = std::env::current_dir()
        .ok()
        .and_then(|cwd| std::fs::canonicalize(cwd).ok())
        .and_then(|cwd| abs.strip_prefix(&cwd).ok().map(Path::to_path_buf));
    rel.unwrap_or(abs).to_string_lossy().replace('\\', "/")
}

/// How the journal names a source record: `src:ID`, or `row:N` for a row without an id.
pub fn record_key(source_id: Option<&str>, row: usize) -> String {
    match source_id {
        Some(s) if !s.trim().is_empty() => format!("src:{s}"),
        _ => format!("row:{row}"),
    }
}

/// Counts of one match.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct MatchCounts {
    pub records: usize,
    pub matched: usize,
    pub matched_by_key: usize,
    pub matched_by_fuzzy: usize,
    pub matched_by_reviewer: usize,
    pub review: usize,
    pub unmatched: usize,
    pub error: usize,
    pub candidates: usize,
}

/// What one match did.
#[derive(Debug, Clone)]
pub struct MatchOutcome {
    pub run: RunId,
    pub mapping: String,
    pub records: Vec<SourceRecord>,
    pub decisions: Vec<Decision>,
    /// Reviewers' verdicts by source id (`create` and `reject` both read as "no match" to the
    /// matcher; push tells them apart).
    pub verdicts: BTreeMap<String, ReviewVerdict>,
    pub counts: MatchCounts,
}

/// Reads the mapping's source, matches it against the mirror, stores and journals the
/// decisions. `job` names the job the run belongs to, if any.
pub async fn run_match(
    store: &Store,
    mapping: &Mapping,
    job: Option<&str>,
) -> Result<MatchOutcome, MatchError> {
    run_match_in(store, mapping, job, None).await
}

/// As [`run_match`], journaling into `run` (a push's) when given, else into a run of its own.
pub async fn run_match_in(
    store: &Store,
    mapping: &Mapping,
    job: Option<&str>,
    into: Option<RunId>,
) -> Result<MatchOutcome, MatchError> {
    let cfg = mapping
        .match_config()
        .ok_or_else(|| MatchError::NoMatchSection(mapping.file()))?;
    if store.lists().await?.is_empty() {
        return Err(MatchError::EmptyMirror);
    }
    let records = read_records(&mapping.source_path(), &mapping.read_options())?;
    let kind = mapping.kind();
    let field_keys: Vec<String> = cfg
        .compare
        .iter()
        .filter_map(|c| match Attr::parse(&c.affinity) {
            Attr::Field(f) => Some(f),
            _ => None,
        })
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let cands = store.candidates(kind, &field_keys).await?;
    let key = mapping_key(&mapping.path);
    let mut reviewed = Reviewed::new();
    let mut verdicts = BTreeMap::new();
    for r in store.reviews(Some(&key)).await? {
        let d = match (r.verdict, &r.affinity_id) {
            (ReviewVerdict::Accept, Some(id)) => ReviewerDecision::Match(id.clone()),
            _ => ReviewerDecision::NoMatch,
        };
        reviewed.insert(r.source_id.clone(), d);
        verdicts.insert(r.source_id, r.verdict);
    }

    let run = match into {
        Some(r) => r,
        None => store.start_run("match", job, Utc::now()).await?,
    };
    let decisions = Matcher::new(cfg, kind, &cands).run(&records, &reviewed);

    let mut counts = MatchCounts {
        records: records.len(),
        candidates: cands.iter().filter(|c| c.kind == kind).count(),
        ..MatchCounts::default()
    };
    let now = Utc::now();
    let stamp = crate::store::time_text(now);
    let mut events = Vec::with_capacity(decisions.len());
    let mut rows = Vec::with_capacity(decisions.len());
    let compared: Vec<String> = mapping.source_columns();
    for (d, s) in decisions.iter().zip(&records) {
        match d.status {
            Status::Matched => {
                counts.matched += 1;
                match d.method {
                    Some(affsync_core::matcher::Method::Key) => counts.matched_by_key += 1,
                    Some(affsync_core::matcher::Method::Fuzzy) => counts.matched_by_fuzzy += 1,
                    Some(affsync_core::matcher::Method::Reviewer) => {
                        counts.matched_by_reviewer += 1
                    }
                    None => {}
                }
            }
            Status::Review => counts.review += 1,
            Status::Unmatched => counts.unmatched += 1,
            Status::Error => counts.error += 1,
        }
        let candidates = json!(d
            .top
            .iter()
            .map(|c| json!({"affinity_id": c.affinity_id, "score": round(c.score)}))
            .collect::<Vec<_>>());
        events.push(Event::new(
            record_key(d.source_id.as_deref(), d.row),
            d.status.as_str(),
            Some(json!({
                "mapping": key,
                "method": d.method.map(|m| m.as_str()),
                "score": d.score.map(round),
                "affinity_id": d.affinity_id,
                "reason": d.reason,
                "candidates": candidates,
                "contributions": contributions_json(&d.contributions),
            })),
        ));
        if let Some(sid) = d.source_id.as_ref().filter(|s| !s.trim().is_empty()) {
            let record: serde_json::Map<String, serde_json::Value> = compared
                .iter()
                .filter_map(|c| s.values.get(c).map(|v| (c.clone(), json!(v))))
                .collect();
            rows.push(DecisionRow {
                mapping: key.clone(),
                source_id: sid.clone(),
                status: d.status.as_str().to_string(),
                affinity_id: d.affinity_id.clone(),
                score: d.score,
                method: d.method.map(|m| m.as_str().to_string()),
                reason: d.reason.clone(),
                candidates: Some(candidates),
                record: Some(serde_json::Value::Object(record)),
                run_id: Some(run),
                decided_at: stamp.clone(),
            });
        }
    }
    store.save_decisions(&rows).await?;
    store.add_events(run, &events, now).await?;
    if into.is_none() {
        let status = if counts.error > 0 {
            RunStatus::Partial
        } else {
            RunStatus::Ok
        };
        store
            .finish_run(run, status, &json!(counts), 0, None, Utc::now())
            .await?;
    }
    Ok(MatchOutcome {
        run,
        mapping: key,
        records,
        decisions,
        verdicts,
        counts,
    })
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A decision's waterfall for the journal: `[{"source", "affinity", "level", "weight"}]`, the
/// prior first (without source and affinity); weights in bits.
pub fn contributions_json(cs: &[Contribution]) -> serde_json::Value {
    json!(cs
        .iter()
        .map(|c| json!({
            "source": c.source,
            "affinity": c.affinity,
            "level": c.level,
            "weight": (c.weight * 100.0).round() / 100.0,
        }))
        .collect::<Vec<_>>())
}

/// Writes `source_id,status,affinity_id,score,method,reason,contributions`, one line per
/// decision; a record without an id is named by its row (`row:7`). `contributions` is the
/// waterfall of the match weight in bits (`prior −12.3, `name` ~ name exact +9.8`), empty when
/// nothing was compared.
pub fn write_decisions(path: &Path, decisions: &[Decision]) -> std::io::Result<()> {
    use std::io::Write;
    let tmp = path.with_extension("partial");
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        writeln!(
            w,
            "source_id,status,affinity_id,score,method,reason,contributions"
        )?;
        for d in decisions {
            let id = d
                .source_id
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| format!("row:{}", d.row));
            writeln!(
                w,
                "{},{},{},{},{},{},{}",
                cell(&id),
                d.status.as_str(),
                cell(d.affinity_id.as_deref().unwrap_or_default()),
                d.score.map(|s| format!("{s:.4}")).unwrap_or_default(),
                d.method.map(|m| m.as_str()).unwrap_or_default(),
                cell(&d.reason),
                cell(&waterfall(&d.contributions))
            )?;
        }
        w.flush()?;
    }
    std::fs::rename(&tmp, path)
}
