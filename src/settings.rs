//! One resolver for every command's settings: a flag wins over the environment, which wins over
//! `affsync.toml`, which wins over the default.
//!
//! `affsync.toml` is `--config FILE`, else `$AFFSYNC_CONFIG`, else the first `affsync.toml` found
//! in the working folder or its parents (as cargo finds `Cargo.toml`). Paths in it are relative
//! to its folder: a `sqlite://` mirror, a `key_file`, the jobs' mapping files.
//!
//! Resolving reads no key and opens nothing: it says where each setting comes from, and the
//! commands ask it for the mirror ([`Settings::open_store`]) and the client
//! ([`Settings::client`]) when they need them. The key itself is never kept here, only where it
//! is read from.

use std::path::{Path, PathBuf};
use std::time::Duration;

use affinity_crm::{Client, Config, BASE_URL_ENV, DEFAULT_BASE_URL, KEY_ENV};
use affsync_core::diagnostic::{Diagnose, ErrorClass};
use affsync_core::mapping::{Mapping, MappingError};
use serde::Serialize;

use crate::jobs::config::{
    ConfigError, JobsConfig, KeyError, KeySpec, DEFAULT_CONFIG_FILE, DEFAULT_LOCK_STALE_AFTER,
};
use crate::mapping_identity::MappingRoot;
use crate::store::{redact_url, Store, StoreError, DEFAULT_DATABASE_URL};

/// The variable that names the settings file when no `--config` is given.
pub const CONFIG_ENV: &str = "AFFSYNC_CONFIG";
/// The variable that names the mirror when no `--database-url` is given.
pub const DATABASE_URL_ENV: &str = "DATABASE_URL";

/// Where a setting's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "source", content = "origin", rename_all = "snake_case")]
pub enum Source {
    /// A command-line flag (`--database-url`).
    Flag(String),
    /// An environment variable (`DATABASE_URL`).
    Env(String),
    /// The settings file.
    File(PathBuf),
    /// Found by looking for `affsync.toml` from this folder upward.
    Found(PathBuf),
    /// Where the mirror is (mapping identities, with no settings file).
    Mirror(String),
    /// Built in.
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Flag(flag) => write!(f, "flag `{flag}`"),
            Source::Env(var) => write!(f, "environment `{var}`"),
            Source::File(p) => write!(f, "file `{}`", p.display()),
            Source::Found(dir) => write!(f, "found from `{}` upward", dir.display()),
            Source::Mirror(url) => write!(f, "the mirror `{url}`"),
            Source::Default => f.write_str("default"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    fn new(value: T, source: Source) -> Sourced<T> {
        Sourced { value, source }
    }
}

/// What the command line gave (each `None` when the flag is absent).
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub config: Option<PathBuf>,
    pub database_url: Option<String>,
    pub base_url: Option<String>,
    pub api_key_file: Option<PathBuf>,
}

/// Why the settings cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the settings file `{}` ({from}) does not exist", path.display())]
    ConfigMissing { path: PathBuf, from: Source },
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error("no `affsync.toml` in `{}` or any folder above it", cwd.display())]
    NoConfig { cwd: PathBuf },
    #[error("invalid Affinity address `{value}` ({from}): {message}")]
    BaseUrl {
        value: String,
        from: Source,
        message: String,
    },
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error("cannot find the working folder: {0}")]
    Cwd(std::io::Error),
    #[error("no member is named `{name}`{}", if members.is_empty() { " (the settings have no `[[members]]`)".to_string() } else { format!(" (members: {})", members.join(", ")) })]
    NoMember { name: String, members: Vec<String> },
}

