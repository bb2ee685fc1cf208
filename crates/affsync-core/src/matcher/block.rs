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

/// The largest block kept for `n` candidates: at least 16, growing with the square root of
/// `n` (40 at 10,000; 126 at 100,000; 400 at a million).
pub fn cap_for(n: usize) -> usize {
    (((n as f64).sqrt() * 0.4).ceil() as usize).max(16)
}

/// The average block a key puts a candidate in, above which an attribute is not selective.
pub const SELECTIVE_MEAN_BLOCK: f64 = 20.0;

/// A key's hash, in 32 bits: a rare collision only adds an unrelated candidate, which the
/// comparison then rejects, and halves the memory of the blocks. FNV-1a with a final mix (the
/// top bits pick a [`KeyBlocks`] bucket): a source's twenty-odd keys and a million candidates'
/// are hashed on every run, and keys are no secret to defend against flooding, so the
/// standard library's SipHash paid for nothing.
pub fn key(s: &str) -> u32 {
    let mut x: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        x ^= u64::from(b);
        x = x.wrapping_mul(0x0000_0100_0000_01b3);
    }
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
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
    /// `starts[b]`: the first pair whose key's top bits are `b`, and the pairs' count last. A
    /// lookup searches its bucket of a few pairs, not the whole list: a binary search over
    /// millions of pairs missed the cache at nearly every step (a sixth of blocking's time).
    starts: Vec<u32>,
    /// The key's top `32 - shift` bits are its bucket.
    shift: u32,
    /// Σ block² / candidates: the average block a candidate is in, before the cap.
    mean_block: f64,
}

/// Pairs per bucket of [`KeyBlocks`], on average: the table costs half a byte per pair.
const PAIRS_PER_BUCKET: usize = 8;

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
        let bits = (pairs.len() / PAIRS_PER_BUCKET).max(1).ilog2().min(28);
        let shift = 32 - bits;
        let mut starts = vec![0u32; (1usize << bits) + 1];
        let bucket = |k: u32| k.checked_shr(shift).unwrap_or(0) as usize;
        for p in &pairs {
            starts[bucket(p.0) + 1] += 1;
        }
        for b in 1..starts.len() {
            starts[b] += starts[b - 1];
        }
        KeyBlocks {
            pairs,
            starts,
            shift,
            mean_block: if n > 0.0 { sq / n } else { 0.0 },
        }
    }

    /// The candidates holding `key` (none when its block was too large), in order.
    pub fn get(&self, key: u32) -> impl Iterator<Item = u32> + '_ {
        let bucket: &[(u32, u32)] = match self.starts.len() {
            0 => &[],
            _ => {
                // `shift` is 32 when there is one bucket: every key is in it.
                let b = key.checked_shr(self.shift).unwrap_or(0) as usize;
                &self.pairs[self.starts[b] as usize..self.starts[b + 1] as usize]
            }
        };
        let start = bucket.partition_point(|p| p.0 < key);
        bucket[start..]
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
        // Keys across the whole range, in many buckets: each found, none invented.
        let pairs: Vec<(u32, u32)> = (0..5000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761), i))
            .chain([(u32::MAX, 7), (0, 8)])
            .collect();
        let big = KeyBlocks::build(pairs.clone(), 5);
        assert!(big.starts.len() > 2);
        for &(k, c) in &pairs {
            assert!(big.get(k).any(|d| d == c), "{k}");
        }
        assert!(big.get(12345).next().is_none());
        assert!(KeyBlocks::default().get(1).next().is_none());
        // (10² + 2² + 1²) / 13 candidates in blocks.
        assert!((b.mean_block() - 105.0 / 13.0).abs() < 1e-9);
        assert_eq!(cap_for(10_000), 40);
        assert_eq!(cap_for(10), 16);
    }
}
