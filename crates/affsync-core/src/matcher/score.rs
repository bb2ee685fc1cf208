//! Similarity scores between normalized values, each from 0 (nothing alike) to 1 (the same).
//! Pure functions over the forms of [`super::normalize`].

use super::normalize::{OrgName, PersonName};

/// Similarity of two [`fold`](super::normalize::fold)ed texts.
///
/// Two views of the pair, the better one counts: the texts as written, and their words sorted
/// (`group quitzon` ~ `quitzon group`, slightly discounted). Each view blends Jaro-Winkler
/// (forgiving, rewards a shared start) with a Levenshtein ratio over the letters without spaces
/// (strict, blind to spacing: `schumm plc` ~ `schummplc`).
pub fn text_sim(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    let direct = blend(a, b);
    // Words in another order is the only thing the sorted view can find.
    if direct >= 0.98 || !(a.contains(' ') || b.contains(' ')) {
        return direct;
    }
    let sa = sorted_words(a);
    let sb = sorted_words(b);
    if sa == a && sb == b {
        return direct;
    }
    direct.max(0.98 * blend(&sa, &sb))
}

fn blend(a: &str, b: &str) -> f64 {
    let jw = jaro_winkler(a.as_bytes(), b.as_bytes());
    let lev = lev_ratio_without_spaces(a.as_bytes(), b.as_bytes());
    0.5 * jw + 0.5 * lev
}

fn sorted_words(s: &str) -> String {
    let mut w: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
    w.sort_unstable();
    w.join(" ")
}

/// Jaro-Winkler similarity over bytes (the folded forms are ASCII): the standard figure
/// (prefix weight 0.1, prefix up to four, boosted above 0.7), as `strsim::jaro_winkler` gives
/// it, computed by `rapidfuzz`'s bit-parallel implementation (2.7 times faster than the
/// allocation-free loop it replaced on 400,000 pairs of the bench sets' names, and the same
/// figure on every pair).
pub fn jaro_winkler(a: &[u8], b: &[u8]) -> f64 {
    rapidfuzz::distance::jaro_winkler::similarity(a.iter().copied(), b.iter().copied())
}

/// 1 - edit distance / longer length, over the bytes that are not spaces.
fn lev_ratio_without_spaces(a: &[u8], b: &[u8]) -> f64 {
    fn no_space(s: &[u8]) -> impl DoubleEndedIterator<Item = u8> + Clone + '_ {
        s.iter().copied().filter(|&c| c != b' ')
    }
    let longest = no_space(a).count().max(no_space(b).count());
    if longest == 0 {
        return 1.0;
    }
    1.0 - levenshtein(no_space(a), no_space(b)) as f64 / longest as f64
}

/// Edit distance (`rapidfuzz`'s bit-parallel Levenshtein).
pub fn levenshtein<A, B>(a: A, b: B) -> usize
where
    A: IntoIterator<Item = u8>,
    A::IntoIter: DoubleEndedIterator + Clone,
    B: IntoIterator<Item = u8>,
    B::IntoIter: DoubleEndedIterator + Clone,
{
    rapidfuzz::distance::levenshtein::distance(a, b)
}

/// Whether two texts are at most `max` edits apart; stops counting past `max`.
pub fn within_edits(a: &[u8], b: &[u8], max: usize) -> bool {
    let args = rapidfuzz::distance::levenshtein::Args::default().score_cutoff(max);
    rapidfuzz::distance::levenshtein::distance_with_args(
        a.iter().copied(),
        b.iter().copied(),
        &args,
    )
    .is_some()
}

/// Organization names: the mean of the better of both forms and the raw form, so that a
/// changed legal form costs a little (`Acme Inc` ~ `Acme GmbH`, about 0.9) and a candidate with
/// the same legal form ranks clearly first.
pub fn org_sim(a: &OrgName, b: &OrgName) -> f64 {
    if a.raw.is_empty() || b.raw.is_empty() {
        return 0.0;
    }
    let raw = text_sim(&a.raw, &b.raw);
    let norm = if a.norm == a.raw && b.norm == b.raw {
        raw
    } else {
        text_sim(&a.norm, &b.norm)
    };
    0.5 * raw.max(norm) + 0.5 * raw
}

/// Whether every word of a given name is a single letter (`j`, `j r`).
fn is_initials(s: &str) -> bool {
    !s.is_empty() && s.split(' ').all(|w| w.len() == 1)
}

/// First names (or any name part) with initials: `j` ~ `john` is 0.9, `j` ~ `mary` is 0.
pub fn part_sim(a: &str, b: &str) -> f64 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    if a == b {
        return 1.0;
    }
    if is_initials(a) || is_initials(b) {
        return if a.as_bytes()[0] == b.as_bytes()[0] {
            0.9
        } else {
            0.0
        };
    }
    text_sim(a, b)
}

