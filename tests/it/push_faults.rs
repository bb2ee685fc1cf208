//! `affsync push` when things go wrong: killed with SIGKILL midway and run again, and against
//! an emulator that answers 10% of requests with a fault. Either way, the tenant ends as one
//! clean push leaves it: no organization or list entry twice, every value present.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use affinity_crm_emulator::EmulatorConfig;
use affsync::store::Store;

use crate::common::{test_seed, TestEmu, KEY};

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "new.csv"
id = "source_id"

[match]
search_term = "website"

[push]
mode = "create_update"
add_to_list = "Deal Flow"

[[fields]]
source = "company_name"
affinity = "name"
type = "text"

[[fields]]
source = "headcount"
affinity = "Headcount"
type = "number"

[[fields]]
source = "funded"
affinity = "Last Funding Date"
type = "date"
"#;

/// `n` companies the tenant does not have.
fn source(n: usize) -> String {
    let words = [
        "Quartz", "Nimbus", "Vertex", "Lumen", "Cobalt", "Juniper", "Falcon", "Harbor",
    ];
    let mut s = String::from("source_id,company_name,website,headcount,funded\n");
    for i in 0..n {
        s.push_str(&format!(
            "C{i},{} {} Robotics {i},https://www.newco{i}.io/,{},2024-0{}-1{}\n",
            words[i % words.len()],
            words[(i / words.len()) % words.len()],
            100 + i,
            1 + i % 9,
            i % 10
        ));
    }
    s
}

