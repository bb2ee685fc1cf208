//! The mirror of Affinity and the run journal, over sqlx: SQLite by default, Postgres when several
//! machines share one mirror. One [`Store`] type serves both through sqlx's `Any` driver; the
//! queries are written once, with `$N` placeholders, which both backends take (bulk statements
//! number theirs per backend: see [`param`]).
//!
//! The schema is in `migrations/sqlite/` and `migrations/postgres/` (kept column for column in
//! step; a test checks it), applied when the store is opened.

pub mod activity_log;
pub mod catalog;
pub mod contacts;
pub mod decisions;
pub mod journal;
pub mod listen;
pub mod locks;
pub mod mapping_keys;
pub mod mcp;
pub mod mirror;
pub mod pushed;
pub mod read;
pub mod review;

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;

use affsync_core::diagnostic::{Diagnose, ErrorClass};

pub use mirror::{PageData, PageOutcome, PageRecord};

/// The default mirror: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://affsync.db";

/// The Postgres advisory lock key that mirror writers take turns on ("affsync" in ASCII).
const MIRROR_WRITE_LOCK: i64 = 0x61_6666_7379_6e63;

/// Which database a store is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL `{0}`")]
    UnsupportedUrl(String),
    #[error("cannot open the database at `{url}`: {source}")]
    Open {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("`{path}` is not a SQLite database")]
    NotSqlite { path: String },
    #[error("`{0}` names no file: it would be a mirror in memory, lost when the command ends")]
    InMemory(String),
    #[error("cannot reach the database at `{url}`: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("cannot bring the database schema up to date: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error while {doing}: {source}")]
    Query {
        doing: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("the mirror holds a value it cannot read ({0})")]
    Corrupt(String),
}

impl Diagnose for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::UnsupportedUrl(_)
            | StoreError::NotSqlite { .. }
            | StoreError::InMemory(_) => ErrorClass::BadInput,
            _ => ErrorClass::Failure,
        }
    }
    fn hint(&self) -> Option<String> {
        match self {
            StoreError::UnsupportedUrl(_) | StoreError::InMemory(_) => Some(
                "use `sqlite://FILE` (created if missing) or `postgres://USER@HOST:PORT/DB`".into(),
            ),
            StoreError::NotSqlite { .. } => Some(
                "name another file for the mirror (`--database-url sqlite://affsync.db`); this one holds something else".into(),
            ),
            StoreError::Unreachable { .. } => Some(
                "check that the database server runs and accepts connections at that address (host, port, user)".into(),
            ),
            _ => None,
        }
    }
}

/// A SQLite URL's file, checked before it is opened: a URL without a file (an in-memory
/// mirror, lost at exit) is refused, and an existing file must be a SQLite database.
fn check_sqlite_file(url: &str, rest: &str) -> Result<(), StoreError> {
    let path = rest.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" || rest.contains("mode=memory") {
        return Err(StoreError::InMemory(url.to_string()));
    }
    let p = std::path::Path::new(path);
    if let Ok(mut f) = std::fs::File::open(p) {
        use std::io::Read;
        let mut head = [0u8; 16];
        let n = f.read(&mut head).unwrap_or(0);
        if n > 0 && head[..n.min(16)] != b"SQLite format 3\0"[..n.min(16)] {
            return Err(StoreError::NotSqlite {
                path: p.display().to_string(),
            });
        }
    }
    Ok(())
}

/// Why a database cannot be opened, in words: a refused connection or a missing server named
/// as such.
fn open_error(url: &str, e: sqlx::Error) -> StoreError {
    let shown = redact_url(url);
    match &e {
        sqlx::Error::Io(io) => StoreError::Unreachable {
            url: shown,
            cause: match io.kind() {
                std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
                _ => io.to_string(),
            },
        },
        sqlx::Error::Database(d) if d.message().contains("not a database") => {
            StoreError::NotSqlite { path: shown }
        }
        _ => StoreError::Open {
            url: shown,
            source: e,
        },
    }
}

/// The whole test suite on Postgres: with `AFFSYNC_TEST_SQLITE_AS_POSTGRES` naming a server
/// (the integration tests enable the `test-support` feature), every SQLite mirror a test names
/// is a database of its own on that server instead, one per file, created when first opened;
/// the CLI the tests start and the stores they open themselves agree on it.
#[cfg(feature = "test-support")]
mod test_support {
    use super::StoreError;

