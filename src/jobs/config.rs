//! `affsync.toml`: where the mirror is, how to reach Affinity, and the jobs.
//!
//! ```toml
//! database_url = "sqlite://affsync.db"       # optional; `--database-url`/`DATABASE_URL` win
//! lock_stale_after_s = 60                    # optional: a job lock without a heartbeat for
//!                                            # this long belongs to a dead process
//!
//! [affinity]                                 # optional
//! base_url = "https://api.affinity.co"
//! key_env = "AFFINITY_API_KEY"               # or key_file = "...", or key_command = "..."
//!
//! [[jobs]]
//! name = "nightly-dealflow"
//! schedule = "0 0 2 * * *"                   # cron: `min hour day month weekday`, or seconds first
//! timezone = "Europe/Paris"                  # optional, UTC by default
//! steps = [ { pull = ["Deal Flow"] }, { push = "mappings/companies.toml" } ]
//! on_failure = { webhook = "http://127.0.0.1:9000/hook" }
//!
//! [[jobs]]
//! name = "enrich-dealflow"
//! schedule = "0 0 3 * * 0"                   # weekly: the reconciliation
//! steps = [ { reconcile = ["Deal Flow"] }, { pull_view = "Deal Flow/Series A" } ]
//! on_list_entry = { list = "Deal Flow", mapping = "mappings/companies.toml" }  # run by `affsync listen`
//! ```
//!
//! Parsing is pure: the file's text in, a [`JobsConfig`] or an error naming the file, line, job
//! and key out. The key itself is only read when a command needs the client ([`KeySpec::read`]).

use affsync_core::diagnostic::{Diagnose, ErrorClass};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use toml::Spanned;

use affinity_crm::{ApiKey, KeySource};
use affsync_core::mapping::line_of;

/// The file read when no `--config` is given.
pub const DEFAULT_CONFIG_FILE: &str = "affsync.toml";

/// How long a lock may go without a heartbeat before another process takes it over.
pub const DEFAULT_LOCK_STALE_AFTER: Duration = Duration::from_secs(60);

/// The keys of the file, for hints.
pub const CONFIG_KEYS: &str = "`affsync.toml` has `database_url`, `lock_stale_after_s`, `[affinity]` (`base_url`, `key_env`, `key_file`, `key_command`), `[[jobs]]` (`name`, `schedule`, `timezone`, `steps`, `on_failure`, `on_list_entry`) and `[[members]]` (`name`, `file`, `key_env`, `key_file` or `key_command`, `lines`, `emails`, `workflow`)";

const STEP_HINT: &str =
    "a step is `{ pull = [\"List\", ...] }`, `{ reconcile = [\"List\", ...] }`, `{ pull_view = \"List/View\" }`, `{ match = \"mapping.toml\" }`, `{ push = \"mapping.toml\" }`, `{ log_activity = \"activity.toml\" }` or `{ contacts = \"contacts.toml\" }`";

/// A parsed `affsync.toml`.
#[derive(Debug, Clone)]
pub struct JobsConfig {
    /// The file, as given.
    pub path: PathBuf,
    pub database_url: Option<String>,
    pub lock_stale_after: Duration,
    /// Whether the file sets `lock_stale_after_s` (else it is the default).
    pub lock_stale_after_set: bool,
    pub base_url: Option<String>,
    /// Where the file says the key is, when it says.
    pub key: Option<KeySpec>,
    pub jobs: Vec<Job>,
    /// `[[members]]`: whose activity is written with whose key.
    pub members: Vec<crate::members::Member>,
}

/// Where the API key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySpec {
    Env(String),
    /// Resolved against the config file's folder.
    File(PathBuf),
    /// Run with `sh -c`; its standard output, trimmed, is the key.
    Command(String),
}

/// One `[[jobs]]` entry.
#[derive(Debug, Clone)]
pub struct Job {
    pub name: String,
    /// The cron expression as written.
    pub schedule_text: String,
    pub schedule: cron::Schedule,
    pub timezone: chrono_tz::Tz,
    pub steps: Vec<Step>,
    pub webhook: Option<url::Url>,
    /// The enrichment loop `affsync listen` runs for this job.
    pub on_list_entry: Option<OnListEntry>,
}

