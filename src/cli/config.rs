//! `affsync config show [--json]`: every effective setting and where it came from.

use super::api::ApiArgs;
use super::db::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConfigCommand {
    /// Print each effective setting and where it came from: a flag, the environment,
    /// `affsync.toml` or the default (the API key never, only where it is read from).
    #[command(after_long_help = "Examples:
  affsync config show
  affsync config show --json
  affsync config show --config ops/affsync.toml
  affsync config show --member \"Ada Lovelace\"")]
    Show(ShowArgs),
}

#[derive(Debug, clap::Args)]
pub struct ShowArgs {
    /// Print JSON: `{"settings": [{"setting", "value", "source", "origin"}]}`.
    #[arg(long)]
    pub json: bool,
    /// Show this member's effective settings (`[[members]]` in `affsync.toml`, and their own
    /// file): where their key is read from, their lines and emails, their workflow.
    #[arg(long, value_name = "NAME")]
    pub member: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            ConfigCommand::Show(a) => a.run().await,
        }
    }
}

impl ShowArgs {
    async fn run(self) -> anyhow::Result<()> {
        let settings = self.db.with_api(&self.api)?;
        let shown = match &self.member {
            Some(name) => settings.show_member(name)?,
            None => settings.show(),
        };
        if self.json {
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "settings": shown }))?
            );
            return Ok(());
        }
        let rows: Vec<Vec<String>> = shown
            .iter()
            .map(|s| vec![s.setting.to_string(), s.value.clone(), s.source.to_string()])
            .collect();
        out!(
            "{}",
            super::api::table(&["setting", "value", "from"], &rows)
        );
        Ok(())
    }
}