/// Full person names: last names weigh more than first names; the names swapped (a first name
/// written as the last) are tried at a small discount.
pub fn person_sim(a: &PersonName, b: &PersonName) -> f64 {
    let both = |x: &PersonName| !x.first.is_empty() && !x.last.is_empty();
    if !both(a) || !both(b) {
        return text_sim(&a.full(), &b.full());
    }
    let straight = 0.6 * text_sim(&a.last, &b.last) + 0.4 * part_sim(&a.first, &b.first);
    let swapped = 0.6 * text_sim(&a.last, &b.first) + 0.4 * part_sim(&a.first, &b.last);
    straight.max(0.95 * swapped)
}

/// Domain keys: the same key is 1, the same name under another suffix (`acme.com` ~ `acme.io`)
/// 0.7, anything else 0.
pub fn domain_sim(a: &[String], b: &[String]) -> f64 {
    let mut best: f64 = 0.0;
    for x in a {
        for y in b {
            if x == y {
                return 1.0;
            }
            let lx = x.split('.').next().unwrap_or(x);
            let ly = y.split('.').next().unwrap_or(y);
            if lx == ly && !x.contains('/') && !y.contains('/') {
                best = best.max(0.7);
            }
        }
    }
    best
}

/// Email keys: the same address is 1; otherwise the addresses are compared as text, discounted
/// (`robert25@smith.net` ~ `roberta25@smith.net` is likely, not certain).
pub fn email_sim(a: &[String], b: &[String]) -> f64 {
    let mut best: f64 = 0.0;
    for x in a {
        for y in b {
            if x == y {
                return 1.0;
            }
            best = best.max(0.9 * text_sim(&super::normalize::fold(x), &super::normalize::fold(y)));
        }
    }
    best
}

/// Whether a folded value is mostly digits (a phone number, a date, a registration number).
pub fn is_numeric(s: &str) -> bool {
    let digits = s.bytes().filter(u8::is_ascii_digit).count();
    digits > 0 && digits * 2 >= s.bytes().filter(|&b| b != b' ').count()
}

/// A folded field value. Values made mostly of digits are identifiers, where one digit off
/// is another phone number or another day: their digits are compared, each edit costing a
/// third of the length (`310 246 1501` ~ `310 246 1502` is 0.7).
pub fn value_sim(a: &str, b: &str) -> f64 {
    if a == b && !a.is_empty() {
        return 1.0;
    }
    if is_numeric(a) && is_numeric(b) {
        let da: Vec<u8> = a.bytes().filter(u8::is_ascii_digit).collect();
        let db: Vec<u8> = b.bytes().filter(u8::is_ascii_digit).collect();
        let d = levenshtein(da.iter().copied(), db.iter().copied()) as f64;
        return (1.0 - 3.0 * d / da.len().max(db.len()) as f64).max(0.0);
    }
    text_sim(a, b)
}

/// Where the combined similarity crosses the default thresholds: a raw similarity of
/// [`RAW_ACCEPT`] (two typos in a twelve-letter name, a legal form changed) is a score of 0.92,
/// [`RAW_REVIEW`] is 0.80.
pub const RAW_ACCEPT: f64 = 0.80;
pub const RAW_REVIEW: f64 = 0.72;

/// The score of a combined similarity: piecewise linear and increasing, through (0, 0),
/// ([`RAW_REVIEW`], 0.80), ([`RAW_ACCEPT`], 0.92) and (1, 1).
///
/// Similarities of names bunch up: unrelated names rarely reach 0.72, names with a typo or two
/// rarely fall below 0.80. The score spreads that band so that `accept = 0.92` and
/// `review = 0.80` read as confidence (measured on the benchmark data sets; see BENCHMARKS.md).
pub fn calibrate(sim: f64) -> f64 {
    let sim = sim.clamp(0.0, 1.0);
    if sim >= RAW_ACCEPT {
        0.92 + (sim - RAW_ACCEPT) / (1.0 - RAW_ACCEPT) * 0.08
    } else if sim >= RAW_REVIEW {
        0.80 + (sim - RAW_REVIEW) / (RAW_ACCEPT - RAW_REVIEW) * 0.12
    } else {
        sim / RAW_REVIEW * 0.80
    }
}

