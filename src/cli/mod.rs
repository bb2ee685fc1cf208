//! The command line: one file per subcommand, each a clap `Args` struct and its `run()`.

pub mod emulator;

use clap::{Parser, Subcommand};

/// Keeps an Affinity CRM tenant and your enrichment data in step, both ways.
#[derive(Debug, Parser)]
#[command(name = "affsync", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run an emulator of Affinity's API (v1 and v2) on 127.0.0.1.
    Emulator(emulator::Args),
}

impl Cli {
    pub async fn run(self) -> anyhow::Result<()> {
        match self.command {
            Command::Emulator(a) => a.run().await,
        }
    }
}
