//! `affsync pull`: Affinity lists into the mirror.

use affsync_core::model::ListRow;
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::api::ApiArgs;
use super::db::DbArgs;
use affsync::pull::{self, ListSummary, Progress, PullOptions, PullSummary, Quiet};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A list to pull, by name or id (repeatable).
    #[arg(long = "list", value_name = "NAME_OR_ID")]
    pub lists: Vec<String>,
    /// Pull every list.
    #[arg(long, conflicts_with = "lists")]
    pub all_lists: bool,
    /// Pull a saved view instead: `LIST/VIEW` (names or ids), or the view's id; its entries
    /// and the fields it shows.
    #[arg(long, value_name = "LIST/VIEW", conflicts_with_all = ["lists", "all_lists"])]
    pub view: Option<String>,
    /// Lists pulled at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
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
        let client = settings.client()?;
        let store = settings.open_store().await?;
        if let Some(view) = &self.view {
            let v = affsync::listen::view::pull_view(&client, &store, view, None).await?;
            store.close().await;
            if self.json {
                outln!("{}", serde_json::to_string_pretty(&v)?);
            } else {
                outln!(
                    "{}/{}: {} entries, {} new, {} changed, {} values; {} calls, {:.2} s\nrun {} in the journal",
                    v.list, v.view, v.entries_seen, v.new, v.changed, v.field_values, v.api_calls, v.seconds, v.run
                );
            }
            return Ok(());
        }
        let opts = PullOptions {
            lists: self.lists.clone(),
            all_lists: self.all_lists,
            concurrency: self.concurrency,
        };
        let show = !super::out::quiet() && std::io::stderr().is_terminal();
        let summary = run_pull(&client, &store, &opts, show).await?;
        if self.json {
            outln!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            out!("{}", render(&summary));
        }
        store.close().await;
        Ok(())
    }
}

/// Runs a pull with progress bars when `show`; an unknown list is bad input (exit code 2).
pub async fn run_pull(
    client: &affinity_crm::Client,
    store: &affsync::store::Store,
    opts: &PullOptions,
    show: bool,
) -> anyhow::Result<PullSummary> {
    let bars = Bars::new(show);
    let progress: &dyn Progress = if show { &bars } else { &Quiet };
    Ok(pull::pull(client, store, opts, progress).await?)
}

/// The summary table.
pub fn render(s: &PullSummary) -> String {
    let mut rows: Vec<Vec<String>> = s
        .lists
        .iter()
        .map(|l| {
            vec![
                l.list.clone(),
                l.entries_seen.to_string(),
                l.new.to_string(),
                l.changed.to_string(),
                l.removed.to_string(),
                l.entities.to_string(),
                l.field_values.to_string(),
                l.api_calls.to_string(),
                format!("{:.2}", l.seconds),
            ]
        })
        .collect();
    let sum = |f: fn(&ListSummary) -> usize| s.lists.iter().map(f).sum::<usize>().to_string();
    rows.push(vec![
        "total".into(),
        sum(|l| l.entries_seen),
        sum(|l| l.new),
        sum(|l| l.changed),
        sum(|l| l.removed),
        sum(|l| l.entities),
        sum(|l| l.field_values),
        s.api_calls.to_string(),
        format!("{:.2}", s.seconds),
    ]);
    let mut out = super::api::table(
        &[
            "list", "entries", "new", "changed", "removed", "entities", "values", "calls",
            "seconds",
        ],
        &rows,
    );
    if s.entities_removed + s.entities_merged > 0 {
        out.push_str(&format!(
            "entities no longer on any list: {} checked, {} deleted in Affinity, {} merged\n",
            s.entities_checked, s.entities_removed, s.entities_merged
        ));
    }
    out.push_str(&format!("run {} in the journal\n", s.run));
    out
}

/// A spinner per list, on stderr.
struct Bars {
    multi: MultiProgress,
    bars: Mutex<HashMap<i64, ProgressBar>>,
}

impl Bars {
    fn new(show: bool) -> Bars {
        let multi = MultiProgress::with_draw_target(if show {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        });
        Bars {
            multi,
            bars: Mutex::new(HashMap::new()),
        }
    }
}

impl Progress for Bars {
    fn list_started(&self, list: &ListRow) {
        let bar = self.multi.add(ProgressBar::new_spinner());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix:<24} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(list.name.clone());
        bar.set_message("0 entries");
        bar.enable_steady_tick(Duration::from_millis(120));
        self.bars.lock().unwrap().insert(list.id, bar);
    }
    fn page_done(&self, list_id: i64, entries: usize) {
        if let Some(b) = self.bars.lock().unwrap().get(&list_id) {
            b.set_message(format!("{entries} entries"));
        }
    }
    fn list_done(&self, s: &ListSummary) {
        if let Some(b) = self.bars.lock().unwrap().remove(&s.list_id) {
            b.finish_with_message(format!(
                "{} entries: {} new, {} changed, {} removed",
                s.entries_seen, s.new, s.changed, s.removed
            ));
        }
    }
}
