//! A typed client of [Affinity](https://www.affinity.co) CRM's API, v1 and v2: one
//! [`Client::send`] for every request, typed models, paging as streams, rate-limit pacing,
//! retries and typed errors.
//!
//! - [`Config`] says where to go and with which key ([`ApiKey`] never prints itself).
//! - [`Client::send`] attaches auth, paces by the `x-ratelimit-*` headers, waits out 429s,
//!   retries what can succeed on retry, and classifies failures into [`Error`].
//! - [`v1`] and [`v2`] hold the typed models; the endpoint methods live on [`Client`], named
//!   after the operation and suffixed with the API version (`person_v1`, `person_v2`).
//! - Paging is a `futures::Stream` in both styles (`page_token` in v1, `nextUrl` in v2): the
//!   `*_pages_*` methods give whole pages, the others the items one by one.
//!
//! Responses are read leniently (unknown keys ignored, `"unlimited"` where a number is
//! expected, `null` for an empty list); what the caller sends is typed.
//!
//! # Example
//!
//! Who the key belongs to, every entry of a list page by page, then two fields of one entry
//! updated in one call. The example runs against the emulator crate (`affinity-crm-emulator`),
//! which stands in for `https://api.affinity.co` on 127.0.0.1.
//!
//! ```
//! use affinity_crm::v2::{FieldId, FieldUpdate, FieldValue};
//! use affinity_crm::{ApiKey, Client, Config, FieldSelection, KeySource};
//! use futures::TryStreamExt;
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let emulator = affinity_crm_emulator::Emulator::start(
//! #     affinity_crm_emulator::EmulatorConfig::default(),
//! #     affinity_crm_emulator::demo_seed(),
//! # )
//! # .await?;
//! # let base_url = emulator.base_url();
//! // `Config::from_env()` reads `AFFINITY_API_KEY` (and `AFFINITY_BASE_URL`, if set).
//! let config = Config::new(ApiKey::new("my-key"), KeySource::Code).with_base_url(&base_url)?;
//! let client = Client::new(config)?;
//!
//! let me = client.whoami_v2().await?;
//! println!("{} ({})", me.tenant.name, me.user.email_address.unwrap_or_default());
//!
//! // The first organization list, 100 entries a call, with its list fields.
//! let list = client
//!     .lists_v2()
//!     .try_filter(|l| std::future::ready(l.list_type.as_deref() == Some("company")))
//!     .try_next()
//!     .await?
//!     .expect("the demo tenant has an organization list");
//! let mut pages = client.list_entry_pages_v2(list.id, &FieldSelection::types(&["list"]));
//! let mut entries = Vec::new();
//! while let Some(page) = pages.try_next().await? {
//!     entries.extend(page.data);
//! }
//! assert!(entries.len() > 100, "more than one page");
//!
//! // Update two fields of the first entry: the list's `Website` (text) and `Headcount` (number).
//! let field = |name: &str| -> FieldId {
//!     let f = entries[0].entity.fields().iter().find(|f| f.name == name).expect(name);
//!     f.id.clone()
//! };
//! let updates = [
//!     FieldUpdate { id: field("Website"), value: FieldValue::Text(Some("https://example.com".into())) },
//!     FieldUpdate { id: field("Headcount"), value: FieldValue::Number(Some(42.0)) },
//! ];
//! let calls = client.update_list_entry_fields_v2(list.id, entries[0].id, &updates).await?;
//! assert_eq!(calls, 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Operations
//!
//! Each operation of Affinity's API and the method that calls it. `/v2/...` paths follow v2's
//! conventions (camelCase, `{data, pagination}` pages); the others are v1's.
//!
#![doc = include_str!("operations.md")]
#![deny(missing_docs)]

mod client;
mod endpoints_v1;
mod endpoints_v2;
mod error;
mod lenient;
mod pacing;
pub mod v1;
pub mod v2;

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use client::{Client, Request, Response, Stats, V1Page, WriteGate};
pub use endpoints_v1::FieldValuesOf;
pub use endpoints_v2::FieldSelection;
pub use error::{EntityKind, Error, RetrySpent};
pub use lenient::{Color, Limit};
pub use pacing::{Backoff, RateReading};

/// The environment variable that holds the API key.
pub const KEY_ENV: &str = "AFFINITY_API_KEY";
/// The environment variable that overrides the base URL (the emulator in tests and demos).
pub const BASE_URL_ENV: &str = "AFFINITY_BASE_URL";
/// Affinity's one host (affinity-api.md §1).
pub const DEFAULT_BASE_URL: &str = "https://api.affinity.co";

macro_rules! int_id {
    ($($(#[$m:meta])* $name:ident),* $(,)?) => {$(
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i64);
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
        impl From<i64> for $name {
            fn from(v: i64) -> Self {
                $name(v)
            }
        }
    )*};
}

int_id!(
    /// A list (the same id in v1 and v2).
    ListId,
    /// A list entry (the same id in v1 and v2).
    ListEntryId,
    /// A person (v2 and v1 share ids).
    PersonId,
    /// An organization; v2 calls it a company, with the same id.
    OrganizationId,
    /// An opportunity (the same id in v1 and v2).
    OpportunityId,
    /// A v1 field id; v2 spells custom fields `field-<id>` ([`v2::FieldId`]).
    FieldId,
    /// A v1 field value record (one per value of a multi-valued field).
    FieldValueId,
    /// A dropdown option of a dropdown or ranked-dropdown field.
    DropdownOptionId,
    /// A note (the same id in v1 and v2).
    NoteId,
    /// An interaction; v1 ids are unique per interaction type only.
    InteractionId,
    /// A reminder (v1 and v2).
    ReminderId,
    /// A file attached to a person, organization or opportunity.
    EntityFileId,
    /// A webhook subscription (v1 and v2).
    WebhookId,
    /// A saved view of a list (v2).
    SavedViewId,
    /// A tenant's user, as v2's `/v2/users` lists them (the same id as the internal person).
    UserId,
    /// A merge of two companies or two persons (v2).
    MergeId,
);

/// The Affinity API key. It never prints itself: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key; nothing about it is checked here (a 401 says whether Affinity takes it).
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }
    /// The key itself, for the `Authorization` header only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Where the key came from, so a 401 can say which key to fix without printing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// An environment variable (normally `AFFINITY_API_KEY`).
    Env(String),
    /// A file given with `--api-key-file` (or `key_file` in `affsync.toml`).
    File(PathBuf),
    /// The output of a command (`key_command` in `affsync.toml`).
    Command(String),
    /// Given in code (tests, library users).
    Code,
}

