//! `affsync link LEFT RIGHT --config link.toml --out pairs.csv`: the matcher from file to file,
//! so that a data team can try its rules offline on two exports. RIGHT plays Affinity's side.
//!
//! ```toml
//! [left]
//! id = "id"                  # the id column
//! separator = "|"            # optional (CSV); `format` too: csv | parquet | jsonl
//!
//! [right]
//! id = "id"
//! kind = "organization"      # organization | person | opportunity
//! name = "company_name"      # the columns that make an Affinity record, all optional:
//! domain = "website"         # name, first_name, last_name, domain, email
//!
//! [match]                    # as in a mapping file; `affinity` names a RIGHT column
//! search_term = "website"    # or `name`, `first_name`, `last_name`, `domain`, `email`
//! [[match.compare]]
//! source = "company_name"
//! affinity = "name"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

use super::Problem;
use affsync::io::source::read_records;
use affsync::matching::decision_cells;
use affsync_core::matcher::config::{toml_error, Attr};
use affsync_core::matcher::{
    duplicate_ids, Candidate, Decision, Kind, MatchConfig, Matcher, Reviewed, Status,
};
use affsync_core::source::{ReadOptions, SourceFormat};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to match (CSV, Parquet or JSONL): one decision per record.
    pub left: PathBuf,
    /// The file to match against; it plays Affinity's side.
    pub right: PathBuf,
    /// The link file: `[left]`, `[right]` and `[match]`.
    #[arg(long)]
    pub config: PathBuf,
    /// Where to write the pairs (`left_id,right_id,right_name,status,score,method,reason,contributions`).
    #[arg(long)]
    pub out: PathBuf,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
    /// Write CSV cells as they are: by default a cell starting with `=`, `+`, `-` or `@` gets a
    /// leading `'`, so that a spreadsheet shows it instead of running it.
    #[arg(long)]
    pub raw_cells: bool,
}

