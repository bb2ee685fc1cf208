//! The emulator's v1 API against the fact sheet (`../shared/affinity-api.md` §2, §8), over raw
//! HTTP, and the shape of its answers against recorded v1 answers
//! (`fixtures/affinity/v1-recorded/`, and Affinity's doc examples from `../shared` when present).

use std::collections::BTreeSet;

use crate::common::*;
use chrono::DateTime;
use reqwest::Method;
use serde_json::{json, Value};

/// A recorded v1 answer of the repository (`fixtures/affinity/v1-recorded/`).
fn recorded(name: &str) -> Value {
    let path = crate::decode::fixtures().join("v1-recorded").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

/// One of Affinity's v1 doc examples, from `../shared` (it is not open licensed, so not in
/// the repository: fixtures/affinity/README.md), for the test that is ignored without them.
fn doc_example(name: &str) -> Value {
    let path = crate::decode::shared().join("v1-fixtures").join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read `{}`: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect()
}

fn ids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {items}"))
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect()
}

fn error(body: &Value) -> String {
    body["errors"][0]
        .as_str()
        .unwrap_or_else(|| panic!("v1 errors are strings: {body}"))
        .to_string()
}

async fn delete(t: &TestEmu, path: &str, status: u16) -> Value {
    send(t.req(Method::DELETE, path), status).await
}

/// Follows `next_page_token` from `path` (which has its own query) to the end; gives every
/// page's items under `key` and the last two tokens' states.
async fn all_pages(t: &TestEmu, path: &str, key: &str) -> Vec<Vec<i64>> {
    let mut pages = vec![];
    let mut token: Option<String> = None;
    loop {
        let url = match &token {
            None => path.to_string(),
            Some(tok) => format!("{path}&page_token={tok}"),
        };
        let body = t.get(&url, 200).await;
        pages.push(ids(&body[key]));
        match body["next_page_token"].as_str() {
            Some(tok) => token = Some(tok.to_string()),
            None => {
                assert!(body["next_page_token"].is_null(), "{body}");
                return pages;
            }
        }
        assert!(pages.len() < 50, "paging does not end");
    }
}

#[tokio::test]
async fn list_entries_are_a_bare_array_without_page_size_and_paged_with_it() {
    let t = TestEmu::start().await;
    let bare = t.get("/lists/301/list-entries", 200).await;
    assert_eq!(ids(&bare), vec![601, 602, 603, 604]);
    // The same organization twice on one list (§8.5).
    assert_eq!(bare[0]["entity_id"], 201);
    assert_eq!(bare[2]["entity_id"], 201);
    assert_eq!(bare[0]["entity"]["name"], "Analytical Engines");
    assert_eq!(bare[0]["entity_type"], 1);

    // page_size=1 over four entries: four full pages, the last of which still carries a
    // token leading to an empty page with a null token (§2.2).
    let pages = all_pages(&t, "/lists/301/list-entries?page_size=1", "list_entries").await;
    assert_eq!(
        pages,
        vec![vec![601], vec![602], vec![603], vec![604], vec![]]
    );
    // Not a multiple: no empty page.
    let pages = all_pages(&t, "/lists/301/list-entries?page_size=3", "list_entries").await;
    assert_eq!(pages, vec![vec![601, 602, 603], vec![604]]);

    let one = t.get("/lists/301/list-entries/602", 200).await;
    assert_eq!(one["entity"]["domain"], "cobol.dev");
    t.get("/lists/302/list-entries/602", 404).await;
    t.get("/lists/999/list-entries", 404).await;
}

