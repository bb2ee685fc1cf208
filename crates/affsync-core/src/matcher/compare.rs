//! Comparison levels: how far two values of one attribute agree, in a few ordered steps (the
//! Fellegi–Sunter model's agreement pattern). Level 0 is the strongest agreement; the last level
//! is "different"; a value missing on either side has no level (it is neutral in the score).
//!
//! | comparison | levels |
//! |---|---|
//! | `name` (organization, opportunity, person full name) | exact · exact without legal form · similarity ≥ 0.95 · a shared code (a model number, `a16z`; see [`super::identity::codes`]) · ≥ 0.90 · ≥ 0.85 · ≥ 0.80 · one name's words all in the other · different |
//! | `person_part` (first or last name) | exact · initial agrees · ≥ 0.92 · ≥ 0.85 · ≥ 0.75 · different |
//! | `domain` | exact · same name, other suffix · different |
//! | `email` | exact · close (similarity ≥ 0.90) · different |
//! | `date` | exact · day and month swapped · one digit off · same year · different |
//! | `number` (phones, ids, postcodes of digits) | exact · one digit off · different |
//! | `text` (any other field) | exact · ≥ 0.92 · ≥ 0.80 · ≥ 0.60 · different |
//!
//! Similarities are those of [`super::score`] (Jaro-Winkler blended with a Levenshtein ratio).

use serde::Deserialize;

use super::normalize::{self, capped, OrgName, PersonName};
use super::score;

/// How an attribute's two values are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Name,
    PersonPart,
    Domain,
    Email,
    Date,
    Number,
    Text,
}

impl Comparison {
    /// The levels' labels, strongest first; the last is "different".
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Comparison::Name => &[
                "exact",
                "exact without legal form",
                "similar ≥0.95",
                "same code",
                "similar ≥0.90",
                "similar ≥0.85",
                "similar ≥0.80",
                "words contained",
                "different",
            ],
            Comparison::PersonPart => &[
                "exact",
                "initial",
                "similar ≥0.92",
                "similar ≥0.85",
                "similar ≥0.75",
                "different",
            ],
            Comparison::Domain => &["exact", "same name, other suffix", "different"],
            Comparison::Email => &["exact", "close", "different"],
            Comparison::Date => &[
                "exact",
                "day and month swapped",
                "one digit off",
                "same year",
                "different",
            ],
            Comparison::Number => &["exact", "one digit off", "different"],
            Comparison::Text => &[
                "exact",
                "similar ≥0.92",
                "similar ≥0.80",
                "similar ≥0.60",
                "different",
            ],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Name => "name",
            Comparison::PersonPart => "person_part",
            Comparison::Domain => "domain",
            Comparison::Email => "email",
            Comparison::Date => "date",
            Comparison::Number => "number",
            Comparison::Text => "text",
        }
    }

    /// How many levels it has.
    pub fn level_count(self) -> usize {
        self.levels().len()
    }

    /// The "different" level.
    pub fn different(self) -> u8 {
        (self.level_count() - 1) as u8
    }

    /// Whether a level is too weak an agreement for other columns to lift over `accept`
    /// without an identifier: "different", and for names anything below similarity 0.80 (and
    /// no shared code).
    pub fn is_weak(self, level: u8) -> bool {
        match self {
            Comparison::Name => level >= 7,
            _ => level == self.different(),
        }
    }

    /// Whether an exact agreement identifies a record on its own (strong evidence): a domain,
    /// an email, a number (a phone, an id). Dates identify people together with a name only.
    pub fn is_identifier(self) -> bool {
        matches!(
            self,
            Comparison::Domain | Comparison::Email | Comparison::Number
        )
    }

    /// The default m probabilities (how often a true match is at each level), before the data
    /// are seen: the starting point of the estimate, and its prior.
    pub fn default_m(self) -> &'static [f64] {
        match self {
            Comparison::Name => &[0.48, 0.11, 0.13, 0.08, 0.08, 0.05, 0.04, 0.02, 0.01],
            Comparison::PersonPart => &[0.82, 0.03, 0.07, 0.03, 0.02, 0.03],
            Comparison::Domain => &[0.90, 0.05, 0.05],
            Comparison::Email => &[0.85, 0.08, 0.07],
            Comparison::Date => &[0.85, 0.03, 0.06, 0.03, 0.03],
            Comparison::Number => &[0.88, 0.06, 0.06],
            Comparison::Text => &[0.65, 0.12, 0.10, 0.06, 0.07],
        }
    }

    /// The default u probabilities (how often two different records are at each level), the
    /// prior of the estimate.
    pub fn default_u(self) -> &'static [f64] {
        match self {
            Comparison::Name => &[1e-5, 1e-5, 1e-5, 1e-5, 3e-5, 1e-4, 3e-4, 1e-3, 0.99853],
            Comparison::PersonPart => &[0.01, 0.005, 0.004, 0.01, 0.02, 0.951],
            Comparison::Domain => &[1e-5, 1e-4, 0.99989],
            Comparison::Email => &[1e-6, 1e-5, 0.999989],
            Comparison::Date => &[1e-4, 1e-5, 1e-3, 0.01, 0.98889],
            Comparison::Number => &[1e-5, 1e-4, 0.99989],
            Comparison::Text => &[0.01, 0.005, 0.01, 0.05, 0.925],
        }
    }
}