impl fmt::Display for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Env(var) => write!(f, "the key from `{var}`"),
            KeySource::File(p) => write!(f, "the key from the file `{}`", p.display()),
            KeySource::Command(c) => write!(f, "the key from the command `{c}`"),
            KeySource::Code => f.write_str("the key given in code"),
        }
    }
}

/// How v1 requests carry the key: Basic with an empty user (documented since the start) or
/// Bearer (accepted since 2025-11-05), affinity-api.md §1. v2 always takes Bearer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum V1Auth {
    /// `Authorization: Basic` with an empty user and the key as the password.
    #[default]
    Basic,
    /// `Authorization: Bearer <key>`, as v2 takes it.
    Bearer,
}

/// How many times, and for how long, [`Client::send`] keeps trying.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Retries after a 408, 5xx or broken connection.
    pub max_retries: u32,
    /// Waits after a 429 (each waits for the window's reset).
    pub max_rate_limit_waits: u32,
    /// No retry or wait starts once this much time has passed since the first attempt.
    pub max_elapsed: Duration,
    /// The backoff between retries.
    pub backoff: Backoff,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            max_rate_limit_waits: 10,
            max_elapsed: Duration::from_secs(300),
            backoff: Backoff::default(),
        }
    }
}

/// Where and how the client talks to Affinity.
#[derive(Debug, Clone)]
pub struct Config {
    /// `https://api.affinity.co` unless `AFFINITY_BASE_URL` says otherwise.
    pub base_url: url::Url,
    /// The API key.
    pub key: ApiKey,
    /// Where the key came from, named in a 401 (never the key itself).
    pub key_source: KeySource,
    /// How v1 requests carry the key.
    pub v1_auth: V1Auth,
    /// The limit for one attempt, body included.
    pub timeout: Duration,
    /// How long and how often to retry.
    pub retry: RetryPolicy,
    /// Pace requests by the rate-limit headers before the budget runs out.
    pub pacing: bool,
    /// Pacing starts when fewer than this share of the per-minute budget remains.
    pub pacing_low_water: f64,
    /// Sent as `X-Affinity-Api-Version` on v2 requests when set (affinity-api.md §1).
    pub v2_api_version: Option<String>,
}

