//! Exact blocks: candidates by a key they hold, for the passes of blocking beside the gram
//! index ([`super::index`]). The index walks its rarest grams within a budget; as the data
//! grow, the grams of a name get common and a typo'd name's true record can fall outside that
//! budget. Two exact passes keep it in reach:
//!
//! - **Name tokens**: each word of four letters or more of a candidate's compared text, and
//!   each of its one-letter deletions (a word with one typo, a letter changed, added, dropped
//!   or two swapped, shares a deletion with the word: `kraxbel`, `kraxbol` share `kraxbl`).
//!   The candidates found are ranked with the others by the index's cosine.
//! - **Selective attributes**: a date, a phone, a postcode, an id, an email, a domain whose
//!   values are rare enough (a block of a few records on average): the candidates that share
//!   the source's value exactly are compared whatever their names.
//!
//! Blocks larger than a cap set by the data (see [`cap_for`]) are dropped: a key that many
//! records share says little, and comparing them all would cost what blocking saves.

use std::hash::{Hash, Hasher};

/// The largest block kept for `n` candidates: at least 16, growing with the square root of
/// `n` (40 at 10,000; 126 at 100,000; 400 at a million).
pub fn cap_for(n: usize) -> usize {
    (((n as f64).sqrt() * 0.4).ceil() as usize).max(16)
}

/// The average block a key puts a candidate in, above which an attribute is not selective.
pub const SELECTIVE_MEAN_BLOCK: f64 = 20.0;

/// A key's hash, in 32 bits: a rare collision only adds an unrelated candidate, which the
/// comparison then rejects, and halves the memory of the blocks.
pub fn key(s: &str) -> u32 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    let x = h.finish();
    ((x >> 32) as u32) ^ (x as u32)
}

/// The token keys of a text: its words of four letters or more, and the one-letter deletions
/// of those of five or more, except words that `common` says too many candidates hold (their
/// blocks would be dropped anyway); sorted, without repeats.
pub fn token_keys(text: &str, common: impl Fn(u32) -> bool, out: &mut Vec<u32>) {
    out.clear();
    let mut buf = String::new();
    for w in text.split(' ').filter(|w| w.len() >= 4) {
        let k = key(w);
        if common(k) {
            continue;
        }
        out.push(k);
        if w.len() >= 5 && w.is_ascii() {
            for i in 0..w.len() {
                buf.clear();
                buf.push_str(&w[..i]);
                buf.push_str(&w[i + 1..]);
                out.push(key(&buf));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
}

/// Candidates by key, compactly: `(key, candidate)` pairs sorted (8 bytes each).
#[derive(Debug, Default)]
pub struct KeyBlocks {
    pairs: Vec<(u32, u32)>,
    /// Σ block² / candidates: the average block a candidate is in, before the cap.
    mean_block: f64,
}

impl KeyBlocks {
    /// Builds the blocks from `(key, candidate)` pairs, dropping blocks of more than `cap`.
    pub fn build(mut pairs: Vec<(u32, u32)>, cap: usize) -> KeyBlocks {
        pairs.sort_unstable();
        pairs.dedup();
        let (mut sq, mut n) = (0.0, 0.0);
        let (mut w, mut i) = (0, 0);
        while i < pairs.len() {
            let k = pairs[i].0;
            let mut j = i;
            while j < pairs.len() && pairs[j].0 == k {
                j += 1;
            }
            let size = (j - i) as f64;
            sq += size * size;
            n += size;
            if j - i <= cap {
                pairs.copy_within(i..j, w);
                w += j - i;
            }
            i = j;
        }
        pairs.truncate(w);
        pairs.shrink_to_fit();
        KeyBlocks {
            pairs,
            mean_block: if n > 0.0 { sq / n } else { 0.0 },
        }
    }

    /// The candidates holding `key` (none when its block was too large), in order.
    pub fn get(&self, key: u32) -> impl Iterator<Item = u32> + '_ {
        let start = self.pairs.partition_point(|p| p.0 < key);
        self.pairs[start..]
            .iter()
            .take_while(move |p| p.0 == key)
            .map(|p| p.1)
    }

    /// The average block a candidate is in (before the cap).
    pub fn mean_block(&self) -> f64 {
        self.mean_block
    }

    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_typo_shares_a_key() {
        let keys = |s: &str| {
            let mut v = Vec::new();
            token_keys(s, |_| false, &mut v);
            v
        };
        let shares = |a: &str, b: &str| {
            let (ka, kb) = (keys(a), keys(b));
            ka.iter().any(|k| kb.binary_search(k).is_ok())
        };
        for (a, b) in [
            ("kraxbel robotics", "kraxbol"),
            ("kraxbel", "krxbel"),
            ("kraxbel", "kraxxbel"),
            ("kraxbel", "karxbel"),
            ("slomfroash audio", "slomfraosh"),
        ] {
            assert!(shares(a, b), "{a} / {b}");
        }
        assert!(!shares("kraxbel", "zenith"));
        // Common words are left out.
        let mut v = Vec::new();
        token_keys("kraxbel robotics", |k| k == key("robotics"), &mut v);
        assert!(!v.contains(&key("robotics")) && v.contains(&key("kraxbel")));
        // Short words are exact only: `acme` and `acne` share nothing.
        assert!(!shares("acme", "acne"));
        assert!(keys("a b c").is_empty());
    }

    #[test]
    fn large_blocks_are_dropped() {
        let pairs: Vec<(u32, u32)> = (0..10)
            .map(|d| (1, d))
            .chain([(2, 3), (2, 4), (3, 5)])
            .collect();
        let b = KeyBlocks::build(pairs, 5);
        let get = |k: u32| b.get(k).collect::<Vec<_>>();
        assert!(get(1).is_empty());
        assert_eq!(get(2), [3, 4]);
        assert_eq!(get(3), [5]);
        assert!(get(9).is_empty());
        // (10² + 2² + 1²) / 13 candidates in blocks.
        assert!((b.mean_block() - 105.0 / 13.0).abs() < 1e-9);
        assert_eq!(cap_for(10_000), 40);
        assert_eq!(cap_for(10), 16);
    }
}
