//! `affsync mcp` driven by a real MCP client: the official Python SDK (`mcp`), installed from
//! PyPI into a throwaway virtualenv (or taken from `AFFSYNC_TEST_MCP_VENV`), over stdio and over
//! streamable HTTP, against the demo tenant in the emulator. Ignored when the tests were built
//! without python3 and its `venv`, or with `AFFSYNC_TEST_OFFLINE` set
//! (`tests/resources/build.rs`); with them, a venv or a pip install that fails fails the test.

use std::path::{Path, PathBuf};

use affinity_crm_emulator::{demo_seed, EmulatorConfig};
use affsync::store::Store;
use affsync_core::model::Owner;
use serde_json::{json, Value};

use crate::common::{TestEmu, KEY};

/// On Deal Flow in the demo tenant (`fixtures/demo-tenant.json`).
const ORG_ID: i64 = 297584736;
const ORG_NAME: &str = "Fernhill Analytics Ltd";
const MISSPELT: &str = "Fernhil Analytcs";
const DEAL_FLOW: i64 = 180026;
/// Deal Flow's `Headcount` (a number).
const HEADCOUNT: &str = "field-4200094";

/// A virtualenv with the `mcp` package: `AFFSYNC_TEST_MCP_VENV` if given (one that has it),
/// else a fresh one in `dir`. `Err` (with the reason) when it cannot be made.
fn venv_with_mcp(dir: &Path) -> Result<PathBuf, String> {
    if let Ok(v) = std::env::var("AFFSYNC_TEST_MCP_VENV") {
        return Ok(PathBuf::from(v).join("bin/python"));
    }
    let venv = dir.join("venv");
    let made = std::process::Command::new("python3")
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .map_err(|e| format!("no python3 ({e})"))?;
    if !made.status.success() {
        return Err(format!(
            "python3 -m venv failed: {}",
            String::from_utf8_lossy(&made.stderr).trim()
        ));
    }
    let py = venv.join("bin/python");
    let pip = std::process::Command::new(&py)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "mcp>=1.2,<2",
        ])
        .output()
        .map_err(|e| format!("pip did not run ({e})"))?;
    if !pip.status.success() {
        return Err(format!(
            "pip could not install `mcp` (PyPI out of reach?): {}",
            String::from_utf8_lossy(&pip.stderr)
                .lines()
                .last()
                .unwrap_or_default()
        ));
    }
    Ok(py)
}

/// Runs the Python client against `affsync mcp EXTRA…` with these calls; gives its report.
async fn session(
    py: &Path,
    dir: &Path,
    t: &TestEmu,
    db: &str,
    extra: &[&str],
    calls: Value,
) -> Value {
    let mut command = vec![
        env!("CARGO_BIN_EXE_affsync").to_string(),
        "mcp".into(),
        "--database-url".into(),
        db.into(),
    ];
    command.extend(extra.iter().map(|s| s.to_string()));
    run_client(py, dir, t, json!({ "command": command, "calls": calls })).await
}

/// Runs the Python client with this script (a server to start, or a URL); gives its report.
async fn run_client(py: &Path, dir: &Path, t: &TestEmu, script: Value) -> Value {
    let path = dir.join(format!("script-{}.json", rand_suffix()));
    std::fs::write(&path, script.to_string()).unwrap();
    let script = path;
    let out = tokio::process::Command::new(py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/it/mcp/client.py"
        ))
        .arg(&script)
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output()
        .await
        .expect("the python client runs");
    assert!(
        out.status.success(),
        "the MCP client failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the client prints JSON")
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn pull(t: &TestEmu, db: &str) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["pull", "--all-lists", "--quiet", "--database-url", db])
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("affsync pull runs");
    assert!(
        out.status.success(),
        "pull: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn calls_made(t: &TestEmu) -> u64 {
    t.emu.stats().values().sum()
}

async fn headcount(db: &str) -> Vec<Option<f64>> {
    let store = Store::open(db).await.unwrap();
    let entry = store
        .entry_of(DEAL_FLOW, affsync_core::matcher::Kind::Organization, ORG_ID)
        .await
        .unwrap()
        .expect("the organization is on Deal Flow");
    let vals = store.owner_values(Owner::Entry(entry)).await.unwrap();
    vals.get(HEADCOUNT)
        .map(|items| items.iter().map(|i| i.number).collect())
        .unwrap_or_default()
}

