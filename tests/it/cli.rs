//! The `affsync` binary as a person or a scheduler runs it: output, exit codes, messages.

use crate::common::*;
use serde_json::Value;

async fn affsync(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"));
    cmd.args(args)
        .env_remove("AFFINITY_API_KEY")
        .env_remove("AFFINITY_BASE_URL")
        .env("RUST_LOG", "warn");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn demo_runs_against_the_demo_tenant() {
    let (code, out, err) = affsync(&["demo"], &[]).await;
    assert_eq!(code, 0, "stderr: {err}");
    assert!(out.contains("Northwind Ventures"), "{out}");
    assert!(out.contains("per minute"), "{out}");
    assert!(out.contains("== pull"), "{out}");
    assert!(out.contains("Deal Flow"), "{out}");
    // The second pull finds nothing new: its total row reads 0 new, 0 changed, 0 removed.
    let totals: Vec<&str> = out.lines().filter(|l| l.starts_with("total")).collect();
    assert_eq!(totals.len(), 2, "{out}");
    let cells: Vec<&str> = totals[1].split_whitespace().collect();
    assert_eq!(&cells[2..5], &["0", "0", "0"], "{out}");
}

#[tokio::test]
async fn whoami_and_rate_limit_print_json_for_programs() {
    let t = TestEmu::start().await;
    let base = t.emu.base_url();
    let env = [
        ("AFFINITY_API_KEY", KEY),
        ("AFFINITY_BASE_URL", base.as_str()),
    ];
    let (code, out, err) = affsync(&["whoami", "--json"], &env).await;
    assert_eq!(code, 0, "stderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["tenant"]["subdomain"], "testventures");
    assert_eq!(v["user"]["email"], "owner@fund.vc");

    let (code, out, err) = affsync(&["rate-limit", "--json"], &env).await;
    assert_eq!(code, 0, "stderr: {err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["per_minute"]["limit"], 900);
    assert_eq!(v["monthly"]["unlimited"], true);
    assert_eq!(v["monthly"]["limit"], Value::Null);

    let (code, out, _) = affsync(&["rate-limit"], &env).await;
    assert_eq!(code, 0);
    assert!(out.contains("unlimited"), "{out}");
}

#[tokio::test]
async fn a_wrong_key_names_its_source_but_never_prints_it() {
    let t = TestEmu::start().await;
    let base = t.emu.base_url();
    let secret = "wrong-key-5f3a9c";
    let env = [
        ("AFFINITY_API_KEY", secret),
        ("AFFINITY_BASE_URL", base.as_str()),
    ];
    let (code, out, err) = affsync(&["whoami"], &env).await;
    assert_eq!(code, 1, "stdout: {out}");
    assert!(err.contains("AFFINITY_API_KEY"), "{err}");
    assert!(!err.contains(secret) && !out.contains(secret), "{err}");

    let dir = std::env::temp_dir().join(format!("affsync-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("key");
    std::fs::write(&file, format!("{secret}\n")).unwrap();
    let (code, _, err) = affsync(
        &["whoami", "--api-key-file", file.to_str().unwrap()],
        &[("AFFINITY_BASE_URL", base.as_str())],
    )
    .await;
    assert_eq!(code, 1);
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    assert!(!err.contains(secret), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn bad_input_exits_2_with_a_hint() {
    let (code, _, err) = affsync(&["whoami"], &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("AFFINITY_API_KEY") && err.contains("hint:"),
        "{err}"
    );

    let (code, _, err) = affsync(&["emulator", "--fault-rate", "1.5"], &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`--fault-rate`"), "{err}");

    let (code, _, err) = affsync(&["emulator", "--seed", "/nonexistent/seed.json"], &[]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("/nonexistent/seed.json"), "{err}");
}

#[tokio::test]
async fn help_lists_the_commands_that_work() {
    let (code, out, _) = affsync(&["--help"], &[]).await;
    assert_eq!(code, 0);
    for cmd in [
        "demo",
        "whoami",
        "rate-limit",
        "pull",
        "export",
        "link",
        "match",
        "emulator",
    ] {
        assert!(out.contains(cmd), "{cmd} missing from --help:\n{out}");
    }
}
