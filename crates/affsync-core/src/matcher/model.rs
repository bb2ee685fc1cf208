//! The Fellegi–Sunter model: how much each attribute's agreement level says for or against a
//! match, learnt from the data at hand without labels.
//!
//! For an attribute at level `l`, `m[l]` is the probability that a true match is at that level
//! and `u[l]` that two different records are. The pair's **match weight** is the prior's
//! log-odds plus, per attribute, `log2(m[l] / u[l])` (a missing value adds 0: it is neutral,
//! never a penalty); its **probability** is `2^w / (1 + 2^w)`.
//!
//! - `m` is estimated by expectation-maximisation over the candidate pairs the index proposes
//!   ([`em`]): each pair is a match with some probability, the levels of its attributes
//!   independent given that; the default m of each comparison is a weak prior (a few pairs'
//!   worth), so that a handful of records still gives sensible weights.
//! - `u` comes from random pairs, corrected by what the candidate pairs show ([`estimate_u`]):
//!   random pairs say how common the weak levels are; rare strong levels (a near-identical
//!   name) are never drawn at random, but nearly all such pairs are among the candidates, which
//!   are counted whole. The expected matches are taken out of both counts.
//! - Term frequency: an exact agreement on a common value (a surname shared by many) is weaker
//!   evidence than one on a rare value; level 0's weight (for organizations' names, levels 0
//!   and 1: the name with and without its legal form, alike) is adjusted by how frequent the agreed value is
//!   against the values that usually agree ([`Tf`]). The adjusted weight never falls below the
//!   next level's.

use std::collections::HashMap;

use super::compare::Comparison;
use super::config::TIE_BITS;

/// Pseudo-pairs of the m prior: the weight of the default m against the data.
pub const M_PRIOR: f64 = 4.0;
/// Pseudo-pairs of the prior of u among the candidate pairs, in EM: with a handful of
/// records, EM has too little to tell matches from the rest and keeps near its start.
pub const EM_U_PRIOR: f64 = 10.0;
/// Pseudo-records of the prior of the share of source records with a match (one half).
pub const PI_PRIOR: f64 = 2.0;
/// Pseudo-pairs of the prior of u: the comparison's default u weighs as much as this many
/// random pairs. It decides when there are few records (a handful of pairs says nothing of
/// how often different records agree) and vanishes in large data (a million pairs or more).
pub const U_PRIOR: f64 = 1000.0;
/// The least a name's level weighs above the next weaker one, in bits (see
/// [`AttrModel::make_monotone`]).
pub const MONOTONE_STEP: f64 = 0.5;
/// How many random pairs at a level count half: fewer are shrunk toward the candidate pairs'
/// count (see [`estimate_u`]).
pub const RANDOM_SHRINK: f64 = 5.0;
/// EM stops when no probability moves more than this in an iteration.
pub const EM_TOLERANCE: f64 = 1e-5;
pub const EM_MAX_ITERATIONS: usize = 200;
/// The largest term-frequency adjustment, in bits, either way.
pub const TF_MAX_BITS: f64 = 12.0;

/// The model of one compared attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrModel {
    pub comparison: Comparison,
    /// Per level.
    pub m: Vec<f64>,
    pub u: Vec<f64>,
    /// Whether `m` and `u` were given in the mapping file (then they are not estimated).
    pub fixed_m: bool,
    pub fixed_u: bool,
    /// Term frequencies of exact agreements (none: no adjustment).
    pub tf: Option<Tf>,
    /// Whether level 1 is the name without its legal form (organizations' names): the term
    /// frequency then adjusts it as level 0, and level 0 stands [`TIE_BITS`] above it.
    pub legal_forms: bool,
}

impl AttrModel {
    /// A model with the comparison's defaults.
    pub fn new(comparison: Comparison) -> AttrModel {
        AttrModel {
            comparison,
            m: comparison.default_m().to_vec(),
            u: comparison.default_u().to_vec(),
            fixed_m: false,
            fixed_u: false,
            tf: None,
            legal_forms: false,
        }
    }

