//! The options every command that calls Affinity shares, and the client they build.

use std::path::PathBuf;

use affinity_crm::{Client, Config, BASE_URL_ENV};

#[derive(Debug, Clone, clap::Args)]
pub struct ApiArgs {
    /// Read the API key from this file instead of `AFFINITY_API_KEY`.
    #[arg(long, global = true)]
    pub api_key_file: Option<PathBuf>,
    /// Affinity's address (the emulator's, in rehearsals).
    #[arg(long, env = BASE_URL_ENV, global = true, hide_env_values = true)]
    pub base_url: Option<String>,
}

impl ApiArgs {
    /// The client, or a bad-input error that says how to set the key.
    pub fn client(&self) -> anyhow::Result<Client> {
        let mut config = Config::from_env_or_file(self.api_key_file.as_deref())?;
        if let Some(base) = &self.base_url {
            config = config.with_base_url(base).map_err(|e| {
                super::Problem::bad_input(
                    format!("invalid `--base-url` `{base}`: {e}"),
                    "use a URL such as `https://api.affinity.co`",
                )
            })?;
        }
        Ok(Client::new(config)?)
    }
}

/// Seconds as a person reads them: `45 s`, `12 min`, `3 h 20 min`, `24 d 14 h`.
pub fn human_secs(s: u64) -> String {
    match s {
        0..=99 => format!("{s} s"),
        100..=3599 => format!("{} min", s.div_ceil(60)),
        3600..=86_399 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        _ => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

pub use affsync::io::text_table as table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_secs_reads_well() {
        for (s, want) in [
            (0, "0 s"),
            (59, "59 s"),
            (120, "2 min"),
            (3661, "1 h 1 min"),
            (2_124_845, "24 d 14 h"),
        ] {
            assert_eq!(human_secs(s), want);
        }
    }

    #[test]
    fn table_pads_columns() {
        let t = table(&["a", "bb"], &[vec!["long".into(), "x".into()]]);
        assert_eq!(t, "a     bb\nlong  x\n");
    }
}
