//! Members (`[[members]]` in `affsync.toml`) against an emulator that knows several users:
//! each member's calls and SMS are written with their own key, so that Affinity records them
//! as the creator; an event on no member's line is skipped with its reason; a member's own
//! settings file cannot set what is not theirs; a refused key stops that member's events
//! alone, named in the job's alert.

use std::path::Path;

use affinity_crm_emulator::{EmulatorConfig, Seed};
use serde_json::{json, Value};

use crate::common::{webhook, TestEmu};

const MIA_KEY: &str = "mia-key";
const NOAH_KEY: &str = "noah-key";
const MIA: i64 = 9001;
const NOAH: i64 = 9002;

/// The activity tests' tenant (a `Phone` person field with Grace's and Katherine's numbers)
/// and two more users, Mia and Noah, each with their own key.
fn seed() -> Seed {
    let mut v = serde_json::to_value(crate::activity_log::seed()).unwrap();
    v["users"] = json!([
        {"id": MIA, "first_name": "Mia", "last_name": "Chen", "email": "mia@fund.vc", "api_key": MIA_KEY},
        {"id": NOAH, "first_name": "Noah", "last_name": "Park", "email": "noah@fund.vc", "api_key": NOAH_KEY},
    ]);
    serde_json::from_value(v).unwrap()
}

/// The admin's `affsync.toml`: Mia inline, Noah in his own file (his key in a file beside it).
fn write_settings(dir: &Path, t: &TestEmu, noah_key: &str, noah_file: &str) {
    std::fs::create_dir_all(dir.join("members")).unwrap();
    std::fs::write(
        dir.join("affsync.toml"),
        format!(
            "[affinity]\nbase_url = \"{}\"\n\n\
             [[members]]\nname = \"Mia Chen\"\nkey_env = \"MIA_AFFINITY_KEY\"\nlines = [\"+1 555 0001\"]\nemails = [\"mia@fund.vc\"]\n\n\
             [[members]]\nname = \"Noah Park\"\nfile = \"members/noah.toml\"\n",
            t.emu.base_url()
        ),
    )
    .unwrap();
    std::fs::write(dir.join("members/noah.toml"), noah_file).unwrap();
    std::fs::write(dir.join("members/noah.key"), format!("{noah_key}\n")).unwrap();
    std::fs::write(
        dir.join("activity.toml"),
        "feed = \"feed.jsonl\"\nphone_field = \"Phone\"\n",
    )
    .unwrap();
}

const NOAH_FILE: &str =
    "# Noah's own settings\nkey_file = \"noah.key\"\nlines = [\"+1 555 0002\"]\n\n[workflow]\noutgoing_unanswered_calls = \"disabled\"\n";

/// Calls and SMS on Mia's line, on Noah's, and one on a line that is nobody's.
const FEED: &str = r#"{"id":"m-call","kind":"call","direction":"outbound","answered":true,"at":"2026-11-20T10:00:00Z","duration_s":95,"line":"+15550001","contact":"+15551234567"}
{"id":"m-sms","kind":"sms","direction":"inbound","at":"2026-11-20T10:05:00Z","line":"+15550001","contact":"+15551234567","text":"Deck attached"}
{"id":"n-call","kind":"call","direction":"inbound","answered":true,"at":"2026-11-20T11:00:00Z","duration_s":60,"line":"+15550002","contact":"555-765-4321"}
{"id":"n-sms","kind":"sms","direction":"outbound","at":"2026-11-20T11:05:00Z","line":"+15550002","contact":"555-765-4321","text":"Call you Monday"}
{"id":"n-missed","kind":"call","direction":"outbound","answered":false,"at":"2026-11-20T11:10:00Z","line":"+15550002","contact":"555-765-4321"}
{"id":"x-call","kind":"call","direction":"inbound","answered":true,"at":"2026-11-20T12:00:00Z","duration_s":30,"line":"+15550003","contact":"+15551234567"}
"#;

/// `affsync ARGS` in `dir` with the members' key variable set.
async fn affsync(t: &TestEmu, dir: &Path, db: &str, args: &[&str]) -> (i32, String, String) {
    t.run_env(dir, db, args, &[("MIA_AFFINITY_KEY", MIA_KEY)])
        .await
}

/// The command every test here runs.
const LOG_ACTIVITY: &[&str] = &["log-activity", "feed.jsonl", "--settings", "activity.toml"];

/// `log-activity feed.jsonl --settings activity.toml --json`, which must succeed: its summary.
async fn log_json(t: &TestEmu, dir: &Path, db: &str) -> Value {
    let args = [LOG_ACTIVITY, &["--json"]].concat();
    let (code, out, err) = affsync(t, dir, db, &args).await;
    assert_eq!(code, 0, "{err}\n{out}");
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"))
}

