//! `affsync report RUN --out report.html`: one self-contained HTML page about a run.

use affsync_core::model::RunId;
use std::path::PathBuf;

use super::db::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run (`affsync activity` lists them).
    pub run: i64,
    /// The HTML file to write; `-` for standard output.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if self.out.as_os_str() != "-" {
            super::out::check_out_folder(&self.out)?;
        }
        let store = self.db.settings()?.open_store().await?;
        let data = affsync::report::gather(&store, RunId(self.run)).await;
        store.close().await;
        let data = data?;
        let html = affsync::report::render(&data);
        if self.out.as_os_str() == "-" {
            super::out::write_out_bytes(html.as_bytes());
            return Ok(());
        }
        std::fs::write(&self.out, html)
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", self.out.display()))?;
        errln!("wrote {}", self.out.display());
        Ok(())
    }
}
