//! `affsync contacts sync --file contacts.csv --mapping contacts.toml`: two-way contact sync.

use std::path::PathBuf;

use super::api::ApiArgs;
use super::db::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
}

#[derive(Debug, clap::Subcommand)]
pub enum What {
    /// Sync a contacts file with Affinity's persons, both ways, keyed by email.
    Sync(SyncArgs),
}

#[derive(Debug, clap::Args)]
pub struct SyncArgs {
    /// The contacts file (CSV, Parquet or JSONL).
    #[arg(long)]
    pub file: PathBuf,
    /// The contacts mapping file (`[file]` columns, `[sync]` settings).
    #[arg(long)]
    pub mapping: PathBuf,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.what {
            What::Sync(a) => a.run().await,
        }
    }
}

impl SyncArgs {
    pub async fn run(self) -> anyhow::Result<()> {
        let store = self.db.open().await?;
        let client = self.api.client()?;
        let (c, out) =
            match affsync::contacts::sync(&store, &client, &self.file, &self.mapping).await {
                Ok(r) => r,
                Err(e) => return Err(e.into()),
            };
        if self.json {
            let mut v = serde_json::to_value(&c)?;
            v["out"] = out.display().to_string().into();
            println!("{v}");
        } else {
            println!(
                "{} file contacts, {} Affinity persons: {} created in Affinity, {} updated there, {} written to {} ({} conflicts, Affinity won), {} unchanged, {} skipped; {} API calls ({} writes)",
                c.file_contacts,
                c.affinity_persons,
                c.created_in_affinity,
                c.updated_in_affinity,
                c.written_to_file,
                out.display(),
                c.conflicts,
                c.unchanged,
                c.skipped,
                c.api_calls,
                c.writes
            );
        }
        Ok(())
    }
}