async fn start(noah_key: &str, noah_file: &str) -> (TestEmu, tempfile::TempDir, String) {
    let t = TestEmu::with(EmulatorConfig::default(), seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    write_settings(dir.path(), &t, noah_key, noah_file);
    std::fs::write(dir.path().join("feed.jsonl"), FEED).unwrap();
    let (code, _, err) = affsync(&t, dir.path(), &db, &["pull", "--list", "LPs"]).await;
    assert_eq!(code, 0, "{err}");
    (t, dir, db)
}

/// Affinity's notes and calls on a person, each with its creator, read with the admin's key.
async fn written(t: &TestEmu, person: i64) -> (Vec<(String, i64)>, Vec<(String, Value)>) {
    let notes = t.get(&format!("/notes?person_id={person}"), 200).await["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["content"].as_str().unwrap_or_default().to_string(),
                n["creator_id"].as_i64().unwrap(),
            )
        })
        .collect();
    let calls = t
        .get(
            &format!("/interactions?type=1&start_time=2026-01-01T00:00:00Z&end_time=2026-12-31T00:00:00Z&person_id={person}"),
            200,
        )
        .await["calls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["content"].as_str().unwrap_or_default().to_string(),
                c["manual_creator_id"].clone(),
            )
        })
        .collect();
    (notes, calls)
}

/// What the feed leaves in Affinity: Mia's SMS note and call on Grace (102), Noah's on
/// Katherine (104), each once and with its member's user as the creator (Katherine's seeded
/// note, by the admin's user, stays as it was).
async fn assert_each_member_wrote_once(t: &TestEmu) {
    let (notes, calls) = written(t, 102).await;
    assert_eq!(
        notes,
        [("SMS received\nDeck attached".to_string(), MIA)],
        "{notes:?}"
    );
    assert_eq!(calls.len(), 1, "Mia's call once: {calls:?}");
    assert_eq!(calls[0].1, json!(MIA), "{calls:?}");
    let (notes, calls) = written(t, 104).await;
    assert_eq!(
        notes,
        [
            ("LP call".to_string(), 1),
            ("SMS sent\nCall you Monday".to_string(), NOAH)
        ],
        "{notes:?}"
    );
    assert_eq!(calls.len(), 1, "Noah's call once: {calls:?}");
    assert_eq!(calls[0].1, json!(NOAH), "{calls:?}");
}

