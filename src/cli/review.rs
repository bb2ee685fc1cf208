//! `affsync review serve | list | decide`: the reviewers' page, and the same queue and verdicts
//! from the terminal.

use affsync_core::model::labelled;
use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;

use chrono::Utc;

use super::api::ApiArgs;
use super::db::DbArgs;
use super::Problem;
use affsync::review::queue::candidate_ids;
use affsync::review::server::{check_bind, serve, ServeOptions};
use affsync::review::{decide, Decide, Verdict};
use affsync::store::review::{QueueFilter, QueueStatus};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub command: ReviewCommand,
}

#[derive(Debug, clap::Subcommand)]
pub enum ReviewCommand {
    /// Serve the review page: records in review or unmatched, their candidates, and the
    /// buttons to decide them.
    #[command(after_long_help = "Examples:
  affsync review serve
  affsync review serve --port 0 --reviewer ana
  affsync review serve --bind 0.0.0.0 --token \"$TOKEN\"")]
    Serve(ServeArgs),
    /// List the review queue.
    #[command(after_long_help = "Examples:
  affsync review list
  affsync review list --mapping mappings/companies.toml --status all --json")]
    List(ListArgs),
    /// Record a verdict on one source record (or undo one).
    #[command(after_long_help = "Examples:
  affsync review decide ACME-1 --mapping mappings/companies.toml --accept 202
  affsync review decide ACME-2 --mapping mappings/companies.toml --create
  affsync review decide ACME-3 --mapping mappings/companies.toml --undo")]
    Decide(DecideArgs),
}

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The port (0 picks a free one; the address is printed).
    #[arg(long, default_value_t = 8765)]
    pub port: u16,
    /// The address to listen on; any but a loopback address needs `--token`.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// A secret every request must carry (open the page with `?token=SECRET` once).
    #[arg(long, env = "AFFSYNC_REVIEW_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// A host name requests may name besides the bound address (the page's public name
    /// behind a proxy); repeatable. Requests naming any other host are refused.
    #[arg(long, value_name = "HOST")]
    pub allowed_host: Vec<String>,
    /// The name decisions are signed with when the page has not been given one.
    #[arg(long)]
    pub reviewer: Option<String>,
    /// The tenant's subdomain for links into the Affinity web app
    /// (`https://SUBDOMAIN.affinity.co/companies/ID`); asked of Affinity (whoami) when an API
    /// key is set, none otherwise.
    #[arg(long, value_name = "SUBDOMAIN")]
    pub affinity_subdomain: Option<String>,
    #[command(flatten)]
    pub api: ApiArgs,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, clap::Args)]
pub struct ListArgs {
    /// Only this mapping file's records.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// `open` (not decided yet), `review`, `unmatched`, `decided` or `all`.
    #[arg(long, default_value = "open")]
    pub status: String,
    /// Print JSON: one object per record.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub db: DbArgs,
}

#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("verdict").required(true).args(["accept", "create", "reject", "undo"])))]
pub struct DecideArgs {
    /// The source record's id (its `[source] id` column).
    pub source_id: String,
    /// The mapping file the record belongs to.
    #[arg(long)]
    pub mapping: PathBuf,
    /// It is this Affinity record (an id the mirror holds).
    #[arg(long, value_name = "AFFINITY_ID")]
    pub accept: Option<String>,
    /// It is new: the next push creates it (in `create_update` mode).
    #[arg(long)]
    pub create: bool,
    /// None of the candidates, and not to be created.
    #[arg(long)]
    pub reject: bool,
    /// Forget the earlier verdict.
    #[arg(long)]
    pub undo: bool,
    /// Who decides (default: `$USER`).
    #[arg(long)]
    pub reviewer: Option<String>,
    #[command(flatten)]
    pub db: DbArgs,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            ReviewCommand::Serve(a) => a.run().await,
            ReviewCommand::List(a) => a.run().await,
            ReviewCommand::Decide(a) => a.run().await,
        }
    }
}

