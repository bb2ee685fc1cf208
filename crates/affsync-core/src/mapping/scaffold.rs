//! A first mapping file, guessed from an enrichment file's header and a sample of its rows, and
//! the field catalog (`affsync mapping new`). Pure: the caller reads the file and the catalog.
//!
//! The guesses:
//! - the id column: `id`, `source_id` or a column ending in `_id` whose sampled values are all
//!   there and all different, else the first such column;
//! - the search term: a website or domain column for organizations (not a LinkedIn one), an
//!   email column for persons; opportunities have none (their name is compared, fuzzily,
//!   within the list);
//! - the record's own attributes: a name column (organizations, opportunities), first and last
//!   name columns (persons), the website as `domain`, the email as `emails`;
//! - every other column is mapped to the field (of the list, or global for the kind) whose name
//!   is the same or close (Jaro-Winkler or normalized Levenshtein on the words, with a trailing
//!   `_email`, `_url`, `_date`... also tried without), when its sampled values convert to the
//!   field's type; each field is taken by at most one column, the closest first.
//!
//! The text is then checked as `affsync check` checks it (against the same catalog and sample):
//! a `[[fields]]` entry that the checker finds an error in is left out, with the error's words
//! in a comment, so the file written passes `check`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::matcher::SourceRecord;
use crate::model::{FieldRow, Kind, ListRow};

use super::catalog::Catalog;
use super::check::{check, SourceSample};
use super::convert::{
    convert, field_type_words, kinds_for_value_type, looks_like_date, normalize_email,
    normalize_url, parse_number, NoResolve, Rule, Special, Target, ValueError,
};
use super::{Mapping, ValueKind};

/// How close a column's name must be to a field's (0 to 1) to be mapped to it.
pub const NAME_THRESHOLD: f64 = 0.88;
/// The share of a column's sampled values that must convert to a field's type.
pub const FIT_THRESHOLD: f64 = 0.8;

/// What a mapping is scaffolded from.
#[derive(Debug, Clone)]
pub struct Input<'a> {
    pub kind: Kind,
    /// The list the records are added to (`[push] add_to_list`).
    pub list: &'a ListRow,
    pub catalog: &'a Catalog,
    /// The file's columns, in order.
    pub columns: &'a [String],
    /// A sample of its rows (every column).
    pub rows: &'a [SourceRecord],
    /// `[source] path` as the mapping file will say it (relative to the mapping's folder).
    pub source_path: String,
    /// Where the mapping will be written (for the checker's messages).
    pub mapping_path: &'a Path,
    /// Its `name`: the identity its decisions and verdicts are kept under.
    pub name: Option<String>,
}

/// One column mapped, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Guess {
    pub column: String,
    /// A field's name, or a record attribute (`name`, `domain`, ...).
    pub affinity: String,
    pub ty: ValueKind,
    pub fill_blank: bool,
    /// The reason, written as the entry's comment.
    pub why: String,
}

/// The scaffold: the file's text and what it guessed.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaffold {
    pub text: String,
    pub id: String,
    pub search_term: Option<String>,
    pub fields: Vec<Guess>,
    /// Columns not mapped, each with the reason.
    pub unmapped: Vec<(String, String)>,
}

/// Profile of one column's sampled values: the share of the non-empty ones of each shape.
#[derive(Debug, Clone, Default)]
struct Profile {
    cells: Vec<String>,
    distinct: usize,
    all_present: bool,
    email: f64,
    url: f64,
    linkedin: f64,
    date: f64,
    number: f64,
}

fn profile(column: &str, rows: &[SourceRecord]) -> Profile {
    let cells: Vec<String> = rows
        .iter()
        .filter_map(|r| r.values.get(column))
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .collect();
    let n = cells.len().max(1) as f64;
    let share = |f: &dyn Fn(&str) -> bool| cells.iter().filter(|c| f(c)).count() as f64 / n;
    let distinct = cells.iter().collect::<BTreeSet<_>>().len();
    Profile {
        distinct,
        all_present: !rows.is_empty() && cells.len() == rows.len(),
        email: share(&|c| normalize_email(c).is_ok()),
        url: share(&|c| !c.contains('@') && normalize_url(c).is_ok()),
        linkedin: share(&|c| c.to_lowercase().contains("linkedin.")),
        date: share(&|c| looks_like_date(c)),
        number: share(&|c| parse_number(c).is_ok()),
        cells,
    }
}