/// Several values on either side (a multi-valued field): the best pair counts.
pub fn texts_sim(a: &[String], b: &[String]) -> f64 {
    let mut best: f64 = 0.0;
    for x in a {
        for y in b {
            best = best.max(value_sim(x, y));
            if best >= 1.0 {
                return 1.0;
            }
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::super::normalize::{org_name, person_name};
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn levenshtein_table() {
        let cases = [
            ("", "", 0),
            ("abc", "", 3),
            ("kitten", "sitting", 3),
            ("acme", "acme", 0),
            ("ab", "ba", 2),
        ];
        for (a, b, d) in cases {
            assert_eq!(levenshtein(a.bytes(), b.bytes()), d, "{a} {b}");
            assert!(within_edits(a.as_bytes(), b.as_bytes(), d));
            assert!(d == 0 || !within_edits(a.as_bytes(), b.as_bytes(), d - 1));
        }
    }

    #[test]
    fn jaro_winkler_agrees_with_strsim() {
        let words = [
            "",
            "a",
            "acme",
            "acme inc",
            "acme incorporated",
            "martha",
            "marhta",
            "dwayne",
            "duane",
            "dixon",
            "dicksonx",
            "schumm plc",
            "schummplc",
            "feeney aufderhar and kirlin",
        ];
        for a in words {
            for b in words {
                let ours = jaro_winkler(a.as_bytes(), b.as_bytes());
                let theirs = strsim::jaro_winkler(a, b);
                assert!(
                    (ours - theirs).abs() < 1e-12,
                    "{a:?} {b:?}: {ours} {theirs}"
                );
            }
        }
        let long = "x".repeat(200);
        assert!((jaro_winkler(long.as_bytes(), long.as_bytes()) - 1.0).abs() < 1e-12);
        assert_eq!(jaro_winkler(b"", b""), 1.0);
    }

    #[test]
    fn text_sim_orders_pairs_sensibly() {
        assert!(close(text_sim("acme", "acme"), 1.0));
        assert_eq!(text_sim("", "acme"), 0.0);
        // Spacing only.
        assert!(text_sim("schumm plc", "schummplc") > 0.97);
        // Word order.
        assert!(text_sim("group quitzon", "quitzon group") > 0.95);
        // One typo in a long name beats a different name.
        let typo = text_sim("feeney aufderhar and kirlin", "feeney aufderhar and kirlim");
        let other = text_sim("feeney aufderhar and kirlin", "feeney bogan and kirlin");
        assert!(typo > 0.95 && other < typo, "{typo} {other}");
        assert!(text_sim("ratke", "schmidt") < 0.6);
        // Symmetric.
        assert!(close(
            text_sim("abc def", "def abx"),
            text_sim("def abx", "abc def")
        ));
    }

    #[test]
    fn org_sim_scores_both_forms() {
        let s = |a: &str, b: &str| org_sim(&org_name(a), &org_name(b));
        assert!(close(s("Acme, Inc.", "ACME inc"), 1.0));
        let suffix_changed = s("Acme Inc", "Acme GmbH");
        let suffix_same = s("Acme GmbH", "Acme GmbH");
        assert!(
            suffix_changed > 0.8 && suffix_changed < suffix_same,
            "{suffix_changed}"
        );
        assert!(calibrate(suffix_changed) > 0.92);
        assert!(calibrate(s("Acme Inc", "Acme")) > 0.92);
        assert!(s("Schumm PLC", "SchummPLC") > 0.97);
        assert!(
            s("Ratke Ltd", "Ratke Group") < 0.85,
            "{}",
            s("Ratke Ltd", "Ratke Group")
        );
        assert_eq!(s("", "Acme"), 0.0);
    }

    #[test]
    fn person_sim_handles_initials_and_swaps() {
        let s = |a: &str, b: &str| person_sim(&person_name(a), &person_name(b));
        assert!(close(s("Jane Doe", "Doe, Jane"), 1.0));
        assert!(s("J. Doe", "Jane Doe") > 0.9);
        assert!(s("M. Doe", "Jane Doe") < 0.7);
        assert!(s("Doe Jane", "Jane Doe") > 0.9);
        assert!(close(part_sim("j", "john"), 0.9));
        assert_eq!(part_sim("j", "mary"), 0.0);
    }

    #[test]
    fn numbers_are_compared_digit_by_digit() {
        assert_eq!(value_sim("310 246 1501", "310 246 1501"), 1.0);
        assert!((value_sim("310 246 1501", "310 246 1502") - 0.7).abs() < 1e-9);
        assert_eq!(value_sim("310 246 1501", "212 555 0100"), 0.0);
        assert!(value_sim("1971 06 24", "1971 05 24") < 0.7);
        // Text stays text.
        assert!(value_sim("la grotta", "la grota") > 0.9);
    }

    #[test]
    fn calibrate_is_increasing_through_its_knots() {
        assert_eq!(calibrate(0.0), 0.0);
        assert!((calibrate(RAW_REVIEW) - 0.80).abs() < 1e-12);
        assert!((calibrate(RAW_ACCEPT) - 0.92).abs() < 1e-12);
        assert!((calibrate(1.0) - 1.0).abs() < 1e-12);
        let mut last = -1.0;
        for i in 0..=100 {
            let c = calibrate(i as f64 / 100.0);
            assert!(c > last, "{i}");
            last = c;
        }
    }

    #[test]
    fn domain_and_email_sims() {
        let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            domain_sim(&v(&["acme.com"]), &v(&["x.io", "acme.com"])),
            1.0
        );
        assert_eq!(domain_sim(&v(&["acme.com"]), &v(&["acme.io"])), 0.7);
        assert_eq!(domain_sim(&v(&["acme.com"]), &v(&["zenith.com"])), 0.0);
        assert_eq!(email_sim(&v(&["jo@acme.com"]), &v(&["jo@acme.com"])), 1.0);
        let near = email_sim(&v(&["robert25@smith.net"]), &v(&["roberta25@smith.net"]));
        assert!(near > 0.8 && near < 0.95, "{near}");
    }
}
