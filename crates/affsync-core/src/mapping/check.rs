//! The mapping checker: a mapping file against the field catalog in the mirror and a sample of
//! its source file, before a single API call (DESIGN.md "pure validation before any effect").
//!
//! [`check`] is pure: it is given the parsed file, the catalog, a resolver for persons and
//! organizations, and what [`sample_source`] read of the source file. It reports every problem
//! of the file, each with its file, line, key and a `hint:`. Errors stop a push; warnings (a
//! few cells that do not convert) do not.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;

use super::catalog::{Catalog, FieldLookup};
use super::convert::{
    check_pairing, closest, convert, field_type_words, looks_like_date, Rule, Special, Target,
    ValueError,
};
use super::{Mapping, PushMode, ValueKind};
use crate::matcher::config::Attr;
use crate::matcher::SourceRecord;
use crate::model::{Kind, ListRow};

/// At most this many rows are sampled for each column.
pub const SAMPLE_ROWS: usize = 1000;
/// A column is taken for a date column when at least this share of its values read as dates.
pub const DATE_SHARE: f64 = 0.8;
/// Warnings listed per mapped column before the rest are counted.
pub const WARNINGS_PER_FIELD: usize = 3;

use crate::diagnostic::Diagnose;
pub use crate::diagnostic::{Diagnostic, Severity};

/// What was read of a source file: its columns and its rows (the mapped columns only), or
/// why it could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum SourceSample {
    Read {
        /// Mapped columns the file does not have.
        missing: Vec<String>,
        /// The file's columns, for hints (empty when unknown).
        available: Vec<String>,
        rows: Vec<SourceRecord>,
    },
    /// The file is missing or cannot be read.
    Unreadable {
        /// Whether the file exists (else the hint says where it was looked for).
        exists: bool,
        message: String,
        hint: Option<String>,
    },
}

/// Where keys are in the file's text: per table header and occurrence, the line of each key.
struct KeyLines {
    /// (table, occurrence of that table, key) → line.
    lines: BTreeMap<(String, usize, String), usize>,
    tables: BTreeMap<(String, usize), usize>,
}

impl KeyLines {
    fn new(text: &str) -> KeyLines {
        let mut lines = BTreeMap::new();
        let mut tables = BTreeMap::new();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut table = (String::new(), 0usize);
        for (i, raw) in text.lines().enumerate() {
            let l = raw.trim();
            if l.starts_with('[') {
                let name = l
                    .trim_start_matches('[')
                    .split(']')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let n = seen.entry(name.clone()).or_insert(0);
                table = (name.clone(), *n);
                tables.insert(table.clone(), i + 1);
                *n += 1;
            } else if let Some((k, _)) = l.split_once('=') {
                let k = k.trim().trim_matches('"').to_string();
                if !k.is_empty() && !k.starts_with('#') {
                    lines.entry((table.0.clone(), table.1, k)).or_insert(i + 1);
                }
            }
        }
        KeyLines { lines, tables }
    }

    /// The line of `key` in the `nth` `[table]` (or the table's header, or 1).
    fn line(&self, table: &str, nth: usize, key: &str) -> usize {
        self.lines
            .get(&(table.to_string(), nth, key.to_string()))
            .or_else(|| self.tables.get(&(table.to_string(), nth)))
            .copied()
            .unwrap_or(1)
    }
}

struct Report<'a> {
    m: &'a Mapping,
    out: Vec<Diagnostic>,
}

impl Report<'_> {
    fn push(&mut self, sev: Severity, line: usize, key: &str, message: String, hint: String) {
        self.out.push(Diagnostic {
            severity: sev,
            file: self.m.file(),
            line,
            key: key.to_string(),
            message,
            hint,
        });
    }
    fn error(&mut self, line: usize, key: &str, message: String, hint: impl Into<String>) {
        self.push(Severity::Error, line, key, message, hint.into());
    }
    fn warning(&mut self, line: usize, key: &str, message: String, hint: impl Into<String>) {
        self.push(Severity::Warning, line, key, message, hint.into());
    }
}

fn did_you_mean(options: &[String]) -> Option<String> {
    options.first().map(|o| format!("did you mean `{o}`?"))
}

fn kind_words(k: Kind) -> &'static str {
    match k {
        Kind::Organization => "organization",
        Kind::Person => "person",
        Kind::Opportunity => "opportunity",
    }
}