/// A name's words, lower-cased: `HQ Location`, `hq_location` and `hq-location` are all
/// `hq location`.
pub fn words(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') && !out.is_empty() {
            out.push(' ');
        }
    }
    out.trim().to_string()
}

/// Trailing words that say what a column's values are rather than what they mean.
const TYPE_WORDS: &[&str] = &[
    "email", "emails", "url", "link", "date", "usd", "eur", "gbp", "id", "text", "name",
];

/// How close a column's name is to a field's, 0 to 1 (1: the same words).
pub fn name_score(column: &str, field: &str) -> f64 {
    let f = words(field);
    let c = words(column);
    let score = |a: &str, b: &str| {
        if a.is_empty() || b.is_empty() {
            return 0.0;
        }
        if a == b {
            return 1.0;
        }
        // `LinkedIn URL` and `linkedinUrl` are one name once their spaces are gone.
        let (ca, cb) = (a.replace(' ', ""), b.replace(' ', ""));
        if ca == cb {
            return 1.0;
        }
        strsim::jaro_winkler(a, b).max(strsim::normalized_levenshtein(a, b))
    };
    let mut best = score(&c, &f);
    // The field's name as the column's last words: `job_title` → `Title`.
    if c.len() > f.len() && c.ends_with(&format!(" {f}")) {
        best = best.max(0.9);
    }
    let mut ws: Vec<&str> = c.split(' ').collect();
    while ws.len() > 1 && ws.last().is_some_and(|w| TYPE_WORDS.contains(w)) {
        ws.pop();
        // A column that only drops its type word is a little less close than one that is
        // the field's name outright.
        best = best.max(score(&ws.join(" "), &f) * 0.99);
    }
    best
}

fn has_word(column: &str, any: &[&str]) -> bool {
    words(column).split(' ').any(|w| any.contains(&w))
}

/// The share of the sampled cells that convert to `target` as `kind` (a person or
/// organization named by email or domain counts: the mirror may know it later).
fn fit(p: &Profile, kind: ValueKind, target: &Target) -> f64 {
    if p.cells.is_empty() {
        return 0.0;
    }
    if kind == ValueKind::Text && p.date >= 0.5 {
        // The checker refuses a column of dates sent to a text field.
        return 0.0;
    }
    let ok = p
        .cells
        .iter()
        .filter(|c| match convert(c, Rule::new(kind), target, &NoResolve) {
            Ok(_) => true,
            Err(ValueError::Unresolved { .. }) => true,
            Err(_) => false,
        })
        .count();
    ok as f64 / p.cells.len() as f64
}

/// The declared type for a column going to a field, and how well its values fit.
fn type_for(p: &Profile, f: &FieldRow) -> Option<(ValueKind, f64)> {
    let kinds = kinds_for_value_type(&f.value_type);
    let target = Target::Field(f);
    let preferred: Vec<ValueKind> = if kinds.contains(&ValueKind::Text) {
        // A text field takes URLs and emails too; declaring them normalizes the values.
        if p.linkedin >= FIT_THRESHOLD || p.url >= FIT_THRESHOLD {
            vec![ValueKind::Url, ValueKind::Text]
        } else if p.email >= FIT_THRESHOLD {
            vec![ValueKind::Email, ValueKind::Text]
        } else {
            vec![ValueKind::Text]
        }
    } else {
        kinds.to_vec()
    };
    preferred
        .into_iter()
        .map(|k| (k, fit(p, k, &target)))
        .find(|(_, s)| *s >= FIT_THRESHOLD)
}

fn values_words(p: &Profile) -> &'static str {
    if p.linkedin >= FIT_THRESHOLD {
        "LinkedIn URLs"
    } else if p.email >= FIT_THRESHOLD {
        "emails"
    } else if p.url >= FIT_THRESHOLD {
        "websites"
    } else if p.date >= FIT_THRESHOLD {
        "dates"
    } else if p.number >= FIT_THRESHOLD {
        "numbers"
    } else {
        "text"
    }
}

