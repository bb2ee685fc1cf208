//! Bad mirrors and bad keys are refused at once with their cause: a file that is not a SQLite
//! database, an in-memory URL, a server that refuses connections, a key with a line break in
//! it; a key file others can read is used with a warning.

use std::path::Path;
use std::time::Duration;

use crate::common::TestEmu;

/// Runs affsync; a command that hangs (the old pool timeout) fails the test instead.
async fn affsync(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"));
    c.args(args)
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .env_remove("AFFINITY_API_KEY")
        .env_remove("DATABASE_URL");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(30), c.output())
        .await
        .expect("affsync answers instead of hanging")
        .expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_file_that_is_not_a_sqlite_database_is_refused_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("text.db"),
        "these are notes, not a database\n",
    )
    .unwrap();
    let (code, err) = affsync(
        dir.path(),
        &["activity", "--database-url", "sqlite://text.db"],
        &[],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("`text.db` is not a SQLite database") && err.contains("hint:"),
        "{err}"
    );
}

#[tokio::test]
async fn an_in_memory_mirror_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for url in ["sqlite://", "sqlite::memory:"] {
        let (code, err) = affsync(dir.path(), &["activity", "--database-url", url], &[]).await;
        assert_eq!(code, 2, "{url}: {err}");
        assert!(err.contains("in memory") && err.contains("hint:"), "{err}");
    }
}

#[tokio::test]
async fn a_postgres_that_refuses_connections_is_named_as_such_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, err) = affsync(
        dir.path(),
        &[
            "activity",
            "--database-url",
            "postgres://affsync@127.0.0.1:1/mirror",
        ],
        &[],
    )
    .await;
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("connection refused") && err.contains("127.0.0.1:1") && err.contains("hint:"),
        "{err}"
    );
    assert_eq!(
        err.matches("error").count(),
        1,
        "one error, not a retry log: {err}"
    );
}

#[tokio::test]
async fn a_key_with_a_line_break_is_refused_before_any_call() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let before = t.served().await;
    let (code, err) = affsync(
        dir.path(),
        &["whoami"],
        &[
            ("AFFINITY_API_KEY", "first-half\nsecond-half"),
            ("AFFINITY_BASE_URL", &t.emu.base_url()),
        ],
    )
    .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("line break") && err.contains("hint:"), "{err}");
    assert_eq!(t.served().await, before, "not a single call");
}

#[cfg(unix)]
#[tokio::test]
async fn a_key_file_others_can_read_is_used_with_a_warning() {
    use std::os::unix::fs::PermissionsExt;
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key");
    std::fs::write(&key, format!("{}\n", crate::common::KEY)).unwrap();
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let (code, err) = affsync(
        dir.path(),
        &["whoami", "--api-key-file", key.to_str().unwrap()],
        &[("AFFINITY_BASE_URL", &t.emu.base_url())],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("chmod 600"), "a warning: {err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let (code, err) = affsync(
        dir.path(),
        &["whoami", "--api-key-file", key.to_str().unwrap()],
        &[("AFFINITY_BASE_URL", &t.emu.base_url())],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains("chmod"), "no warning: {err}");
}
