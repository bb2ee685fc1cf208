//! The candidate index (blocking): TF-IDF over the character 3-grams and 4-grams of the
//! compared text of every candidate, queried for the top k by cosine similarity. Never all
//! pairs: a query walks the posting lists of its rarest grams only, within a budget, then
//! re-scores the best partial hits exactly.
//!
//! Why both sizes: 3-grams survive typos best and carry small data sets; at a million names
//! most 3-grams are common, and the rarest grams of a query, walked first, are then 4-grams,
//! which keep the walk short (measured in BENCHMARKS.md, "Matching").
//!
//! Texts are [`fold`](super::normalize::fold)ed, so a gram is three or four symbols of a
//! 38-letter alphabet (space, `a`-`z`, `0`-`9`, other).

/// Symbols of the gram alphabet.
const ALPHABET: usize = 38;
/// Number of distinct 3-grams.
const GRAMS3: usize = ALPHABET * ALPHABET * ALPHABET;
/// Number of distinct grams: 3-grams, then 4-grams.
pub const GRAMS: usize = GRAMS3 + GRAMS3 * ALPHABET;

/// How many postings a query may visit before it stops taking rarer grams. At a million
/// candidates a common gram has tens of thousands of postings; the rare ones decide the top k.
pub const POSTING_BUDGET: usize = 3_000;
/// The rarest grams a query always walks, budget or not.
pub const MIN_GRAMS: usize = 4;
/// How many partial hits are re-scored exactly.
pub const RESCORE: usize = 16;

fn symbol(b: u8) -> usize {
    match b {
        b' ' => 0,
        b'a'..=b'z' => 1 + (b - b'a') as usize,
        b'0'..=b'9' => 27 + (b - b'0') as usize,
        _ => 37,
    }
}

/// The 3-grams and 4-grams of ` text ` (padded with one space each side), sorted, with their
/// counts.
pub fn grams(text: &str, out: &mut Vec<(u32, u16)>) {
    out.clear();
    let t = text.trim();
    if t.is_empty() {
        return;
    }
    let mut ids: Vec<u32> = Vec::with_capacity(2 * t.len() + 2);
    let bytes: Vec<usize> = std::iter::once(0)
        .chain(t.bytes().map(symbol))
        .chain(std::iter::once(0))
        .collect();
    for w in bytes.windows(3) {
        ids.push((w[0] * ALPHABET * ALPHABET + w[1] * ALPHABET + w[2]) as u32);
    }
    for w in bytes.windows(4) {
        ids.push((GRAMS3 + ((w[0] * ALPHABET + w[1]) * ALPHABET + w[2]) * ALPHABET + w[3]) as u32);
    }
    ids.sort_unstable();
    for id in ids {
        match out.last_mut() {
            Some((g, n)) if *g == id => *n += 1,
            _ => out.push((id, 1)),
        }
    }
}

/// A TF-IDF index over candidate texts. Candidates are numbered by their position in the slice
/// given to [`GramIndex::build`].
pub struct GramIndex {
    docs: usize,
    /// `slot[g]`: 1 + the place of gram `g` among the grams some document holds, 0 for the
    /// others. Only this table spans the two million possible grams; it is written and read
    /// where documents and queries have grams, so a small index touches little of it (three
    /// dense tables the size of this one, walked whole, were a small data set's build time).
    slot: Vec<u32>,
    /// By slot: the gram's idf.
    idf: Vec<f32>,
    /// Postings by slot, `post_off[s]..post_off[s + 1]` in `post`: the document and its
    /// weight side by side, so that a query's walk reads one stream, not two.
    post_off: Vec<u32>,
    post: Vec<(u32, f32)>,
    /// Each document's vector, by the slots of its grams in the order of the grams:
    /// `doc_off[d]..doc_off[d + 1]`.
    doc_off: Vec<u32>,
    doc_slot: Vec<u32>,
    doc_w: Vec<f32>,
}

/// Reusable memory of one querying thread.
pub struct Scratch {
    acc: Vec<f32>,
    /// The documents a query touched, `touched[..n_touched]`: as long as the index, so that
    /// the walk appends without a branch (whether a document is new is a coin toss per
    /// posting, and the mispredicted branch cost as much as the posting's memory).
    touched: Vec<u32>,
    n_touched: usize,
    grams: Vec<(u32, u16)>,
    /// The query's weights by slot (0 where it has no gram) while its hits are re-scored: a
    /// document's cosine is then one pass over its own grams, where merging two sorted lists
    /// mispredicted a branch at every step.
    qw: Vec<f32>,
    /// Per candidate, how many of a query's token keys it shares (the token pass of
    /// blocking), and which candidates were counted: counting in place costs what the keys'
    /// blocks hold, where sorting them cost most of the matching at a million.
    pub(crate) shared: Vec<u16>,
    pub(crate) counted: Vec<u32>,
}

/// The position of the last of `hits` in the order `by`.
fn worst_of(
    hits: &[(u32, f32)],
    by: impl Fn(&(u32, f32), &(u32, f32)) -> std::cmp::Ordering,
) -> usize {
    let mut w = 0;
    for i in 1..hits.len() {
        if by(&hits[i], &hits[w]).is_gt() {
            w = i;
        }
    }
    w
}