#[tokio::test]
async fn paging_walks_three_or_more_pages_with_a_final_empty_page() {
    let t = TestEmu::start().await;
    // (path, key, every id in order, page size)
    let cases: [(&str, &str, Vec<i64>, usize); 4] = [
        (
            "/persons?page_size=2",
            "persons",
            vec![1, 101, 102, 103, 104, 105],
            2,
        ),
        (
            "/organizations?page_size=1",
            "organizations",
            vec![201, 202, 203, 205],
            1,
        ),
        ("/notes?page_size=1", "notes", vec![801, 802, 803], 1),
        (
            "/persons?page_size=4",
            "persons",
            vec![1, 101, 102, 103, 104, 105],
            4,
        ),
    ];
    for (path, key, want, size) in cases {
        let pages = all_pages(&t, path, key).await;
        let flat: Vec<i64> = pages.iter().flatten().copied().collect();
        assert_eq!(flat, want, "{path}");
        assert!(pages.len() >= 2, "{path}: {pages:?}");
        if want.len() % size == 0 {
            assert_eq!(pages.last().unwrap(), &Vec::<i64>::new(), "{path}");
            assert_eq!(pages.len(), want.len() / size + 1, "{path}");
        } else {
            assert!(!pages.last().unwrap().is_empty(), "{path}");
        }
    }
    // Without page_size, one page of up to 500 with a null token.
    let body = t.get("/persons", 200).await;
    assert_eq!(ids(&body["persons"]).len(), 6);
    assert!(body["next_page_token"].is_null());
}

#[tokio::test]
async fn a_page_token_with_other_params_is_refused() {
    let t = TestEmu::start().await;
    let first = t.get("/persons?term=a&page_size=1", 200).await;
    let tok = first["next_page_token"].as_str().unwrap().to_string();
    // Same params: fine.
    let second = t
        .get(&format!("/persons?term=a&page_token={tok}"), 200)
        .await;
    assert_ne!(ids(&second["persons"]), ids(&first["persons"]));
    for path in [
        format!("/persons?term=b&page_token={tok}"),
        format!("/persons?page_token={tok}"),
        format!("/persons?term=a&with_opportunities=true&page_token={tok}"),
        "/persons?page_token=not-a-token".to_string(),
        "/notes?page_token=eyJub3BlIjoxfQ".to_string(),
    ] {
        let body = t.get(&path, 422).await;
        assert_eq!(error(&body), "Invalid page_token variable", "{path}");
    }
}

#[tokio::test]
async fn term_is_a_case_insensitive_substring_search() {
    let t = TestEmu::start().await;
    let cases: [(&str, &str, Vec<i64>); 9] = [
        ("/persons?term=ADA", "persons", vec![101]),
        ("/persons?term=bletchley", "persons", vec![103]),
        ("/persons?term=hopp", "persons", vec![102]),
        ("/persons?term=fund.vc", "persons", vec![1, 104]),
        ("/persons?term=zzz", "persons", vec![]),
        // Global orgs outside the tenant come back only when term is the only filter (§8.2).
        ("/organizations?term=acme", "organizations", vec![203, 204]),
        (
            "/organizations?term=acme&with_opportunities=true",
            "organizations",
            vec![203],
        ),
        (
            "/organizations?term=ENGINEWORKS.co",
            "organizations",
            vec![205],
        ),
        ("/opportunities?term=series", "opportunities", vec![401]),
    ];
    for (path, key, want) in cases {
        let body = t.get(path, 200).await;
        assert_eq!(ids(&body[key]), want, "{path}");
    }
    let body = t.get("/organizations?term=acme", 200).await;
    assert_eq!(body["organizations"][1]["global"], true);
    // Never listed without a term.
    let all = t.get("/organizations", 200).await;
    assert!(!ids(&all["organizations"]).contains(&204));
}

#[tokio::test]
async fn global_organizations_cannot_be_renamed_redomained_or_deleted() {
    let t = TestEmu::start().await;
    for body in [
        json!({"name": "Acme Renamed"}),
        json!({"domain": "acme.io"}),
    ] {
        t.send_json(Method::PUT, "/organizations/203", body, 422)
            .await;
    }
    delete(&t, "/organizations/203", 422).await;
    // Linking people is fine; so is sending the same name back.
    let org = t
        .send_json(
            Method::PUT,
            "/organizations/203",
            json!({"name": "Acme Global", "person_ids": [103]}),
            200,
        )
        .await;
    assert_eq!(org["person_ids"], json!([103]));
    assert_eq!(org["name"], "Acme Global");
    // A tenant organization can be renamed, re-domained and deleted.
    let org = t
        .send_json(
            Method::PUT,
            "/organizations/205",
            json!({"name": "Engine Works Ltd", "domain": "EngineWorks.com"}),
            200,
        )
        .await;
    assert_eq!(org["domain"], "engineworks.com");
    assert_eq!(org["domains"], json!(["engineworks.com"]));
    assert_eq!(
        delete(&t, "/organizations/205", 200).await,
        json!({"success": true})
    );
    t.get("/organizations/205", 404).await;
}

