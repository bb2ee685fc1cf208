//! `affsync activity`: the journal as a table, JSON, CSV or Parquet.

use affsync_core::model::RunId;
use std::path::PathBuf;

use super::db::DbArgs;
use affsync::activity::{self, Format};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A run: each record's steps in it (without, the runs with their counts).
    pub run: Option<i64>,
    /// One record's timeline across runs: `entry:601`, `601`, or an Affinity id a step names.
    #[arg(long, value_name = "ID", conflicts_with = "run")]
    pub record: Option<String>,
    /// Keep one step (`new`, `matched`, `failed`, ...); over the list of runs, one outcome
    /// (`ok`, `failed`, `running`).
    #[arg(long)]
    pub status: Option<String>,
    /// Output format (default: from `--out`'s extension, else `table`).
    #[arg(long, value_enum, conflicts_with = "json")]
    pub format: Option<Format>,
    /// Print JSON: the same as `--format json`.
    #[arg(long)]
    pub json: bool,
    /// Write to this file instead of standard output (`-`: standard output).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Runs listed, newest first.
    #[arg(long, default_value_t = 50)]
    pub limit: i64,
    /// Write CSV cells as they are: by default a cell starting with `=`, `+`, `-` or `@` gets a
    /// leading `'`, so that a spreadsheet shows it instead of running it.
    #[arg(long)]
    pub raw_cells: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let out = self.out.clone().filter(|p| p.as_os_str() != "-");
        if let Some(out) = &out {
            super::out::check_out_folder(out)?;
        }
        let format = self
            .format
            .or(self.json.then_some(Format::Json))
            .or_else(|| out.as_deref().and_then(Format::from_path))
            .unwrap_or(Format::Table);
        if format == Format::Parquet && out.is_none() {
            return Err(super::Problem::bad_input(
                "Parquet is not written to a terminal",
                "add `--out FILE.parquet`",
            )
            .into());
        }
        let store = self.db.settings()?.open_store().await?;
        let status = self.status.as_deref();
        let table = match (&self.record, self.run) {
            (Some(id), _) => activity::record_table(&store, id, status).await,
            (None, Some(run)) => activity::run_table(&store, RunId(run), status).await,
            (None, None) => activity::runs_table(&store, status, self.limit).await,
        };
        store.close().await;
        let table = table?;
        let bytes = activity::render(&table, format, self.raw_cells)?;
        match &out {
            Some(path) => std::fs::write(path, bytes)
                .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", path.display()))?,
            None => super::out::write_out_bytes(&bytes),
        }
        Ok(())
    }
}
