//! The mirror under test: a SQLite file in a temporary folder, or a fresh Postgres database on
//! the server `AFFSYNC_TEST_POSTGRES_URL` names (CI starts one). A test that needs Postgres
//! carries `#[cfg_attr(not(has_postgres), ignore = ...)]` (see `tests/resources/build.rs`), so
//! that it is counted as ignored when the tests were built without that variable.

use affsync::store::Store;
use sqlx::{Connection, Row};

pub struct TestDb {
    pub store: Store,
    /// Where it is, for a process or a runtime of its own to open it too.
    pub url: String,
    pub backend: &'static str,
    _dir: Option<tempfile::TempDir>,
}

pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("mirror.db").display());
    TestDb {
        store: Store::open(&url).await.expect("sqlite store opens"),
        url,
        backend: "sqlite",
        _dir: Some(dir),
    }
}

/// A fresh database on the test server: for a test that is ignored without one.
pub async fn postgres() -> TestDb {
    let url = postgres_url().await;
    TestDb {
        store: Store::open(&url).await.expect("postgres store opens"),
        url,
        backend: "postgres",
        _dir: None,
    }
}

/// The URL of a fresh database on the test server, for tests that run the CLI against
/// Postgres (and are ignored without a server).
pub async fn postgres_url() -> String {
    let base = std::env::var("AFFSYNC_TEST_POSTGRES_URL").expect(
        "AFFSYNC_TEST_POSTGRES_URL was set when the tests were built and is not set now \
         (set it, or rebuild without it to have the Postgres tests ignored)",
    );
    sqlx::any::install_default_drivers();
    let name = format!("affsync_t_{}_{}", std::process::id(), rand::random::<u32>());
    let mut conn = sqlx::AnyConnection::connect(&base)
        .await
        .expect("the test Postgres server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("a test database is created");
    let mut url = url::Url::parse(&base).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

pub async fn fingerprint(store: &Store, times: bool) -> Vec<String> {
    let tables: &[(&str, &str, &str, &str)] = &[
        ("lists", "id, name, kind, is_public, owner_id, creator_id", "first_seen_at, changed_at, last_seen_at, gone_at", "id"),
        ("fields", "id, name, field_type, value_type, list_id, entity_kind, allows_multiple, enrichment_source, track_changes", "first_seen_at, changed_at, last_seen_at, gone_at", "id"),
        ("dropdown_options", "field_id, option_id, text, rank, color", "field_id", "field_id, option_id"),
        ("list_fields", "list_id, field_id, position", "list_id", "list_id, field_id"),
        ("organizations", "id, name, domain, domains, is_global, merged_into", "first_seen_at, changed_at, last_seen_at, gone_at", "id"),
        ("persons", "id, first_name, last_name, primary_email, emails, person_type, merged_into", "first_seen_at, changed_at, last_seen_at, gone_at", "id"),
        ("opportunities", "id, name, list_id", "first_seen_at, changed_at, last_seen_at, gone_at", "id"),
        ("list_entries", "id, list_id, entity_kind, entity_id, created_at, creator_id", "first_seen_at, changed_at, last_seen_at, gone_at", "id"),
        ("field_values", "owner, owner_id, field_id, position, value_type, text, number, at, ref_id, json", "changed_at", "owner, owner_id, field_id, position"),
    ];
    let mut out = Vec::new();
    for (table, cols, time_cols, order) in tables {
        let cols = if times {
            format!("{cols}, {time_cols}")
        } else {
            cols.to_string()
        };
        // Whether a row is gone is data even when times are left out.
        let sql = format!(
            "SELECT {cols}{gone} FROM {table} ORDER BY {order}",
            gone = if time_cols.contains("gone_at") {
                ", CASE WHEN gone_at IS NULL THEN 0 ELSE 1 END AS is_gone"
            } else {
                ""
            }
        );
        let rows = sqlx::query(&sql)
            .fetch_all(store.test_pool())
            .await
            .unwrap();
        for r in rows {
            let mut cells = vec![table.to_string()];
            for i in 0..r.len() {
                cells.push(cell(&r, i));
            }
            out.push(cells.join("|"));
        }
    }
    out
}

fn cell(r: &sqlx::any::AnyRow, i: usize) -> String {
    if let Ok(v) = r.try_get::<Option<i64>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = r.try_get::<Option<f64>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = r.try_get::<Option<String>, _>(i) {
        return format!("{v:?}");
    }
    "?".into()
}
