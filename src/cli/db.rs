//! The settings flags every command shares, and how they meet `affsync.toml` and the
//! environment (`affsync::settings` resolves them all the same way for every command).

use std::path::PathBuf;

use affsync::settings::{Flags, Settings};

use super::api::ApiArgs;

/// Where the settings file is.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Settings")]
pub struct ConfigArgs {
    /// The settings file [env: AFFSYNC_CONFIG] (default: `affsync.toml` in this folder or the
    /// nearest one above it).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Where the mirror is.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Settings")]
pub struct DbArgs {
    #[command(flatten)]
    pub file: ConfigArgs,
    /// The mirror: `sqlite://FILE` (created if missing) or `postgres://USER@HOST:PORT/DB`
    /// [env: DATABASE_URL] (default: `database_url` in `affsync.toml`, else
    /// `sqlite://affsync.db`).
    #[arg(long, value_name = "URL")]
    pub database_url: Option<String>,
}

impl DbArgs {
    /// The settings of a command that uses the mirror only.
    pub fn settings(&self) -> anyhow::Result<Settings> {
        resolve(&self.file, Some(self), None)
    }

    /// The settings of a command that uses the mirror and Affinity.
    pub fn with_api(&self, api: &ApiArgs) -> anyhow::Result<Settings> {
        resolve(&self.file, Some(self), Some(api))
    }
}

/// Resolves the flags given with the environment and the settings file.
pub fn resolve(
    file: &ConfigArgs,
    db: Option<&DbArgs>,
    api: Option<&ApiArgs>,
) -> anyhow::Result<Settings> {
    let flags = Flags {
        config: file.config.clone(),
        database_url: db.and_then(|d| d.database_url.clone()),
        base_url: api.and_then(|a| a.base_url.clone()),
        api_key_file: api.and_then(|a| a.api_key_file.clone()),
    };
    Ok(Settings::resolve(&flags)?)
}
