//! `affsync match MAPPING`: decisions against the mirror, stored, journaled, written to CSV;
//! reviewers' decisions kept and winning over computed ones.

use affsync::store::decisions::{ReviewRow, ReviewVerdict};
use affsync::store::Store;
use affsync_core::model::RunId;

use crate::common::TestEmu;

const SOURCE: &str = "source_id,company_name,website
A1,Analytical Engines Ltd,https://www.Analytical-Engines.com/about
A2,Cobol Systems Inc,
A3,Brand New Robotics,brandnewrobotics.io
,Nameless Co,nameless.io
A5,Acme Global,
";

const MAPPING: &str = r#"version = 1
entity = "organization"

[source]
path = "companies.csv"
id = "source_id"

[match]
search_term = "website"
within_list = "Deal Flow"
[[match.compare]]
source = "company_name"
affinity = "name"
"#;

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"))
}

#[tokio::test]
async fn match_stores_journals_and_writes_decisions_and_reviewers_win() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(dir.path().join("companies.csv"), SOURCE).unwrap();
    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();

    // Before a pull, the mirror is empty: bad input, with the way out.
    let (code, _, err) = t.run(dir.path(), &db, &["match", "m.toml"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("affsync pull"), "{err}");

    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = t
        .run(
            dir.path(),
            &db,
            &["match", "m.toml", "--json", "--out", "decisions.csv"],
        )
        .await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["records"], 5, "{v}");
    assert_eq!(v["matched"], 3, "{v}");
    assert_eq!(v["matched_by_key"], 1, "{v}");
    assert_eq!(v["matched_by_fuzzy"], 2, "{v}");
    assert_eq!(v["unmatched"], 1, "{v}");
    assert_eq!(v["error"], 1, "{v}");
    assert_eq!(v["mapping"], "m.toml", "{v}");

    let csv = std::fs::read_to_string(dir.path().join("decisions.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "source_id,status,affinity_id,affinity_name,score,method,reason,contributions"
    );
    assert!(lines[1].starts_with("A1,matched,201,"), "{csv}");
    // The Affinity record's name beside its id, as in the JSON.
    let name_of = |id: &str| {
        v["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["affinity_id"] == id)
            .map(|d| d["name"].as_str().unwrap().to_string())
            .unwrap()
    };
    for (line, id) in [(1, "201"), (2, "202")] {
        let want = format!(",{id},{},", name_of(id));
        assert!(lines[line].contains(&want), "{want}: {csv}");
    }
    assert!(lines[1].contains(",key,"), "{csv}");
    assert!(lines[2].starts_with("A2,matched,202,"), "{csv}");
    assert!(lines[2].contains(",fuzzy,"), "{csv}");
    assert!(lines[3].starts_with("A3,unmatched,,"), "{csv}");
    assert!(lines[4].starts_with("row:4,error,,,,"), "{csv}");
    assert!(lines[4].contains("no id"), "{csv}");
    assert!(lines[5].starts_with("A5,matched,203,"), "global: {csv}");

    let store = Store::open(&db).await.unwrap();
    let stored = store.decisions(Some("m.toml")).await.unwrap();
    let ids: Vec<&str> = stored.iter().map(|d| d.source_id.as_str()).collect();
    assert_eq!(ids, ["A1", "A2", "A3", "A5"]);
    assert_eq!(
        stored[0].record.as_ref().unwrap()["website"],
        "https://www.Analytical-Engines.com/about"
    );
    let run_id = RunId(v["run"].as_i64().unwrap());
    let events = store.events(run_id).await.unwrap();
    let steps: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.event.record.clone(), e.event.step.name()))
        .collect();
    assert_eq!(
        steps,
        [
            ("src:A1".into(), "matched".into()),
            ("src:A2".into(), "matched".into()),
            ("src:A3".into(), "unmatched".into()),
            ("row:4".into(), "error".into()),
            ("src:A5".into(), "matched".into()),
        ]
    );
    assert_eq!(
        events[0]
            .event
            .step
            .match_detail()
            .unwrap()
            .method
            .as_deref(),
        Some("key")
    );

    // Reviewers: A2 is not Cobol Systems after all, A3 is.
    for (sid, verdict, id) in [
        ("A2", ReviewVerdict::Reject, None),
        ("A3", ReviewVerdict::Accept, Some("202")),
    ] {
        store
            .save_review(&ReviewRow {
                mapping: "m.toml".into(),
                source_id: sid.into(),
                verdict,
                affinity_id: id.map(Into::into),
                decided_by: Some("reviewer@fund.vc".into()),
                decided_at: "2026-11-21T10:00:00.000Z".into(),
            })
            .await
            .unwrap();
    }
    let (code, out, err) = t.run(dir.path(), &db, &["match", "m.toml", "--json"]).await;
    assert_eq!(code, 0, "{err}");
    let v = json(&out);
    assert_eq!(v["matched_by_reviewer"], 1, "{v}");
    let stored = store.decisions(Some("m.toml")).await.unwrap();
    let by = |id: &str| stored.iter().find(|d| d.source_id == id).unwrap().clone();
    assert_eq!(by("A2").status, "unmatched");
    assert_eq!(by("A2").method.as_deref(), Some("reviewer"));
    assert_eq!(by("A3").status, "matched");
    assert_eq!(by("A3").affinity_id.as_deref(), Some("202"));
    assert_eq!(by("A3").method.as_deref(), Some("reviewer"));

    // Undone, the computed decision is back.
    assert!(store.undo_review("m.toml", "A2").await.unwrap());
    let (code, _, err) = t.run(dir.path(), &db, &["match", "m.toml"]).await;
    assert_eq!(code, 0, "{err}");
    let stored = store.decisions(Some("m.toml")).await.unwrap();
    let a2 = stored.iter().find(|d| d.source_id == "A2").unwrap();
    assert_eq!(a2.method.as_deref(), Some("fuzzy"));
}

#[tokio::test]
async fn match_errors_are_bad_input_with_a_hint() {
    let t = TestEmu::start().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    std::fs::write(
        dir.path().join("m.toml"),
        MAPPING.replace("search_term", "serch_term"),
    )
    .unwrap();
    let (code, _, err) = t.run(dir.path(), &db, &["match", "m.toml"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("m.toml") && err.contains("serch_term") && err.contains("hint:"),
        "{err}"
    );

    std::fs::write(dir.path().join("m.toml"), MAPPING).unwrap();
    let (code, _, err) = t.run(dir.path(), &db, &["pull", "--all-lists"]).await;
    assert_eq!(code, 0, "{err}");
    // The source file is missing.
    let (code, _, err) = t.run(dir.path(), &db, &["match", "m.toml"]).await;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("companies.csv"), "{err}");
}