impl Diagnose for SettingsError {
    fn class(&self) -> ErrorClass {
        match self {
            SettingsError::Cwd(_) => ErrorClass::Failure,
            SettingsError::Config(e) => e.class(),
            SettingsError::Key(e) => e.class(),
            _ => ErrorClass::BadInput,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            SettingsError::ConfigMissing { .. } => Some(
                "give the path of an existing `affsync.toml`"
                    .into(),
            ),
            SettingsError::Config(e) => e.hint(),
            SettingsError::NoConfig { .. } => Some(
                "write an `affsync.toml` here (see the README's `affsync.toml` section), or pass `--config FILE` (or set `AFFSYNC_CONFIG`)"
                    .into(),
            ),
            SettingsError::BaseUrl { .. } => {
                Some("use a URL such as `https://api.affinity.co` or `http://127.0.0.1:8787`".into())
            }
            SettingsError::Key(e) => e.hint(),
            SettingsError::NoMember { .. } => Some(
                "name a member of `[[members]]` in `affsync.toml` (`affsync config show` says which file is read)".into(),
            ),
            SettingsError::Cwd(_) => None,
        }
    }
}

/// Every command's settings, each with where it came from.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The folder the command runs in.
    pub cwd: PathBuf,
    /// The settings file, when there is one.
    pub config: Option<Sourced<PathBuf>>,
    /// The settings file, parsed.
    pub file: Option<JobsConfig>,
    /// The mirror's URL (a relative SQLite path in the file resolved against its folder).
    pub database_url: Sourced<String>,
    /// Affinity's address.
    pub base_url: Sourced<String>,
    /// Where the API key is read from (never the key).
    pub key: Sourced<KeySpec>,
    /// How long a job lock may go without a heartbeat.
    pub lock_stale_after: Sourced<Duration>,
}

/// One line of `affsync config show`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Shown {
    pub setting: std::borrow::Cow<'static, str>,
    pub value: String,
    #[serde(flatten)]
    pub source: Source,
}

impl Settings {
    /// Resolves the settings of the process: its flags, its environment, its working folder.
    pub fn resolve(flags: &Flags) -> Result<Settings, SettingsError> {
        let cwd = std::env::current_dir().map_err(SettingsError::Cwd)?;
        Settings::resolve_with(flags, &|name| std::env::var(name).ok(), &cwd)
    }

