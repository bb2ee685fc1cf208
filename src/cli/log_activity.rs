//! `affsync log-activity FEED --settings activity.toml [--dry-run] [--json]`: calls, voicemail,
//! SMS and notes from a communication feed into Affinity.

use std::path::PathBuf;

use super::api::ApiArgs;
use super::db::DbArgs;
use super::Problem;
use affsync::activity_log::{load_settings, log_activity, Options, Report};
use affsync_core::model::{labelled, Kind};
use affsync_core::plan::activity::{Action, Target};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The feed: JSON Lines (`.jsonl`) or CSV (`.csv`), one event a row.
    pub feed: PathBuf,
    /// The settings file (`connected_numbers`, `create_contacts`, `phone_field`, `[workflow]`).
    #[arg(long)]
    pub settings: PathBuf,
    /// Print what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the summary (and the planned writes) as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let settings = load_settings(&self.settings)?;
        let resolved = self.db.with_api(&self.api)?;
        let client = resolved.client()?;
        let store = resolved.open_store().await?;
        let opts = Options {
            dry_run: self.dry_run,
            job: None,
        };
        // `[[members]]` in `affsync.toml`: each member's events with their own key.
        let members = match &resolved.file {
            Some(f) => affsync::members::connect(&f.members, &client, &store).await?,
            None => Vec::new(),
        };
        let report =
            match log_activity(&store, &client, &self.feed, &settings, &members, &opts).await {
                Ok(r) => r,
                Err(e) => return Err(e.into()),
            };
        if self.json {
            outln!("{}", serde_json::to_string_pretty(&to_json(&report))?);
        } else {
            print_report(&report);
        }
        store.close().await;
        if report.partial() {
            return Err(Problem::partial(format!(
                "{} {} could not be logged; the journal of run {} has each reason",
                report.counts.failed,
                if report.counts.failed == 1 {
                    "event"
                } else {
                    "events"
                },
                report.run.map(|r| r.to_string()).unwrap_or_default()
            ))
            .into());
        }
        Ok(())
    }
}

fn target(t: Target, r: &Report) -> serde_json::Value {
    match t {
        Target::Person(id) => {
            serde_json::json!({"person_id": id, "name": r.person_names.get(&id)})
        }
        Target::New(i) => serde_json::json!({"new_contact": r.plan.new_contacts[i].contact}),
    }
}

fn to_json(r: &Report) -> serde_json::Value {
    let mut v = serde_json::to_value(&r.counts).expect("counts serialize");
    v["run"] = r.run.map(|x| x.0).into();
    v["dry_run"] = r.dry_run.into();
    v["writes"] = r
        .plan
        .ops
        .iter()
        .map(|o| {
            let mut w = serde_json::json!({
                "feed_id": o.feed_id,
                "row": o.row,
                "kind": o.kind.as_str(),
                "action": o.action.journal().as_str(),
                "to": target(o.target, r),
                "as": r.written_as(o),
            });
            match &o.action {
                Action::CreateNote { content, .. } | Action::UpdateNote { content, .. } => {
                    w["content"] = content.clone().into()
                }
                Action::LogCall {
                    date,
                    direction,
                    content,
                }
                | Action::UpdateCall {
                    date,
                    direction,
                    content,
                    ..
                } => {
                    w["content"] = content.clone().into();
                    w["date"] = date.to_rfc3339().into();
                    w["direction"] = (*direction).into();
                }
                _ => {}
            }
            w
        })
        .collect::<Vec<_>>()
        .into();
    v["skips"] = r
        .plan
        .skipped
        .iter()
        .map(|s| {
            serde_json::json!({"feed_id": s.feed_id, "row": s.row, "why": s.kind.as_str(), "reason": s.reason})
        })
        .collect::<Vec<_>>()
        .into();
    v["new_contacts"] = r
        .plan
        .new_contacts
        .iter()
        .map(|c| serde_json::json!({"contact": c.contact, "first_name": c.first_name, "last_name": c.last_name}))
        .collect::<Vec<_>>()
        .into();
    v["member_failures"] = r.member_failures.clone().into();
    v["failures"] = r
        .failures
        .iter()
        .map(|(id, e)| serde_json::json!({"feed_id": id, "error": e}))
        .collect::<Vec<_>>()
        .into();
    v
}

fn print_report(r: &Report) {
    if r.dry_run {
        outln!("dry run (nothing is written)");
        for c in &r.plan.new_contacts {
            outln!(
                "  create person {} {} for `{}`",
                c.first_name,
                c.last_name,
                c.contact
            );
        }
        for o in &r.plan.ops {
            let to = match o.target {
                Target::Person(id) => labelled(
                    r.person_names.get(&id).map_or("", String::as_str),
                    Kind::Person,
                    id,
                ),
                Target::New(i) => format!("new person `{}`", r.plan.new_contacts[i].contact),
            };
            let by = if r.members.is_empty() {
                String::new()
            } else {
                format!("  as {}", r.written_as(o))
            };
            outln!(
                "  row {:>4}  {:<12} {:<10} {to}{by}",
                o.row,
                o.action.journal().as_str(),
                o.feed_id
            );
        }
        for s in &r.plan.skipped {
            outln!(
                "  row {:>4}  skipped      {:<10} {}",
                s.row,
                s.feed_id.as_deref().unwrap_or("-"),
                s.reason
            );
        }
    }
    let c = &r.counts;
    outln!(
        "notes: {} created, {} updated, {} deleted; calls: {} logged, {} updated, {} deleted; \
         {} created; {} unchanged, {} skipped, {} failed",
        c.notes_created,
        c.notes_updated,
        c.notes_deleted,
        c.calls_logged,
        c.calls_updated,
        c.calls_deleted,
        super::out::count(c.contacts_created as u64, "contact"),
        c.unchanged,
        c.skipped,
        c.failed
    );
    // Who each write is made as, when members write with their own keys.
    if !r.members.is_empty() {
        let mut by: Vec<(String, usize)> = Vec::new();
        for o in &r.plan.ops {
            let who = r.written_as(o).to_string();
            match by.iter_mut().find(|(w, _)| *w == who) {
                Some((_, n)) => *n += 1,
                None => by.push((who, 1)),
            }
        }
        for (who, n) in by {
            outln!(
                "  as {who}: {n} {}",
                if n == 1 { "write" } else { "writes" }
            );
        }
    }
    for m in &r.member_failures {
        outln!("  {m}");
    }
    if !r.dry_run {
        for (id, e) in &r.failures {
            outln!("  failed {id}: {e}");
        }
    }
}