/// `on_list_entry = { list = "Deal Flow", mapping = "mappings/companies.toml" }`: match and
/// push each record as it lands on the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnListEntry {
    /// By name or id.
    pub list: String,
    /// Resolved against the config file's folder.
    pub mapping: PathBuf,
}

/// What a job does, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Lists by name or id.
    Pull {
        lists: Vec<String>,
    },
    /// A mapping file, resolved against the config file's folder.
    Match {
        mapping: PathBuf,
    },
    Push {
        mapping: PathBuf,
    },
    /// An activity settings file naming its `feed`.
    LogActivity {
        settings: PathBuf,
    },
    /// A contacts mapping file naming its `[file] path`.
    Contacts {
        mapping: PathBuf,
    },
    /// A pull of these lists (every list when empty) that reports drift: the entries the
    /// listener's webhooks missed.
    Reconcile {
        lists: Vec<String>,
    },
    /// A saved view, `List/View` or its id.
    PullView {
        view: String,
    },
}

impl Step {
    pub fn kind(&self) -> &'static str {
        match self {
            Step::Pull { .. } => "pull",
            Step::Match { .. } => "match",
            Step::Push { .. } => "push",
            Step::LogActivity { .. } => "log_activity",
            Step::Contacts { .. } => "contacts",
            Step::Reconcile { .. } => "reconcile",
            Step::PullView { .. } => "pull_view",
        }
    }

    /// What it works on, for people, a file named by its path from `root` (the folder of
    /// `affsync.toml`, as the file wrote it: `mappings/companies.toml`), else in full.
    pub fn target_in(&self, root: &crate::mapping_identity::MappingRoot) -> String {
        use crate::mapping_identity::{path_key, MappingRoot};
        match (self, root) {
            (
                Step::Match { mapping: p }
                | Step::Push { mapping: p }
                | Step::Contacts { mapping: p }
                | Step::LogActivity { settings: p },
                MappingRoot::Folder(dir),
            ) => path_key(p, dir),
            _ => self.target(),
        }
    }

    /// What it works on, for people: `Deal Flow, Portfolio` or a mapping file.
    pub fn target(&self) -> String {
        match self {
            Step::Pull { lists } => lists.join(", "),
            Step::Reconcile { lists } if lists.is_empty() => "every list".into(),
            Step::Reconcile { lists } => lists.join(", "),
            Step::PullView { view } => view.clone(),
            Step::Match { mapping } | Step::Push { mapping } | Step::Contacts { mapping } => {
                mapping.display().to_string()
            }
            Step::LogActivity { settings } => settings.display().to_string(),
        }
    }
}

impl Job {
    /// The first time the job fires strictly after `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.schedule
            .after(&after.with_timezone(&self.timezone))
            .next()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The last time the job fired at or before `at`.
    pub fn last_at_or_before(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        // `after` is strict; a millisecond later makes a slot at exactly `at` count.
        let probe = at + chrono::Duration::milliseconds(1);
        self.schedule
            .after(&probe.with_timezone(&self.timezone))
            .next_back()
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t <= at)
    }

    /// The slots in `(since, until]`: how many (counting at most `cap`) and the first one.
    pub fn slots_between(
        &self,
        since: DateTime<Utc>,
        until: DateTime<Utc>,
        cap: usize,
    ) -> (usize, Option<DateTime<Utc>>) {
        let mut it = self
            .schedule
            .after(&since.with_timezone(&self.timezone))
            .map(|t| t.with_timezone(&Utc))
            .take_while(|t| *t <= until);
        let Some(first) = it.next() else {
            return (0, None);
        };
        (1 + it.take(cap.saturating_sub(1)).count(), Some(first))
    }
}

/// Why `affsync.toml` cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read `{file}`: {source}")]
    Io {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{file}`, line {line}{}: {message}", job.as_ref().map(|j| format!(", job `{j}`")).unwrap_or_default())]
    Invalid {
        file: String,
        line: usize,
        job: Option<String>,
        message: String,
        hint: String,
    },
}

/// Why the API key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no Affinity API key: `{0}` is not set")]
    MissingEnv(String),
    #[error("cannot read the API key file `{}`: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the key command `{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error("{0} is empty")]
    Empty(String),
    #[error("{0} holds a character no API key has (a space, a line break or a control character)")]
    NotText(String),
}

