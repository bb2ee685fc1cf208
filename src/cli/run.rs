//! `affsync run JOB`: one job of `affsync.toml`, now. Also the options every job command shares
//! (`--config`, `--database-url`, `--base-url`) and how they meet the file's settings.

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use affinity_crm::{Client, Config};
use affsync::jobs::config::DEFAULT_CONFIG_FILE;
use affsync::jobs::{JobsConfig, Outcome, Runner, Trigger};
use affsync::store::{Store, DEFAULT_DATABASE_URL};

/// Where the jobs file, the mirror and Affinity are. A flag (or its variable) wins over
/// `affsync.toml`, which wins over the defaults.
#[derive(Debug, Clone, clap::Args)]
pub struct ConfigArgs {
    /// The jobs file (default: `affsync.toml` in the working folder).
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
    /// The mirror: `sqlite://FILE` or `postgres://...` (default: `database_url` in the jobs
    /// file, else `sqlite://affsync.db`).
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
}

impl ConfigArgs {
    fn path(&self) -> PathBuf {
        self.config
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG_FILE))
    }

    /// The jobs file, which must exist.
    pub fn load(&self) -> anyhow::Result<JobsConfig> {
        Ok(JobsConfig::load(&self.path())?)
    }

    /// The jobs file when one is named or `affsync.toml` exists (for commands that only read
    /// the journal).
    pub fn load_if_present(&self) -> anyhow::Result<Option<JobsConfig>> {
        if self.config.is_none() && !self.path().exists() {
            return Ok(None);
        }
        self.load().map(Some)
    }

    /// Opens the mirror named by the flag, the file, or the default.
    pub async fn open(&self, config: Option<&JobsConfig>) -> anyhow::Result<Store> {
        let url = self
            .database_url
            .clone()
            .or_else(|| config.and_then(|c| c.database_url.clone()))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
        super::db::DbArgs { database_url: url }.open().await
    }
}

/// The client from the file's `[affinity]` settings; `--base-url`/`AFFINITY_BASE_URL` win.
pub fn client(config: &JobsConfig, base_url: Option<&str>) -> anyhow::Result<Client> {
    let (key, source) = config.key.read()?;
    let mut c = Config::new(key, source);
    if let Some(base) = base_url.or(config.base_url.as_deref()) {
        c = c.with_base_url(base).map_err(|e| {
            super::Problem::bad_input(
                format!("invalid Affinity base URL `{base}`: {e}"),
                "use a URL such as `https://api.affinity.co`",
            )
        })?;
    }
    Ok(Client::new(c)?)
}

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
    /// Affinity's address (default: `base_url` in the jobs file).
    #[arg(long, env = affinity_crm::BASE_URL_ENV, hide_env_values = true)]
    pub base_url: Option<String>,
    #[command(flatten)]
    pub config: ConfigArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let config = Arc::new(self.config.load()?);
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
        let client = client(&config, self.base_url.as_deref())?;
        let store = self.config.open(Some(&config)).await?;
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
                    println!("{}", serde_json::to_string_pretty(&r)?);
                } else {
                    print!("{}", render(&r));
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
