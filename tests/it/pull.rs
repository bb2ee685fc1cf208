//! `affsync pull` and the mirror, against the emulator, on SQLite and (when CI gives a server)
//! Postgres: what a first pull stores, that a second one writes nothing, that changes,
//! removals and merges arrive, that faults and a SIGKILL leave the same mirror as a clean pull,
//! the call budget, and exports.

use affsync_core::journal::Step;
use std::time::Duration;

use affinity_crm::{ApiKey, Client, Config, KeySource};
use affinity_crm_emulator::generate::{big_list_seed, BIG_LIST_ID};
use affinity_crm_emulator::state::entity_type;
use affinity_crm_emulator::{demo_seed, EmulatorConfig};
use affsync::pull::{pull, PullOptions, PullSummary, Quiet};
use affsync::store::Store;

use crate::common::{TestEmu, KEY};
use crate::db::{fingerprint, postgres, sqlite, TestDb};

fn client(t: &TestEmu) -> Client {
    let mut config = Config::new(ApiKey::new(KEY), KeySource::Code)
        .with_base_url(&t.emu.base_url())
        .unwrap();
    // Faults are retried at once: the test is about the mirror, not the waiting.
    config.retry.backoff.base = Duration::from_millis(1);
    config.retry.backoff.cap = Duration::from_millis(5);
    config.retry.max_retries = 12;
    Client::new(config).unwrap()
}

async fn pull_all(t: &TestEmu, store: &Store) -> PullSummary {
    pull(&client(t), store, &PullOptions::default(), &Quiet)
        .await
        .expect("the pull succeeds")
}

fn list<'a>(s: &'a PullSummary, name: &str) -> &'a affsync::pull::ListSummary {
    s.lists
        .iter()
        .find(|l| l.list == name)
        .expect("list pulled")
}

#[tokio::test]
async fn a_first_pull_mirrors_every_list_entry_and_value() {
    first_pull(sqlite().await).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs PostgreSQL: AFFSYNC_TEST_POSTGRES_URL is not set"
)]
async fn a_first_pull_mirrors_every_list_entry_and_value_on_postgres() {
    first_pull(postgres().await).await;
}

/// What a first pull stores, on one backend.
async fn first_pull(db: TestDb) {
    let t = TestEmu::start().await;
    let s = pull_all(&t, &db.store).await;
    let deal = list(&s, "Deal Flow");
    assert_eq!(
        (deal.entries_seen, deal.new, deal.changed, deal.removed),
        (4, 4, 0, 0),
        "{}",
        db.backend
    );
    assert_eq!(deal.entities, 3, "601 and 603 hold the same organization");
    assert_eq!(list(&s, "LPs").new, 2);
    assert_eq!(list(&s, "Pipeline").new, 1);

    let view = db
        .store
        .list_view(&db.store.find_list("deal flow").await.unwrap().unwrap())
        .await
        .unwrap();
    let e601 = view.entries.iter().find(|e| e.entry.id == 601).unwrap();
    assert_eq!(e601.entity_name.as_deref(), Some("Analytical Engines"));
    assert_eq!(e601.domain.as_deref(), Some("analytical.io"));
    let v = |id: &str| e601.values.get(id).cloned().unwrap_or_default();
    assert_eq!(v("field-501")[0].text.as_deref(), Some("Diligence"));
    assert_eq!(
        v("field-501")[0].ref_id,
        Some(2),
        "a ranked dropdown keeps its option id"
    );
    assert_eq!(
        v("field-503")[0].at.as_deref(),
        Some("2024-04-01T07:00:00.000Z")
    );
    assert_eq!(v("field-505")[0].number, Some(42.0));
    let sectors: Vec<_> = v("field-506")
        .iter()
        .map(|i| i.text.clone().unwrap())
        .collect();
    assert_eq!(
        sectors,
        vec!["Fintech", "AI"],
        "multi-values in Affinity's order"
    );
    assert_eq!(v("field-507")[0].ref_id, Some(202));
    assert_eq!(
        v("field-511")[0].text.as_deref(),
        Some("Software"),
        "a global value"
    );
    // 603 is the same organization: it shares the global values, not 601's list values.
    let e603 = view.entries.iter().find(|e| e.entry.id == 603).unwrap();
    assert_eq!(e603.values.get("field-511"), e601.values.get("field-511"));
    assert!(!e603.values.contains_key("field-501"));

    let (fields, _) = (db.store.fields_with_gone().await.unwrap(), ());
    let status = fields.iter().find(|(f, _)| f.id == "field-501").unwrap();
    assert_eq!(
        status.0.options.len(),
        3,
        "dropdown options come from v1's catalog"
    );
    assert_eq!(status.0.list_id, Some(301));
    assert_eq!(status.0.value_type, "ranked-dropdown");
    let sectors = fields.iter().find(|(f, _)| f.id == "field-506").unwrap();
    assert!(sectors.0.allows_multiple);

    let runs = db.store.runs(5).await.unwrap();
    assert_eq!(runs[0].kind, "pull");
    assert_eq!(runs[0].status, "ok");
    assert_eq!(runs[0].api_calls as u64, s.api_calls);
    let events = db.store.events(runs[0].id).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.event.record == "entry:601" && matches!(e.event.step, Step::New { .. })));
    assert!(events
        .iter()
        .any(|e| e.event.record == "list:301" && matches!(e.event.step, Step::Pulled(_))));
}

