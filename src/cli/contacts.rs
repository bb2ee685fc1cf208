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
    #[command(after_long_help = "Examples:
  affsync contacts sync --file contacts.csv --mapping contacts.toml --dry-run
  affsync contacts sync --file contacts.csv --mapping contacts.toml --json")]
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
    /// Plan and count only: nothing is written to Affinity, the mirror or the out file.
    #[arg(long)]
    pub dry_run: bool,
    /// Neutralize cells a spreadsheet would run in the out file (a leading `'`); it is raw by
    /// default, as programs read it back.
    #[arg(long)]
    pub csv_safe: bool,
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
        let settings = self.db.with_api(&self.api)?;
        let client = settings.client()?;
        let store = settings.open_store().await?;
        let opts = affsync::contacts::SyncOptions {
            dry_run: self.dry_run,
            csv_safe: self.csv_safe,
        };
        let (c, out) =
            affsync::contacts::sync(&store, &client, &self.file, &self.mapping, &opts).await?;
        if self.json {
            let mut v = serde_json::to_value(&c)?;
            v["out"] = out.display().to_string().into();
            v["dry_run"] = self.dry_run.into();
            outln!("{v}");
        } else {
            let (would, written) = if self.dry_run {
                ("dry run, nothing written: ", "for")
            } else {
                ("", "written to")
            };
            outln!(
                "{would}{} file contacts, {} Affinity persons: {} created in Affinity, {} updated there, {} {written} {} ({} conflicts, Affinity won), {} unchanged, {} skipped, {}, {} failed; {} ({})",
                c.file_contacts,
                c.affinity_persons,
                c.created_in_affinity,
                c.updated_in_affinity,
                c.written_to_file,
                out.display(),
                c.conflicts,
                c.unchanged,
                c.skipped,
                super::out::count(c.errors as u64, "error row"),
                c.failed,
                super::out::count(c.api_calls, "API call"),
                super::out::count(c.writes, "write")
            );
        }
        if c.partial() {
            return Err(super::Problem::partial(format!(
                "{} could not be synced and {} failed{}; see `affsync activity` for each (the next sync settles the writes)",
                super::out::count(c.errors as u64, "row"),
                super::out::count(c.failed as u64, "write"),
                c.stopped.as_deref().map(|s| format!("; {s}")).unwrap_or_default()
            ))
            .into());
        }
        Ok(())
    }
}
