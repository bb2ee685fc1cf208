//! `affsync log-activity` against the emulator: each workflow setting honoured, SMS as notes
//! with their text, calls as interactions with date and direction, note and call edits and
//! deletions carried over, a rerun that writes nothing, unknown contacts skipped with the
//! reason journaled (or created when allowed), lines outside `connected_numbers` not logged.

use affsync_core::journal::Step;
use std::path::Path;

use affinity_crm_emulator::{EmulatorConfig, Seed};
use affsync::store::Store;
use serde_json::{json, Value};

use crate::common::TestEmu;

/// The test tenant plus a global person field `Phone` holding Grace's and Katherine's numbers
/// (both are on the `LPs` person list, which the tests pull).
pub(crate) fn seed() -> Seed {
    let mut v: Value = serde_json::from_str(include_str!(
        "../../crates/affinity-crm-emulator/fixtures/test-tenant.json"
    ))
    .unwrap();
    v["fields"].as_array_mut().unwrap().push(json!(
        {"id": 523, "name": "Phone", "entity_type": 0, "value_type": 6, "allows_multiple": true}
    ));
    let values = v["field_values"].as_array_mut().unwrap();
    values
        .push(json!({"id": 771, "field_id": 523, "entity_id": 102, "value": "+1 (555) 123-4567"}));
    values.push(json!({"id": 772, "field_id": 523, "entity_id": 104, "value": "555 765 4321"}));
    serde_json::from_value(v).unwrap()
}