impl ServeArgs {
    async fn run(self) -> anyhow::Result<()> {
        check_bind(self.bind, self.token.as_deref())?;
        let store = self.db.settings()?.open_store().await?;
        let subdomain = match &self.affinity_subdomain {
            Some(s) => Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            None => self.ask_subdomain().await,
        };
        let opts = ServeOptions {
            bind: self.bind,
            port: self.port,
            token: self.token.clone(),
            reviewer: self.reviewer.clone(),
            subdomain,
            allowed_hosts: self.allowed_host.clone(),
        };
        let with_token = self.token.is_some();
        serve(store, opts, |addr| {
            let host = match addr.ip() {
                IpAddr::V6(ip) => format!("[{ip}]"),
                IpAddr::V4(ip) => ip.to_string(),
            };
            let mut out = std::io::stdout();
            let _ = writeln!(
                out,
                "review page on http://{host}:{}/{}",
                addr.port(),
                if with_token { "?token=…" } else { "" }
            );
            let _ = out.flush();
        })
        .await?;
        Ok(())
    }
}

impl ServeArgs {
    /// The tenant's subdomain from whoami, once; `None` (candidates shown without links) when
    /// no key is set or Affinity does not answer in time.
    async fn ask_subdomain(&self) -> Option<String> {
        let client = self.db.with_api(&self.api).ok()?.client().ok()?;
        match tokio::time::timeout(std::time::Duration::from_secs(15), client.whoami_v1()).await {
            Ok(Ok(who)) => who.tenant.subdomain.filter(|s| !s.trim().is_empty()),
            Ok(Err(e)) => {
                tracing::warn!("no links into Affinity: whoami failed: {e}");
                None
            }
            Err(_) => {
                tracing::warn!("no links into Affinity: whoami did not answer in 15 s");
                None
            }
        }
    }
}