/// Guesses a mapping for `input`.
pub fn scaffold(input: &Input) -> Scaffold {
    let profiles: BTreeMap<&str, Profile> = input
        .columns
        .iter()
        .map(|c| (c.as_str(), profile(c, input.rows)))
        .collect();
    let prof = |c: &str| &profiles[c];
    let cols = input.columns;

    // The id column.
    let unique = |c: &str| {
        let p = prof(c);
        p.all_present && p.distinct == p.cells.len()
    };
    let id_named = |c: &&String| {
        let w = words(c);
        w == "id" || w.ends_with(" id") || w == "key" || w == "uuid"
    };
    let id = cols
        .iter()
        .filter(id_named)
        .find(|c| unique(c))
        .or_else(|| cols.iter().find(|c| unique(c)))
        .or_else(|| cols.first())
        .cloned()
        .unwrap_or_else(|| "id".to_string());
    let id_why = if id_named(&&id) && unique(&id) {
        "its name says id, and its sampled values are all there and all different"
    } else if unique(&id) {
        "the first column whose sampled values are all there and all different"
    } else {
        "the first column; no column's values are all there and all different: name the id column"
    };

    // The id column may be the search term or a value too (an email that keys a person).
    let others: Vec<&String> = cols.iter().collect();
    let mut specials: Vec<Guess> = Vec::new();
    let special = |column: &str, s: Special, ty: ValueKind, why: String| Guess {
        column: column.to_string(),
        affinity: s.as_str().to_string(),
        ty,
        fill_blank: true,
        why,
    };
    let mut search_term = None;
    let mut compare: Vec<(String, &'static str)> = Vec::new();
    let name_col = |any: &[&str]| {
        others
            .iter()
            .find(|c| {
                let p = prof(c);
                has_word(c, any) && p.email < 0.5 && p.url < 0.5 && p.number < 0.5
            })
            .map(|c| c.to_string())
    };
    match input.kind {
        Kind::Organization => {
            let web = others
                .iter()
                .filter(|c| prof(c).linkedin < 0.5 && prof(c).url >= FIT_THRESHOLD)
                .max_by(|a, b| {
                    let named = |c: &str| {
                        has_word(c, &["website", "domain", "url", "homepage", "site", "web"])
                    };
                    (named(a), prof(a).url)
                        .partial_cmp(&(named(b), prof(b).url))
                        .unwrap_or(std::cmp::Ordering::Equal)
                })
                .map(|c| c.to_string());
            if let Some(w) = &web {
                search_term = Some(w.clone());
                specials.push(special(
                    w,
                    Special::Domain,
                    ValueKind::Url,
                    "guess: the website's domain, only where the organization has none".into(),
                ));
            }
            if let Some(n) = name_col(&["name", "company", "organization", "organisation", "org"]) {
                compare.push((n.clone(), "name"));
                specials.insert(
                    0,
                    special(
                        &n,
                        Special::Name,
                        ValueKind::Text,
                        "guess: the organization's name, only where it has none".into(),
                    ),
                );
            }
        }
        Kind::Person => {
            let email = others
                .iter()
                .filter(|c| prof(c).email >= FIT_THRESHOLD)
                .max_by_key(|c| {
                    let w = words(c);
                    // `email` before `work_email` before `owner_email`.
                    (
                        w == "email" || w == "e mail",
                        has_word(c, &["email", "mail"]),
                    )
                })
                .map(|c| c.to_string());
            if let Some(e) = &email {
                search_term = Some(e.clone());
            }
            let first = name_col(&["first", "given", "firstname"]);
            let last = name_col(&["last", "surname", "family", "lastname"]);
            for (c, s) in [(&first, Special::FirstName), (&last, Special::LastName)] {
                if let Some(c) = c {
                    compare.push((c.clone(), s.as_str()));
                    specials.push(special(
                        c,
                        s,
                        ValueKind::Text,
                        format!("guess: the person's {}, only where it has none", {
                            if s == Special::FirstName {
                                "first name"
                            } else {
                                "last name"
                            }
                        }),
                    ));
                }
            }
            if let Some(e) = &email {
                specials.push(special(
                    e,
                    Special::Emails,
                    ValueKind::Email,
                    "guess: the person's email, only where it has none".into(),
                ));
            }
        }
        Kind::Opportunity => {
            if let Some(n) = name_col(&["name", "opportunity", "deal", "company", "title"]) {
                compare.push((n.clone(), "name"));
                specials.push(special(
                    &n,
                    Special::Name,
                    ValueKind::Text,
                    "guess: the opportunity's name, only where it has none".into(),
                ));
            }
        }
    }

    // Every column against every field it may write, the closest pairs first.
    let fields: Vec<&FieldRow> = input
        .catalog
        .fields_for(input.kind, Some(input.list))
        .into_iter()
        .filter(|f| !f.is_affinity_owned() && !kinds_for_value_type(&f.value_type).is_empty())
        .collect();
    let mut pairs: Vec<(f64, &String, &FieldRow)> = Vec::new();
    for c in &others {
        for f in &fields {
            let s = name_score(c, &f.name);
            if s >= NAME_THRESHOLD {
                pairs.push((s, *c, *f));
            }
        }
    }
    pairs.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.cmp(b.1))
            .then_with(|| a.2.name.cmp(&b.2.name))
    });
    let mut taken_cols: BTreeSet<&str> = BTreeSet::new();
    let mut why_not: BTreeMap<&str, String> = BTreeMap::new();
    let mut guesses: Vec<Guess> = Vec::new();
    let mut taken_by: BTreeMap<&str, &str> = BTreeMap::new();
    for (s, c, f) in pairs {
        if taken_cols.contains(c.as_str()) {
            continue;
        }
        if let Some(by) = taken_by.get(f.id.as_str()) {
            why_not.entry(c.as_str()).or_insert_with(|| {
                format!("close to `{}`, which column `{by}` is closer to", f.name)
            });
            continue;
        }
        let p = prof(c);
        match type_for(p, f) {
            Some((ty, share)) => {
                taken_cols.insert(c.as_str());
                taken_by.insert(f.id.as_str(), c.as_str());
                let scope = match f.list_id {
                    Some(_) => format!("a field of `{}`", input.list.name),
                    None => format!("a global {} field", input.kind),
                };
                let closeness = if s >= 1.0 {
                    "same name".to_string()
                } else {
                    format!("name close, {s:.2}")
                };
                guesses.push(Guess {
                    column: c.to_string(),
                    affinity: f.name.clone(),
                    ty,
                    fill_blank: false,
                    why: format!(
                        "guess: {closeness}; {} ({scope}); {:.0}% of the sampled values convert",
                        field_type_words(f),
                        share * 100.0
                    ),
                });
            }
            None => {
                why_not.entry(c.as_str()).or_insert_with(|| {
                    format!(
                        "close to `{}` ({}), but its values ({}) do not convert to it",
                        f.name,
                        field_type_words(f),
                        values_words(p)
                    )
                });
            }
        }
    }
    // In the file's column order.
    guesses.sort_by_key(|g| cols.iter().position(|c| *c == g.column));

    let mut all: Vec<Guess> = specials;
    all.extend(guesses);
    let mut left_out: Vec<(String, String)> = Vec::new();
    let mut search = search_term.clone();
    let mut cmp = compare.clone();
    // Keep what `check` accepts: drop an entry it finds an error in, then check again.
    let text = loop {
        let text = render(input, &id, id_why, search.as_deref(), &cmp, &all);
        let Ok(m) = Mapping::parse(input.mapping_path, text.clone()) else {
            break text;
        };
        let sample = SourceSample::Read {
            missing: vec![],
            available: cols.to_vec(),
            rows: input.rows.to_vec(),
        };
        let diags = check(&m, input.catalog, &NoResolve, &sample);
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .collect();
        let Some(e) = errors.first() else {
            break text;
        };
        let field_index = e
            .key
            .strip_prefix("fields[")
            .and_then(|k| k.split(']').next())
            .and_then(|n| n.parse::<usize>().ok());
        match field_index {
            Some(i) if i < all.len() => {
                let g = all.remove(i);
                left_out.push((
                    g.column.clone(),
                    format!("not mapped to `{}`: {}", g.affinity, e.message),
                ));
            }
            _ if e.key.starts_with("match.compare") && !cmp.is_empty() => {
                cmp.clear();
            }
            _ if e.key.starts_with("match.search_term") && search.is_some() => {
                search = None;
            }
            _ => break text,
        }
    };

    let mapped: BTreeSet<&str> = all.iter().map(|g| g.column.as_str()).collect();
    let mut unmapped: Vec<(String, String)> = Vec::new();
    for c in &others {
        if mapped.contains(c.as_str()) || c.as_str() == id {
            continue;
        }
        let why = left_out
            .iter()
            .find(|(col, _)| col == *c)
            .map(|(_, w)| w.clone())
            .or_else(|| why_not.get(c.as_str()).cloned())
            .unwrap_or_else(|| {
                format!(
                    "no field of `{}` or global {} field has a name close to it",
                    input.list.name, input.kind
                )
            });
        unmapped.push((c.to_string(), why));
    }
    let text = if unmapped.is_empty() {
        text
    } else {
        let mut t = text;
        t.push_str("\n# Columns not mapped (map one by hand: `affsync fields --list ");
        t.push_str(&toml_str(&input.list.name));
        t.push_str("` lists the fields):\n");
        for (c, why) in &unmapped {
            t.push_str(&format!("#   {c}: {}\n", one_line(why)));
        }
        t
    };
    Scaffold {
        text,
        id,
        search_term: search,
        fields: all,
        unmapped,
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A TOML basic string.
pub fn toml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn render(
    input: &Input,
    id: &str,
    id_why: &str,
    search_term: Option<&str>,
    compare: &[(String, &'static str)],
    fields: &[Guess],
) -> String {
    let list = &input.list.name;
    let mut t = String::new();
    let kind = input.kind;
    t.push_str(&format!(
        "# Written by `affsync mapping new`: {} from `{}`, added to the list `{list}`.\n",
        kind.plural(),
        input.source_path
    ));
    t.push_str(
        "# Every line marked `guess` was guessed from the file's header, a sample of its rows\n\
         # and Affinity's field catalog: read each one, then run `affsync check` on this file.\n",
    );
    if let Some(n) = input
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        t.push_str(&format!(
            "name = {}  # the decisions and verdicts of this file are kept under its name\n",
            toml_str(n)
        ));
    }
    t.push_str("version = 1\n");
    t.push_str(&format!("entity = {}\n\n", toml_str(kind.as_str())));
    t.push_str("[source]\n");
    t.push_str(&format!(
        "path = {}\n",
        toml_str(&input.source_path.replace('\\', "/"))
    ));
    t.push_str(&format!("id = {}  # guess: {id_why}\n\n", toml_str(id)));
    t.push_str("[match]\n");
    match (kind, search_term) {
        (_, Some(s)) => {
            let what = if kind == Kind::Person {
                "the persons' emails"
            } else {
                "the organizations' domains"
            };
            t.push_str(&format!(
                "search_term = {}  # guess: compared with {what}\n",
                toml_str(s)
            ));
        }
        (Kind::Opportunity, None) => {
            t.push_str(&format!(
                "within_list = {}  # guess: an opportunity is looked for on its list, by name\n",
                toml_str(list)
            ));
        }
        (_, None) => {
            t.push_str(
                "# search_term = \"...\"  # no column looked like a website or an email: name one\n",
            );
        }
    }
    if kind != Kind::Opportunity {
        t.push_str(&format!(
            "# within_list = {}  # only records already on the list would be candidates\n",
            toml_str(list)
        ));
    }
    for (c, a) in compare {
        t.push_str(&format!(
            "[[match.compare]]  # guess: the fuzzy fallback, for rows the search term does not settle\nsource = {}\naffinity = {}\n",
            toml_str(c),
            toml_str(a)
        ));
    }
    t.push_str("\n[push]\n");
    t.push_str("mode = \"create_update\"  # create_update | update_only\n");
    t.push_str(&format!("add_to_list = {}\n", toml_str(list)));
    for g in fields {
        t.push_str(&format!(
            "\n[[fields]]  # {}\nsource = {}\naffinity = {}\ntype = {}\n",
            one_line(&g.why),
            toml_str(&g.column),
            toml_str(&g.affinity),
            toml_str(g.ty.as_str())
        ));
        if g.fill_blank {
            t.push_str("write = \"fill_blank\"\n");
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_read_as_words() {
        for (a, want) in [
            ("LinkedIn URL", "linkedin url"),
            ("linkedin_url", "linkedin url"),
            ("linkedinUrl", "linkedinurl"),
            ("HQ Location", "hq location"),
            ("  Ownership %", "ownership"),
        ] {
            assert_eq!(words(a), want, "{a}");
        }
    }

    #[test]
    fn close_names_score_high_and_others_low() {
        for (col, field, close) in [
            ("linkedin_url", "LinkedIn URL", true),
            ("hq_location", "HQ Location", true),
            ("last_funding_date", "Last Funding Date", true),
            ("owner_email", "Owner", true),
            ("headcount", "Headcount", true),
            ("linkedinUrl", "LinkedIn URL", true),
            ("round_size_usd", "Round Size", true),
            ("company_name", "Status", false),
            ("sectors", "Stage", false),
            ("website", "Owner", false),
            ("phone", "Title", false),
            ("job_title", "Title", true),
            ("title", "Job Title", false),
        ] {
            let s = name_score(col, field);
            assert_eq!(s >= NAME_THRESHOLD, close, "{col} vs {field}: {s}");
        }
    }

    fn field(
        id: &str,
        name: &str,
        field_type: &str,
        value_type: &str,
        list: Option<i64>,
    ) -> FieldRow {
        FieldRow {
            id: id.into(),
            name: name.into(),
            field_type: field_type.into(),
            value_type: value_type.into(),
            list_id: list,
            entity_kind: Some(Kind::Organization),
            allows_multiple: false,
            enrichment_source: (field_type == "enriched").then(|| "dealroom".to_string()),
            track_changes: None,
            options: ["Seed", "Series A"]
                .iter()
                .enumerate()
                .filter(|_| value_type == "dropdown")
                .map(|(i, t)| crate::model::OptionRow {
                    option_id: i as i64 + 1,
                    text: t.to_string(),
                    rank: None,
                    color: None,
                })
                .collect(),
        }
    }

    #[test]
    fn a_scaffold_maps_the_close_columns_whose_values_fit_and_passes_check() {
        let list = ListRow {
            id: 1,
            name: "Deal Flow".into(),
            kind: Kind::Organization,
            is_public: true,
            owner_id: None,
            creator_id: None,
        };
        let fields = vec![
            field("field-1", "Round", "list", "dropdown", Some(1)),
            field("field-2", "Headcount", "list", "number", Some(1)),
            field("field-3", "Employees", "enriched", "number", None),
            field("field-4", "Website", "list", "text", Some(1)),
        ];
        let catalog = Catalog {
            lists: vec![list.clone()],
            list_fields: [(1, fields.iter().map(|f| f.id.clone()).collect())].into(),
            fields,
        };
        let columns: Vec<String> = [
            "ref_id",
            "company",
            "site",
            "round",
            "headcount",
            "round_size_usd",
            "employees",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let rows: Vec<SourceRecord> = (0..6)
            .map(|i| SourceRecord {
                row: i + 1,
                id: Some(format!("r{i}")),
                values: columns
                    .iter()
                    .zip([
                        format!("r{i}"),
                        format!("Acme {i}"),
                        format!("https://acme{i}.com"),
                        ["Seed", "Series A"][i % 2].to_string(),
                        (10 * i).to_string(),
                        (1_000_000 * i).to_string(),
                        (11 * i).to_string(),
                    ])
                    .map(|(c, v)| (c.clone(), v))
                    .collect(),
                problem: None,
            })
            .collect();
        let s = scaffold(&Input {
            kind: Kind::Organization,
            list: &list,
            catalog: &catalog,
            columns: &columns,
            rows: &rows,
            source_path: "deals.csv".into(),
            mapping_path: Path::new("deals.toml"),
            name: Some("deals".into()),
        });
        assert_eq!(s.id, "ref_id");
        assert_eq!(s.search_term.as_deref(), Some("site"));
        let mapped: Vec<(&str, &str, ValueKind)> = s
            .fields
            .iter()
            .map(|g| (g.column.as_str(), g.affinity.as_str(), g.ty))
            .collect();
        assert_eq!(
            mapped,
            [
                ("company", "name", ValueKind::Text),
                ("site", "domain", ValueKind::Url),
                ("round", "Round", ValueKind::Dropdown),
                ("headcount", "Headcount", ValueKind::Number),
            ]
        );
        let unmapped: Vec<&str> = s.unmapped.iter().map(|(c, _)| c.as_str()).collect();
        assert_eq!(
            unmapped,
            ["round_size_usd", "employees"],
            "{:?}",
            s.unmapped
        );
        // The text passes the checker, and every entry says it is a guess.
        let m = Mapping::parse(Path::new("deals.toml"), s.text.clone()).unwrap();
        let sample = SourceSample::Read {
            missing: vec![],
            available: columns.clone(),
            rows: rows.clone(),
        };
        let errors: Vec<_> = check(&m, &catalog, &NoResolve, &sample)
            .into_iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}\n{}", s.text);
        assert_eq!(
            s.text.matches("[[fields]]  # guess").count(),
            4,
            "{}",
            s.text
        );
    }

    #[test]
    fn toml_strings_are_escaped() {
        assert_eq!(toml_str(r#"a "b" \c"#), r#""a \"b\" \\c""#);
        assert_eq!(toml_str("x\ny"), r#""x\ny""#);
    }
}