/// A folder with the Python client's virtualenv, the demo tenant in the emulator, and a mirror
/// (in the folder) that has pulled it.
async fn client_and_demo() -> (tempfile::TempDir, PathBuf, TestEmu, String) {
    let dir = tempfile::tempdir().unwrap();
    let py = venv_with_mcp(dir.path()).unwrap_or_else(|why| {
        panic!(
            "no Python MCP client ({why}); AFFSYNC_TEST_OFFLINE=1 at build time ignores this test"
        )
    });
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    pull(&t, &db).await;
    (dir, py, t, db)
}

#[tokio::test]
#[cfg_attr(
    not(has_mcp_python),
    ignore = "needs python3 with venv and PyPI (or AFFSYNC_TEST_MCP_VENV), and AFFSYNC_TEST_OFFLINE unset"
)]
async fn a_python_mcp_client_finds_reads_plans_and_applies_through_affsync_mcp() {
    let (dir, py, t, db) = client_and_demo().await;
    let before = headcount(&db).await;
    assert_eq!(before.len(), 1, "{before:?}");
    let new_value = before[0].unwrap_or(0.0) + 17.0;

    // Without --allow-writes: list, find by a misspelt name, read, and a write refused; no
    // API call at all.
    let calls_before = calls_made(&t);
    let r = session(
        &py,
        dir.path(),
        &t,
        &db,
        &[],
        json!([
            { "tool": "find_organization", "args": { "query": MISSPELT } },
            { "tool": "get_record", "args": { "kind": "organization", "id": ORG_ID } },
            { "tool": "set_fields", "args": { "kind": "organization", "id": ORG_ID, "list": "Deal Flow",
                "values": [{ "field": "Headcount", "value": new_value.to_string() }] } },
        ]),
    )
    .await;
    assert_eq!(
        calls_made(&t),
        calls_before,
        "the mirror tools (and a refused write) made API calls: {:?}",
        t.emu.stats()
    );
    let tools = r["tools"].as_array().unwrap();
    let names: Vec<&str> = tools.iter().map(|t| t["name"].as_str().unwrap()).collect();
    for m in [
        "find_organization",
        "find_person",
        "find_opportunity",
        "get_record",
        "search_list",
        "record_timeline",
        "list_runs",
        "review_queue",
        "mirror_catalog",
    ] {
        assert!(names.contains(&m), "no mirror tool {m}: {names:?}");
    }
    let live = tools.len() - 9;
    assert!(live >= 54, "{live} live tools: {names:?}");
    for tool in tools {
        let s = &tool["inputSchema"];
        assert_eq!(s["type"], "object", "{}", tool["name"]);
        assert!(s["properties"].is_object(), "{}: {s}", tool["name"]);
        assert!(
            tool["description"].as_str().unwrap_or_default().len() > 40,
            "{} has no useful description",
            tool["name"]
        );
    }
    let found = &r["calls"][0];
    assert!(!found["isError"].as_bool().unwrap(), "{found}");
    let first = &found["structured"]["results"][0];
    assert_eq!(first["id"], ORG_ID, "{found}");
    assert_eq!(first["name"], ORG_NAME);
    assert!(first["score"].as_f64().unwrap() >= 0.8, "{first}");
    assert!(
        found["structured"]["mirror"]["last_pull_at"].is_string(),
        "{found}"
    );
    let rec = &r["calls"][1];
    assert!(!rec["isError"].as_bool().unwrap(), "{rec}");
    let deal_flow = rec["structured"]["lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["list"] == "Deal Flow")
        .unwrap_or_else(|| panic!("not on Deal Flow: {rec}"));
    let hc = deal_flow["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "Headcount")
        .unwrap_or_else(|| panic!("no Headcount: {deal_flow}"));
    assert_eq!(hc["value"].as_f64(), before[0], "{hc}");
    let refused = &r["calls"][2];
    assert!(refused["isError"].as_bool().unwrap(), "{refused}");
    assert!(
        refused["text"].as_str().unwrap().contains("--allow-writes"),
        "{refused}"
    );

    // With --allow-writes: the plan (no call), then the same call with its token.
    let calls_before = calls_made(&t);
    let set = json!({ "kind": "organization", "id": ORG_ID, "list": "Deal Flow",
        "values": [{ "field": "Headcount", "value": new_value.to_string() }] });
    let mut with_token = set.clone();
    with_token["plan_token"] = json!("$plan_token");
    let r = session(
        &py,
        dir.path(),
        &t,
        &db,
        &["--allow-writes"],
        json!([{ "tool": "set_fields", "args": set }]),
    )
    .await;
    let plan = &r["calls"][0];
    assert!(!plan["isError"].as_bool().unwrap(), "{plan}");
    assert_eq!(plan["structured"]["status"], "planned", "{plan}");
    assert_eq!(calls_made(&t), calls_before, "planning made API calls");
    assert_eq!(headcount(&db).await, before, "planning wrote");
    let change = &plan["structured"]["plan"]["changes"][0];
    assert_eq!(change["field"], "Headcount", "{plan}");
    assert_eq!(plan["structured"]["plan"]["api_calls"], 1, "{plan}");

    let r = session(
        &py,
        dir.path(),
        &t,
        &db,
        &["--allow-writes"],
        json!([
            { "tool": "set_fields", "args": set },
            { "tool": "set_fields", "args": with_token },
        ]),
    )
    .await;
    let applied = &r["calls"][1];
    assert!(!applied["isError"].as_bool().unwrap(), "{applied}");
    assert_eq!(applied["structured"]["status"], "applied", "{applied}");
    assert_eq!(
        applied["structured"]["result"]["journal"]["origin"], "affsync-test-client 1.0",
        "{applied}"
    );
    assert_eq!(
        headcount(&db).await,
        vec![Some(new_value)],
        "the mirror learned the value"
    );

    // A fresh pull into a new mirror reads the value from Affinity.
    let fresh = format!("sqlite://{}", dir.path().join("fresh.db").display());
    pull(&t, &fresh).await;
    assert_eq!(headcount(&fresh).await, vec![Some(new_value)]);

    // The write is journaled in a run of kind `mcp`, with the client as its origin.
    let store = Store::open(&db).await.unwrap();
    let runs = store.runs_with_status(None, 50).await.unwrap();
    let mcp = runs.iter().find(|r| r.kind == "mcp").expect("an mcp run");
    assert_eq!(mcp.status, "ok", "{mcp:?}");
}

#[tokio::test]
#[cfg_attr(
    not(has_mcp_python),
    ignore = "needs python3 with venv and PyPI (or AFFSYNC_TEST_MCP_VENV), and AFFSYNC_TEST_OFFLINE unset"
)]
async fn a_python_mcp_client_finds_a_record_over_streamable_http_with_no_api_call() {
    use tokio::io::AsyncBufReadExt;
    let (dir, py, t, db) = client_and_demo().await;
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["mcp", "--http", "0", "--database-url", &db])
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", t.emu.base_url())
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("affsync mcp --http runs");
    // It says where it listens, once listening.
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(std::time::Duration::from_secs(60), lines.next_line())
        .await
        .expect("affsync mcp --http said where it listens")
        .unwrap()
        .unwrap_or_default();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_string();
    let calls_before = calls_made(&t);
    let r = run_client(
        &py,
        dir.path(),
        &t,
        json!({ "url": url, "token": null, "calls": [
            { "tool": "find_organization", "args": { "query": MISSPELT } },
            { "tool": "set_fields", "args": { "kind": "organization", "id": ORG_ID, "list": "Deal Flow",
                "values": [{ "field": "Headcount", "value": "5" }] } },
        ]}),
    )
    .await;
    assert_eq!(calls_made(&t), calls_before, "{:?}", t.emu.stats());
    assert!(r["tools"].as_array().unwrap().len() > 54, "{}", r["tools"]);
    let found = &r["calls"][0];
    assert_eq!(found["isError"], false, "{found}");
    assert_eq!(found["structured"]["results"][0]["id"], ORG_ID, "{found}");
    // Started without --allow-writes, the write is refused over HTTP too.
    assert_eq!(r["calls"][1]["isError"], true, "{}", r["calls"][1]);
    server.kill().await.unwrap();
}