/// Why a [`Config`] could not be built. Each message ends with a `hint:`.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// No key was given and `AFFINITY_API_KEY` is not set.
    #[error("no Affinity API key: `{KEY_ENV}` is not set\nhint: export `{KEY_ENV}=<key>` or pass `--api-key-file <path>`; the key is in Affinity under Settings > API")]
    MissingKey,
    /// The key given is empty (or only whitespace).
    #[error("{from} is empty\nhint: put the API key there, without quotes")]
    EmptyKey {
        /// Where the empty key came from.
        from: KeySource,
    },
    /// The key holds a space, a line break or another character no API key has (a file
    /// with two lines, say): refused at once rather than sent and retried.
    #[error("{from} holds a character no API key has (a space, a line break or a control character)\nhint: put the key alone on one line, without quotes")]
    KeyNotText {
        /// Where the key came from.
        from: KeySource,
    },
    #[error("cannot read the API key file `{}`: {error}\nhint: check the path given to `--api-key-file`", path.display())]
    /// The key file cannot be read.
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Why it cannot be read.
        error: std::io::Error,
    },
    #[error("invalid base URL `{value}` in `{BASE_URL_ENV}`: {error}\nhint: use a URL such as `https://api.affinity.co` or `http://127.0.0.1:8080`")]
    /// `AFFINITY_BASE_URL` is not a URL.
    BaseUrl {
        /// The value given.
        value: String,
        /// Why it does not parse.
        error: url::ParseError,
    },
}

/// A key as read from its source: surrounding whitespace dropped; empty, or holding
/// whitespace or control characters inside, refused.
pub fn checked_key(raw: &str, from: &KeySource) -> Result<ApiKey, ConfigError> {
    let key = raw.trim();
    if key.is_empty() {
        return Err(ConfigError::EmptyKey { from: from.clone() });
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::KeyNotText { from: from.clone() });
    }
    Ok(ApiKey::new(key))
}