/// Which special targets a kind of record has.
fn special_allowed(s: Special, kind: Kind) -> bool {
    match s {
        Special::Name => kind != Kind::Person,
        Special::Domain => kind == Kind::Organization,
        Special::FirstName | Special::LastName | Special::Emails => kind == Kind::Person,
    }
}

fn specials_for(kind: Kind) -> Vec<&'static str> {
    [
        Special::Name,
        Special::Domain,
        Special::FirstName,
        Special::LastName,
        Special::Emails,
    ]
    .into_iter()
    .filter(|s| special_allowed(*s, kind))
    .map(Special::as_str)
    .collect()
}

/// Checks a list named by `key`; gives it when it exists and holds this kind of record.
fn check_list<'c>(
    r: &mut Report,
    catalog: &'c Catalog,
    kind: Kind,
    name: &str,
    line: usize,
    key: &str,
) -> Option<&'c ListRow> {
    match catalog.find_list(name) {
        Some(l) if l.kind == kind => Some(l),
        Some(l) => {
            let same: Vec<String> = catalog
                .lists
                .iter()
                .filter(|x| x.kind == kind)
                .map(|x| format!("`{}`", x.name))
                .collect();
            r.error(
                line,
                key,
                format!(
                    "`{}` is a list of {}s, and this file maps {}s",
                    l.name,
                    kind_words(l.kind),
                    kind_words(kind)
                ),
                if same.is_empty() {
                    format!("the mirror has no list of {}s", kind_words(kind))
                } else {
                    format!("lists of {}s: {}", kind_words(kind), same.join(", "))
                },
            );
            None
        }
        None => {
            let names: Vec<String> = catalog.lists.iter().map(|l| l.name.clone()).collect();
            let hint = did_you_mean(&closest(name, &names, 3)).unwrap_or_else(|| {
                format!(
                    "the lists are {}; run `affsync pull` if the list is new",
                    names
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            r.error(line, key, format!("no list named `{name}`"), hint);
            None
        }
    }
}

/// Resolves an `affinity` value that names a field; reports the reason when it does not.
#[allow(clippy::too_many_arguments)]
fn check_field<'c>(
    r: &mut Report,
    catalog: &'c Catalog,
    kind: Kind,
    list: Option<&ListRow>,
    name: &str,
    line: usize,
    key: &str,
    list_unknown: bool,
) -> Option<&'c crate::model::FieldRow> {
    if list_unknown {
        // The file's list is misnamed (reported once): any list of its kind may be meant.
        for l in catalog.lists.iter().filter(|l| l.kind == kind) {
            if let FieldLookup::Found(f) = catalog.lookup(name, kind, Some(l)) {
                return Some(f);
            }
        }
    }
    match catalog.lookup(name, kind, list) {
        FieldLookup::Found(f) => Some(f),
        FieldLookup::Elsewhere(f) => {
            let (where_, hint) = match f.list_id.and_then(|id| catalog.list_by_id(id)) {
                Some(l) => (
                    format!("a field of the list `{}`", l.name),
                    match list {
                        Some(mine) => format!(
                            "this file adds records to `{}`; a field must be global or on that list",
                            mine.name
                        ),
                        None => format!(
                            "set `add_to_list = \"{}\"` in `[push]` to write list fields",
                            l.name
                        ),
                    },
                ),
                None => (
                    format!(
                        "a field of {}s",
                        f.entity_kind.map(kind_words).unwrap_or("other record")
                    ),
                    format!("this file maps {}s", kind_words(kind)),
                ),
            };
            r.error(
                line,
                key,
                format!("`{}` is {where_}, not one this file can write", f.name),
                hint,
            );
            None
        }
        FieldLookup::Unknown(close) => {
            let hint = did_you_mean(&close).unwrap_or_else(|| {
                let mut names: Vec<String> = catalog
                    .fields_for(kind, list)
                    .iter()
                    .map(|f| format!("`{}`", f.name))
                    .collect();
                names.sort();
                names.dedup();
                format!(
                    "the {} fields are {}",
                    kind_words(kind),
                    if names.is_empty() {
                        "none".to_string()
                    } else {
                        names.join(", ")
                    }
                )
            });
            r.error(line, key, format!("no field named `{name}`"), hint);
            None
        }
    }
}