impl Diagnose for ConfigError {
    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            ConfigError::Io { .. } => "write an `affsync.toml` in the working folder (see the README) or pass `--config FILE`".into(),
            ConfigError::Invalid { hint, .. } => hint.clone(),
        })
    }
}

impl Diagnose for KeyError {
    fn class(&self) -> ErrorClass {
        ErrorClass::BadInput
    }
    fn hint(&self) -> Option<String> {
        Some(match self {
            KeyError::MissingEnv(v) => format!("export `{v}=<key>`, or set `key_file` or `key_command` under `[affinity]` in `affsync.toml`"),
            KeyError::File { .. } => "check `key_file` under `[affinity]`".into(),
            KeyError::Command { .. } => "run it by hand; it must print the key on its standard output and exit 0".into(),
            KeyError::Empty(_) => "put the API key there, without quotes".into(),
            KeyError::NotText(_) => "put the key alone on one line, without quotes".into(),
        })
    }
}

/// Where a key comes from, of `key_env`, `key_file` (relative to `dir`) and `key_command`;
/// an error when more than one is given.
pub fn key_spec(
    env: Option<String>,
    file: Option<String>,
    command: Option<String>,
    dir: &Path,
) -> Result<Option<KeySpec>, String> {
    let mut given: Vec<KeySpec> = [
        env.map(KeySpec::Env),
        file.map(|f| KeySpec::File(dir.join(f))),
        command.map(KeySpec::Command),
    ]
    .into_iter()
    .flatten()
    .collect();
    if given.len() > 1 {
        return Err("sets more than one of `key_env`, `key_file` and `key_command`".into());
    }
    Ok(given.pop())
}

