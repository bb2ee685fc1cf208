//! `affsync retry RUN`: plans and pushes again only the records that failed in a push run.

use affsync_core::model::RunId;
use std::collections::BTreeSet;
use std::path::PathBuf;

use super::api::ApiArgs;
use super::db::DbArgs;
use super::Problem;
use affsync::push::{push, PushOptions};
use affsync_core::journal::{RunKind, Step};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The push run whose failed records are pushed again (`affsync activity` lists runs).
    pub run: i64,
    /// The mapping file, when it is not where the run found it (the journal keeps its path
    /// relative to the folder the push ran in).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Print the summary as JSON.
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
        let store = settings.open_store().await?;
        let runs = store.runs(i64::MAX).await?;
        let Some(row) = runs.iter().find(|r| r.id.0 == self.run) else {
            return Err(Problem::bad_input(
                format!("no run {} in the journal", self.run),
                "`affsync activity` lists the runs",
            )
            .into());
        };
        if row.kind != RunKind::Push.as_str() {
            return Err(Problem::bad_input(
                format!("run {} is a `{}` run, not a push", self.run, row.kind),
                "retry takes the id of a push run",
            )
            .into());
        }
        let events = store.events(RunId(self.run)).await?;
        let failed: BTreeSet<String> = events
            .iter()
            .filter(|e| matches!(e.event.step, Step::Failed { .. }))
            .filter_map(|e| e.event.record.strip_prefix("src:").map(str::to_string))
            .collect();
        let mapping_path = match &self.mapping {
            Some(p) => p.clone(),
            None => events
                .iter()
                .find_map(|e| e.event.mapping.as_ref().map(PathBuf::from))
                .ok_or_else(|| {
                    Problem::bad_input(
                        format!("run {} names no mapping file", self.run),
                        "give it with `--mapping FILE`",
                    )
                })?,
        };
        if failed.is_empty() {
            outln!("run {}: no record failed; nothing to retry", self.run);
            return Ok(());
        }
        let mapping = settings.load_mapping(&mapping_path)?;
        let client = settings.client()?;
        let opts = PushOptions {
            only: Some(failed.clone()),
            ..Default::default()
        };
        let report = match push(
            &store,
            &client,
            &mapping,
            &opts,
            &affsync::push::apply::Quiet,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => return Err(e.into()),
        };
        let c = &report.counts;
        if self.json {
            let mut v = serde_json::to_value(c)?;
            v["run"] = report.run.0.into();
            v["retried_run"] = self.run.into();
            v["retried"] = failed.len().into();
            outln!("{v}");
        } else {
            outln!(
                "retried {} of run {} as run {}: {} created, {} updated, {} unchanged, {} failed; {} ({})",
                super::out::count(failed.len() as u64, "failed record"),
                self.run,
                report.run,
                c.created,
                c.updated,
                c.unchanged,
                c.failed,
                super::out::count(c.api_calls, "API call"),
                super::out::count(c.write_calls, "write")
            );
            for (label, why) in report.failures() {
                errln!("failed {label}: {why}");
            }
        }
        if report.partial() {
            return Err(Problem::partial(format!(
                "the retry was partial: {} still failed",
                c.failed
            ))
            .into());
        }
        Ok(())
    }
}
