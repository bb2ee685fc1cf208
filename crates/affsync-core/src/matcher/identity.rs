//! Identity tokens: the parts of a name that tell one entity from its siblings. `Acme 2` and
//! `Acme 20`, `Fund II` and `Fund III`, `Series A` and `Series B`, `Sequoia Capital China` and
//! `Sequoia Capital India`, `3M` and `M3` are near matches to a string similarity and different
//! companies (funds, branches) to a person. A pair whose names carry different identity tokens
//! is never matched or sent to review on the names alone (see `super::Matcher`).
//!
//! Tokens are taken from a [`fold`](super::normalize::fold)ed name:
//! - numbers: a run of digits (`2`, `2019`; leading zeros dropped), an ordinal (`2nd` is 2),
//!   a roman numeral of two letters or more (`ii`, `xiv`), or a single `i`, `v` or `x` after a
//!   fund word (`Fund I`, `Partners V`); a number word (`two`) after a fund word;
//! - short codes: a token of at most four symbols mixing letters and digits (`3m`, `m3`, `a16z`)
//!   is kept whole, since its order matters; a longer one gives its digit runs (`acme2` is 2);
//! - series: a single letter after `series`, `class`, `tranche`, `fund`, `sleeve`
//!   (`Series A`);
//! - regions: a country, a continent or a market region (`china`, `chinese`, `europe`, `emea`,
//!   `dach`), each written one way (`chinese` is `china`).
//!
//! Two names conflict when their sets of tokens differ: `Acme Fund II` and `Acme Fund` do too.

use std::collections::BTreeSet;

/// Words after which a single `i`, `v`, `x`, a letter or a number word is an identity token.
const FUND_WORDS: &[&str] = &[
    "capital",
    "class",
    "fund",
    "funds",
    "holdings",
    "investors",
    "opportunities",
    "partners",
    "series",
    "sleeve",
    "tranche",
    "ventures",
    "vintage",
];

/// Words after which a single letter names a series (`Series A`, `Class B`).
const SERIES_WORDS: &[&str] = &["class", "fund", "series", "sleeve", "tranche"];

const NUMBER_WORDS: &[(&str, u32)] = &[
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
    ("ten", 10),
    ("first", 1),
    ("second", 2),
    ("third", 3),
    ("fourth", 4),
    ("fifth", 5),
];

/// Region words and the one form each stands for. Sorted by word, for binary search.
const REGIONS: &[(&str, &str)] = &[
    ("africa", "africa"),
    ("african", "africa"),
    ("america", "usa"),
    ("american", "usa"),
    ("americas", "americas"),
    ("apac", "apac"),
    ("argentina", "argentina"),
    ("asia", "asia"),
    ("asian", "asia"),
    ("australia", "australia"),
    ("australian", "australia"),
    ("austria", "austria"),
    ("belgium", "belgium"),
    ("benelux", "benelux"),
    ("brasil", "brazil"),
    ("brazil", "brazil"),
    ("brazilian", "brazil"),
    ("britain", "uk"),
    ("british", "uk"),
    ("canada", "canada"),
    ("canadian", "canada"),
    ("chile", "chile"),
    ("china", "china"),
    ("chinese", "china"),
    ("colombia", "colombia"),
    ("dach", "dach"),
    ("danish", "denmark"),
    ("denmark", "denmark"),
    ("deutschland", "germany"),
    ("dutch", "netherlands"),
    ("egypt", "egypt"),
    ("emea", "emea"),
    ("england", "uk"),
    ("europe", "europe"),
    ("european", "europe"),
    ("finland", "finland"),
    ("finnish", "finland"),
    ("france", "france"),
    ("french", "france"),
    ("german", "germany"),
    ("germany", "germany"),
    ("greece", "greece"),
    ("india", "india"),
    ("indian", "india"),
    ("indonesia", "indonesia"),
    ("ireland", "ireland"),
    ("irish", "ireland"),
    ("israel", "israel"),
    ("israeli", "israel"),
    ("italia", "italy"),
    ("italian", "italy"),
    ("italy", "italy"),
    ("japan", "japan"),
    ("japanese", "japan"),
    ("kenya", "kenya"),
    ("korea", "korea"),
    ("korean", "korea"),
    ("latam", "latam"),
    ("malaysia", "malaysia"),
    ("mena", "mena"),
    ("mexican", "mexico"),
    ("mexico", "mexico"),
    ("netherlands", "netherlands"),
    ("nigeria", "nigeria"),
    ("nordic", "nordics"),
    ("nordics", "nordics"),
    ("norway", "norway"),
    ("norwegian", "norway"),
    ("pakistan", "pakistan"),
    ("philippines", "philippines"),
    ("poland", "poland"),
    ("polish", "poland"),
    ("portugal", "portugal"),
    ("russia", "russia"),
    ("russian", "russia"),
    ("saudi", "saudi arabia"),
    ("singapore", "singapore"),
    ("spain", "spain"),
    ("spanish", "spain"),
    ("sweden", "sweden"),
    ("swedish", "sweden"),
    ("swiss", "switzerland"),
    ("switzerland", "switzerland"),
    ("taiwan", "taiwan"),
    ("thailand", "thailand"),
    ("turkey", "turkey"),
    ("uae", "uae"),
    ("uk", "uk"),
    ("usa", "usa"),
    ("vietnam", "vietnam"),
];

