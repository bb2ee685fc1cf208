//! Field by field: how a source record's compared values agree with a candidate's (same,
//! close, different, missing), and what the matcher said each field contributed to the score.
//! Pure: the contributions are read from the decision's reason (the matcher writes the
//! waterfall of a candidate's match weight there: `Acme (organization 201) scored 0.87 (prior −3.1,
//! `company_name` ~ name similar ≥0.90 +8.2)`); the agreement is the matcher's comparison
//! level when the reason gives one, else the matcher's own similarity of the two values.

use affsync_core::matcher::config::Attr;
use affsync_core::matcher::normalize;
use affsync_core::matcher::score;
use affsync_core::matcher::Kind;

use crate::store::review::EntityCard;

/// How two values of a field agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Agreement {
    /// Worst first: the order in which a field "disagrees most".
    Different,
    Missing,
    Close,
    Same,
}

impl Agreement {
    pub fn as_str(self) -> &'static str {
        match self {
            Agreement::Same => "same",
            Agreement::Close => "close",
            Agreement::Different => "different",
            Agreement::Missing => "missing",
        }
    }

    /// The agreement a comparison level of the matcher stands for.
    pub fn of_level(level: &str) -> Agreement {
        let l = level.trim();
        if l.starts_with("exact") {
            Agreement::Same
        } else if l.starts_with("missing") {
            Agreement::Missing
        } else if l.starts_with("different") || l.starts_with("else") {
            Agreement::Different
        } else {
            Agreement::Close
        }
    }
}

/// A similarity at or above this is "close" (the matcher's review band starts near it).
pub const CLOSE: f64 = 0.80;

/// One field's contribution to a candidate's match weight, as the reason gives it.
#[derive(Debug, Clone, PartialEq)]
pub struct Contribution {
    /// `exact`, `similar ≥0.90`, `missing`, ...
    pub level: String,
    /// Bits for (positive) or against (negative) the match.
    pub weight: f64,
}

/// The waterfall the reason gives for candidate `affinity_id`: the text inside the
/// parentheses after `Name (kind ID) scored X`, or `kind ID scored X` (a candidate without a
/// name, and reasons written before names were), when there is one.
fn waterfall_of<'a>(reason: &'a str, affinity_id: &str) -> Option<&'a str> {
    [") scored ", " scored "]
        .iter()
        .find_map(|tail| waterfall_after(reason, &format!("{affinity_id}{tail}")))
}

fn waterfall_after<'a>(reason: &'a str, key: &str) -> Option<&'a str> {
    let mut from = 0;
    while let Some(at) = reason[from..].find(key) {
        let at = from + at;
        from = at + key.len();
        // The id is a whole word.
        if reason[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric())
        {
            continue;
        }
        let rest = &reason[from..];
        let open = rest.find('(')?;
        // Only the score stands between `scored` and the parenthesis.
        if rest[..open].trim().contains(' ') {
            continue;
        }
        let mut depth = 0usize;
        for (i, c) in rest[open..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => {
                    depth -= 1;
                    if depth == 0 {
                        return Some(&rest[open + 1..open + i]);
                    }
                }
                _ => {}
            }
        }
        return None;
    }
    None
}

/// What the reason says compared column `column` (against attribute `attr`) contributed to
/// candidate `affinity_id`'s weight.
pub fn contribution(
    reason: &str,
    affinity_id: &str,
    column: &str,
    attr: &str,
) -> Option<Contribution> {
    let w = waterfall_of(reason, affinity_id)?;
    let key = format!("`{column}` ~ {attr} ");
    let at = w.find(&key)? + key.len();
    let rest = &w[at..];
    // The item ends where the next one starts (`, `` ` ``, `, prior`) or at the end.
    let end = [", `", ", prior", ", first and last"]
        .iter()
        .filter_map(|s| rest.find(s))
        .min()
        .unwrap_or(rest.len());
    let item = rest[..end].trim();
    let (level, weight) = item.rsplit_once(' ')?;
    let weight: f64 = weight.replace('−', "-").parse().ok()?;
    Some(Contribution {
        level: level.trim().to_string(),
        weight,
    })
}

/// What a card holds for a compared attribute, as text.
pub fn card_value(card: &EntityCard, attr: &str) -> String {
    match Attr::parse(attr) {
        Attr::Name => card.name.clone(),
        Attr::FirstName => card
            .name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string(),
        Attr::LastName => card
            .name
            .split_whitespace()
            .last()
            .unwrap_or_default()
            .to_string(),
        Attr::Domain => card.domains.join(", "),
        Attr::Email => card.emails.join(", "),
        Attr::Field(f) => card
            .fields
            .get(&f)
            .map(|v| v.join(", "))
            .unwrap_or_default(),
    }
}

