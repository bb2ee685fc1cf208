//! `affsync demo`: the emulator with the demo tenant, in-process on a free port, and everything
//! affsync can do so far run against it.

use std::time::Instant;

use crate::affinity::{ApiKey, Client, Config, KeySource};
use crate::emulator::{demo_seed, Emulator, EmulatorConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Keep the demo's mirror here (default: a temporary SQLite file, removed at the end).
    #[arg(long)]
    pub database_url: Option<String>,
}

const DEMO_KEY: &str = "demo-key";

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        let started = Instant::now();
        let config = EmulatorConfig {
            api_key: Some(DEMO_KEY.into()),
            ..Default::default()
        };
        let emu = Emulator::start(config, demo_seed()).await?;
        println!("emulator: the demo tenant at {}\n", emu.base_url());
        let client = Client::new(
            Config::new(ApiKey::new(DEMO_KEY), KeySource::Code).with_base_url(&emu.base_url())?,
        )?;

        println!("== whoami");
        let who = client.whoami_v2().await?;
        print!("{}", super::whoami::render(&who, &client, false));

        println!("\n== rate limits");
        let limits = client.rate_limit_v1().await?;
        print!("{}", super::rate_limit::render(&limits, false));

        println!("\n== pull: every list of the demo tenant into the mirror");
        let tmp = tempfile::tempdir()?;
        let url = match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", tmp.path().join("demo.db").display()),
        };
        let store = crate::store::Store::open(&url).await?;
        println!("mirror: {}", crate::store::redact_url(&url));
        let opts = crate::pull::PullOptions::default();
        let show = std::io::IsTerminal::is_terminal(&std::io::stdout());
        let summary = super::pull::run_pull(&client, &store, &opts, show).await?;
        print!("{}", super::pull::render(&summary));

        println!("\n== pull again: nothing changed in Affinity, so nothing is written");
        let again = super::pull::run_pull(&client, &store, &opts, false).await?;
        print!("{}", super::pull::render(&again));
        store.close().await;

        let stats = client.stats();
        println!(
            "\ndone in {:.2} s: {} API calls ({} retries, {} waits for rate limits)",
            started.elapsed().as_secs_f64(),
            stats.calls,
            stats.retries,
            stats.rate_limited
        );
        emu.stop().await;
        Ok(())
    }
}