/// A date: the year, then month and day as best the text tells them (`1971-06-24`,
/// `24/06/1971` and `06/24/1971` are all June 24th; `03/04/1971` is read day first, and the
/// "day and month swapped" level catches the other reading).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateParts {
    pub year: u16,
    /// The month (or what is read as one).
    pub first: u8,
    /// The day.
    pub second: u8,
    /// The digits, `yyyyffss`, for the one-digit-off level.
    pub digits: String,
}

/// `1971-06-24`, `1971/6/24`, `24.06.1971`, `06/24/1971`, `19710624`; `None` otherwise.
pub fn parse_date(s: &str) -> Option<DateParts> {
    let s = s.trim();
    let groups: Vec<&str> = s
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .collect();
    let short = |g: &str| g.len() <= 2;
    // Year first: month then day; year last: day then month (unless the day cannot be one).
    let (y, a, b, year_first) = match groups.as_slice() {
        [one] if one.len() == 8 => (&one[..4], &one[4..6], &one[6..], true),
        // A time may follow the date (`1971-06-24 00:00:00`).
        [y, a, b, rest @ ..] if y.len() == 4 && short(a) && short(b) && rest.len() <= 4 => {
            (*y, *a, *b, true)
        }
        [a, b, y] if y.len() == 4 && short(a) && short(b) => (*y, *a, *b, false),
        _ => return None,
    };
    let (year, a, b): (u16, u8, u8) = (y.parse().ok()?, a.parse().ok()?, b.parse().ok()?);
    if !(1..=31).contains(&a) || !(1..=31).contains(&b) || (a > 12 && b > 12) {
        return None;
    }
    let (first, second) = match (year_first, a > 12, b > 12) {
        (true, false, _) => (a, b),
        (true, true, _) => (b, a),
        (false, _, true) => (a, b),
        (false, _, false) => (b, a),
    };
    Some(DateParts {
        year,
        first,
        second,
        digits: format!("{year:04}{first:02}{second:02}"),
    })
}

/// A compared attribute's value, normalized.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// An organization's name and its [identity tokens](super::identity).
    Org(OrgName, Vec<String>),
    /// An opportunity's name, folded, and its identity tokens.
    Title(String, Vec<String>),
    Person(PersonName),
    /// A first or last name.
    Part(String),
    Texts(Vec<String>),
    Domains(Vec<String>),
    Emails(Vec<String>),
    /// Digits only.
    Numbers(Vec<String>),
    /// Dates; a value that is not a date keeps its digits with year 0.
    Dates(Vec<DateParts>),
}

/// A name's level below the exact ones: by similarity, then whether the words of one are all
/// in the other (`Acme Global` in `Acme Global Holdings`).
fn name_level(sim: f64, a: &str, b: &str) -> u8 {
    if sim >= 0.95 {
        return 2;
    }
    if super::identity::share_code(a, b) {
        return 3;
    }
    let l = 4 + level_of(sim, &[0.90, 0.85, 0.80]);
    if l < 7 {
        return l;
    }
    let words = |s: &str| -> Vec<String> {
        let mut w: Vec<String> = s
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        w.sort_unstable();
        w.dedup();
        w
    };
    let (wa, wb) = (words(a), words(b));
    let within =
        |x: &[String], y: &[String]| !x.is_empty() && x.iter().all(|w| y.binary_search(w).is_ok());
    if within(&wa, &wb) || within(&wb, &wa) {
        7
    } else {
        8
    }
}