#[tokio::test]
async fn merged_entities_answer_422_naming_the_survivor() {
    let t = TestEmu::start().await;
    let cases = [
        (Method::GET, "/organizations/299", "organization_id", "201"),
        (Method::PUT, "/organizations/299", "organization_id", "201"),
        (
            Method::DELETE,
            "/organizations/299",
            "organization_id",
            "201",
        ),
        (Method::GET, "/persons/199", "person_id", "101"),
        (Method::PUT, "/persons/199", "person_id", "101"),
        (Method::DELETE, "/persons/199", "person_id", "101"),
        (
            Method::GET,
            "/field-values?person_id=199",
            "person_id",
            "101",
        ),
    ];
    for (method, path, param, new) in cases {
        let body = send(t.req(method.clone(), path).json(&json!({"name": "x"})), 422).await;
        let msg = error(&body);
        assert!(msg.starts_with(param), "{method} {path}: {msg}");
        assert!(
            msg.contains(&format!("has been merged into {new}")),
            "{method} {path}: {msg}"
        );
    }
    // An id that never existed is a plain 404.
    t.get("/persons/98765", 404).await;
}

#[tokio::test]
async fn an_email_belongs_to_one_person_only() {
    let t = TestEmu::start().await;
    let dup = t
        .send_json(
            Method::POST,
            "/persons",
            json!({"first_name": "Eve", "last_name": "X", "emails": ["ADA@analytical.io"]}),
            422,
        )
        .await;
    assert!(error(&dup).contains("101"), "{dup}");
    t.send_json(
        Method::PUT,
        "/persons/102",
        json!({"emails": ["ada.l@gmail.com"]}),
        422,
    )
    .await;
    let eve = t
        .send_json(
            Method::POST,
            "/persons",
            json!({"first_name": "Eve", "last_name": "X", "emails": [], "organization_ids": [202]}),
            200,
        )
        .await;
    assert!(eve["primary_email"].is_null());
    assert_eq!(eve["organization_ids"], json!([202]));
    let org = t.get("/organizations/202", 200).await;
    assert!(org["person_ids"].as_array().unwrap().contains(&eve["id"]));
    // A person keeps its own emails on update.
    t.send_json(
        Method::PUT,
        "/persons/101",
        json!({"emails": ["ada@analytical.io"]}),
        200,
    )
    .await;
}

#[tokio::test]
async fn lists_take_the_same_entity_twice_but_not_opportunities() {
    let t = TestEmu::start().await;
    let a = t
        .send_json(
            Method::POST,
            "/lists/301/list-entries",
            json!({"entity_id": 202}),
            200,
        )
        .await;
    let b = t
        .send_json(
            Method::POST,
            "/lists/301/list-entries",
            json!({"entity_id": 202}),
            200,
        )
        .await;
    assert_ne!(a["id"], b["id"]);
    assert_eq!(a["creator_id"], 1);
    let entries = t.get("/lists/301/list-entries", 200).await;
    let of_202 = entries
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity_id"] == 202)
        .count();
    assert_eq!(of_202, 3);
    let lists = t.get("/lists", 200).await;
    assert_eq!(lists[0]["list_size"], 6);
    // Opportunity lists take entries only through POST /opportunities; wrong entities refused.
    t.send_json(
        Method::POST,
        "/lists/303/list-entries",
        json!({"entity_id": 401}),
        422,
    )
    .await;
    t.send_json(
        Method::POST,
        "/lists/302/list-entries",
        json!({"entity_id": 201}),
        422,
    )
    .await;
    // A global org from outside the tenant, once listed, is part of the tenant.
    t.send_json(
        Method::POST,
        "/lists/301/list-entries",
        json!({"entity_id": 204}),
        200,
    )
    .await;
    let orgs = t.get("/organizations", 200).await;
    assert!(ids(&orgs["organizations"]).contains(&204));
}

