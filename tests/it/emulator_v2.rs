//! The emulator's v2 API over raw HTTP (affinity-api.md §3). Every answer is also checked
//! against the OpenAPI spec when the `TestEmu` drops (`tests/it/openapi.rs`).

use crate::common::*;
use reqwest::Method;
use serde_json::{json, Value};

/// Follows `nextUrl` from `path` until it is null; gives every item and the number of pages.
async fn collect(t: &TestEmu, path: &str) -> (Vec<Value>, usize) {
    let base = t.emu.base_url();
    let mut items = vec![];
    let mut pages = 0;
    let mut next = Some(path.to_string());
    while let Some(path) = next {
        let body = t.get(&path, 200).await;
        if pages == 0 {
            assert!(body["pagination"]["prevUrl"].is_null(), "{body}");
        } else {
            assert!(body["pagination"]["prevUrl"].is_string(), "{body}");
        }
        pages += 1;
        assert!(pages < 50, "paging does not end");
        items.extend(body["data"].as_array().unwrap().iter().cloned());
        next = body["pagination"]["nextUrl"].as_str().map(|u| {
            // Absolute, on the emulator's own address (§3.1).
            u.strip_prefix(&base)
                .unwrap_or_else(|| panic!("nextUrl `{u}` is not absolute on {base}"))
                .to_string()
        });
    }
    (items, pages)
}

fn ids(items: &[Value]) -> Vec<i64> {
    items.iter().map(|v| v["id"].as_i64().unwrap()).collect()
}

/// The `fields` of an answer by id.
fn field<'a>(fields: &'a Value, id: &str) -> &'a Value {
    fields
        .as_array()
        .unwrap_or_else(|| panic!("no fields: {fields}"))
        .iter()
        .find(|f| f["id"] == id)
        .unwrap_or_else(|| panic!("no field {id} in {fields}"))
}