#[tokio::test]
async fn a_second_pull_with_nothing_changed_reports_nothing_and_writes_nothing() {
    second_pull_writes_nothing(sqlite().await).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs PostgreSQL: AFFSYNC_TEST_POSTGRES_URL is not set"
)]
async fn a_second_pull_with_nothing_changed_reports_nothing_and_writes_nothing_on_postgres() {
    second_pull_writes_nothing(postgres().await).await;
}

/// A second pull with nothing changed, on one backend.
async fn second_pull_writes_nothing(db: TestDb) {
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    let first = pull_all(&t, &db.store).await;
    assert!(first.lists.iter().map(|l| l.new).sum::<usize>() > 100);
    let before = fingerprint(&db.store, true).await;
    let second = pull_all(&t, &db.store).await;
    for l in &second.lists {
        assert_eq!(
            (l.new, l.changed, l.removed, l.field_values_written),
            (0, 0, 0, 0),
            "{} on {}",
            l.list,
            db.backend
        );
        assert!(l.entries_seen > 0);
    }
    assert_eq!(
        fingerprint(&db.store, true).await,
        before,
        "not one mirror row was rewritten ({})",
        db.backend
    );
}

#[tokio::test]
async fn changes_removals_and_merges_reach_the_mirror() {
    changes_removals_and_merges(sqlite().await).await;
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs PostgreSQL: AFFSYNC_TEST_POSTGRES_URL is not set"
)]
async fn changes_removals_and_merges_reach_the_mirror_on_postgres() {
    changes_removals_and_merges(postgres().await).await;
}

/// Changes, removals and merges, on one backend.
async fn changes_removals_and_merges(db: TestDb) {
    let t = TestEmu::start().await;
    let c = client(&t);
    pull_all(&t, &db.store).await;

    // In Affinity: a value changes, an entry goes, two organizations are merged.
    c.set_list_entry_field_v2(
        301.into(),
        601.into(),
        &affinity_crm::v2::FieldId("field-505".into()),
        affinity_crm::v2::FieldValue::Number(Some(43.0)),
    )
    .await
    .unwrap();
    c.delete_list_entry_v1(302.into(), 612.into())
        .await
        .unwrap();
    t.emu
        .shared
        .tenant()
        .merge(entity_type::ORGANIZATION, 202, 201)
        .unwrap();

    let s = pull_all(&t, &db.store).await;
    let deal = list(&s, "Deal Flow");
    assert_eq!(deal.new, 0);
    assert_eq!(
        deal.changed, 2,
        "601's headcount; 602 now holds the survivor"
    );
    assert_eq!(list(&s, "LPs").removed, 1);
    assert_eq!(s.entities_merged, 1, "{s:?}");
    assert_eq!(
        s.entities_removed, 0,
        "person 102 still exists: only off the list"
    );

    let view = db
        .store
        .list_view(&db.store.find_list("301").await.unwrap().unwrap())
        .await
        .unwrap();
    let e602 = view.entries.iter().find(|e| e.entry.id == 602).unwrap();
    assert_eq!(
        e602.entry.entity_id, 201,
        "the entry is remapped to the survivor"
    );
    let e601 = view.entries.iter().find(|e| e.entry.id == 601).unwrap();
    assert_eq!(e601.values["field-505"][0].number, Some(43.0));
    assert_eq!(
        e601.values["field-507"][0].ref_id,
        Some(201),
        "references follow the merge"
    );
    let lps = db
        .store
        .list_view(&db.store.find_list("LPs").await.unwrap().unwrap())
        .await
        .unwrap();
    assert_eq!(
        lps.entries.len(),
        1,
        "a removed entry leaves the list's view"
    );
    let merged: Option<i64> = sqlx::query_scalar(
        "SELECT merged_into FROM organizations WHERE id = 202 AND gone_at IS NOT NULL",
    )
    .fetch_one(db.store.test_pool())
    .await
    .unwrap();
    assert_eq!(merged, Some(201));
    let kept: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM list_entries WHERE id = 612 AND gone_at IS NOT NULL AND last_seen_at IS NOT NULL",
    )
    .fetch_one(db.store.test_pool())
    .await
    .unwrap();
    assert_eq!(kept, 1, "a removed entry is flagged and kept");
}

