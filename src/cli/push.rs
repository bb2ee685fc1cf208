//! `affsync push MAPPING [--dry-run] [--max-calls N] [--json]`: a mapping file's records into
//! Affinity, writing only what changed.

use std::io::IsTerminal;
use std::path::PathBuf;

use super::api::ApiArgs;
use super::db::DbArgs;
use super::Problem;
use affsync::push::values::words;
use affsync::push::{push, PushOptions, PushReport};
use affsync_core::plan::push::Op;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The mapping file (`[source]`, `[match]`, `[push]`, `[[fields]]`).
    pub mapping: PathBuf,
    /// Plan and print each record's action and its fields old → new, with the estimated
    /// calls; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not start a push that would need more API calls than this.
    #[arg(long)]
    pub max_calls: Option<u64>,
    /// Print the summary (and, dry, the plan) as JSON.
    #[arg(long)]
    pub json: bool,
    /// Records written at once (calls are paced to the rate limit either way).
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
    /// Fail a record whose cell does not convert (by default the cell is skipped and the
    /// record's other values are written); `strict = true` under `[push]` does the same.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub db: DbArgs,
}

struct Bar(Option<indicatif::ProgressBar>);

impl affsync::push::apply::Progress for Bar {
    fn start(&self, records: usize) {
        if let Some(b) = &self.0 {
            b.set_length(records as u64);
        }
    }
    fn record_done(&self) {
        if let Some(b) = &self.0 {
            b.inc(1);
        }
    }
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = self.db.with_api(&self.api)?;
        let mapping = settings.load_mapping(&self.mapping)?;
        let client = settings.client()?;
        let store = settings.open_store().await?;
        let show =
            !super::out::quiet() && !self.json && std::io::stderr().is_terminal() && !self.dry_run;
        let bar = Bar(show.then(|| {
            let b = indicatif::ProgressBar::new(0);
            b.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} push {pos}/{len} records {elapsed}",
                )
                .expect("a valid template"),
            );
            b
        }));
        let opts = PushOptions {
            dry_run: self.dry_run,
            max_calls: self.max_calls,
            concurrency: self.concurrency,
            job: None,
            only: None,
            strict: self.strict,
        };
        let report = match push(&store, &client, &mapping, &opts, &bar).await {
            Ok(r) => r,
            Err(e) => return Err(e.into()),
        };
        if let Some(b) = &bar.0 {
            b.finish_and_clear();
        }
        if self.json {
            outln!("{}", report.summary_json());
        } else {
            print_report(&report);
        }
        if report.partial() && !report.dry_run {
            return Err(Problem::partial(format!(
                "the push was partial: {} failed, {} not attempted{}",
                report.counts.failed,
                report.counts.not_attempted,
                report
                    .stopped
                    .as_ref()
                    .map(|s| format!("; {s}"))
                    .unwrap_or_default()
            ))
            .into());
        }
        Ok(())
    }
}

fn print_report(r: &PushReport) {
    if r.dry_run {
        outln!("dry run of {} (nothing is written)", r.mapping);
        for (i, p) in r.plans.iter().enumerate() {
            let action = match &p.op {
                Op::Create { .. } => "create",
                Op::Update { .. } => "update",
                other => other.as_str(),
            };
            let why = p.op.reason();
            outln!(
                "{}: {action}{}",
                r.label(i),
                if why.is_empty() {
                    String::new()
                } else {
                    format!(" ({why})")
                }
            );
            if p.op.add_to_list() {
                outln!("    add to list");
            }
            for w in p.op.writes().into_iter().flat_map(|w| w.all()) {
                outln!(
                    "    {}: {} → {}",
                    w.field_name,
                    words(&w.old),
                    words(&w.new)
                );
            }
            for s in &p.skipped_values {
                outln!("    {}: `{}` skipped ({})", s.field, s.value, s.reason);
            }
        }
        outln!(
            "estimated calls {} ({} to look up and check, {})",
            r.counts.estimated_calls,
            r.counts.estimated_calls - r.counts.estimated_write_calls,
            super::out::count(r.counts.estimated_write_calls, "write")
        );
    }
    let c = &r.counts;
    for (k, v) in [
        ("records", c.records),
        ("matched", c.matched),
        ("created", c.created),
        ("updated", c.updated),
        ("unchanged", c.unchanged),
        ("skipped_no_match", c.skipped_no_match),
        ("awaiting_review", c.awaiting_review),
        ("rejected", c.rejected),
        ("failed", c.failed),
        ("not_attempted", c.not_attempted),
        ("added_to_list", c.added_to_list),
        ("fields_written", c.fields_written),
        ("values_skipped", c.values_skipped),
        ("found_in_affinity", c.found_in_affinity),
    ] {
        outln!("{k:<17} {v}");
    }
    outln!(
        "{:<17} {} ({} writes)",
        "api_calls",
        c.api_calls,
        c.write_calls
    );
    outln!("{:<17} {}", "run", r.run);
    for (label, why) in r.failures() {
        errln!("failed {label}: {why}");
    }
    if let Some(s) = &r.stopped {
        errln!("{s}\nhint: run the same push again when the quota allows: it continues where this one stopped");
    }
}