impl ListArgs {
    async fn run(self) -> anyhow::Result<()> {
        let status = QueueStatus::parse(&self.status).ok_or_else(|| {
            Problem::bad_input(
                format!("`{}` is not a queue status", self.status),
                "use `open`, `review`, `unmatched`, `decided` or `all`",
            )
        })?;
        let settings = self.db.settings()?;
        let store = settings.open_store().await?;
        let filter = QueueFilter {
            mapping: self.mapping.as_deref().map(|m| settings.mapping_key(m)),
            status,
            ..QueueFilter::default()
        };
        let (items, total) = store.review_queue(&filter, 0, i64::MAX / 2).await?;
        let progress = store.review_progress(filter.mapping.as_deref()).await?;
        // A mapping named by a path that is no file, and by no decision in the mirror, is a
        // slip (a typo, another folder): an empty list would read as "nothing to review".
        if let (Some(given), Some(key)) = (&self.mapping, &filter.mapping) {
            if !given.is_file() && progress.reviewed + progress.remaining == 0 {
                return Err(Problem::bad_input(
                    format!(
                        "`{}` is no mapping file, and the mirror holds no decisions of a mapping `{key}`",
                        given.display()
                    ),
                    "give the mapping file's path (or its `name`); `affsync review list` lists every mapping's records",
                )
                .into());
            }
        }
        // Every Affinity id shown is shown with its record's name.
        let ids: std::collections::BTreeSet<i64> = items
            .iter()
            .flat_map(|it| {
                candidate_ids(it)
                    .into_iter()
                    .map(|(id, _)| id)
                    .chain(it.review.as_ref().and_then(|r| r.affinity_id.clone()))
            })
            .filter_map(|id| id.parse().ok())
            .collect();
        let names = store.names_by_id(&ids).await?;
        let name_of = |id: &str| -> String {
            match id
                .parse::<i64>()
                .ok()
                .and_then(|i| names.get(&i).map(|n| (i, n)))
            {
                Some((i, (kind, name))) => labelled(name, *kind, i),
                None => id.to_string(),
            }
        };
        let name_json = |id: Option<&str>| -> serde_json::Value {
            id.and_then(|i| i.parse::<i64>().ok())
                .and_then(|i| names.get(&i))
                .map(|(_, n)| n.clone())
                .into()
        };
        if self.json {
            let rows: Vec<serde_json::Value> = items
                .iter()
                .map(|it| {
                    let d = &it.decision;
                    serde_json::json!({
                        "mapping": d.mapping,
                        "source_id": d.source_id,
                        "status": d.status,
                        "score": d.score,
                        "affinity_id": d.affinity_id,
                        "name": name_json(d.affinity_id.as_deref()),
                        "reason": d.reason,
                        "candidates": candidate_ids(it)
                            .into_iter()
                            .map(|(id, score)| serde_json::json!({
                                "affinity_id": id, "score": score, "name": name_json(Some(&id)),
                            }))
                            .collect::<Vec<_>>(),
                        "record": d.record,
                        "run": d.run_id.map(|r| r.0),
                        "verdict": it.review.as_ref().map(|r| r.verdict.as_str()),
                        "verdict_affinity_id": it.review.as_ref().and_then(|r| r.affinity_id.clone()),
                        "decided_by": it.review.as_ref().and_then(|r| r.decided_by.clone()),
                        "decided_at": it.review.as_ref().map(|r| r.decided_at.clone()),
                    })
                })
                .collect();
            outln!(
                "{}",
                serde_json::json!({
                    "total": total,
                    "reviewed": progress.reviewed,
                    "remaining": progress.remaining,
                    "records": rows,
                })
            );
            return Ok(());
        }
        outln!(
            "{:<24} {:<12} {:<10} {:>6}  {:<40} {:<18} reason",
            "mapping",
            "source_id",
            "status",
            "score",
            "candidates",
            "verdict"
        );
        for it in &items {
            let d = &it.decision;
            let cands = candidate_ids(it)
                .into_iter()
                .map(|(id, _)| name_of(&id))
                .collect::<Vec<_>>()
                .join(", ");
            let verdict = it
                .review
                .as_ref()
                .map(|r| match &r.affinity_id {
                    Some(id) => format!("{} {}", r.verdict.as_str(), name_of(id)),
                    None => r.verdict.as_str().to_string(),
                })
                .unwrap_or_else(|| "-".into());
            outln!(
                "{:<24} {:<12} {:<10} {:>6}  {:<40} {:<18} {}",
                d.mapping,
                d.source_id,
                d.status,
                d.score
                    .map(|s| format!("{s:.3}"))
                    .unwrap_or_else(|| "-".into()),
                if cands.is_empty() { "-".into() } else { cands },
                verdict,
                d.reason
            );
        }
        outln!(
            "{total} listed; {} reviewed, {} remaining",
            progress.reviewed,
            progress.remaining
        );
        Ok(())
    }
}

impl DecideArgs {
    async fn run(self) -> anyhow::Result<()> {
        let verdict = if let Some(id) = &self.accept {
            Verdict::Accept(id.clone())
        } else if self.create {
            Verdict::Create
        } else if self.reject {
            Verdict::Reject
        } else {
            Verdict::Undo
        };
        let settings = self.db.settings()?;
        let store = settings.open_store().await?;
        let who = self
            .reviewer
            .clone()
            .or_else(|| std::env::var("USER").ok())
            .filter(|n| !n.trim().is_empty());
        let item = Decide {
            mapping: settings.mapping_key(&self.mapping),
            source_id: self.source_id.clone(),
            verdict: verdict.clone(),
        };
        match decide(
            &store,
            std::slice::from_ref(&item),
            who.as_deref(),
            Utc::now(),
        )
        .await
        {
            Ok(_) => {
                outln!(
                    "{} {}: {}",
                    item.mapping,
                    item.source_id,
                    match &verdict {
                        Verdict::Accept(id) => format!("accepted {id}"),
                        Verdict::Create => "to be created by the next push".into(),
                        Verdict::Reject => "not a match".into(),
                        Verdict::Undo => "decision undone".into(),
                    }
                );
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}
