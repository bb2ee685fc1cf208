//! The flags every command that calls Affinity shares, and helpers for printing.

use std::path::PathBuf;

use super::db::ConfigArgs;

/// How to reach Affinity.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Settings")]
pub struct ApiArgs {
    /// Read the API key from this file [default: `AFFINITY_API_KEY`, else `key_env`,
    /// `key_file` or `key_command` under `[affinity]` in `affsync.toml`].
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// Affinity's address (the emulator's, in rehearsals) [env: AFFINITY_BASE_URL] (default:
    /// `base_url` under `[affinity]` in `affsync.toml`, else `https://api.affinity.co`).
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
}

/// The flags of a command that calls Affinity but never opens the mirror.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ApiOnly {
    #[command(flatten)]
    pub file: ConfigArgs,
    #[command(flatten)]
    pub api: ApiArgs,
}

impl ApiOnly {
    /// The client, or a bad-input error that says how to set the key.
    pub fn client(&self) -> anyhow::Result<affinity_crm::Client> {
        super::db::resolve(&self.file, None, Some(&self.api))?.client()
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
