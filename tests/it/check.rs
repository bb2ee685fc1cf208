//! `affsync check` against the demo tenant pulled from the emulator into a temporary SQLite
//! mirror: every example mapping passes; each bad file under `tests/fixtures/check/` exits 2
//! with file, line, key and hint (snapshots of what a person sees).

use std::path::Path;

use affinity_crm_emulator::{demo_seed, EmulatorConfig};

use crate::common::{TestEmu, KEY};

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs affsync from the crate's folder, so that the paths in its output are relative.
async fn affsync(t: &TestEmu, db: &str, args: &[&str]) -> Out {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .arg("--database-url")
        .arg(db)
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output()
        .await
        .expect("affsync runs");
    Out {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The emulator over the demo tenant, and a mirror that has pulled every list of it.
async fn pulled_demo() -> (TestEmu, tempfile::TempDir, String) {
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let o = affsync(&t, &db, &["pull", "--all-lists", "-q"]).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    (t, dir, db)
}

fn files_in(dir: &str) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(root.join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.strip_prefix(root).unwrap().display().to_string())
        .collect();
    files.sort();
    files
}

#[tokio::test]
async fn every_example_mapping_passes_check_against_the_demo_tenant() {
    let (t, _dir, db) = pulled_demo().await;
    let files = files_in("mappings");
    assert!(files.len() >= 4, "{files:?}");
    let mut args = vec!["check"];
    args.extend(files.iter().map(String::as_str));
    let o = affsync(&t, &db, &args).await;
    assert_eq!(o.code, 0, "{}\n{}", o.stdout, o.stderr);
    for f in &files {
        assert!(o.stdout.contains(&format!("{f}: ok")), "{f}:\n{}", o.stdout);
    }
    assert!(!o.stdout.contains("error:"), "{}", o.stdout);
    // The fixtures' bad values are warnings that name their rows.
    assert!(
        o.stdout
            .contains("row 50: `Series D` is not an option of `Round`"),
        "{}",
        o.stdout
    );

    let mut args = vec!["check", "--json"];
    args.extend(files.iter().map(String::as_str));
    let o = affsync(&t, &db, &args).await;
    assert_eq!(o.code, 0, "{}", o.stderr);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("json on stdout");
    assert_eq!(j["ok"], true);
    assert_eq!(j["files"].as_array().unwrap().len(), files.len());
    assert!(j["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["errors"].as_array().unwrap().is_empty()));
}

#[tokio::test]
async fn each_bad_mapping_exits_2_with_file_line_and_hint() {
    let (t, _dir, db) = pulled_demo().await;
    let files = files_in("tests/fixtures/check");
    assert!(files.len() >= 6, "{files:?}");
    for f in &files {
        let o = affsync(&t, &db, &["check", f]).await;
        assert_eq!(o.code, 2, "{f}: {}\n{}", o.stdout, o.stderr);
        assert!(o.stdout.contains(&format!("error: {f}:")), "{}", o.stdout);
        assert!(o.stdout.contains("hint: "), "{}", o.stdout);
        assert!(
            o.stderr.contains("1 of 1 mapping files has errors"),
            "{}",
            o.stderr
        );
        let name = Path::new(f).file_stem().unwrap().to_str().unwrap();
        insta::assert_snapshot!(format!("check_{name}"), o.stdout);
    }
}

#[tokio::test]
async fn check_json_gives_every_error_with_its_line_and_key() {
    let (t, _dir, db) = pulled_demo().await;
    let o = affsync(
        &t,
        &db,
        &[
            "check",
            "--json",
            "tests/fixtures/check/several_problems.toml",
            "mappings/companies.toml",
        ],
    )
    .await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    let j: serde_json::Value = serde_json::from_str(&o.stdout).expect("json on stdout");
    assert_eq!(j["ok"], false);
    let bad = &j["files"][0];
    assert_eq!(bad["file"], "tests/fixtures/check/several_problems.toml");
    let got: Vec<(String, u64)> = bad["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["key"].as_str().unwrap().to_string(),
                e["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let want: Vec<(String, u64)> = [
        ("fields[0].type", 16),
        ("fields[1].source", 19),
        ("fields[2].source", 24),
        ("fields[3].affinity", 30),
    ]
    .iter()
    .map(|(k, l)| (k.to_string(), *l))
    .collect();
    assert_eq!(got, want, "{:#}", bad);
    assert_eq!(j["files"][1]["ok"], true);
}

#[tokio::test]
async fn check_without_a_pull_says_to_pull_first() {
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("empty.db").display());
    let o = affsync(&t, &db, &["check", "mappings/companies.toml"]).await;
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert_eq!(o.stderr.matches("error:").count(), 1, "{}", o.stderr);
    assert!(
        o.stderr.contains("hint: run `affsync pull` first"),
        "{}",
        o.stderr
    );
}
