//! The `[match]` section of a mapping file (and of `affsync link`'s config):
//!
//! ```toml
//! [match]
//! search_term = "website"     # optional: compared with an organization's domains, a person's
//!                             # emails, an opportunity's name
//! within_list = "Deal Flow"   # optional: only records on this list are fuzzy candidates (a
//!                             # search term finds an organization or person anywhere)
//! accept = 0.92               # optional thresholds: probabilities of a match
//! review = 0.80
//! [[match.compare]]           # the fuzzy fallback; without any, there is none
//! source = "company_name"
//! affinity = "name"           # name | first_name | last_name | domain | email | a field
//! # comparison = "date"       # a field's: text | number | date (read from its values if not)
//! # m = [0.9, 0.05, 0.05]     # optional: the model's m and u per level, instead of the
//! # u = [0.001, 0.01, 0.989]  # estimate (see `compare` for each comparison's levels)
//! ```
//!
//! The fuzzy score is the probability of a match under a Fellegi–Sunter model estimated from
//! the records themselves (see `super::model`); `accept` and `review` are probabilities, so
//! the values written in mapping files before the model (0.92, 0.80) keep their place: 0.92 is
//! "at least 92% likely the same record".

use serde::Deserialize;

use super::compare::Comparison;

/// Default threshold for `matched`.
pub const DEFAULT_ACCEPT: f64 = 0.92;
/// Default threshold for `review`.
pub const DEFAULT_REVIEW: f64 = 0.80;
/// A runner-up within this many bits of the best candidate's match weight (half as likely or
/// more) sends a decision to review: the matcher cannot tell the two apart with confidence,
/// unless they look like one record themselves (a duplicate in Affinity).
pub const TIE_BITS: f64 = 1.0;

/// The `[match]` section. Thresholds are optional in the file; [`MatchConfig::accept`] and
/// [`MatchConfig::review`] give the values in force.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MatchConfig {
    /// The source column compared exactly (after normalization) with an organization's domains,
    /// a person's emails or an opportunity's name.
    pub search_term: Option<String>,
    /// Only records on this list (by name or id) are fuzzy candidates; the search term finds an
    /// organization or person wherever it is (an opportunity only on the list).
    pub within_list: Option<String>,
    #[serde(rename = "accept")]
    pub accept_threshold: Option<f64>,
    #[serde(rename = "review")]
    pub review_threshold: Option<f64>,
    /// The attributes the fuzzy fallback compares; none means no fuzzy fallback.
    #[serde(default)]
    pub compare: Vec<Compare>,
}

/// One `[[match.compare]]` entry: a source column against an attribute of the Affinity record.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Compare {
    /// The source column.
    pub source: String,
    /// `name`, `first_name`, `last_name`, `domain`, `email`, or a field's name or id.
    pub affinity: String,
    /// How a field's values are compared (`text`, `number`, `date`); read from the candidates'
    /// values when not given. The built-in attributes have their own.
    #[serde(default)]
    pub comparison: Option<Comparison>,
    /// The model's m per level (the probability that a true match is at that level), instead
    /// of the estimate.
    #[serde(default)]
    pub m: Option<Vec<f64>>,
    /// The model's u per level (the probability that two different records are).
    #[serde(default)]
    pub u: Option<Vec<f64>>,
}

impl Compare {
    /// The comparison of a built-in attribute, or the one given for a field.
    pub fn fixed_comparison(&self) -> Option<Comparison> {
        match Attr::parse(&self.affinity) {
            Attr::Name => Some(Comparison::Name),
            Attr::FirstName | Attr::LastName => Some(Comparison::PersonPart),
            Attr::Domain => Some(Comparison::Domain),
            Attr::Email => Some(Comparison::Email),
            Attr::Field(_) => self.comparison,
        }
    }
}

/// What a compare entry's `affinity` names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Attr {
    Name,
    FirstName,
    LastName,
    Domain,
    Email,
    /// A field, by name or id.
    Field(String),
}

impl Attr {
    pub fn parse(s: &str) -> Attr {
        match s {
            "name" => Attr::Name,
            "first_name" => Attr::FirstName,
            "last_name" => Attr::LastName,
            "domain" | "domains" => Attr::Domain,
            "email" | "emails" => Attr::Email,
            other => Attr::Field(other.to_string()),
        }
    }
}

/// A `[match]` section that cannot be used: which key, and what to do about it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    #[error("`{file}`: {message}")]
    Invalid {
        file: String,
        message: String,
        hint: String,
    },
}

impl crate::diagnostic::Diagnose for ConfigError {
    fn class(&self) -> crate::diagnostic::ErrorClass {
        crate::diagnostic::ErrorClass::BadInput
    }
    fn hint(&self) -> Option<String> {
        match self {
            ConfigError::Invalid { hint, .. } => Some(hint.clone()),
        }
    }
}