fn check_column(
    r: &mut Report,
    sample: &SourceSample,
    column: &str,
    line: usize,
    key: &str,
    source_file: &str,
) {
    if let SourceSample::Read {
        missing, available, ..
    } = sample
    {
        if missing.iter().any(|c| c == column) {
            let hint = did_you_mean(&closest(column, available, 3)).unwrap_or_else(|| {
                format!(
                    "its columns are {}",
                    available
                        .iter()
                        .map(|c| format!("`{c}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            });
            r.error(
                line,
                key,
                format!("`{source_file}` has no column `{column}`"),
                hint,
            );
        }
    }
}

/// What every phase of [`check`] reads.
struct Inputs<'a> {
    m: &'a Mapping,
    catalog: &'a Catalog,
    sample: &'a SourceSample,
    keys: KeyLines,
    kind: Kind,
    source_file: String,
}

/// Checks one parsed mapping file; every problem is reported. In phases: the source file and
/// its id column, the lists, `[match]`, then each mapped field.
pub fn check(
    m: &Mapping,
    catalog: &Catalog,
    resolve: &dyn super::convert::Resolve,
    sample: &SourceSample,
) -> Vec<Diagnostic> {
    let mut r = Report { m, out: vec![] };
    let inputs = Inputs {
        m,
        catalog,
        sample,
        keys: KeyLines::new(&m.text),
        kind: m.kind(),
        source_file: m.source.path.get_ref().clone(),
    };
    check_source(&mut r, &inputs);
    let (list, list_unknown) = check_lists(&mut r, &inputs);
    check_match(&mut r, &inputs, list, list_unknown);
    check_fields(&mut r, &inputs, resolve, list, list_unknown);
    r.out
}

/// The source file and its id column.
fn check_source(r: &mut Report, inputs: &Inputs) {
    let Inputs {
        m,
        sample,
        source_file,
        ..
    } = inputs;
    match sample {
        SourceSample::Unreadable {
            exists,
            message,
            hint,
        } => {
            let line = m.line(m.source.path.span());
            r.error(
                line,
                "source.path",
                message.clone(),
                if *exists {
                    hint.clone().unwrap_or_else(|| "check the file".to_string())
                } else {
                    format!(
                        "the path is relative to the mapping file's folder: `{}`",
                        m.source_path().display()
                    )
                },
            );
        }
        SourceSample::Read { .. } => {
            let line = m.line(m.source.id.span());
            check_column(
                r,
                sample,
                m.source.id.get_ref(),
                line,
                "source.id",
                source_file,
            );
        }
    }
}

/// `[push] add_to_list`; an opportunity created on no list. Gives the list, and whether one
/// was named that the catalog does not have.
fn check_lists<'c>(r: &mut Report, inputs: &Inputs<'c>) -> (Option<&'c ListRow>, bool) {
    let Inputs {
        m, catalog, kind, ..
    } = *inputs;
    let push_list = m.push.as_ref().and_then(|p| {
        p.add_to_list.as_ref().map(|l| {
            let line = m.line(l.span());
            (l.get_ref().clone(), line)
        })
    });
    let list = push_list
        .as_ref()
        .and_then(|(name, line)| check_list(r, catalog, kind, name, *line, "push.add_to_list"));
    let list_unknown = push_list.is_some() && list.is_none();
    if kind == Kind::Opportunity {
        if let Some(p) = &m.push {
            if *p.mode.get_ref() == PushMode::CreateUpdate && p.add_to_list.is_none() {
                r.error(
                    m.line(p.mode.span()),
                    "push.add_to_list",
                    "an opportunity is created on a list, and `[push]` names none".into(),
                    "set `add_to_list` to an opportunity list, or `mode = \"update_only\"`",
                );
            }
        }
    }
    (list, list_unknown)
}

/// `[match]`: `within_list`, `search_term` and each `[[match.compare]]`.
fn check_match(r: &mut Report, inputs: &Inputs, list: Option<&ListRow>, list_unknown: bool) {
    let Inputs {
        m,
        catalog,
        sample,
        keys,
        kind,
        source_file,
    } = inputs;
    let (catalog, kind) = (*catalog, *kind);
    let mut within = None;
    if let Some(mc) = m.match_config() {
        if let Some(w) = &mc.within_list {
            let line = keys.line("match", 0, "within_list");
            within = check_list(r, catalog, kind, w, line, "match.within_list");
        }
        if let Some(t) = &mc.search_term {
            let line = keys.line("match", 0, "search_term");
            check_column(r, sample, t, line, "match.search_term", source_file);
        }
        for (i, c) in mc.compare.iter().enumerate() {
            let src_line = keys.line("match.compare", i, "source");
            check_column(
                r,
                sample,
                &c.source,
                src_line,
                &format!("match.compare[{i}].source"),
                source_file,
            );
            let line = keys.line("match.compare", i, "affinity");
            let key = format!("match.compare[{i}].affinity");
            let bad_attr = match Attr::parse(&c.affinity) {
                Attr::Name => kind == Kind::Person,
                Attr::FirstName | Attr::LastName | Attr::Email => kind != Kind::Person,
                Attr::Domain => kind != Kind::Organization,
                Attr::Field(name) => {
                    check_field(
                        r,
                        catalog,
                        kind,
                        within.or(list),
                        &name,
                        line,
                        &key,
                        list_unknown,
                    );
                    false
                }
            };
            if bad_attr {
                r.error(
                    line,
                    &key,
                    format!("{}s have no `{}`", kind_words(kind), c.affinity),
                    format!(
                        "compare with {}, or a field",
                        match kind {
                            Kind::Person => "`first_name`, `last_name`, `email`",
                            Kind::Organization => "`name`, `domain`",
                            Kind::Opportunity => "`name`",
                        }
                    ),
                );
            }
        }
    }
}

/// Each `[[fields]]`: its column, its target, one column per target, the type pairing, then
/// the sampled cells converted.
fn check_fields(
    r: &mut Report,
    inputs: &Inputs,
    resolve: &dyn super::convert::Resolve,
    list: Option<&ListRow>,
    list_unknown: bool,
) {
    let Inputs {
        m,
        catalog,
        sample,
        kind,
        source_file,
        ..
    } = inputs;
    let (catalog, kind) = (*catalog, *kind);
    let mut written: BTreeMap<String, usize> = BTreeMap::new();
    for (i, f) in m.fields.iter().enumerate() {
        let aff_line = m.line(f.affinity.span());
        let src_line = m.line(f.source.span());
        let ty_line = m.line(f.ty.span());
        let aff_key = format!("fields[{i}].affinity");
        let column = f.source.get_ref();
        check_column(
            r,
            sample,
            column,
            src_line,
            &format!("fields[{i}].source"),
            source_file,
        );
        let name = f.affinity.get_ref();
        let target = match Special::parse(name) {
            Some(s) if special_allowed(s, kind) => Some(Target::Special(s)),
            Some(s) => {
                r.error(
                    aff_line,
                    &aff_key,
                    format!("{}s have no `{}`", kind_words(kind), s.as_str()),
                    format!(
                        "a {}'s own attributes are {}; other values go to fields",
                        kind_words(kind),
                        specials_for(kind)
                            .iter()
                            .map(|s| format!("`{s}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                None
            }
            None => check_field(
                r,
                catalog,
                kind,
                list,
                name,
                aff_line,
                &aff_key,
                list_unknown,
            )
            .map(Target::Field),
        };
        let Some(target) = target else { continue };
        let target_id = match &target {
            Target::Field(f) => f.id.clone(),
            Target::Special(s) => s.as_str().to_string(),
        };
        if let Some(first) = written.insert(target_id, i) {
            r.error(
                aff_line,
                &aff_key,
                format!("{} is written by `fields[{first}]` too", target.describe()),
                "map one column to each field",
            );
        }
        let declared = *f.ty.get_ref();
        if let Err(p) = check_pairing(declared, &target) {
            r.error(ty_line, &format!("fields[{i}].type"), p.message, p.hint);
            continue;
        }
        if let Some(df) = f
            .date_format
            .as_ref()
            .filter(|_| declared != ValueKind::Date)
        {
            r.error(
                m.line(df.span()),
                &format!("fields[{i}].date_format"),
                format!("`date_format` is set on a `{}` value", declared.as_str()),
                "`date_format` reads dates: remove it, or declare `type = \"date\"`",
            );
        }
        if let SourceSample::Read { missing, rows, .. } = sample {
            if !missing.contains(column) {
                sample_values(r, m, i, &target, rows, resolve);
            }
        }
    }
}

/// Converts the sampled cells of one mapped column: a column whose values mostly fail (or a
/// column of dates sent to a text field) is an error; a few bad cells are warnings.
fn sample_values(
    r: &mut Report,
    m: &Mapping,
    i: usize,
    target: &Target,
    rows: &[SourceRecord],
    resolve: &dyn super::convert::Resolve,
) {
    let f = &m.fields[i];
    let column = f.source.get_ref();
    let line = m.line(f.source.span());
    let key = format!("fields[{i}].source");
    let rule = Rule::of(f);
    let cells: Vec<(usize, &str)> = rows
        .iter()
        .filter_map(|row| {
            row.values
                .get(column)
                .map(|v| (row.row, v.as_str()))
                .filter(|(_, v)| !v.trim().is_empty())
        })
        .collect();
    if cells.is_empty() {
        return;
    }
    if rule.kind == ValueKind::Text {
        if let Target::Field(field) = target {
            let dates = cells.iter().filter(|(_, v)| looks_like_date(v)).count();
            if dates as f64 >= DATE_SHARE * cells.len() as f64 {
                r.error(
                    line,
                    &key,
                    format!(
                        "column `{column}` holds dates ({dates} of {} values), and `{}` is {}",
                        cells.len(),
                        field.name,
                        field_type_words(field)
                    ),
                    "map the column to a date field with `type = \"date\"`, or map another column",
                );
                return;
            }
        }
    }
    let mut failed: Vec<(usize, ValueError)> = Vec::new();
    let mut unresolved: Vec<(usize, ValueError)> = Vec::new();
    for (row, v) in &cells {
        match convert(v, rule, target, resolve) {
            Ok(_) => {}
            Err(e @ ValueError::Unresolved { .. }) => unresolved.push((*row, e)),
            Err(e) => failed.push((*row, e)),
        }
    }
    let judged = cells.len() - unresolved.len();
    if judged > 0 && failed.len() * 2 > judged {
        let (row, e) = &failed[0];
        r.error(
            line,
            &key,
            format!(
                "{} of {judged} values of column `{column}` are not `{}` values (row {row}: {e})",
                failed.len(),
                rule.kind.as_str()
            ),
            e.hint(),
        );
        return;
    }
    // The same words as push's: what it will do with such a cell under this file's `[push]`.
    let strict = m
        .push
        .as_ref()
        .and_then(|p| p.strict.as_ref())
        .is_some_and(|s| *s.get_ref());
    let at_push = if strict {
        "push fails the record: `strict = true`"
    } else {
        "push skips the value and writes the record's others; `--strict` fails the record"
    };
    for list in [failed, unresolved] {
        let n = list.len();
        for (k, (row, e)) in list.into_iter().enumerate() {
            if k == WARNINGS_PER_FIELD {
                r.warning(
                    line,
                    &key,
                    format!("{} more values of column `{column}` like these", n - k),
                    format!("{at_push}; the run reports each one"),
                );
                break;
            }
            r.warning(
                line,
                &key,
                format!("row {row}: {e}"),
                format!("{} ({at_push})", e.hint()),
            );
        }
    }
}

/// The outcome for one file, as `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct FileReport {
    pub file: String,
    pub ok: bool,
    pub errors: Vec<Diagnostic>,
    pub warnings: Vec<Diagnostic>,
}

impl FileReport {
    pub fn new(file: String, diags: Vec<Diagnostic>) -> FileReport {
        let (errors, warnings): (Vec<_>, Vec<_>) = diags
            .into_iter()
            .partition(|d| d.severity == Severity::Error);
        FileReport {
            file,
            ok: errors.is_empty(),
            errors,
            warnings,
        }
    }
}

/// A file that did not parse, as a diagnostic.
pub fn parse_failure(path: &Path, e: &super::MappingError) -> Diagnostic {
    match e {
        super::MappingError::Invalid {
            file,
            line,
            message,
            hint,
        } => Diagnostic {
            severity: Severity::Error,
            file: file.clone(),
            line: *line,
            key: key_of(message),
            message: message.clone(),
            hint: hint.clone(),
        },
        other => Diagnostic {
            severity: Severity::Error,
            file: path.display().to_string(),
            line: 1,
            key: match other {
                super::MappingError::Match(_) => "match".into(),
                _ => "-".into(),
            },
            message: other.to_string(),
            hint: other.hint().unwrap_or_else(|| "check the file".to_string()),
        },
    }
}

/// The key a TOML error names (`unknown field `mood``), or `-`.
fn key_of(message: &str) -> String {
    message
        .split('`')
        .nth(1)
        .filter(|k| !k.is_empty())
        .unwrap_or("-")
        .to_string()
}

#[cfg(test)]
mod tests;
