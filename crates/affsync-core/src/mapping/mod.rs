//! Mapping files: what an enrichment file is, how its records are matched, and what goes where
//! in Affinity. TOML, kept in git:
//!
//! ```toml
//! version = 1
//! entity = "organization"            # organization | person | opportunity
//!
//! [source]
//! path = "../fixtures/enrichment/companies.csv"   # .csv | .parquet | .jsonl, relative to this file
//! id = "source_id"
//!
//! [match]                            # see `matcher::config`
//! search_term = "website"
//!
//! [push]
//! mode = "create_update"             # create_update | update_only
//! add_to_list = "Deal Flow"          # optional
//!
//! [[fields]]
//! source = "linkedin_url"
//! affinity = "LinkedIn URL"
//! type = "url"
//! write = "overwrite"                # overwrite | fill_blank
//! ```
//!
//! [`Mapping::parse`] parses a file's text (syntax, keys, enumerations; the engine reads the
//! file); whether the lists,
//! fields and columns it names exist, and whether the types pair up, is the checker's work.

use crate::diagnostic::{Diagnose, ErrorClass};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::matcher::{ConfigError, Kind, MatchConfig};
use crate::source::{ReadOptions, SourceFormat};

pub mod catalog;
pub mod check;
pub mod convert;
pub mod scaffold;

/// The only version of the format so far.
pub const VERSION: i64 = 1;

/// A mapping file that parsed.
#[derive(Debug, Clone)]
pub struct Mapping {
    /// The file, as given.
    pub path: PathBuf,
    /// Its text (for line numbers in errors).
    pub text: String,
    /// The optional `name`: the file's identity wherever it is run from.
    pub name: Option<Spanned<String>>,
    /// The key its decisions and verdicts are stored under, set by the engine when it loads
    /// the file (its `name`, else its path from the settings file's folder).
    pub identity: Option<String>,
    pub version: Spanned<i64>,
    pub entity: Spanned<String>,
    pub source: SourceSpec,
    pub match_: Option<Spanned<MatchConfig>>,
    pub push: Option<PushSpec>,
    pub fields: Vec<FieldSpec>,
}

/// `[source]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Relative to the mapping file's folder.
    pub path: Spanned<String>,
    /// The column holding each record's stable id.
    pub id: Spanned<String>,
    /// `csv`, `parquet` or `jsonl`; from the extension by default.
    pub format: Option<Spanned<SourceFormat>>,
    /// A CSV separator of one character; `,` by default.
    pub separator: Option<Spanned<String>>,
}

/// `[push]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushSpec {
    pub mode: Spanned<PushMode>,
    pub add_to_list: Option<Spanned<String>>,
    /// A cell that does not convert fails its record instead of being skipped.
    pub strict: Option<Spanned<bool>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PushMode {
    /// Unmatched records are created; matched ones updated.
    CreateUpdate,
    /// Unmatched records are skipped (`skipped_no_match`).
    UpdateOnly,
}

/// One `[[fields]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    /// The source column.
    pub source: Spanned<String>,
    /// A field's name or id (`field-123`), or `name`, `domain`, `first_name`, `last_name`,
    /// `emails`.
    pub affinity: Spanned<String>,
    #[serde(rename = "type")]
    pub ty: Spanned<ValueKind>,
    #[serde(default)]
    pub write: Option<Spanned<WriteMode>>,
    /// A chrono format for `date` values that are not ISO dates (`%d/%m/%Y`).
    pub date_format: Option<Spanned<String>>,
}

impl FieldSpec {
    pub fn write_mode(&self) -> WriteMode {
        self.write
            .as_ref()
            .map(|w| *w.get_ref())
            .unwrap_or(WriteMode::Overwrite)
    }
}

/// The declared type of a mapped value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueKind {
    Text,
    Url,
    Email,
    Number,
    Date,
    Dropdown,
    RankedDropdown,
    Location,
    Person,
    Organization,
}

impl ValueKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ValueKind::Text => "text",
            ValueKind::Url => "url",
            ValueKind::Email => "email",
            ValueKind::Number => "number",
            ValueKind::Date => "date",
            ValueKind::Dropdown => "dropdown",
            ValueKind::RankedDropdown => "ranked_dropdown",
            ValueKind::Location => "location",
            ValueKind::Person => "person",
            ValueKind::Organization => "organization",
        }
    }
}

/// How a value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WriteMode {
    /// Affinity's value is replaced when it differs.
    #[default]
    Overwrite,
    /// Written only where Affinity has no value.
    FillBlank,
}