#[tokio::test]
async fn a_pull_through_faults_ends_with_the_same_mirror_as_a_clean_one() {
    let clean_db = sqlite().await;
    let seed = big_list_seed(2_000, 9);
    let clean = TestEmu::with(EmulatorConfig::default(), seed.clone()).await;
    pull_all(&clean, &clean_db.store).await;

    let faulty_db = sqlite().await;
    let faulty = TestEmu::with(
        EmulatorConfig {
            fault_rate: 0.1,
            fault_seed: 11,
            ..Default::default()
        },
        seed,
    )
    .await;
    let c = client(&faulty);
    pull(&c, &faulty_db.store, &PullOptions::default(), &Quiet)
        .await
        .expect("faults are retried");
    assert!(c.stats().retries > 0, "the emulator did fail some requests");
    assert_eq!(
        fingerprint(&faulty_db.store, false).await,
        fingerprint(&clean_db.store, false).await
    );
}

#[tokio::test]
async fn a_big_list_costs_one_call_per_100_entries() {
    const N: usize = 10_000;
    let t = TestEmu::with(EmulatorConfig::default(), big_list_seed(N, 3)).await;
    let db = sqlite().await;
    let opts = PullOptions {
        lists: vec![BIG_LIST_ID.to_string()],
        all_lists: false,
        concurrency: 4,
    };
    let s = pull(&client(&t), &db.store, &opts, &Quiet).await.unwrap();
    assert_eq!(s.lists[0].entries_seen, N);
    let served: u64 = t
        .emu
        .stats()
        .iter()
        .filter(|(route, _)| !route.contains("/_emulator/"))
        .map(|(_, n)| n)
        .sum();
    let budget = (N.div_ceil(100) as f64 * 1.10).floor() as u64;
    assert!(
        served <= budget,
        "{served} calls for {N} entries (budget {budget}): {:?}",
        t.emu.stats()
    );
    assert_eq!(s.api_calls, served);
}

#[tokio::test]
#[cfg_attr(
    not(has_postgres),
    ignore = "needs PostgreSQL: AFFSYNC_TEST_POSTGRES_URL is not set"
)]
async fn sqlite_and_postgres_give_the_same_export() {
    let pg = postgres().await;
    let lite = sqlite().await;
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    pull_all(&t, &lite.store).await;
    pull_all(&t, &pg.store).await;
    assert_eq!(
        fingerprint(&lite.store, false).await,
        fingerprint(&pg.store, false).await
    );
    let dir = tempfile::tempdir().unwrap();
    for l in lite.store.lists().await.unwrap() {
        for ext in ["csv", "jsonl"] {
            let a = dir.path().join(format!("{}-sqlite.{ext}", l.id));
            let b = dir.path().join(format!("{}-pg.{ext}", l.id));
            affsync::io::export::write_list(&lite.store.list_view(&l).await.unwrap(), &a, false)
                .unwrap();
            affsync::io::export::write_list(&pg.store.list_view(&l).await.unwrap(), &b, false)
                .unwrap();
            assert_eq!(
                std::fs::read(&a).unwrap(),
                std::fs::read(&b).unwrap(),
                "{} ({ext})",
                l.name
            );
        }
    }
}