/// How a source value agrees with a card's value of the attribute, by the matcher's own
/// normalization and similarity.
pub fn agreement(kind: Option<Kind>, attr: &str, source: &str, card: &EntityCard) -> Agreement {
    let source = source.trim();
    let theirs = card_value(card, attr);
    if source.is_empty() || theirs.trim().is_empty() {
        return Agreement::Missing;
    }
    let keys = |f: fn(&str) -> Option<String>, vs: &[String]| -> Vec<String> {
        vs.iter().filter_map(|v| f(v)).collect()
    };
    let sim = match Attr::parse(attr) {
        Attr::Name => match kind {
            Some(Kind::Person) => score::person_sim(
                &normalize::person_name(source),
                &normalize::person_name(&theirs),
            ),
            Some(Kind::Opportunity) => {
                score::text_sim(&normalize::fold(source), &normalize::fold(&theirs))
            }
            _ => {
                let (a, b) = (normalize::org_name(source), normalize::org_name(&theirs));
                // The matcher's level `exact without legal form`: the same name.
                if !a.norm.is_empty() && a.norm == b.norm {
                    return Agreement::Same;
                }
                score::org_sim(&a, &b)
            }
        },
        Attr::FirstName | Attr::LastName => score::part_sim(
            &normalize::person_part(source),
            &normalize::person_part(&theirs),
        ),
        Attr::Domain => {
            let a = keys(normalize::domain_key, &[source.to_string()]);
            let b = keys(normalize::domain_key, &card.domains);
            if a.is_empty() || b.is_empty() {
                return Agreement::Missing;
            }
            score::domain_sim(&a, &b)
        }
        Attr::Email => {
            let a = keys(normalize::email_key, &[source.to_string()]);
            let b = keys(normalize::email_key, &card.emails);
            if a.is_empty() || b.is_empty() {
                return Agreement::Missing;
            }
            score::email_sim(&a, &b)
        }
        Attr::Field(f) => {
            let b: Vec<String> = card
                .fields
                .get(&f)
                .map(|v| v.iter().map(|s| normalize::fold(s)).collect())
                .unwrap_or_default();
            score::texts_sim(&[normalize::fold(source)], &b)
        }
    };
    if sim >= 0.999 {
        Agreement::Same
    } else if sim >= CLOSE {
        Agreement::Close
    } else {
        Agreement::Different
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const REASON: &str = "best candidate Acme (UK) 2015 (organization 201) scored 0.87 (prior −3.1, `company_name` ~ name similar ≥0.90 +8.2, `website` ~ domain missing 0), between review 0.50 and accept 1.00, and the runner-up organization 2015 scored 0.80 (prior −3.1, `company_name` ~ name different −4.0)";

    #[test]
    fn contributions_are_read_per_candidate_from_the_reason() {
        for (id, col, attr, want) in [
            ("201", "company_name", "name", Some(("similar ≥0.90", 8.2))),
            ("201", "website", "domain", Some(("missing", 0.0))),
            ("2015", "company_name", "name", Some(("different", -4.0))),
            ("2015", "website", "domain", None),
            ("20", "company_name", "name", None),
            ("999", "company_name", "name", None),
        ] {
            let got = contribution(REASON, id, col, attr);
            assert_eq!(
                got.as_ref().map(|c| (c.level.as_str(), c.weight)),
                want,
                "{id} {col}"
            );
        }
        assert_eq!(contribution("name close to Acme", "201", "n", "name"), None);
    }

    #[test]
    fn levels_and_similarities_read_as_agreement() {
        for (level, want) in [
            ("exact", Agreement::Same),
            ("exact without legal form", Agreement::Same),
            ("similar ≥0.90", Agreement::Close),
            ("same name, other suffix", Agreement::Close),
            ("missing", Agreement::Missing),
            ("different", Agreement::Different),
        ] {
            assert_eq!(Agreement::of_level(level), want, "{level}");
        }
        let card = EntityCard {
            name: "Analytical Engines".into(),
            domains: vec!["analytical.io".into()],
            fields: [("Industry".to_string(), vec!["Software".to_string()])].into(),
            ..EntityCard::default()
        };
        let org = Some(Kind::Organization);
        for (attr, source, want) in [
            ("name", "Analytical Engines", Agreement::Same),
            ("name", "Analytical Engines Ltd", Agreement::Same),
            ("name", "Analytcal Engines", Agreement::Close),
            ("name", "Cobol Systems", Agreement::Different),
            ("name", "", Agreement::Missing),
            ("domain", "https://www.analytical.io/about", Agreement::Same),
            ("domain", "cobol.dev", Agreement::Different),
            ("Industry", "software", Agreement::Same),
            ("Stage", "Seed", Agreement::Missing),
        ] {
            assert_eq!(agreement(org, attr, source, &card), want, "{attr} {source}");
        }
        assert!(Agreement::Different < Agreement::Missing && Agreement::Close < Agreement::Same);
    }
}