/// A mapping file that cannot be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum MappingError {
    // The reason is in the message, not the error chain too: printed with its chain, the
    // error said it twice.
    #[error("cannot read mapping file `{file}`: {cause}")]
    Io { file: String, cause: std::io::Error },
    #[error("`{file}`, line {line}: {message}")]
    Invalid {
        file: String,
        line: usize,
        message: String,
        hint: String,
    },
    #[error(transparent)]
    Match(#[from] ConfigError),
}

impl Diagnose for MappingError {
    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
    fn hint(&self) -> Option<String> {
        match self {
            MappingError::Io { .. } => Some(
                "check the path: a relative one is read from the folder affsync runs in, or from the `affsync.toml` folder for a job's step; `affsync mapping new` writes a first mapping file".into(),
            ),
            MappingError::Invalid { hint, .. } => Some(hint.clone()),
            MappingError::Match(e) => e.hint(),
        }
    }
}

/// The keys of a mapping file, for hints.
pub const MAPPING_KEYS: &str = "a mapping file has `name` (optional), `version`, `entity`, `[source]` (`path`, `id`, `format`, `separator`), `[match]`, `[push]` (`mode`, `add_to_list`, `strict`) and `[[fields]]` (`source`, `affinity`, `type`, `write`, `date_format`)";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    name: Option<Spanned<String>>,
    version: Spanned<i64>,
    entity: Spanned<String>,
    source: SourceSpec,
    #[serde(rename = "match")]
    match_: Option<Spanned<MatchConfig>>,
    push: Option<PushSpec>,
    #[serde(default)]
    fields: Vec<FieldSpec>,
}

pub use crate::diagnostic::line_of;

impl Mapping {
    /// Parses a mapping file's text; `path` names it in errors and anchors `source.path`.
    pub fn parse(path: &Path, text: String) -> Result<Mapping, MappingError> {
        let file = path.display().to_string();
        let raw: Raw = toml::from_str(&text).map_err(|e| MappingError::Invalid {
            file: file.clone(),
            line: e.span().map_or(1, |s| line_of(&text, s.start)),
            message: e.message().trim_end().to_string(),
            hint: MAPPING_KEYS.to_string(),
        })?;
        let invalid =
            |span: std::ops::Range<usize>, message: String, hint: &str| MappingError::Invalid {
                file: file.clone(),
                line: line_of(&text, span.start),
                message,
                hint: hint.to_string(),
            };
        if *raw.version.get_ref() != VERSION {
            return Err(invalid(
                raw.version.span(),
                format!("`version` is {}", raw.version.get_ref()),
                "this affsync reads `version = 1`",
            ));
        }
        if raw.entity.get_ref().parse::<Kind>().is_err()
            || !matches!(
                raw.entity.get_ref().as_str(),
                "organization" | "person" | "opportunity"
            )
        {
            return Err(invalid(
                raw.entity.span(),
                format!("`entity` is `{}`", raw.entity.get_ref()),
                "`entity` is `organization`, `person` or `opportunity`",
            ));
        }
        if let Some(m) = &raw.match_ {
            m.get_ref().validate(&file).map_err(|e| match e {
                ConfigError::Invalid { message, hint, .. } => invalid(m.span(), message, &hint),
            })?;
        }
        if let Some(n) = &raw.name {
            let t = n.get_ref();
            if t.trim().is_empty() || t.trim() != t || t.chars().any(char::is_control) {
                return Err(invalid(
                    n.span(),
                    format!("`name` is `{t}`"),
                    "a name is a short stable word, such as `companies`: decisions and verdicts are kept under it",
                ));
            }
        }
        if let Some(sep) = &raw.source.separator {
            if sep.get_ref().len() != 1 {
                return Err(invalid(
                    sep.span(),
                    format!("`source.separator` is `{}`", sep.get_ref()),
                    "a separator is one character, such as `;` or `\\t`",
                ));
            }
        }
        Ok(Mapping {
            path: path.to_path_buf(),
            text,
            name: raw.name,
            identity: None,
            version: raw.version,
            entity: raw.entity,
            source: raw.source,
            match_: raw.match_,
            push: raw.push,
            fields: raw.fields,
        })
    }

    /// The kind of record the file maps.
    pub fn kind(&self) -> Kind {
        self.entity
            .get_ref()
            .parse()
            .expect("checked when the file was parsed")
    }

    /// The file name, for messages.
    pub fn file(&self) -> String {
        self.path.display().to_string()
    }

    /// The line of a span, for messages.
    pub fn line(&self, span: std::ops::Range<usize>) -> usize {
        line_of(&self.text, span.start)
    }

