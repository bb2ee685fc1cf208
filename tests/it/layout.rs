//! The workspace's walls, held by tests: the core stays pure, SQL stays in the store, journal
//! steps are variants (never text compared outside the journal's own serialization), and a dry
//! run never applies.

use std::path::{Path, PathBuf};

use affinity_crm_emulator::EmulatorConfig;

use crate::common::{test_seed, TestEmu};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, with its text.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                let text = std::fs::read_to_string(&p).unwrap();
                out.push((p, text));
            }
        }
    }
    out
}

#[test]
fn the_core_depends_on_no_runtime_database_http_dataframe_or_cli_crate() {
    let out = std::process::Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "affsync-core",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let names: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(names.contains(&"affsync-core"), "{tree}");
    for banned in [
        "tokio", "sqlx", "reqwest", "polars", "axum", "clap", "hyper",
    ] {
        assert!(
            !names
                .iter()
                .any(|n| *n == banned || n.starts_with(&format!("{banned}-"))),
            "affsync-core pulls in `{banned}`:\n{tree}"
        );
    }
}

#[test]
fn sql_is_written_only_in_the_store() {
    let mut offenders = Vec::new();
    for dir in ["src", "crates"] {
        for (p, text) in sources(&root().join(dir)) {
            if p.starts_with(root().join("src/store")) {
                continue;
            }
            for (i, line) in text.lines().enumerate() {
                if ["sqlx::query", "sqlx::query_as", "sqlx::query_scalar"]
                    .iter()
                    .any(|q| line.contains(q))
                {
                    offenders.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "SQL outside src/store/:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn journal_steps_are_never_compared_as_text() {
    // The ways a step used to be written or read as text.
    let patterns = [
        "step == \"",
        "step.as_str() ==",
        "\"step\" ==",
        ".step.name() == \"",
        "events_with_steps(&[\"",
        " Event::new(",
        "(Event::new(",
        "[Event::new(",
        "detail[\"",
    ];
    let journal = root().join("crates/affsync-core/src/journal.rs");
    let mut offenders = Vec::new();
    for dir in ["src", "crates/affsync-core/src"] {
        for (p, text) in sources(&root().join(dir)) {
            if p == journal {
                continue;
            }
            for (i, line) in text.lines().enumerate() {
                if patterns.iter().any(|pat| line.contains(pat)) {
                    offenders.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "journal steps handled as text:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_library_exports_neither_the_cli_nor_the_emulator() {
    let lib = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    for m in ["pub mod cli", "pub mod emulator", "pub mod affinity"] {
        assert!(!lib.contains(m), "src/lib.rs still has `{m}`");
    }
    let mut offenders = Vec::new();
    for (p, text) in sources(&root().join("src")) {
        for (i, line) in text.lines().enumerate() {
            if line.contains("BadInput(") || line.contains("split_once(\"\\nhint") {
                offenders.push(format!("{}:{}: {}", p.display(), i + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "{}", offenders.join("\n"));
}

/// `push --dry-run` resolves and plans, and never applies: against an emulator that refuses
/// every write, it succeeds and asks for none.
#[tokio::test]
async fn a_dry_run_never_applies_even_against_an_emulator_that_refuses_every_write() {
    let t = TestEmu::with(
        EmulatorConfig {
            refuse_writes: true,
            ..EmulatorConfig::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(
        dir.path().join("companies.csv"),
        "source_id,company_name,website,headcount\n\
         A1,Analytical Engines,https://www.analytical.io/about,120\n\
         N1,Brand New Robotics,brandnewrobotics.io,15\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("m.toml"),
        "version = 1\nentity = \"organization\"\n[source]\npath = \"companies.csv\"\nid = \"source_id\"\n\
         [match]\nsearch_term = \"website\"\n[[match.compare]]\nsource = \"company_name\"\naffinity = \"name\"\n\
         [push]\nmode = \"create_update\"\nadd_to_list = \"Deal Flow\"\n\
         [[fields]]\nsource = \"headcount\"\naffinity = \"Headcount\"\ntype = \"number\"\n",
    )
    .unwrap();
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t
        .run(dir.path(), &db, &["push", "m.toml", "--dry-run", "--json"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["created"], 1, "{v}");
    assert_eq!(v["updated"], 1, "{v}");
    assert!(v["estimated_write_calls"].as_u64().unwrap() >= 3, "{v}");
    assert_eq!(t.writes().await, 0, "no write was even asked");
    // The same push for real is refused by the emulator: the writes were really refused.
    let (code, _, _) = t.run(dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 4, "every write refused: a partial push");
}
