//! Value conversion: one source cell, a `[[fields]]` entry and the catalog field it goes to,
//! turned into the mirror's form (`Vec<ValueItem>`, as `pull` stores Affinity's values), so that
//! a push can compare what it wants with what the mirror holds. Pure: no I/O, no clock; a
//! person or organization named by email or domain is looked up through a [`Resolve`] the caller
//! gives (the mirror provides one).
//!
//! The rules:
//! - an empty cell is no value (`Ok(vec![])`);
//! - several values in one cell are separated by `;`, and only a multi-valued field takes them
//!   (`text` is never split: a sentence may hold a `;`);
//! - dates are written at noon UTC (affinity-api.md §8.7), from ISO dates or the `date_format`;
//! - numbers as numbers (`1,200` and `1_200` read as 1200);
//! - dropdown options by id (`ref_id`) with the option's text, chosen case-insensitively;
//!   a ranked option also carries its rank (`number`), as pull stores it;
//! - URLs normalized (scheme, lower-case host, no fragment), LinkedIn URLs in their canonical
//!   form `https://www.linkedin.com/company/slug`;
//! - emails trimmed and lower-cased;
//! - a location from `City, State, Country` into pull's shape (text and v2 JSON);
//! - persons and organizations by id, email or domain.

use crate::mapping::{FieldSpec, ValueKind};
use crate::matcher::normalize::{domain_key, linkedin_key};
use crate::model::{time_text, FieldRow, Location, ValueItem};

/// The separator of several values in one cell.
pub const MULTI_SEPARATOR: char = ';';

/// What a `[[fields]]` entry's `affinity` names besides a field: a record's own attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Special {
    /// An organization's or opportunity's name.
    Name,
    /// An organization's domain (its registrable domain).
    Domain,
    /// A person's first name.
    FirstName,
    /// A person's last name.
    LastName,
    /// A person's email addresses.
    Emails,
}

impl Special {
    /// `name`, `domain`, `first_name`, `last_name` or `emails` (also `email`, `domains`).
    pub fn parse(s: &str) -> Option<Special> {
        match s {
            "name" => Some(Special::Name),
            "domain" | "domains" => Some(Special::Domain),
            "first_name" => Some(Special::FirstName),
            "last_name" => Some(Special::LastName),
            "emails" | "email" => Some(Special::Emails),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Special::Name => "name",
            Special::Domain => "domain",
            Special::FirstName => "first_name",
            Special::LastName => "last_name",
            Special::Emails => "emails",
        }
    }

    /// The `value_type` of the items this target gets.
    pub fn value_type(self) -> &'static str {
        match self {
            Special::Name | Special::FirstName | Special::LastName => "text",
            Special::Domain => "domain",
            Special::Emails => "email",
        }
    }

    /// The types this target takes, the first being the one to suggest.
    pub fn accepts(self) -> &'static [ValueKind] {
        match self {
            Special::Name | Special::FirstName | Special::LastName => &[ValueKind::Text],
            Special::Domain => &[ValueKind::Url],
            Special::Emails => &[ValueKind::Email],
        }
    }
}

/// Where a converted value goes: a field of the catalog, or a record's own attribute.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Target<'a> {
    Field(&'a FieldRow),
    Special(Special),
}

impl Target<'_> {
    /// Whether the target holds several values.
    pub fn is_multi(&self) -> bool {
        match self {
            Target::Field(f) => f.allows_multiple || f.value_type.ends_with("-multi"),
            Target::Special(s) => *s == Special::Emails,
        }
    }

    /// How the target is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Target::Field(f) => format!("`{}`", f.name),
            Target::Special(s) => format!("`{}`", s.as_str()),
        }
    }

    fn value_type(&self) -> &str {
        match self {
            Target::Field(f) => &f.value_type,
            Target::Special(s) => s.value_type(),
        }
    }
}

/// The v2 value type without its `-multi` suffix.
pub fn base_value_type(value_type: &str) -> &str {
    value_type.strip_suffix("-multi").unwrap_or(value_type)
}

