//! The option every command that reads or writes the mirror shares.

use affsync::store::{Store, DEFAULT_DATABASE_URL};

#[derive(Debug, Clone, clap::Args)]
pub struct DbArgs {
    /// The mirror: `sqlite://FILE` (created if missing) or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL, global = true, hide_env_values = true)]
    pub database_url: String,
}

impl DbArgs {
    /// Opens and migrates the mirror; a URL it cannot use is bad input (exit code 2).
    pub async fn open(&self) -> anyhow::Result<Store> {
        Ok(Store::open(&self.database_url).await?)
    }
}
