//! One settings resolver for every command: `affsync.toml` found from the working folder
//! upward, flags over the environment over the file over the defaults, and `config show`
//! saying where each setting came from.

use std::path::Path;

use serde_json::Value;

use crate::common::{TestEmu, KEY};

const SOURCE: &str = "source_id,company_name,website
A1,Analytical Engines,https://www.analytical.io/about
N1,Brand New Robotics,brandnewrobotics.io
";

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "../companies.csv"
id = "source_id"

[match]
search_term = "website"
[[match.compare]]
source = "company_name"
affinity = "name"

[push]
mode = "update_only"
"#;

/// `affsync ARGS` in `dir` with no setting in the environment and no flag.
async fn bare(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("AFFINITY_API_KEY")
        .env_remove("AFFINITY_BASE_URL")
        .env_remove("DATABASE_URL")
        .env_remove("AFFSYNC_CONFIG")
        .env("RUST_LOG", "warn")
        .kill_on_drop(true)
        .output()
        .await
        .expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder holding `affsync.toml` (a relative mirror path, the emulator's address, a key
/// file), a mapping and its source.
fn project(t: &TestEmu) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("mappings")).unwrap();
    std::fs::create_dir_all(d.join("secrets")).unwrap();
    std::fs::create_dir_all(d.join("deep/er")).unwrap();
    std::fs::write(d.join("secrets/key"), format!("{KEY}\n")).unwrap();
    std::fs::write(d.join("companies.csv"), SOURCE).unwrap();
    std::fs::write(d.join("mappings/m.toml"), MAPPING).unwrap();
    std::fs::write(
        d.join("affsync.toml"),
        format!(
            "database_url = \"sqlite://mirror.db\"\n\n[affinity]\nbase_url = \"{}\"\nkey_file = \"secrets/key\"\n\n[[jobs]]\nname = \"nightly\"\nschedule = \"0 0 2 * * *\"\nsteps = [ {{ pull = [\"Deal Flow\"] }}, {{ push = \"mappings/m.toml\" }} ]\n",
            t.emu.base_url()
        ),
    )
    .unwrap();
    dir
}

