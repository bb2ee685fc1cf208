//! `affsync pull` and `affsync export` as a scheduler runs them: exit codes, a pull killed
//! with SIGKILL and run again, and the exported files.

use std::time::{Duration, Instant};

use affinity_crm_emulator::generate::big_list_seed;
use affinity_crm_emulator::EmulatorConfig;
use affsync::store::Store;

use crate::common::{TestEmu, KEY};
use crate::db::fingerprint;

fn affsync(t: &TestEmu, db: &str, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"));
    cmd.args(args)
        .arg("--database-url")
        .arg(db)
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true);
    cmd
}

async fn run(t: &TestEmu, db: &str, args: &[&str]) -> (i32, String, String) {
    let out = affsync(t, db, args).output().await.expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn an_unknown_list_exits_2_and_names_the_available_lists() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = run(&t, &db, &["pull", "--list", "Dealflow"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no list named `Dealflow`"), "{err}");
    assert!(
        err.contains("Deal Flow (301), LPs (302), Pipeline (303)"),
        "{err}"
    );
    let (code, _, err) = run(&t, &db, &["pull"]).await;
    assert_eq!(code, 2, "neither --list nor --all-lists: {err}");
    assert!(err.contains("--all-lists"), "{err}");
}

#[tokio::test]
async fn pull_prints_a_summary_or_json_and_export_writes_every_format() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, out, err) = run(&t, &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Deal Flow"), "{out}");
    assert!(out.lines().next().unwrap().starts_with("list"), "{out}");
    let (code, out, err) = run(&t, &db, &["pull", "--list", "LPs", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let j: serde_json::Value = serde_json::from_str(&out).expect("json on stdout");
    assert_eq!(j["lists"][0]["list"], "LPs");
    assert_eq!(j["lists"][0]["new"], 0);
    assert_eq!(j["lists"][0]["entries_seen"], 2);

    let csv = dir.path().join("deal.csv");
    let (code, _, err) = run(
        &t,
        &db,
        &[
            "export",
            "list",
            "deal flow",
            "--out",
            csv.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "entry_id,entity_id,entity_name,domain,Status,Owner,Last Funding Date,Website,Headcount,Sectors,Co-investors,Industry,HQ,Employees,Tags"
    );
    assert_eq!(
        lines.next().unwrap(),
        "601,201,Analytical Engines,analytical.io,Diligence,Katherine Johnson,2024-04-01,https://analytical.io,42,Fintech; AI,Cobol Systems,Software,\"London, United Kingdom\",120,"
    );
    assert_eq!(text.lines().count(), 5, "a header and 4 entries");

    let jsonl = dir.path().join("deal.jsonl");
    let (code, _, err) = run(
        &t,
        &db,
        &["export", "list", "301", "--out", jsonl.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let first: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&jsonl)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(first["Sectors"], "Fintech; AI");
    assert_eq!(first["Last Funding Date"], "2024-04-01");

    let parquet = dir.path().join("deal.parquet");
    let (code, _, err) = run(
        &t,
        &db,
        &["export", "list", "301", "--out", parquet.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let bytes = std::fs::read(&parquet).unwrap();
    assert_eq!(&bytes[..4], b"PAR1");

    let (code, _, err) = run(
        &t,
        &db,
        &["export", "list", "Nope", "--out", csv.to_str().unwrap()],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("available lists: Deal Flow (301)"), "{err}");
    let (code, _, err) = run(&t, &db, &["export", "list", "301", "--out", "x.xlsx"]).await;
    assert_eq!(code, 2, "{err}");
}

#[tokio::test]
async fn a_pull_killed_with_sigkill_and_run_again_equals_one_clean_pull() {
    let seed = big_list_seed(1_500, 5);
    let slow = TestEmu::with(
        EmulatorConfig {
            latency: Duration::from_millis(60),
            ..Default::default()
        },
        seed.clone(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("killed.db");
    let db = format!("sqlite://{}", path.display());

    let mut child = affsync(&slow, &db, &["pull", "--all-lists", "--quiet"])
        .spawn()
        .unwrap();
    // Wait until some pages are committed, then kill it mid-pull.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(40)).await;
        // (Under AFFSYNC_TEST_SQLITE_AS_POSTGRES the mirror is a database, not this file.)
        let n = if path.exists() || std::env::var_os("AFFSYNC_TEST_SQLITE_AS_POSTGRES").is_some() {
            let s = Store::open(&db).await.unwrap();
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM list_entries")
                .fetch_one(s.test_pool())
                .await
                .unwrap_or(0);
            s.close().await;
            n
        } else {
            0
        };
        if n >= 300 {
            assert!(n < 1_500, "the pull finished before it could be killed");
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "no page committed"
        );
    }
    child.start_kill().unwrap();
    let status = child.wait().await.unwrap();
    assert!(!status.success());

    let (code, _, err) = run(&slow, &db, &["pull", "--all-lists", "--quiet"]).await;
    assert_eq!(code, 0, "{err}");

    let clean = TestEmu::with(EmulatorConfig::default(), seed).await;
    let clean_dir = tempfile::tempdir().unwrap();
    let clean_db = format!("sqlite://{}", clean_dir.path().join("clean.db").display());
    let (code, _, err) = run(&clean, &clean_db, &["pull", "--all-lists", "--quiet"]).await;
    assert_eq!(code, 0, "{err}");

    let a = Store::open(&db).await.unwrap();
    let b = Store::open(&clean_db).await.unwrap();
    let (fa, fb) = (fingerprint(&a, false).await, fingerprint(&b, false).await);
    assert_eq!(fa.len(), fb.len());
    assert!(fa == fb, "the mirrors differ");
    let runs = a.runs(10).await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        runs[1].status, "failed",
        "the killed run is closed by the next run"
    );
    assert!(
        runs[1]
            .error
            .as_deref()
            .is_some_and(|e| e.starts_with("abandoned")),
        "{:?}",
        runs[1]
    );
    assert_eq!(runs[0].status, "ok");
}
