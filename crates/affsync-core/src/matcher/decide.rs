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

use rayon::prelude::*;

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

/// What every stage of the decision reads: the matcher, its model, the source rows and the
/// thresholds (as probabilities and as match weights).
struct Ctx<'c, 'a> {
    m: &'c Matcher<'a>,
    model: &'c Model,
    sources: &'c [SourceRecord],
    accept: f64,
    review: f64,
    accept_w: f64,
    review_w: f64,
}

impl Ctx<'_, '_> {
    fn cid(&self, c: u32) -> &str {
        self.m.cands[c as usize].id.as_str()
    }

    /// The best candidates a decision lists.
    fn top(&self, scored: &[Hit]) -> Vec<Scored> {
        scored
            .iter()
            .take(TOP)
            .map(|h| Scored {
                affinity_id: self.cid(h.c).to_string(),
                score: h.probability(),
            })
            .collect()
    }

    fn contributions(&self, h: &Hit) -> Vec<Contribution> {
        self.m.contributions(self.model, h)
    }

    /// A candidate as a reason names it: `Acme Inc (organization 7)`.
    fn describe(&self, c: u32) -> String {
        self.m.cands[c as usize].label()
    }

    /// `Acme Inc (organization 7) scored 0.97 (prior −3.1, `name` ~ name exact +9.0)`,
    /// `other` with as many decimals as tell the two apart, and the hit's contributions (the
    /// waterfall's, computed once for the words and the decision).
    fn scored_words(&self, h: &Hit, other: f64) -> (String, String, Vec<Contribution>) {
        let (a, b) = fmt_vs(h.probability(), other);
        let cs = self.contributions(h);
        let w = waterfall(&cs);
        (format!("{} scored {a} ({w})", self.describe(h.c)), b, cs)
    }

    /// As [`Ctx::scored_words`], beside both thresholds (review, then accept).
    fn between_words(&self, h: &Hit) -> (String, String, String, Vec<Contribution>) {
        let (a, ts) = fmt_among(h.probability(), &[self.review, self.accept]);
        let cs = self.contributions(h);
        let w = waterfall(&cs);
        (
            format!("{} scored {a} ({w})", self.describe(h.c)),
            ts[0].clone(),
            ts[1].clone(),
            cs,
        )
    }

    /// Source record `i`'s decision before anything is decided: an error with no reason.
    fn base(&self, i: usize) -> Decision {
        let s = &self.sources[i];
        Decision {
            row: s.row,
            source_id: s.id.clone(),
            status: Status::Error,
            affinity_id: None,
            score: None,
            method: None,
            top: Vec::new(),
            considered: 0,
            reason: String::new(),
            contributions: Vec::new(),
        }
    }
}

pub(crate) fn decide(
    m: &Matcher<'_>,
    model: &Model,
    sources: &[SourceRecord],
    found: Vec<Found>,
    reviewed: &Reviewed,
) -> Vec<Decision> {
    let (accept, review) = (m.cfg.accept(), m.cfg.review());
    let cx = Ctx {
        m,
        model,
        sources,
        accept,
        review,
        accept_w: model::weight_of(accept),
        review_w: model::weight_of(review),
    };
    let mut out: Vec<Option<Decision>> = vec![None; sources.len()];
    errors(&cx, &found, &mut out);
    let mut claims: Vec<Option<Claim>> = vec![None; m.cands.len()];
    reviewers(&cx, &found, reviewed, &mut out, &mut claims);
    keys(&cx, &found, &mut out, &mut claims);
    fuzzy(&cx, found, &mut out, &claims);
    out.into_iter()
        .map(|d| d.expect("every source record is decided"))
        .collect()
}

/// Errors, and a source id seen on an earlier row.
fn errors(cx: &Ctx<'_, '_>, found: &[Found], out: &mut [Option<Decision>]) {
    let mut first_row: HashMap<&str, usize> = HashMap::new();
    for (i, f) in found.iter().enumerate() {
        if let Found::Error(why) = f {
            out[i] = Some(Decision {
                reason: why.clone(),
                ..cx.base(i)
            });
            continue;
        }
        let id = cx.sources[i].id.as_deref().unwrap_or_default();
        if let Some(&row) = first_row.get(id) {
            out[i] = Some(Decision {
                reason: format!("the id `{id}` is also on row {row}"),
                ..cx.base(i)
            });
        } else {
            first_row.insert(id, cx.sources[i].row);
        }
    }
}

