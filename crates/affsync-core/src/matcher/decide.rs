//! The decision: reviewers first, then exact keys, then the fuzzy scores one to one, each
//! decision with its method, score (the probability of a match), best candidates, the
//! waterfall of its match weight and a reason in words.
//!
//! Fuzzy candidates are assigned greedily, strongest pair first: a source takes its best
//! candidate when nobody with a stronger claim holds it, or else a candidate that the model
//! reads as a duplicate of that best one (Affinity holding one company twice). A runner-up
//! within [`TIE_BITS`], or another source within [`TIE_BITS`] of the same candidate, sends the
//! decision to review.
//!
//! Sequential and in source order, so that the same input gives the same output.

use std::collections::HashMap;

use super::config::TIE_BITS;
use super::model::{self, Model};
use super::{
    waterfall, Contribution, Decision, Found, Hit, Matcher, Method, Reviewed, ReviewerDecision,
    Scored, SourceRecord, Status, TOP,
};

/// Who holds a candidate: a source matched to it, or one whose key names it and that went to
/// review (it may yet be matched to it).
#[derive(Debug, Clone, Copy)]
struct Claim {
    source: usize,
    method: Method,
    matched: bool,
}

impl Claim {
    /// `it is matched to row 3 by key`, `row 3 has its key and is in review`.
    fn words(&self, sources: &[SourceRecord]) -> String {
        let row = sources[self.source].row;
        match (self.matched, self.method) {
            (true, Method::Reviewer) => format!("a reviewer matched it to row {row}"),
            (true, m) => format!("it is matched to row {row} by {}", m.as_str()),
            (false, _) => format!("row {row} has its key and is in review"),
        }
    }
}

/// A score beside a threshold (or another score), each with as many decimals as it takes to
/// tell them apart: never "0.92, below accept 0.92".
pub(crate) fn fmt_vs(s: f64, t: f64) -> (String, String) {
    let (a, b) = fmt_among(s, &[t]);
    (a, b.into_iter().next().unwrap_or_default())
}

/// As [`fmt_vs`], beside several figures at once.
fn fmt_among(s: f64, ts: &[f64]) -> (String, Vec<String>) {
    let p = (2..=6)
        .find(|&p| {
            ts.iter()
                .all(|&t| s == t || format!("{s:.p$}") != format!("{t:.p$}"))
        })
        .unwrap_or(9);
    (
        format!("{s:.p$}"),
        ts.iter().map(|t| format!("{t:.p$}")).collect(),
    )
}