impl KeySpec {
    /// Reads the key (runs the command, reads the file or the variable).
    pub fn read(&self) -> Result<(ApiKey, KeySource), KeyError> {
        let (raw, source, what) = match self {
            KeySpec::Env(var) => {
                let v = std::env::var(var).map_err(|_| KeyError::MissingEnv(var.clone()))?;
                (v, KeySource::Env(var.clone()), format!("`{var}`"))
            }
            KeySpec::File(path) => {
                affinity_crm::warn_if_others_can_read(path);
                let v = std::fs::read_to_string(path).map_err(|source| KeyError::File {
                    path: path.clone(),
                    source,
                })?;
                (
                    v,
                    KeySource::File(path.clone()),
                    format!("the key file `{}`", path.display()),
                )
            }
            KeySpec::Command(command) => {
                let out = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(command)
                    .stdin(std::process::Stdio::null())
                    .output()
                    .map_err(|e| KeyError::Command {
                        command: command.clone(),
                        message: e.to_string(),
                    })?;
                if !out.status.success() {
                    return Err(KeyError::Command {
                        command: command.clone(),
                        message: format!(
                            "{}: {}",
                            out.status,
                            String::from_utf8_lossy(&out.stderr).trim()
                        ),
                    });
                }
                (
                    String::from_utf8_lossy(&out.stdout).into_owned(),
                    KeySource::Command(command.clone()),
                    format!("the output of `{command}`"),
                )
            }
        };
        let key = affinity_crm::checked_key(&raw, &source).map_err(|e| match e {
            affinity_crm::ConfigError::KeyNotText { .. } => KeyError::NotText(what.clone()),
            _ => KeyError::Empty(what.clone()),
        })?;
        Ok((key, source))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    database_url: Option<String>,
    lock_stale_after_s: Option<Spanned<f64>>,
    affinity: Option<Spanned<RawAffinity>>,
    #[serde(default)]
    jobs: Vec<Spanned<RawJob>>,
    #[serde(default)]
    members: Vec<Spanned<crate::members::RawMember>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAffinity {
    base_url: Option<Spanned<String>>,
    key_env: Option<String>,
    key_file: Option<String>,
    key_command: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJob {
    name: Spanned<String>,
    schedule: Spanned<String>,
    timezone: Option<Spanned<String>>,
    steps: Spanned<Vec<Spanned<RawStep>>>,
    on_failure: Option<RawOnFailure>,
    on_list_entry: Option<Spanned<RawOnListEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnListEntry {
    list: Spanned<String>,
    mapping: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
enum RawStep {
    Pull(Vec<String>),
    Match(String),
    Push(String),
    LogActivity(String),
    Contacts(String),
    Reconcile(Vec<String>),
    PullView(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOnFailure {
    webhook: Spanned<String>,
}

/// Only the jobs' names and where they are, to name the job an error is in.
#[derive(Deserialize)]
struct Outline {
    #[serde(default)]
    jobs: Vec<Spanned<OutlineJob>>,
}

#[derive(Deserialize)]
struct OutlineJob {
    name: Option<String>,
}

impl JobsConfig {
    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<JobsConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            file: path.display().to_string(),
            source,
        })?;
        JobsConfig::parse(path, &text)
    }

    /// Parses a config file's text; `path` names it in errors and anchors relative paths.
    pub fn parse(path: &Path, text: &str) -> Result<JobsConfig, ConfigError> {
        let file = path.display().to_string();
        let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
        let raw: Raw = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            ConfigError::Invalid {
                file: file.clone(),
                line: line_of(text, offset),
                job: job_at(text, offset),
                message: e.message().trim_end().to_string(),
                hint: CONFIG_KEYS.to_string(),
            }
        })?;
        let invalid = |span: std::ops::Range<usize>,
                       job: Option<&str>,
                       message: String,
                       hint: &str| ConfigError::Invalid {
            file: file.clone(),
            line: line_of(text, span.start),
            job: job.map(str::to_string),
            message,
            hint: hint.to_string(),
        };

        let lock_stale_after = match &raw.lock_stale_after_s {
            None => DEFAULT_LOCK_STALE_AFTER,
            Some(s) if s.get_ref().is_finite() && *s.get_ref() > 0.0 => {
                Duration::from_secs_f64(*s.get_ref())
            }
            Some(s) => {
                return Err(invalid(
                    s.span(),
                    None,
                    format!("`lock_stale_after_s` is {}", s.get_ref()),
                    "give a number of seconds above 0, longer than a heartbeat can be late (60 by default)",
                ))
            }
        };

        let (base_url, key) = match &raw.affinity {
            None => (None, None),
            Some(a) => {
                let span = a.span();
                let a = a.get_ref();
                if let Some(b) = &a.base_url {
                    if url::Url::parse(b.get_ref()).is_err() {
                        return Err(invalid(
                            b.span(),
                            None,
                            format!("`base_url` `{}` is not a URL", b.get_ref()),
                            "use a URL such as `https://api.affinity.co`",
                        ));
                    }
                }
                let key = key_spec(
                    a.key_env.clone(),
                    a.key_file.clone(),
                    a.key_command.clone(),
                    &dir,
                )
                .map_err(|m| {
                    invalid(
                        span,
                        None,
                        format!("`[affinity]` {m}"),
                        "keep one: where the key comes from must be unambiguous",
                    )
                })?;
                (a.base_url.as_ref().map(|b| b.get_ref().clone()), key)
            }
        };

        let mut jobs: Vec<Job> = Vec::new();
        for rj in &raw.jobs {
            let rj = rj.get_ref();
            let name = rj.name.get_ref().trim().to_string();
            if name.is_empty() || name.chars().any(|c| c.is_control()) {
                return Err(invalid(
                    rj.name.span(),
                    None,
                    "a job has an empty `name`".into(),
                    "name every job: `affsync run NAME` runs it",
                ));
            }
            if jobs.iter().any(|j| j.name == name) {
                return Err(invalid(
                    rj.name.span(),
                    Some(&name),
                    format!("two jobs are named `{name}`"),
                    "job names are unique: the lock and the journal go by name",
                ));
            }
            let schedule_text = rj.schedule.get_ref().trim().to_string();
            let schedule = cron::Schedule::from_str(&with_seconds(&schedule_text)).map_err(|e| {
                invalid(
                    rj.schedule.span(),
                    Some(&name),
                    format!("invalid cron expression `{schedule_text}`: {e}"),
                    "cron is `min hour day-of-month month day-of-week` (e.g. `0 2 * * *` for 02:00 every day), with seconds first when six fields are given (`0 */15 * * * *` every 15 minutes)",
                )
            })?;
            let timezone = match &rj.timezone {
                None => chrono_tz::UTC,
                Some(tz) => tz.get_ref().parse::<chrono_tz::Tz>().map_err(|_| {
                    invalid(
                        tz.span(),
                        Some(&name),
                        format!("unknown time zone `{}`", tz.get_ref()),
                        "use an IANA name such as `Europe/Paris` or `America/New_York` (UTC by default)",
                    )
                })?,
            };
            let on_list_entry = match &rj.on_list_entry {
                None => None,
                Some(o) => {
                    let list = o.get_ref().list.get_ref().trim().to_string();
                    if list.is_empty() {
                        return Err(invalid(
                            o.get_ref().list.span(),
                            Some(&name),
                            "`on_list_entry` names no list".into(),
                            "name the list whose new entries are enriched: `on_list_entry = { list = \"Deal Flow\", mapping = \"mappings/companies.toml\" }`",
                        ));
                    }
                    Some(OnListEntry {
                        list,
                        mapping: dir.join(&o.get_ref().mapping),
                    })
                }
            };
            // A job for the enrichment loop alone may have no steps of its own.
            if rj.steps.get_ref().is_empty() && on_list_entry.is_none() {
                return Err(invalid(
                    rj.steps.span(),
                    Some(&name),
                    "`steps` is empty".into(),
                    STEP_HINT,
                ));
            }
            let mut steps = Vec::new();
            for s in rj.steps.get_ref() {
                steps.push(match s.get_ref() {
                    RawStep::Pull(lists) => {
                        let lists: Vec<String> = lists
                            .iter()
                            .map(|l| l.trim().to_string())
                            .filter(|l| !l.is_empty())
                            .collect();
                        if lists.is_empty() {
                            return Err(invalid(
                                s.span(),
                                Some(&name),
                                "a `pull` step names no list".into(),
                                "name the lists to pull, by name or id: `{ pull = [\"Deal Flow\"] }`",
                            ));
                        }
                        Step::Pull { lists }
                    }
                    RawStep::Match(m) => Step::Match {
                        mapping: dir.join(m),
                    },
                    RawStep::Push(m) => Step::Push {
                        mapping: dir.join(m),
                    },
                    RawStep::LogActivity(f) => Step::LogActivity {
                        settings: dir.join(f),
                    },
                    RawStep::Contacts(m) => Step::Contacts {
                        mapping: dir.join(m),
                    },
                    RawStep::Reconcile(lists) => Step::Reconcile {
                        lists: lists
                            .iter()
                            .map(|l| l.trim().to_string())
                            .filter(|l| !l.is_empty())
                            .collect(),
                    },
                    RawStep::PullView(v) if v.trim().is_empty() => {
                        return Err(invalid(
                            s.span(),
                            Some(&name),
                            "a `pull_view` step names no view".into(),
                            "name a saved view as `List/View`, or give its id: `{ pull_view = \"Deal Flow/Series A\" }`",
                        ))
                    }
                    RawStep::PullView(v) => Step::PullView {
                        view: v.trim().to_string(),
                    },
                });
            }
            let webhook = match &rj.on_failure {
                None => None,
                Some(f) => {
                    let u = url::Url::parse(f.webhook.get_ref())
                        .ok()
                        .filter(|u| matches!(u.scheme(), "http" | "https"));
                    match u {
                        Some(u) => Some(u),
                        None => {
                            return Err(invalid(
                                f.webhook.span(),
                                Some(&name),
                                format!("`webhook` `{}` is not an http(s) URL", f.webhook.get_ref()),
                                "give the address alerts are posted to, e.g. `https://hooks.example.com/affsync`",
                            ))
                        }
                    }
                }
            };
            jobs.push(Job {
                name,
                schedule_text,
                schedule,
                timezone,
                steps,
                webhook,
                on_list_entry,
            });
        }
        Ok(JobsConfig {
            path: path.to_path_buf(),
            database_url: raw.database_url,
            lock_stale_after,
            lock_stale_after_set: raw.lock_stale_after_s.is_some(),
            base_url,
            key,
            jobs,
            members: crate::members::resolve(&raw.members, path, text)?,
        })
    }

    /// A job by name, or an error that names the jobs there are.
    pub fn job(&self, name: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.name == name)
    }

    /// The folder the jobs' mapping files are identified from: this file's.
    pub fn mapping_root(&self) -> crate::mapping_identity::MappingRoot {
        let dir = self.path.parent().unwrap_or(Path::new(""));
        let dir = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        };
        crate::mapping_identity::MappingRoot::Folder(
            std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()),
        )
    }

    pub fn job_names(&self) -> Vec<&str> {
        self.jobs.iter().map(|j| j.name.as_str()).collect()
    }
}

