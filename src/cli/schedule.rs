//! `affsync schedule`: every job of `affsync.toml` on its schedule, until SIGINT or SIGTERM.

use std::sync::Arc;

use chrono::Utc;

use super::run::{client, stop_on_signals, ConfigArgs};
use affsync::jobs::{scheduler, Runner};
use affsync::store::time_text;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Affinity's address (default: `base_url` in the jobs file).
    #[arg(long, env = affinity_crm::BASE_URL_ENV, hide_env_values = true)]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let config = Arc::new(self.config.load()?);
        if config.jobs.is_empty() {
            return Err(super::Problem::bad_input(
                format!("`{}` has no `[[jobs]]`", config.path.display()),
                "add a job (see the README), then run `affsync schedule` again",
            )
            .into());
        }
        let client = client(&config, self.base_url.as_deref())?;
        let store = self.config.open(Some(&config)).await?;
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