pub(crate) fn decide(
    m: &Matcher<'_>,
    model: &Model,
    sources: &[SourceRecord],
    found: Vec<Found>,
    reviewed: &Reviewed,
) -> Vec<Decision> {
    let accept = m.cfg.accept();
    let review = m.cfg.review();
    let (accept_w, review_w) = (model::weight_of(accept), model::weight_of(review));
    let cid = |c: u32| m.cands[c as usize].id.as_str();
    let top = |scored: &[Hit]| -> Vec<Scored> {
        scored
            .iter()
            .take(TOP)
            .map(|h| Scored {
                affinity_id: cid(h.c).to_string(),
                score: h.probability(),
            })
            .collect()
    };
    let contributions = |h: &Hit| -> Vec<Contribution> { m.contributions(model, h) };
    let describe = |c: u32| -> String { m.cands[c as usize].label() };
    // `Acme Inc (organization 7) scored 0.97 (prior −3.1, `name` ~ name exact +9.0)`, the probability
    // shown beside another figure.
    let scored_words = |h: &Hit, other: f64| -> (String, String) {
        let (a, b) = fmt_vs(h.probability(), other);
        let w = waterfall(&contributions(h));
        (format!("{} scored {a} ({w})", describe(h.c)), b)
    };
    let between_words = |h: &Hit| -> (String, String, String) {
        let (a, ts) = fmt_among(h.probability(), &[review, accept]);
        let w = waterfall(&contributions(h));
        (
            format!("{} scored {a} ({w})", describe(h.c)),
            ts[0].clone(),
            ts[1].clone(),
        )
    };
    let mut out: Vec<Option<Decision>> = vec![None; sources.len()];
    let base = |i: usize| Decision {
        row: sources[i].row,
        source_id: sources[i].id.clone(),
        status: Status::Error,
        affinity_id: None,
        score: None,
        method: None,
        top: Vec::new(),
        considered: 0,
        reason: String::new(),
        contributions: Vec::new(),
    };

    // Errors, and a source id seen on an earlier row.
    let mut first_row: HashMap<&str, usize> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        if let Found::Error(why) = f {
            out[i] = Some(Decision {
                reason: why.clone(),
                ..base(i)
            });
            continue;
        }
        let id = sources[i].id.as_deref().unwrap_or_default();
        if let Some(&row) = first_row.get(id) {
            out[i] = Some(Decision {
                reason: format!("the id `{id}` is also on row {row}"),
                ..base(i)
            });
        } else {
            first_row.insert(id, sources[i].row);
        }
    }

    let mut claims: Vec<Option<Claim>> = vec![None; m.cands.len()];
    let scored_of = |f: &Found| -> Vec<Hit> {
        match f {
            Found::Key { scored, .. } | Found::Fuzzy { scored, .. } => scored.clone(),
            Found::Error(_) => Vec::new(),
        }
    };

    // Reviewers' decisions win.
    let mut by_id: Option<HashMap<&str, u32>> = None;
    for (i, f) in found.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let Some(id) = sources[i].id.as_deref() else {
            continue;
        };
        let Some(rd) = reviewed.get(id) else {
            continue;
        };
        let scored = scored_of(f);
        let d = match rd {
            ReviewerDecision::NoMatch => Decision {
                status: Status::Unmatched,
                method: Some(Method::Reviewer),
                top: top(&scored),
                reason: "a reviewer decided it matches no Affinity record".into(),
                ..base(i)
            },
            ReviewerDecision::Match(aid) => {
                let map = by_id.get_or_insert_with(|| {
                    m.cands
                        .iter()
                        .enumerate()
                        .map(|(c, cand)| (cand.id.as_str(), c as u32))
                        .collect()
                });
                match map.get(aid.as_str()) {
                    Some(&c) => {
                        claims[c as usize] = Some(Claim {
                            source: i,
                            method: Method::Reviewer,
                            matched: true,
                        });
                        let hit = scored.iter().find(|h| h.c == c);
                        Decision {
                            status: Status::Matched,
                            affinity_id: Some(aid.clone()),
                            score: hit.map(Hit::probability),
                            method: Some(Method::Reviewer),
                            top: top(&scored),
                            reason: format!("a reviewer matched it to {}", describe(c)),
                            contributions: hit.map(contributions).unwrap_or_default(),
                            ..base(i)
                        }
                    }
                    None => Decision {
                        status: Status::Review,
                        affinity_id: Some(aid.clone()),
                        method: Some(Method::Reviewer),
                        top: top(&scored),
                        reason: format!(
                            "a reviewer matched it to `{aid}`, which is no longer among the candidates"
                        ),
                        ..base(i)
                    },
                }
            }
        };
        out[i] = Some(d);
    }

    // Exact keys: one candidate, one source.
    let mut key_sources: HashMap<u32, Vec<usize>> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        if let Found::Key { cands, .. } = f {
            if cands.len() == 1 {
                key_sources.entry(cands[0]).or_default().push(i);
            }
        }
    }
    for (i, f) in found.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let Found::Key { key, cands, scored } = f else {
            continue;
        };
        let listed: Vec<Scored> = if scored.is_empty() {
            cands
                .iter()
                .take(TOP)
                .map(|&c| Scored {
                    affinity_id: cid(c).to_string(),
                    score: 1.0,
                })
                .collect()
        } else {
            top(scored)
        };
        let explained = |c: u32| {
            scored
                .iter()
                .find(|h| h.c == c)
                .map(contributions)
                .unwrap_or_default()
        };
        let d = if cands.len() > 1 {
            let ids: Vec<&str> = cands.iter().map(|&c| cid(c)).collect();
            Decision {
                status: Status::Review,
                score: Some(1.0),
                method: Some(Method::Key),
                top: listed,
                considered: cands.len(),
                reason: format!(
                    "`{key}` is {} of {} {}s ({}): a person must choose",
                    super::key_words(m.kind),
                    cands.len(),
                    m.kind.as_str(),
                    ids.join(", ")
                ),
                contributions: scored.first().map(contributions).unwrap_or_default(),
                ..base(i)
            }
        } else {
            let c = cands[0];
            let same_key = &key_sources[&c];
            let keyed = |status: Status, reason: String| Decision {
                status,
                affinity_id: Some(cid(c).to_string()),
                score: Some(1.0),
                method: Some(Method::Key),
                top: listed.clone(),
                considered: 1,
                reason,
                contributions: explained(c),
                ..base(i)
            };
            // Only a reviewer's match is in place before the keys are decided.
            if let Some(claim) = claims[c as usize].filter(|c| c.method == Method::Reviewer) {
                keyed(
                    Status::Review,
                    format!(
                        "`{key}` is {} of {}, but {}",
                        super::key_words(m.kind),
                        describe(c),
                        claim.words(sources)
                    ),
                )
            } else if same_key.len() > 1 {
                let rows: Vec<String> = same_key
                    .iter()
                    .map(|&j| sources[j].row.to_string())
                    .collect();
                keyed(
                    Status::Review,
                    format!(
                        "`{key}` is {} of {}, and rows {} all have it",
                        super::key_words(m.kind),
                        describe(c),
                        rows.join(", ")
                    ),
                )
            } else {
                keyed(
                    Status::Matched,
                    format!(
                        "exact key: `{key}` is {} of {}",
                        super::key_words(m.kind),
                        describe(c)
                    ),
                )
            }
        };
        let matched = d.status == Status::Matched;
        for &c in cands {
            let slot = &mut claims[c as usize];
            if slot.is_none_or(|held| matched && !held.matched) {
                *slot = Some(Claim {
                    source: i,
                    method: Method::Key,
                    matched,
                });
            }
        }
        out[i] = Some(d);
    }

    // Fuzzy: every pair at or above review, strongest first; a source takes its best
    // candidate if it is free, or a free duplicate of it.
    let hits_of = |i: usize| -> &[Hit] {
        match &found[i] {
            Found::Fuzzy { scored, .. } if out[i].is_none() => scored,
            _ => &[],
        }
    };
    let mut edges: Vec<(f64, usize, usize)> = Vec::new();
    let mut by_cand: HashMap<u32, Vec<(usize, f64)>> = HashMap::new();
    for i in 0..found.len() {
        for (k, h) in hits_of(i).iter().enumerate() {
            if h.weight >= review_w {
                edges.push((h.weight, i, k));
                by_cand.entry(h.c).or_default().push((i, h.weight));
            }
        }
    }
    edges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut taken: HashMap<u32, (usize, f64)> = HashMap::new();
    let mut assigned: Vec<Option<usize>> = vec![None; found.len()];
    let mut dup_cache: HashMap<(u32, u32), bool> = HashMap::new();
    let mut is_dup = |a: u32, b: u32| -> bool {
        *dup_cache
            .entry((a.min(b), a.max(b)))
            .or_insert_with(|| m.duplicates(model, a, b, review))
    };
    for &(w, i, k) in &edges {
        if assigned[i].is_some() {
            continue;
        }
        let hits = hits_of(i);
        let c = hits[k].c;
        if claims[c as usize].is_some() || taken.contains_key(&c) {
            continue;
        }
        if k > 0 && !is_dup(hits[0].c, c) {
            continue;
        }
        taken.insert(c, (i, w));
        assigned[i] = Some(k);
    }

    // Two source rows that look like one record to the model (duplicates in the file) may
    // both be matched to the one Affinity record.
    let mut same_cache: HashMap<(usize, usize), bool> = HashMap::new();
    let mut same = |i: usize, j: usize| -> bool {
        *same_cache
            .entry((i.min(j), i.max(j)))
            .or_insert_with(|| m.same_record(model, &sources[i], &sources[j], accept))
    };
    // The sources that took a candidate are decided first: the others may follow them.
    let mut order: Vec<(usize, Found)> = found
        .into_iter()
        .enumerate()
        .filter(|(i, _)| out[*i].is_none())
        .collect();
    order.sort_by_key(|(i, _)| (assigned[*i].is_none(), *i));
    for (i, f) in order {
        let Found::Fuzzy {
            scored,
            considered,
            note,
            keys,
            vetoed,
        } = f
        else {
            continue;
        };
        let join = |a: &str, b: String| {
            if a.is_empty() {
                b
            } else {
                format!("{a}; {b}")
            }
        };
        let Some(best) = scored.first() else {
            let (why, explained) = if let Some((h, why)) = &vetoed {
                let (words, _) = scored_words(h, h.probability());
                (
                    join(&note, format!("best candidate {words}, but {why}")),
                    contributions(h),
                )
            } else if considered == 0 && note.contains("nothing to compare") {
                (note.clone(), Vec::new())
            } else if considered == 0 {
                (join(&note, "no candidate resembles it".into()), Vec::new())
            } else {
                (
                    join(&note, "no candidate could be compared".into()),
                    Vec::new(),
                )
            };
            out[i] = Some(Decision {
                status: Status::Unmatched,
                considered,
                reason: why,
                contributions: explained,
                ..base(i)
            });
            continue;
        };
        let listed = top(&scored);
        let fuzzy = |status: Status, h: &Hit, why: String| Decision {
            status,
            affinity_id: (status != Status::Unmatched).then(|| cid(h.c).to_string()),
            score: Some(h.probability()),
            method: Some(Method::Fuzzy),
            top: listed.clone(),
            considered,
            reason: join(&note, why),
            contributions: contributions(h),
            ..base(i)
        };
        let below = |h: &Hit| {
            let (words, t) = scored_words(h, review);
            fuzzy(
                Status::Unmatched,
                h,
                format!("best candidate {words}, below review {t}"),
            )
        };
        let taken_words = |h: &Hit, why: String| {
            let (words, t) = scored_words(h, accept);
            fuzzy(
                Status::Unmatched,
                h,
                format!("best candidate {words}, below accept {t}, and {why}"),
            )
        };
        let d = match assigned[i] {
            None if best.weight < review_w => below(best),
            None => {
                // Its best candidate (and every duplicate of it) is someone else's.
                let holder = match (claims[best.c as usize], taken.get(&best.c)) {
                    (Some(claim), _) => claim.matched.then_some(claim.source),
                    (None, Some(&(j, _))) => Some(j),
                    (None, None) => None,
                };
                let held_matched = holder.filter(|&j| {
                    out[j].as_ref().is_some_and(|d| {
                        d.status == Status::Matched && d.affinity_id.as_deref() == Some(cid(best.c))
                    })
                });
                let why = if let Some(claim) = claims[best.c as usize] {
                    claim.words(sources)
                } else if let Some(&(j, wj)) = taken.get(&best.c) {
                    let (_, other) = fmt_vs(best.probability(), model::probability(wj));
                    format!("row {} scores it higher ({other})", sources[j].row)
                } else {
                    "it is taken".to_string()
                };
                if let Some(j) = held_matched
                    .filter(|&j| best.weight >= accept_w && best.cap.is_none() && same(i, j))
                {
                    let (words, t) = scored_words(best, accept);
                    fuzzy(
                        Status::Matched,
                        best,
                        format!(
                            "fuzzy: {words}, at or above accept {t}; row {} is matched to it too, and the two rows look like one record",
                            sources[j].row
                        ),
                    )
                } else if best.weight >= accept_w {
                    let (words, _) = scored_words(best, accept);
                    fuzzy(
                        Status::Review,
                        best,
                        format!("best candidate {words}, but {why}"),
                    )
                } else {
                    taken_words(best, why)
                }
            }
            Some(k) => {
                let h = &scored[k];
                let c = h.c;
                let instead = if k > 0 {
                    let held = match (claims[best.c as usize], taken.get(&best.c)) {
                        (Some(claim), _) => claim.words(sources),
                        (None, Some(&(j, _))) => format!("row {} has it", sources[j].row),
                        (None, None) => "it is taken".to_string(),
                    };
                    format!(
                        "; its best candidate {} looks like the same record, but {held}",
                        describe(best.c),
                    )
                } else {
                    String::new()
                };
                if h.weight >= accept_w {
                    // Another source nearly as strong on the same candidate, left without one.
                    let rival = by_cand
                        .get(&c)
                        .into_iter()
                        .flatten()
                        .filter(|&&(j, wj)| {
                            j != i && assigned[j].is_none() && h.weight - wj < TIE_BITS
                        })
                        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
                        .copied()
                        .filter(|&(j, _)| !same(i, j));
                    // A runner-up nearly as strong that is another record.
                    let runner = scored
                        .iter()
                        .enumerate()
                        .filter(|&(k2, h2)| k2 != k && h.weight - h2.weight < TIE_BITS)
                        .map(|(_, h2)| h2)
                        .find(|h2| !is_dup(c, h2.c));
                    if let Some(why) = &h.cap {
                        let (words, _) = scored_words(h, accept);
                        fuzzy(Status::Review, h, format!("{words}, but {why}{instead}"))
                    } else if let Some((sd, cd)) = m.domain_conflict(&keys, c) {
                        let (words, _) = scored_words(h, accept);
                        fuzzy(
                            Status::Review,
                            h,
                            format!("{words}, but its domain `{cd}` is not `{sd}`{instead}"),
                        )
                    } else if let Some((j, wj)) = rival {
                        let (words, other) = scored_words(h, model::probability(wj));
                        fuzzy(
                            Status::Review,
                            h,
                            format!(
                                "{words}, and row {} scores it nearly as high ({other})",
                                sources[j].row
                            ),
                        )
                    } else if let Some(h2) = runner {
                        let (words, other) = scored_words(h, h2.probability());
                        fuzzy(
                            Status::Review,
                            h,
                            format!(
                                "{words}, and the runner-up {} is within {TIE_BITS} bit ({other})",
                                describe(h2.c),
                            ),
                        )
                    } else {
                        let (words, t) = scored_words(h, accept);
                        fuzzy(
                            Status::Matched,
                            h,
                            format!("fuzzy: {words}, at or above accept {t}{instead}"),
                        )
                    }
                } else {
                    let (words, lo, hi) = between_words(h);
                    let capped = h
                        .cap
                        .as_ref()
                        .map(|why| format!("; {why}"))
                        .unwrap_or_default();
                    fuzzy(
                        Status::Review,
                        h,
                        format!("{words}, between review {lo} and accept {hi}{capped}{instead}"),
                    )
                }
            }
        };
        out[i] = Some(d);
    }
    out.into_iter()
        .map(|d| d.expect("every source record is decided"))
        .collect()
}