fn level_of(sim: f64, cuts: &[f64]) -> u8 {
    cuts.iter().position(|&c| sim >= c).unwrap_or(cuts.len()) as u8
}

/// The best of every pair of values.
fn best<T>(a: &[T], b: &[T], f: impl Fn(&T, &T) -> (u8, f64)) -> (u8, f64) {
    let mut out = (u8::MAX, 0.0);
    for x in a {
        for y in b {
            let (l, s) = f(x, y);
            if l < out.0 || (l == out.0 && s > out.1) {
                out = (l, s);
            }
            if l == 0 {
                return out;
            }
        }
    }
    out
}

/// Two phone numbers or ids agree when one is the other with a prefix (a country code) of at
/// most three digits.
fn same_number(a: &str, b: &str) -> bool {
    if a == b {
        return true;
    }
    let (short, long) = if a.len() < b.len() { (a, b) } else { (b, a) };
    short.len() >= 7 && long.len() - short.len() <= 3 && long.ends_with(short)
}

/// One edit (a digit changed, added, dropped) or two neighbours swapped.
fn one_digit_off(a: &str, b: &str) -> bool {
    if a.len() == b.len() && a.len() >= 2 {
        let diffs: Vec<usize> = (0..a.len())
            .filter(|&i| a.as_bytes()[i] != b.as_bytes()[i])
            .collect();
        if diffs.len() == 2
            && diffs[1] == diffs[0] + 1
            && a.as_bytes()[diffs[0]] == b.as_bytes()[diffs[1]]
            && a.as_bytes()[diffs[1]] == b.as_bytes()[diffs[0]]
        {
            return true;
        }
    }
    score::within_edits(a.as_bytes(), b.as_bytes(), 1)
}

impl Value {
    /// The level of a pair (see the table in the module's documentation) and the similarity
    /// behind it (1 for exact agreement). Values of different kinds are "different".
    pub(crate) fn compare(&self, other: &Value) -> (u8, f64) {
        match (self, other) {
            (Value::Org(a, _), Value::Org(b, _)) => {
                if a.raw == b.raw {
                    return (0, 1.0);
                }
                if a.norm == b.norm {
                    return (1, 1.0);
                }
                let s = score::org_sim(a, b);
                (name_level(s, &a.norm, &b.norm), s)
            }
            (Value::Title(a, _), Value::Title(b, _)) => {
                if a == b {
                    return (0, 1.0);
                }
                let s = score::text_sim(a, b);
                (name_level(s, a, b), s)
            }
            (Value::Person(a), Value::Person(b)) => {
                if a.full() == b.full() {
                    return (0, 1.0);
                }
                let s = score::person_sim(a, b);
                if s >= 1.0 {
                    return (1, 1.0);
                }
                (name_level(s, &a.full(), &b.full()), s)
            }
            (Value::Part(a), Value::Part(b)) => part_level(a, b),
            (Value::Texts(a), Value::Texts(b)) => best(a, b, |x, y| {
                if x == y {
                    return (0, 1.0);
                }
                let s = score::text_sim(x, y);
                (1 + level_of(s, &[0.92, 0.80, 0.60]), s)
            }),
            (Value::Domains(a), Value::Domains(b)) => {
                let s = score::domain_sim(a, b);
                (
                    if s >= 1.0 {
                        0
                    } else if s > 0.0 {
                        1
                    } else {
                        2
                    },
                    s,
                )
            }
            (Value::Emails(a), Value::Emails(b)) => {
                let s = score::email_sim(a, b);
                (
                    if s >= 1.0 {
                        0
                    } else if s >= 0.9 * 0.9 {
                        1
                    } else {
                        2
                    },
                    s,
                )
            }
            (Value::Numbers(a), Value::Numbers(b)) => best(a, b, |x, y| {
                if same_number(x, y) {
                    (0, 1.0)
                } else if x.len() >= 4 && one_digit_off(x, y) {
                    (1, 0.9)
                } else {
                    (2, 0.0)
                }
            }),
            (Value::Dates(a), Value::Dates(b)) => best(a, b, |x, y| {
                if x.digits == y.digits {
                    (0, 1.0)
                } else if x.year != 0
                    && x.year == y.year
                    && x.first == y.second
                    && x.second == y.first
                {
                    (1, 0.9)
                } else if one_digit_off(&x.digits, &y.digits) {
                    (2, 0.8)
                } else if x.year != 0 && x.year == y.year {
                    (3, 0.5)
                } else {
                    (4, 0.0)
                }
            }),
            (a, _) => (a.comparison().different(), 0.0),
        }
    }