const LINK_KEYS: &str = "a link file has `[left]` (`id`, `separator`, `format`), `[right]` (`id`, `kind`, `name`, `first_name`, `last_name`, `domain`, `email`, `separator`, `format`) and `[match]`";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct LinkFile {
    left: Side,
    right: RightSide,
    #[serde(rename = "match")]
    matching: MatchConfig,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Side {
    id: String,
    separator: Option<String>,
    format: Option<SourceFormat>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RightSide {
    id: String,
    kind: Option<String>,
    name: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    domain: Option<String>,
    email: Option<String>,
    separator: Option<String>,
    format: Option<SourceFormat>,
}

fn separator(file: &str, side: &str, s: &Option<String>) -> Result<Option<u8>, Problem> {
    match s.as_deref() {
        None => Ok(None),
        Some("\\t") | Some("\t") => Ok(Some(b'\t')),
        Some(s) if s.len() == 1 => Ok(Some(s.as_bytes()[0])),
        Some(s) => Err(Problem::bad_input(
            format!("`{file}`: `{side}.separator` is `{s}`, not one character"),
            "write `separator = \"|\"`, or `\"\\t\"` for a tab",
        )),
    }
}

/// The link file, checked.
struct Link {
    left: ReadOptions,
    right: ReadOptions,
    kind: Kind,
    /// Right columns for an Affinity record's attributes.
    shape: RightSide,
    /// Right columns compared as fields.
    fields: Vec<String>,
    cfg: MatchConfig,
}

fn load(path: &Path) -> anyhow::Result<Link> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problem::bad_input(
            format!("cannot read `{file}`: {e}"),
            "give the link file with `--config`",
        )
    })?;
    let lf: LinkFile =
        toml::from_str(&text).map_err(|e| toml_error(&file, &text, &e, LINK_KEYS))?;
    lf.matching.validate(&file)?;
    let kind: Kind = lf
        .right
        .kind
        .as_deref()
        .unwrap_or("organization")
        .parse()
        .map_err(|e: String| {
            Problem::bad_input(
                format!("`{file}`: `right.kind`: {e}"),
                "write `kind = \"organization\"`",
            )
        })?;
    let has_column = |attr: &Attr| -> bool {
        match attr {
            // A person's name can be made of the first and last names.
            Attr::Name => {
                lf.right.name.is_some()
                    || (kind == Kind::Person
                        && (lf.right.first_name.is_some() || lf.right.last_name.is_some()))
            }
            Attr::FirstName => lf.right.first_name.is_some(),
            Attr::LastName => lf.right.last_name.is_some(),
            Attr::Domain => lf.right.domain.is_some(),
            Attr::Email => lf.right.email.is_some(),
            Attr::Field(_) => true,
        }
    };
    let mut fields = Vec::new();
    for (i, c) in lf.matching.compare.iter().enumerate() {
        let attr = Attr::parse(&c.affinity);
        if !has_column(&attr) {
            return Err(Problem::bad_input(
                format!(
                    "`{file}`: `match.compare[{i}]` compares with `{}`, but `[right]` names no column for it",
                    c.affinity
                ),
                format!("add `{} = \"COLUMN\"` to `[right]`", c.affinity),
            )
            .into());
        }
        if let Attr::Field(f) = attr {
            fields.push(f);
        }
    }
    let term_attr = match kind {
        Kind::Organization => ("domain", &lf.right.domain),
        Kind::Person => ("email", &lf.right.email),
        Kind::Opportunity => ("name", &lf.right.name),
    };
    if lf.matching.search_term.is_some() && term_attr.1.is_none() {
        return Err(Problem::bad_input(
            format!(
                "`{file}`: `match.search_term` is compared with the {} of the right records, but `[right]` names no `{}` column",
                term_attr.0, term_attr.0
            ),
            format!("add `{} = \"COLUMN\"` to `[right]`", term_attr.0),
        )
        .into());
    }
    let mut left_cols: Vec<String> = lf
        .matching
        .compare
        .iter()
        .map(|c| c.source.clone())
        .collect();
    left_cols.extend(lf.matching.search_term.clone());
    let mut right_cols: Vec<String> = fields.clone();
    let r = &lf.right;
    for c in [&r.name, &r.first_name, &r.last_name, &r.domain, &r.email]
        .into_iter()
        .flatten()
    {
        right_cols.push(c.clone());
    }
    Ok(Link {
        left: ReadOptions {
            id: lf.left.id.clone(),
            columns: left_cols,
            separator: separator(&file, "left", &lf.left.separator)?,
            format: lf.left.format,
        },
        right: ReadOptions {
            id: lf.right.id.clone(),
            columns: right_cols,
            separator: separator(&file, "right", &lf.right.separator)?,
            format: lf.right.format,
        },
        kind,
        shape: lf.right,
        fields,
        cfg: lf.matching,
    })
}