impl MatchConfig {
    /// The threshold for `matched`.
    pub fn accept(&self) -> f64 {
        self.accept_threshold.unwrap_or(DEFAULT_ACCEPT)
    }

    /// The threshold for `review`.
    pub fn review(&self) -> f64 {
        self.review_threshold.unwrap_or(DEFAULT_REVIEW)
    }

    /// Parses a TOML document holding a `[match]` table (other tables are the caller's to check).
    pub fn from_toml(text: &str, file: &str) -> Result<MatchConfig, ConfigError> {
        // Other tables (`[source]`, `[push]`, ...) belong to the caller; `[match]` is strict.
        #[derive(Deserialize)]
        struct Doc {
            #[serde(rename = "match")]
            section: Option<MatchConfig>,
        }
        let doc: Doc = toml::from_str(text).map_err(|e| toml_error(file, text, &e, MATCH_KEYS))?;
        let Some(cfg) = doc.section else {
            return Err(ConfigError::Invalid {
                file: file.to_string(),
                message: "no `[match]` section".into(),
                hint: "add `[match]` with a `search_term` or a `[[match.compare]]` entry".into(),
            });
        };
        cfg.validate(file)?;
        Ok(cfg)
    }

    /// Checks thresholds and entries; `file` names the file in the error.
    pub fn validate(&self, file: &str) -> Result<(), ConfigError> {
        let bad = |message: String, hint: &str| ConfigError::Invalid {
            file: file.to_string(),
            message,
            hint: hint.to_string(),
        };
        for (key, v) in [
            ("accept", self.accept_threshold),
            ("review", self.review_threshold),
        ] {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) || v.is_nan() {
                    return Err(bad(
                        format!("`match.{key}` is {v}, outside 0 to 1"),
                        "thresholds are probabilities of a match, between 0 and 1, such as `accept = 0.92`",
                    ));
                }
            }
        }
        if self.review() > self.accept() {
            return Err(bad(
                format!(
                    "`match.review` ({}) is above `match.accept` ({})",
                    self.review(),
                    self.accept()
                ),
                "`review` is the lower threshold: scores between the two go to review",
            ));
        }
        if let Some(t) = &self.search_term {
            if t.trim().is_empty() {
                return Err(bad(
                    "`match.search_term` is empty".into(),
                    "name the source column to compare exactly, or remove the key",
                ));
            }
        }
        if let Some(t) = &self.within_list {
            if t.trim().is_empty() {
                return Err(bad(
                    "`match.within_list` is empty".into(),
                    "name a list as Affinity spells it, or give its id, or remove the key",
                ));
            }
        }
        for (i, c) in self.compare.iter().enumerate() {
            for (key, v) in [("source", &c.source), ("affinity", &c.affinity)] {
                if v.trim().is_empty() {
                    return Err(bad(
                        format!("`match.compare[{i}].{key}` is empty"),
                        "each `[[match.compare]]` names a source column and an Affinity attribute",
                    ));
                }
            }
            let attr = Attr::parse(&c.affinity);
            if let Some(given) = c.comparison {
                let ok = match attr {
                    Attr::Field(_) => matches!(
                        given,
                        Comparison::Text | Comparison::Number | Comparison::Date
                    ),
                    _ => Some(given) == c.fixed_comparison(),
                };
                if !ok {
                    return Err(bad(
                        format!(
                            "`match.compare[{i}].comparison` is `{}`, which `{}` cannot use",
                            given.as_str(),
                            c.affinity
                        ),
                        "a field is compared as `text`, `number` or `date`; name, first_name, last_name, domain and email have their own comparison: remove the key",
                    ));
                }
            }
            for (key, probs) in [("m", &c.m), ("u", &c.u)] {
                let Some(probs) = probs else { continue };
                let Some(cmp) = c.fixed_comparison() else {
                    return Err(bad(
                        format!("`match.compare[{i}].{key}` is given, but not how `{}` is compared", c.affinity),
                        "add `comparison = \"text\"` (or `\"number\"`, `\"date\"`): the levels of m and u depend on it",
                    ));
                };
                let levels = cmp.levels();
                if probs.len() != levels.len() {
                    return Err(bad(
                        format!(
                            "`match.compare[{i}].{key}` has {} values; a {} comparison has {} levels ({})",
                            probs.len(),
                            cmp.as_str(),
                            levels.len(),
                            levels.join(", ")
                        ),
                        "give one probability per level, strongest first",
                    ));
                }
                let sum: f64 = probs.iter().sum();
                if probs.iter().any(|p| !(*p > 0.0 && *p <= 1.0)) || (sum - 1.0).abs() > 0.01 {
                    return Err(bad(
                        format!("`match.compare[{i}].{key}` must be probabilities above 0 that add up to 1 (they add up to {sum})"),
                        "each level's probability, such as `m = [0.9, 0.05, 0.05]`",
                    ));
                }
            }
        }
        if self.search_term.is_none() && self.compare.is_empty() {
            return Err(bad(
                "`[match]` has neither `search_term` nor `[[match.compare]]`: nothing to match on".into(),
                "set `search_term = \"website\"` (a source column), or add a `[[match.compare]]` entry",
            ));
        }
        Ok(())
    }
}

