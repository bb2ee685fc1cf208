//! `affsync mapping new`: a first mapping file, guessed from an enrichment file and the
//! tenant's field catalog (read from Affinity), that `affsync check` passes.

use std::path::{Path, PathBuf};

use super::api::ApiOnly;
use super::Problem;
use affsync::io::source::read_all_columns;
use affsync_core::mapping::check::SAMPLE_ROWS;
use affsync_core::mapping::scaffold::{scaffold, Input};
use affsync_core::model::Kind;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: MappingCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum MappingCommand {
    /// Write a mapping file guessed from an enrichment file and a list's fields.
    ///
    /// The guesses, from the file's header, a sample of its rows and the list's fields: the id
    /// column, the search term (a website for organizations, an email for persons), and every
    /// column whose name is the same as or close to a field's and whose values convert to it. Each guess is marked with a `# guess` comment; the
    /// columns left out are listed at the end with the reason. The file passes
    /// `affsync check` (after `affsync pull`).
    #[command(after_long_help = "Examples:
  affsync mapping new --from companies.csv --list \"Deal Flow\"
  affsync mapping new mappings/lps.toml --from people.csv --list LPs
  affsync mapping new - --from deals.parquet --list \"Co-invest Opportunities\" | less")]
    New(NewArgs),
}

#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// Where to write the mapping file; `-` for standard output [default: the enrichment
    /// file's name with `.toml`, in this folder].
    #[arg(value_name = "OUT")]
    pub out: Option<PathBuf>,
    /// The enrichment file (`.csv`, `.tsv`, `.parquet` or `.jsonl`).
    #[arg(long, value_name = "FILE")]
    pub from: PathBuf,
    /// The list the records are added to, by name or id (`affsync lists` shows them).
    #[arg(long, value_name = "NAME_OR_ID")]
    pub list: String,
    /// The kind of record: `organization`, `person` or `opportunity` [default: what the list
    /// holds].
    #[arg(long, value_name = "KIND")]
    pub kind: Option<Kind>,
    /// Replace the mapping file when it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub api: ApiOnly,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            MappingCommand::New(a) => a.run().await,
        }
    }
}

impl NewArgs {
    async fn run(self) -> anyhow::Result<()> {
        let to_stdout = self.out.as_deref() == Some(Path::new("-"));
        let out = match &self.out {
            Some(p) => p.clone(),
            None => {
                let stem = self
                    .from
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "mapping".into());
                PathBuf::from(format!("{stem}.toml"))
            }
        };
        if !to_stdout && out.exists() && !self.force {
            return Err(Problem::bad_input(
                format!("`{}` exists already", out.display()),
                "name another file, add `--force` to replace it, or `-` to print the mapping",
            )
            .into());
        }
        if !self.from.is_file() {
            return Err(Problem::bad_input(
                format!("no file `{}`", self.from.display()),
                "`--from` names the enrichment file: a `.csv`, `.tsv`, `.parquet` or `.jsonl` file",
            )
            .into());
        }
        let (columns, mut rows) = read_all_columns(&self.from, None)?;
        if columns.is_empty() {
            return Err(Problem::bad_input(
                format!("`{}` has no columns", self.from.display()),
                "a mapping is guessed from the file's header: give a file with one",
            )
            .into());
        }
        rows.truncate(SAMPLE_ROWS);

        let client = self.api.client()?;
        let live = affsync::catalog::fetch(&client).await?;
        let catalog = &live.catalog;
        let Some(list) = catalog.find_list(&self.list) else {
            return Err(Problem::bad_input(
                format!("no list `{}` in Affinity", self.list),
                format!(
                    "its lists are {} (`affsync lists`)",
                    catalog
                        .lists
                        .iter()
                        .map(|l| format!("`{}`", l.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
            .into());
        };
        let kind = self.kind.unwrap_or(list.kind);
        if kind != list.kind {
            return Err(Problem::bad_input(
                format!(
                    "the list `{}` holds {}, not {}",
                    list.name,
                    list.kind.plural(),
                    kind.plural()
                ),
                format!(
                    "leave out `--kind`, or name a list of {} (`affsync lists` shows each list's kind)",
                    kind.plural()
                ),
            )
            .into());
        }

        // `[source] path` is relative to the mapping file's folder.
        let source_path = if to_stdout {
            self.from.clone()
        } else {
            let from = std::path::absolute(&self.from)?;
            let dir = std::path::absolute(&out)?
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            pathdiff::diff_paths(&from, &dir).unwrap_or(from)
        };
        let s = scaffold(&Input {
            kind,
            list,
            catalog,
            columns: &columns,
            rows: &rows,
            source_path: source_path.display().to_string(),
            mapping_path: &out,
            name: if to_stdout {
                self.from.file_stem()
            } else {
                out.file_stem()
            }
            .map(|s| s.to_string_lossy().into_owned()),
        });

        if to_stdout {
            out!("{}", s.text);
        } else {
            if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&out, &s.text)
                .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", out.display()))?;
        }
        let say = |line: String| {
            if to_stdout {
                errln!("{line}");
            } else {
                outln!("{line}");
            }
        };
        let shown = if to_stdout {
            "the mapping".to_string()
        } else {
            format!("`{}`", out.display())
        };
        say(format!(
            "wrote {shown}: {} from `{}` onto `{}`; id column `{}`, search term {}",
            kind.plural(),
            self.from.display(),
            list.name,
            s.id,
            s.search_term
                .as_deref()
                .map(|t| format!("`{t}`"))
                .unwrap_or_else(|| "none".into()),
        ));
        say(format!(
            "  {} column{} mapped: {}",
            s.fields.len(),
            if s.fields.len() == 1 { "" } else { "s" },
            s.fields
                .iter()
                .map(|g| format!("{} → {}", g.column, g.affinity))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if !s.unmapped.is_empty() {
            say(format!(
                "  not mapped: {} (the file says why)",
                s.unmapped
                    .iter()
                    .map(|(c, _)| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !to_stdout {
            let f = out.display();
            say("next: read the `# guess` comments, then".to_string());
            let steps = [
                (
                    format!("affsync pull --list \"{}\"", list.name),
                    "the list and its fields into the mirror",
                ),
                (
                    format!("affsync check {f}"),
                    "the file against the mirror's catalog",
                ),
                (
                    format!("affsync push {f} --dry-run"),
                    "what a push would write",
                ),
            ];
            let width = steps
                .iter()
                .map(|(c, _)| c.chars().count())
                .max()
                .unwrap_or(0);
            for (cmd, what) in steps {
                say(format!("  {cmd:<width$}  # {what}"));
            }
        }
        Ok(())
    }
}