/// Reviewers' decisions win.
fn reviewers(
    cx: &Ctx<'_, '_>,
    found: &[Found],
    reviewed: &Reviewed,
    out: &mut [Option<Decision>],
    claims: &mut [Option<Claim>],
) {
    let scored_of = |f: &Found| -> Vec<Hit> {
        match f {
            Found::Key { scored, .. } | Found::Fuzzy { scored, .. } => scored.clone(),
            Found::Error(_) => Vec::new(),
        }
    };
    let mut by_id: Option<HashMap<&str, u32>> = None;
    for (i, f) in found.iter().enumerate() {
        if out[i].is_some() {
            continue;
        }
        let Some(id) = cx.sources[i].id.as_deref() else {
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
                top: cx.top(&scored),
                reason: "a reviewer decided it matches no Affinity record".into(),
                ..cx.base(i)
            },
            ReviewerDecision::Match(aid) => {
                let map = by_id.get_or_insert_with(|| {
                    cx.m.cands
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
                            top: cx.top(&scored),
                            reason: format!("a reviewer matched it to {}", cx.describe(c)),
                            contributions: hit.map(|h| cx.contributions(h)).unwrap_or_default(),
                            ..cx.base(i)
                        }
                    }
                    None => Decision {
                        status: Status::Review,
                        affinity_id: Some(aid.clone()),
                        method: Some(Method::Reviewer),
                        top: cx.top(&scored),
                        reason: format!(
                            "a reviewer matched it to `{aid}`, which is no longer among the candidates"
                        ),
                        ..cx.base(i)
                    },
                }
            }
        };
        out[i] = Some(d);
    }
}

/// Exact keys: one candidate, one source.
fn keys(
    cx: &Ctx<'_, '_>,
    found: &[Found],
    out: &mut [Option<Decision>],
    claims: &mut [Option<Claim>],
) {
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
        let same_key = cands
            .first()
            .and_then(|c| key_sources.get(c))
            .map_or(&[][..], Vec::as_slice);
        let d = keyed(cx, i, key, cands, scored, same_key, claims);
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
}

/// Source `i`'s decision by its `key`, which `cands` hold (`same_key`: the sources whose key
/// names the first of them alone).
fn keyed(
    cx: &Ctx<'_, '_>,
    i: usize,
    key: &str,
    cands: &[u32],
    scored: &[Hit],
    same_key: &[usize],
    claims: &[Option<Claim>],
) -> Decision {
    let m = cx.m;
    let listed: Vec<Scored> = if scored.is_empty() {
        cands
            .iter()
            .take(TOP)
            .map(|&c| Scored {
                affinity_id: cx.cid(c).to_string(),
                score: 1.0,
            })
            .collect()
    } else {
        cx.top(scored)
    };
    if cands.len() > 1 {
        let named: Vec<String> = cands.iter().map(|&c| cx.describe(c)).collect();
        return Decision {
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
                named.join(", ")
            ),
            contributions: scored
                .first()
                .map(|h| cx.contributions(h))
                .unwrap_or_default(),
            ..cx.base(i)
        };
    }
    let c = cands[0];
    let decision = |status: Status, reason: String| Decision {
        status,
        affinity_id: Some(cx.cid(c).to_string()),
        score: Some(1.0),
        method: Some(Method::Key),
        top: listed.clone(),
        considered: 1,
        reason,
        contributions: scored
            .iter()
            .find(|h| h.c == c)
            .map(|h| cx.contributions(h))
            .unwrap_or_default(),
        ..cx.base(i)
    };
    let is_of = format!(
        "`{key}` is {} of {}",
        super::key_words(m.kind),
        cx.describe(c)
    );
    // Only a reviewer's match is in place before the keys are decided.
    if let Some(claim) = claims[c as usize].filter(|c| c.method == Method::Reviewer) {
        decision(
            Status::Review,
            format!("{is_of}, but {}", claim.words(cx.sources)),
        )
    } else if same_key.len() > 1 {
        let rows: Vec<String> = same_key
            .iter()
            .map(|&j| cx.sources[j].row.to_string())
            .collect();
        decision(
            Status::Review,
            format!("{is_of}, and rows {} all have it", rows.join(", ")),
        )
    } else {
        decision(Status::Matched, format!("exact key: {is_of}"))
    }
}

