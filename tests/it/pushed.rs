//! What push tells the mirror is what a pull reads back: after every example mapping is pushed
//! (on SQLite, and on Postgres when the test server is there), a pull finds nothing changed,
//! and pushing again writes nothing.

use std::path::Path;

use affinity_crm_emulator::demo_seed;

use crate::common::TestEmu;
use crate::db::postgres_url;

const MAPPINGS: [&str; 4] = ["companies", "people", "investors", "coinvest"];

/// The example mappings and enrichment samples, laid out as in the repository.
fn lay_out(dir: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["mappings", "fixtures/enrichment"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for e in std::fs::read_dir(root.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                std::fs::copy(&p, dir.join(sub).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

async fn pushes_then_pull_finds_nothing_changed(db: &str) {
    let t = TestEmu::with(Default::default(), demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    lay_out(dir.path());
    // A team sharing a Postgres mirror keeps an `affsync.toml`: the mappings' identities are
    // their paths from its folder (without one, a mapping needs a `name` on Postgres).
    std::fs::write(
        dir.path().join("affsync.toml"),
        "# settings come from the flags\n",
    )
    .unwrap();
    let (code, _, err) = t
        .run(dir.path(), db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    for m in MAPPINGS {
        let file = format!("mappings/{m}.toml");
        let (code, out, err) = t
            .run(dir.path(), db, &["push", &file, "--json", "--quiet"])
            .await;
        assert!(code == 0 || code == 4, "{m}: {out}\n{err}");
        let v = json(&out);
        assert!(v["write_calls"].as_u64().unwrap() > 0, "{m} wrote: {v}");
    }
    let (code, out, err) = t
        .run(
            dir.path(),
            db,
            &["pull", "--all-lists", "--json", "--quiet"],
        )
        .await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    for l in v["lists"].as_array().unwrap() {
        assert_eq!(
            (
                l["changed"].as_u64(),
                l["new"].as_u64(),
                l["removed"].as_u64()
            ),
            (Some(0), Some(0), Some(0)),
            "{}: a pull right after the pushes: {l}",
            l["list"]
        );
    }
    for m in MAPPINGS {
        let file = format!("mappings/{m}.toml");
        let before = t.writes().await;
        let (code, out, err) = t
            .run(dir.path(), db, &["push", &file, "--json", "--quiet"])
            .await;
        assert!(code == 0 || code == 4, "{m}: {out}\n{err}");
        assert_eq!(
            t.writes().await,
            before,
            "{m}: a second push writes nothing: {out}"
        );
    }
}

#[tokio::test]
async fn a_pull_after_every_example_push_finds_nothing_changed_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    pushes_then_pull_finds_nothing_changed(&db).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs PostgreSQL: AFFSYNC_TEST_POSTGRES_URL is not set"
)]
async fn a_pull_after_every_example_push_finds_nothing_changed_on_postgres() {
    pushes_then_pull_finds_nothing_changed(&postgres_url().await).await;
}