#[tokio::test]
async fn put_replaces_the_whole_set_of_emails_and_organizations() {
    let t = TestEmu::start().await;
    let p = t
        .send_json(
            Method::PUT,
            "/persons/101",
            json!({"emails": ["new@ada.io"]}),
            200,
        )
        .await;
    assert_eq!(p["emails"], json!(["new@ada.io"]));
    assert_eq!(p["primary_email"], "new@ada.io");
    assert_eq!(p["first_name"], "Ada", "partial update keeps the rest");
    assert_eq!(p["organization_ids"], json!([201]));
    // The old emails are free again.
    t.send_json(
        Method::POST,
        "/persons",
        json!({"first_name": "Other", "last_name": null, "emails": ["ada.l@gmail.com"]}),
        200,
    )
    .await;
    let p = t
        .send_json(
            Method::PUT,
            "/persons/101",
            json!({"organization_ids": [202]}),
            200,
        )
        .await;
    assert_eq!(p["organization_ids"], json!([202]));
    assert_eq!(p["emails"], json!(["new@ada.io"]));
    let o201 = t.get("/organizations/201", 200).await;
    assert_eq!(o201["person_ids"], json!([]));
    let o202 = t.get("/organizations/202", 200).await;
    assert_eq!(o202["person_ids"], json!([102, 101]));
    // And from the organization's side.
    t.send_json(
        Method::PUT,
        "/organizations/202",
        json!({"person_ids": [103]}),
        200,
    )
    .await;
    assert_eq!(
        t.get("/persons/101", 200).await["organization_ids"],
        json!([])
    );
    assert_eq!(
        t.get("/persons/103", 200).await["organization_ids"],
        json!([202])
    );
}

#[tokio::test]
async fn dates_are_stored_at_midnight_pacific_and_read_with_an_offset() {
    let t = TestEmu::start().await;
    let fv = t
        .send_json(
            Method::POST,
            "/field-values",
            json!({"field_id": 503, "entity_id": 202, "list_entry_id": 602,
                   "value": "2024-04-01T15:30:00Z"}),
            200,
        )
        .await;
    assert_eq!(fv["value"], "2024-04-01T00:00:00.000-07:00");
    let read = t.get("/field-values?list_entry_id=602", 200).await;
    let stored = read
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["field_id"] == 503)
        .unwrap();
    let instant = DateTime::parse_from_rfc3339(stored["value"].as_str().unwrap()).unwrap();
    let want = DateTime::parse_from_rfc3339("2024-04-01T07:00:00Z").unwrap();
    assert_eq!(instant, want);
    // The seeded value (written as the same instant) reads the same.
    let seeded = t.get("/field-values?list_entry_id=601", 200).await;
    let d = seeded
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["id"] == 703)
        .unwrap();
    assert_eq!(d["value"], "2024-04-01T00:00:00.000-07:00");
}

#[tokio::test]
async fn ranked_dropdowns_are_written_by_option_id_and_single_fields_take_one_value() {
    let t = TestEmu::start().await;
    let by_text = t
        .send_json(
            Method::POST,
            "/field-values",
            json!({"field_id": 501, "entity_id": 203, "list_entry_id": 604, "value": "Closed"}),
            422,
        )
        .await;
    assert!(error(&by_text).starts_with("value"), "{by_text}");
    let fv = t
        .send_json(
            Method::POST,
            "/field-values",
            json!({"field_id": 501, "entity_id": 203, "list_entry_id": 604, "value": 3}),
            200,
        )
        .await;
    assert_eq!(
        fv["value"],
        json!({"id": 3, "text": "Closed", "rank": 2, "color": 3})
    );
    // A second POST to the filled single-valued field is refused [I], naming the value to PUT.
    let again = t
        .send_json(
            Method::POST,
            "/field-values",
            json!({"field_id": 501, "entity_id": 203, "list_entry_id": 604, "value": 1}),
            422,
        )
        .await;
    assert!(error(&again).contains(&fv["id"].to_string()), "{again}");
    let put = t
        .send_json(
            Method::PUT,
            &format!("/field-values/{}", fv["id"]),
            json!({"value": 1}),
            200,
        )
        .await;
    assert_eq!(put["value"]["text"], "New");
    assert!(put["updated_at"].is_string());
    // Multi-valued fields take one record per value; plain dropdowns are written by text.
    t.send_json(
        Method::POST,
        "/field-values",
        json!({"field_id": 506, "entity_id": 201, "list_entry_id": 601, "value": "climate"}),
        200,
    )
    .await;
    // Enriched fields are read-only; list fields need their entry; global ones refuse one.
    let refused = [
        json!({"field_id": 513, "entity_id": 202, "value": 5}),
        json!({"field_id": 504, "entity_id": 202, "value": "x"}),
        json!({"field_id": 511, "entity_id": 202, "list_entry_id": 602, "value": "Software"}),
        json!({"field_id": 999, "entity_id": 202, "value": "x"}),
        json!({"field_id": 505, "entity_id": 202, "list_entry_id": 602, "value": "many"}),
    ];
    for body in refused {
        t.send_json(Method::POST, "/field-values", body.clone(), 422)
            .await;
    }
}

