//! `affsync export list NAME_OR_ID --out FILE`: a list of the mirror as CSV, Parquet or JSONL.

use std::path::PathBuf;

use super::db::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// One row per live entry of a list, one column per field.
    #[command(after_long_help = "Examples:
  affsync export list \"Deal Flow\" --out deal-flow.csv
  affsync export list 180026 --out deal-flow.parquet
  affsync export list LPs --out lps.jsonl --raw-cells")]
    List(ListArgs),
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// The list, by name or id.
    pub list: String,
    /// The file to write: `.csv`, `.parquet` or `.jsonl`.
    #[arg(long)]
    pub out: PathBuf,
    /// Write CSV cells as they are: by default a cell starting with `=`, `+`, `-` or `@` gets a
    /// leading `'`, so that a spreadsheet shows it instead of running it.
    #[arg(long)]
    pub raw_cells: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.what {
            What::List(a) => a.run().await,
        }
    }
}

impl ListArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        // The format and the folder are checked before anything is read.
        affsync::io::export::Format::from_path(&self.out)?;
        super::out::check_out_folder(&self.out)?;
        let store = self.db.settings()?.open_store().await?;
        let Some(list) = store.find_list(&self.list).await? else {
            let lists = store.lists().await?;
            let problem = if lists.is_empty() {
                super::Problem::bad_input(
                    format!(
                        "no list named `{}`: the mirror holds no lists yet",
                        self.list
                    ),
                    "run `affsync pull --all-lists` first",
                )
            } else {
                super::Problem::bad_input(
                    format!(
                        "no list named `{}` in the mirror\navailable lists: {}",
                        self.list,
                        lists
                            .iter()
                            .map(|l| format!("{} ({})", l.name, l.id))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    "name a list as Affinity spells it, or give its id",
                )
            };
            return Err(problem.into());
        };
        let view = store.list_view(&list).await?;
        let rows = affsync::io::export::write_list(&view, &self.out, self.raw_cells)?;
        errln!(
            "wrote {} rows and {} field columns of `{}` to {}",
            rows,
            view.fields.len(),
            list.name,
            self.out.display()
        );
        store.close().await;
        Ok(())
    }
}