/// Logs a warning, as ssh does, when a key file can be read by its group or by others.
pub fn warn_if_others_can_read(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(path) {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(
                    file = %path.display(),
                    mode = format!("{:o}", mode & 0o777),
                    "the API key file can be read by others than its owner; `chmod 600` it"
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

impl Config {
    /// The defaults with this key, against Affinity's own host.
    pub fn new(key: ApiKey, key_source: KeySource) -> Self {
        Config {
            base_url: url::Url::parse(DEFAULT_BASE_URL).expect("a valid URL"),
            key,
            key_source,
            v1_auth: V1Auth::default(),
            timeout: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            pacing: true,
            pacing_low_water: 0.1,
            v2_api_version: None,
        }
    }

    /// The key from `AFFINITY_API_KEY`, the base URL from `AFFINITY_BASE_URL` if set.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_env_or_file(None)
    }

    /// The key from `key_file` when given (`--api-key-file`), else from `AFFINITY_API_KEY`.
    pub fn from_env_or_file(key_file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_lookup(key_file, |name| std::env::var(name).ok())
    }

    /// [`Config::from_env_or_file`] over any variable lookup (testable without the process env).
    pub fn from_lookup(
        key_file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let (raw, source) = match key_file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|error| ConfigError::KeyFile {
                    path: path.to_path_buf(),
                    error,
                })?;
                (text, KeySource::File(path.to_path_buf()))
            }
            None => match env(KEY_ENV) {
                Some(v) => (v, KeySource::Env(KEY_ENV.to_string())),
                None => return Err(ConfigError::MissingKey),
            },
        };
        if let KeySource::File(path) = &source {
            warn_if_others_can_read(path);
        }
        let key = checked_key(&raw, &source)?;
        let mut config = Config::new(key, source);
        if let Some(value) = env(BASE_URL_ENV).filter(|v| !v.trim().is_empty()) {
            config.base_url = url::Url::parse(value.trim())
                .map_err(|error| ConfigError::BaseUrl { value, error })?;
        }
        Ok(config)
    }

    /// The same configuration against another address (the emulator, a proxy).
    pub fn with_base_url(mut self, base: &str) -> Result<Self, url::ParseError> {
        self.base_url = url::Url::parse(base)?;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every endpoint method is in the operation table of the crate's docs.
    #[test]
    fn the_operation_table_lists_every_endpoint_method() {
        let table = include_str!("operations.md");
        let mut missing = Vec::new();
        for src in [
            include_str!("endpoints_v1.rs"),
            include_str!("endpoints_v2.rs"),
        ] {
            for line in src.lines() {
                let t = line.trim_start();
                let Some(rest) = t
                    .strip_prefix("pub async fn ")
                    .or_else(|| t.strip_prefix("pub fn "))
                else {
                    continue;
                };
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                // Methods of the endpoints' helper types are not operations.
                if ["none", "types", "ids"].contains(&name.as_str()) {
                    continue;
                }
                if !table.contains(&format!("[`Client::{name}`]")) {
                    missing.push(name);
                }
            }
        }
        assert!(missing.is_empty(), "not in operations.md: {missing:?}");
    }

    #[test]
    fn key_never_prints_itself() {
        let k = ApiKey::new("sekrit-123");
        assert!(!format!("{k:?}").contains("sekrit"));
        assert!(!format!("{k}").contains("sekrit"));
        let c = Config::new(k, KeySource::Code);
        assert!(!format!("{c:?}").contains("sekrit"));
    }

    #[test]
    fn config_from_lookup() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |n: &str| {
                vars.iter()
                    .find(|(k, _)| *k == n)
                    .map(|(_, v)| v.to_string())
            }
        };
        let e = Config::from_lookup(None, env(&[])).unwrap_err();
        assert!(matches!(e, ConfigError::MissingKey));
        assert!(e.to_string().contains("hint:"));
        let e = Config::from_lookup(None, env(&[(KEY_ENV, "  ")])).unwrap_err();
        assert!(e.to_string().contains("`AFFINITY_API_KEY` is empty"), "{e}");
        let c = Config::from_lookup(
            None,
            env(&[(KEY_ENV, "k\n"), (BASE_URL_ENV, "http://127.0.0.1:9")]),
        )
        .unwrap();
        assert_eq!(c.key.expose(), "k");
        assert_eq!(c.base_url.as_str(), "http://127.0.0.1:9/");
        assert_eq!(c.key_source, KeySource::Env(KEY_ENV.into()));
        let e =
            Config::from_lookup(None, env(&[(KEY_ENV, "k"), (BASE_URL_ENV, "nope")])).unwrap_err();
        assert!(matches!(e, ConfigError::BaseUrl { .. }));
        let e = Config::from_lookup(Some(Path::new("/nonexistent/key")), env(&[])).unwrap_err();
        assert!(e.to_string().contains("`/nonexistent/key`"), "{e}");
    }
}
