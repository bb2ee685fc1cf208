//! The build script of the `affsync` package (`build = ...` in `Cargo.toml`): it only looks at
//! what the integration tests (`tests/it/`) may use beyond the Rust toolchain, and sets a
//! `has_*` cfg for each one it finds. A test that needs one carries
//! `#[cfg_attr(not(has_…), ignore = "why")]`, so that without it libtest counts the test as
//! ignored, with the reason, never as passed; with it the test runs, and fails if the resource
//! turns out unusable. The library and the binary do not read these cfgs.
//!
//! | cfg | found when |
//! |---|---|
//! | `has_postgres` | `AFFSYNC_TEST_POSTGRES_URL` is set |
//! | `has_shared_spec` | `../shared/data/affinity/openapi-v2-2024-01-01.json` (or under `$AFFSYNC_SHARED`) is a file |
//! | `has_shared_v1_docs` | Affinity's three v1 doc examples are in `../shared/data/affinity/v1-fixtures/` |
//! | `has_chromium` | `chromium` or `chromium-browser` is on `PATH` |
//! | `has_webdriver` | `chromium` (or `chromium-browser`) and `chromedriver` are on `PATH` |
//! | `has_python3` | `python3` is on `PATH` |
//! | `has_mcp_python` | `AFFSYNC_TEST_MCP_VENV` names a virtualenv, or `python3` has `venv` and `AFFSYNC_TEST_OFFLINE` is not set (the MCP client is installed from PyPI) |
//!
//! `AFFSYNC_REQUIRE_BROWSER` turns `has_chromium` and `has_webdriver` on whatever is found,
//! so that a missing browser fails those tests. The variables are watched (a change rebuilds),
//! and so are the files of `../shared` that were found. Programs are not (a Python shim or a
//! browser is rewritten by every install or upgrade, which would rebuild the package each time):
//! one that disappears makes its tests fail, saying so. A program installed or a `../shared` put
//! beside the checkout after the first build is seen on the next change to this file
//! (`touch tests/resources/build.rs`), as cargo has no way to watch for a file to appear.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const CFGS: &[&str] = &[
    "has_postgres",
    "has_shared_spec",
    "has_shared_v1_docs",
    "has_chromium",
    "has_webdriver",
    "has_python3",
    "has_mcp_python",
];

/// Affinity's v1 doc examples that `tests/it` compares against (not open licensed).
const V1_DOC_EXAMPLES: &[&str] = &[
    "organizations_search.json",
    "field_values_get_all.json",
    "fields_all.json",
];

fn main() {
    println!("cargo::rerun-if-changed=tests/resources/build.rs");
    for cfg in CFGS {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
    }
    let watch_env = |name: &str| {
        println!("cargo::rerun-if-env-changed={name}");
        env::var_os(name).filter(|v| !v.is_empty())
    };
    // Watched so that a file found now and gone later rebuilds with its cfg off.
    let found = |p: &Path| {
        let is = p.is_file();
        if is {
            println!("cargo::rerun-if-changed={}", p.display());
        }
        is
    };
    let on = |cfg: &str| println!("cargo::rustc-cfg={cfg}");

    if watch_env("AFFSYNC_TEST_POSTGRES_URL").is_some() {
        on("has_postgres");
    }

    let manifest = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let shared = watch_env("AFFSYNC_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../shared"))
        .join("data/affinity");
    if found(&shared.join("openapi-v2-2024-01-01.json")) {
        on("has_shared_spec");
    }
    let v1 = shared.join("v1-fixtures");
    // Every one looked at (no short cut), so that each found is watched.
    let v1_found: Vec<bool> = V1_DOC_EXAMPLES.iter().map(|f| found(&v1.join(f))).collect();
    if v1_found.iter().all(|f| *f) {
        on("has_shared_v1_docs");
    }

    let path = env::var_os("PATH").unwrap_or_default();
    let on_path = |names: &[&str]| -> Option<PathBuf> {
        env::split_paths(&path)
            .flat_map(|d| names.iter().map(move |n| d.join(n)))
            .find(|p| p.is_file())
    };
    let require_browser = watch_env("AFFSYNC_REQUIRE_BROWSER").is_some();
    let chromium = on_path(&["chromium", "chromium-browser"]).is_some();
    let driver = on_path(&["chromedriver"]).is_some();
    if chromium || require_browser {
        on("has_chromium");
    }
    if (chromium && driver) || require_browser {
        on("has_webdriver");
    }

    let python = on_path(&["python3"]);
    if python.is_some() {
        on("has_python3");
    }
    let offline = watch_env("AFFSYNC_TEST_OFFLINE").is_some();
    let mcp = match watch_env("AFFSYNC_TEST_MCP_VENV") {
        // Given: the test uses it and fails if it is not a virtualenv with `mcp`.
        Some(_) => true,
        None => !offline && python.as_deref().is_some_and(has_venv),
    };
    if mcp {
        on("has_mcp_python");
    }
}

/// Whether this Python can make a virtualenv with pip in it (Debian splits `venv` and
/// `ensurepip` out of `python3` into `python3-venv`).
fn has_venv(python: &Path) -> bool {
    Command::new(python)
        .args(["-c", "import venv, ensurepip"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