/// The value of a roman numeral made of `i`, `v` and `x` (1 to 39) written in its canonical
/// form (`iv`, not `iiii`), if `s` is one.
fn roman(s: &str) -> Option<u32> {
    if s.is_empty() || s.len() > 6 || !s.bytes().all(|b| matches!(b, b'i' | b'v' | b'x')) {
        return None;
    }
    let val = |b: u8| match b {
        b'i' => 1i32,
        b'v' => 5,
        _ => 10,
    };
    let bytes = s.as_bytes();
    let mut total = 0i32;
    for (i, &b) in bytes.iter().enumerate() {
        let v = val(b);
        if bytes.get(i + 1).is_some_and(|&n| val(n) > v) {
            total -= v;
        } else {
            total += v;
        }
    }
    let n = u32::try_from(total).ok().filter(|n| (1..40).contains(n))?;
    (to_roman(n) == s).then_some(n)
}

fn to_roman(mut n: u32) -> String {
    let mut s = String::new();
    for (v, r) in [(10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")] {
        while n >= v {
            s.push_str(r);
            n -= v;
        }
    }
    s
}

/// `2nd` → 2.
fn ordinal(t: &str) -> Option<u32> {
    let digits = t.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    let suffix = &t[digits.len()..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    matches!(suffix, "st" | "nd" | "rd" | "th")
        .then(|| digits.parse().ok())
        .flatten()
}

fn number(digits: &str) -> String {
    let t = digits.trim_start_matches('0');
    format!("#{}", if t.is_empty() { "0" } else { t })
}

/// The identity tokens of a folded name, sorted and without repeats.
pub fn identity_tokens(folded: &str) -> Vec<String> {
    let set: BTreeSet<String> = tokens_with_words(folded)
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    set.into_iter().collect()
}

/// Each identity token with the word (or words) of the name it comes from.
fn tokens_with_words(folded: &str) -> Vec<(String, String)> {
    let toks: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, &t) in toks.iter().enumerate() {
        let mut found: Vec<String> = Vec::new();
        let after_fund = i > 0 && FUND_WORDS.contains(&toks[i - 1]);
        let after_series = i > 0 && SERIES_WORDS.contains(&toks[i - 1]);
        let has_digit = t.bytes().any(|b| b.is_ascii_digit());
        let has_alpha = t.bytes().any(|b| b.is_ascii_alphabetic());
        if has_digit && !has_alpha {
            found.push(number(t));
        } else if let Some(n) = ordinal(t) {
            found.push(format!("#{n}"));
        } else if has_digit && t.len() <= 4 {
            found.push(t.to_string());
        } else if has_digit {
            // A number at either end of a longer word (`acme2`); digits inside a word
            // (`dill1plc`) are more likely a slip of the keyboard or of a scanner.
            let b = t.as_bytes();
            let lead = b.iter().take_while(|c| c.is_ascii_digit()).count();
            let trail = b.iter().rev().take_while(|c| c.is_ascii_digit()).count();
            if lead > 0 {
                found.push(number(&t[..lead]));
            }
            if trail > 0 {
                found.push(number(&t[t.len() - trail..]));
            }
        } else if let Some(n) = roman(t).filter(|_| t.len() >= 2 || after_fund) {
            found.push(format!("#{n}"));
        } else if let Some(&(_, n)) = NUMBER_WORDS.iter().find(|(w, _)| *w == t) {
            if after_fund {
                found.push(format!("#{n}"));
            }
        } else if t.len() == 1 && after_series {
            found.push(format!("series {t}"));
        } else if let Ok(at) = REGIONS.binary_search_by(|(w, _)| (*w).cmp(t)) {
            found.push(REGIONS[at].1.to_string());
        }
        out.extend(found.into_iter().map(|f| (f, t.to_string())));
    }
    // `Hong Kong`, `South Africa`, `New Zealand`: two words, one region.
    for pair in toks.windows(2) {
        let r = match pair {
            ["hong", "kong"] => "hong kong",
            ["new", "zealand"] => "new zealand",
            ["south", "africa"] => "south africa",
            ["south", "korea"] => "korea",
            ["north", "america"] => "north america",
            ["latin", "america"] => "latam",
            ["united", "states"] => "usa",
            ["united", "kingdom"] => "uk",
            ["middle", "east"] => "mena",
            _ => continue,
        };
        let words = pair.join(" ");
        out.retain(|(t, w)| {
            !((r == "south africa" && t == "africa" && w == pair[1])
                || ((r == "north america" || r == "latam") && t == "usa" && w == pair[1]))
        });
        out.push((r.to_string(), words));
    }
    out
}

/// Whether `word` is one edit (a character changed, added or dropped) from a word of `other`
/// that has no digit: `7lc` and `llc` (but not `web3` and `web4`). A single digit in a word of
/// five symbols or more may be two edits away (`2dick` and `blick`, `lkuschke5` and
/// `leuschke`): a name mistyped once more besides the digit; two digits or more are a number
/// (`acme22` and `acme` differ).
fn near_a_word(word: &str, other: &str) -> bool {
    let digits = word.bytes().filter(u8::is_ascii_digit).count();
    let slack = if digits == 1 && word.len() >= 5 { 2 } else { 1 };
    word.len() >= 3
        && other
            .split(' ')
            .filter(|w| w.len() + slack >= word.len() && w.len() <= word.len() + slack)
            .filter(|w| !w.bytes().any(|b| b.is_ascii_digit()))
            .any(|w| super::score::within_edits(word.as_bytes(), w.as_bytes(), slack))
}

/// The identity conflict of two folded names, in words, or `None`. Tokens that both names
/// have agree; a name with tokens of its own conflicts with the other (`2` and `20`, `2` and
/// none), except where the word holding the token is one slip away from a word of the other
/// name (`Hettinger 7LC` and `Hettinger LLC`: a typo, not a number). With `one_sided` false,
/// only names that both have tokens of their own conflict (`Series A` and `Series B`, not
/// `Series A` and nothing): for titles, which often leave a number out.
pub fn conflict_names(a: &str, b: &str, one_sided: bool) -> Option<String> {
    let (ta, tb) = (tokens_with_words(a), tokens_with_words(b));
    let has = |ts: &[(String, String)], t: &str| ts.iter().any(|(x, _)| x == t);
    let only = |ts: &[(String, String)], others: &[(String, String)], other_name: &str| {
        let mut own: Vec<String> = ts
            .iter()
            .filter(|(t, _)| !has(others, t))
            .filter(|(_, w)| !near_a_word(w, other_name))
            .map(|(t, _)| t.clone())
            .collect();
        own.sort_unstable();
        own.dedup();
        own
    };
    let (oa, ob) = (only(&ta, &tb, b), only(&tb, &ta, a));
    if (oa.is_empty() && ob.is_empty()) || (!one_sided && (oa.is_empty() || ob.is_empty())) {
        return None;
    }
    conflict(&oa, &ob)
}

/// The tokens only one side has, in words (`` `2` and `20` ``, `` `china` and `india` ``), when
/// the two sets differ; `None` when they agree.
pub fn conflict(a: &[String], b: &[String]) -> Option<String> {
    if a == b {
        return None;
    }
    let show = |xs: Vec<&String>| -> String {
        if xs.is_empty() {
            "none".to_string()
        } else {
            xs.iter()
                .map(|x| format!("`{}`", x.trim_start_matches('#')))
                .collect::<Vec<_>>()
                .join(" ")
        }
    };
    let only_a: Vec<&String> = a.iter().filter(|x| !b.contains(x)).collect();
    let only_b: Vec<&String> = b.iter().filter(|x| !a.contains(x)).collect();
    Some(format!("{} and {}", show(only_a), show(only_b)))
}

/// The codes of a folded name: its words, and the joins of two adjacent words, that mix
/// letters with at least two digits in four symbols or more (`pslx350h`, `a16z`, `kdl40v4100`;
/// `ps lx350h` gives `pslx350h` too, `office 2007` nothing). A code two names share (a product's model number, a
/// fund's or a branch's reference) is strong evidence that they name one thing, whatever the
/// rest of their words; sorted, without repeats.
pub fn codes(folded: &str) -> Vec<String> {
    let is_code = |t: &str| {
        t.len() >= 4
            && t.bytes().filter(u8::is_ascii_digit).count() >= 2
            && t.bytes().any(|b| b.is_ascii_alphabetic())
    };
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out: Vec<String> = words
        .iter()
        .filter(|w| is_code(w))
        .map(|w| w.to_string())
        .collect();
    for pair in words.windows(2) {
        // A code split by a separator (`ps-lx350h`, `f3h982-10`): one of the two words mixes
        // letters and digits already, the other is short; `office 2007` is no code.
        let mixed = |w: &str| {
            w.bytes().any(|b| b.is_ascii_digit()) && w.bytes().any(|b| b.is_ascii_alphabetic())
        };
        if (mixed(pair[0]) && pair[1].len() <= 3) || (mixed(pair[1]) && pair[0].len() <= 3) {
            let joined = format!("{}{}", pair[0], pair[1]);
            if is_code(&joined) {
                out.push(joined);
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether two folded names share a [code](codes).
pub fn share_code(a: &str, b: &str) -> bool {
    let digits = |s: &str| s.bytes().filter(u8::is_ascii_digit).count() >= 2;
    if !digits(a) || !digits(b) {
        return false;
    }
    let cb = codes(b);
    !cb.is_empty() && codes(a).iter().any(|c| cb.binary_search(c).is_ok())
}

#[cfg(test)]
mod tests {

    #[test]
    fn codes_are_shared_across_separators() {
        assert_eq!(codes("sony turntable pslx350h"), ["pslx350h"]);
        assert_eq!(
            codes("sony ps lx350h belt drive turntable"),
            ["lx350h", "pslx350h"]
        );
        assert!(share_code(
            "sony turntable pslx350h",
            "sony ps lx350h belt drive turntable"
        ));
        assert!(codes("microsoft office 2007 basic").is_empty());
        assert!(codes("acme 2 inc").is_empty() && codes("fund ii").is_empty());
        assert!(codes("8 port switch 10 100").is_empty());
        assert_eq!(codes("a16z"), ["a16z"]);
        assert!(!share_code("sony kdl40v4100", "sony kdl46v4100"));
        assert!(!share_code("acme 20", "acme 2"));
    }
    use super::super::normalize::fold;
    use super::*;

    fn ids(s: &str) -> Vec<String> {
        identity_tokens(&fold(s))
    }

    #[test]
    fn regions_are_sorted_for_binary_search() {
        let mut sorted = REGIONS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, REGIONS);
    }

    #[test]
    fn roman_numerals_table() {
        let cases = [
            ("i", Some(1)),
            ("ii", Some(2)),
            ("iii", Some(3)),
            ("iv", Some(4)),
            ("vi", Some(6)),
            ("ix", Some(9)),
            ("xiv", Some(14)),
            ("xxxix", Some(39)),
            ("iiii", None),
            ("vv", None),
            ("ic", None),
            ("xl", None),
            ("", None),
            ("mix", None),
        ];
        for (s, want) in cases {
            assert_eq!(roman(s), want, "{s}");
        }
    }

    #[test]
    fn tokens_table() {
        let cases: &[(&str, &[&str])] = &[
            ("Acme Inc", &[]),
            ("Acme 2", &["#2"]),
            ("Acme 02 Ltd", &["#2"]),
            ("Acme2", &["#2"]),
            ("3M", &["3m"]),
            ("Fund II", &["#2"]),
            ("Sequoia Capital Fund I", &["#1"]),
            ("Accel Partners V", &["#5"]),
            ("Vitamin V", &[]),
            ("Acme 2nd Fund", &["#2"]),
            ("Acme Fund Two", &["#2"]),
            ("Series A", &["series a"]),
            ("Sequoia Capital China", &["china"]),
            ("Acme Chinese Holdings", &["china"]),
            ("Hong Kong Land", &["hong kong"]),
            ("South Africa Breweries", &["south africa"]),
            ("Acme 2019 Vintage", &["#2019"]),
        ];
        for (name, want) in cases {
            let want: Vec<String> = want.iter().map(|s| s.to_string()).collect();
            assert_eq!(ids(name), want, "{name}");
        }
    }

    #[test]
    fn a_typo_is_not_an_identity_token() {
        let cases = [
            ("Hettinger 7LC", "Hettinger LLC", false),
            ("Dill1PLC", "Will PLC", false),
            ("Hessel2WaSlcwi", "Hessel-Waelchi", false),
            ("2dick Ltd", "Blick Ltd", false),
            (
                "Lkuschke5 Kunde and Bosco",
                "Leuschke, Kunde and Bosco",
                false,
            ),
            ("Yundt-8arquarLt", "Yundt-Marquardt", false),
            ("Acme22", "Acme", true),
            ("Kraxbel 7", "Kraxbel", true),
            ("Acme 2", "Acme", true),
            ("Acme 2", "Acme 3", true),
            ("Acme Fund II", "Acme Fund I", true),
            ("Acme2", "Acme 20", true),
            ("3M", "M3", true),
            ("Web3 Labs", "Web4 Labs", true),
        ];
        for (a, b, want) in cases {
            assert_eq!(
                conflict_names(&fold(a), &fold(b), true).is_some(),
                want,
                "{a} / {b}"
            );
        }
        // Titles: only two numbers that differ.
        assert!(conflict_names("acme series a", "acme", false).is_none());
        assert!(conflict_names("acme series a", "acme series b", false).is_some());
    }

    #[test]
    fn conflicts_name_the_tokens() {
        assert_eq!(conflict(&ids("Acme"), &ids("ACME, Inc.")), None);
        assert_eq!(
            conflict(&ids("Acme 2"), &ids("Acme 20")).as_deref(),
            Some("`2` and `20`")
        );
        assert_eq!(
            conflict(&ids("Acme Fund II"), &ids("Acme Fund")).as_deref(),
            Some("`2` and none")
        );
    }
}