fn field_ids(fields: &Value) -> Vec<&str> {
    fields
        .as_array()
        .map(|a| a.iter().map(|f| f["id"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[tokio::test]
async fn paging_follows_next_url_across_pages() {
    let t = TestEmu::start().await;
    let cases: &[(&str, &[i64])] = &[
        // 204 is a global organization outside the tenant: never listed (§8.2).
        ("/v2/companies?limit=1", &[201, 202, 203, 205]),
        ("/v2/persons?limit=2", &[1, 101, 102, 103, 104, 105]),
        // The other params ride along on nextUrl: every page keeps its field data.
        (
            "/v2/lists/301/list-entries?limit=1&fieldTypes=list",
            &[601, 602, 603, 604],
        ),
        (
            "/v2/companies?limit=1&ids=201&ids=202&ids=205",
            &[201, 202, 205],
        ),
    ];
    for (path, want) in cases {
        let (items, pages) = collect(&t, path).await;
        assert_eq!(ids(&items), *want, "{path}");
        assert!(pages >= 3, "{path}: {pages} pages");
        if path.contains("fieldTypes=list") {
            for e in &items {
                assert!(
                    field_ids(&e["entity"]["fields"]).contains(&"field-501"),
                    "{path}: {e}"
                );
            }
        }
    }
}

#[tokio::test]
async fn bad_limits_and_cursors_are_refused() {
    let t = TestEmu::start().await;
    for (path, param) in [
        ("/v2/companies?limit=101", "limit"),
        ("/v2/lists/301/list-entries?limit=0", "limit"),
        ("/v2/persons?limit=ten", "limit"),
        ("/v2/lists?cursor=not-a-cursor", "cursor"),
        ("/v2/companies?fieldTypes=list", "fieldTypes"),
        ("/v2/companies?ids=abc", "ids"),
    ] {
        let body = t.get(path, 400).await;
        assert_eq!(body["errors"][0]["code"], "validation", "{path}");
        assert_eq!(body["errors"][0]["param"], param, "{path}");
    }
    t.get("/v2/companies?limit=100", 200).await;
    // Field values and notes page by 20 by default, the rest by 100.
    let body = t.get("/v2/notes?limit=0", 200).await;
    assert_eq!(body["data"], json!([]));
}

#[tokio::test]
async fn field_data_only_as_selected() {
    let t = TestEmu::start().await;
    // (query, field ids expected on company 201)
    let cases: &[(&str, &[&str])] = &[
        ("", &[]),
        ("?fieldIds=field-511", &["field-511"]),
        (
            "?fieldIds=field-511&fieldIds=dealroom-employees",
            &["field-511", "dealroom-employees"],
        ),
        ("?fieldTypes=enriched", &["dealroom-employees"]),
        (
            "?fieldTypes=global",
            &["field-511", "field-512", "field-514"],
        ),
        ("?fieldTypes=relationship-intelligence", &[]),
    ];
    for (q, want) in cases {
        let c = t.get(&format!("/v2/companies/201{q}"), 200).await;
        assert_eq!(field_ids(&c["fields"]), *want, "{q}: {c}");
    }
    let c = t
        .get(
            "/v2/companies/201?fieldTypes=global&fieldTypes=enriched",
            200,
        )
        .await;
    let f = &c["fields"];
    assert_eq!(
        field(f, "field-511")["value"],
        json!({"type": "dropdown", "data": {"dropdownOptionId": 21, "text": "Software"}})
    );
    assert_eq!(
        field(f, "field-512")["value"]["data"],
        json!({"streetAddress": null, "city": "London", "state": null, "country": "United Kingdom", "continent": "Europe"})
    );
    let employees = field(f, "dealroom-employees");
    assert_eq!(employees["enrichmentSource"], "dealroom");
    assert_eq!(employees["type"], "enriched");
    assert_eq!(employees["value"]["data"].as_f64(), Some(120.0));
    // An unknown field id is refused, not ignored.
    let body = t.get("/v2/companies/201?fieldIds=field-999", 400).await;
    assert_eq!(body["errors"][0]["param"], "fieldIds");
    // Per-entry field values: every field by default, filtered by `ids`/`types`.
    let all = t.get("/v2/lists/301/list-entries/601/fields", 200).await;
    assert_eq!(all["data"].as_array().unwrap().len(), 11);
    let some = t
        .get(
            "/v2/lists/301/list-entries/601/fields?types=list&limit=3",
            200,
        )
        .await;
    assert_eq!(
        field_ids(&some["data"]),
        ["field-501", "field-502", "field-503"]
    );
    assert!(some["pagination"]["nextUrl"].is_string());
    let persons = t.get("/v2/persons/101?fieldIds=field-521", 200).await;
    assert_eq!(
        field(&persons["fields"], "field-521")["value"],
        json!({"type": "text", "data": "Countess"})
    );
}

#[tokio::test]
async fn empty_multi_values_are_null() {
    let t = TestEmu::start().await;
    let c = t.get("/v2/companies/201?fieldIds=field-514", 200).await;
    assert_eq!(
        field(&c["fields"], "field-514")["value"],
        json!({"type": "filterable-text-multi", "data": null})
    );
    // 603 is the second entry of the same company: its list fields are its own, and empty.
    let e = t
        .get(
            "/v2/lists/301/list-entries/603?fieldIds=field-506&fieldIds=field-507",
            200,
        )
        .await;
    assert_eq!(
        field(&e["entity"]["fields"], "field-506")["value"]["data"],
        Value::Null
    );
    assert_eq!(
        field(&e["entity"]["fields"], "field-507")["value"]["data"],
        Value::Null
    );
    let e = t
        .get("/v2/lists/301/list-entries/601?fieldIds=field-506&fieldIds=field-507&fieldIds=field-502", 200)
        .await;
    let f = &e["entity"]["fields"];
    assert_eq!(
        field(f, "field-506")["value"]["data"],
        json!([{"dropdownOptionId": 11, "text": "Fintech"}, {"dropdownOptionId": 12, "text": "AI"}])
    );
    assert_eq!(
        field(f, "field-507")["value"]["data"],
        json!([{"id": 202, "name": "Cobol Systems", "domain": "cobol.dev"}])
    );
    assert_eq!(
        field(f, "field-502")["value"]["data"],
        json!({"id": 104, "firstName": "Katherine", "lastName": "Johnson", "primaryEmailAddress": "kj@fund.vc", "type": "internal"})
    );
}

#[tokio::test]
async fn ranked_dropdown_reads_a_string_color_and_writes_by_option_id() {
    let t = TestEmu::start().await;
    let path = "/v2/lists/301/list-entries/601/fields/field-501";
    let f = t.get(path, 200).await;
    assert_eq!(
        f["value"],
        json!({"type": "ranked-dropdown", "data": {"dropdownOptionId": 2, "text": "Diligence", "rank": 1, "color": "blue"}})
    );
    let body = json!({"value": {"type": "ranked-dropdown", "data": {"dropdownOptionId": 3}}});
    let answer = t.send_json(Method::POST, path, body, 204).await;
    assert_eq!(answer, Value::Null);
    assert_eq!(t.get(path, 200).await["value"]["data"]["text"], "Closed");
    // By text it is refused: ranked dropdowns take option ids (§8.10).
    let body = json!({"value": {"type": "ranked-dropdown", "data": {"text": "New"}}});
    let err = t.send_json(Method::POST, path, body, 400).await;
    assert_eq!(err["errors"][0]["code"], "validation");
    // A type that is not the field's.
    let body = json!({"value": {"type": "text", "data": "New"}});
    t.send_json(Method::POST, path, body, 400).await;
    // Unknown field: 404.
    let body = json!({"value": {"type": "text", "data": "x"}});
    t.send_json(
        Method::POST,
        "/v2/lists/301/list-entries/601/fields/field-999",
        body,
        404,
    )
    .await;
}

#[tokio::test]
async fn update_fields_is_limited_and_all_or_nothing() {
    let t = TestEmu::start().await;
    let path = "/v2/lists/301/list-entries/601/fields";
    let one = json!({"id": "field-504", "value": {"type": "text", "data": "x"}});
    let too_many = json!({"operation": "update-fields", "updates": vec![one; 101]});
    let err = t.send_json(Method::PATCH, path, too_many, 400).await;
    assert_eq!(err["errors"][0]["param"], "updates");

    // A good text value, then a bad option id: nothing is written.
    let mixed = json!({"operation": "update-fields", "updates": [
        {"id": "field-504", "value": {"type": "text", "data": "https://changed.example"}},
        {"id": "field-501", "value": {"type": "ranked-dropdown", "data": {"dropdownOptionId": 99}}},
    ]});
    let err = t.send_json(Method::PATCH, path, mixed, 400).await;
    assert!(
        err["errors"][0]["param"]
            .as_str()
            .unwrap()
            .starts_with("updates[1]"),
        "{err}"
    );
    let site = t.get(&format!("{path}/field-504"), 200).await;
    assert_eq!(site["value"]["data"], "https://analytical.io");

    let good = json!({"operation": "update-fields", "updates": [
        {"id": "field-504", "value": {"type": "text", "data": "https://changed.example"}},
        {"id": "field-505", "value": {"type": "number", "data": 50}},
        {"id": "field-506", "value": {"type": "dropdown-multi", "data": [{"dropdownOptionId": 13}]}},
        {"id": "field-507", "value": {"type": "company-multi", "data": null}},
        // A global field, written through the list entry, lands on the company.
        {"id": "field-511", "value": {"type": "dropdown", "data": {"dropdownOptionId": 22}}},
    ]});
    let answer = t.send_json(Method::PATCH, path, good, 200).await;
    assert_eq!(answer, json!({"operation": "update-fields"}));
    let e = t
        .get(
            "/v2/lists/301/list-entries/601?fieldTypes=list&fieldTypes=global",
            200,
        )
        .await;
    let f = &e["entity"]["fields"];
    assert_eq!(
        field(f, "field-504")["value"]["data"],
        "https://changed.example"
    );
    assert_eq!(field(f, "field-505")["value"]["data"].as_f64(), Some(50.0));
    assert_eq!(
        field(f, "field-506")["value"]["data"],
        json!([{"dropdownOptionId": 13, "text": "Climate"}])
    );
    assert_eq!(field(f, "field-507")["value"]["data"], Value::Null);
    let c = t.get("/v2/companies/201?fieldIds=field-511", 200).await;
    assert_eq!(
        field(&c["fields"], "field-511")["value"]["data"]["text"],
        "Hardware"
    );
    // The other entry of the same company keeps its own (empty) list values.
    let other = t
        .get("/v2/lists/301/list-entries/603/fields/field-504", 200)
        .await;
    assert_eq!(other["value"]["data"], Value::Null);
}

#[tokio::test]
async fn dates_are_stored_at_midnight_pacific() {
    let t = TestEmu::start().await;
    let path = "/v2/lists/301/list-entries/602/fields/field-503";
    let body = json!({"value": {"type": "datetime", "data": "2024-04-01T15:30:00Z"}});
    t.send_json(Method::POST, path, body, 204).await;
    let f = t.get(path, 200).await;
    assert_eq!(f["value"]["data"], "2024-04-01T07:00:00Z");
}

#[tokio::test]
async fn list_fields_are_reachable_only_through_list_entries() {
    let t = TestEmu::start().await;
    let err = t.get("/v2/companies/201?fieldIds=field-501", 400).await;
    assert_eq!(err["errors"][0]["param"], "fieldIds");
    let meta = t.get("/v2/companies/fields", 200).await;
    assert!(!field_ids(&meta["data"]).contains(&"field-501"));
    let own = t.get("/v2/companies/201/fields", 200).await;
    assert!(!field_ids(&own["data"]).contains(&"field-501"));
    t.get("/v2/companies/201/fields/field-501", 404).await;
    let list_meta = t.get("/v2/lists/301/fields", 200).await;
    assert_eq!(
        field(&list_meta["data"], "field-501")["valueType"],
        "ranked-dropdown"
    );
    assert_eq!(field(&list_meta["data"], "field-501")["type"], "list");
    // A company's list entries carry their list fields.
    let entries = t.get("/v2/companies/201/list-entries", 200).await;
    let first = &entries["data"][0];
    assert_eq!(first["id"], 601);
    assert_eq!(
        field(&first["fields"], "field-501")["value"]["data"]["text"],
        "Diligence"
    );
}

#[tokio::test]
async fn merged_entities_answer_422() {
    let t = TestEmu::start().await;
    for (path, new) in [
        ("/v2/companies/299", "201"),
        ("/v2/persons/199", "101"),
        ("/v2/companies/299/list-entries", "201"),
        ("/v2/persons/199/notes", "101"),
    ] {
        let err = t.get(path, 422).await;
        assert_eq!(err["errors"][0]["code"], "unprocessable-entity", "{path}");
        let msg = err["errors"][0]["message"].as_str().unwrap();
        assert!(
            msg.contains("merged") && msg.ends_with(new),
            "{path}: {msg}"
        );
    }
    t.get("/v2/companies/98765", 404).await;
    t.get("/v2/opportunities/98765", 404).await;
}

#[tokio::test]
async fn duplicate_list_entries_are_both_listed() {
    let t = TestEmu::start().await;
    let entries = t.get("/v2/lists/301/list-entries", 200).await;
    let of_201: Vec<i64> = entries["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["entity"]["id"] == 201)
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert_eq!(of_201, [601, 603]);
    assert_eq!(entries["data"][0]["type"], "company");
    assert_eq!(entries["data"][0]["entity"]["fields"], json!([]));
    let own = t.get("/v2/companies/201/list-entries", 200).await;
    assert_eq!(ids(own["data"].as_array().unwrap()), [601, 603]);
    let lists = t.get("/v2/companies/201/lists", 200).await;
    assert_eq!(ids(lists["data"].as_array().unwrap()), [301]);
}

#[tokio::test]
async fn opportunities_lists_and_persons_read() {
    let t = TestEmu::start().await;
    let opps = t.get("/v2/opportunities?ids=401", 200).await;
    assert_eq!(
        opps["data"],
        json!([{"id": 401, "name": "Analytical Series A", "listId": 303, "listName": "Pipeline",
                "isRestricted": false, "isRedacted": false}])
    );
    let lists = t.get("/v2/lists", 200).await;
    let types: Vec<&str> = lists["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["company", "person", "opportunity"]);
    t.get("/v2/lists/302", 200).await;
    t.get("/v2/lists/999", 404).await;
    let e = t
        .get("/v2/lists/303/list-entries?fieldTypes=list", 200)
        .await;
    assert_eq!(e["data"][0]["type"], "opportunity");
    assert_eq!(
        field(&e["data"][0]["entity"]["fields"], "field-531")["value"]["data"].as_f64(),
        Some(2_500_000.0)
    );
    let p = t.get("/v2/persons/101", 200).await;
    assert_eq!(p["primaryEmailAddress"], "ada@analytical.io");
    assert_eq!(p["type"], "external");
    let lps = t.get("/v2/persons/104/lists", 200).await;
    assert_eq!(ids(lps["data"].as_array().unwrap()), [302]);
    t.get("/v2/persons/fields", 200).await;
    t.get("/v2/lists/302/list-entries/611?fieldTypes=list", 200)
        .await;
}

#[tokio::test]
async fn company_and_person_fields_are_written_but_not_enriched_ones() {
    let t = TestEmu::start().await;
    let path = "/v2/companies/203/fields/field-511";
    let body = json!({"value": {"type": "dropdown", "data": {"dropdownOptionId": 22}}});
    t.send_json(Method::POST, path, body, 204).await;
    assert_eq!(t.get(path, 200).await["value"]["data"]["text"], "Hardware");
    let body = json!({"value": {"type": "number", "data": 5}});
    let err = t
        .send_json(
            Method::POST,
            "/v2/companies/201/fields/dealroom-employees",
            body,
            400,
        )
        .await;
    assert_eq!(err["errors"][0]["code"], "validation");
    let patch = json!({"operation": "update-fields", "updates": [
        {"id": "field-521", "value": {"type": "text", "data": "Programmer"}},
    ]});
    t.send_json(Method::PATCH, "/v2/persons/101/fields", patch, 200)
        .await;
    let f = t.get("/v2/persons/101/fields?ids=field-521", 200).await;
    assert_eq!(f["data"][0]["value"]["data"], "Programmer");
    let body = json!({"value": {"type": "text", "data": "x"}});
    t.send_json(
        Method::POST,
        "/v2/persons/98765/fields/field-521",
        body,
        404,
    )
    .await;
}

#[tokio::test]
async fn malformed_json_gets_a_v2_bad_request() {
    let t = TestEmu::start().await;
    let rb = t
        .req(Method::PATCH, "/v2/lists/301/list-entries/601/fields")
        .header("content-type", "application/json")
        .body("{\"operation\": ");
    let err = send(rb, 400).await;
    assert_eq!(err["errors"][0]["code"], "bad-request");
    let err = t
        .send_json(
            Method::PATCH,
            "/v2/lists/301/list-entries/601/fields",
            json!({"operation": "nope"}),
            400,
        )
        .await;
    assert_eq!(err["errors"][0]["param"], "operation");
    // A path id that is not a number is a v2 validation error too.
    let err = t.get("/v2/lists/abc", 400).await;
    assert_eq!(err["errors"][0]["param"], "listId");
}

#[tokio::test]
async fn notes_are_created_updated_and_deleted() {
    let t = TestEmu::start().await;
    let (all, _) = collect(&t, "/v2/notes?limit=2").await;
    assert_eq!(ids(&all), [801, 802, 803]);
    let n = t
        .get(
            "/v2/notes/802?includes=personsPreview&includes=companiesPreview",
            200,
        )
        .await;
    assert_eq!(n["type"], "entities");
    assert_eq!(n["content"]["html"], "<p>Follow up on <b>pricing</b></p>");
    assert_eq!(n["personsPreview"]["data"][0]["id"], 101);
    assert_eq!(n["companiesPreview"]["totalCount"], 1);

    let create = json!({
        "type": "entities",
        "content": {"html": "<p>Intro via <b>Ada</b></p>"},
        "companies": [{"id": 202}],
        "createdAt": "2024-06-01T12:00:00Z",
    });
    let note = t.send_json(Method::POST, "/v2/notes", create, 201).await;
    let id = note["id"].as_i64().unwrap();
    assert_eq!(note["createdAt"], "2024-06-01T12:00:00Z");
    assert_eq!(note["creator"]["id"], 1);
    let of_202 = t.get("/v2/companies/202/notes?totalCount=true", 200).await;
    assert_eq!(ids(of_202["data"].as_array().unwrap()), [id]);
    assert_eq!(of_202["pagination"]["totalCount"], 1);

    // The association arrays given replace the old ones (§8.6).
    let update =
        json!({"content": {"html": "<p>edited</p>"}, "persons": [{"id": 103}], "companies": []});
    let answer = t
        .send_json(Method::POST, &format!("/v2/notes/{id}"), update, 204)
        .await;
    assert_eq!(answer, Value::Null);
    let of_202 = t.get("/v2/companies/202/notes", 200).await;
    assert_eq!(of_202["data"], json!([]));
    let of_103 = t.get("/v2/persons/103/notes", 200).await;
    assert_eq!(of_103["data"][0]["content"]["html"], "<p>edited</p>");
    assert!(of_103["data"][0]["updatedAt"].is_string());

    t.send_json(Method::DELETE, &format!("/v2/notes/{id}"), json!({}), 204)
        .await;
    t.get(&format!("/v2/notes/{id}"), 404).await;

    // Refused: no association, an unknown one, a date in the future, an unknown type.
    for (body, param) in [
        (
            json!({"type": "entities", "content": {"html": "x"}}),
            "persons",
        ),
        (
            json!({"type": "entities", "content": {"html": "x"}, "persons": [{"id": 98765}]}),
            "persons[0].id",
        ),
        (
            json!({"type": "entities", "content": {"html": "x"}, "persons": [{"id": 101}], "createdAt": "2999-01-01T00:00:00Z"}),
            "createdAt",
        ),
        (json!({"type": "memo", "content": {"html": "x"}}), "type"),
    ] {
        let err = t.send_json(Method::POST, "/v2/notes", body, 400).await;
        assert_eq!(err["errors"][0]["param"], param);
    }
}
