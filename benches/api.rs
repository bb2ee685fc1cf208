//! Benchmarks of the API layer: the emulator's throughput on loopback, and the client's
//! overhead per request over a raw HTTP call. Run with `cargo bench --bench api`; the figures
//! go to BENCHMARKS.md.
//!
//! A plain harness (no criterion): each scenario runs a fixed number of requests after a
//! warm-up and prints one Markdown table row, so the output can be pasted as it is.

use std::time::{Duration, Instant};

use affinity_crm::{ApiKey, Client, Config, KeySource, Request};
use affinity_crm_emulator::{demo_seed, Emulator, EmulatorConfig};
use futures::stream::{self, StreamExt};

const KEY: &str = "bench-key";

fn config() -> EmulatorConfig {
    EmulatorConfig {
        api_key: Some(KEY.into()),
        // The bench measures the server, not the limiter's refusals.
        rate_limit_per_minute: u64::MAX / 2,
        ..Default::default()
    }
}

/// `requests` GETs of `path`, `concurrency` at a time, over raw reqwest; gives requests/s.
async fn throughput(base: &str, path: &str, requests: usize, concurrency: usize) -> f64 {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()
        .unwrap();
    let url = format!("{base}{path}");
    let one = |http: reqwest::Client, url: String| async move {
        let r = http.get(&url).bearer_auth(KEY).send().await.unwrap();
        assert!(r.status().is_success(), "{url}: {}", r.status());
        r.bytes().await.unwrap().len()
    };
    // Warm-up: open the connections.
    stream::iter(0..concurrency * 4)
        .map(|_| one(http.clone(), url.clone()))
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    let t = Instant::now();
    stream::iter(0..requests)
        .map(|_| one(http.clone(), url.clone()))
        .buffer_unordered(concurrency)
        .collect::<Vec<_>>()
        .await;
    requests as f64 / t.elapsed().as_secs_f64()
}

/// The client's cost per request over a bare reqwest call to the same route, one request at a
/// time: rounds alternate between the two so that drift on the machine hits both alike, and
/// the median round is reported.
async fn client_overhead(base: &str) {
    const ROUNDS: usize = 7;
    const PER_ROUND: u32 = 2_000;
    let path = "/v2/auth/whoami";
    let http = reqwest::Client::new();
    let url = format!("{base}{path}");
    let client = Client::new(
        Config::new(ApiKey::new(KEY), KeySource::Code)
            .with_base_url(base)
            .unwrap(),
    )
    .unwrap();
    let mut raw = vec![];
    let mut sent = vec![];
    let mut typed = vec![];
    for _ in 0..ROUNDS {
        let t = Instant::now();
        for _ in 0..PER_ROUND {
            let r = http.get(&url).bearer_auth(KEY).send().await.unwrap();
            let body = r.bytes().await.unwrap();
            let _: serde_json::Value = serde_json::from_slice(&body).unwrap();
        }
        raw.push(t.elapsed() / PER_ROUND);
        let t = Instant::now();
        for _ in 0..PER_ROUND {
            let r = client.send(Request::get(path)).await.unwrap();
            let _: serde_json::Value = r.json("whoami").unwrap();
        }
        sent.push(t.elapsed() / PER_ROUND);
        let t = Instant::now();
        for _ in 0..PER_ROUND {
            client.whoami_v2().await.unwrap();
        }
        typed.push(t.elapsed() / PER_ROUND);
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (raw, sent, typed) = (median(&mut raw), median(&mut sent), median(&mut typed));
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let note = format!("median of {ROUNDS} rounds of {PER_ROUND} sequential GET {path}");
    row(
        "raw reqwest GET + JSON parse",
        format!("{:.1} µs/request", us(raw)),
        &note,
    );
    row(
        "Client::send + JSON parse",
        format!("{:.1} µs/request", us(sent)),
        &note,
    );
    row(
        "Client::whoami_v2 (typed)",
        format!("{:.1} µs/request", us(typed)),
        &note,
    );
    row(
        "client overhead over raw",
        format!("{:+.1} µs/request", us(sent) - us(raw)),
        "send(): auth, rate-limit headers, pacing check, error classification, counters",
    );
}

fn row(name: &str, value: String, note: &str) {
    println!("| {name} | {value} | {note} |");
}

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let wants = |name: &str| filter.as_deref().is_none_or(|f| name.contains(f));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let emu = Emulator::start(config(), demo_seed()).await.unwrap();
        let base = emu.base_url();
        let deal_flow = {
            let lists: serde_json::Value = reqwest::Client::new()
                .get(format!("{base}/v2/lists"))
                .bearer_auth(KEY)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            lists["data"]
                .as_array()
                .unwrap()
                .iter()
                .find(|l| l["name"] == "Deal Flow")
                .map(|l| l["id"].as_i64().unwrap())
                .expect("the demo tenant has a Deal Flow list")
        };
        println!("| benchmark | figure | notes |");
        println!("|---|---|---|");
        if wants("emulator") {
            for (name, path, n, c) in [
                ("emulator: GET /v2/auth/whoami", "/v2/auth/whoami".to_string(), 20_000, 32),
                (
                    "emulator: GET /v2/lists/{id}/list-entries (100 entries, all fields)",
                    format!("/v2/lists/{deal_flow}/list-entries?limit=100&fieldTypes=list&fieldTypes=global&fieldTypes=enriched"),
                    2_000,
                    8,
                ),
                (
                    "emulator: GET /lists/{id}/list-entries (v1, unpaged)",
                    format!("/lists/{deal_flow}/list-entries"),
                    2_000,
                    8,
                ),
            ] {
                let rps = throughput(&base, &path, n, c).await;
                row(
                    name,
                    format!("{rps:.0} requests/s"),
                    &format!("{n} requests, {c} concurrent, loopback"),
                );
            }
        }
        if wants("client") {
            client_overhead(&base).await;
        }
        emu.stop().await;
    });
}