#[tokio::test]
async fn field_values_read_in_their_v1_form_for_exactly_one_target() {
    let t = TestEmu::start().await;
    let org = t.get("/field-values?organization_id=201", 200).await;
    let got = ids(&org);
    // Global values plus the values on both of its list entries.
    for id in [701, 702, 703, 704, 705, 706, 707, 708, 709, 710, 711] {
        assert!(got.contains(&id), "{id} in {got:?}");
    }
    let by_id = |id: i64| {
        org.as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(706)["value"], "Fintech");
    assert!(by_id(705)["value"].is_f64());
    assert_eq!(by_id(705)["value"], 42.0);
    assert_eq!(by_id(702)["value"], 104);
    assert_eq!(by_id(710)["value"]["city"], "London");
    assert_eq!(by_id(709)["list_entry_id"], Value::Null);
    assert_eq!(by_id(701)["value"]["color"], 2);
    let opp = t.get("/field-values?opportunity_id=401", 200).await;
    assert_eq!(ids(&opp), vec![714]);
    for path in [
        "/field-values",
        "/field-values?person_id=101&organization_id=201",
        "/field-values?person_id=abc",
    ] {
        t.get(path, 422).await;
    }
    t.get("/field-values?list_entry_id=9999", 404).await;
}

#[tokio::test]
async fn deleting_an_opportunity_list_entry_deletes_the_opportunity() {
    let t = TestEmu::start().await;
    assert_eq!(
        delete(&t, "/lists/303/list-entries/621", 200).await,
        json!({"success": true})
    );
    t.get("/opportunities/401", 404).await;
    assert_eq!(
        t.get("/opportunities", 200).await["opportunities"],
        json!([])
    );
    // An organization list entry takes its list-specific values with it, not the org's own.
    delete(&t, "/lists/301/list-entries/601", 200).await;
    t.get("/organizations/201", 200).await;
    let left = ids(&t.get("/field-values?organization_id=201", 200).await);
    assert_eq!(left, vec![709, 710, 711]);
    delete(&t, "/lists/301/list-entries/601", 404).await;
}

#[tokio::test]
async fn field_value_changes_are_recorded() {
    let t = TestEmu::start().await;
    let fv = t
        .send_json(
            Method::POST,
            "/field-values",
            json!({"field_id": 522, "entity_id": 102, "list_entry_id": 612, "value": 100}),
            200,
        )
        .await;
    let path = format!("/field-values/{}", fv["id"]);
    t.send_json(Method::PUT, &path, json!({"value": 250.5}), 200)
        .await;
    delete(&t, &path, 200).await;
    let changes = t.get("/field-value-changes?field_id=522", 200).await;
    let actions: Vec<i64> = changes
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action_type"].as_i64().unwrap())
        .collect();
    assert_eq!(actions, vec![0, 2, 1]);
    assert_eq!(changes[1]["value"], 250.5);
    assert_eq!(changes[0]["changer"]["id"], 1);
    assert_eq!(changes[0]["list_entry_id"], 612);
    let updates = t
        .get("/field-value-changes?field_id=522&action_type=2", 200)
        .await;
    assert_eq!(updates.as_array().unwrap().len(), 1);
    let for_person = t
        .get("/field-value-changes?field_id=522&person_id=102", 200)
        .await;
    assert_eq!(for_person.as_array().unwrap().len(), 3);
    let other = t
        .get("/field-value-changes?field_id=522&person_id=104", 200)
        .await;
    assert_eq!(other, json!([]));
    // Text fields keep no history; field_id is required.
    t.get("/field-value-changes?field_id=504", 422).await;
    t.get("/field-value-changes", 422).await;
}

