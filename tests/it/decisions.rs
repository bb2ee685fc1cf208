//! Decisions a data team can trust: the search term is asked of Affinity before any fuzzy
//! guess, a bad cell is skipped (not the whole record), a rerun writes nothing, and the dry
//! run's estimate is the calls the push makes.

use serde_json::{json, Value};

use affinity_crm_emulator::{EmulatorConfig, Seed};
use affsync::store::Store;
use affsync_core::journal::Step;
use affsync_core::model::RunId;

use crate::common::TestEmu;

/// 61 organizations `Acme 0 Inc` … `Acme 60 Inc` (domains `acme{i}.example`); the first 20 on
/// `Deal Flow`, so that only those are in the mirror after pulling that list. Two off the list
/// have a headcount already: `Acme 30` 77 (the file says 40) and `Acme 31` 41 (as the file).
fn acme_tenant() -> Seed {
    let orgs: Vec<Value> = (0..61)
        .map(|i| {
            json!({"id": 5000 + i, "name": format!("Acme {i} Inc"), "domain": format!("acme{i}.example"),
                   "domains": [format!("acme{i}.example")], "global": false, "person_ids": []})
        })
        .collect();
    let entries: Vec<Value> = (0..20)
        .map(|i| {
            json!({"id": 7000 + i, "list_id": 301, "entity_id": 5000 + i, "creator_id": 1,
                   "created_at": "2024-05-01T10:00:00Z"})
        })
        .collect();
    serde_json::from_value(json!({
        "tenant": {"id": 7, "name": "Acme Tenant", "subdomain": "acmetenant"},
        "user": {"id": 1, "first_name": "Api", "last_name": "Owner", "email": "owner@fund.vc"},
        "persons": [],
        "organizations": orgs,
        "opportunities": [],
        "lists": [{"id": 301, "type": 1, "name": "Deal Flow", "public": true, "owner_id": 1, "creator_id": 1}],
        "fields": [
            {"id": 510, "name": "Headcount", "list_id": null, "entity_type": 1, "value_type": 3,
             "allows_multiple": false, "track_changes": true, "dropdown_options": []},
            {"id": 511, "name": "Last Funding Date", "list_id": null, "entity_type": 1, "value_type": 4,
             "allows_multiple": false, "track_changes": true, "dropdown_options": []}
        ],
        "list_entries": entries,
        "field_values": [
            {"id": 9030, "field_id": 510, "entity_id": 5030, "value": 77},
            {"id": 9031, "field_id": 510, "entity_id": 5031, "value": 41}
        ],
        "notes": [],
        "interactions": [],
        "merged": []
    }))
    .expect("a valid seed")
}

/// `Acme 0` … `Acme 59` with websites written the long way, 20 new companies, and `Acme 60`
/// whose funding date is not a date.
fn acme_source() -> String {
    let mut s = String::from("source_id,company_name,website,headcount,funded\n");
    for i in 0..60 {
        s.push_str(&format!(
            "A{i},Acme {i},https://www.acme{i}.example/about,{},2024-01-{:02}\n",
            10 + i,
            i % 28 + 1
        ));
    }
    for i in 0..20 {
        s.push_str(&format!(
            "N{i},Newco {i},newco{i}.example,{},2023-06-01\n",
            5 + i
        ));
    }
    s.push_str("A60,Acme 60,acme60.example,99,sometime soon\n");
    s
}

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "companies.csv"
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

[[fields]]
source = "funded"
affinity = "Last Funding Date"
type = "date"
"#;

