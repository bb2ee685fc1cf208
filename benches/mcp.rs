//! Benchmark of `affsync mcp`'s mirror tools: p50 and p95 of in-process tool calls (the path
//! an MCP request takes after decoding: `McpServer::call`), on the demo tenant and on a
//! generated list of `AFFSYNC_BENCH_RECORDS` organizations (default 100,000), each pulled into a
//! SQLite mirror from the emulator first. The matcher's index is built before timing (once per
//! mirror change, as the server does).
//!
//! Run with `cargo bench --bench mcp`.

use std::time::{Duration, Instant};

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::generate::{big_list_seed, BIG_LIST_ID};
use affinity_crm_emulator::{demo_seed, Emulator, EmulatorConfig, Seed};
use affsync::mcp::{McpServer, Options};
use affsync::pull::{pull, PullOptions, Quiet};
use affsync::store::Store;
use affsync_core::matcher::Kind;
use serde_json::{json, Value};

const KEY: &str = "bench-key";
const ROUNDS: usize = 200;

async fn mirror(
    seed: Seed,
    lists: Vec<String>,
    all_lists: bool,
    dir: &std::path::Path,
) -> McpServer {
    let emu = Emulator::start(
        EmulatorConfig {
            api_key: Some(KEY.into()),
            rate_limit_per_minute: 1_000_000,
            ..Default::default()
        },
        seed,
    )
    .await
    .unwrap();
    let client = Client::new(
        Config::new(ApiKey::new(KEY), KeySource::Code)
            .with_base_url(&emu.base_url())
            .unwrap(),
    )
    .unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.join("b.db").display()))
        .await
        .unwrap();
    let opts = PullOptions {
        lists,
        all_lists,
        concurrency: 4,
    };
    pull(&client, &store, &opts, &Quiet).await.unwrap();
    // No client: a mirror tool that called Affinity would fail instead of being timed.
    McpServer::new(
        store,
        Err(affsync::mcp::ToolError::new(
            "no client in the benchmark",
            "",
        )),
        Options::default(),
    )
}

/// p50 and p95 of `ROUNDS` calls of each (tool, args).
async fn bench(label: &str, server: &McpServer, calls: &[(&str, Value)]) {
    server.snapshot().await.unwrap();
    for (tool, args) in calls {
        let mut times = Vec::with_capacity(ROUNDS);
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let out = server.call(tool, args.clone(), "bench").await;
            times.push(t.elapsed());
            if let Err(e) = out {
                panic!("{tool} {args}: {e}");
            }
        }
        times.sort();
        let p = |q: f64| times[((ROUNDS as f64 * q) as usize).min(ROUNDS - 1)];
        println!(
            "{label:<28} {tool:<18} p50 {:>8.2} ms  p95 {:>8.2} ms",
            ms(p(0.5)),
            ms(p(0.95))
        );
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Tool calls on one organization of the mirror (a misspelt name: its first letters dropped
/// and one doubled).
async fn calls_for(server: &McpServer, list: &str) -> Vec<(&'static str, Value)> {
    let snap = server.snapshot().await.unwrap();
    let orgs = &snap.index_of(Kind::Organization).cands;
    let c = &orgs[orgs.len() / 2];
    let mut misspelt: String = c.name.chars().collect();
    if let Some(i) = misspelt.char_indices().nth(3).map(|(i, _)| i) {
        misspelt.remove(i);
    }
    vec![
        ("find_organization", json!({ "query": misspelt })),
        (
            "get_record",
            json!({ "kind": "organization", "id": c.id.parse::<i64>().unwrap() }),
        ),
        ("search_list", json!({ "list": list, "limit": 25 })),
        (
            "record_timeline",
            json!({ "kind": "organization", "id": c.id.parse::<i64>().unwrap() }),
        ),
        ("list_runs", json!({ "limit": 20 })),
        ("mirror_catalog", json!({})),
    ]
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("AFFSYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    std::fs::create_dir_all(&demo).unwrap();
    let server = mirror(demo_seed(), vec![], true, &demo).await;
    let calls = calls_for(&server, "Deal Flow").await;
    bench("demo tenant", &server, &calls).await;

    let big = dir.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    let server = mirror(
        big_list_seed(n, 5),
        vec![BIG_LIST_ID.to_string()],
        false,
        &big,
    )
    .await;
    let list = BIG_LIST_ID.to_string();
    let calls = calls_for(&server, &list).await;
    bench(&format!("{n} organizations"), &server, &calls).await;
}