#[tokio::test]
async fn malformed_requests_get_v1_errors_not_plain_text() {
    let t = TestEmu::start().await;
    let cases = [
        (Method::POST, "/persons", Some("not json")),
        (Method::POST, "/persons", None),
        (Method::POST, "/persons", Some("{\"first_name\": 3}")),
        (Method::POST, "/notes", Some("[]")),
        (Method::PUT, "/persons/101", Some("{")),
        (Method::GET, "/persons/abc", None),
        (Method::GET, "/lists/x/list-entries", None),
        (Method::GET, "/persons?page_size=zero", None),
    ];
    for (method, path, body) in cases {
        let mut rb = t.req(method.clone(), path);
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = send(rb, 422).await;
        error(&resp);
    }
}

#[tokio::test]
async fn notes_escape_underscores_and_check_their_targets() {
    let t = TestEmu::start().await;
    let n = t
        .send_json(
            Method::POST,
            "/notes",
            json!({"content": "see snake_case_name", "person_ids": [103], "type": 2}),
            200,
        )
        .await;
    assert_eq!(n["content"], "see snake\\_case\\_name");
    assert_eq!(n["creator_id"], 1);
    assert_eq!(n["type"], 2);
    let id = n["id"].as_i64().unwrap();
    let reply = t
        .send_json(
            Method::POST,
            "/notes",
            json!({"content": "reply", "parent_id": id, "person_ids": [101]}),
            200,
        )
        .await;
    assert_eq!(reply["person_ids"], json!([]), "a reply ignores entity ids");
    let refused = [
        json!({"content": "orphan"}),
        json!({"content": "x", "person_ids": [103], "type": 1}),
        json!({"content": "x", "person_ids": [103], "created_at": "2999-01-01T00:00:00Z"}),
        json!({"content": "x", "person_ids": [98765]}),
        json!({"content": "x", "parent_id": 98765}),
    ];
    for body in refused {
        t.send_json(Method::POST, "/notes", body.clone(), 422).await;
    }
    let path = format!("/notes/{id}");
    let upd = t
        .send_json(Method::PUT, &path, json!({"content": "a_b"}), 200)
        .await;
    assert_eq!(upd["content"], "a\\_b");
    assert!(upd["updated_at"].is_string());
    let by_person = t.get("/notes?person_id=103", 200).await;
    assert_eq!(ids(&by_person["notes"]), vec![id]);
    let by_org = t.get("/notes?organization_id=201", 200).await;
    assert_eq!(ids(&by_org["notes"]), vec![801, 802]);
    delete(&t, &path, 200).await;
    t.get(&path, 404).await;
}

#[tokio::test]
async fn interactions_need_a_window_of_at_most_a_year() {
    let t = TestEmu::start().await;
    let window = "start_time=2024-01-01T00:00:00Z&end_time=2024-12-31T00:00:00Z";
    let calls = t
        .get(&format!("/interactions?type=1&{window}&person_id=101"), 200)
        .await;
    assert_eq!(ids(&calls["calls"]), vec![901]);
    assert!(calls["next_page_token"].is_null());
    let by_org = t
        .get(
            &format!("/interactions?type=1&{window}&organization_id=201"),
            200,
        )
        .await;
    assert_eq!(ids(&by_org["calls"]), vec![901]);
    let emails = t
        .get(&format!("/interactions?type=3&{window}&person_id=101"), 200)
        .await;
    assert_eq!(emails["emails"], json!([]));
    for path in [
        "/interactions?type=1&start_time=2023-01-01T00:00:00Z&end_time=2024-06-01T00:00:00Z&person_id=101".to_string(),
        format!("/interactions?type=1&{window}"),
        format!("/interactions?{window}&person_id=101"),
    ] {
        t.get(&path, 422).await;
    }
    let created = t
        .send_json(
            Method::POST,
            "/interactions",
            json!({"type": 0, "person_ids": [102], "content": "Lunch",
                   "date": "2024-06-01T12:00:00Z", "direction": 0}),
            200,
        )
        .await;
    let id = created["id"].as_i64().unwrap();
    let meetings = t
        .get(&format!("/interactions?type=0&{window}&person_id=102"), 200)
        .await;
    assert_eq!(ids(&meetings["events"]), vec![id]);
    t.send_json(
        Method::PUT,
        &format!("/interactions/{id}"),
        json!({"type": 0, "content": "Dinner"}),
        200,
    )
    .await;
    let got = t.get(&format!("/interactions/{id}?type=0"), 200).await;
    assert_eq!(got["content"], "Dinner");
    t.get(&format!("/interactions/{id}?type=1"), 404).await;
    delete(&t, &format!("/interactions/{id}?type=0"), 200).await;
    t.send_json(
        Method::POST,
        "/interactions",
        json!({"type": 3, "person_ids": [102], "date": "2024-06-01T12:00:00Z"}),
        422,
    )
    .await;
}

