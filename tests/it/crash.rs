//! Nothing lost, nothing twice: for each kind of write, an answer lost after Affinity wrote (a
//! 502 from a gateway) and a SIGKILL while the answer is held, each followed by a rerun, leave
//! the tenant equal to one clean run (names, domains and emails, field values, list
//! memberships, notes, calls: not ids or timestamps), and the journal without a run left
//! `running`.

use std::path::Path;

use affinity_crm_emulator::{Emulator, EmulatorConfig, Seed};
use affsync::store::Store;

use crate::common::{TestEmu, KEY};
use crate::proxy::{content, Fault, Proxy, Rule};

/// One kind of write: the files, the lists to pull, the command, and the request whose answer
/// goes astray.
struct Case {
    /// The tenant; the test tenant when `None`.
    seed: Option<fn() -> Seed>,
    files: Vec<(&'static str, String)>,
    pull: &'static [&'static str],
    command: &'static [&'static str],
    rule: Rule,
}

async fn affsync(dir: &Path, db: &str, base: &str, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(args)
        .arg("--database-url")
        .arg(db)
        .current_dir(dir)
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", base)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("affsync runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A folder with the case's files and a mirror pulled from `emu`.
async fn prepared(case: &Case, emu: &Emulator) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in &case.files {
        std::fs::write(dir.path().join(name), text).unwrap();
    }
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    if case.pull.is_empty() {
        return (dir, db);
    }
    let mut args = vec!["pull"];
    for l in case.pull {
        args.extend(["--list", l]);
    }
    let (code, _, err) = affsync(dir.path(), &db, &emu.base_url(), &args).await;
    assert_eq!(code, 0, "{err}");
    (dir, db)
}

async fn emulator(case: &Case) -> TestEmu {
    match case.seed {
        Some(seed) => TestEmu::with(EmulatorConfig::default(), seed()).await,
        None => TestEmu::start().await,
    }
}

/// What one clean run leaves in the tenant.
async fn clean(case: &Case) -> std::collections::BTreeSet<String> {
    let t = emulator(case).await;
    let (dir, db) = prepared(case, &t.emu).await;
    let (code, out, err) = affsync(dir.path(), &db, &t.emu.base_url(), case.command).await;
    assert!(code == 0 || code == 4, "{out}\n{err}");
    let (code, _, err) = affsync(dir.path(), &db, &t.emu.base_url(), case.command).await;
    assert!(code == 0 || code == 4, "{err}");
    content(&t.emu)
}

/// The mirror at `db` has no run left `running`.
pub(crate) async fn no_run_left_running(db: &str) {
    let store = Store::open(db).await.unwrap();
    crate::common::assert_no_run_running(&store).await;
    store.close().await;
}

/// The answer is lost (502 after the write); then the same command again.
async fn lost_then_rerun(case: Case) {
    let want = clean(&case).await;
    let t = emulator(&case).await;
    let (dir, db) = prepared(&case, &t.emu).await;
    let proxy = Proxy::start(&t.emu, vec![case.rule.clone()]).await;
    let (code, out, err) = affsync(dir.path(), &db, &proxy.url, case.command).await;
    assert_eq!(proxy.faulted(), 1, "the rule matched: {out}\n{err}");
    assert_ne!(code, 101, "no panic: {err}");
    drop(proxy);
    let (code, out, err) = affsync(dir.path(), &db, &t.emu.base_url(), case.command).await;
    assert!(code == 0 || code == 4, "{out}\n{err}");
    assert_eq!(content(&t.emu), want, "the tenant equals one clean run");
    no_run_left_running(&db).await;
}

/// Runs `cmd` (which reaches Affinity through `proxy`) until the proxy holds an answer, then
/// kills it (SIGKILL) and stops the proxy.
pub(crate) async fn kill_when_held(mut cmd: tokio::process::Command, proxy: Proxy) {
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    proxy.held().await;
    child.kill().await.unwrap(); // SIGKILL
    drop(proxy);
}