    /// Makes the weights of a name's or a text's levels fall as the agreement weakens: EM over
    /// one or two attributes can leave a near match weighing more than an exact one (the
    /// levels are not identified apart), and a closer agreement is never weaker evidence.
    /// Each level's u is lowered to give it the weight of the strongest weaker level.
    pub fn make_monotone(&mut self) {
        if !matches!(self.comparison, Comparison::Name | Comparison::Text) || self.fixed_u {
            return;
        }
        let n = self.m.len();
        let mut floor = f64::NEG_INFINITY;
        // From the weakest agreement (before "different") up to the exact one, each at least
        // MONOTONE_STEP above the next weaker: equal weights would tie an exact name with a
        // near one.
        for l in (0..n.saturating_sub(1)).rev() {
            let w = self.weight(l as u8);
            // An exact name stands a tie's width above the same name without its legal form:
            // `Murazik Ltd` is not tied with `Murazik LLC`, another legal entity.
            let step = if l == 0 && self.legal_forms {
                MONOTONE_STEP.max(TIE_BITS)
            } else {
                MONOTONE_STEP
            };
            if w < floor + step {
                self.u[l] = self.m[l] / (floor + step).exp2();
                floor += step;
            } else {
                floor = w;
            }
        }
    }

    /// The weight of a level, in bits, without term frequency.
    pub fn weight(&self, level: u8) -> f64 {
        let l = level as usize;
        (self.m[l] / self.u[l]).log2()
    }

    /// The weight of a level for an agreed value (its exact key's hash), in bits.
    ///
    /// The levels that agree on the value are adjusted by the same amount: the exact one, and
    /// for names the one without legal form (both share the key, the name without its legal
    /// form), so that the step between them, what a legal form tells, stays. Adjusting the
    /// exact level alone let a common name's exact agreement fall onto the weight of that name
    /// with another legal form, a tie. The weakest agreeing level never falls below the next
    /// level's weight (nor below 0).
    pub fn weight_tf(&self, level: u8, key: Option<u64>) -> f64 {
        let w = self.weight(level);
        let last = usize::from(self.legal_forms && self.m.len() > 2);
        let (Some(tf), Some(key)) = (&self.tf, key) else {
            return w;
        };
        if level as usize > last {
            return w;
        }
        let base = self.weight(last as u8);
        let floor = if self.m.len() > last + 1 {
            self.weight(last as u8 + 1).max(0.0)
        } else {
            0.0
        };
        w + tf.adjustment(key).max((floor - base).min(0.0))
    }
}

/// Term frequencies of one attribute's exact keys, on both sides.
#[derive(Debug, Clone, PartialEq)]
pub struct Tf {
    counts: HashMap<u64, u32>,
    total: f64,
    /// The frequency of a value that agrees in a typical matching pair: agreements on values
    /// more frequent than this weigh less than level 0's weight, rarer ones more.
    reference: f64,
}

impl Tf {
    /// Counts of each key (hashes of exact keys) over both sides' records.
    pub fn new(counts: HashMap<u64, u32>, total: usize) -> Tf {
        Tf {
            counts,
            total: total.max(1) as f64,
            reference: 0.0,
        }
    }

    /// A value's frequency.
    pub fn freq(&self, key: u64) -> f64 {
        self.counts.get(&key).copied().unwrap_or(1).max(1) as f64 / self.total
    }

    /// Sets the reference frequency: the mean frequency of the agreed values, weighted by
    /// how likely each agreement is a match.
    pub fn set_reference(&mut self, agreed: &[(u64, f64)]) {
        let (mut sum, mut n) = (0.0, 0.0);
        for &(k, w) in agreed {
            sum += w * self.freq(k);
            n += w;
        }
        self.reference = if n > 0.0 { sum / n } else { 1.0 / self.total };
    }

