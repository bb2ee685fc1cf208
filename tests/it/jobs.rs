//! Jobs as a scheduler runs them: `affsync schedule` on a 2-second cron, two `affsync run` at
//! once and a holder killed with SIGKILL, a failing job's alert and status, the activity view's
//! formats (snapshots) and the HTML report in headless Chromium.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use affinity_crm_emulator::EmulatorConfig;
use affsync::store::Store;
use affsync_core::journal::{JournalEvent, RunKind, RunStatus};

/// A journal event as the store keeps it (step name and detail), for journals written by hand.
fn stored(record: &str, step: &str, detail: Option<serde_json::Value>) -> JournalEvent {
    JournalEvent::from_stored(record.to_string(), step, detail)
}
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::common::{test_seed, webhook, TestEmu, KEY};

/// The binary under test: this build's, or the one `AFFSYNC_BIN` names (a release build, an
/// installed one).
fn bin() -> PathBuf {
    std::env::var_os("AFFSYNC_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_affsync")))
}

fn affsync(dir: &Path, args: &[&str]) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(bin());
    cmd.args(args)
        .current_dir(dir)
        .env("AFFINITY_API_KEY", KEY)
        .env_remove("AFFINITY_BASE_URL")
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "info")
        .kill_on_drop(true);
    cmd
}

async fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = affsync(dir, args).output().await.expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An `affsync.toml` in `dir` over the emulator and `db`, with these jobs.
fn write_config(dir: &Path, t: &TestEmu, db: &str, extra: &str, jobs: &str) -> PathBuf {
    let path = dir.join("affsync.toml");
    std::fs::write(
        &path,
        format!(
            "database_url = \"{db}\"\n{extra}\n[affinity]\nbase_url = \"{}\"\nkey_env = \"AFFINITY_API_KEY\"\n\n{jobs}",
            t.emu.base_url()
        ),
    )
    .unwrap();
    path
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("mirror.db").display())
}

fn time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// (started, ended) of each closed run of `kind` for `job`, in order.
async fn spans(
    store: &Store,
    kind: &str,
    job: &str,
) -> Vec<(DateTime<Utc>, DateTime<Utc>, String)> {
    let mut v: Vec<_> = store
        .runs(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == kind && r.job.as_deref() == Some(job))
        .map(|r| {
            (
                time(&r.started_at),
                r.ended_at
                    .as_deref()
                    .map(time)
                    .expect("every run was closed"),
                r.status,
            )
        })
        .collect();
    v.sort_by_key(|s| s.0);
    v
}

fn sigterm(pid: u32) {
    let ok = std::process::Command::new("kill")
        .arg("-TERM")
        .arg(pid.to_string())
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -TERM {pid}");
}