/// The keys of `[match]`, for hints.
pub const MATCH_KEYS: &str = "the keys of `[match]` are `search_term`, `within_list`, `accept`, `review` and `[[match.compare]]` (`source`, `affinity`, `comparison`, `m`, `u`)";

/// A TOML error with the file, the line it points at, and a hint.
pub fn toml_error(file: &str, text: &str, e: &toml::de::Error, hint: &str) -> ConfigError {
    let line = e
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
    ConfigError::Invalid {
        file: file.to_string(),
        message: match line {
            Some(l) => format!("line {l}: {}", e.message()),
            None => e.message().to_string(),
        },
        hint: hint.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_example() {
        let text = r#"
[match]
search_term = "website"
within_list = "Deal Flow"
accept = 0.95
review = 0.75
[[match.compare]]
source = "company_name"
affinity = "name"
"#;
        let c = MatchConfig::from_toml(text, "m.toml").unwrap();
        assert_eq!(c.search_term.as_deref(), Some("website"));
        assert_eq!(c.within_list.as_deref(), Some("Deal Flow"));
        assert_eq!((c.accept(), c.review()), (0.95, 0.75));
        assert_eq!(c.compare.len(), 1);
        assert_eq!(Attr::parse(&c.compare[0].affinity), Attr::Name);
    }

    #[test]
    fn explicit_m_and_u_are_read() {
        let text = r#"
[match]
[[match.compare]]
source = "phone"
affinity = "Phone"
comparison = "number"
m = [0.9, 0.05, 0.05]
u = [0.0001, 0.001, 0.9989]
"#;
        let c = MatchConfig::from_toml(text, "m.toml").unwrap();
        assert_eq!(c.compare[0].comparison, Some(Comparison::Number));
        assert_eq!(c.compare[0].m.as_deref(), Some(&[0.9, 0.05, 0.05][..]));
        assert_eq!(c.compare[0].fixed_comparison(), Some(Comparison::Number));
    }

    #[test]
    fn thresholds_default() {
        let c = MatchConfig::from_toml("[match]\nsearch_term = \"website\"\n", "m.toml").unwrap();
        assert_eq!((c.accept(), c.review()), (DEFAULT_ACCEPT, DEFAULT_REVIEW));
    }

    #[test]
    fn errors_name_file_key_line_and_hint() {
        let cases = [
            (
                "[match]\nsearch_term = \"website\"\nacept = 0.9\n",
                &["`m.toml`", "line 3", "acept", "hint:"][..],
            ),
            (
                "[match]\nsearch_term = \"w\"\n[[match.compare]]\nsource = \"a\"\naffinity = \"name\"\nweight = 2\n",
                &["`m.toml`", "weight", "hint:"],
            ),
            ("[match]\n", &["nothing to match on", "hint:"]),
            ("[match]\nsearch_term = \"w\"\naccept = 1.5\n", &["`match.accept`", "hint:"]),
            (
                "[match]\nsearch_term = \"w\"\naccept = 0.7\nreview = 0.8\n",
                &["`match.review`", "above", "hint:"],
            ),
            ("[other]\nx = 1\n", &["no `[match]` section", "hint:"]),
            ("[match\n", &["line 1", "hint:"]),
            (
                "[match]\n[[match.compare]]\nsource = \"a\"\naffinity = \"Phone\"\nm = [0.9, 0.1]\n",
                &["`match.compare[0].m`", "comparison", "hint:"],
            ),
            (
                "[match]\n[[match.compare]]\nsource = \"a\"\naffinity = \"domain\"\nm = [0.9, 0.1]\n",
                &["has 2 values", "3 levels", "hint:"],
            ),
            (
                "[match]\n[[match.compare]]\nsource = \"a\"\naffinity = \"domain\"\nu = [0.5, 0.4, 0.4]\n",
                &["add up to", "hint:"],
            ),
            (
                "[match]\n[[match.compare]]\nsource = \"a\"\naffinity = \"name\"\ncomparison = \"date\"\n",
                &["cannot use", "hint:"],
            ),
            (
                "[match]\n[[match.compare]]\nsource = \"a\"\naffinity = \"dob\"\ncomparison = \"datum\"\n",
                &["datum", "hint:"],
            ),
        ];
        for (text, needles) in cases {
            let e = MatchConfig::from_toml(text, "m.toml").unwrap_err();
            use crate::diagnostic::Diagnose;
            let e = format!("{e}\nhint: {}", e.hint().unwrap_or_default());
            for n in needles {
                assert!(e.contains(n), "{text:?}: {e:?} lacks {n:?}");
            }
        }
    }
}