    /// `log2(reference / freq)`, within [`TF_MAX_BITS`].
    pub fn adjustment(&self, key: u64) -> f64 {
        if self.reference <= 0.0 {
            return 0.0;
        }
        (self.reference / self.freq(key))
            .log2()
            .clamp(-TF_MAX_BITS, TF_MAX_BITS)
    }
}

/// The whole model: the prior and one model per compared attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// The prior's log-odds in bits: how likely a source record is a given candidate before
    /// they are compared (see `Matcher`'s fit: it counts how many records there are to choose
    /// from, and how many source records have a match at all).
    pub prior: f64,
    /// The share of source records that have a match (the one-to-one fit's estimate).
    pub pi: f64,
    pub attrs: Vec<AttrModel>,
}

/// The probability of a match weight.
pub fn probability(weight: f64) -> f64 {
    1.0 / (1.0 + (-weight).exp2())
}

/// The match weight of a probability (`±inf` at 1 and 0).
pub fn weight_of(p: f64) -> f64 {
    (p / (1.0 - p)).log2()
}

/// Agreement patterns with how many pairs show each: `levels[a]` is attribute `a`'s level,
/// [`MISSING`] when either side has no value.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Patterns {
    pub attrs: usize,
    /// Flattened: pattern `p` is `levels[p * attrs..(p + 1) * attrs]`.
    pub levels: Vec<u8>,
    pub counts: Vec<f64>,
    index: HashMap<Vec<u8>, usize>,
}

/// The level of an attribute whose value is missing on either side.
pub const MISSING: u8 = u8::MAX;

impl Patterns {
    pub fn new(attrs: usize) -> Patterns {
        Patterns {
            attrs,
            ..Default::default()
        }
    }

    /// Counts one more pair with these levels (`weight` pairs of it); returns the pattern.
    pub fn add(&mut self, levels: &[u8], weight: f64) -> usize {
        debug_assert_eq!(levels.len(), self.attrs);
        match self.index.get(levels) {
            Some(&p) => {
                self.counts[p] += weight;
                p
            }
            None => {
                let p = self.counts.len();
                self.index.insert(levels.to_vec(), p);
                self.levels.extend_from_slice(levels);
                self.counts.push(weight);
                p
            }
        }
    }

    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    pub fn pattern(&self, p: usize) -> &[u8] {
        &self.levels[p * self.attrs..(p + 1) * self.attrs]
    }

    /// The pairs counted.
    pub fn total(&self) -> f64 {
        self.counts.iter().sum()
    }
}

/// What EM found: m per attribute and level, u among the candidate pairs, the share of source
/// records whose match is among their candidates, and each candidate pair's probability of
/// being a match (as a pair, see [`em`]).
#[derive(Debug, Clone, PartialEq)]
pub struct EmFit {
    pub m: Vec<Vec<f64>>,
    pub u: Vec<Vec<f64>>,
    pub pi: f64,
    /// Per source record, per candidate: the pair's probability of being a match.
    pub pairs: Vec<Vec<f64>>,
    pub iterations: usize,
}

