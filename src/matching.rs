//! The match stage: a mapping file's source records against the mirror, with reviewers'
//! decisions winning over computed ones. Decisions are stored (one per source record, the
//! latest) and journaled (one event per record); push reads them back.

use affsync_core::model::RunId;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::Utc;
use serde_json::json;

use crate::io::source::{read_records, SourceError};
use crate::store::decisions::{DecisionRow, Fate, ReviewRow, ReviewVerdict};
use crate::store::journal::RunEnd;
use crate::store::{Store, StoreError};
use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::journal::{
    CandidateScore, JournalEvent, MatchDetail, RunKind, RunStatus, Step, WeightStep,
};
use affsync_core::mapping::Mapping;
use affsync_core::matcher::config::Attr;
use affsync_core::matcher::{
    normalize, waterfall, Candidate, Contribution, Decision, Kind, Matcher, Method, Reviewed,
    ReviewerDecision, SourceRecord, Status,
};

#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    #[error("`{0}` has no `[match]` section")]
    NoMatchSection(String),
    #[error("the mirror is empty: nothing to match against")]
    EmptyMirror,
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Diagnose for MatchError {
    fn class(&self) -> ErrorClass {
        match self {
            MatchError::NoMatchSection(_) | MatchError::EmptyMirror | MatchError::Source(_) => {
                ErrorClass::BadInput
            }
            MatchError::Store(s) => s.class(),
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            MatchError::NoMatchSection(_) => {
                Some("add `[match]` with a `search_term` or a `[[match.compare]]` entry".into())
            }
            MatchError::EmptyMirror => Some("run `affsync pull` first".into()),
            MatchError::Source(s) => s.hint(),
            MatchError::Store(s) => s.hint(),
        }
    }
}