/// Deal Flow as Affinity holds it, read by a fresh pull: name → (entries, domain, headcount,
/// funding day).
async fn deal_flow(t: &TestEmu, dir: &Path) -> BTreeMap<String, (usize, String, String, String)> {
    let db = format!(
        "sqlite://{}",
        dir.join(format!("read-{}.db", rand_suffix())).display()
    );
    let (code, _, err) = t
        .run(dir, &db, &["pull", "--list", "Deal Flow", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    let store = Store::open(&db).await.unwrap();
    let list = store.find_list("Deal Flow").await.unwrap().unwrap();
    let view = store.list_view(&list).await.unwrap();
    let field = |name: &str| {
        view.fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .id
            .clone()
    };
    let (hc, fd) = (field("Headcount"), field("Last Funding Date"));
    let mut out: BTreeMap<String, (usize, String, String, String)> = BTreeMap::new();
    for e in &view.entries {
        let name = e.entity_name.clone().unwrap_or_default();
        let slot = out.entry(name).or_default();
        slot.0 += 1;
        slot.1 = e.domain.clone().unwrap_or_default();
        if let Some(v) = e.values.get(&hc) {
            slot.2 = format!("{:?}", v[0].number);
        }
        if let Some(v) = e.values.get(&fd) {
            slot.3 = v[0]
                .at
                .clone()
                .unwrap_or_default()
                .chars()
                .take(10)
                .collect();
        }
    }
    out
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

/// One clean push of `n` new companies: the state every other way must reach.
async fn clean_state(n: usize) -> BTreeMap<String, (usize, String, String, String)> {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new.csv"), source(n)).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = t
        .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = t.run(dir.path(), &db, &["push", "m.toml", "--quiet"]).await;
    assert_eq!(code, 0, "{err}");
    deal_flow(&t, dir.path()).await
}

#[tokio::test]
async fn a_push_killed_midway_and_run_again_creates_nothing_twice() {
    let n = 120;
    let slow = TestEmu::with(
        EmulatorConfig {
            latency: Duration::from_millis(25),
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new.csv"), source(n)).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let path = dir.path().join("m.db");
    let db = format!("sqlite://{}", path.display());
    let (code, _, err) = slow
        .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");

    let mut child = slow
        .affsync(dir.path(), &db, &["push", "m.toml", "--quiet"])
        .spawn()
        .unwrap();
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(30)).await;
        let created = slow.route_count("POST /organizations").await;
        if created >= 20 {
            assert!(
                created < n as u64,
                "the push finished before it could be killed"
            );
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "nothing created"
        );
    }
    child.start_kill().unwrap();
    assert!(!child.wait().await.unwrap().success());

    let (code, out, err) = slow
        .run(dir.path(), &db, &["push", "m.toml", "--json"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    // Every company exists once in the tenant (a request cut off by the kill may be counted
    // by the emulator without having created anything, so the tenant itself is counted).
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let path = match &token {
            Some(t) => format!("/organizations?term=newco&page_size=500&page_token={t}"),
            None => "/organizations?term=newco&page_size=500".to_string(),
        };
        let page = slow.get(&path, 200).await;
        for o in page["organizations"].as_array().unwrap() {
            *names
                .entry(o["name"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        match page["next_page_token"].as_str() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    assert_eq!(names.len(), n, "{names:?}");
    assert!(names.values().all(|&c| c == 1), "created twice: {names:?}");
    let got = deal_flow(&slow, dir.path()).await;
    let want = clean_state(n).await;
    for (name, (entries, ..)) in got.iter().filter(|(n, _)| n.contains("Robotics")) {
        assert_eq!(*entries, 1, "{name} is on the list {entries} times");
    }
    assert_eq!(got, want, "the tenant differs from one clean push");
}

#[tokio::test]
async fn a_push_against_faults_ends_as_a_clean_push() {
    let n = 40;
    let faulty = TestEmu::with(
        EmulatorConfig {
            fault_rate: 0.1,
            fault_seed: 11,
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new.csv"), source(n)).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = faulty
        .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    // A write Affinity may not have done is not repeated blindly: the record fails (exit 4),
    // and the next run checks Affinity before doing it again.
    let mut codes = Vec::new();
    for _ in 0..8 {
        let (code, out, err) = faulty
            .run(dir.path(), &db, &["push", "m.toml", "--quiet"])
            .await;
        assert!(code == 0 || code == 4, "{out}\n{err}");
        codes.push(code);
        if code == 0 {
            break;
        }
    }
    assert_eq!(codes.last(), Some(&0), "never clean: {codes:?}");
    let got = deal_flow(&faulty, dir.path()).await;
    assert_eq!(got, clean_state(n).await, "after {} runs", codes.len());
}

#[tokio::test]
async fn a_push_beyond_the_monthly_quota_does_not_start_and_one_that_runs_out_stops_cleanly() {
    let n = 40;
    // How many calls a pull takes, to size the quota.
    let probe = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    let (code, _, err) = probe
        .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    let pull_calls = probe.served().await;

    // Quota for the pull, the 40 term searches, the quota reading and 10 writes: the push
    // (about 120 writes) does not start.
    let tight = TestEmu::with(
        EmulatorConfig {
            monthly_quota: Some(pull_calls + n as u64 + 1 + 10),
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new.csv"), source(n)).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = tight
        .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = tight
        .run(dir.path(), &db, &["push", "m.toml", "--quiet"])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("monthly quota"), "{err}");
    assert_eq!(tight.route_count("POST /organizations").await, 0);

    // Enough quota at the start, spent by someone else midway: the push stops cleanly.
    let shared = TestEmu::with(
        EmulatorConfig {
            monthly_quota: Some(pull_calls + n as u64 + 1 + 3 * n as u64 + 20),
            latency: Duration::from_millis(20),
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("new.csv"), source(n)).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = shared
        .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    let child = shared
        .affsync(dir.path(), &db, &["push", "m.toml", "--json", "--quiet"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while shared.route_count("POST /organizations").await < 5 {
        tokio::time::sleep(Duration::from_millis(10)).await;
        assert!(started.elapsed() < Duration::from_secs(60), "no create");
    }
    // Another program on the same account spends what is left of the month.
    let burners: Vec<_> = (0..16)
        .map(|_| {
            let http = shared.http.clone();
            let url = shared.url("/lists");
            tokio::spawn(async move {
                loop {
                    let r = http.get(&url).bearer_auth(KEY).send().await.unwrap();
                    if r.status() == 429 {
                        break;
                    }
                }
            })
        })
        .collect();
    for b in burners {
        b.await.unwrap();
    }
    let out = child.wait_with_output().await.unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(4), "{stdout}\n{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert!(v["stopped"].as_str().unwrap().contains("429"), "{v}");
    assert!(v["not_attempted"].as_u64().unwrap() > 0, "{v}");
    assert!(v["created"].as_u64().unwrap() >= 5, "{v}");
    // Each record the push touched is whole or untouched: every created one is on the list.
    let store = Store::open(&db).await.unwrap();
    let list = store.find_list("Deal Flow").await.unwrap().unwrap();
    let view = store.list_view(&list).await.unwrap();
    let on_list = view
        .entries
        .iter()
        .filter(|e| {
            e.entity_name
                .as_deref()
                .is_some_and(|n| n.contains("Robotics"))
        })
        .count();
    assert!(
        on_list as u64 >= v["added_to_list"].as_u64().unwrap(),
        "{v}"
    );
}

/// A push the monthly quota cannot cover does not start, and spends nothing on term searches
/// first: with the quota spent it says so (not a raw 429); with less quota than its 40 term
/// searches it asks none of them.
#[tokio::test]
async fn a_push_the_quota_cannot_cover_spends_nothing_on_searches() {
    let n = 40;
    let probe = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("p.db").display());
    let (code, _, err) = probe
        .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    let pull_calls = probe.served().await;
    for extra in [0, 5] {
        let t = TestEmu::with(
            EmulatorConfig {
                monthly_quota: Some(pull_calls + extra),
                ..Default::default()
            },
            test_seed(),
        )
        .await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("new.csv"), source(n)).unwrap();
        std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
        let db = format!("sqlite://{}", dir.path().join("m.db").display());
        let (code, _, err) = t
            .run(dir.path(), &db, &["pull", "--all-lists", "--quiet"])
            .await;
        assert_eq!(code, 0, "{err}");
        let (code, _, err) = t.run(dir.path(), &db, &["push", "m.toml", "--quiet"]).await;
        assert_eq!(code, 2, "{extra}: {err}");
        assert!(
            err.contains("does not start") && err.contains("monthly quota") && !err.contains("429"),
            "{err}"
        );
        assert_eq!(
            t.route_count("GET /organizations").await,
            0,
            "no term search was spent"
        );
    }
}