    /// [`Settings::resolve`] over any environment and working folder (pure but for reading
    /// the settings file).
    pub fn resolve_with(
        flags: &Flags,
        env: &dyn Fn(&str) -> Option<String>,
        cwd: &Path,
    ) -> Result<Settings, SettingsError> {
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        let config = match (&flags.config, env(CONFIG_ENV)) {
            (Some(p), _) => Some(Sourced::new(p.clone(), Source::Flag("--config".into()))),
            (None, Some(p)) => Some(Sourced::new(
                PathBuf::from(p),
                Source::Env(CONFIG_ENV.into()),
            )),
            (None, None) => find_upward(cwd).map(|p| Sourced::new(p, Source::Found(cwd.into()))),
        };
        let file = match &config {
            None => None,
            Some(c) => {
                let path = if c.value.is_absolute() {
                    c.value.clone()
                } else {
                    cwd.join(&c.value)
                };
                if !path.is_file() {
                    return Err(SettingsError::ConfigMissing {
                        path: c.value.clone(),
                        from: c.source.clone(),
                    });
                }
                // Named as given (`affsync.toml`, `conf/affsync.toml`) in messages; found
                // upward, by its full path.
                Some(JobsConfig::load(&c.value).or_else(|e| match e {
                    ConfigError::Io { .. } => JobsConfig::load(&path),
                    e => Err(e),
                })?)
            }
        };
        let file_source = || Source::File(file.as_ref().expect("a file").path.clone());
        let file_dir = file.as_ref().map(|f| config_dir(&f.path, cwd));

        let database_url = if let Some(u) = &flags.database_url {
            Sourced::new(u.clone(), Source::Flag("--database-url".into()))
        } else if let Some(u) = env(DATABASE_URL_ENV) {
            Sourced::new(u, Source::Env(DATABASE_URL_ENV.into()))
        } else if let Some(u) = file.as_ref().and_then(|f| f.database_url.clone()) {
            let dir = file_dir.as_deref().expect("a file has a folder");
            Sourced::new(relative_sqlite(&u, dir), file_source())
        } else {
            Sourced::new(DEFAULT_DATABASE_URL.to_string(), Source::Default)
        };

        let base_url = if let Some(u) = &flags.base_url {
            Sourced::new(u.clone(), Source::Flag("--base-url".into()))
        } else if let Some(u) = env(BASE_URL_ENV) {
            Sourced::new(u.trim().to_string(), Source::Env(BASE_URL_ENV.into()))
        } else if let Some(u) = file.as_ref().and_then(|f| f.base_url.clone()) {
            Sourced::new(u, file_source())
        } else {
            Sourced::new(DEFAULT_BASE_URL.to_string(), Source::Default)
        };
        if let Err(e) = url::Url::parse(&base_url.value) {
            return Err(SettingsError::BaseUrl {
                value: base_url.value.clone(),
                from: base_url.source.clone(),
                message: e.to_string(),
            });
        }

        let key = if let Some(f) = &flags.api_key_file {
            Sourced::new(
                KeySpec::File(f.clone()),
                Source::Flag("--api-key-file".into()),
            )
        } else if env(KEY_ENV).is_some() {
            Sourced::new(KeySpec::Env(KEY_ENV.into()), Source::Env(KEY_ENV.into()))
        } else if let Some(k) = file.as_ref().and_then(|f| f.key.clone()) {
            Sourced::new(k, file_source())
        } else {
            Sourced::new(KeySpec::Env(KEY_ENV.into()), Source::Default)
        };

        let lock_stale_after = match file.as_ref().filter(|f| f.lock_stale_after_set) {
            Some(f) => Sourced::new(f.lock_stale_after, file_source()),
            None => Sourced::new(DEFAULT_LOCK_STALE_AFTER, Source::Default),
        };

        Ok(Settings {
            cwd: cwd.to_path_buf(),
            config,
            file,
            database_url,
            base_url,
            key,
            lock_stale_after,
        })
    }

    /// The settings file, for the commands that need its jobs.
    pub fn jobs(&self) -> Result<&JobsConfig, SettingsError> {
        self.file.as_ref().ok_or_else(|| SettingsError::NoConfig {
            cwd: self.cwd.clone(),
        })
    }

    /// Opens (and migrates) the mirror; the first time, moves the decisions older versions
    /// kept under paths from the working folder to mapping identities.
    pub async fn open_store(&self) -> Result<Store, StoreError> {
        let store = Store::open(&self.database_url.value).await?;
        crate::mapping_identity::migrate_keys(&store, &self.mapping_root().value, &self.cwd)
            .await?;
        Ok(store)
    }

    /// Reads a mapping file and gives it its identity.
    pub fn load_mapping(&self, path: &Path) -> Result<Mapping, MappingError> {
        crate::mapping_identity::load(path, &self.mapping_root().value)
    }

    /// The identity a `--mapping` argument stands for: the identity of the file it names, or,
    /// when no such file exists, the argument itself (a mapping's `name`).
    pub fn mapping_key(&self, given: &Path) -> String {
        let root = self.mapping_root().value;
        if given.is_file() {
            if let Some(k) = crate::mapping_identity::identity_of_path(given, &root) {
                return k;
            }
        }
        given.to_string_lossy().replace('\\', "/")
    }

    /// The client, with the key read from where the settings say.
    pub fn client(&self) -> anyhow::Result<Client> {
        let (key, source) = self.key.value.read().map_err(SettingsError::Key)?;
        let config = Config::new(key, source)
            .with_base_url(&self.base_url.value)
            .map_err(|e| SettingsError::BaseUrl {
                value: self.base_url.value.clone(),
                from: self.base_url.source.clone(),
                message: e.to_string(),
            })?;
        Ok(Client::new(config)?)
    }