#[tokio::test]
async fn lists_and_fields() {
    let t = TestEmu::start().await;
    let lists = t.get("/lists", 200).await;
    assert_eq!(ids(&lists), vec![301, 302, 303]);
    assert_eq!(lists[2]["type"], 8);
    assert_eq!(lists[0]["list_size"], 4);
    let one = t.get("/lists/301", 200).await;
    assert_eq!(ids(&one["fields"]), vec![501, 502, 503, 504, 505, 506, 507]);
    let cases: [(&str, Vec<i64>); 6] = [
        ("/fields?list_id=302", vec![522]),
        ("/fields?value_type=7", vec![501]),
        ("/fields?entity_type=0", vec![521, 522]),
        ("/persons/fields", vec![521]),
        ("/organizations/fields", vec![511, 512, 513, 514]),
        ("/fields?list_id=303&entity_type=8", vec![531]),
    ];
    for (path, want) in cases {
        assert_eq!(ids(&t.get(path, 200).await), want, "{path}");
    }
    let named = t
        .get(
            "/fields?list_id=301&with_modified_names=true&exclude_dropdown_options=true",
            200,
        )
        .await;
    assert_eq!(named[0]["name"], "[Deal Flow] Status");
    assert_eq!(named[0]["dropdown_options"], json!([]));
    let list = t
        .send_json(
            Method::POST,
            "/lists",
            json!({"name": "Scouts", "type": 0, "is_public": false}),
            200,
        )
        .await;
    assert_eq!(list["owner_id"], 1);
    assert_eq!(list["list_size"], 0);
    let f = t
        .send_json(
            Method::POST,
            "/fields",
            json!({"name": "Tier", "entity_type": 0, "value_type": 3, "list_id": list["id"]}),
            200,
        )
        .await;
    assert_eq!(f["list_id"], list["id"]);
    assert_eq!(f["enrichment_source"], "none");
    t.send_json(
        Method::POST,
        "/fields",
        json!({"name": "Bad", "entity_type": 1, "value_type": 3, "list_id": list["id"]}),
        422,
    )
    .await;
    delete(&t, &format!("/fields/{}", f["id"]), 200).await;
    delete(&t, "/fields/513", 422).await;
    // Deleting a field takes its values.
    delete(&t, "/fields/505", 200).await;
    let left = ids(&t.get("/field-values?list_entry_id=601", 200).await);
    assert!(!left.contains(&705));
}