/// SIGKILL while the answer is held (Affinity wrote); then the same command again.
async fn killed_then_rerun(case: Case) {
    let want = clean(&case).await;
    let t = emulator(&case).await;
    let (dir, db) = prepared(&case, &t.emu).await;
    let mut rule = case.rule.clone();
    rule.fault = Fault::Hold;
    let proxy = Proxy::start(&t.emu, vec![rule]).await;
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"));
    cmd.args(case.command)
        .arg("--database-url")
        .arg(&db)
        .current_dir(dir.path())
        .env("AFFINITY_API_KEY", KEY)
        .env("AFFINITY_BASE_URL", &proxy.url)
        .env("RUST_LOG", "warn");
    kill_when_held(cmd, proxy).await;
    let (code, out, err) = affsync(dir.path(), &db, &t.emu.base_url(), case.command).await;
    assert!(code == 0 || code == 4, "{out}\n{err}");
    assert_eq!(content(&t.emu), want, "the tenant equals one clean run");
    no_run_left_running(&db).await;
}

const ORG_MAPPING: &str = r#"version = 1
entity = "organization"
[source]
path = "orgs.csv"
id = "source_id"
[match]
search_term = "website"
[[match.compare]]
source = "company_name"
affinity = "name"
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
"#;

fn orgs() -> String {
    let mut s = String::from("source_id,company_name,website,headcount\n");
    for (i, n) in ["Quartz", "Nimbus", "Vertex", "Lumen"].iter().enumerate() {
        s.push_str(&format!("C{i},{n} Robotics,{n}robotics.io,{}\n", 10 + i));
    }
    // One the tenant has: an update and a list add.
    s.push_str("A1,Cobol Systems,cobol.dev,55\n");
    s
}

fn org_case(method: &'static str, path: &'static str, nth: usize) -> Case {
    Case {
        seed: None,
        files: vec![("m.toml", ORG_MAPPING.into()), ("orgs.csv", orgs())],
        pull: &["Deal Flow"],
        command: &["push", "m.toml"],
        rule: Rule {
            method,
            path,
            nth,
            fault: Fault::Lose,
        },
    }
}

fn person_case() -> Case {
    let mapping = r#"version = 1
entity = "person"
[source]
path = "people.csv"
id = "source_id"
[match]
search_term = "email"
[[match.compare]]
source = "first"
affinity = "first_name"
[[match.compare]]
source = "last"
affinity = "last_name"
[push]
mode = "create_update"
add_to_list = "LPs"
[[fields]]
source = "first"
affinity = "first_name"
type = "text"
[[fields]]
source = "last"
affinity = "last_name"
type = "text"
[[fields]]
source = "email"
affinity = "emails"
type = "email"
"#;
    let people = "source_id,first,last,email\nP1,Mira,Quenby,mira@quenby.example\nP2,Tobias,Wrenfield,tobias@wrenfield.example\nP3,Selene,Okoro,selene@okoro.example\n";
    Case {
        seed: None,
        files: vec![("m.toml", mapping.into()), ("people.csv", people.into())],
        pull: &["LPs"],
        command: &["push", "m.toml"],
        rule: Rule {
            method: "POST",
            path: "/persons",
            nth: 2,
            fault: Fault::Lose,
        },
    }
}

fn opportunity_case() -> Case {
    let mapping = r#"version = 1
entity = "opportunity"
[source]
path = "deals.csv"
id = "source_id"
[match]
search_term = "deal"
[push]
mode = "create_update"
add_to_list = "Pipeline"
[[fields]]
source = "deal"
affinity = "name"
type = "text"
"#;
    let deals = "source_id,deal\nD1,Quartz Seed\nD2,Nimbus Series A\nD3,Vertex Bridge\n";
    Case {
        seed: None,
        files: vec![("m.toml", mapping.into()), ("deals.csv", deals.into())],
        pull: &["Pipeline"],
        command: &["push", "m.toml"],
        rule: Rule {
            method: "POST",
            path: "/opportunities",
            nth: 2,
            fault: Fault::Lose,
        },
    }
}

