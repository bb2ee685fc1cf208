//! `affsync run JOB`: one job of `affsync.toml`, now.

use std::sync::Arc;

use tokio::sync::watch;

use super::api::ApiArgs;
use super::db::DbArgs;
use affsync::jobs::{Outcome, Runner, Trigger};

/// A channel that turns true on SIGINT or SIGTERM.
pub fn stop_on_signals() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        let term = async {
            #[cfg(unix)]
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
            #[cfg(not(unix))]
            std::future::pending::<()>().await
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => tracing::warn!("SIGINT: finishing the step in flight, then stopping"),
            _ = term => tracing::warn!("SIGTERM: finishing the step in flight, then stopping"),
        }
        let _ = tx.send(true);
    });
    rx
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The job's name in `affsync.toml`.
    pub job: String,
    /// Print the run as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = self.db.with_api(&self.api)?;
        let config = Arc::new(settings.jobs()?.clone());
        let Some(job) = config.job(&self.job).cloned() else {
            return Err(super::Problem::bad_input(
                format!(
                    "no job named `{}` in `{}`\njobs: {}",
                    self.job,
                    config.path.display(),
                    if config.jobs.is_empty() {
                        "(none)".to_string()
                    } else {
                        config.job_names().join(", ")
                    }
                ),
                "`affsync status` lists the jobs",
            )
            .into());
        };
        let client = settings.client()?;
        let store = settings.open_store().await?;
        let runner = Runner::new(store.clone(), client, config.clone(), stop_on_signals());
        let outcome = runner.run(&job, Trigger::Manual).await;
        store.close().await;
        match outcome? {
            Outcome::Busy(h) => Err(super::Problem::already_running(
                format!(
                    "job `{}` is already running (held by `{}` since {}, last heartbeat {})",
                    job.name, h.holder, h.acquired_at, h.heartbeat_at,
                ),
                format!(
                    "wait for it to end; if its process died, the lock is taken over once its heartbeat is older than {} s (`lock_stale_after_s`)",
                    config.lock_stale_after.as_secs_f64()
                ),
            )
            .into()),
            Outcome::Ran(r) => {
                if self.json {
                    outln!("{}", serde_json::to_string_pretty(&r)?);
                } else {
                    out!("{}", render(&r));
                }
                match &r.error {
                    None => Ok(()),
                    Some(e) => Err(anyhow::anyhow!("job `{}` failed (run {}): {e}", r.job, r.run)),
                }
            }
        }
    }
}

/// The steps of a run, as a table.
pub fn render(r: &affsync::jobs::JobRun) -> String {
    let n = |s: &affsync::jobs::StepOutcome, k: &str| {
        s.counts
            .get(k)
            .map(|v| v.to_string())
            .unwrap_or_else(|| "-".into())
    };
    let rows: Vec<Vec<String>> = r
        .steps
        .iter()
        .map(|s| {
            vec![
                s.step.to_string(),
                s.target.clone(),
                s.status.clone(),
                n(s, "entries"),
                n(s, "new"),
                n(s, "changed"),
                n(s, "removed"),
                format!("{:.2}", s.seconds),
            ]
        })
        .collect();
    let mut out = super::api::table(
        &[
            "step", "target", "status", "entries", "new", "changed", "removed", "seconds",
        ],
        &rows,
    );
    out.push_str(&format!(
        "job `{}`: {} (run {} in the journal)\n",
        r.job, r.status, r.run
    ));
    out
}
