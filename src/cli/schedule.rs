//! `affsync schedule`: every job of `affsync.toml` on its schedule, until SIGINT or SIGTERM.

use std::sync::Arc;

use chrono::Utc;

use super::api::ApiArgs;
use super::db::DbArgs;
use super::run::stop_on_signals;
use affsync::jobs::{scheduler, Runner};
use affsync::store::time_text;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = self.db.with_api(&self.api)?;
        let config = Arc::new(settings.jobs()?.clone());
        if config.jobs.is_empty() {
            return Err(super::Problem::bad_input(
                format!("`{}` has no `[[jobs]]`", config.path.display()),
                "add a job (see the README), then run `affsync schedule` again",
            )
            .into());
        }
        let client = settings.client()?;
        let store = settings.open_store().await?;
        let stop = stop_on_signals();
        let now = Utc::now();
        for j in &config.jobs {
            tracing::info!(
                job = %j.name,
                schedule = %j.schedule_text,
                timezone = %j.timezone.name(),
                next = %j.next_after(now).map(time_text).unwrap_or_else(|| "never".into()),
                "scheduled"
            );
        }
        let runner = Runner::new(store.clone(), client, config.clone(), stop.clone());
        scheduler::schedule(runner, stop).await;
        tracing::info!("stopped");
        store.close().await;
        Ok(())
    }
}
