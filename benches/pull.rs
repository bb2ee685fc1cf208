//! Benchmarks of `affsync pull`: a generated 10,000-entry list with 20 fields pulled from the
//! emulator into SQLite, without latency and with 100 ms per request, counting the calls the
//! emulator served; and the store's SQLite ingest rate on its own.
//!
//! Run with `cargo bench --bench pull [-- pull|ingest]`; each scenario prints one Markdown table
//! row for BENCHMARKS.md. `AFFSYNC_BENCH_ENTRIES` changes the list size.

use affsync_core::model::{
    EntityRow, EntryRow, Kind, OrganizationRow, OwnedValue, Owner, ValueItem,
};
use std::time::{Duration, Instant};

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::generate::{big_list_seed, BIG_LIST_ID};
use affinity_crm_emulator::{Emulator, EmulatorConfig};
use affsync::pull::{pull, PullOptions, Quiet};
use affsync::store::{PageData, PageRecord, Store};

const KEY: &str = "bench-key";

fn entries() -> usize {
    std::env::var("AFFSYNC_BENCH_ENTRIES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

async fn pull_once(latency_ms: u64) {
    let n = entries();
    let seed = big_list_seed(n, 1);
    let emu = Emulator::start(
        EmulatorConfig {
            api_key: Some(KEY.into()),
            latency: Duration::from_millis(latency_ms),
            // The default per-minute limit (900) applies: a real key's budget.
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
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("b.db").display()))
        .await
        .unwrap();
    let opts = PullOptions {
        lists: vec![BIG_LIST_ID.to_string()],
        all_lists: false,
        concurrency: 4,
    };
    let t = Instant::now();
    let s = pull(&client, &store, &opts, &Quiet).await.unwrap();
    let secs = t.elapsed().as_secs_f64();
    let served: u64 = emu.stats().values().sum();
    let l = &s.lists[0];
    println!(
        "| pull, {} entries × 20 fields, latency {} ms | {} | {} ({} allowed) | {} | {:.2} s | {:.0} entries/s |",
        l.entries_seen,
        latency_ms,
        l.field_values,
        served,
        (n.div_ceil(100) as f64 * 1.1).floor(),
        client.stats().paced,
        secs,
        l.entries_seen as f64 / secs
    );
    // A second pull: nothing changed, nothing written.
    let t = Instant::now();
    let s2 = pull(&client, &store, &opts, &Quiet).await.unwrap();
    let l2 = &s2.lists[0];
    println!(
        "| second pull, nothing changed, latency {} ms | {} | {} | – | {:.2} s | {} new, {} changed, {} values written |",
        latency_ms,
        l2.field_values,
        s2.api_calls,
        t.elapsed().as_secs_f64(),
        l2.new,
        l2.changed,
        l2.field_values_written
    );
    emu.stop().await;
}

/// Pages of 100 entries with 25 values each, as a pull stores them.
fn page(p: usize) -> PageData {
    let records = (0..100)
        .map(|i| {
            let n = (p * 100 + i) as i64;
            let entity = 2_000_000 + n;
            let values = (0..25)
                .map(|f| OwnedValue {
                    owner: if f < 12 {
                        Owner::Entry(n)
                    } else {
                        Owner::Entity(Kind::Organization, entity)
                    },
                    field_id: format!("field-{}", 5000 + f),
                    items: vec![ValueItem {
                        value_type: if f % 3 == 0 { "number" } else { "text" }.into(),
                        text: (f % 3 != 0).then(|| format!("value {n} of field {f}")),
                        number: (f % 3 == 0).then_some(n as f64 * 1.5),
                        ..Default::default()
                    }],
                })
                .collect();
            PageRecord {
                entry: EntryRow {
                    id: n,
                    list_id: BIG_LIST_ID,
                    entity_kind: Kind::Organization,
                    entity_id: entity,
                    created_at: Some("2026-01-01T00:00:00.000Z".into()),
                    creator_id: Some(1),
                },
                entity: EntityRow::Organization(OrganizationRow {
                    id: entity,
                    name: format!("Company {n}"),
                    domain: Some(format!("c{n}.example")),
                    domains: vec![format!("c{n}.example")],
                    is_global: false,
                }),
                values,
            }
        })
        .collect();
    PageData { records }
}

async fn ingest() {
    let pages: Vec<PageData> = (0..200).map(page).collect();
    let values: usize = pages
        .iter()
        .flat_map(|p| &p.records)
        .map(|r| r.values.len())
        .sum();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&format!("sqlite://{}", dir.path().join("i.db").display()))
        .await
        .unwrap();
    let run = store
        .start_run(
            affsync_core::journal::RunKind::Pull,
            None,
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let t = Instant::now();
    for p in &pages {
        store.apply_page(run, p, chrono::Utc::now()).await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "| SQLite ingest, first pull: 20,000 entries, {values} field values, a transaction per 100 entries | {:.2} s | {:.0} values/s |",
        secs,
        values as f64 / secs
    );
    let t = Instant::now();
    for p in &pages {
        store.apply_page(run, p, chrono::Utc::now()).await.unwrap();
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "| SQLite compare, unchanged pages (read, diff, no write) | {:.2} s | {:.0} values/s |",
        secs,
        values as f64 / secs
    );
}

fn main() {
    let which = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .unwrap_or_default();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        if which.is_empty() || which == "pull" {
            println!("| scenario | field values | calls served | paced waits | time | rate |");
            println!("|---|---|---|---|---|---|");
            pull_once(0).await;
            pull_once(100).await;
        }
        if which.is_empty() || which == "ingest" {
            println!("| scenario | time | rate |");
            println!("|---|---|---|");
            ingest().await;
        }
    });
}