#[tokio::test]
async fn each_members_calls_and_sms_are_written_with_their_key_and_an_unowned_line_is_skipped() {
    let (t, dir, db) = start(NOAH_KEY, NOAH_FILE).await;
    let v = log_json(&t, dir.path(), &db).await;
    assert_eq!(v["calls_logged"], 2, "{v}");
    assert_eq!(v["notes_created"], 2, "{v}");
    assert_eq!(v["failed"], 0, "{v}");
    // Each write says whom it is written as, by name and Affinity user.
    let by: Vec<(String, String)> = v["writes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["feed_id"].as_str().unwrap().into(),
                w["as"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        by,
        [
            ("m-call".to_string(), "Mia Chen (user 9001)".to_string()),
            ("m-sms".into(), "Mia Chen (user 9001)".into()),
            ("n-call".into(), "Noah Park (user 9002)".into()),
            ("n-sms".into(), "Noah Park (user 9002)".into()),
        ]
    );
    // Noah's own workflow turns his unanswered outgoing calls off; the third line is nobody's.
    let skips: Vec<(String, String, String)> = v["skips"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["feed_id"].as_str().unwrap().into(),
                s["why"].as_str().unwrap().into(),
                s["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(skips.len(), 2, "{skips:?}");
    assert_eq!(
        (skips[0].0.as_str(), skips[0].1.as_str()),
        ("n-missed", "disabled")
    );
    assert!(skips[0].2.contains("members/noah.toml"), "{skips:?}");
    assert_eq!(
        (skips[1].0.as_str(), skips[1].1.as_str()),
        ("x-call", "unowned")
    );
    assert!(
        skips[1].2.contains("line `+15550003` is no member's line")
            && skips[1].2.contains("`Mia Chen`, `Noah Park`"),
        "{skips:?}"
    );

    // Affinity records each member as the creator of what was written with their key.
    assert_each_member_wrote_once(&t).await;

    // The journal and the run's report say who wrote each event; a rerun writes nothing, and
    // does not ask who the members are again (whoami was read once and kept).
    let run = v["run"].to_string();
    let (code, out, err) = affsync(&t, dir.path(), &db, &["activity", &run]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("as Mia Chen") && out.contains("as Noah Park"),
        "{out}"
    );
    // Its calls: the two members' whoami, and one write per note or call.
    assert_eq!(v["api_calls"], 6, "{v}");
    let (code, html, err) = affsync(&t, dir.path(), &db, &["report", &run, "--out", "-"]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        html.contains("written as member <code>Mia Chen</code>")
            && html.contains("written as member <code>Noah Park</code>")
            && html.contains("on person 104 as Noah Park (Katherine Johnson)"),
        "{html}"
    );
    let whoami = t.route_count("GET /v2/auth/whoami").await;
    let writes = t.writes().await;
    let (code, out, err) = affsync(&t, dir.path(), &db, LOG_ACTIVITY).await;
    assert_eq!(code, 0, "{err}\n{out}");
    assert_eq!(t.writes().await, writes, "{out}");
    assert_eq!(t.route_count("GET /v2/auth/whoami").await, whoami);

    // The effective settings of a member, each with the file it is written in.
    let (code, out, err) = affsync(
        &t,
        dir.path(),
        &db,
        &["config", "show", "--member", "noah park", "--json"],
    )
    .await;
    assert_eq!(code, 0, "{err}");
    let shown: Value = serde_json::from_str(&out).unwrap();
    let row = |name: &str| {
        shown["settings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["setting"] == name)
            .unwrap_or_else(|| panic!("{name}: {shown}"))
            .clone()
    };
    assert!(row("member.key")["value"]
        .as_str()
        .unwrap()
        .contains("members/noah.key"));
    assert!(row("member.key")["origin"]
        .as_str()
        .unwrap()
        .ends_with("members/noah.toml"));
    assert_eq!(row("member.lines")["value"], "+1 555 0002");
    assert_eq!(
        row("member.workflow.outgoing_unanswered_calls")["value"],
        "disabled"
    );
    assert!(!out.contains(NOAH_KEY), "a key never shows: {out}");
    let (code, _, err) = affsync(&t, dir.path(), &db, &["config", "show", "--member", "Zoe"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no member is named `Zoe`") && err.contains("`Mia Chen`"),
        "{err}"
    );
}

#[tokio::test]
async fn a_members_file_that_sets_another_members_settings_is_refused_with_file_line_and_hint() {
    let t = TestEmu::with(EmulatorConfig::default(), seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    for (file, line, want) in [
        (
            "key_file = \"noah.key\"\n\n[\"Mia Chen\".workflow]\nincoming_sms = \"disabled\"\n",
            3,
            "member `Noah Park`'s file sets `Mia Chen`, the settings of member `Mia Chen`",
        ),
        (
            "key_file = \"noah.key\"\n[affinity]\nkey_env = \"MINE\"\n",
            2,
            "member `Noah Park`'s file sets `affinity`, which is the admin's setting",
        ),
    ] {
        write_settings(dir.path(), &t, NOAH_KEY, file);
        let (code, out, err) = affsync(&t, dir.path(), &db, LOG_ACTIVITY).await;
        assert_eq!(code, 2, "{out}\n{err}");
        assert!(
            err.contains(&format!("members/noah.toml`, line {line}")),
            "{err}"
        );
        assert!(err.contains(want), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert_eq!(t.writes().await, 0, "nothing is written");
    }
}

#[tokio::test]
async fn a_refused_key_stops_that_members_events_alone_and_the_alert_names_them() {
    let (t, dir, db) = start("revoked-key", NOAH_FILE).await;
    let (hook, got) = webhook().await;
    let mut toml = std::fs::read_to_string(dir.path().join("affsync.toml")).unwrap();
    toml.push_str(&format!(
        "\n[[jobs]]\nname = \"calls\"\nschedule = \"0 0 2 * * *\"\nsteps = [ {{ log_activity = \"activity.toml\" }} ]\non_failure = {{ webhook = \"{hook}\" }}\n"
    ));
    std::fs::write(dir.path().join("affsync.toml"), toml).unwrap();
    let before = written(&t, 104).await;
    let (code, out, err) = affsync(&t, dir.path(), &db, &["run", "calls"]).await;
    assert_eq!(code, 4, "a partial run: {out}\n{err}");
    // Mia's events are written; Noah's are not, and nothing is written as anyone else.
    let (notes, calls) = written(&t, 102).await;
    assert_eq!((notes.len(), calls.len()), (1, 1), "{notes:?} {calls:?}");
    assert_eq!(written(&t, 104).await, before);
    let alerts = got.lock().unwrap().clone();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let e = alerts[0]["error"].as_str().unwrap();
    assert!(
        e.contains("2 events could not be written")
            && e.contains("member `Noah Park`: Affinity refused their key (401)"),
        "{e}"
    );
    assert_eq!(alerts[0]["status"], "partial");
}

#[tokio::test]
async fn two_members_write_at_once_each_key_within_its_own_limit() {
    // Each key may make 60 requests a window (Affinity's minute, shortened to 2 seconds):
    // Mia's 70 events and Noah's 70 need two windows each, which they spend side by side.
    let t = TestEmu::with(
        EmulatorConfig {
            rate_limit_per_minute: 60,
            rate_window: std::time::Duration::from_secs(2),
            ..EmulatorConfig::default()
        },
        seed(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    write_settings(dir.path(), &t, NOAH_KEY, NOAH_FILE);
    let feed: String = (0..140)
        .map(|i| {
            let (line, contact) = if i % 2 == 0 {
                ("+15550001", "+15551234567")
            } else {
                ("+15550002", "555-765-4321")
            };
            format!("{{\"id\":\"s{i}\",\"kind\":\"sms\",\"direction\":\"inbound\",\"at\":\"2026-11-20T10:{:02}:{:02}Z\",\"line\":\"{line}\",\"contact\":\"{contact}\",\"text\":\"message {i}\"}}\n", i / 60, i % 60)
        })
        .collect();
    let (code, _, err) = affsync(&t, dir.path(), &db, &["pull", "--list", "LPs"]).await;
    assert_eq!(code, 0, "{err}");
    // A first run of an empty feed reads who the members are (whoami, kept in the mirror):
    // what follows is the writes alone.
    std::fs::write(dir.path().join("feed.jsonl"), "").unwrap();
    log_json(&t, dir.path(), &db).await;
    let before = t.stats().await["users"].clone();
    std::fs::write(dir.path().join("feed.jsonl"), feed).unwrap();
    let v = log_json(&t, dir.path(), &db).await;
    assert_eq!(v["notes_created"], 140, "{v}");
    let users = t.stats().await["users"].clone();
    let (mia, noah) = (&users[MIA.to_string()], &users[NOAH.to_string()]);
    // Each key made its own 70 writes (and its whoami, once, before), none answered 429.
    for u in [MIA, NOAH] {
        assert_eq!(before[u.to_string()]["requests"], 1, "whoami: {before}");
    }
    assert_eq!(
        (&mia["requests"], &mia["writes"]),
        (&json!(71), &json!(70)),
        "{users}"
    );
    assert_eq!(
        (&noah["requests"], &noah["writes"]),
        (&json!(71), &json!(70)),
        "{users}"
    );
    assert_eq!(mia["rate_limited"], 0, "{users}");
    assert_eq!(noah["rate_limited"], 0, "{users}");
    // At once: each key's writes began before the other's ended (one after the other, each
    // key's 70 writes would take two of its windows, and Noah's would start after Mia's end).
    let span = |u: &Value| {
        (
            u["first_write_ms"].as_u64().unwrap(),
            u["last_write_ms"].as_u64().unwrap(),
        )
    };
    let ((m0, m1), (n0, n1)) = (span(mia), span(noah));
    assert!(m0 < n1 && n0 < m1, "{users}");
}

/// A run killed (SIGKILL) while a member's call is being written, after Affinity wrote it, then
/// run again: each member's notes and calls are in Affinity once, each with its member as the
/// creator (the unconfirmed call is looked up with that member's key, not written again), a
/// third run writes nothing, and no run is left running.
#[tokio::test]
async fn a_run_killed_while_a_members_call_is_written_writes_nothing_twice_on_the_rerun() {
    use crate::proxy::{Fault, Proxy, Rule};
    let (t, dir, db) = start(NOAH_KEY, NOAH_FILE).await;
    let proxy = Proxy::start(
        &t.emu,
        vec![Rule {
            method: "POST",
            path: "/interactions",
            nth: 1,
            fault: Fault::Hold,
        }],
    )
    .await;
    let mut cmd = t.affsync(dir.path(), &db, LOG_ACTIVITY);
    cmd.env("MIA_AFFINITY_KEY", MIA_KEY)
        .env("AFFINITY_BASE_URL", &proxy.url);
    crate::crash::kill_when_held(cmd, proxy).await;
    let held = {
        let (_, a) = written(&t, 102).await;
        let (_, b) = written(&t, 104).await;
        a.len() + b.len()
    };
    // The held call reached Affinity; the other member's lane may have written theirs too.
    assert!(held >= 1, "Affinity wrote the held call before the kill");

    let v = log_json(&t, dir.path(), &db).await;
    assert_eq!(v["failed"], 0, "{v}");
    assert_each_member_wrote_once(&t).await;

    let v = log_json(&t, dir.path(), &db).await;
    assert_eq!(
        (&v["calls_logged"], &v["notes_created"], &v["failed"]),
        (&json!(0), &json!(0), &json!(0)),
        "a third run writes nothing: {v}"
    );
    crate::crash::no_run_left_running(&db).await;
}