    /// The `[match]` section, when there is one.
    pub fn match_config(&self) -> Option<&MatchConfig> {
        self.match_.as_ref().map(|m| m.get_ref())
    }

    /// The source file, resolved against the mapping file's folder.
    pub fn source_path(&self) -> PathBuf {
        let p = Path::new(self.source.path.get_ref());
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.path.parent().unwrap_or_else(|| Path::new(".")).join(p)
        }
    }

    /// Every source column the file uses: the search term, the compared columns and the
    /// mapped fields' columns (the id column not included).
    pub fn source_columns(&self) -> Vec<String> {
        let mut cols: Vec<String> = Vec::new();
        if let Some(m) = self.match_config() {
            cols.extend(m.search_term.iter().cloned());
            cols.extend(m.compare.iter().map(|c| c.source.clone()));
        }
        cols.extend(self.fields.iter().map(|f| f.source.get_ref().clone()));
        let mut seen = std::collections::BTreeSet::new();
        cols.retain(|c| seen.insert(c.clone()));
        cols
    }

    /// How to read the source file.
    pub fn read_options(&self) -> ReadOptions {
        ReadOptions {
            id: self.source.id.get_ref().clone(),
            columns: self.source_columns(),
            separator: self
                .source
                .separator
                .as_ref()
                .and_then(|s| s.get_ref().bytes().next()),
            format: self.source.format.as_ref().map(|f| *f.get_ref()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"version = 1
entity = "organization"

[source]
path = "companies.csv"
id = "source_id"

[match]
search_term = "website"
[[match.compare]]
source = "company_name"
affinity = "name"

[push]
mode = "create_update"
add_to_list = "Deal Flow"

[[fields]]
source = "linkedin_url"
affinity = "LinkedIn URL"
type = "url"

[[fields]]
source = "founded"
affinity = "Founded"
type = "date"
write = "fill_blank"
date_format = "%d/%m/%Y"
"#;

    #[test]
    fn parses_the_documented_shape() {
        let m = Mapping::parse(Path::new("maps/c.toml"), EXAMPLE.into()).unwrap();
        assert_eq!(m.kind(), Kind::Organization);
        assert_eq!(m.source_path(), Path::new("maps/companies.csv"));
        assert_eq!(
            m.source_columns(),
            ["website", "company_name", "linkedin_url", "founded"]
        );
        let push = m.push.as_ref().unwrap();
        assert_eq!(*push.mode.get_ref(), PushMode::CreateUpdate);
        assert_eq!(m.fields.len(), 2);
        assert_eq!(m.fields[0].write_mode(), WriteMode::Overwrite);
        assert_eq!(m.fields[1].write_mode(), WriteMode::FillBlank);
        assert_eq!(*m.fields[1].ty.get_ref(), ValueKind::Date);
        assert_eq!(m.line(m.fields[1].affinity.span()), 25);
    }

    #[test]
    fn errors_say_file_line_and_hint() {
        let cases = [
            (EXAMPLE.replace("mode = ", "mood = "), "line 15", "mood"),
            (EXAMPLE.replace("\"url\"", "\"link\""), "line 21", "link"),
            (
                EXAMPLE.replace("entity = \"organization\"", "entity = \"company\""),
                "line 2",
                "company",
            ),
            (EXAMPLE.replace("version = 1", "version = 2"), "line 1", "2"),
            (
                EXAMPLE.replace("search_term = \"website\"\n", "acept = 1\n"),
                "line ",
                "acept",
            ),
        ];
        for (text, line, needle) in cases {
            let e = Mapping::parse(Path::new("m.toml"), text).unwrap_err();
            let e = format!("{e}\nhint: {}", e.hint().unwrap_or_default());
            assert!(e.contains("`m.toml`"), "{e}");
            assert!(e.contains(line), "{e} lacks {line}");
            assert!(e.contains(needle), "{e} lacks {needle}");
            assert!(e.contains("hint:"), "{e}");
        }
    }

    #[test]
    fn a_match_only_file_is_enough() {
        let text = "version = 1\nentity = \"person\"\n[source]\npath = \"/data/p.jsonl\"\nid = \"id\"\n[match]\nsearch_term = \"email\"\n";
        let m = Mapping::parse(Path::new("p.toml"), text.into()).unwrap();
        assert_eq!(m.kind(), Kind::Person);
        assert!(m.push.is_none() && m.fields.is_empty());
        assert_eq!(m.source_path(), Path::new("/data/p.jsonl"));
    }
}