/// Expectation-maximisation over the candidate pairs of source records. `groups[i]` holds the
/// agreement pattern (an index into `pats`) of each candidate of source `i`.
///
/// The model is one to one: a source record is at most one of its candidates (each equally
/// likely beforehand), with probability `pi`, and none of them otherwise; a matching pair's
/// levels are drawn from m, the others' from u (the u of candidate pairs, which blocking makes
/// more alike than random pairs). Unlike a model of independent pairs, this one is identified
/// with a single compared attribute: a source's other candidates are counted as non-matches.
///
/// Starts from `m0`, `u0` and `pi0`, and pulls each estimate toward its start with [`M_PRIOR`]
/// and [`EM_U_PRIOR`] pseudo-pairs. Attributes whose `fixed_m[a]` is true keep their `m0`.
/// Finally each pair's probability is computed on its own, without its source's other
/// candidates competing: two true records of one source (duplicates in Affinity) are then both
/// likely matches, as they are.
pub fn em(
    pats: &Patterns,
    groups: &[Vec<u32>],
    m0: &[Vec<f64>],
    u0: &[Vec<f64>],
    pi0: f64,
    fixed_m: &[bool],
) -> EmFit {
    let attrs = pats.attrs;
    let mut m = m0.to_vec();
    let mut u = u0.to_vec();
    let mut pi = pi0.clamp(1e-6, 1.0 - 1e-6);
    let mut iterations = 0;
    let sources = groups.len() as f64;
    let log_bf = |m: &[Vec<f64>], u: &[Vec<f64>]| -> Vec<f64> {
        (0..pats.len())
            .map(|q| {
                pats.pattern(q)
                    .iter()
                    .enumerate()
                    .filter(|(_, &l)| l != MISSING)
                    .map(|(a, &l)| (m[a][l as usize] / u[a][l as usize]).ln())
                    .sum()
            })
            .collect()
    };
    if groups.iter().all(Vec::is_empty) {
        return EmFit {
            m,
            u,
            pi,
            pairs: groups.iter().map(|_| Vec::new()).collect(),
            iterations,
        };
    }
    // Per pattern: how many pairs show it, and (each iteration) their summed posterior. The
    // E step touches each pair once, for a sum; the counts per level are then made from the
    // patterns, a few thousand, not from every pair (a hundred thousand at 25,000 sources).
    let mut seen = vec![0.0f64; pats.len()];
    for g in groups {
        for &q in g {
            seen[q as usize] += 1.0;
        }
    }
    let mut resp = vec![0.0f64; pats.len()];
    for it in 0..EM_MAX_ITERATIONS {
        iterations = it + 1;
        let bf = log_bf(&m, &u);
        // The Bayes factor of each pattern, in a frame shifted by the largest: a group's
        // posteriors are ratios of these (the shift cancels), and nothing overflows.
        let top_bf = bf.iter().copied().fold(f64::MIN, f64::max);
        let ebf: Vec<f64> = bf.iter().map(|&b| (b - top_bf).exp()).collect();
        resp.iter_mut().for_each(|r| *r = 0.0);
        let mut matched = 0.0;
        let log_odds = pi.ln() - (1.0 - pi).ln();
        for g in groups {
            if g.is_empty() {
                continue;
            }
            // E: which candidate (if any) the source is: candidate j's posterior is
            // `r·e^bf_j / (1 + r·Σ e^bf)`, "none" weighing `e^-top_bf` in the shifted frame.
            let prior = log_odds - (g.len() as f64).ln();
            let sum = prior.exp() * g.iter().map(|&q| ebf[q as usize]).sum::<f64>();
            if sum > 1e-200 && top_bf > -600.0 {
                let scale = prior.exp() / ((-top_bf).exp() + sum);
                for &q in g {
                    let wj = ebf[q as usize] * scale;
                    resp[q as usize] += wj;
                    matched += wj;
                }
            } else {
                // The group's patterns are all far weaker than the strongest (or every one
                // is overwhelming evidence against a match): in the shared frame they
                // underflow, so this group is weighed in a frame of its own.
                let top = g.iter().map(|&q| bf[q as usize]).fold(f64::MIN, f64::max) + prior;
                let shift = top.max(0.0);
                let w: Vec<f64> = g
                    .iter()
                    .map(|&q| (bf[q as usize] + prior - shift).exp())
                    .collect();
                let total = (-shift).exp() + w.iter().sum::<f64>();
                for (&q, wj) in g.iter().zip(w) {
                    let wj = wj / total;
                    resp[q as usize] += wj;
                    matched += wj;
                }
            }
        }
        let mut mc: Vec<Vec<f64>> = m0
            .iter()
            .map(|v| v.iter().map(|x| x * M_PRIOR).collect())
            .collect();
        let mut uc: Vec<Vec<f64>> = u0
            .iter()
            .map(|v| v.iter().map(|x| x * EM_U_PRIOR).collect())
            .collect();
        for q in 0..pats.len() {
            let (wq, nq) = (resp[q], seen[q]);
            for (a, &l) in pats.pattern(q).iter().enumerate() {
                if l != MISSING {
                    mc[a][l as usize] += wq;
                    uc[a][l as usize] += nq - wq;
                }
            }
        }
        // M: the counts, weighted, plus the priors' pseudo-pairs.
        let mut moved: f64 = 0.0;
        for a in 0..attrs {
            let both = [(&mut m[a], &mc[a]), (&mut u[a], &uc[a])];
            for (est, counts) in both.into_iter().skip(usize::from(fixed_m[a])) {
                let sum: f64 = counts.iter().sum();
                for (x, c) in est.iter_mut().zip(counts) {
                    let v = (c / sum).max(1e-12);
                    moved = moved.max((v - *x).abs());
                    *x = v;
                }
            }
        }
        let new_pi = ((matched + PI_PRIOR * pi0) / (sources + PI_PRIOR)).clamp(1e-6, 1.0 - 1e-6);
        moved = moved.max((new_pi - pi).abs());
        pi = new_pi;
        if moved < EM_TOLERANCE {
            break;
        }
    }
    let bf = log_bf(&m, &u);
    let pairs = groups
        .iter()
        .map(|g| {
            let prior = (pi / g.len().max(1) as f64).ln() - (1.0 - pi).ln();
            g.iter()
                .map(|&q| 1.0 / (1.0 + (-(bf[q as usize] + prior)).exp()))
                .collect()
        })
        .collect();
    EmFit {
        m,
        u,
        pi,
        pairs,
        iterations,
    }
}