    /// How the value is compared.
    pub(crate) fn comparison(&self) -> Comparison {
        match self {
            Value::Org(..) | Value::Title(..) | Value::Person(_) => Comparison::Name,
            Value::Part(_) => Comparison::PersonPart,
            Value::Texts(_) => Comparison::Text,
            Value::Domains(_) => Comparison::Domain,
            Value::Emails(_) => Comparison::Email,
            Value::Numbers(_) => Comparison::Number,
            Value::Dates(_) => Comparison::Date,
        }
    }

    /// The form that exact agreement is counted on, for term-frequency adjustment and exact
    /// blocks: the name without legal form, the first value of a list.
    pub(crate) fn exact_key(&self) -> Option<&str> {
        let s = match self {
            Value::Org(o, _) => o.norm.as_str(),
            Value::Title(t, _) => t.as_str(),
            Value::Person(_) => return None,
            Value::Part(p) => p.as_str(),
            Value::Texts(t) | Value::Domains(t) | Value::Emails(t) | Value::Numbers(t) => {
                t.first()?.as_str()
            }
            Value::Dates(d) => d.first()?.digits.as_str(),
        };
        (!s.is_empty()).then_some(s)
    }

    /// The identity tokens of a name, and the folded name they come from.
    pub(crate) fn identity(&self) -> Option<(&[String], &str)> {
        match self {
            Value::Org(o, ids) => Some((ids, &o.raw)),
            Value::Title(t, ids) => Some((ids, t)),
            _ => None,
        }
    }

    /// Whether there is nothing in it.
    pub(crate) fn is_empty(&self) -> bool {
        match self {
            Value::Org(o, _) => o.raw.is_empty(),
            Value::Title(t, _) | Value::Part(t) => t.is_empty(),
            Value::Person(p) => p.first.is_empty() && p.last.is_empty(),
            Value::Texts(t) | Value::Domains(t) | Value::Emails(t) | Value::Numbers(t) => {
                t.is_empty()
            }
            Value::Dates(d) => d.is_empty(),
        }
    }

    /// The text the candidate index sees; keys (domains, emails) and numbers are not fuzzy text.
    pub(crate) fn block_text(&self) -> Option<String> {
        match self {
            Value::Org(o, _) => Some(o.norm.clone()),
            Value::Title(t, _) => Some(t.clone()),
            Value::Person(p) => Some(p.full()),
            Value::Part(s) => Some(s.clone()),
            Value::Texts(t) => Some(t.join(" ")),
            Value::Domains(_) | Value::Emails(_) | Value::Numbers(_) | Value::Dates(_) => None,
        }
    }
}

fn is_initials(s: &str) -> bool {
    !s.is_empty() && s.split(' ').all(|w| w.len() == 1)
}

fn part_level(a: &str, b: &str) -> (u8, f64) {
    if a == b {
        return (0, 1.0);
    }
    if is_initials(a) || is_initials(b) {
        return if a.as_bytes()[0] == b.as_bytes()[0] {
            (1, 0.9)
        } else {
            (5, 0.0)
        };
    }
    let s = score::text_sim(a, b);
    (2 + level_of(s, &[0.92, 0.85, 0.75]), s)
}

/// Parses a source or candidate cell for a comparison: `None` when nothing usable is in it.
pub(crate) fn parse_field(comparison: Comparison, texts: &[&str]) -> Option<Value> {
    let v = match comparison {
        Comparison::Date => Value::Dates(
            texts
                .iter()
                .map(|t| capped(t))
                .filter(|t| !t.trim().is_empty())
                .map(|t| {
                    parse_date(t).unwrap_or_else(|| DateParts {
                        year: 0,
                        first: 0,
                        second: 0,
                        digits: normalize::fold(t),
                    })
                })
                .collect(),
        ),
        Comparison::Number => Value::Numbers(
            texts
                .iter()
                .map(|t| {
                    capped(t)
                        .bytes()
                        .filter(u8::is_ascii_digit)
                        .map(char::from)
                        .collect::<String>()
                })
                .filter(|d| !d.is_empty())
                .collect(),
        ),
        _ => Value::Texts(
            texts
                .iter()
                .map(|t| normalize::fold(capped(t)))
                .filter(|t| !t.is_empty())
                .collect(),
        ),
    };
    (!v.is_empty()).then_some(v)
}

