//! Benchmark of `affsync push`: records of a generated list, each with 10 changed values, pushed
//! to the emulator under Affinity's 900-requests-a-minute limit. Reports the write calls per
//! updated record and the request rate against the limit.
//!
//! Run with `cargo bench --bench push`; `AFFSYNC_BENCH_RECORDS` (default 5,000) sets the size.

use std::fmt::Write as _;
use std::time::Instant;

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::generate::{big_list_seed, BIG_LIST_ID};
use affinity_crm_emulator::{Emulator, EmulatorConfig};
use affsync::pull::{pull, PullOptions, Quiet};
use affsync::push::{push, PushOptions};
use affsync::store::Store;
use affsync_core::matcher::Kind;

const KEY: &str = "bench-key";

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "enrichment.csv"
id = "source_id"

[match]
search_term = "website"

[push]
mode = "update_only"

[[fields]]
source = "site"
affinity = "Website"
type = "url"

[[fields]]
source = "linkedin"
affinity = "LinkedIn URL"
type = "url"

[[fields]]
source = "headcount"
affinity = "Headcount"
type = "number"

[[fields]]
source = "founded"
affinity = "Founded"
type = "date"

[[fields]]
source = "hq"
affinity = "Headquarters"
type = "location"

[[fields]]
source = "industry"
affinity = "Industry"
type = "dropdown"

[[fields]]
source = "description"
affinity = "Description"
type = "text"

[[fields]]
source = "round"
affinity = "Last Round Size"
type = "number"

[[fields]]
source = "sectors"
affinity = "Sectors"
type = "dropdown"

[[fields]]
source = "investors"
affinity = "Investors"
type = "organization"
"#;

#[tokio::main]
async fn main() {
    let n: usize = std::env::var("AFFSYNC_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5_000);
    let emu = Emulator::start(
        EmulatorConfig {
            api_key: Some(KEY.into()),
            // The default per-minute limit (900) applies: a real key's budget.
            ..Default::default()
        },
        big_list_seed(n, 3),
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

    // The enrichment file: every organization of the list, 10 values changed.
    let catalog: Vec<_> = store
        .fields_with_gone()
        .await
        .unwrap()
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let options = |name: &str| -> Vec<String> {
        catalog
            .iter()
            .find(|f| f.name == name)
            .map(|f| f.options.iter().map(|o| o.text.clone()).collect())
            .unwrap_or_default()
    };
    let (industries, sectors) = (options("Industry"), options("Sectors"));
    let orgs = store.candidates(Kind::Organization, &[]).await.unwrap();
    let orgs: Vec<_> = orgs.into_iter().filter(|o| !o.domains.is_empty()).collect();
    let mut csv = String::from(
        "source_id,website,site,linkedin,headcount,founded,hq,industry,description,round,sectors,investors\n",
    );
    for (i, o) in orgs.iter().enumerate() {
        let other = &orgs[(i + 1) % orgs.len()];
        writeln!(
            csv,
            "S{i},https://{d}/,https://www.{d}/home,https://linkedin.com/company/bench-{i},{},{},\"Lisbon, Portugal\",{},Pushed by the benchmark {i},{},{},{}",
            700_000 + i,
            format_args!("19{:02}-0{}-1{}", 50 + i % 40, 1 + i % 9, i % 10),
            industries[(i + 1) % industries.len()],
            1_000_000 + i,
            sectors[i % sectors.len()],
            other.domains[0],
            d = o.domains[0],
        )
        .unwrap();
    }
    std::fs::write(dir.path().join("enrichment.csv"), csv).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let mapping = affsync::io::load_mapping(&dir.path().join("m.toml")).unwrap();

    let before_served: u64 = emu.stats().values().sum();
    let before = client.stats();
    let t = Instant::now();
    let report = push(
        &store,
        &client,
        &mapping,
        &PushOptions::default(),
        &affsync::push::apply::Quiet,
    )
    .await
    .unwrap();
    let secs = t.elapsed().as_secs_f64();
    let after = client.stats();
    let served: u64 = emu.stats().values().sum::<u64>() - before_served;
    let c = &report.counts;
    let per_min = served as f64 / secs * 60.0;
    println!("| records | updated | fields written | write calls | write calls / updated record | calls served | time | calls / minute (limit 900) | 429 answers | paced waits |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} | {} | {} | {:.3} | {} | {:.1} s | {:.0} ({:.1}% of the limit) | {} | {} |",
        c.records,
        c.updated,
        c.fields_written,
        c.write_calls,
        c.write_calls as f64 / c.updated.max(1) as f64,
        served,
        secs,
        per_min,
        per_min / 900.0 * 100.0,
        after.rate_limited - before.rate_limited,
        after.paced - before.paced,
    );
    assert_eq!(c.failed, 0, "{:?}", report.failures().first());
    emu.stop().await;
}