/// u for every level of one attribute: the level counts over all pairs (from random pairs,
/// scaled to all pairs, but never fewer than the candidate pairs counted at that level) less
/// the expected matches among them, with the comparison's default u as a prior of
/// [`U_PRIOR`] pairs. Where few random pairs hit a level, their scaled count is shrunk
/// toward the candidate pairs' by `r / (r + RANDOM_SHRINK)`: one random pair that shares a
/// model number by chance stands for a hundred thousand pairs at a million, and would make
/// the strongest levels look common.
///
/// - `random[l]`: random pairs at level `l`, out of `drawn` random pairs; `pairs`: all pairs.
/// - `candidates[l]`: candidate pairs at level `l`, counted whole (scaled to all records).
/// - `matches[l]`: their expected matches (the posterior's sum).
pub fn estimate_u(
    random: &[f64],
    drawn: f64,
    pairs: f64,
    candidates: &[f64],
    matches: &[f64],
    default_u: &[f64],
) -> Vec<f64> {
    let scale = if drawn > 0.0 { pairs / drawn } else { 0.0 };
    let non: Vec<f64> = (0..default_u.len())
        .map(|l| {
            let r = random[l];
            let excess = (r * scale - candidates[l]).max(0.0);
            let all = candidates[l] + excess * r / (r + RANDOM_SHRINK);
            (all - matches[l]).max(0.0) + U_PRIOR * default_u[l]
        })
        .collect();
    let sum: f64 = non.iter().sum();
    non.iter().map(|x| (x / sum).max(1e-15)).collect()
}

#[cfg(test)]
mod tests {

    #[test]
    fn weights_fall_as_a_name_agreement_weakens() {
        let mut a = AttrModel::new(Comparison::Name);
        // Exact weighs less than "similar ≥0.90" after a fit that could not tell them apart.
        a.u[0] = a.m[0] / 2f64.powf(11.0);
        a.u[4] = a.m[4] / 2f64.powf(14.0);
        a.make_monotone();
        let w: Vec<f64> = (0..a.m.len() as u8).map(|l| a.weight(l)).collect();
        assert!(w[0] >= 14.0 + 4.0 * MONOTONE_STEP - 1e-9, "{w:?}");
        for l in 1..w.len() - 1 {
            assert!(w[l - 1] >= w[l] + MONOTONE_STEP - 1e-9, "{w:?}");
        }
        // A date's levels are not ordered that way, and are left alone.
        let mut d = AttrModel::new(Comparison::Date);
        let before = d.clone();
        d.u[0] = 0.5;
        d.make_monotone();
        assert_eq!(d.u[0], 0.5);
        assert_eq!(d.m, before.m);
    }