/// The comparison a field's values call for: dates when most of them are dates, numbers when
/// most are mostly digits, text otherwise.
pub fn infer_field(values: &[&str]) -> Comparison {
    let sample: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .take(2000)
        .collect();
    if sample.is_empty() {
        return Comparison::Text;
    }
    let n = sample.len() as f64;
    let dates = sample.iter().filter(|v| parse_date(v).is_some()).count() as f64;
    if dates >= 0.8 * n {
        return Comparison::Date;
    }
    let numbers = sample
        .iter()
        .filter(|v| {
            v.bytes().filter(u8::is_ascii_digit).count() >= 4
                && score::is_numeric(&normalize::fold(v))
        })
        .count() as f64;
    if numbers >= 0.8 * n {
        return Comparison::Number;
    }
    Comparison::Text
}

#[cfg(test)]
mod tests {
    use super::super::normalize::MAX_TEXT;
    use super::*;

    #[test]
    fn defaults_have_one_probability_per_level() {
        for c in [
            Comparison::Name,
            Comparison::PersonPart,
            Comparison::Domain,
            Comparison::Email,
            Comparison::Date,
            Comparison::Number,
            Comparison::Text,
        ] {
            assert_eq!(c.default_m().len(), c.level_count(), "{c:?}");
            assert_eq!(c.default_u().len(), c.level_count(), "{c:?}");
            for p in [c.default_m(), c.default_u()] {
                assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{c:?} {p:?}");
            }
        }
    }

    #[test]
    fn dates_table() {
        let d = |s: &str| parse_field(Comparison::Date, &[s]).unwrap();
        let cases = [
            ("1971-06-24", "1971-06-24", 0),
            ("1971-06-24", "24/06/1971", 0),
            ("1971-06-24", "06/24/1971", 0),
            ("1971-06-24", "1971-24-06", 0),
            ("03/04/1971", "04/03/1971", 1),
            ("1971-06-12", "1971-12-06", 1),
            ("1971-06-24", "1971-06-25", 2),
            ("1971-06-24", "1971-03-02", 3),
            ("1971-06-24", "1985-01-01", 4),
            ("19710624", "1971-06-24", 0),
            ("1971-06-24 00:00:00", "1971-06-24", 0),
        ];
        for (a, b, want) in cases {
            assert_eq!(d(a).compare(&d(b)).0, want, "{a} {b}");
        }
        assert_eq!(parse_date("sometime soon"), None);
        assert_eq!(parse_date("31/31/2020"), None);
    }

    #[test]
    fn numbers_table() {
        let n = |s: &str| parse_field(Comparison::Number, &[s]).unwrap();
        let cases = [
            ("310-246-1501", "(310) 246 1501", 0),
            ("+1 310 246 1501", "310-246-1501", 0),
            ("310-246-1501", "310-246-1502", 1),
            ("310-246-1501", "310-246-1051", 1),
            ("310-246-1501", "212-555-0100", 2),
        ];
        for (a, b, want) in cases {
            assert_eq!(n(a).compare(&n(b)).0, want, "{a} {b}");
        }
    }

    #[test]
    fn fields_are_inferred_from_their_values() {
        assert_eq!(
            infer_field(&["1971-06-24", "2001-01-02", ""]),
            Comparison::Date
        );
        assert_eq!(
            infer_field(&["310-246-1501", "212 555 0100"]),
            Comparison::Number
        );
        assert_eq!(infer_field(&["Berlin", "Paris"]), Comparison::Text);
        assert_eq!(infer_field(&[]), Comparison::Text);
    }

    #[test]
    fn a_long_cell_is_cut_before_it_is_compared() {
        let long = "é".repeat(600_000);
        let cut = capped(&long);
        assert!(cut.len() <= MAX_TEXT && long.starts_with(cut));
        assert_eq!(
            parse_field(Comparison::Text, &[&long]),
            parse_field(Comparison::Text, &[&long[..2000]])
        );
    }
}
