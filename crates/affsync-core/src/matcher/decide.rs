//! The decision: reviewers first, then exact keys, then the fuzzy scores one to one (mutual
//! best), each decision with its method, score, best candidates and a reason in words.
//!
//! Sequential and in source order, so that the same input gives the same output.

use std::collections::HashMap;

use super::config::TIE_MARGIN;
use super::{
    Decision, Found, Matcher, Method, Reviewed, ReviewerDecision, Scored, SourceRecord, Status, TOP,
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

/// The source that scores a candidate best (position, score), and the best other one.
type Winner = (usize, f64, Option<(usize, f64)>);

fn fmt_score(s: f64) -> String {
    format!("{s:.2}")
}

/// A score beside a threshold (or another score), each with as many decimals as it takes to
/// tell them apart: never "0.92, below accept 0.92".
fn fmt_vs(s: f64, t: f64) -> (String, String) {
    for p in 2..=6 {
        let (a, b) = (format!("{s:.p$}"), format!("{t:.p$}"));
        if a != b || s == t {
            return (a, b);
        }
    }
    (format!("{s}"), format!("{t}"))
}

pub(crate) fn decide(
    m: &Matcher<'_>,
    sources: &[SourceRecord],
    found: Vec<Found>,
    reviewed: &Reviewed,
) -> Vec<Decision> {
    let accept = m.cfg.accept();
    let review = m.cfg.review();
    let cid = |c: u32| m.cands[c as usize].id.as_str();
    let top = |scored: &[(u32, f64)]| -> Vec<Scored> {
        scored
            .iter()
            .take(TOP)
            .map(|&(c, s)| Scored {
                affinity_id: cid(c).to_string(),
                score: s,
            })
            .collect()
    };
    let describe = |c: u32| -> String {
        let cand = &m.cands[c as usize];
        let global = if cand.global { "global " } else { "" };
        format!("{global}{} {}", cand.kind.as_str(), cand.id)
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
    let scored_of = |f: &Found| -> Vec<(u32, f64)> {
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
                        Decision {
                            status: Status::Matched,
                            affinity_id: Some(aid.clone()),
                            score: scored.iter().find(|(x, _)| *x == c).map(|&(_, s)| s),
                            method: Some(Method::Reviewer),
                            top: top(&scored),
                            reason: format!("a reviewer matched it to {}", describe(c)),
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
                    m.kind.key_words(),
                    cands.len(),
                    m.kind.as_str(),
                    ids.join(", ")
                ),
                ..base(i)
            }
        } else {
            let c = cands[0];
            let same_key = &key_sources[&c];
            // Only a reviewer's match is in place before the keys are decided.
            if let Some(claim) = claims[c as usize].filter(|c| c.method == Method::Reviewer) {
                Decision {
                    status: Status::Review,
                    affinity_id: Some(cid(c).to_string()),
                    score: Some(1.0),
                    method: Some(Method::Key),
                    top: listed,
                    considered: 1,
                    reason: format!(
                        "`{key}` is {} of {}, but {}",
                        m.kind.key_words(),
                        describe(c),
                        claim.words(sources)
                    ),
                    ..base(i)
                }
            } else if same_key.len() > 1 {
                let rows: Vec<String> = same_key
                    .iter()
                    .map(|&j| sources[j].row.to_string())
                    .collect();
                Decision {
                    status: Status::Review,
                    affinity_id: Some(cid(c).to_string()),
                    score: Some(1.0),
                    method: Some(Method::Key),
                    top: listed,
                    considered: 1,
                    reason: format!(
                        "`{key}` is {} of {}, and rows {} all have it",
                        m.kind.key_words(),
                        describe(c),
                        rows.join(", ")
                    ),
                    ..base(i)
                }
            } else {
                Decision {
                    status: Status::Matched,
                    affinity_id: Some(cid(c).to_string()),
                    score: Some(1.0),
                    method: Some(Method::Key),
                    top: listed,
                    considered: 1,
                    reason: format!(
                        "exact key: `{key}` is {} of {}",
                        m.kind.key_words(),
                        describe(c)
                    ),
                    ..base(i)
                }
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

    // Fuzzy: a candidate goes to the source that scores it best among those whose best it is.
    // The winner, its score, and the best other source's (row, score).
    let mut winner: HashMap<u32, Winner> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        if let Found::Fuzzy { scored, .. } = f {
            if let Some(&(c, s)) = scored.first() {
                match winner.get_mut(&c) {
                    None => {
                        winner.insert(c, (i, s, None));
                    }
                    Some(w) if s > w.1 => *w = (i, s, Some((w.0, w.1))),
                    Some(w) => {
                        if w.2.is_none_or(|(_, s2)| s > s2) {
                            w.2 = Some((i, s));
                        }
                    }
                }
            }
        }
    }
    for (i, f) in found.into_iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let Found::Fuzzy {
            scored,
            considered,
            note,
            keys,
            detail,
            vetoed,
            cap,
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
        let Some(&(c, s1)) = scored.first() else {
            let why = if let Some((c, s, why)) = &vetoed {
                join(
                    &note,
                    format!(
                        "best candidate {} scored {} ({why})",
                        describe(*c),
                        fmt_score(*s)
                    ),
                )
            } else if considered == 0 && note.contains("nothing to compare") {
                note.clone()
            } else if considered == 0 {
                join(&note, "no candidate resembles it".into())
            } else {
                join(&note, "no candidate could be compared".into())
            };
            out[i] = Some(Decision {
                status: Status::Unmatched,
                considered,
                reason: why,
                ..base(i)
            });
            continue;
        };
        let listed = top(&scored);
        let runner = scored.get(1).copied();
        let fuzzy = |status: Status, why: String| Decision {
            status,
            affinity_id: (status != Status::Unmatched).then(|| cid(c).to_string()),
            score: Some(s1),
            method: Some(Method::Fuzzy),
            top: listed.clone(),
            considered,
            reason: join(&note, why),
            ..base(i)
        };
        // The best candidate in words, its score shown beside another figure.
        let best_vs = |t: f64| -> (String, String) {
            let (a, b) = fmt_vs(s1, t);
            (format!("{} scored {a} ({detail})", describe(c)), b)
        };
        let best = best_vs(s1).0;
        let below = || {
            let (a, b) = fmt_vs(s1, review);
            fuzzy(
                Status::Unmatched,
                format!(
                    "best candidate {} scored {a} ({detail}), below review {b}",
                    describe(c)
                ),
            )
        };
        let taken = |why: String| {
            let (a, b) = fmt_vs(s1, accept);
            fuzzy(
                Status::Unmatched,
                format!(
                    "best candidate {} scored {a} ({detail}), below accept {b}, and {why}",
                    describe(c)
                ),
            )
        };
        // A candidate that is someone else's is worth a person's time only when the source
        // would otherwise have been matched to it.
        let d = if let Some(claim) = claims[c as usize] {
            if s1 >= accept {
                fuzzy(
                    Status::Review,
                    format!("best candidate {best}, but {}", claim.words(sources)),
                )
            } else if s1 >= review {
                taken(claim.words(sources))
            } else {
                below()
            }
        } else if winner[&c].0 != i {
            let (j, sj, _) = winner[&c];
            if s1 >= accept {
                let (best, other) = best_vs(sj);
                fuzzy(
                    Status::Review,
                    format!(
                        "best candidate {best}, but row {} scores it higher ({other})",
                        sources[j].row,
                    ),
                )
            } else if s1 >= review {
                let (_, other) = fmt_vs(s1, sj);
                taken(format!("row {} scores it higher ({other})", sources[j].row))
            } else {
                below()
            }
        } else if s1 >= accept {
            if let Some(why) = &cap {
                fuzzy(Status::Review, format!("{best}, but {why}"))
            } else if let Some((sd, cd)) = m.domain_conflict(&keys, c) {
                fuzzy(
                    Status::Review,
                    format!("{best}, but its domain `{cd}` is not `{sd}`"),
                )
            } else if let Some((j, sj)) = winner[&c].2.filter(|&(_, sj)| s1 - sj < TIE_MARGIN) {
                let (best, other) = best_vs(sj);
                fuzzy(
                    Status::Review,
                    format!(
                        "{best}, and row {} scores it nearly as high ({other})",
                        sources[j].row,
                    ),
                )
            } else if let Some((c2, s2)) = runner.filter(|&(_, s2)| s1 - s2 < TIE_MARGIN) {
                let (best, other) = best_vs(s2);
                fuzzy(
                    Status::Review,
                    format!(
                        "{best}, and the runner-up {} is within {} ({other})",
                        describe(c2),
                        fmt_score(TIE_MARGIN),
                    ),
                )
            } else {
                {
                    let (a, b) = fmt_vs(s1, accept);
                    fuzzy(
                        Status::Matched,
                        format!(
                            "fuzzy: {} scored {a} ({detail}), at or above accept {b}",
                            describe(c)
                        ),
                    )
                }
            }
        } else if s1 >= review {
            let (a, lo) = fmt_vs(s1, review);
            let (b, hi) = fmt_vs(s1, accept);
            let shown = if a.len() >= b.len() { a } else { b };
            fuzzy(
                Status::Review,
                format!(
                    "{} scored {shown} ({detail}), between review {lo} and accept {hi}",
                    describe(c)
                ),
            )
        } else {
            below()
        };
        out[i] = Some(d);
    }
    out.into_iter()
        .map(|d| d.expect("every source record is decided"))
        .collect()
}
