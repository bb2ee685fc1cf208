//! `affsync report` of the demo's push: what it shows a person (a snapshot), and, in headless
//! Chromium when it is installed, a created record and an updated field old → new.

use std::path::{Path, PathBuf};

use affsync::store::Store;

async fn affsync(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("DATABASE_URL")
        .output()
        .await
        .expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Chromium, for the test that is ignored without it.
fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|d| ["chromium", "chromium-browser"].map(|n| d.join(n)))
        .find(|p| p.is_file())
        .expect("no `chromium` or `chromium-browser` on PATH (the tests were built with one, or with AFFSYNC_REQUIRE_BROWSER set)")
}

/// The demo, kept in a mirror, and the report of its first push.
async fn demo_push_report(dir: &Path) -> String {
    let db = format!("sqlite://{}", dir.join("demo.db").display());
    let (code, out, err) = affsync(dir, &["demo", "--database-url", &db]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let store = Store::open(&db).await.unwrap();
    let push = store
        .runs(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "push")
        .map(|r| r.id.0)
        .min()
        .expect("the demo pushes");
    store.close().await;
    let html = dir.join("report.html");
    let (code, _, err) = affsync(
        dir,
        &[
            "report",
            &push.to_string(),
            "--database-url",
            &db,
            "--out",
            html.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    std::fs::read_to_string(&html).unwrap()
}

#[tokio::test]
async fn the_report_of_the_demo_push_names_the_mapping_and_shows_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let page = demo_push_report(dir.path()).await;
    // What a person reads, one element per line, times and durations left out.
    let readable = page.replace('>', ">\n");
    insta::with_settings!({filters => vec![
        (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", "[time]"),
        (r"\d+\.\d s", "[duration]"),
        (r"/[^<>\s]*/work/mappings/", "[work]/mappings/"),
        // Records the push created get ids in the order their creates arrive.
        (r"\b\d{10}\b", "[created id]"),
    ]}, {
        insta::assert_snapshot!("demo_push_report", readable);
    });
    assert!(
        page.contains("mappings/companies.toml</code>"),
        "the mapping is named"
    );
    assert!(page.contains("create_update"), "and its settings");
}

#[tokio::test]
#[cfg_attr(
    not(has_chromium),
    ignore = "needs `chromium` or `chromium-browser` on PATH"
)]
async fn the_report_of_the_demo_push_in_headless_chromium_shows_a_created_record_and_old_to_new() {
    let dir = tempfile::tempdir().unwrap();
    demo_push_report(dir.path()).await;
    let browser = chromium();
    let html = dir.path().join("report.html");
    let out = tokio::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--dump-dom",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("file://{}", html.display()))
        .env("HOME", dir.path())
        .output()
        .await
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("</html>"),
        "chromium gave no DOM: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let section = |id: &str| -> String {
        let start = dom
            .find(&format!("<section id=\"{id}\">"))
            .unwrap_or_else(|| panic!("no {id} section"));
        let rest = &dom[start..];
        rest[..rest.find("</section>").unwrap()].to_string()
    };
    let created = section("created");
    assert!(
        created.contains("data-record=\"src:c") && created.contains("added to Deal Flow"),
        "a created record, on the list: {created}"
    );
    let updated = section("updated");
    let row = updated
        .split("<tr data-field=")
        .nth(1)
        .expect("an updated field");
    assert!(
        row.contains("class=\"old\"") && row.contains("class=\"new\""),
        "old → new: {row}"
    );
}
