//! `affsync init`: a commented `affsync.toml` for this folder, and what to run next.

use std::path::PathBuf;

use super::Problem;

#[derive(Debug, clap::Args)]
#[command(after_long_help = "Examples:
  affsync init
  affsync init --base-url http://127.0.0.1:8787      # rehearse against `affsync emulator`
  affsync init --database-url postgres://affsync@db:5432/affsync --path ops/affsync.toml")]
pub struct Args {
    /// Where to write it.
    #[arg(long, value_name = "FILE", default_value = "affsync.toml")]
    pub path: PathBuf,
    /// The mirror it names.
    #[arg(long, value_name = "URL", default_value = "sqlite://affsync.db")]
    pub database_url: String,
    /// Affinity's address it names (the emulator's, for a rehearsal).
    #[arg(long, value_name = "URL", default_value = "https://api.affinity.co")]
    pub base_url: String,
    /// The environment variable the API key is read from.
    #[arg(long, value_name = "VAR", default_value = "AFFINITY_API_KEY")]
    pub key_env: String,
}

/// The file's text.
pub fn template(database_url: &str, base_url: &str, key_env: &str) -> String {
    let q = affsync_core::mapping::scaffold::toml_str;
    format!(
        r#"# affsync's settings, for this folder and every folder below it (affsync looks for
# `affsync.toml` upward from where it runs, as cargo looks for `Cargo.toml`; `--config FILE`
# or `AFFSYNC_CONFIG` name another). A flag wins over the environment, which wins over this
# file: `affsync config show` says where each setting comes from. Paths here are relative to
# this file.

# The mirror: a SQLite file (created when missing), or `postgres://USER@HOST:PORT/DB` for a
# mirror that several machines share.
database_url = {db}

# A job lock without a heartbeat this long (seconds) belongs to a process that died.
# lock_stale_after_s = 60

[affinity]
# Affinity's address. To rehearse against the emulator (`affsync emulator --port 8787`):
# base_url = "http://127.0.0.1:8787"
base_url = {base}
# Where the API key is read from; never write the key itself here. An environment variable:
key_env = {key}
# or a file (relative to this file; keep it out of git), or a command's output:
# key_file = "secrets/affinity-key"
# key_command = "pass show affinity"

# Jobs: named lists of steps, run now by `affsync run NAME`, or on their schedule by
# `affsync schedule`. Steps: {{ pull = [LIST, ...] }}, {{ match = "MAPPING" }},
# {{ push = "MAPPING" }}, {{ log_activity = "SETTINGS" }}, {{ contacts = "MAPPING" }}.
# Uncomment this one once its mapping file exists (`affsync mapping new`):
# [[jobs]]
# name = "nightly"
# schedule = "0 2 * * *"              # cron: min hour day month weekday (seconds first if six)
# timezone = "Europe/Paris"           # UTC by default
# steps = [ {{ pull = ["Deal Flow"] }}, {{ push = "mappings/companies.toml" }} ]
# on_failure = {{ webhook = "https://hooks.example.com/affsync" }}

# Members: each person's calls, SMS and notes (`affsync log-activity`) written with their own
# key, so that Affinity records them as the creator. Their settings may live in a file of their
# own, which holds only theirs (`affsync config show --member NAME` shows them):
# [[members]]
# name = "Mia Chen"
# key_env = "MIA_AFFINITY_KEY"
# lines = ["+1 555 0001"]
# [[members]]
# name = "Noah Park"
# file = "members/noah.toml"
"#,
        db = q(database_url),
        base = q(base_url),
        key = q(key_env),
    )
}

impl Args {
    pub async fn run(self) -> anyhow::Result<()> {
        if self.path.exists() {
            return Err(Problem::bad_input(
                format!("`{}` exists already", self.path.display()),
                "edit it, or remove it first; `affsync config show` shows what it sets",
            )
            .into());
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let text = template(&self.database_url, &self.base_url, &self.key_env);
        // `create_new`: a file that appeared since the check above is not replaced either.
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.path)
            .map_err(|e| anyhow::anyhow!("cannot write `{}`: {e}", self.path.display()))?;
        f.write_all(text.as_bytes())?;
        let key_set = std::env::var_os(&self.key_env).is_some_and(|v| !v.is_empty());
        outln!("wrote `{}`", self.path.display());
        outln!("next:");
        let mut steps: Vec<(String, &str)> = Vec::new();
        if !key_set {
            steps.push((
                format!("export {}=...", self.key_env),
                "your Affinity API key (Settings → API in Affinity)",
            ));
        }
        steps.extend([
            (
                "affsync config show".to_string(),
                "the settings, and where each comes from",
            ),
            (
                "affsync whoami".to_string(),
                "the tenant and user behind the key",
            ),
            (
                "affsync lists".to_string(),
                "the lists; `affsync fields --list NAME` shows their fields",
            ),
            (
                "affsync pull --list NAME".to_string(),
                "a list into the mirror",
            ),
            (
                "affsync mapping new --from FILE --list NAME".to_string(),
                "a first mapping file; then `affsync check` it",
            ),
        ]);
        let width = steps
            .iter()
            .map(|(c, _)| c.chars().count())
            .max()
            .unwrap_or(0);
        for (cmd, what) in steps {
            outln!("  {cmd:<width$}  # {what}");
        }
        Ok(())
    }
}