#[tokio::test]
async fn a_job_every_two_seconds_runs_three_times_in_eight_and_never_overlaps_itself() {
    // Each call waits 600 ms: a pull of one list (4 calls) outlasts the 2-second period.
    let t = TestEmu::with(
        EmulatorConfig {
            latency: Duration::from_millis(600),
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    write_config(
        dir.path(),
        &t,
        &db,
        "",
        "[[jobs]]\nname = \"often\"\nschedule = \"*/2 * * * * *\"\nsteps = [ { pull = [\"Deal Flow\"] } ]\n",
    );
    let child = affsync(dir.path(), &["schedule"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(8)).await;
    sigterm(child.id().unwrap());
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("schedule stops after SIGTERM")
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("SIGTERM"), "{err}");

    let store = Store::open(&db).await.unwrap();
    let jobs = spans(&store, "job", "often").await;
    assert!(
        jobs.len() >= 3,
        "{} runs in 8 s: {jobs:?}\n{err}",
        jobs.len()
    );
    for (a, b) in jobs.iter().zip(jobs.iter().skip(1)) {
        assert!(a.1 <= b.0, "two runs overlap: {a:?} and {b:?}");
    }
    assert!(jobs.iter().all(|j| j.2 == "ok"), "{jobs:?}\n{err}");
    // At least one run lasted longer than the period, so the test did test overlapping.
    assert!(
        jobs.iter()
            .any(|j| j.1 - j.0 > chrono::Duration::seconds(2)),
        "no run outlasted the period: {jobs:?}"
    );
    // The pulls carry the job's name and never overlap either.
    let pulls = spans(&store, "pull", "often").await;
    assert_eq!(pulls.len(), jobs.len(), "{pulls:?}");
    for (a, b) in pulls.iter().zip(pulls.iter().skip(1)) {
        assert!(a.1 <= b.0, "two pulls overlap: {a:?} and {b:?}");
    }
    let locks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_locks")
        .fetch_one(store.test_pool())
        .await
        .unwrap();
    assert_eq!(locks, 0, "the lock is released at exit");
}

async fn second_run_exits_3_and_a_killed_holder_is_taken_over(db: &str) {
    let t = TestEmu::with(
        EmulatorConfig {
            latency: Duration::from_millis(250),
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    write_config(
        dir.path(),
        &t,
        db,
        "lock_stale_after_s = 1.5",
        "[[jobs]]\nname = \"slow\"\nschedule = \"0 0 2 * * *\"\nsteps = [ { pull = [\"Deal Flow\", \"LPs\"] } ]\n",
    );
    // The schema is made before the first run starts (two processes migrating a new SQLite
    // file at once is not what this test is about).
    let store = Store::open(db).await.unwrap();
    let mut first = affsync(dir.path(), &["run", "slow"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the first holds the lock.
    let started = Instant::now();
    loop {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM job_locks WHERE job = 'slow'")
            .fetch_one(store.test_pool())
            .await
            .unwrap();
        if n == 1 {
            break;
        }
        if let Some(status) = first.try_wait().unwrap() {
            let mut err = String::new();
            use tokio::io::AsyncReadExt;
            first
                .stderr
                .take()
                .unwrap()
                .read_to_string(&mut err)
                .await
                .unwrap();
            panic!("the first run ended ({status}) before its lock was seen: {err}");
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no lock taken");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (code, _, err) = run(dir.path(), &["run", "slow"]).await;
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("job `slow` is already running"), "{err}");
    assert!(err.contains("hint:"), "{err}");

    first.start_kill().unwrap();
    first.wait().await.unwrap();
    // The dead holder's lock goes stale after 1.5 s; until then a run is turned away with 3.
    let started = Instant::now();
    let (code, err) = loop {
        let (code, _, err) = run(dir.path(), &["run", "slow"]).await;
        if code != 3 {
            break (code, err);
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the stale lock was never taken over: {err}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("took over the lock"), "{err}");
    let runs: Vec<_> = store
        .runs(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "job")
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    assert_eq!(runs[0].status, "ok");
    assert_eq!(
        runs[1].status, "failed",
        "the killed run is closed as failed"
    );
    assert!(
        runs[1]
            .error
            .as_deref()
            .unwrap_or_default()
            .contains("abandoned"),
        "{:?}",
        runs[1].error
    );
    store.close().await;
}

#[tokio::test]
async fn two_runs_at_once_the_second_exits_3_and_a_killed_holder_is_taken_over_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    second_run_exits_3_and_a_killed_holder_is_taken_over(&sqlite_url(dir.path())).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs PostgreSQL: AFFSYNC_TEST_POSTGRES_URL is not set"
)]
async fn two_runs_at_once_the_second_exits_3_and_a_killed_holder_is_taken_over_postgres() {
    second_run_exits_3_and_a_killed_holder_is_taken_over(&crate::db::postgres_url().await).await;
}

#[tokio::test]
async fn a_failing_job_posts_its_alert_and_status_shows_the_failures() {
    let t = TestEmu::start().await;
    let (hook, got) = webhook().await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    write_config(
        dir.path(),
        &t,
        &db,
        "",
        &format!(
            "[[jobs]]\nname = \"broken\"\nschedule = \"0 0 2 * * *\"\nsteps = [ {{ pull = [\"No Such List\"] }} ]\non_failure = {{ webhook = \"{hook}\" }}\n\n\
             [[jobs]]\nname = \"pushy\"\nschedule = \"0 0 3 * * *\"\ntimezone = \"Europe/Paris\"\nsteps = [ {{ pull = [\"LPs\"] }}, {{ push = \"mappings/companies.toml\" }} ]\non_failure = {{ webhook = \"{hook}\" }}\n\n\
             [[jobs]]\nname = \"fine\"\nschedule = \"0 0 4 * * *\"\nsteps = [ {{ pull = [\"LPs\"] }} ]\n"
        ),
    );
    let (code, out, err) = run(dir.path(), &["run", "fine"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("job `fine`: ok"), "{out}");

    for n in 1..=2 {
        let (code, _, err) = run(dir.path(), &["--log-format", "json", "run", "broken"]).await;
        assert_eq!(code, 1, "{err}");
        assert!(err.contains("no list named `No Such List`"), "{err}");
        // Logs are JSON lines that carry the job and its run.
        let lines: Vec<Value> = err
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        assert!(
            lines.iter().any(|l| l["span"]["job"] == "broken"
                && l["span"]["run"].is_number()
                && l["level"] == "ERROR"),
            "{err}"
        );
        let alerts = got.lock().unwrap().clone();
        assert_eq!(alerts.len(), n, "{alerts:?}");
        let a = &alerts[n - 1];
        assert_eq!(a["event"], "job_failed");
        assert_eq!(a["job"], "broken");
        assert_eq!(a["status"], "failed");
        assert_eq!(a["step"], "pull");
        assert_eq!(a["failures_in_a_row"], n);
        assert!(a["error"].as_str().unwrap().contains("No Such List"), "{a}");
    }

    let (code, _, err) = run(dir.path(), &["run", "pushy"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot read mapping file"), "{err}");
    let alerts = got.lock().unwrap().clone();
    assert_eq!(alerts.len(), 3);
    assert_eq!(alerts[2]["job"], "pushy");
    assert_eq!(alerts[2]["step"], "push");

    let (code, out, err) = run(dir.path(), &["status", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&out).unwrap();
    let job = |name: &str| {
        s.as_array()
            .unwrap()
            .iter()
            .find(|j| j["job"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(job("broken")["failures_in_a_row"], 2);
    assert_eq!(job("broken")["last_run"]["status"], "failed");
    assert_eq!(job("broken")["attention"][0], "failed 2 times in a row");
    assert_eq!(job("pushy")["failures_in_a_row"], 1);
    assert_eq!(job("pushy")["timezone"], "Europe/Paris");
    // A step's file is named by its path from the folder of `affsync.toml`, as written there.
    let pushy_steps = job("pushy")["last_run"]["counts"]["steps"].clone();
    assert_eq!(
        pushy_steps[1]["target"], "mappings/companies.toml",
        "{pushy_steps}"
    );
    assert_eq!(job("fine")["failures_in_a_row"], 0);
    assert_eq!(job("fine")["last_run"]["status"], "ok");
    assert_eq!(job("fine")["attention"], json!([]));
    assert!(job("fine")["next_at"]
        .as_str()
        .unwrap()
        .ends_with("T04:00:00.000Z"));

    let (code, out, err) = run(dir.path(), &["status"]).await;
    assert_eq!(code, 0, "{err}");
    let line = |name: &str| {
        out.lines()
            .find(|l| l.split_whitespace().any(|w| w == name))
            .unwrap_or_default()
            .to_string()
    };
    assert!(line("broken").starts_with('!'), "{out}");
    assert!(line("fine").starts_with(' '), "{out}");
    // Each step's own counts: the pull's entries, not a push job's zeros.
    assert!(line("fine").contains("pull: entries 2, new 2"), "{out}");
    assert!(line("broken").contains("pull: failed"), "{out}");
    assert!(out.contains("! broken: failed 2 times in a row"), "{out}");
    assert!(out.contains("mappings/companies.toml"), "{out}");

    // The failure is journaled: the job's run and an `error` event on `job:broken`.
    let (code, out, err) = run(
        dir.path(),
        &["activity", "--record", "job:broken", "--format", "json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let ev: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(ev.as_array().unwrap().len(), 2, "{ev}");
    assert_eq!(ev[0]["step"], "error");
    assert_eq!(ev[0]["detail"]["step"], "pull");
}

#[tokio::test]
async fn config_mistakes_exit_2_with_file_line_and_job() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("affsync.toml"),
        "[[jobs]]\nname = \"nightly\"\nschedule = \"0 0 2 *\"\nsteps = [ { pull = [\"L\"] } ]\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["run", "nightly"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        // The file found upward is named by its full path.
        err.contains("/affsync.toml`, line 3, job `nightly`: invalid cron expression `0 0 2 *`"),
        "{err}"
    );
    std::fs::write(
        dir.path().join("other.toml"),
        "[[jobs]]\nname = \"nightly\"\nschedule = \"0 0 2 * * *\"\nstep = [ { pull = [\"L\"] } ]\n",
    )
    .unwrap();
    let (code, _, err) = run(dir.path(), &["status", "--config", "other.toml"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("line 4, job `nightly`: unknown field `step`"),
        "{err}"
    );
    let (code, _, err) = run(dir.path(), &["schedule", "--config", "missing.toml"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("the settings file `missing.toml` (flag `--config`) does not exist"),
        "{err}"
    );
}

const T0: &str = "2026-11-21T02:00:00Z";

fn at(secs: f64) -> DateTime<Utc> {
    time(T0) + chrono::Duration::milliseconds((secs * 1000.0) as i64)
}

/// A journal with a job's run and its pull, a run of matching and pushing (as the push code
/// will journal it) and a failed job; fixed times so that outputs are stable.
async fn fixture(dir: &Path) -> String {
    let db = sqlite_url(dir);
    let s = Store::open(&db).await.unwrap();
    let job = s
        .start_run(RunKind::Job, Some("nightly"), at(0.0))
        .await
        .unwrap();
    let pull = s
        .start_run(RunKind::Pull, Some("nightly"), at(0.5))
        .await
        .unwrap();
    s.add_events(
        pull,
        &[
            stored(
                "entry:601",
                "new",
                Some(json!({"list": 301, "entity": "company:201"})),
            ),
            stored(
                "entry:602",
                "new",
                Some(json!({"list": 301, "entity": "company:202"})),
            ),
            stored("entry:603", "changed", Some(json!({"changed": ["fields"]}))),
            stored(
                "company:205",
                "merged",
                Some(json!({"into": "company:201"})),
            ),
            stored(
                "list:301",
                "pulled",
                Some(json!({"entries_seen": 4, "new": 2, "changed": 1, "removed": 0})),
            ),
        ],
        at(1.0),
    )
    .await
    .unwrap();
    s.finish_run(pull, RunStatus::Ok, &json!({}), 12, None, at(4.25))
        .await
        .unwrap();
    s.finish_run(
        job,
        RunStatus::Ok,
        &json!({"new": 2, "changed": 1}),
        12,
        None,
        at(4.5),
    )
    .await
    .unwrap();

    let push = s.start_run(RunKind::Push, None, at(20.0)).await.unwrap();
    let events = vec![
        stored(
            "src:ACME-1",
            "matched",
            Some(json!({"method": "key", "score": 1.0, "affinity_id": 201})),
        ),
        stored(
            "src:BETA-2",
            "matched",
            Some(json!({"method": "fuzzy", "score": 0.87, "affinity_id": 202})),
        ),
        stored(
            "src:GAMMA-3",
            "review",
            Some(json!({"score": 0.64, "candidates": [203, 204]})),
        ),
        stored(
            "src:DELTA-4",
            "unmatched",
            Some(json!({"reason": "no candidate above 0.5"})),
        ),
        stored(
            "src:ACME-1",
            "field_updated",
            Some(json!({"field": "Website", "old": "acme.io", "new": "acme.com"})),
        ),
        stored(
            "src:ACME-1",
            "added_to_list",
            Some(json!({"list": "Deal Flow", "entry_id": 610})),
        ),
        stored(
            "src:EPS-5",
            "created",
            Some(json!({"affinity_id": 901, "kind": "organization"})),
        ),
        stored(
            "src:ZETA-6",
            "failed",
            Some(
                json!({"field": "Headcount", "reason": "type_mismatch", "message": "`many` is not a number"}),
            ),
        ),
        stored(
            "src:ETA-7",
            "failed",
            Some(
                json!({"field": "Stage", "reason": "unknown_option", "message": "no option `<Seed>` & co"}),
            ),
        ),
        stored(
            "src:THETA-8",
            "failed",
            Some(
                json!({"field": "Founded", "reason": "type_mismatch", "message": "`soon` is not a date"}),
            ),
        ),
        stored(
            "src:IOTA-9",
            "skipped",
            Some(json!({"reason": "update_only"})),
        ),
        stored("src:KAPPA-10", "unchanged", None),
        stored("src:LAMBDA-11", "teleported", Some(json!({"to": "mars"}))),
    ];
    s.add_events(push, &events, at(21.0)).await.unwrap();
    s.finish_run(push, RunStatus::Partial, &json!({}), 9, None, at(23.0))
        .await
        .unwrap();

    let failed = s
        .start_run(RunKind::Job, Some("hourly"), at(30.0))
        .await
        .unwrap();
    let msg = "the push step is not available yet (`mappings/companies.toml`)\nhint: remove it";
    s.add_events(
        failed,
        &[stored(
            "job:hourly",
            "error",
            Some(json!({"reason": "step_failed", "step": "push", "message": msg})),
        )],
        at(31.0),
    )
    .await
    .unwrap();
    s.finish_run(
        failed,
        RunStatus::Failed,
        &json!({}),
        0,
        Some(msg),
        at(31.0),
    )
    .await
    .unwrap();
    s.close().await;
    db
}

#[tokio::test]
async fn activity_prints_the_journal_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let db = fixture(dir.path()).await;
    let cases: &[(&str, &[&str])] = &[
        ("runs_table", &[]),
        ("runs_json", &["--format", "json"]),
        ("runs_csv", &["--format", "csv"]),
        ("runs_failed", &["--status", "failed"]),
        ("job_run_table", &["1"]),
        ("push_run_table", &["3"]),
        ("push_run_json", &["3", "--format", "json"]),
        ("push_run_csv", &["3", "--format", "csv"]),
        ("push_run_failed_only", &["3", "--status", "failed"]),
        ("record_by_affinity_id", &["--record", "201"]),
        (
            "record_by_source_id",
            &["--record", "ACME-1", "--format", "csv"],
        ),
    ];
    for (name, args) in cases {
        let mut all = vec!["activity", "--database-url", &db];
        all.extend_from_slice(args);
        let (code, out, err) = run(dir.path(), &all).await;
        assert_eq!(code, 0, "{name}: {err}");
        insta::assert_snapshot!(format!("activity_{name}"), out);
    }

    // Parquet: read back through polars, typed columns and the same rows as CSV.
    let file = dir.path().join("run3.parquet");
    let (code, _, err) = run(
        dir.path(),
        &[
            "activity",
            "3",
            "--database-url",
            &db,
            "--out",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    use polars::prelude::*;
    let mut df = ParquetReader::new(std::fs::File::open(&file).unwrap())
        .finish()
        .unwrap();
    let schema: Vec<String> = df
        .schema()
        .iter()
        .map(|(n, t)| format!("{n}: {t}"))
        .collect();
    let mut csv = Vec::new();
    CsvWriter::new(&mut csv).finish(&mut df).unwrap();
    insta::assert_snapshot!(
        "activity_push_run_parquet",
        format!(
            "{}\n\n{}",
            schema.join("\n"),
            String::from_utf8(csv).unwrap()
        )
    );

    let (code, _, err) = run(dir.path(), &["activity", "99", "--database-url", &db]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no run 99 in the journal"), "{err}");
    let (code, _, err) = run(
        dir.path(),
        &["activity", "--database-url", &db, "--format", "parquet"],
    )
    .await;
    assert_eq!(code, 2, "{err}");
}

/// Headless Chromium, for the tests that are ignored without it.
fn chromium() -> PathBuf {
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|p| p.join(name))
                    .find(|p| p.is_file())
            })
        })
        .expect("no `chromium` or `chromium-browser` on PATH (the tests were built with one, or with AFFSYNC_REQUIRE_BROWSER set)")
}

/// The HTML report of run 3, its text escaped; gives its path.
async fn html_report(dir: &Path) -> PathBuf {
    let db = fixture(dir).await;
    let html = dir.join("report.html");
    let (code, _, err) = run(
        dir,
        &[
            "report",
            "3",
            "--database-url",
            &db,
            "--out",
            html.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("no option <code>&lt;Seed&gt;</code> &amp; co"),
        "escaped, the backticked part as code: {page}"
    );
    assert!(!page.contains("<Seed>"));

    html
}

#[tokio::test]
async fn the_html_report_escapes_what_it_quotes() {
    let dir = tempfile::tempdir().unwrap();
    html_report(dir.path()).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_chromium),
    ignore = "needs `chromium` or `chromium-browser` on PATH"
)]
async fn the_html_report_shows_the_counts_in_headless_chromium() {
    let dir = tempfile::tempdir().unwrap();
    let html = html_report(dir.path()).await;
    let browser = chromium();
    let out = tokio::process::Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--dump-dom",
        ])
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
    let count = |step: &str| -> Option<i64> {
        let i = dom.find(&format!("<tr data-step=\"{step}\">"))?;
        let rest = &dom[i..];
        let j = rest.find("class=\"n\">")? + "class=\"n\">".len();
        rest[j..].split('<').next()?.trim().parse().ok()
    };
    for (step, n) in [
        ("matched", 2),
        ("review", 1),
        ("unmatched", 1),
        ("created", 1),
        ("field_updated", 1),
        ("added_to_list", 1),
        ("unchanged", 1),
        ("skipped", 1),
        ("failed", 3),
        ("teleported", 1),
    ] {
        assert_eq!(count(step), Some(n), "{step} in the DOM");
    }
    assert!(dom.contains("<span id=\"score-count\">3</span>"), "{dom}");
    assert!(
        dom.contains("data-bin=\"8\" data-count=\"1\""),
        "0.87 in its bin"
    );
    assert!(
        dom.contains("data-bin=\"9\" data-count=\"1\""),
        "1.0 in the last bin"
    );
    assert!(
        dom.contains("data-bin=\"6\" data-count=\"1\""),
        "0.64 in its bin"
    );
    let failures = |reason: &str| -> Option<i64> {
        let i = dom.find(&format!("data-reason=\"{reason}\""))?;
        let rest = &dom[i..];
        let j = rest.find("class=\"group-count\">")? + "class=\"group-count\">".len();
        rest[j..].split('<').next()?.parse().ok()
    };
    assert_eq!(failures("type_mismatch"), Some(2));
    assert_eq!(failures("unknown_option"), Some(1));
    assert!(dom.contains("id=\"outcomes\""));
}

#[tokio::test]
async fn runs_missed_while_affsync_was_down_are_reported_and_run_once() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    write_config(
        dir.path(),
        &t,
        &db,
        "",
        "[[jobs]]\nname = \"daily\"\nschedule = \"0 30 1 * * *\"\nsteps = [ { pull = [\"LPs\"] } ]\n",
    );
    // The last run began four days ago: three or four slots have passed since.
    let store = Store::open(&db).await.unwrap();
    let long_ago = Utc::now() - chrono::Duration::days(4);
    let old = store
        .start_run(RunKind::Job, Some("daily"), long_ago)
        .await
        .unwrap();
    store
        .finish_run(old, RunStatus::Ok, &json!({}), 0, None, long_ago)
        .await
        .unwrap();
    let (code, out, _) = run(dir.path(), &["status"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("! daily: missed "), "{out}");

    let child = affsync(dir.path(), &["schedule"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        let runs = store.runs(10).await.unwrap();
        if runs
            .iter()
            .any(|r| r.kind == "job" && r.id != old && r.status != "running")
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no catch-up run"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sigterm(child.id().unwrap());
    let out = child.wait_with_output().await.unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("missed runs while affsync was not running"),
        "{err}"
    );
    let runs: Vec<_> = store
        .runs(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "job")
        .collect();
    assert_eq!(runs.len(), 2, "one run for all the missed slots: {runs:?}");
    let counts = runs[0].counts.clone().unwrap();
    assert_eq!(counts["trigger"], "missed");
    let missed = counts["missed"].as_u64().unwrap();
    assert!((3..=4).contains(&missed), "{counts}");
    let (_, out, _) = run(dir.path(), &["status", "--json"]).await;
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s[0]["missed_slots"], 0, "{s}");
    assert_eq!(s[0]["attention"], json!([]), "{s}");
}

/// Sends a signal (`STOP`, `CONT`) to a child process.
fn signal(child: &tokio::process::Child, sig: &str) {
    let pid = child.id().expect("the child runs").to_string();
    let ok = std::process::Command::new("kill")
        .args([&format!("-{sig}"), &pid])
        .status()
        .expect("kill runs")
        .success();
    assert!(ok, "kill -{sig} {pid}");
}

/// Write calls `POST /organizations` the emulator has served.
async fn org_creates(t: &TestEmu) -> u64 {
    let stats: Value = t
        .http
        .get(t.url("/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["routes"]["POST /organizations"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn a_paused_job_whose_lock_was_taken_over_writes_nothing_more() {
    // Slow answers, so that the first run is paused in the middle of its creates.
    let t = TestEmu::with(
        EmulatorConfig {
            latency: Duration::from_millis(60),
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let mut csv = String::from("source_id,company_name,website\n");
    for i in 0..40 {
        csv.push_str(&format!("N{i},Paused Co {i},paused{i}.example\n"));
    }
    std::fs::write(dir.path().join("new.csv"), csv).unwrap();
    std::fs::write(
        dir.path().join("m.toml"),
        "version = 1\nentity = \"organization\"\n[source]\npath = \"new.csv\"\nid = \"source_id\"\n\
         [match]\nsearch_term = \"website\"\n[push]\nmode = \"create_update\"\n\
         [[fields]]\nsource = \"company_name\"\naffinity = \"name\"\ntype = \"text\"\n",
    )
    .unwrap();
    write_config(
        dir.path(),
        &t,
        &db,
        "lock_stale_after_s = 1.5",
        "[[jobs]]\nname = \"nightly\"\nschedule = \"0 0 2 * * *\"\nsteps = [ { pull = [\"Deal Flow\"] }, { push = \"m.toml\" } ]\n",
    );
    let store = Store::open(&db).await.unwrap();
    let mut first = affsync(dir.path(), &["run", "nightly"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while org_creates(&t).await < 3 {
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first run ended before it was paused"
        );
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no create seen"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal(&first, "STOP");
    // Past the stale period, a second run takes the lock over and does the whole job.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let (code, _, err) = run(dir.path(), &["run", "nightly"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("took over the lock"), "{err}");
    let after_second = org_creates(&t).await;
    signal(&first, "CONT");
    let out = first.wait_with_output().await.unwrap();
    let first_err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "the paused run fails: {first_err}");
    assert!(
        org_creates(&t).await <= after_second + 1,
        "the paused run wrote on after its lock was taken (at most the request it was paused in): {first_err}"
    );

    let tenant = crate::proxy::content(&t.emu);
    let dupes: Vec<_> = tenant
        .iter()
        .filter(|l| l.starts_with("DUPLICATE") && l.contains("Paused Co"))
        .collect();
    assert!(dupes.is_empty(), "{dupes:?}");
    let ours = tenant
        .iter()
        .filter(|l| l.starts_with("org Paused Co "))
        .count();
    assert_eq!(ours, 40, "each organization once");
    let jobs: Vec<_> = store
        .runs(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == "job")
        .collect();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].status, "ok", "{jobs:?}");
    assert_eq!(jobs[1].status, "failed", "the paused run is marked failed");
    let why = jobs[1].error.clone().unwrap_or_default();
    assert!(why.contains("taken over"), "{why}");
    store.close().await;
}
