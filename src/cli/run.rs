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
                    // Some records failed, the others were done: exit code 4, as the step alone
                    // exits.
                    Some(e) if r.status == affsync_core::journal::RunStatus::Partial.as_str() => {
                        Err(super::Problem::partial(format!(
                            "job `{}` was partial (run {}): {}",
                            r.job,
                            r.run,
                            e.strip_prefix("partial: ").unwrap_or(e)
                        ))
                        .into())
                    }
                    Some(e) => Err(anyhow::anyhow!("job `{}` failed (run {}): {e}", r.job, r.run)),
                }
            }
        }
    }
}

/// The steps of a run, as a table: what each did in its own counts.
pub fn render(r: &affsync::jobs::JobRun) -> String {
    let rows: Vec<Vec<String>> = r
        .steps
        .iter()
        .map(|s| {
            vec![
                s.step.to_string(),
                s.target.clone(),
                s.status.clone(),
                step_words(s.step, &s.status, &s.counts),
                s.api_calls.to_string(),
                format!("{:.2}", s.seconds),
            ]
        })
        .collect();
    let mut out = super::api::table(
        &["step", "target", "status", "counts", "calls", "seconds"],
        &rows,
    );
    out.push_str(&format!(
        "job `{}`: {} (run {} in the journal)\n",
        r.job, r.status, r.run
    ));
    out
}

/// A step's counts in words ([`counts_words`]); a step that failed before it counted
/// anything says so (`failed`), not `nothing`.
pub(super) fn step_words(step: &str, status: &str, counts: &serde_json::Value) -> String {
    let words = counts_words(step, counts);
    if status != "ok" && words == "nothing" {
        status.to_string()
    } else {
        words
    }
}

/// A step's counts in words, the ones that matter for its kind: a pull's entries, new, changed
/// and removed always; another step's counts that are not 0 (`unchanged 53, values skipped
/// 6`), or `nothing` when all are.
fn counts_words(step: &str, counts: &serde_json::Value) -> String {
    let (keys, always): (&[&str], bool) = match step {
        "pull" | "pull_view" | "reconcile" => {
            (&["entries", "new", "changed", "removed", "drift"], true)
        }
        "match" => (&["matched", "review", "unmatched", "error"], false),
        "push" => (
            &[
                "created",
                "updated",
                "unchanged",
                "values_skipped",
                "awaiting_review",
                "skipped_no_match",
                "rejected",
                "failed",
                "not_attempted",
            ],
            false,
        ),
        "log_activity" => (
            &[
                "notes_created",
                "notes_updated",
                "notes_deleted",
                "calls_logged",
                "calls_updated",
                "calls_deleted",
                "contacts_created",
                "unchanged",
                "skipped",
                "failed",
            ],
            false,
        ),
        "contacts" => (
            &[
                "linked",
                "created_in_affinity",
                "updated_in_affinity",
                "written_to_file",
                "conflicts",
                "unchanged",
                "skipped",
                "errors",
                "failed",
            ],
            false,
        ),
        _ => (&[], false),
    };
    let words: Vec<String> = keys
        .iter()
        .filter_map(|k| Some((*k, counts.get(*k)?.as_u64()?)))
        .filter(|&(_, n)| always || n > 0)
        .map(|(k, n)| format!("{} {n}", k.replace('_', " ")))
        .collect();
    if words.is_empty() {
        "nothing".into()
    } else {
        words.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::{counts_words, step_words};
    use serde_json::json;

    #[test]
    fn each_step_shows_its_own_counts() {
        let pull =
            json!({"entries": 139, "new": 0, "changed": 2, "removed": 0, "entities_merged": 0});
        assert_eq!(
            counts_words("pull", &pull),
            "entries 139, new 0, changed 2, removed 0"
        );
        let push = json!({"created": 0, "updated": 0, "unchanged": 53, "values_skipped": 6,
            "failed": 0, "api_calls": 1, "matched": 53});
        assert_eq!(
            counts_words("push", &push),
            "unchanged 53, values skipped 6"
        );
        let matched = json!({"records": 53, "matched": 50, "review": 3, "unmatched": 0});
        assert_eq!(counts_words("match", &matched), "matched 50, review 3");
        assert_eq!(counts_words("push", &json!({"created": 0})), "nothing");
        assert_eq!(step_words("push", "failed", &json!({})), "failed");
        assert_eq!(step_words("push", "ok", &json!({})), "nothing");
    }
}