impl GramIndex {
    /// Builds the index; `texts[i]` is candidate `i`'s text (empty: never found).
    pub fn build<S: AsRef<str> + Sync>(texts: &[S]) -> GramIndex {
        use rayon::prelude::*;
        let per_doc: Vec<Vec<(u32, u16)>> = texts
            .par_iter()
            .map(|t| {
                let mut g = Vec::new();
                grams(t.as_ref(), &mut g);
                g
            })
            .collect();
        // Slots in the order grams are first seen; each slot's document count.
        let mut slot = vec![0u32; GRAMS];
        let mut df: Vec<u32> = Vec::new();
        for g in &per_doc {
            for &(id, _) in g {
                let s = &mut slot[id as usize];
                if *s == 0 {
                    df.push(0);
                    *s = df.len() as u32;
                }
                df[*s as usize - 1] += 1;
            }
        }
        let n = texts.len();
        let idf: Vec<f32> = df
            .iter()
            .map(|&d| (((n as f64 + 1.0) / (d as f64 + 1.0)).ln() + 1.0) as f32)
            .collect();
        let total: usize = per_doc.iter().map(Vec::len).sum();
        assert!(
            total < u32::MAX as usize,
            "the candidate index holds at most 4 billion grams"
        );
        let mut doc_off = Vec::with_capacity(n + 1);
        let mut doc_slot = Vec::with_capacity(total);
        let mut doc_w = Vec::with_capacity(total);
        doc_off.push(0u32);
        for g in &per_doc {
            let start = doc_slot.len();
            let mut norm = 0f32;
            for &(id, tf) in g {
                let at = slot[id as usize] - 1;
                let w = (1.0 + (tf as f32).ln()) * idf[at as usize];
                doc_slot.push(at);
                doc_w.push(w);
                norm += w * w;
            }
            let norm = norm.sqrt();
            if norm > 0.0 {
                for w in &mut doc_w[start..] {
                    *w /= norm;
                }
            }
            doc_off.push(doc_slot.len() as u32);
        }
        drop(per_doc);
        let mut post_off = vec![0u32; df.len() + 1];
        for (s, &d) in df.iter().enumerate() {
            post_off[s + 1] = post_off[s] + d;
        }
        let mut fill = post_off.clone();
        let mut post = vec![(0u32, 0f32); total];
        for d in 0..n {
            let (s, e) = (doc_off[d] as usize, doc_off[d + 1] as usize);
            for i in s..e {
                let at = &mut fill[doc_slot[i] as usize];
                post[*at as usize] = (d as u32, doc_w[i]);
                *at += 1;
            }
        }
        GramIndex {
            docs: n,
            slot,
            idf,
            post_off,
            post,
            doc_off,
            doc_slot,
            doc_w,
        }
    }