/// The declared types a field of this v2 value type takes, the first being the one to suggest;
/// empty for the types only Affinity writes (formulas, interactions, filterable text).
pub fn kinds_for_value_type(value_type: &str) -> &'static [ValueKind] {
    match base_value_type(value_type) {
        "text" => &[ValueKind::Text, ValueKind::Url, ValueKind::Email],
        "number" => &[ValueKind::Number],
        "datetime" => &[ValueKind::Date],
        "dropdown" => &[ValueKind::Dropdown],
        "ranked-dropdown" => &[ValueKind::RankedDropdown],
        "location" => &[ValueKind::Location],
        "person" => &[ValueKind::Person],
        "company" => &[ValueKind::Organization],
        _ => &[],
    }
}

/// A field's type in words, for messages: `a date field`, `a multi-valued dropdown field`.
pub fn field_type_words(f: &FieldRow) -> String {
    let base = match base_value_type(&f.value_type) {
        "text" => "text",
        "number" => "number",
        "datetime" => "date",
        "dropdown" => "dropdown",
        "ranked-dropdown" => "ranked dropdown",
        "location" => "location",
        "person" => "person",
        "company" => "organization",
        "filterable-text" => "filterable text",
        "formula-number" => "formula",
        "interaction" => "interaction",
        other => other,
    };
    let multi = if f.allows_multiple || f.value_type.ends_with("-multi") {
        "multi-valued "
    } else {
        ""
    };
    let article = if multi.is_empty() && base.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {multi}{base} field")
}

/// A declared type that cannot go to a target: what is wrong and what to declare instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct PairingError {
    pub message: String,
    pub hint: String,
}

/// Whether a value declared `kind` can go to `target`.
pub fn check_pairing(kind: ValueKind, target: &Target) -> Result<(), PairingError> {
    let accepted: &[ValueKind] = match target {
        Target::Field(f) => {
            if f.field_type == "enriched" || f.field_type == "relationship-intelligence" {
                let by = f
                    .enrichment_source
                    .as_deref()
                    .map(|s| format!(" (by {s})"))
                    .unwrap_or_default();
                return Err(PairingError {
                    message: format!(
                        "`{}` is filled by Affinity{by} and cannot be written",
                        f.name
                    ),
                    hint: "map the column to a custom field instead".into(),
                });
            }
            kinds_for_value_type(&f.value_type)
        }
        Target::Special(s) => s.accepts(),
    };
    if accepted.contains(&kind) {
        return Ok(());
    }
    let (what, hint) = match target {
        Target::Field(f) => {
            let words = field_type_words(f);
            let hint = match accepted.first() {
                Some(k) => format!(
                    "`{}` is {words}; declare `type = \"{}\"`",
                    f.name,
                    k.as_str()
                ),
                None => format!("`{}` is {words}, which only Affinity writes", f.name),
            };
            (words, hint)
        }
        Target::Special(s) => {
            let k = accepted[0];
            (
                format!("the record's `{}`", s.as_str()),
                format!("`{}` takes `type = \"{}\"`", s.as_str(), k.as_str()),
            )
        }
    };
    Err(PairingError {
        message: format!(
            "a `{}` value cannot go to {} ({what})",
            kind.as_str(),
            target.describe()
        ),
        hint,
    })
}

/// How a cell is read: the declared type and, for dates, a chrono format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule<'a> {
    pub kind: ValueKind,
    /// A chrono format (`%d/%m/%Y`) for dates that are not ISO dates.
    pub date_format: Option<&'a str>,
}

impl<'a> Rule<'a> {
    pub fn new(kind: ValueKind) -> Rule<'a> {
        Rule {
            kind,
            date_format: None,
        }
    }

    /// The rule of a `[[fields]]` entry.
    pub fn of(spec: &'a FieldSpec) -> Rule<'a> {
        Rule {
            kind: *spec.ty.get_ref(),
            date_format: spec.date_format.as_ref().map(|f| f.get_ref().as_str()),
        }
    }
}

/// How a person or organization is named in a cell.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RefKey {
    /// An Affinity id.
    Id(i64),
    /// An email address, lower-cased.
    Email(String),
    /// A registrable domain.
    Domain(String),
}

/// A person or organization found by a [`Resolve`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub id: i64,
    /// A person's full name (or email), an organization's name, as pull stores it.
    pub name: Option<String>,
}

