//! `affsync push`: create + update and update only against the emulator, values in Affinity's
//! types, list entries added once, a rerun that writes nothing, a dry run that writes nothing.

use affsync::store::Store;

use crate::common::{TestEmu, KEY};

const SOURCE: &str = "source_id,company_name,website,headcount,funded,status,industry
A1,Analytical Engines,https://www.analytical.io/about,120,2024-03-05,Diligence,software
N1,Brand New Robotics,brandnewrobotics.io,15,2023-01-10,New,Hardware
B1,Bad Date Co,baddate.io,10,31/31/2024,New,
E1,Acme Outside,acme-outside.com,,,,
";

fn mapping(mode: &str) -> String {
    mapping_with(mode, "")
}

/// The mapping, with more `[push]` keys.
fn mapping_with(mode: &str, push_keys: &str) -> String {
    format!(
        r#"version = 1
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
mode = "{mode}"
add_to_list = "Deal Flow"
{push_keys}

[[fields]]
source = "headcount"
affinity = "Headcount"
type = "number"

[[fields]]
source = "funded"
affinity = "Last Funding Date"
type = "date"

[[fields]]
source = "status"
affinity = "Status"
type = "ranked_dropdown"

[[fields]]
source = "industry"
affinity = "Industry"
type = "dropdown"
"#
    )
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn create_update_pushes_values_in_affinity_types_and_a_rerun_writes_nothing() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("companies.csv"), SOURCE).unwrap();
    std::fs::write(dir.path().join("m.toml"), mapping("create_update")).unwrap();
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");

    // A dry run plans, and writes nothing.
    let before = t.writes().await;
    let (code, out, err) = t
        .run(dir.path(), &db, &["push", "m.toml", "--dry-run", "--json"])
        .await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(t.writes().await, before, "a dry run writes nothing");
    assert_eq!(v["created"], 2, "{v}");
    assert_eq!(v["failed"], 0, "{v}");
    assert_eq!(v["values_skipped"], 1, "B1's date: {v}");
    assert_eq!(
        v["found_in_affinity"], 1,
        "the global organization, by term search: {v}"
    );
    assert!(v["estimated_calls"].as_u64().unwrap() >= 4, "{v}");
    let a1 = &v["records_detail"][0];
    assert_eq!(a1["action"], "updated", "{a1}");
    assert!(
        a1["fields"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["field"] == "Headcount" && f["new"] == "120"),
        "{a1}"
    );

    // The push: one bad date is skipped with its reason, the record's other values are
    // written; the run is not partial for that.
    let (code, out, err) = t.run(dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v = json(&out);
    assert_eq!(v["created"], 2, "{v}");
    assert_eq!(
        v["updated"], 2,
        "A1 and the global organization found by term search: {v}"
    );
    assert_eq!(v["failed"], 0, "{v}");
    assert_eq!(v["values_skipped"], 1, "{v}");
    let b1 = v["records_detail"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["source_id"] == "B1")
        .unwrap();
    assert_eq!(b1["action"], "created", "{b1}");
    let skipped = &b1["values_skipped"][0];
    assert_eq!(skipped["field"], "Last Funding Date", "{b1}");
    assert_eq!(skipped["value"], "31/31/2024", "{b1}");

    // What Affinity holds now, read back by a fresh pull into another mirror.
    let db2 = format!("sqlite://{}", dir.path().join("check.db").display());
    let (code, _, err) = t
        .run(dir.path(), &db2, &["pull", "--list", "Deal Flow"])
        .await;
    assert_eq!(code, 0, "{err}");
    let store = Store::open(&db2).await.unwrap();
    let list = store.find_list("Deal Flow").await.unwrap().unwrap();
    let view = store.list_view(&list).await.unwrap();
    let by_name = |n: &str| {
        view.entries
            .iter()
            .filter(|e| e.entity_name.as_deref() == Some(n))
            .collect::<Vec<_>>()
    };
    let new = by_name("Brand New Robotics");
    assert_eq!(new.len(), 1, "created once, on the list once");
    assert_eq!(new[0].domain.as_deref(), Some("brandnewrobotics.io"));
    let field = |name: &str| {
        view.fields
            .iter()
            .find(|f| f.name == name)
            .unwrap()
            .id
            .clone()
    };
    let vals = &new[0].values;
    assert_eq!(vals[&field("Headcount")][0].number, Some(15.0));
    // Sent at noon UTC; the emulator keeps a date as Affinity does since 2026 (midnight US
    // Pacific), the same UTC day.
    let at = vals[&field("Last Funding Date")][0].at.clone().unwrap();
    assert!(at.starts_with("2023-01-10T"), "{at}");
    assert_eq!(
        vals[&field("Status")][0].ref_id,
        Some(1),
        "ranked dropdown by option id"
    );
    assert_eq!(vals[&field("Industry")][0].ref_id, Some(22));
    let a1 = by_name("Analytical Engines");
    assert!(a1.iter().any(|e| e
        .values
        .get(&field("Headcount"))
        .is_some_and(|v| v[0].number == Some(120.0))));
    assert_eq!(
        by_name("Acme Outside").len(),
        1,
        "the global organization was added once"
    );
    let bad = by_name("Bad Date Co");
    assert_eq!(bad.len(), 1, "created, its bad date skipped");
    assert_eq!(bad[0].values[&field("Headcount")][0].number, Some(10.0));
    assert!(!bad[0].values.contains_key(&field("Last Funding Date")));

    // Right after, a rerun makes no write call (the bad date is skipped again, writing nothing).
    let before = t.writes().await;
    let (code, out, err) = t.run(dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(t.writes().await, before, "a rerun writes nothing: {v}");
    assert_eq!(v["unchanged"], 4, "{v}");
    assert_eq!(v["write_calls"], 0, "{v}");
}

#[tokio::test]
async fn update_only_creates_nothing_and_counts_skipped_no_match() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(
        dir.path().join("companies.csv"),
        SOURCE.replace("31/31/2024", "2024-01-31"),
    )
    .unwrap();
    std::fs::write(dir.path().join("m.toml"), mapping("update_only")).unwrap();
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t.run(dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v = json(&out);
    assert_eq!(v["created"], 0, "{v}");
    assert_eq!(v["skipped_no_match"], 2, "{v}");
    assert_eq!(v["updated"], 2, "{v}");

    // A mapping the checker rejects costs no call.
    std::fs::write(
        dir.path().join("bad.toml"),
        mapping("update_only").replace("\"Headcount\"", "\"Headcont\""),
    )
    .unwrap();
    let before_all = t.served().await;
    let (code, _, err) = t.run(dir.path(), &db, &["push", "bad.toml"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Headcont") && err.contains("hint"), "{err}");
    assert_eq!(t.served().await, before_all, "not a single call");

    // --max-calls below the estimate: the push does not start.
    std::fs::write(
        dir.path().join("companies.csv"),
        SOURCE
            .replace("120", "121")
            .replace("31/31/2024", "2024-01-31"),
    )
    .unwrap();
    let before = t.writes().await;
    let (code, _, err) = t
        .run(dir.path(), &db, &["push", "m.toml", "--max-calls", "0"])
        .await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--max-calls"), "{err}");
    assert_eq!(t.writes().await, before);
}

#[tokio::test]
async fn retry_pushes_only_the_records_that_failed_and_a_job_pushes() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("companies.csv"), SOURCE).unwrap();
    // `strict`: the bad date fails its record instead of being skipped.
    std::fs::write(
        dir.path().join("m.toml"),
        mapping_with("create_update", "strict = true"),
    )
    .unwrap();
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t.run(dir.path(), &db, &["push", "m.toml", "--json"]).await;
    assert_eq!(code, 4, "{err}");
    let push_run = json(&out)["run"].as_i64().unwrap();

    // The bad date is corrected, and another record changes too: retry pushes only the one
    // that failed.
    std::fs::write(
        dir.path().join("companies.csv"),
        SOURCE.replace("31/31/2024", "2024-12-31").replace(
            "A1,Analytical Engines,https://www.analytical.io/about,120",
            "A1,Analytical Engines,https://www.analytical.io/about,999",
        ),
    )
    .unwrap();
    let before = t.writes().await;
    let (code, out, err) = t
        .run(dir.path(), &db, &["retry", &push_run.to_string(), "--json"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    let v = json(&out);
    assert_eq!(v["retried"], 1, "{v}");
    assert_eq!(v["created"], 1, "{v}");
    assert_eq!(v["records"], 1, "{v}");
    // Bad Date Co: created, added to the list, its list fields in one call.
    assert_eq!(t.writes().await - before, 3, "{v}");

    // A job of a pull and a push: the push step runs and is counted in the job's run.
    std::fs::write(
        dir.path().join("affsync.toml"),
        format!(
            "database_url = \"{db}\"\n[affinity]\nbase_url = \"{}\"\nkey_env = \"AFFINITY_API_KEY\"\n\n\
             [[jobs]]\nname = \"nightly\"\nschedule = \"0 0 2 * * *\"\nsteps = [ {{ pull = [\"Deal Flow\"] }}, {{ match = \"m.toml\" }}, {{ push = \"m.toml\" }} ]\n",
            t.emu.base_url()
        ),
    )
    .unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["run", "nightly", "--json"])
        .current_dir(dir.path())
        .env("AFFINITY_API_KEY", KEY)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let j = json(&stdout);
    assert_eq!(j["status"], "ok", "{j}");
    let steps = j["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 3, "{j}");
    assert_eq!(steps[2]["step"], "push");
    assert_eq!(steps[2]["counts"]["updated"], 1, "A1's new headcount: {j}");
}

/// A record matched to an Affinity record of another name (another legal form, a fuzzy
/// match) shows Affinity's name beside its id, in the dry run's lines and its JSON; one of the
/// same name shows the id alone.
#[tokio::test]
async fn a_dry_run_names_the_affinity_record_when_its_name_is_not_the_sources() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(
        dir.path().join("companies.csv"),
        "source_id,company_name,website,headcount,funded,status,industry\n\
         K1,Cobol Systems Inc,cobol.dev,40,,,\n\
         A1,Analytical Engines,https://www.analytical.io/about,120,,,\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("m.toml"), mapping("update_only")).unwrap();
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t
        .run(dir.path(), &db, &["push", "m.toml", "--dry-run"])
        .await;
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        out.contains("K1 Cobol Systems Inc → Cobol Systems (organization 202): update"),
        "{out}"
    );
    assert!(
        out.contains("A1 Analytical Engines → organization 201: update"),
        "{out}"
    );
    let (code, out, err) = t
        .run(dir.path(), &db, &["push", "m.toml", "--dry-run", "--json"])
        .await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    let k1 = &v["records_detail"][0];
    assert_eq!(
        (&k1["affinity_id"], &k1["affinity_name"]),
        (
            &serde_json::json!("202"),
            &serde_json::json!("Cobol Systems")
        ),
        "{k1}"
    );
}