#[tokio::test]
async fn an_organization_create_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(org_case("POST", "/organizations", 2)).await;
}

#[tokio::test]
async fn an_organization_create_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(org_case("POST", "/organizations", 2)).await;
}

#[tokio::test]
async fn a_person_create_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(person_case()).await;
}

#[tokio::test]
async fn a_person_create_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(person_case()).await;
}

#[tokio::test]
async fn an_opportunity_create_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(opportunity_case()).await;
}

#[tokio::test]
async fn an_opportunity_create_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(opportunity_case()).await;
}

#[tokio::test]
async fn a_list_add_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(org_case("POST", "/lists/301/list-entries", 2)).await;
}

#[tokio::test]
async fn a_list_add_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(org_case("POST", "/lists/301/list-entries", 2)).await;
}

#[tokio::test]
async fn field_values_whose_answer_is_lost_end_as_one_clean_write() {
    lost_then_rerun(org_case("PATCH", "/v2/lists/301/list-entries/", 2)).await;
}

#[tokio::test]
async fn field_values_killed_after_affinity_wrote_end_as_one_clean_write() {
    killed_then_rerun(org_case("PATCH", "/v2/lists/301/list-entries/", 2)).await;
}

/// The test tenant plus a global person field `Phone` with Grace Hopper's number (she is on
/// `LPs`, which the activity cases pull).
fn phone_seed() -> Seed {
    let mut v: serde_json::Value = serde_json::from_str(include_str!(
        "../../crates/affinity-crm-emulator/fixtures/test-tenant.json"
    ))
    .unwrap();
    v["fields"].as_array_mut().unwrap().push(serde_json::json!(
        {"id": 523, "name": "Phone", "entity_type": 0, "value_type": 6, "allows_multiple": true}
    ));
    v["field_values"].as_array_mut().unwrap().push(
        serde_json::json!({"id": 771, "field_id": 523, "entity_id": 102, "value": "+1 (555) 123-4567"}),
    );
    serde_json::from_value(v).unwrap()
}

const LINE: &str = "+15550001";

/// A feed of two notes, two calls and two events from numbers no one has (each a contact to
/// create, with its phone), logged with `create_contacts = true`.
fn activity_case(method: &'static str, path: &'static str, nth: usize) -> Case {
    let settings =
        "connected_numbers = [\"+1 555 0001\"]\ncreate_contacts = true\nphone_field = \"Phone\"\n";
    let feed = format!(
        r#"{{"id":"n1","kind":"note","line":"{LINE}","contact":"Grace Hopper","text":"Draft terms"}}
{{"id":"n2","kind":"note","line":"{LINE}","contact":"+1 555 123 4567","text":"Sent the deck"}}
{{"id":"c1","kind":"call","direction":"outbound","answered":true,"duration_s":60,"at":"2026-11-20T10:00:00Z","line":"{LINE}","contact":"Grace Hopper"}}
{{"id":"c2","kind":"call","direction":"inbound","answered":true,"duration_s":120,"at":"2026-11-21T10:00:00Z","line":"{LINE}","contact":"+1 555 123 4567"}}
{{"id":"v1","kind":"voicemail","direction":"inbound","duration_s":30,"at":"2026-11-22T09:00:00Z","line":"{LINE}","contact":"+1 555 888 0000","text":"Call me back"}}
{{"id":"s1","kind":"sms","direction":"inbound","at":"2026-11-22T09:05:00Z","line":"{LINE}","contact":"+1 555 777 0000","text":"Lunch?"}}
"#
    );
    Case {
        seed: Some(phone_seed),
        files: vec![("s.toml", settings.into()), ("feed.jsonl", feed)],
        pull: &["LPs"],
        command: &["log-activity", "feed.jsonl", "--settings", "s.toml"],
        rule: Rule {
            method,
            path,
            nth,
            fault: Fault::Lose,
        },
    }
}

