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
    if direct >= 0.999 || !(a.contains(' ') || b.contains(' ')) {
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
    let jw = strsim::jaro_winkler(a, b);
    let lev = lev_ratio_without_spaces(a, b);
    0.5 * jw + 0.5 * lev
}

fn sorted_words(s: &str) -> String {
    let mut w: Vec<&str> = s.split(' ').filter(|w| !w.is_empty()).collect();
    w.sort_unstable();
    w.join(" ")
}

/// 1 - edit distance / longer length, over the bytes that are not spaces.
fn lev_ratio_without_spaces(a: &str, b: &str) -> f64 {
    let a: Vec<u8> = a.bytes().filter(|&c| c != b' ').collect();
    let b: Vec<u8> = b.bytes().filter(|&c| c != b' ').collect();
    let longest = a.len().max(b.len());
    if longest == 0 {
        return 1.0;
    }
    1.0 - levenshtein(&a, &b) as f64 / longest as f64
}

/// Edit distance over bytes (the folded forms are ASCII), one row of memory.
pub fn levenshtein(a: &[u8], b: &[u8]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    if b.is_empty() {
        return a.len();
    }
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, &ca) in a.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let up = row[j + 1];
            let cost = usize::from(ca != cb);
            row[j + 1] = (diag + cost).min(up + 1).min(row[j] + 1);
            diag = up;
        }
    }
    row[b.len()]
}

/// Organization names: both forms are scored and the better one counts, with a tenth of the
/// score from the raw form, so that when suffixes differ (`Acme Inc` ~ `Acme GmbH`, 0.98) a
/// candidate with the same suffix still ranks first.
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
    0.9 * raw.max(norm) + 0.1 * raw
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

/// Several values on either side (a multi-valued field): the best pair counts.
pub fn texts_sim(a: &[String], b: &[String]) -> f64 {
    let mut best: f64 = 0.0;
    for x in a {
        for y in b {
            best = best.max(text_sim(x, y));
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
            assert_eq!(levenshtein(a.as_bytes(), b.as_bytes()), d, "{a} {b}");
        }
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
            suffix_changed > 0.95 && suffix_changed < suffix_same,
            "{suffix_changed}"
        );
        assert!(s("Acme Inc", "Acme") > 0.95);
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