    #[test]
    fn a_level_few_random_pairs_hit_is_not_scaled_up_whole() {
        // One random pair in 10,000 at the strongest level, of a million pairs, where the
        // candidate pairs hold 10 at that level, 8 of them matches.
        let u = estimate_u(
            &[1.0, 9999.0],
            10_000.0,
            1e6,
            &[10.0, 0.0],
            &[8.0, 0.0],
            &[1e-5, 1.0 - 1e-5],
        );
        let plain = (100.0 - 8.0) / 1e6;
        assert!(u[0] < plain / 3.0, "{u:?}");
        // Many random pairs at a level are taken as they are.
        let u = estimate_u(
            &[500.0, 9500.0],
            10_000.0,
            1e6,
            &[10.0, 0.0],
            &[8.0, 0.0],
            &[0.05, 0.95],
        );
        assert!((u[0] - 0.05).abs() < 0.005, "{u:?}");
    }
    use super::*;

    /// A tiny deterministic generator (xorshift), for the synthetic data.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> f64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
        fn pick(&mut self, p: &[f64]) -> u8 {
            let mut x = self.next();
            for (i, &q) in p.iter().enumerate() {
                if x < q {
                    return i as u8;
                }
                x -= q;
            }
            (p.len() - 1) as u8
        }
    }

    #[test]
    fn em_recovers_known_m_and_u() {
        // Source records with five candidates each; 70% of them have their match among
        // those. Four attributes with known m and u, some values missing. EM starts from
        // flat guesses and must land within 0.05 of the truth.
        let m_true = [
            vec![0.7, 0.2, 0.1],
            vec![0.85, 0.1, 0.05],
            vec![0.6, 0.25, 0.1, 0.05],
            vec![0.9, 0.1],
        ];
        let u_true = [
            vec![0.05, 0.15, 0.8],
            vec![0.1, 0.2, 0.7],
            vec![0.02, 0.08, 0.3, 0.6],
            vec![0.3, 0.7],
        ];
        let pi_true = 0.7;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut pats = Patterns::new(4);
        let mut groups = Vec::new();
        for _ in 0..10_000 {
            let matched = (rng.next() < pi_true).then(|| (rng.next() * 5.0) as usize);
            let g: Vec<u32> = (0..5)
                .map(|k| {
                    let levels: Vec<u8> = (0..4)
                        .map(|a| {
                            if rng.next() < 0.1 {
                                MISSING
                            } else if matched == Some(k) {
                                rng.pick(&m_true[a])
                            } else {
                                rng.pick(&u_true[a])
                            }
                        })
                        .collect();
                    pats.add(&levels, 1.0) as u32
                })
                .collect();
            groups.push(g);
        }
        let start = |n: usize, first: f64| -> Vec<f64> {
            let rest = (1.0 - first) / (n - 1) as f64;
            (0..n).map(|i| if i == 0 { first } else { rest }).collect()
        };
        let m0: Vec<Vec<f64>> = m_true.iter().map(|m| start(m.len(), 0.6)).collect();
        let u0: Vec<Vec<f64>> = u_true.iter().map(|u| start(u.len(), 0.1)).collect();
        let fit = em(&pats, &groups, &m0, &u0, 0.5, &[false; 4]);
        for a in 0..4 {
            for l in 0..m_true[a].len() {
                assert!(
                    (fit.m[a][l] - m_true[a][l]).abs() < 0.05,
                    "m[{a}][{l}] = {} (true {})",
                    fit.m[a][l],
                    m_true[a][l]
                );
                assert!(
                    (fit.u[a][l] - u_true[a][l]).abs() < 0.05,
                    "u[{a}][{l}] = {} (true {})",
                    fit.u[a][l],
                    u_true[a][l]
                );
            }
        }
        assert!((fit.pi - pi_true).abs() < 0.05, "{}", fit.pi);
        assert!(fit.iterations < EM_MAX_ITERATIONS);
    }

    #[test]
    fn em_is_identified_with_one_attribute() {
        // One attribute, three levels: each source's match (80% have one) is exact or near,
        // its other candidates mostly "different". A model of independent pairs fits these
        // counts as well with every pair a non-match; one to one, from a start such as the
        // comparisons' defaults (matches mostly exact, others mostly different), EM stays
        // with the standouts as matches.
        let mut rng = Rng(42);
        let mut pats = Patterns::new(1);
        let mut groups = Vec::new();
        for _ in 0..5_000 {
            let matched = rng.next() < 0.8;
            let mut g = Vec::new();
            if matched {
                g.push(pats.add(&[rng.pick(&[0.7, 0.25, 0.05])], 1.0) as u32);
            }
            for _ in 0..4 {
                g.push(pats.add(&[rng.pick(&[0.01, 0.09, 0.9])], 1.0) as u32);
            }
            groups.push(g);
        }
        let m0 = vec![vec![0.5, 0.3, 0.2]];
        let u0 = vec![vec![0.1, 0.2, 0.7]];
        let fit = em(&pats, &groups, &m0, &u0, 0.5, &[false]);
        assert!((fit.pi - 0.8).abs() < 0.05, "{}", fit.pi);
        assert!((fit.m[0][0] - 0.7).abs() < 0.05, "{:?}", fit.m);
        assert!((fit.u[0][2] - 0.9).abs() < 0.05, "{:?}", fit.u);
    }

    #[test]
    fn em_posteriors_stay_finite_under_overwhelming_evidence() {
        // Bayes factors of e^±1400 for one pattern against another at the start: the E step
        // works in a frame shifted by the strongest pattern, and a group of only the weak one
        // (which underflows there) is still read as no match, not as a coin toss.
        let mut pats = Patterns::new(2);
        let strong = pats.add(&[0, 0], 1.0) as u32;
        let weak = pats.add(&[1, 1], 1.0) as u32;
        let groups = vec![
            vec![strong, weak],
            vec![weak, weak],
            vec![weak],
            vec![strong],
        ];
        let m0 = vec![vec![1.0 - 1e-300, 1e-300]; 2];
        let u0 = vec![vec![1e-300, 1.0 - 1e-300]; 2];
        let fit = em(&pats, &groups, &m0, &u0, 0.5, &[true, true]);
        assert!(
            fit.pi.is_finite() && (0.0..=1.0).contains(&fit.pi),
            "{}",
            fit.pi
        );
        for a in 0..2 {
            assert!(
                fit.u[a].iter().all(|x| x.is_finite() && *x > 0.0),
                "{:?}",
                fit.u
            );
        }
        for p in fit.pairs.iter().flatten() {
            assert!(p.is_finite() && (0.0..=1.0).contains(p), "{:?}", fit.pairs);
        }
        // The strong pattern is a match, the weak one is not.
        assert!(
            fit.pairs[0][0] > 0.99 && fit.pairs[0][1] < 0.01,
            "{:?}",
            fit.pairs
        );
    }

    #[test]
    fn fixed_attributes_keep_their_m() {
        let mut pats = Patterns::new(2);
        let a = pats.add(&[0, 0], 1.0) as u32;
        let b = pats.add(&[1, 1], 1.0) as u32;
        let groups = vec![vec![a, b], vec![b, b], vec![a]];
        let m0 = vec![vec![0.9, 0.1], vec![0.8, 0.2]];
        let u0 = vec![vec![0.1, 0.9], vec![0.3, 0.7]];
        let fit = em(&pats, &groups, &m0, &u0, 0.5, &[true, false]);
        assert_eq!(fit.m[0], m0[0]);
        assert_ne!(fit.u[0], u0[0]);
        assert_ne!(fit.m[1], m0[1]);
        assert_eq!(fit.pairs[0].len(), 2);
    }

    #[test]
    fn u_takes_the_matches_out_and_keeps_rare_levels_from_the_candidates() {
        // 1,000 × 1,000 pairs; 1,000 random pairs drawn: 990 different, 10 at level 1, none
        // exact. The candidates hold 900 exact pairs, 800 of them matches.
        let u = estimate_u(
            &[0.0, 10.0, 990.0],
            1000.0,
            1e6,
            &[900.0, 2000.0, 5000.0],
            &[800.0, 50.0, 10.0],
            &[1e-5, 1e-4, 0.99989],
        );
        let non_exact = 100.0 + U_PRIOR * 1e-5;
        // Ten random pairs at level 1 stand for 10,000 pairs, shrunk toward the candidates'
        // 2,000 by 10 / (10 + RANDOM_SHRINK).
        let level_1 = 2000.0 + 8000.0 * 10.0 / (10.0 + RANDOM_SHRINK);
        let level_2 = 5000.0 + 985_000.0 * 990.0 / (990.0 + RANDOM_SHRINK);
        let sum =
            non_exact + (level_1 - 50.0 + U_PRIOR * 1e-4) + (level_2 - 10.0 + U_PRIOR * 0.99989);
        assert!((u[0] - non_exact / sum).abs() < 1e-12, "{u:?}");
        assert!(u[0] < u[1] && u[1] < u[2]);
    }

    #[test]
    fn term_frequency_makes_a_rare_value_stronger_than_a_common_one() {
        // `smith` 500 times, `zabriskie` twice, among 10,000 records.
        let counts: HashMap<u64, u32> = [(1, 500), (2, 2), (3, 40)].into_iter().collect();
        let mut tf = Tf::new(counts, 10_000);
        tf.set_reference(&[(1, 5.0), (2, 1.0), (3, 20.0)]);
        let mut a = AttrModel::new(Comparison::PersonPart);
        a.tf = Some(tf);
        let common = a.weight_tf(0, Some(1));
        let rare = a.weight_tf(0, Some(2));
        assert!(
            rare > a.weight(0) && a.weight(0) > common,
            "{rare} {common}"
        );
        // Never below the next level.
        assert!(common >= a.weight(1).max(0.0).min(a.weight(0)));
    }

    #[test]
    fn a_common_name_stays_a_tie_above_itself_without_legal_form() {
        // `murazik` is held by many records: an exact `Murazik Ltd` and `Murazik` against
        // `Murazik LLC` (level 1) both agree on it and are weakened alike.
        let counts: HashMap<u64, u32> = [(1, 50), (2, 1)].into_iter().collect();
        let mut tf = Tf::new(counts, 1_000);
        tf.set_reference(&[(1, 1.0), (2, 1.0)]);
        let mut a = AttrModel::new(Comparison::Name);
        a.legal_forms = true;
        // A fit that put the exact name barely above the one without legal form.
        a.u[0] = a.m[0] / 2f64.powf(20.2);
        a.u[1] = a.m[1] / 2f64.powf(20.0);
        a.make_monotone();
        assert!(a.weight(0) >= a.weight(1) + TIE_BITS - 1e-9);
        a.tf = Some(tf);
        let (exact, bare) = (a.weight_tf(0, Some(1)), a.weight_tf(1, Some(1)));
        assert!(exact < a.weight(0) && bare < a.weight(1), "{exact} {bare}");
        assert!(exact - bare >= TIE_BITS - 1e-9, "{exact} {bare}");
        assert!(bare >= a.weight(2).max(0.0) - 1e-9);
        // A rare value raises both.
        assert!(a.weight_tf(1, Some(2)) > a.weight(1));
        // A title or a person's name has no legal form: its level 1 is left alone.
        a.legal_forms = false;
        assert_eq!(a.weight_tf(1, Some(1)), a.weight(1));
    }

    #[test]
    fn probability_and_weight_are_inverses() {
        for p in [0.01, 0.5, 0.8, 0.92, 0.999] {
            assert!((probability(weight_of(p)) - p).abs() < 1e-12);
        }
        assert_eq!(probability(0.0), 0.5);
    }
}