    /// The folder mapping identities are paths from: the settings file's, else the SQLite
    /// mirror's; with a Postgres mirror and no settings file, mapping files must be named.
    pub fn mapping_root(&self) -> Sourced<MappingRoot> {
        if let Some(f) = &self.file {
            return Sourced::new(f.mapping_root(), Source::File(f.path.clone()));
        }
        let source = Source::Mirror(redact_url(&self.database_url.value));
        if is_postgres(&self.database_url.value) {
            Sourced::new(MappingRoot::NameRequired, source)
        } else {
            {
                let dir = sqlite_file(&self.database_url.value)
                    .map(|f| {
                        let f = self.cwd.join(f);
                        f.parent().map(Path::to_path_buf).unwrap_or(f)
                    })
                    .unwrap_or_else(|| self.cwd.clone());
                Sourced::new(MappingRoot::Folder(canonical(&dir)), source)
            }
        }
    }

    /// Every setting and its source, for `affsync config show` (the key's source, never the
    /// key).
    pub fn show(&self) -> Vec<Shown> {
        let mut out = vec![Shown {
            setting: "config".into(),
            value: self
                .config
                .as_ref()
                .map(|c| c.value.display().to_string())
                .unwrap_or_else(|| "(none)".into()),
            source: self
                .config
                .as_ref()
                .map(|c| c.source.clone())
                .unwrap_or(Source::Default),
        }];
        out.push(Shown {
            setting: "database_url".into(),
            value: redact_url(&self.database_url.value),
            source: self.database_url.source.clone(),
        });
        out.push(Shown {
            setting: "affinity.base_url".into(),
            value: self.base_url.value.clone(),
            source: self.base_url.source.clone(),
        });
        out.push(Shown {
            setting: "affinity.key".into(),
            value: key_shown(&self.key.value),
            source: self.key.source.clone(),
        });
        out.push(Shown {
            setting: "lock_stale_after_s".into(),
            value: format!("{}", self.lock_stale_after.value.as_secs_f64()),
            source: self.lock_stale_after.source.clone(),
        });
        let root = self.mapping_root();
        out.push(Shown {
            setting: "mapping_root".into(),
            value: match &root.value {
                MappingRoot::Folder(d) => d.display().to_string(),
                MappingRoot::NameRequired => "(none: each mapping file needs a `name`)".to_string(),
            },
            source: root.source,
        });
        if let Some(f) = self.file.as_ref().filter(|f| !f.members.is_empty()) {
            out.push(Shown {
                setting: "members".into(),
                value: f
                    .members
                    .iter()
                    .map(|m| m.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                source: Source::File(f.path.clone()),
            });
        }
        if let Some(f) = &self.file {
            out.push(Shown {
                setting: "jobs".into(),
                value: if f.jobs.is_empty() {
                    "(none)".into()
                } else {
                    f.job_names().join(", ")
                },
                source: Source::File(f.path.clone()),
            });
        }
        out
    }
}

impl Settings {
    /// A member's effective settings and the file each is written in, for
    /// `affsync config show --member NAME` (where the key is read from, never the key).
    pub fn show_member(&self, name: &str) -> Result<Vec<Shown>, SettingsError> {
        let members = self.file.as_ref().map(|f| &f.members[..]).unwrap_or(&[]);
        let Some(m) = members.iter().find(|m| m.name.eq_ignore_ascii_case(name)) else {
            return Err(SettingsError::NoMember {
                name: name.to_string(),
                members: members.iter().map(|m| format!("`{}`", m.name)).collect(),
            });
        };
        let admin = Source::File(
            self.file
                .as_ref()
                .expect("members come from a file")
                .path
                .clone(),
        );
        let list = |v: &[String]| {
            if v.is_empty() {
                "(none)".to_string()
            } else {
                v.join(", ")
            }
        };
        let mut out = vec![
            Shown {
                setting: "member.name".into(),
                value: m.name.clone(),
                source: admin.clone(),
            },
            Shown {
                setting: "member.file".into(),
                value: m
                    .file
                    .as_ref()
                    .map(|f| f.display().to_string())
                    .unwrap_or_else(|| "(none: all in `affsync.toml`)".into()),
                source: admin.clone(),
            },
            Shown {
                setting: "member.key".into(),
                value: key_shown(&m.key.value),
                source: Source::File(m.key.from.clone()),
            },
            Shown {
                setting: "member.lines".into(),
                value: list(&m.lines.value),
                source: Source::File(m.lines.from.clone()),
            },
            Shown {
                setting: "member.emails".into(),
                value: list(&m.emails.value),
                source: Source::File(m.emails.from.clone()),
            },
        ];
        match &m.workflow {
            None => out.push(Shown {
                setting: "member.workflow".into(),
                value: "(the activity settings' `[workflow]`)".into(),
                source: Source::Default,
            }),
            Some(w) => {
                let v = serde_json::to_value(w.value).expect("a workflow serializes");
                for (k, v) in v.as_object().into_iter().flatten() {
                    out.push(Shown {
                        setting: format!("member.workflow.{k}").into(),
                        value: v.as_str().unwrap_or_default().to_string(),
                        source: Source::File(w.from.clone()),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// Where a key is read from, as `config show` says it.
fn key_shown(k: &KeySpec) -> String {
    match k {
        KeySpec::Env(v) => format!("read from the variable `{v}`"),
        KeySpec::File(p) => format!("read from the file `{}`", p.display()),
        KeySpec::Command(c) => format!("the output of `{c}`"),
    }
}

/// The first `affsync.toml` in `dir` or a folder above it, by its full path.
pub fn find_upward(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(DEFAULT_CONFIG_FILE))
        .find(|p| p.is_file())
}

/// The folder of a settings file, as a full path.
fn config_dir(path: &Path, cwd: &Path) -> PathBuf {
    let dir = path.parent().unwrap_or(Path::new(""));
    if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        cwd.join(dir)
    }
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

fn canonical(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The file of a SQLite URL (`sqlite://a.db`, `sqlite:a.db?mode=ro`), `None` for an in-memory
/// one or another kind of URL.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && !path.starts_with(":memory:")).then(|| PathBuf::from(path))
}

/// A SQLite URL whose relative file is made relative to `dir` (other URLs unchanged).
pub fn relative_sqlite(url: &str, dir: &Path) -> String {
    match sqlite_file(url) {
        Some(f) if f.is_relative() => {
            let query = url.split_once('?').map(|(_, q)| format!("?{q}"));
            format!(
                "sqlite://{}{}",
                dir.join(f).display(),
                query.unwrap_or_default()
            )
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| m.get(k).cloned()
    }

    const FILE: &str = "database_url = \"sqlite://mirror/m.db\"\nlock_stale_after_s = 5\n[affinity]\nbase_url = \"http://127.0.0.1:9\"\nkey_command = \"echo k\"\n";

    #[test]
    fn a_flag_wins_over_the_environment_which_wins_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().canonicalize().unwrap();
        std::fs::write(top.join("affsync.toml"), FILE).unwrap();
        let sub = top.join("a/b");
        std::fs::create_dir_all(&sub).unwrap();

        // Found two folders up: every setting from the file, its paths from its folder.
        let s = Settings::resolve_with(&Flags::default(), &env(&[]), &sub).unwrap();
        let file = Source::File(top.join("affsync.toml"));
        assert_eq!(s.config.as_ref().unwrap().value, top.join("affsync.toml"));
        assert_eq!(
            s.database_url,
            Sourced::new(
                format!("sqlite://{}", top.join("mirror/m.db").display()),
                file.clone()
            )
        );
        assert_eq!(s.base_url.value, "http://127.0.0.1:9");
        assert_eq!(s.base_url.source, file);
        assert_eq!(s.key.value, KeySpec::Command("echo k".into()));
        assert_eq!(s.key.source, file);
        assert_eq!(s.lock_stale_after.value, Duration::from_secs(5));
        assert_eq!(
            s.mapping_root().value,
            MappingRoot::Folder(top.to_path_buf())
        );

        // The environment wins over the file.
        let e = env(&[
            ("DATABASE_URL", "sqlite://e.db"),
            ("AFFINITY_BASE_URL", "http://e:1"),
            ("AFFINITY_API_KEY", "k"),
        ]);
        let s = Settings::resolve_with(&Flags::default(), &e, &sub).unwrap();
        assert_eq!(
            s.database_url,
            Sourced::new("sqlite://e.db".into(), Source::Env("DATABASE_URL".into()))
        );
        assert_eq!(s.base_url.source, Source::Env("AFFINITY_BASE_URL".into()));
        assert_eq!(s.key.value, KeySpec::Env("AFFINITY_API_KEY".into()));

        // A flag wins over both.
        let flags = Flags {
            database_url: Some("sqlite://f.db".into()),
            base_url: Some("http://f:1".into()),
            api_key_file: Some("k.txt".into()),
            config: None,
        };
        let s = Settings::resolve_with(&flags, &e, &sub).unwrap();
        assert_eq!(s.database_url.source, Source::Flag("--database-url".into()));
        assert_eq!(s.base_url.value, "http://f:1");
        assert_eq!(s.key.value, KeySpec::File("k.txt".into()));
        // The key never shows, only where it is read from.
        assert!(s
            .show()
            .iter()
            .all(|l| !l.value.contains("echo k") || l.setting == "affinity.key"));
    }

    #[test]
    fn without_a_file_the_defaults_hold() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().canonicalize().unwrap();
        let s = Settings::resolve_with(&Flags::default(), &env(&[]), &d).unwrap();
        assert!(s.config.is_none() && s.file.is_none());
        assert_eq!(s.database_url.value, DEFAULT_DATABASE_URL);
        assert_eq!(s.database_url.source, Source::Default);
        assert_eq!(s.base_url.value, DEFAULT_BASE_URL);
        assert_eq!(s.key.source, Source::Default);
        assert_eq!(s.mapping_root().value, MappingRoot::Folder(d.clone()));
        assert!(matches!(s.jobs(), Err(SettingsError::NoConfig { .. })));
        let pg = env(&[("DATABASE_URL", "postgres://u@h/db")]);
        let s = Settings::resolve_with(&Flags::default(), &pg, &d).unwrap();
        assert_eq!(s.mapping_root().value, MappingRoot::NameRequired);
    }

    #[test]
    fn a_named_file_must_exist_and_a_bad_address_is_bad_input() {
        let dir = tempfile::tempdir().unwrap();
        let e = Settings::resolve_with(
            &Flags::default(),
            &env(&[("AFFSYNC_CONFIG", "nope.toml")]),
            dir.path(),
        )
        .unwrap_err();
        assert!(matches!(e, SettingsError::ConfigMissing { .. }), "{e}");
        assert_eq!(e.class(), ErrorClass::BadInput);
        assert!(e.to_string().contains("AFFSYNC_CONFIG"), "{e}");
        let e = Settings::resolve_with(
            &Flags {
                base_url: Some("not a url".into()),
                ..Flags::default()
            },
            &env(&[]),
            dir.path(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("`--base-url`"), "{e}");
        assert!(e.hint().is_some());
    }

    #[test]
    fn sqlite_paths_in_the_file_are_relative_to_it() {
        let d = Path::new("/srv/affsync");
        for (url, want) in [
            ("sqlite://m.db", "sqlite:///srv/affsync/m.db"),
            ("sqlite:m.db?mode=ro", "sqlite:///srv/affsync/m.db?mode=ro"),
            ("sqlite:///abs/m.db", "sqlite:///abs/m.db"),
            ("sqlite::memory:", "sqlite::memory:"),
            ("postgres://u@h/db", "postgres://u@h/db"),
        ] {
            assert_eq!(relative_sqlite(url, d), want, "{url}");
        }
    }
}