/// What the fuzzy stage keeps while it decides: who holds each candidate, the candidate each
/// source took. Read-only once the assignment is made, so that the decisions are made on
/// every core.
struct Fuzzy<'f> {
    claims: &'f [Option<Claim>],
    /// Candidate → (source, weight) of the source that took it.
    taken: HashMap<u32, (usize, f64)>,
    /// Source → the rank of the candidate it took.
    assigned: Vec<Option<usize>>,
    /// Candidate → every (source, weight) at or above review on it.
    by_cand: HashMap<u32, Vec<(usize, f64)>>,
}

/// The model's answers to "are these two one record", kept by one thread. The answers are
/// symmetric and depend on nothing decided before, so each thread may keep its own.
#[derive(Default)]
struct Memo {
    dup: HashMap<(u32, u32), bool>,
    same: HashMap<(usize, usize), bool>,
}

impl Memo {
    /// Whether candidates `a` and `b` look like one record to the model (Affinity holding one
    /// company twice).
    fn is_dup(&mut self, cx: &Ctx<'_, '_>, a: u32, b: u32) -> bool {
        *self
            .dup
            .entry((a.min(b), a.max(b)))
            .or_insert_with(|| cx.m.duplicates(cx.model, a, b, cx.review))
    }

    /// Whether source rows `i` and `j` look like one record (duplicates in the file): then
    /// both may be matched to the one Affinity record.
    fn same(&mut self, cx: &Ctx<'_, '_>, i: usize, j: usize) -> bool {
        *self.same.entry((i.min(j), i.max(j))).or_insert_with(|| {
            cx.m.same_record(cx.model, &cx.sources[i], &cx.sources[j], cx.accept)
        })
    }
}

/// Fuzzy: every pair at or above review, strongest first; a source takes its best candidate
/// if it is free, or a free duplicate of it. Then each source's decision, those that took a
/// candidate first (the others may follow them), each group on every core.
fn fuzzy(
    cx: &Ctx<'_, '_>,
    found: Vec<Found>,
    out: &mut [Option<Decision>],
    claims: &[Option<Claim>],
) {
    let hits_of = |i: usize| -> &[Hit] {
        match &found[i] {
            Found::Fuzzy { scored, .. } if out[i].is_none() => scored,
            _ => &[],
        }
    };
    let mut edges: Vec<(f64, usize, usize)> = Vec::new();
    let mut st = Fuzzy {
        claims,
        taken: HashMap::new(),
        assigned: vec![None; found.len()],
        by_cand: HashMap::new(),
    };
    let mut memo = Memo::default();
    for i in 0..found.len() {
        for (k, h) in hits_of(i).iter().enumerate() {
            if h.weight >= cx.review_w {
                edges.push((h.weight, i, k));
                st.by_cand.entry(h.c).or_default().push((i, h.weight));
            }
        }
    }
    edges.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    for &(w, i, k) in &edges {
        if st.assigned[i].is_some() {
            continue;
        }
        let hits = hits_of(i);
        let c = hits[k].c;
        if claims[c as usize].is_some() || st.taken.contains_key(&c) {
            continue;
        }
        if k > 0 && !memo.is_dup(cx, hits[0].c, c) {
            continue;
        }
        st.taken.insert(c, (i, w));
        st.assigned[i] = Some(k);
    }
    let (took, rest): (Vec<_>, Vec<_>) = found
        .into_iter()
        .enumerate()
        .filter(|(i, _)| out[*i].is_none())
        .partition(|(i, _)| st.assigned[*i].is_some());
    for group in [took, rest] {
        let decided: Vec<(usize, Decision)> = group
            .into_par_iter()
            .map_init(Memo::default, |memo, (i, f)| {
                let Found::Fuzzy {
                    scored,
                    considered,
                    note,
                    keys,
                    vetoed,
                } = f
                else {
                    unreachable!("only fuzzy finds are left undecided")
                };
                let f = FuzzyFound {
                    scored: &scored,
                    considered,
                    note: &note,
                    keys: &keys,
                    vetoed: vetoed.as_ref(),
                };
                (i, fuzzy_one(cx, &st, memo, out, i, f))
            })
            .collect();
        for (i, d) in decided {
            out[i] = Some(d);
        }
    }
}

