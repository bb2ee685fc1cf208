//! `affsync emulator`: serve an emulated Affinity tenant until interrupted.

use std::path::PathBuf;
use std::time::Duration;

use affinity_crm_emulator::{demo_seed, load_seed, Emulator, EmulatorConfig};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// A tenant seed file (JSON); the demo tenant when absent.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// The first user's key; any other key that is no seeded user's is answered 401.
    #[arg(long)]
    pub api_key: Option<String>,
    /// Requests per API key per minute.
    #[arg(long, default_value_t = 900)]
    pub rate_limit_per_minute: u64,
    /// Requests per account per month (no monthly quota when absent).
    #[arg(long)]
    pub monthly_quota: Option<u64>,
    /// Milliseconds added before every answer.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Share of requests (0 to 1) answered by a 500, a 503 or a dropped connection.
    #[arg(long, default_value_t = 0.0)]
    pub fault_rate: f64,
    /// Seed of the fault sequence, for reproducible faults (and of the webhook drops).
    #[arg(long, default_value_t = 0)]
    pub fault_seed: u64,
    /// Share of webhook deliveries (0 to 1) lost on the way and never retried, chosen by
    /// `--fault-seed`; `GET /_emulator/webhooks/dropped` lists them.
    #[arg(long, default_value_t = 0.0)]
    pub webhook_drop_rate: f64,
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if !(0.0..=1.0).contains(&self.fault_rate) {
            return Err(super::Problem::bad_input(
                format!(
                    "`--fault-rate` must be between 0 and 1, got {}",
                    self.fault_rate
                ),
                "0.05 fails one request in twenty",
            )
            .into());
        }
        if !(0.0..=1.0).contains(&self.webhook_drop_rate) {
            return Err(super::Problem::bad_input(
                format!(
                    "`--webhook-drop-rate` must be between 0 and 1, got {}",
                    self.webhook_drop_rate
                ),
                "0.01 loses one webhook delivery in a hundred",
            )
            .into());
        }
        let seed = match &self.seed {
            Some(p) => load_seed(p)?,
            None => demo_seed(),
        };
        let config = EmulatorConfig {
            port: self.port,
            api_key: self.api_key,
            rate_limit_per_minute: self.rate_limit_per_minute,
            monthly_quota: self.monthly_quota,
            latency: Duration::from_millis(self.latency_ms),
            fault_rate: self.fault_rate,
            fault_seed: self.fault_seed,
            webhooks: affinity_crm_emulator::webhooks::DeliveryConfig {
                drop_rate: self.webhook_drop_rate,
                drop_seed: self.fault_seed,
                ..Default::default()
            },
            ..Default::default()
        };
        let emu = Emulator::start(config, seed).await?;
        tracing::info!(url = %emu.base_url(), "emulator listening");
        outln!("{}", emu.base_url());
        shutdown_signal().await;
        emu.stop().await;
        Ok(())
    }
}

/// Waits for SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