#[tokio::test]
async fn every_command_reads_affsync_toml_with_no_flag_or_variable() {
    let t = TestEmu::start().await;
    let dir = project(&t);
    let d = dir.path();

    let (code, out, err) = bare(d, &["whoami", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["base_url"], format!("{}/", t.emu.base_url()));
    let served = t.served().await;
    assert!(served > 0);

    let (code, _, err) = bare(d, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    // (Under AFFSYNC_TEST_SQLITE_AS_POSTGRES the file's mirror is a database, not this file.)
    if std::env::var_os("AFFSYNC_TEST_SQLITE_AS_POSTGRES").is_none() {
        assert!(d.join("mirror.db").is_file(), "the file's mirror is used");
    }
    assert!(!d.join("affsync.db").exists(), "no default mirror is made");

    let (code, out, err) = bare(d, &["check", "mappings/m.toml"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("ok"), "{out}");

    let (code, out, err) = bare(d, &["match", "mappings/m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 2, "{v}");
    assert!(v["matched"].as_u64().unwrap() >= 1, "{v}");

    let before = t.served().await;
    let (code, out, err) = bare(d, &["push", "mappings/m.toml", "--json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    assert!(t.served().await > before, "the push reached the emulator");

    let (code, out, err) = bare(d, &["review", "list", "--status", "all", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    // A1 matched by its website and was updated; N1, unmatched, waits in the queue, kept under
    // the mapping's path from the settings file's folder.
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["records"][0]["source_id"], "N1", "{v}");
    assert_eq!(v["records"][0]["mapping"], "mappings/m.toml", "{v}");

    let (code, out, err) = bare(d, &["status", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["job"], "nightly", "{v}");

    // From a folder below, the same file is found: the same mirror, the same mapping key.
    let (code, out, err) = bare(
        &d.join("deep/er"),
        &["review", "list", "--status", "all", "--json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["total"], 1, "{v}");
    assert_eq!(v["records"][0]["mapping"], "mappings/m.toml", "{v}");
    assert!(!d.join("deep/er/affsync.db").exists());

    let (code, out, err) = bare(d, &["config", "show", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    let file = d.join("affsync.toml").canonicalize().unwrap();
    let by = |name: &str| -> Value {
        v["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["setting"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {v}"))
    };
    for name in [
        "database_url",
        "affinity.base_url",
        "affinity.key",
        "mapping_root",
    ] {
        let s = by(name);
        assert_eq!(s["source"], "file", "{name}: {s}");
        assert_eq!(
            Path::new(s["origin"].as_str().unwrap())
                .canonicalize()
                .unwrap(),
            file,
            "{name}: {s}"
        );
    }
    assert_eq!(by("config")["source"], "found");
    assert!(
        by("database_url")["value"]
            .as_str()
            .unwrap()
            .ends_with("/mirror.db"),
        "{v}"
    );
    assert!(!out.contains(KEY), "the key never shows: {out}");
}

#[tokio::test]
async fn flags_win_over_the_environment_which_wins_over_the_file() {
    let t = TestEmu::start().await;
    let dir = project(&t);
    let d = dir.path();
    let show = |extra_env: Vec<(&'static str, String)>, args: Vec<String>| {
        let d = d.to_path_buf();
        async move {
            let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"));
            cmd.args(["config", "show", "--json"])
                .args(&args)
                .current_dir(&d)
                .env_remove("AFFINITY_API_KEY")
                .env_remove("AFFINITY_BASE_URL")
                .env_remove("DATABASE_URL")
                .env_remove("AFFSYNC_CONFIG");
            for (k, v) in extra_env {
                cmd.env(k, v);
            }
            let out = cmd.output().await.unwrap();
            assert!(out.status.success(), "{out:?}");
            let v: Value = serde_json::from_slice(&out.stdout).unwrap();
            let db = v["settings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["setting"] == "database_url")
                .cloned()
                .unwrap();
            (
                db["value"].as_str().unwrap().to_string(),
                db["source"].as_str().unwrap().to_string(),
            )
        }
    };
    let (_, src) = show(vec![], vec![]).await;
    assert_eq!(src, "file");
    let (val, src) = show(vec![("DATABASE_URL", "sqlite://env.db".into())], vec![]).await;
    assert_eq!((val.as_str(), src.as_str()), ("sqlite://env.db", "env"));
    let (val, src) = show(
        vec![("DATABASE_URL", "sqlite://env.db".into())],
        vec!["--database-url".into(), "sqlite://flag.db".into()],
    )
    .await;
    assert_eq!((val.as_str(), src.as_str()), ("sqlite://flag.db", "flag"));

    // A settings file named but missing is bad input, with a hint.
    let (code, _, err) = bare(d, &["check", "mappings/m.toml", "--config", "nope.toml"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("nope.toml") && err.contains("hint:"), "{err}");
}

/// Issue 16's second finding: the same job run from another folder (`--config` from the parent,
/// or from a folder below) stored its mapping under another key, and the reviewers' verdicts
/// came back open. A mapping's identity is now its path from the settings file's folder.
#[tokio::test]
async fn the_same_job_run_from_two_folders_keeps_every_verdict() {
    let t = TestEmu::start().await;
    let dir = project(&t);
    let d = dir.path();
    let parent = d.parent().unwrap();
    let config = d.join("affsync.toml");
    let config = config.to_str().unwrap();
    let name = d.file_name().unwrap().to_str().unwrap();
    let from_parent = format!("{name}/affsync.toml");

    let (code, out, err) = bare(d, &["run", "nightly", "--json"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let (code, out, err) = bare(
        d,
        &[
            "review",
            "decide",
            "N1",
            "--mapping",
            "mappings/m.toml",
            "--reject",
        ],
    )
    .await;
    assert_eq!(code, 0, "{out}{err}");

    let listed = |cwd: std::path::PathBuf, config: String| async move {
        let (code, out, err) = bare(
            &cwd,
            &[
                "review", "list", "--status", "all", "--json", "--config", &config,
            ],
        )
        .await;
        assert_eq!(code, 0, "{err}");
        let v: Value = serde_json::from_str(&out).unwrap();
        v
    };
    let before = listed(d.to_path_buf(), config.to_string()).await;
    assert_eq!(before["total"], 1, "{before}");
    let verdict = before["records"][0]["verdict"].clone();
    assert!(!verdict.is_null(), "the verdict is recorded: {before}");

    // From the parent folder, naming the file relative to it, and from a folder below.
    for (cwd, cfg) in [
        (parent.to_path_buf(), from_parent.clone()),
        (d.join("deep/er"), config.to_string()),
    ] {
        let (code, out, err) = bare(&cwd, &["run", "nightly", "--json", "--config", &cfg]).await;
        assert_eq!(code, 0, "{}: {out}{err}", cwd.display());
        let after = listed(cwd.clone(), cfg).await;
        assert_eq!(after["total"], 1, "{}: {after}", cwd.display());
        assert_eq!(after["records"][0]["mapping"], "mappings/m.toml", "{after}");
        assert_eq!(
            after["records"][0]["verdict"],
            verdict,
            "{}: {after}",
            cwd.display()
        );
    }
    assert!(!parent.join(name).join("work").exists());
}