/// A source's fuzzy candidates, as scoring left them.
struct FuzzyFound<'f> {
    scored: &'f [Hit],
    considered: usize,
    note: &'f str,
    keys: &'f [String],
    vetoed: Option<&'f (Hit, String)>,
}

/// Source `i`'s fuzzy decision (`out`: the decisions made so far).
fn fuzzy_one(
    cx: &Ctx<'_, '_>,
    st: &Fuzzy<'_>,
    memo: &mut Memo,
    out: &[Option<Decision>],
    i: usize,
    f: FuzzyFound<'_>,
) -> Decision {
    let (review, review_w) = (cx.review, cx.review_w);
    let FuzzyFound {
        scored,
        considered,
        note,
        keys,
        vetoed,
    } = f;
    let join = |a: &str, b: String| {
        if a.is_empty() {
            b
        } else {
            format!("{a}; {b}")
        }
    };
    let Some(best) = scored.first() else {
        let (why, explained) = if let Some((h, why)) = vetoed {
            let (words, _, cs) = cx.scored_words(h, h.probability());
            (join(note, format!("best candidate {words}, but {why}")), cs)
        } else if considered == 0 && note.contains("nothing to compare") {
            (note.to_string(), Vec::new())
        } else if considered == 0 {
            (join(note, "no candidate resembles it".into()), Vec::new())
        } else {
            (
                join(note, "no candidate could be compared".into()),
                Vec::new(),
            )
        };
        return Decision {
            status: Status::Unmatched,
            considered,
            reason: why,
            contributions: explained,
            ..cx.base(i)
        };
    };
    let rest = Rest { scored, keys };
    let listed = cx.top(scored);
    let fuzzy = |status: Status, h: &Hit, contributions: Vec<Contribution>, why: String| Decision {
        status,
        affinity_id: (status != Status::Unmatched).then(|| cx.cid(h.c).to_string()),
        score: Some(h.probability()),
        method: Some(Method::Fuzzy),
        top: listed.clone(),
        considered,
        reason: join(note, why),
        contributions,
        ..cx.base(i)
    };
    match st.assigned[i] {
        None if best.weight < review_w => {
            let (words, t, cs) = cx.scored_words(best, review);
            fuzzy(
                Status::Unmatched,
                best,
                cs,
                format!("best candidate {words}, below review {t}"),
            )
        }
        None => held_elsewhere(cx, st, memo, out, i, best, &fuzzy),
        Some(k) => took(cx, st, memo, i, k, rest, &fuzzy),
    }
}

/// Builds source `i`'s fuzzy decision from a status, the hit it is about, the hit's
/// contributions and the reason.
type Build<'b> = dyn Fn(Status, &Hit, Vec<Contribution>, String) -> Decision + 'b;

/// The rest of a source's fuzzy candidates that [`took`] reads.
#[derive(Clone, Copy)]
struct Rest<'f> {
    scored: &'f [Hit],
    keys: &'f [String],
}

/// Source `i` took no candidate though its `best` is at or above review: its best candidate
/// (and every duplicate of it) is someone else's.
fn held_elsewhere(
    cx: &Ctx<'_, '_>,
    st: &Fuzzy<'_>,
    memo: &mut Memo,
    out: &[Option<Decision>],
    i: usize,
    best: &Hit,
    fuzzy: &Build<'_>,
) -> Decision {
    let (accept, accept_w, sources) = (cx.accept, cx.accept_w, cx.sources);
    let holder = match (st.claims[best.c as usize], st.taken.get(&best.c)) {
        (Some(claim), _) => claim.matched.then_some(claim.source),
        (None, Some(&(j, _))) => Some(j),
        (None, None) => None,
    };
    let held_matched = holder.filter(|&j| {
        out[j].as_ref().is_some_and(|d| {
            d.status == Status::Matched && d.affinity_id.as_deref() == Some(cx.cid(best.c))
        })
    });
    let why = if let Some(claim) = st.claims[best.c as usize] {
        claim.words(sources)
    } else if let Some(&(j, wj)) = st.taken.get(&best.c) {
        let (_, other) = fmt_vs(best.probability(), model::probability(wj));
        format!("row {} scores it higher ({other})", sources[j].row)
    } else {
        "it is taken".to_string()
    };
    if let Some(j) = held_matched
        .filter(|&j| best.weight >= accept_w && best.cap.is_none() && memo.same(cx, i, j))
    {
        let (words, t, cs) = cx.scored_words(best, accept);
        let row = sources[j].row;
        fuzzy(
            Status::Matched,
            best,
            cs,
            format!(
                "fuzzy: {words}, at or above accept {t}; row {row} is matched to it too, and the two rows look like one record"
            ),
        )
    } else if best.weight >= accept_w {
        let (words, _, cs) = cx.scored_words(best, accept);
        fuzzy(
            Status::Review,
            best,
            cs,
            format!("best candidate {words}, but {why}"),
        )
    } else {
        let (words, t, cs) = cx.scored_words(best, accept);
        fuzzy(
            Status::Unmatched,
            best,
            cs,
            format!("best candidate {words}, below accept {t}, and {why}"),
        )
    }
}

