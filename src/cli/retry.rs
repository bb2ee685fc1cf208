//! `affsync retry RUN`: plans and pushes again only the records that failed in a push run.

use affsync_core::model::RunId;
use std::collections::BTreeSet;
use std::path::PathBuf;

use super::api::ApiArgs;
use super::db::DbArgs;
use super::{BadInput, Partial};
use crate::push::{push, PushOptions};

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
        let store = self.db.open().await?;
        let runs = store.runs(i64::MAX).await?;
        let Some(row) = runs.iter().find(|r| r.id.0 == self.run) else {
            return Err(BadInput(format!(
                "no run {} in the journal\nhint: `affsync activity` lists the runs",
                self.run
            ))
            .into());
        };
        if row.kind != "push" {
            return Err(BadInput(format!(
                "run {} is a `{}` run, not a push\nhint: retry takes the id of a push run",
                self.run, row.kind
            ))
            .into());
        }
        let events = store.events(RunId(self.run)).await?;
        let failed: BTreeSet<String> = events
            .iter()
            .filter(|e| e.event.step == "failed")
            .filter_map(|e| e.event.record.strip_prefix("src:").map(str::to_string))
            .collect();
        let mapping_path = match &self.mapping {
            Some(p) => p.clone(),
            None => events
                .iter()
                .find_map(|e| {
                    e.event
                        .detail
                        .as_ref()
                        .and_then(|d| d["mapping"].as_str())
                        .map(PathBuf::from)
                })
                .ok_or_else(|| {
                    BadInput(format!(
                        "run {} names no mapping file\nhint: give it with `--mapping FILE`",
                        self.run
                    ))
                })?,
        };
        if failed.is_empty() {
            println!("run {}: no record failed; nothing to retry", self.run);
            return Ok(());
        }
        let mapping =
            crate::io::load_mapping(&mapping_path).map_err(|e| BadInput(e.to_string()))?;
        let client = self.api.client()?;
        let opts = PushOptions {
            only: Some(failed.clone()),
            ..Default::default()
        };
        let report = match push(&store, &client, &mapping, &opts, &crate::push::apply::Quiet).await
        {
            Ok(r) => r,
            Err(e) if e.is_bad_input() => return Err(BadInput(e.to_string()).into()),
            Err(e) => return Err(e.into()),
        };
        let c = &report.counts;
        if self.json {
            let mut v = serde_json::to_value(c)?;
            v["run"] = report.run.0.into();
            v["retried_run"] = self.run.into();
            v["retried"] = failed.len().into();
            println!("{v}");
        } else {
            println!(
                "retried {} failed records of run {} as run {}: {} created, {} updated, {} unchanged, {} failed; {} API calls ({} writes)",
                failed.len(),
                self.run,
                report.run,
                c.created,
                c.updated,
                c.unchanged,
                c.failed,
                c.api_calls,
                c.write_calls
            );
            for p in report
                .plans
                .iter()
                .filter(|p| p.action == crate::push::Action::Failed)
            {
                eprintln!(
                    "failed {}: {}",
                    p.source_id.as_deref().unwrap_or("(no id)"),
                    p.reason
                );
            }
        }
        if report.partial() {
            return Err(
                Partial(format!("the retry was partial: {} still failed", c.failed)).into(),
            );
        }
        Ok(())
    }
}
