//! `affsync report RUN --out report.html`: one self-contained HTML page about a run.

use affsync_core::model::RunId;
use std::path::PathBuf;

use super::db::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The run (`affsync activity` lists them).
    pub run: i64,
    /// The HTML file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let store = self.db.settings()?.open_store().await?;
        let data = affsync::report::gather(&store, RunId(self.run)).await;
        store.close().await;
        let data = data?;
        std::fs::write(&self.out, affsync::report::render(&data))
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", self.out.display()))?;
        errln!("wrote {}", self.out.display());
        Ok(())
    }
}