/// Source `i` took its `k`-th best candidate.
fn took(
    cx: &Ctx<'_, '_>,
    st: &Fuzzy<'_>,
    memo: &mut Memo,
    i: usize,
    k: usize,
    rest: Rest<'_>,
    fuzzy: &Build<'_>,
) -> Decision {
    let (accept, accept_w, sources) = (cx.accept, cx.accept_w, cx.sources);
    let Rest { scored, keys } = rest;
    let (best, h) = (&scored[0], &scored[k]);
    let c = h.c;
    let instead = if k > 0 {
        let held = match (st.claims[best.c as usize], st.taken.get(&best.c)) {
            (Some(claim), _) => claim.words(sources),
            (None, Some(&(j, _))) => format!("row {} has it", sources[j].row),
            (None, None) => "it is taken".to_string(),
        };
        format!(
            "; its best candidate {} looks like the same record, but {held}",
            cx.describe(best.c),
        )
    } else {
        String::new()
    };
    if h.weight < accept_w {
        let (words, lo, hi, cs) = cx.between_words(h);
        let capped = h
            .cap
            .as_ref()
            .map(|why| format!("; {why}"))
            .unwrap_or_default();
        return fuzzy(
            Status::Review,
            h,
            cs,
            format!("{words}, between review {lo} and accept {hi}{capped}{instead}"),
        );
    }
    // Another source nearly as strong on the same candidate, left without one.
    let rival = st
        .by_cand
        .get(&c)
        .into_iter()
        .flatten()
        .filter(|&&(j, wj)| j != i && st.assigned[j].is_none() && h.weight - wj < TIE_BITS)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
        .copied()
        .filter(|&(j, _)| !memo.same(cx, i, j));
    // A runner-up nearly as strong that is another record.
    let runner = scored
        .iter()
        .enumerate()
        .filter(|&(k2, h2)| k2 != k && h.weight - h2.weight < TIE_BITS)
        .map(|(_, h2)| h2)
        .find(|h2| !memo.is_dup(cx, c, h2.c));
    if let Some(why) = &h.cap {
        let (words, _, cs) = cx.scored_words(h, accept);
        fuzzy(
            Status::Review,
            h,
            cs,
            format!("{words}, but {why}{instead}"),
        )
    } else if let Some((sd, cd)) = cx.m.domain_conflict(keys, c) {
        let (words, _, cs) = cx.scored_words(h, accept);
        fuzzy(
            Status::Review,
            h,
            cs,
            format!("{words}, but its domain `{cd}` is not `{sd}`{instead}"),
        )
    } else if let Some((j, wj)) = rival {
        let (words, other, cs) = cx.scored_words(h, model::probability(wj));
        fuzzy(
            Status::Review,
            h,
            cs,
            format!(
                "{words}, and row {} scores it nearly as high ({other})",
                sources[j].row
            ),
        )
    } else if let Some(h2) = runner {
        let (words, other, cs) = cx.scored_words(h, h2.probability());
        fuzzy(
            Status::Review,
            h,
            cs,
            format!(
                "{words}, and the runner-up {} is within {TIE_BITS} bit ({other})",
                cx.describe(h2.c),
            ),
        )
    } else {
        let (words, t, cs) = cx.scored_words(h, accept);
        fuzzy(
            Status::Matched,
            h,
            cs,
            format!("fuzzy: {words}, at or above accept {t}{instead}"),
        )
    }
}