/// The name of the job whose table holds byte `offset`: the `[[jobs]]` header above it (with
/// no other table header between) and the `name` under that header; else, for jobs written
/// inline, the job table whose span holds the offset.
fn job_at(text: &str, offset: usize) -> Option<String> {
    let offset = offset.min(text.len());
    let mut header: Option<usize> = None;
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        if pos > offset {
            break;
        }
        if line.trim_start().starts_with('[') {
            header = Some(pos);
        }
        pos += line.len();
    }
    if let Some(h) = header.filter(|&h| text[h..].trim_start().starts_with("[[jobs]]")) {
        return text[h..]
            .lines()
            .skip(1)
            .take_while(|l| !l.trim_start().starts_with('['))
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "name").then(|| v.trim().trim_matches('"').to_string())
            });
    }
    toml::from_str::<Outline>(text).ok().and_then(|o| {
        o.jobs
            .iter()
            .find(|j| j.span().contains(&offset))
            .and_then(|j| j.get_ref().name.clone())
    })
}

/// A five-field cron expression (`min hour day month weekday`, as crontab writes it) with its
/// seconds put first, as the `cron` crate reads it; six or seven fields are left as they are.
///
/// crontab numbers weekdays 0 to 7 from Sunday (0 and 7 both Sunday); the `cron` crate numbers
/// them 1 to 7 from Sunday, so `1-5` would shift a day silently. The five-field form's weekday
/// numbers are written as names (`MON-FRI`), which both read the same; a step (`*/2`) stays a
/// number.
pub fn with_seconds(expr: &str) -> String {
    let fields: Vec<&str> = expr.split_whitespace().collect();
    if fields.len() != 5 {
        return expr.to_string();
    }
    const DAYS: [&str; 8] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
    let mut weekday = String::new();
    let mut digits = String::new();
    let mut after_slash = false;
    let flush = |digits: &mut String, out: &mut String, step: bool| {
        if digits.is_empty() {
            return;
        }
        match digits
            .parse::<usize>()
            .ok()
            .filter(|n| !step && *n < DAYS.len())
        {
            Some(n) => out.push_str(DAYS[n]),
            None => out.push_str(digits),
        }
        digits.clear();
    };
    for c in fields[4].chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        flush(&mut digits, &mut weekday, after_slash);
        after_slash = c == '/';
        weekday.push(c);
    }
    flush(&mut digits, &mut weekday, after_slash);
    format!(
        "0 {} {} {} {} {weekday}",
        fields[0], fields[1], fields[2], fields[3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn parse(text: &str) -> Result<JobsConfig, ConfigError> {
        JobsConfig::parse(Path::new("conf/affsync.toml"), text)
    }

    const GOOD: &str = r#"
database_url = "sqlite://m.db"
lock_stale_after_s = 2.5

[affinity]
base_url = "http://127.0.0.1:9"
key_command = "echo k"

[[jobs]]
name = "nightly-dealflow"
schedule = "0 0 2 * * *"
timezone = "Europe/Paris"
steps = [ { pull = ["Deal Flow", "Portfolio"] }, { match = "m.toml" }, { push = "mappings/companies.toml" }, { log_activity = "activity.toml" }, { contacts = "contacts.toml" } ]
on_failure = { webhook = "http://127.0.0.1:9000/hook" }

[[jobs]]
name = "often"
schedule = "*/2 * * * * *"
steps = [ { pull = ["301"] } ]
"#;

    #[test]
    fn a_full_config_parses() {
        let c = parse(GOOD).unwrap();
        assert_eq!(c.database_url.as_deref(), Some("sqlite://m.db"));
        assert_eq!(c.lock_stale_after, Duration::from_millis(2500));
        assert_eq!(c.base_url.as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(c.key, Some(KeySpec::Command("echo k".into())));
        assert_eq!(c.job_names(), ["nightly-dealflow", "often"]);
        let j = &c.jobs[0];
        assert_eq!(j.timezone, chrono_tz::Europe::Paris);
        assert_eq!(
            j.steps,
            vec![
                Step::Pull {
                    lists: vec!["Deal Flow".into(), "Portfolio".into()]
                },
                Step::Match {
                    mapping: PathBuf::from("conf/m.toml")
                },
                Step::Push {
                    mapping: PathBuf::from("conf/mappings/companies.toml")
                },
                Step::LogActivity {
                    settings: PathBuf::from("conf/activity.toml")
                },
                Step::Contacts {
                    mapping: PathBuf::from("conf/contacts.toml")
                },
            ]
        );
        assert_eq!(
            j.webhook.as_ref().unwrap().as_str(),
            "http://127.0.0.1:9000/hook"
        );
        assert_eq!(c.jobs[1].timezone, chrono_tz::UTC);
        assert!(c.jobs[1].webhook.is_none());
        let d = parse("").unwrap();
        assert_eq!(d.key, None);
        assert_eq!(d.lock_stale_after, DEFAULT_LOCK_STALE_AFTER);
    }

    #[test]
    fn five_field_cron_reads_as_crontab_writes_it() {
        let c = parse(
            "[[jobs]]\nname = \"a\"\nschedule = \"30 2 * * *\"\nsteps = [ { pull = [\"L\"] } ]\n",
        )
        .unwrap();
        let from = chrono::Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap();
        let next = c.jobs[0].schedule.after(&from).next().unwrap();
        assert_eq!(
            next,
            chrono::Utc.with_ymd_and_hms(2024, 6, 1, 2, 30, 0).unwrap()
        );
        assert_eq!(with_seconds("0 0 2 * * *"), "0 0 2 * * *");
        assert_eq!(with_seconds("0 2 * * *"), "0 0 2 * * *");
        // crontab's weekdays, 0 (or 7) for Sunday.
        for (cron, want) in [
            ("0 2 * * 1-5", "0 0 2 * * MON-FRI"),
            ("0 2 * * 0,6", "0 0 2 * * SUN,SAT"),
            ("0 2 * * 7", "0 0 2 * * SUN"),
            ("0 2 * * */2", "0 0 2 * * */2"),
            ("0 2 * * 1-5/2", "0 0 2 * * MON-FRI/2"),
            ("0 2 * * Mon", "0 0 2 * * Mon"),
        ] {
            assert_eq!(with_seconds(cron), want, "{cron}");
        }
        let c = parse(
            "[[jobs]]\nname = \"a\"\nschedule = \"0 9 * * 1-5\"\nsteps = [ { pull = [\"L\"] } ]\n",
        )
        .unwrap();
        // Saturday 1 June 2024: the next weekday run is Monday the 3rd.
        let next = c.jobs[0].schedule.after(&from).next().unwrap();
        assert_eq!(
            next,
            chrono::Utc.with_ymd_and_hms(2024, 6, 3, 9, 0, 0).unwrap()
        );
    }

    #[test]
    fn mistakes_name_the_file_line_job_and_a_hint() {
        let job = |extra: &str| {
            format!("[[jobs]]\nname = \"a\"\nschedule = \"0 0 2 * * *\"\nsteps = [ {{ pull = [\"L\"] }} ]\n\n[[jobs]]\nname = \"b\"\n{extra}")
        };
        let cases: Vec<(String, &str, Option<&str>, &str)> = vec![
            (
                job("schedule = \"0 0 2 *\"\nsteps = [ { pull = [\"L\"] } ]\n"),
                "invalid cron expression `0 0 2 *`",
                Some("b"),
                "line 8",
            ),
            (
                job("schedule = \"* * * * * *\"\nsteps = [ { pull = [\"L\"] } ]\nretries = 3\n"),
                "unknown field `retries`",
                Some("b"),
                "line 10",
            ),
            (
                job("schedule = \"* * * * * *\"\nsteps = [ { pul = [\"L\"] } ]\n"),
                "unknown variant `pul`",
                Some("b"),
                "line 9",
            ),
            (
                job("schedule = \"* * * * * *\"\ntimezone = \"Mars/Olympus\"\nsteps = [ { pull = [\"L\"] } ]\n"),
                "unknown time zone `Mars/Olympus`",
                Some("b"),
                "line 9",
            ),
            (
                job("schedule = \"* * * * * *\"\nsteps = []\n"),
                "`steps` is empty",
                Some("b"),
                "line 9",
            ),
            (
                job("schedule = \"* * * * * *\"\nsteps = [ { pull = [] } ]\n"),
                "names no list",
                Some("b"),
                "line 9",
            ),
            (
                job("schedule = \"* * * * * *\"\nsteps = [ { pull = [\"L\"] } ]\non_failure = { webhook = \"ftp://x\" }\n"),
                "not an http(s) URL",
                Some("b"),
                "line 10",
            ),
            (
                "[[jobs]]\nname = \"a\"\nschedule = \"* * * * * *\"\nsteps = [ { pull = [\"L\"] } ]\n[[jobs]]\nname = \"a\"\nschedule = \"* * * * * *\"\nsteps = [ { pull = [\"L\"] } ]\n".to_string(),
                "two jobs are named `a`",
                Some("a"),
                "line 6",
            ),
            (
                "databse_url = \"x\"\n".to_string(),
                "unknown field `databse_url`",
                None,
                "line 1",
            ),
            (
                "[affinity]\nkey_env = \"K\"\nkey_file = \"k\"\n".to_string(),
                "more than one of",
                None,
                "line 1",
            ),
            (
                "lock_stale_after_s = 0\n".to_string(),
                "`lock_stale_after_s` is 0",
                None,
                "line 1",
            ),
        ];
        for (text, want, job, line) in cases {
            let e = parse(&text).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(want), "want `{want}` in: {msg}");
            assert!(msg.starts_with("`conf/affsync.toml`, "), "{msg}");
            assert!(msg.contains(line), "want `{line}` in: {msg}");
            assert!(e.hint().is_some_and(|h| !h.is_empty()), "{msg}");
            match job {
                Some(j) => assert!(msg.contains(&format!("job `{j}`")), "{msg}"),
                None => assert!(!msg.contains("job `"), "{msg}"),
            }
        }
    }

    #[test]
    fn fire_times_follow_the_time_zone() {
        let c = parse(GOOD).unwrap();
        let j = &c.jobs[0];
        // 02:00 in Paris is 01:00 UTC in winter.
        let t = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        assert_eq!(
            j.next_after(t),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 1, 0, 0).unwrap())
        );
        assert_eq!(
            j.last_at_or_before(t),
            Some(Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap())
        );
        // A slot at exactly the time counts as at-or-before, and next is strictly after.
        let slot = Utc.with_ymd_and_hms(2026, 11, 21, 1, 0, 0).unwrap();
        assert_eq!(j.last_at_or_before(slot), Some(slot));
        assert_eq!(
            j.next_after(slot),
            Some(Utc.with_ymd_and_hms(2026, 11, 22, 1, 0, 0).unwrap())
        );
    }

    #[test]
    fn slots_between_count_missed_runs() {
        let c = parse(GOOD).unwrap();
        let j = &c.jobs[0];
        let at = |d, h| Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap();
        for (since, until, cap, want) in [
            (at(20, 12), at(21, 0), 100, 0),
            (at(20, 12), at(21, 1), 100, 1),
            (at(18, 12), at(21, 12), 100, 3),
            (at(18, 12), at(21, 12), 2, 2),
            (at(21, 1), at(21, 12), 100, 0),
        ] {
            assert_eq!(
                j.slots_between(since, until, cap).0,
                want,
                "{since} → {until}"
            );
        }
        assert_eq!(
            j.slots_between(at(18, 12), at(21, 12), 100).1,
            Some(at(19, 1))
        );
    }

    #[test]
    fn keys_come_from_a_command_a_file_or_a_variable() {
        let (k, s) = KeySpec::Command("printf ' abc \\n'".into()).read().unwrap();
        assert_eq!(k.expose(), "abc");
        assert_eq!(s, KeySource::Command("printf ' abc \\n'".into()));
        let e = KeySpec::Command("exit 3".into()).read().unwrap_err();
        assert!(e.to_string().contains("failed"), "{e}");
        let e = KeySpec::Command("true".into()).read().unwrap_err();
        assert!(e.to_string().contains("is empty"), "{e}");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("key");
        std::fs::write(&f, "filekey\n").unwrap();
        assert_eq!(
            KeySpec::File(f.clone()).read().unwrap().0.expose(),
            "filekey"
        );
        let e = KeySpec::Env("AFFSYNC_TEST_SURELY_UNSET_VAR".into())
            .read()
            .unwrap_err();
        assert!(e.to_string().contains("is not set"), "{e}");
    }
}