/// Writes `left_id,right_id,right_name,status,score,method,reason,contributions`, one line per
/// decision (`names[i]`: decision `i`'s right record's name; `contributions`: the waterfall of
/// the match weight, as in `affsync match --out`). Cells a spreadsheet would run are
/// neutralized (a leading `'`) unless `raw`. Written beside `path`, then renamed.
pub fn write_pairs(
    path: &Path,
    decisions: &[Decision],
    names: &[String],
    raw: bool,
) -> std::io::Result<()> {
    affsync::io::export::write_csv_file(path, raw, |w| {
        w.row([
            "left_id",
            "right_id",
            "right_name",
            "status",
            "score",
            "method",
            "reason",
            "contributions",
        ])?;
        for (i, d) in decisions.iter().enumerate() {
            let head = [
                d.source_id.as_deref().unwrap_or_default(),
                d.affinity_id.as_deref().unwrap_or_default(),
                names.get(i).map(String::as_str).unwrap_or_default(),
                d.status.as_str(),
            ];
            w.row(
                head.map(str::to_string)
                    .into_iter()
                    .chain(decision_cells(d)),
            )?;
        }
        Ok(())
    })
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let link = load(&self.config)?;
        super::out::check_out_folder(&self.out)?;
        let read =
            |path: &Path, opts: &ReadOptions| read_records(path, opts).map_err(anyhow::Error::new);
        let left = read(&self.left, &link.left)?;
        let right = read(&self.right, &link.right)?;
        let mut skipped = 0usize;
        let mut cands = Vec::with_capacity(right.len());
        for r in &right {
            let (Some(id), None) = (&r.id, &r.problem) else {
                skipped += 1;
                let why = r.problem.as_deref().unwrap_or("no id");
                tracing::warn!("right row {} skipped: {why}", r.row);
                continue;
            };
            let get = |c: &Option<String>| c.as_ref().and_then(|c| r.values.get(c)).cloned();
            let s = &link.shape;
            let mut c = Candidate::new(link.kind, id.clone(), get(&s.name).unwrap_or_default());
            c.first_name = get(&s.first_name);
            c.last_name = get(&s.last_name);
            c.domains = get(&s.domain).into_iter().collect();
            c.emails = get(&s.email).into_iter().collect();
            c.fields = link
                .fields
                .iter()
                .filter_map(|f| r.values.get(f).map(|v| (f.clone(), vec![v.clone()])))
                .collect();
            cands.push(c);
        }
        let dups = duplicate_ids(&cands);
        if !dups.is_empty() {
            let rows_of = |id: &str| -> Vec<String> {
                right
                    .iter()
                    .filter(|r| r.id.as_deref() == Some(id))
                    .map(|r| r.row.to_string())
                    .collect()
            };
            let shown: Vec<String> = dups
                .iter()
                .take(5)
                .map(|id| format!("`{id}` (rows {})", rows_of(id).join(", ")))
                .collect();
            let more = if dups.len() > 5 {
                format!(" and {} more", dups.len() - 5)
            } else {
                String::new()
            };
            return Err(Problem::bad_input(
                format!(
                    "`{}` has ids on more than one row: {}{more}",
                    self.right.display(),
                    shown.join(", ")
                ),
                "each right record is one record to match against: give it an id of its own, or remove the copies",
            )
            .into());
        }
        let decisions = Matcher::new(&link.cfg, link.kind, &cands).run(&left, &Reviewed::new());
        let by_id: std::collections::HashMap<&str, &Candidate> =
            cands.iter().map(|c| (c.id.as_str(), c)).collect();
        let names: Vec<String> = decisions
            .iter()
            .map(|d| {
                d.affinity_id
                    .as_deref()
                    .and_then(|id| by_id.get(id))
                    .map(|c| c.display_name())
                    .unwrap_or_default()
            })
            .collect();
        write_pairs(&self.out, &decisions, &names, self.raw_cells)
            .with_context(|| format!("cannot write `{}`", self.out.display()))?;
        let mut counts: BTreeMap<&str, usize> = [
            Status::Matched,
            Status::Review,
            Status::Unmatched,
            Status::Error,
        ]
        .iter()
        .map(|s| (s.as_str(), 0))
        .collect();
        for d in &decisions {
            *counts
                .get_mut(d.status.as_str())
                .expect("every status counted") += 1;
        }
        if self.json {
            let v = serde_json::json!({
                "left": left.len(),
                "right": cands.len(),
                "right_skipped": skipped,
                "matched": counts["matched"],
                "review": counts["review"],
                "unmatched": counts["unmatched"],
                "error": counts["error"],
                "out": self.out.display().to_string(),
            });
            outln!("{v}");
        } else {
            outln!("left records   {}", left.len());
            outln!(
                "right records  {}{}",
                cands.len(),
                if skipped > 0 {
                    format!(" ({skipped} skipped)")
                } else {
                    String::new()
                }
            );
            for s in ["matched", "review", "unmatched", "error"] {
                outln!("{s:<14} {}", counts[s]);
            }
        }
        errln!("wrote {} pairs to {}", decisions.len(), self.out.display());
        Ok(())
    }
}
