//! `affsync status`: each job's last run, next time, failures in a row; the ones that need
//! attention stand out.

use chrono::Utc;

use super::db::DbArgs;
use affsync::jobs::status::{self, JobStatus};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Print the jobs' state as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = self.db.settings()?;
        let config = settings.jobs()?;
        let store = settings.open_store().await?;
        let jobs = status::status(&store, config, Utc::now()).await?;
        let listener = affsync::listen::status::status(&store, Utc::now()).await?;
        store.close().await;
        if self.json {
            // The jobs, as before; the listener's state is `affsync listen --status --json`.
            outln!("{}", serde_json::to_string_pretty(&jobs)?);
        } else {
            out!("{}", render(&jobs));
            out!("{}", affsync::listen::status::render(&listener));
        }
        Ok(())
    }
}

/// A job run's counts: each step's own (`push: unchanged 53, values skipped 6`), as `affsync
/// run` shows them, and the slots it missed while nothing ran.
fn counts_text(c: Option<&serde_json::Value>) -> String {
    let Some(c) = c else {
        return String::new();
    };
    let steps = c["steps"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut parts: Vec<String> = steps
        .iter()
        .map(|s| {
            let step = s["step"].as_str().unwrap_or_default();
            let status = s["status"].as_str().unwrap_or("ok");
            format!(
                "{step}: {}",
                super::run::step_words(step, status, &s["counts"])
            )
        })
        .collect();
    if let Some(missed) = c.get("missed") {
        parts.push(format!("missed {missed}"));
    }
    parts.join("; ")
}

/// The table; a job that needs attention is marked `!` and explained below it.
pub fn render(jobs: &[JobStatus]) -> String {
    if jobs.is_empty() {
        return "no jobs in the config file\n".into();
    }
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            let last = j.last_run.as_ref();
            vec![
                if j.attention.is_empty() { " " } else { "!" }.to_string(),
                j.job.clone(),
                last.map(|l| l.run.to_string())
                    .unwrap_or_else(|| "-".into()),
                last.map(|l| l.started_at.clone())
                    .unwrap_or_else(|| "never run".into()),
                last.and_then(|l| l.seconds)
                    .map(|s| format!("{s:.1} s"))
                    .unwrap_or_default(),
                match (&j.running, last) {
                    (Some(r), _) if !r.stale => "running".into(),
                    (_, Some(l)) => l.status.clone(),
                    _ => "-".into(),
                },
                counts_text(last.and_then(|l| l.counts.as_ref())),
                j.next_at.clone().unwrap_or_else(|| "never".into()),
                j.failures_in_a_row.to_string(),
            ]
        })
        .collect();
    let mut out = super::api::table(
        &[
            "",
            "job",
            "run",
            "last started",
            "took",
            "outcome",
            "counts",
            "next",
            "failures",
        ],
        &rows,
    );
    for j in jobs {
        for a in &j.attention {
            out.push_str(&format!("! {}: {a}\n", j.job));
        }
        if let Some(e) = j.last_run.as_ref().and_then(|l| l.error.as_ref()) {
            if j.failures_in_a_row > 0 {
                out.push_str(&format!(
                    "  {}: {}\n",
                    j.job,
                    e.lines().next().unwrap_or_default()
                ));
            }
        }
    }
    out
}