async fn start() -> (TestEmu, tempfile::TempDir, String) {
    let t = TestEmu::with(EmulatorConfig::default(), seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--list", "LPs"]).await;
    assert_eq!(code, 0, "{err}");
    (t, dir, db)
}

/// `log-activity feed --settings s.toml --json` after writing both files; the summary.
async fn log(t: &TestEmu, dir: &Path, db: &str, feed: &str, settings: &str) -> Value {
    std::fs::write(dir.join("feed.jsonl"), feed).unwrap();
    std::fs::write(dir.join("s.toml"), settings).unwrap();
    let (code, out, err) = t
        .run(
            dir,
            db,
            &[
                "log-activity",
                "feed.jsonl",
                "--settings",
                "s.toml",
                "--json",
            ],
        )
        .await;
    assert_eq!(code, 0, "{err}\n{out}");
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

/// Write calls (anything but GET) the emulator has served, by route.
async fn writes(t: &TestEmu) -> std::collections::BTreeMap<String, u64> {
    let stats: Value = t
        .http
        .get(t.url("/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["routes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

async fn write_count(t: &TestEmu) -> u64 {
    writes(t).await.values().sum()
}

const LINE: &str = "+15550001";
const SETTINGS: &str =
    "connected_numbers = [\"+1 555 0001\"]\ncreate_contacts = false\nphone_field = \"Phone\"\n";

const WINDOW: &str = "start_time=2026-01-01T00:00:00Z&end_time=2026-12-31T00:00:00Z";

async fn calls_of(t: &TestEmu, person: i64) -> Vec<Value> {
    t.get(
        &format!("/interactions?type=1&{WINDOW}&person_id={person}"),
        200,
    )
    .await["calls"]
        .as_array()
        .unwrap()
        .clone()
}

async fn notes_of(t: &TestEmu, person: i64) -> Vec<Value> {
    t.get(&format!("/notes?person_id={person}"), 200).await["notes"]
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn log_activity_sms_as_notes_calls_as_interactions_and_a_rerun_writes_nothing() {
    let (t, dir, db) = start().await;
    let feed = format!(
        r#"{{"id":"c1","kind":"call","direction":"outbound","answered":true,"at":"2026-11-20T10:00:00Z","duration_s":95,"line":"{LINE}","contact":"+15551234567"}}
{{"id":"c2","kind":"call","direction":"inbound","answered":false,"at":"2026-11-20T11:00:00Z","line":"{LINE}","contact":"555-765-4321"}}
{{"id":"s1","kind":"sms","direction":"inbound","at":"2026-11-20T12:00:00Z","line":"{LINE}","contact":"grace@cobol.dev","text":"Term sheet received, thanks"}}
{{"id":"n1","kind":"note","at":"2026-11-20T13:00:00Z","line":"{LINE}","contact":"Katherine Johnson","text":"Wants the Q3 report"}}
{{"id":"x1","kind":"sms","direction":"inbound","at":"2026-11-20T14:00:00Z","line":"+15550009","contact":"grace@cobol.dev","text":"Other line"}}
{{"id":"u1","kind":"call","direction":"inbound","answered":true,"at":"2026-11-20T15:00:00Z","line":"{LINE}","contact":"+44 20 7946 0000"}}
"#
    );
    let before = write_count(&t).await;
    let v = log(&t, dir.path(), &db, &feed, SETTINGS).await;
    assert_eq!(v["calls_logged"], 2, "{v}");
    assert_eq!(v["notes_created"], 2, "{v}");
    assert_eq!(v["skipped"], 2, "{v}");
    assert_eq!(v["failed"], 0, "{v}");
    assert_eq!(write_count(&t).await - before, 4, "{:?}", writes(&t).await);

    // Calls are call interactions with their date and direction.
    let grace = calls_of(&t, 102).await;
    assert_eq!(grace.len(), 1, "{grace:?}");
    assert_eq!(grace[0]["direction"], 0, "outbound is sent");
    let date: chrono::DateTime<chrono::Utc> = grace[0]["date"].as_str().unwrap().parse().unwrap();
    assert_eq!(date.to_rfc3339(), "2026-11-20T10:00:00+00:00");
    assert_eq!(grace[0]["content"], "Outgoing call, answered, 1 min 35 s");
    let kj = calls_of(&t, 104).await;
    assert_eq!(kj.len(), 1);
    assert_eq!(kj[0]["direction"], 1, "inbound is received");
    assert_eq!(kj[0]["content"], "Incoming call, not answered");

    // SMS and feed notes arrive as notes with their text.
    let notes = notes_of(&t, 102).await;
    assert_eq!(
        notes.len(),
        1,
        "the other line's SMS is not logged: {notes:?}"
    );
    assert!(notes[0]["content"]
        .as_str()
        .unwrap()
        .contains("Term sheet received, thanks"));
    let notes = notes_of(&t, 104).await;
    assert!(
        notes.iter().any(|n| n["content"] == "Wants the Q3 report"),
        "{notes:?}"
    );

    // The journal says why the others were not logged.
    let store = Store::open(&db).await.unwrap();
    let run = store.runs(1).await.unwrap()[0].clone();
    assert_eq!(run.kind, "log-activity");
    let events = store.events(run.id).await.unwrap();
    let skipped = |record: &str| {
        events
            .iter()
            .find(|e| e.event.record == record && matches!(e.event.step, Step::Skipped { .. }))
            .and_then(|e| e.event.to_stored().1)
            .unwrap_or_else(|| panic!("no skip for {record}: {events:?}"))
    };
    let u1 = skipped("activity:u1");
    assert_eq!(u1["why"], "unknown_contact");
    assert!(
        u1["reason"]
            .as_str()
            .unwrap()
            .contains("`create_contacts` is off"),
        "{u1}"
    );
    assert_eq!(skipped("activity:x1")["why"], "not_connected");
    assert!(events
        .iter()
        .any(|e| e.event.record == "activity:c1"
            && matches!(e.event.step, Step::WriteStarted { .. })));
    assert!(events
        .iter()
        .any(|e| e.event.record == "activity:c1" && matches!(e.event.step, Step::CallLogged(_))));
    store.close().await;

    // The same feed again writes nothing.
    let before = write_count(&t).await;
    let v = log(&t, dir.path(), &db, &feed, SETTINGS).await;
    assert_eq!(v["unchanged"], 4, "{v}");
    assert_eq!(write_count(&t).await, before, "a rerun writes nothing");
}

#[tokio::test]
async fn log_activity_honours_each_workflow_setting() {
    let (t, dir, db) = start().await;
    let ev = |id: &str, kind: &str, dir: &str, answered: bool| {
        format!(
            r#"{{"id":"{id}","kind":"{kind}","direction":"{dir}","answered":{answered},"at":"2026-11-20T10:00:00Z","line":"{LINE}","contact":"+15551234567","text":"t {id}"}}"#
        )
    };
    let feed = [
        ev("oa", "call", "outbound", true),
        ev("ou", "call", "outbound", false),
        ev("ia", "call", "inbound", true),
        ev("iu", "call", "inbound", false),
        ev("vm", "voicemail", "inbound", false),
        ev("is", "sms", "inbound", false),
        ev("os", "sms", "outbound", false),
    ]
    .join("\n");
    let keys = [
        (
            "outgoing_answered_calls",
            "interaction",
            "oa",
            "/interactions",
        ),
        (
            "outgoing_unanswered_calls",
            "interaction",
            "ou",
            "/interactions",
        ),
        (
            "incoming_answered_calls",
            "interaction",
            "ia",
            "/interactions",
        ),
        (
            "incoming_unanswered_calls",
            "interaction",
            "iu",
            "/interactions",
        ),
        ("voicemail", "interaction", "vm", "/interactions"),
        ("incoming_sms", "note", "is", "/notes"),
        ("outgoing_sms", "note", "os", "/notes"),
    ];
    let workflow = |on: &[&str]| {
        let mut s = format!("{SETTINGS}[workflow]\n");
        for (k, as_, _, _) in &keys {
            let v = if on.contains(k) { *as_ } else { "disabled" };
            s.push_str(&format!("{k} = \"{v}\"\n"));
        }
        s
    };
    // Everything disabled: nothing is written, each event skipped as disabled.
    let before = write_count(&t).await;
    let v = log(&t, dir.path(), &db, &feed, &workflow(&[])).await;
    assert_eq!(write_count(&t).await, before, "{v}");
    assert_eq!(v["skipped"], 7, "{v}");
    assert!(
        v["skips"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["why"] == "disabled"),
        "{v}"
    );
    // Each setting turned on in turn logs exactly its own kind, as its own object.
    let mut on: Vec<&str> = Vec::new();
    for (key, _, id, route) in &keys {
        on.push(key);
        let before = writes(&t).await;
        let v = log(&t, dir.path(), &db, &feed, &workflow(&on)).await;
        let after = writes(&t).await;
        let grew: Vec<(&String, u64)> = after
            .iter()
            .map(|(k, n)| (k, n - before.get(k).copied().unwrap_or(0)))
            .filter(|(_, d)| *d > 0)
            .collect();
        assert_eq!(grew, vec![(&format!("POST {route}"), 1)], "{key}: {v}");
        let w = v["writes"].as_array().unwrap();
        assert_eq!(w.len(), 1, "{key}: {v}");
        assert_eq!(w[0]["feed_id"], *id, "{key}");
    }
    assert_eq!(calls_of(&t, 102).await.len(), 5);
    let notes = notes_of(&t, 102).await;
    let texts: Vec<&str> = notes
        .iter()
        .map(|n| n["content"].as_str().unwrap())
        .collect();
    assert!(texts.contains(&"SMS received\nt is"), "{texts:?}");
    assert!(texts.contains(&"SMS sent\nt os"), "{texts:?}");
}

#[tokio::test]
async fn log_activity_carries_note_and_call_edits_and_deletions() {
    let (t, dir, db) = start().await;
    let feed = |note: &str, secs: u64, deleted: bool| {
        format!(
            r#"{{"id":"n1","kind":"note","line":"{LINE}","contact":"Grace Hopper","text":"{note}","deleted":{deleted}}}
{{"id":"c1","kind":"call","direction":"outbound","answered":true,"duration_s":{secs},"at":"2026-11-20T10:00:00Z","line":"{LINE}","contact":"Grace Hopper","deleted":{deleted}}}
"#
        )
    };
    let v = log(
        &t,
        dir.path(),
        &db,
        &feed("Draft terms", 60, false),
        SETTINGS,
    )
    .await;
    assert_eq!(
        (v["notes_created"].as_u64(), v["calls_logged"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let note_id = notes_of(&t, 102).await[0]["id"].as_i64().unwrap();
    let call_id = calls_of(&t, 102).await[0]["id"].as_i64().unwrap();

    // Edits: the same ids, new text and duration.
    let before = writes(&t).await;
    let v = log(
        &t,
        dir.path(),
        &db,
        &feed("Final terms agreed", 120, false),
        SETTINGS,
    )
    .await;
    assert_eq!(
        (v["notes_updated"].as_u64(), v["calls_updated"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let after = writes(&t).await;
    assert_eq!(
        after["PUT /notes/{id}"] - before.get("PUT /notes/{id}").copied().unwrap_or(0),
        1
    );
    let note = t.get(&format!("/notes/{note_id}"), 200).await;
    assert_eq!(note["content"], "Final terms agreed");
    let call = t.get(&format!("/interactions/{call_id}?type=1"), 200).await;
    assert_eq!(call["content"], "Outgoing call, answered, 2 min");

    // Unchanged again: nothing written.
    let n = write_count(&t).await;
    log(
        &t,
        dir.path(),
        &db,
        &feed("Final terms agreed", 120, false),
        SETTINGS,
    )
    .await;
    assert_eq!(write_count(&t).await, n);

    // Deletions.
    let v = log(
        &t,
        dir.path(),
        &db,
        &feed("Final terms agreed", 120, true),
        SETTINGS,
    )
    .await;
    assert_eq!(
        (v["notes_deleted"].as_u64(), v["calls_deleted"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    t.get(&format!("/notes/{note_id}"), 404).await;
    t.get(&format!("/interactions/{call_id}?type=1"), 404).await;
    let n = write_count(&t).await;
    log(
        &t,
        dir.path(),
        &db,
        &feed("Final terms agreed", 120, true),
        SETTINGS,
    )
    .await;
    assert_eq!(write_count(&t).await, n, "a deletion is carried over once");
}

#[tokio::test]
async fn log_activity_creates_unknown_contacts_when_allowed_from_a_csv_feed() {
    let (t, dir, db) = start().await;
    let csv = format!(
        "id,kind,direction,answered,at,duration_s,line,contact,text,deleted\n\
         v1,voicemail,inbound,,2026-11-20T09:00:00Z,30,{LINE},+1 555 888 0000,\"Call me back, please\",\n\
         s1,sms,outbound,,2026-11-20T09:05:00Z,,{LINE},15558880000,On it,false\n"
    );
    std::fs::write(dir.path().join("feed.csv"), csv).unwrap();
    std::fs::write(
        dir.path().join("s.toml"),
        SETTINGS.replace("create_contacts = false", "create_contacts = true"),
    )
    .unwrap();
    let args = ["log-activity", "feed.csv", "--settings", "s.toml", "--json"];
    let (code, out, err) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["contacts_created"], 1,
        "one person for both spellings: {v}"
    );
    assert_eq!(
        (v["calls_logged"].as_u64(), v["notes_created"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    let created = writes(&t).await;
    assert_eq!(created["POST /persons"], 1);
    assert_eq!(
        created["POST /field-values"], 1,
        "the phone is written to `Phone`"
    );
    // The next run finds the new person through the mirror: nothing is written.
    let n = write_count(&t).await;
    let (code, out, err) = t.run(dir.path(), &db, &args).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(write_count(&t).await, n, "{out}");
    let vm = t.get("/persons?term=555", 200).await;
    let id = vm["persons"][0]["id"].as_i64().unwrap();
    let calls = calls_of(&t, id).await;
    assert_eq!(calls[0]["content"], "Voicemail, 30 s\nCall me back, please");
}

#[tokio::test]
async fn log_activity_settings_mistakes_exit_2_with_line_and_hint() {
    let (t, dir, db) = start().await;
    std::fs::write(dir.path().join("feed.jsonl"), "").unwrap();
    for (settings, want) in [
        (
            "connected_numbers = []\n[workflow]\nvoicemail = \"note\"\n",
            "line 3",
        ),
        ("phone_field = \"Mobile\"\n", "`phone_field` names `Mobile`"),
    ] {
        std::fs::write(dir.path().join("s.toml"), settings).unwrap();
        let (code, _, err) = t
            .run(
                dir.path(),
                &db,
                &["log-activity", "feed.jsonl", "--settings", "s.toml"],
            )
            .await;
        assert_eq!(code, 2, "{err}");
        assert!(
            err.contains("s.toml") && err.contains(want) && err.contains("hint:"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn log_activity_killed_after_a_create_does_not_create_it_twice() {
    let (t, dir, db) = start().await;
    // What a run killed between its requests and the store learning them leaves behind: the
    // note and the call in Affinity, `write_started` in the journal, no map row.
    let note = t
        .send_json(
            reqwest::Method::POST,
            "/notes",
            json!({"content": "Draft terms", "person_ids": [102]}),
            200,
        )
        .await;
    let call = t
        .send_json(
            reqwest::Method::POST,
            "/interactions",
            json!({"type": 1, "person_ids": [102], "content": "Outgoing call, answered, 1 min",
                   "date": "2026-11-20T10:00:00Z", "direction": 0}),
            200,
        )
        .await;
    let store = Store::open(&db).await.unwrap();
    let now = chrono::Utc::now();
    let killed = store
        .start_run(affsync_core::journal::RunKind::LogActivity, None, now)
        .await
        .unwrap();
    let started = |id: &str, action: &str| {
        affsync_core::journal::JournalEvent::from_stored(
            format!("activity:{id}"),
            "write_started",
            Some(json!({"action": action, "person_id": 102})),
        )
    };
    store
        .add_events(
            killed,
            &[started("n1", "note_created"), started("c1", "call_logged")],
            now,
        )
        .await
        .unwrap();
    store.close().await;

    let feed = |note: &str| {
        format!(
            r#"{{"id":"n1","kind":"note","line":"{LINE}","contact":"Grace Hopper","text":"{note}"}}
{{"id":"c1","kind":"call","direction":"outbound","answered":true,"duration_s":60,"at":"2026-11-20T10:00:00Z","line":"{LINE}","contact":"Grace Hopper"}}
"#
        )
    };
    let before = writes(&t).await;
    log(&t, dir.path(), &db, &feed("Draft terms"), SETTINGS).await;
    assert_eq!(
        writes(&t).await,
        before,
        "both were found in Affinity, not written again"
    );
    assert_eq!(calls_of(&t, 102).await.len(), 1);
    // The found note is the one the feed's edit updates.
    log(&t, dir.path(), &db, &feed("Final terms"), SETTINGS).await;
    let got = t.get(&format!("/notes/{}", note["id"]), 200).await;
    assert_eq!(got["content"], "Final terms");
    assert_eq!(calls_of(&t, 102).await[0]["id"], call["id"]);
}

#[tokio::test]
async fn log_activity_runs_as_a_job_step_with_the_feed_its_settings_name() {
    let (t, dir, db) = start().await;
    let feed = format!(
        r#"{{"id":"s1","kind":"sms","direction":"inbound","at":"2026-11-20T12:00:00Z","line":"{LINE}","contact":"grace@cobol.dev","text":"Sent from a job"}}
"#
    );
    std::fs::write(dir.path().join("calls.jsonl"), feed).unwrap();
    std::fs::write(
        dir.path().join("activity.toml"),
        format!("feed = \"calls.jsonl\"\n{SETTINGS}"),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("affsync.toml"),
        format!(
            "database_url = \"{db}\"\n[affinity]\nbase_url = \"{}\"\nkey_env = \"AFFINITY_API_KEY\"\n\n\
             [[jobs]]\nname = \"calls\"\nschedule = \"0 */5 * * * *\"\nsteps = [ {{ log_activity = \"activity.toml\" }} ]\n",
            t.emu.base_url()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["run", "calls", "--json"])
        .current_dir(dir.path())
        .env("AFFINITY_API_KEY", crate::common::KEY)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let j: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(j["steps"][0]["step"], "log_activity", "{j}");
    assert_eq!(j["steps"][0]["counts"]["notes_created"], 1, "{j}");
    let notes = notes_of(&t, 102).await;
    assert!(
        notes.iter().any(|n| n["content"]
            .as_str()
            .unwrap_or("")
            .contains("Sent from a job")),
        "{notes:?}"
    );
}
