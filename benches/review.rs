//! Benchmark of the review page: a queue of 10,000 records (each with three candidates from a
//! pulled list of as many organizations) and the time to build a page of it, as the server does
//! for `GET /`: the queue query, the candidates' records from the mirror, the HTML.
//!
//! Run with `cargo bench --bench review`; `AFFSYNC_BENCH_RECORDS` (default 10,000) sets the size.

use affsync_core::model::RunId;
use std::time::{Duration, Instant};

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::generate::{big_list_seed, BIG_LIST_ID};
use affinity_crm_emulator::{Emulator, EmulatorConfig};
use affsync::pull::{pull, PullOptions, Quiet};
use affsync::review::pages::{render_queue, PageCtx};
use affsync::review::queue::{load_page, Cache, PageQuery, PER_PAGE};
use affsync::store::decisions::DecisionRow;
use affsync::store::review::{QueueFilter, QueueStatus};
use affsync::store::Store;
use affsync_core::matcher::Kind;
use serde_json::json;

const KEY: &str = "bench-key";
const ROUNDS: usize = 30;

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "enrichment.csv"
id = "source_id"

[match]
search_term = "website"
[[match.compare]]
source = "company_name"
affinity = "name"
[[match.compare]]
source = "industry"
affinity = "Industry"
"#;

/// Median and slowest of `ROUNDS` timings of `f`, and the size of what it built.
async fn time<F, Fut>(mut f: F) -> (Duration, Duration, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let mut times = Vec::with_capacity(ROUNDS);
    let mut size = 0;
    for _ in 0..ROUNDS {
        let t = Instant::now();
        size = f().await.len();
        times.push(t.elapsed());
    }
    times.sort();
    (times[ROUNDS / 2], times[ROUNDS - 1], size)
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("AFFSYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let emu = Emulator::start(
        EmulatorConfig {
            api_key: Some(KEY.into()),
            rate_limit_per_minute: 1_000_000,
            ..Default::default()
        },
        big_list_seed(n, 5),
    )
    .await
    .unwrap();
    let client = Client::new(
        Config::new(ApiKey::new(KEY), KeySource::Code)
            .with_base_url(&emu.base_url())
            .unwrap(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    let opts = PullOptions {
        lists: vec![BIG_LIST_ID.to_string()],
        all_lists: false,
        concurrency: 4,
    };
    pull(&client, &store, &opts, &Quiet).await.unwrap();
    let path = dir.path().join("m.toml");
    std::fs::write(&path, MAPPING).unwrap();
    let key = path.display().to_string();

    // The queue: n records in review (70%) or unmatched (30%) over 10 runs, three candidates each.
    let orgs = store.candidates(Kind::Organization, &[]).await.unwrap();
    let rows: Vec<DecisionRow> = (0..n)
        .map(|i| {
            let c = |k: usize| &orgs[(i + k * 7) % orgs.len()];
            let score = 0.5 + (i % 400) as f64 / 1000.0;
            let review = i % 10 < 7;
            DecisionRow {
                mapping: key.clone(),
                source_id: format!("S{i:05}"),
                status: if review { "review" } else { "unmatched" }.into(),
                affinity_id: review.then(|| c(0).id.clone()),
                score: Some(score),
                method: Some("fuzzy".into()),
                reason: format!("name {score:.2} similar to `{}`", c(0).name),
                candidates: Some(json!([0, 1, 2].map(|k| json!({
                    "affinity_id": c(k).id, "score": score - k as f64 * 0.05
                })))),
                record: Some(json!({
                    "website": format!("https://s{i}.example/"),
                    "company_name": format!("{} <Holdings> & Co", c(0).name),
                    "industry": "Software",
                })),
                run_id: Some(RunId(1 + (i % 10) as i64)),
                decided_at: "2026-11-21T10:00:00.000Z".into(),
            }
        })
        .collect();
    store.save_decisions(&rows).await.unwrap();
    let ctx = PageCtx {
        csrf: "0123456789abcdef0123456789abcdef".into(),
        reviewer: Some("bench".into()),
        ..PageCtx::default()
    };
    let cache = Cache::default();
    let at = |filter: &QueueFilter, page: i64| PageQuery {
        filter: filter.clone(),
        page,
        ..PageQuery::default()
    };

    let first = QueueFilter::default();
    let filtered = QueueFilter {
        mapping: Some(key.clone()),
        status: QueueStatus::Review,
        min_score: Some(0.6),
        max_score: Some(0.8),
    };
    let total_first = load_page(&store, &at(&first, 1), PER_PAGE, &cache)
        .await
        .unwrap()
        .total;
    let total_filtered = load_page(&store, &at(&filtered, 3), PER_PAGE, &cache)
        .await
        .unwrap()
        .total;
    let (s, c, k) = (&store, &ctx, &cache);
    let (m1, w1, b1) = time(|| {
        let q = at(&first, 1);
        async move { render_queue(&load_page(s, &q, PER_PAGE, k).await.unwrap(), c) }
    })
    .await;
    let (m2, w2, b2) = time(|| {
        let q = at(&filtered, 3);
        async move { render_queue(&load_page(s, &q, PER_PAGE, k).await.unwrap(), c) }
    })
    .await;
    let (m3, w3, b3) = time(|| {
        let q = at(&first, 200);
        async move { render_queue(&load_page(s, &q, PER_PAGE, k).await.unwrap(), c) }
    })
    .await;
    println!("queue of {n} records, {} organizations in the mirror; {PER_PAGE} records a page; median and slowest of {ROUNDS}", orgs.len());
    println!("| page | records selected | median | slowest | HTML |");
    println!("|---|---|---|---|---|");
    for (name, sel, m, w, b) in [
        ("first page, no filter", total_first, m1, w1, b1),
        (
            "page 3 of mapping + `review` + score 0.6–0.8",
            total_filtered,
            m2,
            w2,
            b2,
        ),
        ("page 200 (the last), no filter", total_first, m3, w3, b3),
    ] {
        println!(
            "| {name} | {sel} | {:.1} ms | {:.1} ms | {} KiB |",
            m.as_secs_f64() * 1000.0,
            w.as_secs_f64() * 1000.0,
            b / 1024
        );
    }
}