/// Finds the persons and organizations that cells name by id, email or domain.
pub trait Resolve {
    fn person(&self, key: &RefKey) -> Option<Resolved>;
    fn organization(&self, key: &RefKey) -> Option<Resolved>;
}

/// A resolver that finds nothing: ids are taken at their word, emails and domains do not
/// resolve.
pub struct NoResolve;

impl Resolve for NoResolve {
    fn person(&self, _: &RefKey) -> Option<Resolved> {
        None
    }
    fn organization(&self, _: &RefKey) -> Option<Resolved> {
        None
    }
}

/// A cell that cannot become a value of its target.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ValueError {
    #[error("{0}")]
    Pairing(PairingError),
    #[error("`{value}` is not a date")]
    BadDate {
        value: String,
        format: Option<String>,
    },
    #[error("`{value}` is not a number")]
    BadNumber { value: String },
    #[error("`{value}` is not a URL: {reason}")]
    BadUrl { value: String, reason: String },
    #[error("`{value}` is not an email address")]
    BadEmail { value: String },
    #[error("`{value}` is not an option of {field}")]
    UnknownOption {
        value: String,
        field: String,
        /// The closest options, best first.
        closest: Vec<String>,
        /// Every option, for the hint when none is close.
        options: Vec<String>,
    },
    #[error("{count} values for {field}, which holds one")]
    SeveralValues { count: usize, field: String },
    #[error("`{value}` is not a {kind} id, email or domain")]
    BadReference { value: String, kind: &'static str },
    #[error("no {kind} with {key} in the mirror")]
    Unresolved { kind: &'static str, key: String },
    #[error("`{value}` is not a location")]
    BadLocation { value: String },
}

impl ValueError {
    /// What to do about it.
    pub fn hint(&self) -> String {
        match self {
            ValueError::Pairing(p) => p.hint.clone(),
            ValueError::BadDate {
                format: Some(f), ..
            } => {
                format!("dates are read with `date_format = \"{f}\"`")
            }
            ValueError::BadDate { format: None, .. } => {
                "write ISO dates (`2024-03-05`) or set `date_format` (`\"%d/%m/%Y\"`)".into()
            }
            ValueError::BadNumber { .. } => "write a plain number such as `1200` or `12.5`".into(),
            ValueError::BadUrl { .. } => "write a website such as `https://acme.com`".into(),
            ValueError::BadEmail { .. } => "write an address such as `jo@acme.com`".into(),
            ValueError::UnknownOption {
                closest, options, ..
            } => {
                if let Some(best) = closest.first() {
                    format!("did you mean `{best}`?")
                } else {
                    format!(
                        "the options are {}",
                        options
                            .iter()
                            .map(|o| format!("`{o}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            }
            ValueError::SeveralValues { .. } => {
                "give one value, or map the column to a multi-valued field".into()
            }
            ValueError::BadReference { .. } => {
                "name it by Affinity id (`51000192`), email or domain".into()
            }
            ValueError::Unresolved { .. } => {
                "pull a list that holds it, or name it by Affinity id".into()
            }
            ValueError::BadLocation { .. } => "write `City, State, Country`".into(),
        }
    }
}

/// One cell as the mirror's items for `target` (none when the cell is empty).
pub fn convert(
    cell: &str,
    rule: Rule,
    target: &Target,
    resolve: &dyn Resolve,
) -> Result<Vec<ValueItem>, ValueError> {
    check_pairing(rule.kind, target).map_err(ValueError::Pairing)?;
    let cell = cell.trim();
    if cell.is_empty() {
        return Ok(vec![]);
    }
    let parts: Vec<&str> = if rule.kind == ValueKind::Text || rule.kind == ValueKind::Location {
        // Text is never split; a location holds commas, and several are `;`-separated.
        if rule.kind == ValueKind::Location && target.is_multi() {
            split(cell)
        } else {
            vec![cell]
        }
    } else {
        split(cell)
    };
    if parts.len() > 1 && !target.is_multi() {
        return Err(ValueError::SeveralValues {
            count: parts.len(),
            field: target.describe(),
        });
    }
    let item = || ValueItem {
        value_type: target.value_type().to_string(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(parts.len());
    for p in parts {
        let v = match rule.kind {
            ValueKind::Text => match target {
                Target::Special(_) | Target::Field(_) => ValueItem {
                    text: Some(p.to_string()),
                    ..item()
                },
            },
            ValueKind::Url => match target {
                Target::Special(Special::Domain) => ValueItem {
                    text: Some(registrable_domain(p)?),
                    ..item()
                },
                _ => ValueItem {
                    text: Some(normalize_url(p)?),
                    ..item()
                },
            },
            ValueKind::Email => ValueItem {
                text: Some(normalize_email(p)?),
                ..item()
            },
            ValueKind::Number => ValueItem {
                number: Some(parse_number(p)?),
                ..item()
            },
            ValueKind::Date => ValueItem {
                at: Some(parse_date(p, rule.date_format)?),
                ..item()
            },
            ValueKind::Dropdown | ValueKind::RankedDropdown => {
                let Target::Field(f) = target else {
                    unreachable!("pairing allows dropdowns to fields only")
                };
                let o = find_option(f, p)?;
                ValueItem {
                    ref_id: Some(o.option_id),
                    text: Some(o.text.clone()),
                    number: if rule.kind == ValueKind::RankedDropdown {
                        o.rank.map(|r| r as f64)
                    } else {
                        None
                    },
                    ..item()
                }
            }
            ValueKind::Location => {
                let l = parse_location(p)?;
                ValueItem {
                    text: location_text(&l),
                    json: serde_json::to_string(&l).ok(),
                    ..item()
                }
            }
            ValueKind::Person => {
                let key = reference_key(p, "person")?;
                let r = resolve_ref(resolve.person(&key), &key, "person")?;
                ValueItem {
                    ref_id: Some(r.id),
                    text: r.name,
                    ..item()
                }
            }
            ValueKind::Organization => {
                let key = reference_key(p, "organization")?;
                let r = resolve_ref(resolve.organization(&key), &key, "organization")?;
                ValueItem {
                    ref_id: Some(r.id),
                    text: r.name,
                    ..item()
                }
            }
        };
        out.push(v);
    }
    Ok(out)
}

/// Whether the items a cell converts to are the value the mirror holds: dropdowns, persons and
/// organizations by id, dates by their UTC day (Affinity keeps a date at noon UTC, or since
/// 2026 at midnight US Pacific: the same UTC day, affinity-api.md §8.7), locations by their
/// parts, the rest by text or number. Order matters only for single values.
pub fn same_value(desired: &[ValueItem], mirror: &[ValueItem]) -> bool {
    if desired.len() != mirror.len() {
        return false;
    }
    let key = |v: &ValueItem| -> String {
        if let Some(id) = v.ref_id {
            return format!("ref:{id}");
        }
        if let Some(at) = &v.at {
            return format!("at:{}", at.get(..10).unwrap_or(at));
        }
        if base_value_type(&v.value_type) == "location" {
            return format!(
                "loc:{}",
                v.text.as_deref().unwrap_or_default().to_lowercase()
            );
        }
        if let Some(n) = v.number {
            return format!("num:{n}");
        }
        format!("text:{}", v.text.as_deref().unwrap_or_default())
    };
    let mut a: Vec<String> = desired.iter().map(key).collect();
    let mut b: Vec<String> = mirror.iter().map(key).collect();
    a.sort();
    b.sort();
    a == b
}

fn split(cell: &str) -> Vec<&str> {
    cell.split(MULTI_SEPARATOR)
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect()
}

/// A website with a scheme (`https` by default), a lower-case host, no fragment, no bare
/// trailing `/`; a LinkedIn page as `https://www.linkedin.com/in/slug`.
pub fn normalize_url(s: &str) -> Result<String, ValueError> {
    let bad = |reason: &str| ValueError::BadUrl {
        value: s.to_string(),
        reason: reason.to_string(),
    };
    let t = s.trim();
    if t.chars().any(char::is_whitespace) {
        return Err(bad("it holds a space"));
    }
    let with_scheme = if t.contains("://") {
        t.to_string()
    } else {
        format!("https://{t}")
    };
    let mut u = url::Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    if u.scheme() != "http" && u.scheme() != "https" {
        return Err(bad("only `http` and `https` URLs are websites"));
    }
    let host = u
        .host_str()
        .ok_or_else(|| bad("it has no host"))?
        .to_string();
    let bare = host.trim_start_matches("www.");
    if !bare.contains('.') || psl::domain_str(bare).is_none() {
        return Err(bad(&format!("`{host}` is not a domain")));
    }
    if host == "linkedin.com" || host.ends_with(".linkedin.com") {
        return match linkedin_key(t) {
            Some(k) => Ok(format!("https://www.linkedin.com{k}")),
            None => Err(bad("not a LinkedIn profile or company page")),
        };
    }
    u.set_fragment(None);
    let mut out = u.to_string();
    if u.path() == "/" && u.query().is_none() {
        out.pop();
    }
    Ok(out)
}

/// The registrable domain of a website (`https://www.acme.co.uk/about` → `acme.co.uk`).
pub fn registrable_domain(s: &str) -> Result<String, ValueError> {
    normalize_url(s)?;
    match domain_key(s) {
        Some(d) if !d.contains('/') && !d.starts_with("linkedin.com") => Ok(d),
        _ => Err(ValueError::BadUrl {
            value: s.to_string(),
            reason: "it is not an organization's own website".into(),
        }),
    }
}

/// An email address, trimmed and lower-cased.
pub fn normalize_email(s: &str) -> Result<String, ValueError> {
    let t = s.trim();
    let t = t.strip_prefix("mailto:").unwrap_or(t).to_lowercase();
    let ok = match t.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !local.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !t.chars().any(|c| c.is_whitespace() || c == ',')
        }
        None => false,
    };
    if ok {
        Ok(t)
    } else {
        Err(ValueError::BadEmail {
            value: s.to_string(),
        })
    }
}

/// A number; `1,200` and `1_200` group thousands.
pub fn parse_number(s: &str) -> Result<f64, ValueError> {
    let t = s.trim();
    let bad = || ValueError::BadNumber {
        value: s.to_string(),
    };
    let plain: String = if t.contains(',') {
        // Only a thousands grouping: `1,200` or `12,345,678.5`.
        let int = t.split('.').next().unwrap_or(t);
        let int = int.strip_prefix('-').unwrap_or(int);
        let groups: Vec<&str> = int.split(',').collect();
        let grouped = groups[0].len() <= 3
            && !groups[0].is_empty()
            && groups[1..].iter().all(|g| g.len() == 3);
        if !grouped {
            return Err(bad());
        }
        t.replace(',', "")
    } else {
        t.replace('_', "")
    };
    match plain.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        _ => Err(bad()),
    }
}

/// A date at noon UTC, as the store writes times.
pub fn parse_date(s: &str, format: Option<&str>) -> Result<String, ValueError> {
    use chrono::{DateTime, NaiveDate, NaiveTime};
    let t = s.trim();
    let bad = || ValueError::BadDate {
        value: s.to_string(),
        format: format.map(str::to_string),
    };
    let date = match format {
        Some(f) => NaiveDate::parse_from_str(t, f).map_err(|_| bad())?,
        None => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .ok()
            .or_else(|| DateTime::parse_from_rfc3339(t).ok().map(|d| d.date_naive()))
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
                    .ok()
                    .map(|d| d.date())
            })
            .ok_or_else(bad)?,
    };
    let noon = NaiveTime::from_hms_opt(12, 0, 0).expect("noon is a time");
    Ok(time_text(date.and_time(noon).and_utc()))
}

/// Whether a text reads as a date (ISO, or a few common written forms), for the checker's
/// profile of a column.
pub fn looks_like_date(s: &str) -> bool {
    let t = s.trim();
    parse_date(t, None).is_ok()
        || [
            "%d/%m/%Y",
            "%m/%d/%Y",
            "%d.%m.%Y",
            "%Y/%m/%d",
            "%b %d, %Y",
            "%d %b %Y",
        ]
        .iter()
        .any(|f| chrono::NaiveDate::parse_from_str(t, f).is_ok())
}

fn find_option<'f>(f: &'f FieldRow, text: &str) -> Result<&'f crate::model::OptionRow, ValueError> {
    let want = text.trim();
    if let Some(o) = f
        .options
        .iter()
        .find(|o| o.text.trim().to_lowercase() == want.to_lowercase())
    {
        return Ok(o);
    }
    let texts: Vec<String> = f.options.iter().map(|o| o.text.clone()).collect();
    Err(ValueError::UnknownOption {
        value: want.to_string(),
        field: format!("`{}`", f.name),
        closest: closest(want, &texts, 3),
        options: texts,
    })
}

/// The candidates closest to `word` (case-insensitive Jaro-Winkler at least 0.8, or a
/// normalized Levenshtein at least 0.6), best first, at most `n`. Never one whose identity
/// tokens differ from the word's (`Series D` is not offered `Series A`, nor `Fund III` `Fund
/// II`): the matcher's rule, as a "did you mean" would invite the wrong value.
pub fn closest(word: &str, candidates: &[String], n: usize) -> Vec<String> {
    use crate::matcher::{identity::conflict_names, normalize::fold};
    let w = word.to_lowercase();
    let folded = fold(word);
    let mut scored: Vec<(f64, &String)> = candidates
        .iter()
        .filter(|c| conflict_names(&folded, &fold(c), false).is_none())
        .map(|c| {
            let l = c.to_lowercase();
            let s = strsim::jaro_winkler(&w, &l).max(strsim::normalized_levenshtein(&w, &l));
            (s, c)
        })
        .filter(|(s, c)| *s >= 0.8 || strsim::normalized_levenshtein(&w, &c.to_lowercase()) >= 0.6)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, c)| c.clone()).collect()
}