    pub async fn on_postgres(url: &str) -> Result<String, StoreError> {
        let Ok(base) = std::env::var("AFFSYNC_TEST_SQLITE_AS_POSTGRES") else {
            return Ok(url.to_string());
        };
        let Some(rest) = url.strip_prefix("sqlite:") else {
            return Ok(url.to_string());
        };
        let path = rest
            .trim_start_matches("//")
            .split('?')
            .next()
            .unwrap_or("");
        if path.is_empty() || path == ":memory:" {
            return Ok(url.to_string());
        }
        // A file that exists and is not a mirror stays a file (its test is about the file).
        if std::fs::metadata(path).is_ok_and(|m| m.len() > 0) {
            return Ok(url.to_string());
        }
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.into());
        use sha2::Digest;
        let digest = sha2::Sha256::digest(abs.to_string_lossy().as_bytes());
        let name = format!(
            "affsync_s_{}",
            digest
                .iter()
                .take(8)
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        );
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(&base)
            .await
            .map_err(|source| StoreError::Open {
                url: super::redact_url(&base),
                source,
            })?;
        let exists: Option<i64> =
            sqlx::query_scalar("SELECT 1 AS x FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut conn)
                .await
                .unwrap_or(None);
        if exists.is_none() {
            // Two processes may race to create it: the loser finds it there.
            let _ = sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await;
        }
        let mut u = url::Url::parse(&base).map_err(|_| StoreError::UnsupportedUrl(base.clone()))?;
        u.set_path(&format!("/{name}"));
        Ok(u.to_string())
    }
}

/// `.ctx("reading list entries")` on a sqlx result.
pub(crate) trait Ctx<T> {
    fn ctx(self, doing: &'static str) -> Result<T, StoreError>;
}

impl<T> Ctx<T> for Result<T, sqlx::Error> {
    fn ctx(self, doing: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { doing, source })
    }
}

/// The mirror and the journal.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