fn json_out(out: &str) -> Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn search_terms_are_asked_of_affinity_before_fuzzy_and_the_estimate_is_exact() {
    let t = TestEmu::with(EmulatorConfig::default(), acme_tenant()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("companies.csv"), acme_source()).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let (code, _, err) = t
        .run(dir.path(), &db, &["pull", "--list", "Deal Flow"])
        .await;
    assert_eq!(code, 0, "{err}");

    // The dry run: its estimate counts the term searches and every write.
    let (code, out, err) = t
        .run(dir.path(), &db, &["push", "m.toml", "--dry-run", "--json"])
        .await;
    assert_eq!(code, 0, "{err}");
    let dry = json_out(&out);
    assert_eq!(dry["updated"], 61, "{dry}");
    assert_eq!(dry["created"], 20, "{dry}");
    assert_eq!(dry["awaiting_review"], 0, "{dry}");
    assert_eq!(dry["found_in_affinity"], 41, "{dry}");
    let estimate = dry["estimated_calls"].as_u64().unwrap();

    // The push makes exactly the calls the dry run said.
    let before = t.served().await;
    let (code, out, err) = t.run(dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v = json_out(&out);
    assert_eq!(t.served().await - before, estimate, "{v}");
    assert_eq!(v["api_calls"].as_u64().unwrap(), estimate, "{v}");
    assert_eq!(v["updated"], 61, "{v}");
    assert_eq!(v["created"], 20, "{v}");
    assert_eq!(v["failed"], 0, "{v}");
    assert_eq!(v["values_skipped"], 1, "{v}");
    let a60 = v["records_detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_id"] == "A60")
        .unwrap()
        .clone();
    assert_eq!(a60["action"], "updated", "{a60}");
    assert_eq!(a60["affinity_id"], "5060", "{a60}");
    assert_eq!(
        a60["values_skipped"][0]["field"], "Last Funding Date",
        "{a60}"
    );
    assert!(
        a60["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "Headcount" && f["new"] == "99"),
        "its other values are written: {a60}"
    );

    // The values of those found off the list were read before planning: the journal says
    // what Affinity held, and an equal value is not written again.
    let fields_of = |id: &str| {
        v["records_detail"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["source_id"] == id)
            .unwrap()["fields"]
            .clone()
    };
    let a30 = fields_of("A30");
    assert!(
        a30.as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "Headcount" && f["old"] == "77" && f["new"] == "40"),
        "{a30}"
    );
    let a31 = fields_of("A31");
    assert!(
        a31.as_array()
            .unwrap()
            .iter()
            .all(|f| f["field"] != "Headcount"),
        "{a31}"
    );

    // Affinity holds each organization once, and each on the list once.
    let orgs: Vec<Value> = t.get("/v2/companies?limit=100", 200).await["data"]
        .as_array()
        .unwrap()
        .clone();
    let names: Vec<&str> = orgs.iter().map(|o| o["name"].as_str().unwrap()).collect();
    assert_eq!(names.len(), 81, "{names:?}");
    let mut entries = Vec::new();
    let mut url = "/v2/lists/301/list-entries?limit=100".to_string();
    loop {
        let page = t.get(&url, 200).await;
        entries.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["entity"]["id"].clone()),
        );
        match page["pagination"]["nextUrl"].as_str() {
            Some(next) => url = next.trim_start_matches(&t.emu.base_url()).to_string(),
            None => break,
        }
    }
    let distinct: std::collections::BTreeSet<String> =
        entries.iter().map(|e| e.to_string()).collect();
    assert_eq!(entries.len(), 81, "every organization on the list");
    assert_eq!(distinct.len(), 81, "each once");

    // A rerun: nothing to write, and nothing left to look up.
    let before_writes = t.writes().await;
    let (code, out, err) = t.run(dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v = json_out(&out);
    assert_eq!(
        t.writes().await,
        before_writes,
        "a rerun writes nothing: {v}"
    );
    assert_eq!(v["unchanged"], 81, "{v}");
    // `Acme 60`'s date still does not convert: the rerun skips it again and says so, as its
    // dry run does, with the step in the journal.
    assert_eq!(v["values_skipped"], 1, "{v}");
    let (code, out, err) = t
        .run(dir.path(), &db, &["push", "m.toml", "--dry-run", "--json"])
        .await;
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        json_out(&out)["values_skipped"],
        v["values_skipped"],
        "{out}"
    );
    let store = Store::open(&db).await.unwrap();
    let steps: Vec<String> = store
        .events(RunId(v["run"].as_i64().unwrap()))
        .await
        .unwrap()
        .iter()
        .filter(|e| matches!(e.event.step, Step::ValueSkipped { .. }))
        .map(|e| e.event.record.clone())
        .collect();
    assert_eq!(steps.len(), 1, "{steps:?}");
}