    pub fn len(&self) -> usize {
        self.docs
    }

    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }

    pub fn scratch(&self) -> Scratch {
        Scratch {
            acc: vec![0.0; self.docs],
            touched: vec![0; self.docs + 1],
            n_touched: 0,
            grams: Vec::new(),
            qw: vec![0.0; self.idf.len()],
            shared: vec![0; self.docs],
            counted: Vec::new(),
        }
    }

    /// The slot of a gram some document holds.
    fn slot_of(&self, g: u32) -> Option<usize> {
        match self.slot[g as usize] {
            0 => None,
            s => Some(s as usize - 1),
        }
    }

    /// A slot's postings.
    fn postings(&self, s: usize) -> &[(u32, f32)] {
        &self.post[self.post_off[s] as usize..self.post_off[s + 1] as usize]
    }

    /// The `k` candidates most similar to `text` by cosine, best first (ties by position),
    /// each with its cosine; only those allowed by `keep`.
    pub fn query(
        &self,
        text: &str,
        k: usize,
        scratch: &mut Scratch,
        keep: impl Fn(u32) -> bool,
    ) -> Vec<(u32, f32)> {
        self.query_with(text, k, scratch, keep, &[])
    }

    /// As [`GramIndex::query`], with `extra` candidates (found by another pass of blocking)
    /// scored exactly beside the index's own and ranked with them.
    pub fn query_with(
        &self,
        text: &str,
        k: usize,
        scratch: &mut Scratch,
        keep: impl Fn(u32) -> bool,
        extra: &[u32],
    ) -> Vec<(u32, f32)> {
        grams(text, &mut scratch.grams);
        if scratch.grams.is_empty() || self.docs == 0 || k == 0 {
            return Vec::new();
        }
        // The query's own vector, normalized; grams unknown to the index count in the norm.
        let mut q: Vec<(u32, f32)> = scratch
            .grams
            .iter()
            .map(|&(g, tf)| {
                let idf = match self.slot_of(g) {
                    None => ((self.docs as f64 + 1.0).ln() + 1.0) as f32,
                    Some(s) => self.idf[s],
                };
                (g, (1.0 + (tf as f32).ln()) * idf)
            })
            .collect();
        let norm = q.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        for (_, w) in &mut q {
            *w /= norm;
        }
        // Rarest grams first; stop when the budget is spent.
        let mut order: Vec<(usize, u32, usize, f32)> = q
            .iter()
            .filter_map(|&(g, w)| {
                let s = self.slot_of(g)?;
                Some((self.postings(s).len(), g, s, w))
            })
            .collect();
        order.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
        let mut visited = 0usize;
        for (used, &(df, _, slot, w)) in order.iter().enumerate() {
            if used >= MIN_GRAMS && visited + df > POSTING_BUDGET {
                break;
            }
            visited += df;
            // Slices, not the vectors: their lengths and addresses stay in registers through
            // the walk (through `&mut Vec` they were loaded again at every posting).
            let acc: &mut [f32] = &mut scratch.acc;
            let touched: &mut [u32] = &mut scratch.touched[..=self.docs];
            let mut n = scratch.n_touched;
            for &(d, pw) in self.postings(slot) {
                let a = &mut acc[d as usize];
                // Weights are positive, so a document is new only while its sum is 0; `n`
                // stays within the buffer even if a sum ever rounded to 0.
                touched[n] = d;
                n = (n + usize::from(*a == 0.0)).min(self.docs);
                *a += w * pw;
            }
            scratch.n_touched = n;
        }
        // The best partial hits, re-scored exactly.
        let n = std::mem::take(&mut scratch.n_touched);
        let acc = &mut scratch.acc;
        let by_score = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
        // The RESCORE best in one pass over the touched (a thousand and more at 25,000
        // candidates), each compared with the worst kept: collecting them all to select from
        // cost as much as the walk. The order is total, so the set is the one a sort gives.
        let mut hits: Vec<(u32, f32)> = Vec::with_capacity(RESCORE + extra.len());
        let mut worst = 0;
        for &d in &scratch.touched[..n] {
            let h = (d, std::mem::take(&mut acc[d as usize]));
            if !keep(d) {
                continue;
            }
            if hits.len() < RESCORE {
                hits.push(h);
                if hits.len() == RESCORE {
                    worst = worst_of(&hits, by_score);
                }
            } else if by_score(&h, &hits[worst]).is_lt() {
                hits[worst] = h;
                worst = worst_of(&hits, by_score);
            }
        }
        for &d in extra {
            if (d as usize) < self.docs && keep(d) && !hits.iter().any(|h| h.0 == d) {
                hits.push((d, 0.0));
            }
        }
        let slots: Vec<(usize, f32)> = q
            .iter()
            .filter_map(|&(g, w)| Some((self.slot_of(g)?, w)))
            .collect();
        for &(s, w) in &slots {
            scratch.qw[s] = w;
        }
        for h in &mut hits {
            h.1 = self.cosine(&scratch.qw, h.0);
        }
        for &(s, _) in &slots {
            scratch.qw[s] = 0.0;
        }
        hits.sort_unstable_by(by_score);
        hits.truncate(k);
        // The vector held every partial hit; what a caller keeps (and collects from it in
        // place) should not hold that memory.
        hits.shrink_to_fit();
        hits
    }

    /// Cosine of a normalized query vector (`qw`: its weights by slot) with document `d`.
    /// The terms are added in the order of the document's grams, as a merge of the two
    /// sorted vectors adds them, so the figure is the same to the last bit.
    fn cosine(&self, qw: &[f32], d: u32) -> f32 {
        let (s, e) = (
            self.doc_off[d as usize] as usize,
            self.doc_off[d as usize + 1] as usize,
        );
        self.doc_slot[s..e]
            .iter()
            .zip(&self.doc_w[s..e])
            .fold(0f32, |dot, (&slot, &w)| dot + qw[slot as usize] * w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grams_are_padded_and_counted() {
        let mut g = Vec::new();
        grams("aaaa", &mut g);
        // ` aa`, `aaa` twice, `aa `; ` aaa`, `aaaa`, `aaa `.
        assert_eq!(g.len(), 6);
        assert_eq!(g.iter().map(|x| x.1 as usize).sum::<usize>(), 7);
        grams("", &mut g);
        assert!(g.is_empty());
    }

    #[test]
    fn finds_the_most_similar_first() {
        let texts = [
            "acme robotics",
            "zenith foods",
            "acme robotic",
            "northwind traders",
            "",
        ];
        let idx = GramIndex::build(&texts);
        let mut s = idx.scratch();
        let top = idx.query("acme robotics", 3, &mut s, |_| true);
        assert_eq!(top[0].0, 0);
        assert!((top[0].1 - 1.0).abs() < 1e-5);
        assert_eq!(top[1].0, 2);
        assert!(top.iter().all(|&(d, _)| d != 4));
        // The filter is applied, and the scratch is clean for the next query.
        let top = idx.query("acme robotics", 3, &mut s, |d| d != 0);
        assert_eq!(top[0].0, 2);
        let top = idx.query("northwind", 1, &mut s, |_| true);
        assert_eq!(top[0].0, 3);
        assert!(idx.query("", 3, &mut s, |_| true).is_empty());
    }
}