impl Store {
    /// Opens (creating a SQLite file if missing) and migrates the database at `url`.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        #[cfg(feature = "test-support")]
        let url = &test_support::on_postgres(url).await?;
        let (backend, url) = if let Some(rest) = url.strip_prefix("sqlite:") {
            check_sqlite_file(url, rest)?;
            // `mode=rwc` creates the file; a URL that sets its own mode keeps it.
            let url = if rest.contains("mode=") {
                url.to_string()
            } else if rest.contains('?') {
                format!("{url}&mode=rwc")
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, url)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_string())
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_string()));
        };
        // One connection first, so that a server that refuses or a file that is not a
        // database fails at once with its cause (the pool would retry until its timeout).
        {
            use sqlx::Connection;
            let conn =
                tokio::time::timeout(Duration::from_secs(10), sqlx::AnyConnection::connect(&url))
                    .await
                    .map_err(|_| StoreError::Unreachable {
                        url: redact_url(&url),
                        cause: "no answer within 10 s".into(),
                    })?;
            match conn {
                Ok(c) => {
                    let _ = c.close().await;
                }
                Err(e) => return Err(open_error(&url, e)),
            }
        }
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(60));
        let pool = match backend {
            // SQLite has one writer at a time: one connection serializes the pull's page
            // transactions instead of failing them with `database is locked`.
            Backend::Sqlite => options
                .max_connections(1)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        use sqlx::Executor;
                        conn.execute(
                            "PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 30000;",
                        )
                        .await?;
                        Ok(())
                    })
                }),
            Backend::Postgres => options.max_connections(8),
        }
        .connect(&url)
        .await
        .map_err(|e| open_error(&url, e))?;
        if backend == Backend::Sqlite {
            // Readers (the review page, an export) then never block the writer; the mode is
            // kept in the file.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await
                .ctx("switching SQLite to WAL")?;
        }
        match backend {
            // sqlx takes no lock on SQLite while it migrates: two processes opening a new
            // file at once both apply the first migration and one fails ("table … already
            // exists") once the other committed. Its retry finds them applied.
            Backend::Sqlite => {
                let mut tries = 0;
                loop {
                    match sqlx::migrate!("migrations/sqlite").run(&pool).await {
                        Ok(()) => break,
                        Err(e)
                            if tries < 5
                                && !matches!(
                                    e,
                                    sqlx::migrate::MigrateError::VersionMissing(_)
                                        | sqlx::migrate::MigrateError::VersionMismatch(_)
                                ) =>
                        {
                            tries += 1;
                            tracing::debug!(error = %e, "migrating the mirror again: another process migrates it too");
                            tokio::time::sleep(std::time::Duration::from_millis(100 * tries)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool).await?,
        }
        Ok(Store { pool, backend })
    }

    /// A transaction that writes the mirror. On Postgres it first takes a transaction-scoped
    /// advisory lock, so that mirror writers (the lists of one pull, or pulls on several
    /// machines sharing the mirror) take turns: two of them never insert the same entity's
    /// values at once. SQLite has one writer at a time by design.
    pub(crate) async fn write_tx(
        &self,
        doing: &'static str,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, StoreError> {
        let mut tx = self.pool.begin().await.ctx(doing)?;
        if self.backend == Backend::Postgres {
            // The lock function returns `void`, which the Any driver cannot read: select a
            // constant through it instead.
            sqlx::query("SELECT 1 AS locked FROM (SELECT pg_advisory_xact_lock($1)) AS l")
                .bind(MIRROR_WRITE_LOCK)
                .execute(&mut *tx)
                .await
                .ctx(doing)?;
        }
        Ok(tx)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for tests that read the database directly (the `test-support` feature,
    /// which the integration tests enable); the engine's SQL stays in this module.
    #[cfg(any(test, feature = "test-support"))]
    pub fn test_pool(&self) -> &AnyPool {
        &self.pool
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A URL with its password replaced by `***`, for messages.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_string(),
    }
}

/// How the store writes a time: RFC 3339, UTC, milliseconds (sorts as text).
pub fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The placeholder of the `n`th parameter (from 1). Bulk statements on SQLite use anonymous
/// `?`s: sqlx looks a named parameter (`$7`) up by scanning SQLite's parameter list, so a
/// statement with thousands of them bound in quadratic time (62 µs a row at 450 rows). A
/// statement must not mix both kinds: an anonymous `?` takes the next index after the last.
pub(crate) fn param(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `($1,$2,$3),($4,$5,$6)` (Postgres) or `(?,?,?),(?,?,?)` (SQLite) for `rows` rows of `cols`.
pub(crate) fn placeholders(backend: Backend, rows: usize, cols: usize) -> String {
    let mut s = String::with_capacity(rows * cols * 5);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            s.push(',');
        }
        s.push('(');
        for c in 0..cols {
            if c > 0 {
                s.push(',');
            }
            n += 1;
            s.push_str(&param(backend, n));
        }
        s.push(')');
    }
    s
}

/// The placeholders of an `IN (…)` list of `n` values, numbering from `first`.
pub(crate) fn in_list(backend: Backend, first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| param(backend, i))
        .collect::<Vec<_>>()
        .join(",")
}

/// Reads a column, naming it in the error.
pub(crate) fn col<'r, T>(row: &'r AnyRow, name: &str) -> Result<T, StoreError>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    row.try_get(name)
        .map_err(|e| StoreError::Corrupt(format!("column `{name}`: {e}")))
}

/// 0/1 flags (the schema keeps one integer type on both backends).
pub(crate) fn flag(b: bool) -> i64 {
    i64::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_rows_in_order() {
        assert_eq!(
            placeholders(Backend::Postgres, 2, 3),
            "($1,$2,$3),($4,$5,$6)"
        );
        assert_eq!(placeholders(Backend::Sqlite, 2, 2), "(?,?),(?,?)");
        assert_eq!(in_list(Backend::Postgres, 3, 3), "$3,$4,$5");
        assert_eq!(in_list(Backend::Sqlite, 3, 2), "?,?");
    }

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact_url("postgres://u:secret@db:5432/x"),
            "postgres://u:***@db:5432/x"
        );
        assert_eq!(redact_url("sqlite://a.db"), "sqlite://a.db");
    }

    #[test]
    fn both_schemas_are_kept_in_step() {
        // The store binds one set of queries to both backends; the migrations may differ only
        // in how an identity column is declared and in their header line.
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let names = |b: &str| {
            let mut v: Vec<String> = std::fs::read_dir(dir.join(b))
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect();
            v.sort();
            v
        };
        assert_eq!(names("sqlite"), names("postgres"));
        for name in names("sqlite") {
            let norm = |b: &str| {
                std::fs::read_to_string(dir.join(b).join(&name))
                    .unwrap()
                    .replace(
                        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
                        "INTEGER PRIMARY KEY AUTOINCREMENT",
                    )
                    .lines()
                    .skip(2)
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            assert_eq!(norm("sqlite"), norm("postgres"), "{name} differs");
        }
    }
}