#[tokio::test]
async fn a_note_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(activity_case("POST", "/notes", 2)).await;
}

#[tokio::test]
async fn a_note_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(activity_case("POST", "/notes", 2)).await;
}

#[tokio::test]
async fn a_call_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(activity_case("POST", "/interactions", 2)).await;
}

#[tokio::test]
async fn a_call_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(activity_case("POST", "/interactions", 2)).await;
}

#[tokio::test]
async fn a_contact_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(activity_case("POST", "/persons", 1)).await;
}

#[tokio::test]
async fn a_contact_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(activity_case("POST", "/persons", 1)).await;
}

#[tokio::test]
async fn a_contact_phone_whose_answer_is_lost_is_written_once() {
    lost_then_rerun(activity_case("POST", "/field-values", 1)).await;
}

#[tokio::test]
async fn a_contact_phone_killed_after_affinity_wrote_is_written_once() {
    killed_then_rerun(activity_case("POST", "/field-values", 1)).await;
}

/// `contacts sync` of a file with five contacts Affinity lacks and one it has.
fn contacts_case() -> Case {
    let mapping = "[file]\nemail = \"Email\"\nfirst_name = \"First\"\nlast_name = \"Last\"\n[sync]\nout = \"from_affinity.csv\"\n";
    let mut file = String::from("Email,First,Last\ngrace@cobol.dev,Grace,Hopper\n");
    for (i, n) in ["Quenby", "Wrenfield", "Okoro", "Lindqvist", "Abara"]
        .iter()
        .enumerate()
    {
        file.push_str(&format!(
            "c{i}@{}.example,Contact{i},{n}\n",
            n.to_lowercase()
        ));
    }
    Case {
        seed: None,
        files: vec![("contacts.toml", mapping.into()), ("contacts.csv", file)],
        pull: &[],
        command: &[
            "contacts",
            "sync",
            "--file",
            "contacts.csv",
            "--mapping",
            "contacts.toml",
        ],
        rule: Rule {
            method: "POST",
            path: "/persons",
            nth: 3,
            fault: Fault::Lose,
        },
    }
}

#[tokio::test]
async fn a_contacts_sync_create_whose_answer_is_lost_is_not_made_twice() {
    lost_then_rerun(contacts_case()).await;
}

#[tokio::test]
async fn a_contacts_sync_killed_after_affinity_wrote_is_not_made_twice() {
    killed_then_rerun(contacts_case()).await;
}

/// The out file after a lost answer, and after a kill, each followed by a rerun, holds what
/// one clean sync's does: Affinity's side is never lost.
#[tokio::test]
async fn a_contacts_sync_interrupted_loses_none_of_affinitys_side() {
    let case = contacts_case();
    let out_of = |dir: &Path| {
        let mut rows: Vec<String> = std::fs::read_to_string(dir.join("from_affinity.csv"))
            .expect("the out file is written")
            .lines()
            .map(str::to_string)
            .collect();
        rows.sort();
        rows
    };
    let t = emulator(&case).await;
    let (dir, db) = prepared(&case, &t.emu).await;
    let (code, _, err) = affsync(dir.path(), &db, &t.emu.base_url(), case.command).await;
    assert_eq!(code, 0, "{err}");
    let want = out_of(dir.path());
    assert!(
        want.len() >= 4,
        "Affinity's persons the file lacks: {want:?}"
    );

    let t = emulator(&case).await;
    let (dir, db) = prepared(&case, &t.emu).await;
    let proxy = Proxy::start(&t.emu, vec![case.rule.clone()]).await;
    let (code, _, err) = affsync(dir.path(), &db, &proxy.url, case.command).await;
    assert_eq!(code, 4, "a lost answer fails that write alone: {err}");
    assert_eq!(out_of(dir.path()), want, "written before the writes");
    drop(proxy);
    let (code, _, err) = affsync(dir.path(), &db, &t.emu.base_url(), case.command).await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(out_of(dir.path()), want, "and again by the rerun");
    no_run_left_running(&db).await;
}