impl MatchError {
    /// Whether the error is the user's input (exit code 2) rather than a failure.
    pub fn is_bad_input(&self) -> bool {
        self.class() == ErrorClass::BadInput
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

pub use affsync_core::journal::record_key;

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

/// What a match is made from: the mapping's records, the mirror's candidates and the
/// reviewers' verdicts. [`prepare`] reads them; push adds the candidates it finds in Affinity.
#[derive(Debug, Clone)]
pub struct MatchInputs {
    /// The mapping's stable key (its identity in the store).
    pub mapping: String,
    pub records: Vec<SourceRecord>,
    pub candidates: Vec<Candidate>,
    pub reviewed: Reviewed,
    pub verdicts: BTreeMap<String, ReviewVerdict>,
    /// Verdicts changed because Affinity merged or deleted the accepted record (journaled by
    /// [`record`]).
    pub verdict_changes: Vec<(String, Step)>,
}

impl MatchInputs {
    /// The search-term keys the candidates hold (domains, emails or names, normalized).
    pub fn candidate_keys(&self, kind: Kind) -> BTreeSet<String> {
        self.candidates
            .iter()
            .filter(|c| c.kind == kind)
            .flat_map(|c| match kind {
                Kind::Organization => c
                    .domains
                    .iter()
                    .filter_map(|d| normalize::domain_key(d))
                    .collect::<Vec<_>>(),
                Kind::Person => c
                    .emails
                    .iter()
                    .filter_map(|e| normalize::email_key(e))
                    .collect(),
                Kind::Opportunity => vec![normalize::fold(&c.name)],
            })
            .collect()
    }

    /// Source ids a reviewer rejected.
    pub fn rejected(&self) -> BTreeSet<String> {
        self.verdicts
            .iter()
            .filter(|(_, v)| **v == ReviewVerdict::Reject)
            .map(|(s, _)| s.clone())
            .collect()
    }
}

/// The search-term keys of one record: its domains (organizations), emails (persons) or name
/// (opportunities), normalized.
pub fn record_keys(mapping: &Mapping, rec: &SourceRecord) -> Vec<String> {
    let Some(term) = mapping
        .match_config()
        .and_then(|c| c.search_term.as_ref())
        .and_then(|t| rec.values.get(t))
    else {
        return Vec::new();
    };
    match mapping.kind() {
        Kind::Organization => normalize::split_multi(term)
            .filter_map(normalize::domain_key)
            .collect(),
        Kind::Person => normalize::split_multi(term)
            .filter_map(normalize::email_key)
            .collect(),
        Kind::Opportunity => Some(normalize::fold(term))
            .filter(|k| !k.is_empty())
            .into_iter()
            .collect(),
    }
}

/// Reads the mapping's source, the mirror's candidates and the reviewers' verdicts.
pub async fn prepare(store: &Store, mapping: &Mapping) -> Result<MatchInputs, MatchError> {
    let cfg = mapping
        .match_config()
        .ok_or_else(|| MatchError::NoMatchSection(mapping.file()))?;
    if store.lists().await?.is_empty() {
        return Err(MatchError::EmptyMirror);
    }
    let records = read_records(&mapping.source_path(), &mapping.read_options())?;
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
    let candidates = store.candidates(mapping.kind(), &field_keys).await?;
    let key = mapping
        .identity
        .clone()
        .unwrap_or_else(|| mapping_key(&mapping.path));
    let mut reviewed = Reviewed::new();
    let mut verdicts = BTreeMap::new();
    let (reviews, verdict_changes) = follow_fates(store, mapping.kind(), &key).await?;
    for r in reviews {
        let d = match (r.verdict, &r.affinity_id) {
            (ReviewVerdict::Accept, Some(id)) => ReviewerDecision::Match(id.clone()),
            _ => ReviewerDecision::NoMatch,
        };
        reviewed.insert(r.source_id.clone(), d);
        verdicts.insert(r.source_id, r.verdict);
    }
    Ok(MatchInputs {
        mapping: key,
        records,
        candidates,
        reviewed,
        verdicts,
        verdict_changes,
    })
}

/// The reviewers' verdicts of a mapping, after what Affinity did to the records they accepted:
/// a verdict on a record merged since follows the survivor; one on a record deleted since is
/// dropped and its record is open again. Gives the verdicts and what changed.
async fn follow_fates(
    store: &Store,
    kind: Kind,
    mapping: &str,
) -> Result<(Vec<ReviewRow>, Vec<(String, Step)>), StoreError> {
    let mut reviews = store.reviews(Some(mapping)).await?;
    let accepted: Vec<i64> = reviews
        .iter()
        .filter(|r| r.verdict == ReviewVerdict::Accept)
        .filter_map(|r| r.affinity_id.as_deref()?.parse().ok())
        .collect();
    let fates = store.record_fates(kind, &accepted).await?;
    let mut changes = Vec::new();
    let mut kept = Vec::with_capacity(reviews.len());
    for mut r in reviews.drain(..) {
        let id = r.affinity_id.as_deref().and_then(|a| a.parse::<i64>().ok());
        match id.and_then(|i| fates.get(&i).map(|f| (i, *f))) {
            Some((from, Fate::MergedInto(to))) if r.verdict == ReviewVerdict::Accept => {
                r.affinity_id = Some(to.to_string());
                store.save_review(&r).await?;
                changes.push((
                    r.source_id.clone(),
                    Step::VerdictFollowedMerge {
                        from: from.to_string(),
                        to: to.to_string(),
                    },
                ));
                kept.push(r);
            }
            Some((gone, Fate::Gone)) if r.verdict == ReviewVerdict::Accept => {
                store.undo_review(mapping, &r.source_id).await?;
                changes.push((
                    r.source_id.clone(),
                    Step::VerdictReopened {
                        affinity_id: gone.to_string(),
                        reason: "is gone from Affinity".into(),
                    },
                ));
            }
            _ => kept.push(r),
        }
    }
    Ok((kept, changes))
}

/// The decisions of a mapping's records (pure: the core's matcher).
pub fn decide(mapping: &Mapping, inputs: &MatchInputs) -> Vec<Decision> {
    let cfg = mapping
        .match_config()
        .expect("prepare checked the `[match]` section");
    Matcher::new(cfg, mapping.kind(), &inputs.candidates).run(&inputs.records, &inputs.reviewed)
}

/// Stores the decisions (the latest per record) and journals one event per record in `run`.
pub async fn record(
    store: &Store,
    run: RunId,
    mapping: &Mapping,
    inputs: &MatchInputs,
    decisions: &[Decision],
) -> Result<MatchCounts, MatchError> {
    let kind = mapping.kind();
    let key = &inputs.mapping;
    let mut counts = MatchCounts {
        records: inputs.records.len(),
        candidates: inputs.candidates.iter().filter(|c| c.kind == kind).count(),
        ..MatchCounts::default()
    };
    let now = Utc::now();
    let stamp = crate::store::time_text(now);
    let mut events = Vec::with_capacity(decisions.len());
    let mut rows = Vec::with_capacity(decisions.len());
    let compared: Vec<String> = mapping.source_columns();
    for (d, s) in decisions.iter().zip(&inputs.records) {
        match d.status {
            Status::Matched => {
                counts.matched += 1;
                match d.method {
                    Some(Method::Key) => counts.matched_by_key += 1,
                    Some(Method::Fuzzy) => counts.matched_by_fuzzy += 1,
                    Some(Method::Reviewer) => counts.matched_by_reviewer += 1,
                    None => {}
                }
            }
            Status::Review => counts.review += 1,
            Status::Unmatched => counts.unmatched += 1,
            Status::Error => counts.error += 1,
        }
        let detail = MatchDetail {
            method: d.method.map(|m| m.as_str().to_string()),
            score: d.score.map(round),
            affinity_id: d.affinity_id.clone(),
            reason: Some(d.reason.clone()),
            candidates: d
                .top
                .iter()
                .map(|c| CandidateScore {
                    affinity_id: c.affinity_id.clone(),
                    score: Some(round(c.score)),
                })
                .collect(),
            contributions: weight_steps(&d.contributions),
        };
        let candidates = json!(detail.candidates);
        let step = match d.status {
            Status::Matched => Step::Matched(detail),
            Status::Review => Step::Review(detail),
            Status::Unmatched => Step::Unmatched(detail),
            Status::Error => Step::Error {
                reason: Some(d.reason.clone()),
                message: None,
                step: None,
            },
        };
        events.push(
            JournalEvent::new(record_key(d.source_id.as_deref(), d.row), step).for_mapping(key),
        );
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
    events.extend(inputs.verdict_changes.iter().map(|(sid, step)| {
        JournalEvent::new(record_key(Some(sid), 0), step.clone()).for_mapping(key)
    }));
    store.save_decisions(&rows).await?;
    store.add_events(run, &events, now).await?;
    Ok(counts)
}

/// Reads the mapping's source, matches it against the mirror, stores and journals the
/// decisions, in a `match` run of its own. `job` names the job the run belongs to, if any.
pub async fn run_match(
    store: &Store,
    mapping: &Mapping,
    job: Option<&str>,
) -> Result<MatchOutcome, MatchError> {
    let inputs = prepare(store, mapping).await?;
    let run = store.begin_run(RunKind::Match, job).await?;
    let decisions = decide(mapping, &inputs);
    let counts = record(store, run.id(), mapping, &inputs, &decisions).await;
    let id = run.id();
    let counts = run
        .close(
            counts,
            |c| RunEnd {
                status: if c.error > 0 {
                    RunStatus::Partial
                } else {
                    RunStatus::Ok
                },
                counts: json!(c),
                api_calls: 0,
                note: None,
            },
            0,
        )
        .await?;
    Ok(MatchOutcome {
        run: id,
        mapping: inputs.mapping,
        records: inputs.records,
        decisions,
        verdicts: inputs.verdicts,
        counts,
    })
}

fn round(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// A decision's waterfall for the journal (`[{"source", "affinity", "level", "weight"}]`), the
/// prior first (without source and affinity); weights in bits, to two decimals.
pub fn weight_steps(cs: &[Contribution]) -> Vec<WeightStep> {
    cs.iter()
        .map(|c| WeightStep {
            source: c.source.clone(),
            affinity: c.affinity.clone(),
            level: c.level.clone(),
            weight: (c.weight * 100.0).round() / 100.0,
        })
        .collect()
}

/// The cells a decision file ends with: score (four decimals), method, reason and the
/// contributions' waterfall (`decisions.csv` of `match --out`, `pairs.csv` of `link`).
pub fn decision_cells(d: &Decision) -> [String; 4] {
    [
        d.score.map(|s| format!("{s:.4}")).unwrap_or_default(),
        d.method.map(|m| m.as_str()).unwrap_or_default().to_string(),
        d.reason.clone(),
        waterfall(&d.contributions),
    ]
}

/// Writes `source_id,status,affinity_id,affinity_name,score,method,reason,contributions`, one
/// line per decision; `names[i]` is decision `i`'s Affinity record's name (empty when not
/// known). A record without an id is named by its row (`row:7`). `contributions` is the
/// waterfall of the match weight in bits (`prior −12.3, `name` ~ name exact +9.8`), empty when
/// nothing was compared. Cells a spreadsheet would run are neutralized (a leading `'`) unless
/// `raw`.
pub fn write_decisions(
    path: &Path,
    decisions: &[Decision],
    names: &[Option<String>],
    raw: bool,
) -> std::io::Result<()> {
    crate::io::export::write_csv_file(path, raw, |w| {
        w.row([
            "source_id",
            "status",
            "affinity_id",
            "affinity_name",
            "score",
            "method",
            "reason",
            "contributions",
        ])?;
        for (i, d) in decisions.iter().enumerate() {
            let id = d
                .source_id
                .clone()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| format!("row:{}", d.row));
            let head = [
                id.as_str(),
                d.status.as_str(),
                d.affinity_id.as_deref().unwrap_or_default(),
                names.get(i).and_then(Option::as_deref).unwrap_or_default(),
            ];
            w.row(
                head.map(str::to_string)
                    .into_iter()
                    .chain(decision_cells(d)),
            )?;
        }
        Ok(())
    })
}