fn parse_location(s: &str) -> Result<Location, ValueError> {
    let parts: Vec<String> = s
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let some = |s: &String| Some(s.clone());
    let l = match parts.as_slice() {
        [] => {
            return Err(ValueError::BadLocation {
                value: s.to_string(),
            })
        }
        [city] => Location {
            city: some(city),
            ..Default::default()
        },
        [city, country] => Location {
            city: some(city),
            country: some(country),
            ..Default::default()
        },
        [city, state, country] => Location {
            city: some(city),
            state: some(state),
            country: some(country),
            ..Default::default()
        },
        [street @ .., city, state, country] => Location {
            street_address: Some(street.join(", ")),
            city: some(city),
            state: some(state),
            country: some(country),
            ..Default::default()
        },
    };
    Ok(l)
}

/// A location's parts joined as pull writes them.
fn location_text(l: &Location) -> Option<String> {
    let parts: Vec<&str> = [&l.street_address, &l.city, &l.state, &l.country]
        .into_iter()
        .flatten()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// How a cell names a person or organization: an id, an email, or (organizations) a domain.
pub fn reference_key(s: &str, kind: &'static str) -> Result<RefKey, ValueError> {
    let t = s.trim();
    let bad = || ValueError::BadReference {
        value: s.to_string(),
        kind,
    };
    if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        return t.parse().map(RefKey::Id).map_err(|_| bad());
    }
    if t.contains('@') {
        let e = normalize_email(t).map_err(|_| bad())?;
        return Ok(if kind == "person" {
            RefKey::Email(e)
        } else {
            RefKey::Domain(domain_key(&e).ok_or_else(bad)?)
        });
    }
    if kind == "organization" {
        if let Ok(d) = registrable_domain(t) {
            return Ok(RefKey::Domain(d));
        }
    }
    Err(bad())
}

fn resolve_ref(
    found: Option<Resolved>,
    key: &RefKey,
    kind: &'static str,
) -> Result<Resolved, ValueError> {
    match (found, key) {
        (Some(r), _) => Ok(r),
        // An id is taken at its word: the mirror need not hold every record.
        (None, RefKey::Id(id)) => Ok(Resolved {
            id: *id,
            name: None,
        }),
        (None, RefKey::Email(e)) => Err(ValueError::Unresolved {
            kind,
            key: format!("email `{e}`"),
        }),
        (None, RefKey::Domain(d)) => Err(ValueError::Unresolved {
            kind,
            key: format!("domain `{d}`"),
        }),
    }
}

#[cfg(test)]
mod tests;
