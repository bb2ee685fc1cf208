//! What every integration test shares: an emulator on 127.0.0.1:0 over the test tenant
//! (`fixtures/test-tenant.json`), raw HTTP helpers, and the check that every v2 answer the
//! emulator gave during the test matches Affinity's OpenAPI spec.

use affinity_crm_emulator::{Emulator, EmulatorConfig, Seed};
use serde_json::Value;
use std::sync::{Arc, Mutex};

pub const KEY: &str = "test-key";

pub fn test_seed() -> Seed {
    serde_json::from_str(include_str!(
        "../../crates/affinity-crm-emulator/fixtures/test-tenant.json"
    ))
    .unwrap()
}

/// A running emulator; when dropped at the end of a passing test, it checks every v2 answer
/// it gave against the spec and fails the test on any mismatch.
pub struct TestEmu {
    pub emu: Emulator,
    pub http: reqwest::Client,
}

impl TestEmu {
    /// The test tenant, the key `KEY` required, answers recorded.
    pub async fn start() -> TestEmu {
        TestEmu::with(EmulatorConfig::default(), test_seed()).await
    }

    pub async fn with(mut config: EmulatorConfig, seed: Seed) -> TestEmu {
        config.record = true;
        if config.api_key.is_none() {
            config.api_key = Some(KEY.to_string());
        }
        let emu = Emulator::start(config, seed)
            .await
            .expect("emulator starts");
        TestEmu {
            emu,
            http: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.emu.base_url(), path)
    }

    /// A request with the right auth for the path's version (Bearer for v2, Basic for v1).
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, self.url(path));
        if path.starts_with("/v2/") {
            rb.bearer_auth(KEY)
        } else {
            rb.basic_auth("", Some(KEY))
        }
    }

    /// GET, expecting `status`; gives the JSON body (`Null` when there is none).
    pub async fn get(&self, path: &str, status: u16) -> Value {
        send(self.req(reqwest::Method::GET, path), status).await
    }

    pub async fn send_json(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Value,
        status: u16,
    ) -> Value {
        send(self.req(method, path).json(&body), status).await
    }
}

pub async fn send(rb: reqwest::RequestBuilder, status: u16) -> Value {
    let resp = rb.send().await.expect("request sent");
    let got = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    assert_eq!(got, status, "unexpected status; body: {text}");
    if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }
}

impl Drop for TestEmu {
    fn drop(&mut self) {
        if std::thread::panicking() {
            return;
        }
        let problems = crate::openapi::check_recorded(&self.emu.recorded());
        assert!(
            problems.is_empty(),
            "v2 answers that do not match the OpenAPI spec:\n{}",
            problems.join("\n")
        );
    }
}

impl TestEmu {
    /// `affsync ARGS --database-url DB`, in `dir`, against this emulator: not yet run.
    pub fn affsync(
        &self,
        dir: &std::path::Path,
        db: &str,
        args: &[&str],
    ) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"));
        cmd.args(args)
            .arg("--database-url")
            .arg(db)
            .current_dir(dir)
            .env("AFFINITY_API_KEY", KEY)
            .env("AFFINITY_BASE_URL", self.emu.base_url())
            .env("RUST_LOG", "warn")
            .kill_on_drop(true);
        cmd
    }

    /// Runs `affsync ARGS --database-url DB` in `dir`: exit code, stdout, stderr.
    pub async fn run(
        &self,
        dir: &std::path::Path,
        db: &str,
        args: &[&str],
    ) -> (i32, String, String) {
        self.run_env(dir, db, args, &[]).await
    }

    /// [`TestEmu::run`] with more environment variables.
    pub async fn run_env(
        &self,
        dir: &std::path::Path,
        db: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> (i32, String, String) {
        let out = self
            .affsync(dir, db, args)
            .envs(env.iter().copied())
            .output()
            .await
            .expect("affsync runs");
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    /// The emulator's request counts so far: `{"total": N, "routes": {"GET /lists": n, ...}}`.
    pub async fn stats(&self) -> Value {
        self.http
            .get(self.url("/_emulator/stats"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// Requests served so far.
    pub async fn served(&self) -> u64 {
        self.stats().await["total"].as_u64().unwrap()
    }

    /// Write requests (anything but GET) served so far.
    pub async fn writes(&self) -> u64 {
        self.stats().await["routes"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !k.starts_with("GET "))
            .map(|(_, v)| v.as_u64().unwrap())
            .sum()
    }

    /// Requests received on one route (`POST /organizations`), cut off ones included.
    pub async fn route_count(&self, route: &str) -> u64 {
        self.stats().await["routes"][route].as_u64().unwrap_or(0)
    }
}

/// A webhook on 127.0.0.1 that keeps what it is posted.
pub async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post({
            let got = got.clone();
            move |axum::Json(v): axum::Json<Value>| async move {
                got.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), got)
}

/// Asserts that the mirror's journal has no run left `running` (a run killed or stopped is
/// closed, or closed by the next).
pub async fn assert_no_run_running(store: &affsync::store::Store) {
    let running: Vec<_> = store
        .runs(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.status == "running")
        .collect();
    assert!(running.is_empty(), "runs left running: {running:?}");
}
