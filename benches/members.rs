//! Members writing in parallel, each within their own key's budget: `log-activity` of a feed of
//! SMS split between two members' lines, written (a) all with one member's key, (b) each half
//! with its member's key. The emulator limits each key to `AFFSYNC_BENCH_PER_WINDOW` (60)
//! requests a window of `AFFSYNC_BENCH_WINDOW_S` (2) seconds: Affinity's per-minute limit with
//! the minute shortened, so that the run takes seconds instead of minutes (the ratio is the
//! same: the budget, not the machine, is the bottleneck). `AFFSYNC_BENCH_EVENTS` (360) sets the
//! feed's length. Prints one Markdown table row per scenario for BENCHMARKS.md, with each key's
//! requests and 429s.
//!
//! Run with `cargo bench --bench members`.

use std::time::{Duration, Instant};

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::{Emulator, EmulatorConfig, Seed};
use affsync::activity_log::{load_settings, log_activity, Options};
use affsync::jobs::config::JobsConfig;
use affsync::pull::{pull, PullOptions, Quiet};
use affsync::store::Store;
use serde_json::{json, Value};

const ADMIN_KEY: &str = "admin-key";
const MIA_KEY: &str = "mia-key";
const NOAH_KEY: &str = "noah-key";

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The test tenant, a `Phone` field holding Grace's number, and two users with their keys.
fn seed() -> Seed {
    let mut v: Value = serde_json::from_str(include_str!(
        "../crates/affinity-crm-emulator/fixtures/test-tenant.json"
    ))
    .unwrap();
    v["fields"].as_array_mut().unwrap().push(json!(
        {"id": 523, "name": "Phone", "entity_type": 0, "value_type": 6, "allows_multiple": true}
    ));
    v["field_values"]
        .as_array_mut()
        .unwrap()
        .push(json!({"id": 771, "field_id": 523, "entity_id": 102, "value": "+1 (555) 123-4567"}));
    v["users"] = json!([
        {"id": 9001, "first_name": "Mia", "last_name": "Chen", "email": "mia@fund.vc", "api_key": MIA_KEY},
        {"id": 9002, "first_name": "Noah", "last_name": "Park", "email": "noah@fund.vc", "api_key": NOAH_KEY},
    ]);
    serde_json::from_value(v).unwrap()
}

/// `events` SMS, alternating between the two lines.
fn feed(events: u64) -> String {
    (0..events)
        .map(|i| {
            let line = if i % 2 == 0 { "+15550001" } else { "+15550002" };
            format!(
                "{{\"id\":\"sms-{i}\",\"kind\":\"sms\",\"direction\":\"inbound\",\"at\":\"2026-11-20T10:{:02}:{:02}Z\",\"line\":\"{line}\",\"contact\":\"+15551234567\",\"text\":\"message {i}\"}}\n",
                (i / 60) % 60,
                i % 60
            )
        })
        .collect()
}

/// One scenario's figures.
struct Figures {
    seconds: f64,
    /// (member, requests, 429s) for each member's key, as its client counted them.
    keys: Vec<(String, u64, u64)>,
    written: usize,
}

async fn scenario(members_toml: &str, events: u64, per_window: u64, window: Duration) -> Figures {
    let emu = Emulator::start(
        EmulatorConfig {
            api_key: Some(ADMIN_KEY.into()),
            rate_limit_per_minute: per_window,
            rate_window: window,
            ..EmulatorConfig::default()
        },
        seed(),
    )
    .await
    .expect("emulator starts");
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("affsync.toml"),
        format!(
            "[affinity]\nbase_url = \"{}\"\n\n{members_toml}",
            emu.base_url()
        ),
    )
    .unwrap();
    std::fs::write(d.join("activity.toml"), "phone_field = \"Phone\"\n").unwrap();
    std::fs::write(d.join("feed.jsonl"), feed(events)).unwrap();
    std::fs::write(d.join("mia.key"), MIA_KEY).unwrap();
    std::fs::write(d.join("noah.key"), NOAH_KEY).unwrap();
    let config = JobsConfig::load(&d.join("affsync.toml")).unwrap();
    let store = Store::open(&format!("sqlite://{}", d.join("m.db").display()))
        .await
        .unwrap();
    let admin = Client::new(
        Config::new(ApiKey::new(ADMIN_KEY), KeySource::Env("BENCH".into()))
            .with_base_url(&emu.base_url())
            .unwrap(),
    )
    .unwrap();
    let opts = PullOptions {
        lists: vec!["LPs".into()],
        ..PullOptions::default()
    };
    pull(&admin, &store, &opts, &Quiet).await.unwrap();
    let settings = load_settings(&d.join("activity.toml")).unwrap();
    // The pull spent part of the admin's window, not the members'; let every window reset.
    tokio::time::sleep(window).await;
    let t = Instant::now();
    let members = affsync::members::connect(&config.members, &admin, &store)
        .await
        .unwrap();
    let report = log_activity(
        &store,
        &admin,
        &d.join("feed.jsonl"),
        &settings,
        &members,
        &Options::default(),
    )
    .await
    .unwrap();
    let seconds = t.elapsed().as_secs_f64();
    assert_eq!(report.counts.failed, 0, "{:?}", report.failures);
    Figures {
        seconds,
        keys: members
            .iter()
            .map(|m| {
                let s = m.client.as_ref().unwrap().stats();
                (m.member.name.clone(), s.calls, s.rate_limited)
            })
            .collect(),
        written: report.counts.notes_created,
    }
}

fn main() {
    let events = env_num("AFFSYNC_BENCH_EVENTS", 360);
    let per_window = env_num("AFFSYNC_BENCH_PER_WINDOW", 60);
    let window = Duration::from_secs(env_num("AFFSYNC_BENCH_WINDOW_S", 2));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let one = "[[members]]\nname = \"Mia Chen\"\nkey_file = \"mia.key\"\nlines = [\"+15550001\", \"+15550002\"]\n";
    let two = "[[members]]\nname = \"Mia Chen\"\nkey_file = \"mia.key\"\nlines = [\"+15550001\"]\n\n\
               [[members]]\nname = \"Noah Park\"\nkey_file = \"noah.key\"\nlines = [\"+15550002\"]\n";
    println!(
        "{events} SMS, each key limited to {per_window} requests a {} s window",
        window.as_secs()
    );
    println!("| keys | events written | time | per key: requests (429s) | speed-up |");
    println!("|---|---|---|---|---|");
    let mut base = None;
    for (name, toml) in [("one member's key", one), ("two members' keys", two)] {
        let f = rt.block_on(scenario(toml, events, per_window, window));
        let keys = f
            .keys
            .iter()
            .map(|(m, n, r)| format!("{m} {n} ({r})"))
            .collect::<Vec<_>>()
            .join(", ");
        let b = *base.get_or_insert(f.seconds);
        println!(
            "| {name} | {} | {:.1} s | {keys} | {:.2}× |",
            f.written,
            f.seconds,
            b / f.seconds
        );
    }
}