#[tokio::test]
async fn opportunities_and_organizations_lifecycle() {
    let t = TestEmu::start().await;
    let opp = t
        .send_json(
            Method::POST,
            "/opportunities",
            json!({"name": "Cobol Seed", "list_id": 303, "person_ids": [102], "organization_ids": [202]}),
            200,
        )
        .await;
    let entries = opp["list_entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["list_id"], 303);
    t.send_json(
        Method::POST,
        "/opportunities",
        json!({"name": "Wrong", "list_id": 301}),
        422,
    )
    .await;
    let path = format!("/opportunities/{}", opp["id"]);
    let upd = t
        .send_json(Method::PUT, &path, json!({"person_ids": [103]}), 200)
        .await;
    assert_eq!(upd["person_ids"], json!([103]));
    assert_eq!(upd["organization_ids"], json!([202]));
    delete(&t, &path, 200).await;
    t.get(&path, 404).await;
    assert_eq!(t.get("/lists/303", 200).await["list_size"], 1);

    let org = t
        .send_json(
            Method::POST,
            "/organizations",
            json!({"name": "New Co", "domain": "newco.io", "person_ids": [103]}),
            200,
        )
        .await;
    assert_eq!(
        keys(&org),
        keys(
            &json!({"id":0,"name":0,"domain":0,"domains":0,"crunchbase_uuid":0,"global":0,"person_ids":0})
        )
    );
    assert_eq!(org["global"], false);
    assert_eq!(org["domains"], json!(["newco.io"]));
    assert_eq!(
        t.get("/persons/103", 200).await["organization_ids"],
        json!([org["id"]])
    );
    let full = t
        .get("/organizations/201?with_opportunities=true", 200)
        .await;
    assert_eq!(full["opportunity_ids"], json!([401]));
    assert_eq!(ids(&full["list_entries"]), vec![601, 603]);
    // Deleting a person takes its values and entries; internal persons stay.
    delete(&t, "/persons/104", 422).await;
    delete(&t, "/persons/101", 200).await;
    let p = t.get("/field-values?person_id=101", 404).await;
    error(&p);
    assert_eq!(
        t.get("/organizations/201", 200).await["person_ids"],
        json!([])
    );
}

#[tokio::test]
async fn answers_have_the_keys_of_recorded_v1_answers() {
    let t = TestEmu::start().await;
    // A person list entry, with its entity (live fixture).
    let want = recorded("list_entries_all.json");
    let got = t.get("/lists/302/list-entries", 200).await;
    assert_eq!(keys(&got[0]), keys(&want[0]));
    assert_eq!(keys(&got[0]["entity"]), keys(&want[0]["entity"]));
    let paged = t.get("/lists/302/list-entries?page_size=5", 200).await;
    assert_eq!(keys(&paged["list_entries"][0]), keys(&want[0]));

    let want = recorded("persons_search.json");
    let got = t.get("/persons?term=a", 200).await;
    assert_eq!(keys(&got), keys(&want));
    assert_eq!(keys(&got["persons"][0]), keys(&want["persons"][0]));

    let want = recorded("persons_get.json");
    let got = t.get("/persons/104", 200).await;
    assert_eq!(keys(&got), keys(&want));
    assert_eq!(
        keys(&got["list_entries"][0]),
        keys(&want["list_entries"][0])
    );

    let want = recorded("persons_search_with_dates.json");
    let got = t.get("/persons?with_interaction_dates=true", 200).await;
    assert_eq!(
        ids(&got["persons"]),
        vec![101],
        "persons without interactions drop out"
    );
    let (g, w) = (&got["persons"][0], &want["persons"][0]);
    assert_eq!(keys(g), keys(w));
    assert_eq!(keys(&g["interaction_dates"]), keys(&w["interaction_dates"]));
    assert_eq!(keys(&g["interactions"]), keys(&w["interactions"]));

    let want = recorded("notes_all.json");
    let got = t.get("/notes", 200).await;
    assert_eq!(keys(&got), keys(&want));
    assert_eq!(keys(&got["notes"][0]), keys(&want["notes"][0]));

    let want = recorded("rate_limit.json");
    let got = t.get("/rate-limit", 200).await;
    assert_eq!(keys(&got["rate"]), keys(&want["rate"]));
    for k in ["org_monthly", "api_key_per_minute"] {
        assert_eq!(keys(&got["rate"][k]), keys(&want["rate"][k]), "{k}");
    }
}

#[tokio::test]
#[cfg_attr(
    not(has_shared_v1_docs),
    ignore = "needs Affinity's v1 doc examples in ../shared/data/affinity/v1-fixtures/ (not in the repository)"
)]
async fn answers_have_the_keys_of_affinitys_v1_doc_examples() {
    let t = TestEmu::start().await;
    let got = t.get("/organizations?term=a", 200).await;
    let want = doc_example("organizations_search.json");
    assert_eq!(keys(&got), keys(&want));
    // The doc example predates `crunchbase_uuid`, which webhook payloads carry and
    // clients that forbid unknown keys expect (issue 17, finding 4).
    let mut want_org = keys(&want["organizations"][0]);
    want_org.insert("crunchbase_uuid".into());
    assert_eq!(keys(&got["organizations"][0]), want_org);

    let want = doc_example("fields_all.json");
    let got = t.get("/fields", 200).await;
    assert_eq!(keys(&got[0]), keys(&want[0]));

    let want = doc_example("field_values_get_all.json");
    let got = t.get("/field-values?organization_id=201", 200).await;
    assert_eq!(keys(&got[0]), keys(&want[1]));
}
