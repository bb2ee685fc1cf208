//! `affsync listen`: keep the mirror current from Affinity's webhooks, and run the enrichment
//! loop of the jobs that have `on_list_entry`.

use std::net::IpAddr;

use affsync::listen::{self, EnrichJob, ListenOptions};

use super::api::ApiArgs;
use super::db::DbArgs;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The port to listen on (0 picks a free one; the subscription follows it).
    #[arg(long, default_value_t = 8790)]
    pub port: u16,
    /// The address to listen on. Anything but loopback needs `--public-url` and `--token`.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// The address Affinity posts to, when it is not the bound one (a tunnel, a proxy).
    #[arg(long, value_name = "URL")]
    pub public_url: Option<url::Url>,
    /// A token every delivery must carry (the subscribed URL does, as `?token=`).
    #[arg(long, env = "AFFSYNC_LISTEN_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Remove the listener's subscription from Affinity, and stop.
    #[arg(long, conflicts_with = "status")]
    pub unsubscribe: bool,
    /// Show the listener's state (as `affsync status` does), and stop.
    #[arg(long)]
    pub status: bool,
    /// With `--status`, or when the listener stops: JSON.
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
        if self.status {
            let s = listen::status::status(&store, chrono::Utc::now()).await?;
            store.close().await;
            if self.json {
                outln!("{}", serde_json::to_string_pretty(&s)?);
            } else {
                out!("{}", listen::status::render(&s));
            }
            return Ok(());
        }
        let client = settings.client()?;
        // The enrichment loop runs the jobs of the settings file that have `on_list_entry`.
        let config = settings.jobs().ok();
        if self.unsubscribe {
            let id = listen::unsubscribe(&client, &store).await?;
            store.close().await;
            outln!("removed webhook subscription {id}");
            return Ok(());
        }
        let enrich: Vec<EnrichJob> = config
            .iter()
            .flat_map(|c| c.jobs.iter())
            .filter_map(|j| {
                j.on_list_entry.as_ref().map(|o| EnrichJob {
                    job: j.name.clone(),
                    list: o.list.clone(),
                    mapping: o.mapping.clone(),
                })
            })
            .collect();
        let opts = ListenOptions {
            bind: self.bind,
            port: self.port,
            public_url: self.public_url.clone(),
            token: self.token.clone(),
            enrich,
            ..ListenOptions::default()
        };
        let stop = super::run::stop_on_signals();
        let summary = listen::listen(&client, &store, &opts, stop, |l| {
            // The origin only: the secret path is never printed.
            outln!(
                "listening on {} for Affinity's webhooks (subscription {}{}, run {})",
                l.origin,
                l.subscription,
                if l.reused { ", kept" } else { ", new" },
                l.run
            );
        })
        .await?;
        store.close().await;
        if self.json {
            outln!("{}", serde_json::to_string_pretty(&summary)?);
        } else {
            let c = &summary.counts;
            outln!(
                "stopped: {} events ({} applied, {} needed nothing, {} failed), {} reads; entries {} new, {} changed, {} removed; enriched {}, not in the source {}",
                c.events, c.applied, c.skipped, c.failed, c.reads, c.entries_new, c.entries_changed, c.entries_removed, c.enriched, c.not_in_source
            );
        }
        if summary.counts.failed > 0 {
            return Err(super::Problem::partial(format!(
                "{} webhook events could not be applied (see `affsync activity {}`)",
                summary.counts.failed, summary.run
            ))
            .into());
        }
        Ok(())
    }
}
