//! Every operation of each v2 spec digest (2024-01-01, 2026-07-15, 2026-09-17), and every v1
//! operation of the fact sheet, called on a tenant that holds data of each kind. Each answer
//! must be a 2xx; each v2 answer is validated against the digest of the version asked for
//! when the emulator drops (`tests/it/openapi.rs`); a page that comes back empty where the
//! tenant holds data fails. No operation of a digest may be left out of the sweep: the list is
//! the digest's own.

use std::collections::BTreeMap;

use affinity_crm_emulator::{EmulatorConfig, Seed};
use reqwest::Method;
use serde_json::{json, Value};

use crate::common::*;
use crate::openapi::{digest, VERSIONS};

/// The test tenant with data of every kind the API serves (`fixtures/full-tenant.json` of the
/// emulator crate): every interaction type, a reply, an AI notetaker's note and transcript, a
/// saved view, reminders, a file, a team, look-alike records and inferred connections. The
/// compatibility suite (`tests/compat/`) runs the emulator on it too.
pub fn full_seed() -> Seed {
    serde_json::from_str(include_str!(
        "../../crates/affinity-crm-emulator/fixtures/full-tenant.json"
    ))
    .unwrap()
}

/// Ids the sweep fills path parameters with; some come from the tenant at run time.
struct Ids(BTreeMap<&'static str, String>);

impl Ids {
    fn fill(&self, route: &str, op: &str) -> String {
        let mut out = route.to_string();
        // Where the usual record has no data of that kind, one that has.
        if route.starts_with("/v2/persons/{personId}/list") {
            out = out.replace("{personId}", "102");
        }
        if route.ends_with("/attached-opportunities") {
            out = out.replace("{noteId}", "804");
        }
        for (k, v) in &self.0 {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        // A route's `fieldId` is one of that route's own fields, of a kind its operation takes.
        let field = if route.contains("dropdown-options") {
            if route.starts_with("/v2/persons") {
                "field-523"
            } else if route.starts_with("/v2/companies") {
                "field-511"
            } else {
                "field-506"
            }
        } else if route.starts_with("/v2/persons") {
            "field-521"
        } else if route.starts_with("/v2/companies") {
            "field-511"
        } else if op.starts_with("POST") {
            "field-505"
        } else {
            "field-506"
        };
        out = out.replace("{fieldId}", field);
        assert!(!out.contains('{'), "no id for a parameter of `{route}`");
        // Changes are read field by field (`field.id` is required).
        if op == "GET /v2/field-value-changes" {
            out.push_str("?filter=field.id%3Dfield-501");
        }
        out
    }
}

/// The body of each write, by operation.
fn body_of(op: &str) -> Option<Value> {
    Some(match op {
        "PATCH /v2/companies/{companyId}/fields" => json!({"operation": "update-fields",
            "updates": [{"id": "field-511", "value": {"type": "dropdown", "data": {"dropdownOptionId": 22}}}]}),
        "PATCH /v2/persons/{personId}/fields" => json!({"operation": "update-fields",
            "updates": [{"id": "field-521", "value": {"type": "text", "data": "Countess"}}]}),
        "PATCH /v2/lists/{listId}/list-entries/{listEntryId}/fields" => {
            json!({"operation": "update-fields",
            "updates": [{"id": "field-504", "value": {"type": "text", "data": "https://analytical.io/"}}]})
        }
        "POST /v2/companies/search" => json!({"search": {"term": "analytical"}}),
        "POST /v2/persons/search" => json!({"search": {"term": "lovelace"}}),
        "POST /v2/lists/{listId}/list-entries/search" => json!({"search": {"term": "cobol"}}),
        "POST /v2/companies/{companyId}/fields/{fieldId}" => {
            json!({"value": {"type": "dropdown", "data": {"dropdownOptionId": 21}}})
        }
        "POST /v2/persons/{personId}/fields/{fieldId}" => {
            json!({"value": {"type": "text", "data": "Countess of Lovelace"}})
        }
        "POST /v2/lists/{listId}/list-entries/{listEntryId}/fields/{fieldId}" => {
            json!({"value": {"type": "number", "data": 43}})
        }
        "POST /v2/company-merges" => json!({"primaryCompanyId": 202, "duplicateCompanyId": 206}),
        "POST /v2/person-merges" => json!({"primaryPersonId": 102, "duplicatePersonId": 106}),
        "POST /v2/feedback" => json!({"type": "api", "subject": "Hello", "body": "From the tests"}),
        "POST /v2/files/search" => json!({"prompt": "term sheet"}),
        "POST /v2/lists" => json!({"name": "Seed stage", "type": "company"}),
        "POST /v2/lists/{listId}/fields/{fieldId}/dropdown-options" => {
            json!({"type": "dropdown", "text": "Robotics"})
        }
        "POST /v2/lists/{listId}/fields/{fieldId}/dropdown-options/{dropdownOptionId}" => {
            json!({"text": "Machine learning"})
        }
        "POST /v2/lists/{listId}/list-entries" => json!({"entity": {"id": 205}}),
        "POST /v2/notes" => json!({"type": "entities", "content": {"html": "<p>New</p>"},
            "persons": [{"id": 101}]}),
        "POST /v2/notes/search" => json!({"prompt": "founders"}),
        "POST /v2/notes/{noteId}" => json!({"content": {"html": "<p>Edited</p>"}}),
        "POST /v2/opportunities/{opportunityId}" => json!({"name": "Analytical Series A1"}),
        "POST /v2/persons" => json!({"firstName": "Mary", "lastName": "Somerville",
            "primaryEmailAddress": "mary@example.com"}),
        "POST /v2/reminders" => json!({"type": "one-time", "entity": {"type": "person", "id": 101},
            "owner": {"id": 1}, "dueDate": "2030-03-01T12:00:00Z", "content": "Follow up"}),
        "POST /v2/reminders/{reminderId}" => json!({"content": "Follow up later"}),
        "POST /v2/semantic-search" => json!({"prompt": "analytical engines"}),
        "POST /v2/webhooks" => {
            json!({"url": "http://127.0.0.1:9/hook", "subscriptions": ["person.created"]})
        }
        "POST /v2/webhooks/{webhookId}" => json!({"status": "disabled"}),
        _ => return None,
    })
}

/// Pages that may be empty on this tenant, and why: none, the tenant holds every kind.
const MAY_BE_EMPTY: &[(&str, &str)] = &[];

/// Sends `method path` in `version` (`None`: no header), with `body`; gives the status and JSON.
async fn call(
    t: &TestEmu,
    version: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut rb = t.req(method, path);
    if let Some(v) = version {
        rb = rb.header("X-Affinity-Api-Version", v);
    }
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The order of the sweep: reads, then writes, then deletes (which take records away).
fn rank(op: &str) -> u8 {
    match op.split(' ').next().unwrap() {
        "GET" => 0,
        "PATCH" | "POST" => 1,
        _ => 2,
    }
}

#[tokio::test]
async fn every_v2_operation_of_every_version_answers_in_its_shape() {
    for version in VERSIONS {
        let t = TestEmu::with(EmulatorConfig::default(), full_seed()).await;
        // Data the seed cannot hold: a webhook, and a tracked change.
        t.send_json(
            Method::POST,
            "/webhook/subscribe",
            json!({"webhook_url": "http://127.0.0.1:9/seeded"}),
            200,
        )
        .await;
        t.send_json(Method::PUT, "/field-values/701", json!({"value": 3}), 200)
            .await;
        let webhook = t.get("/webhook", 200).await[0]["id"].to_string();
        let merge = t.get("/v2/company-merges", 200).await["data"][0].clone();
        let person_merge = t.get("/v2/person-merges", 200).await["data"][0].clone();
        let mut ids = Ids(BTreeMap::from([
            ("listId", "301".to_string()),
            ("listEntryId", "601".to_string()),
            ("companyId", "201".to_string()),
            ("personId", "101".to_string()),
            ("opportunityId", "401".to_string()),
            ("noteId", "802".to_string()),
            ("viewId", "951".to_string()),
            ("dropdownOptionId", "12".to_string()),
            ("meetingId", "902".to_string()),
            ("transcriptId", "961".to_string()),
            ("teamId", "971".to_string()),
            ("fileId", "981".to_string()),
            ("reminderId", "991".to_string()),
            ("userId", "104".to_string()),
            ("webhookId", webhook),
        ]));
        // The digest's operations, with their templates' parameter names.
        let doc: Value = serde_json::from_str(
            &std::fs::read_to_string(
                crate::decode::fixtures()
                    .join("openapi-v2-digests")
                    .join(format!("{version}.json")),
            )
            .unwrap(),
        )
        .unwrap();
        let mut ops: Vec<String> = doc["digest"]["operations"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(ops.len(), digest(version).ops.len());
        ops.sort_by_key(|o| (rank(o), o.clone()));
        let mut failures = Vec::new();
        for op in &ops {
            let (method, route) = op.split_once(' ').unwrap();
            if route.contains("{mergeId}") {
                let m = if route.starts_with("/v2/person") {
                    &person_merge
                } else {
                    &merge
                };
                ids.0.insert("mergeId", m["id"].to_string());
            }
            if route.contains("{taskId}") {
                let m = if route.contains("person") {
                    &person_merge
                } else {
                    &merge
                };
                ids.0
                    .insert("taskId", m["taskId"].as_str().unwrap().to_string());
            }
            let path = ids.fill(route, op);
            let body = body_of(op);
            if method != "GET" && method != "DELETE" && body.is_none() {
                failures.push(format!("{op}: no body in the sweep's table"));
                continue;
            }
            let method = Method::from_bytes(method.as_bytes()).unwrap();
            let (status, got) = call(&t, Some(version), method, &path, body).await;
            if !(200..300).contains(&status) {
                failures.push(format!("{version} {op} ({path}) -> {status}: {got}"));
                continue;
            }
            let empty = got
                .get("data")
                .and_then(Value::as_array)
                .is_some_and(|d| d.is_empty());
            if empty && !MAY_BE_EMPTY.iter().any(|(o, _)| o == op) {
                failures.push(format!(
                    "{version} {op} ({path}): an empty page on a tenant with data: {got}"
                ));
            }
        }
        assert!(
            failures.is_empty(),
            "{} of {} operations failed:\n{}",
            failures.len(),
            ops.len(),
            failures.join("\n")
        );
    }
}

/// Every v1 operation of the fact sheet (affinity-api.md §2.3, §4, §5), each answering 2xx.
#[tokio::test]
async fn every_v1_operation_answers() {
    let t = TestEmu::with(EmulatorConfig::default(), full_seed()).await;
    let p = |m: &str, path: &str| (m.to_string(), path.to_string(), None::<Value>);
    let b = |m: &str, path: &str, body: Value| (m.to_string(), path.to_string(), Some(body));
    let sweep = vec![
        p("GET", "/auth/whoami"),
        p("GET", "/rate-limit"),
        p("GET", "/lists"),
        p("GET", "/lists/301"),
        b("POST", "/lists", json!({"name": "Angels", "type": 0, "is_public": true})),
        p("GET", "/lists/301/list-entries"),
        p("GET", "/lists/301/list-entries?page_size=2"),
        p("GET", "/lists/301/list-entries/601"),
        b("POST", "/lists/302/list-entries", json!({"entity_id": 103})),
        p("GET", "/fields"),
        p("GET", "/persons/fields"),
        p("GET", "/organizations/fields"),
        b("POST", "/fields", json!({"name": "Score", "entity_type": 1, "value_type": 3})),
        p("GET", "/field-values?organization_id=201"),
        b("POST", "/field-values", json!({"field_id": 521, "entity_id": 102, "value": "Rear Admiral"})),
        b("PUT", "/field-values/705", json!({"value": 44})),
        p("GET", "/field-value-changes?field_id=501"),
        p("GET", "/persons?term=ada"),
        p("GET", "/persons/101?with_interaction_dates=true&with_interaction_persons=true"),
        b("POST", "/persons", json!({"first_name": "Emmy", "last_name": "Noether", "emails": ["emmy@example.com"]})),
        b("PUT", "/persons/103", json!({"last_name": "M. Turing"})),
        p("GET", "/organizations?term=engine"),
        p("GET", "/organizations/201?with_opportunities=true"),
        b("POST", "/organizations", json!({"name": "Difference Co", "domain": "difference.example"})),
        b("PUT", "/organizations/205", json!({"name": "Engine Works Ltd"})),
        p("GET", "/opportunities?term=series"),
        p("GET", "/opportunities/401"),
        b("POST", "/opportunities", json!({"name": "Cobol seed", "list_id": 303, "organization_ids": [202]})),
        b("PUT", "/opportunities/401", json!({"name": "Analytical Series A (led)"})),
        p("GET", "/notes"),
        p("GET", "/notes/801"),
        b("POST", "/notes", json!({"content": "v1 note", "person_ids": [102]})),
        b("PUT", "/notes/801", json!({"content": "Met the founders; a strong team."})),
        p("GET", "/interactions?type=1&start_time=2024-01-01T00:00:00Z&end_time=2024-12-31T00:00:00Z&person_id=101"),
        p("GET", "/interactions/901?type=1"),
        b("POST", "/interactions", json!({"type": 1, "person_ids": [102], "content": "call", "date": "2024-06-01T10:00:00Z"})),
        b("PUT", "/interactions/901", json!({"type": 1, "content": "Intro call, rescheduled"})),
        p("GET", "/relationships-strengths?external_id=101"),
        p("GET", "/entity-files"),
        p("GET", "/entity-files/981"),
        p("GET", "/entity-files/download/981"),
        p("GET", "/reminders"),
        p("GET", "/reminders/991"),
        b("POST", "/reminders", json!({"owner_id": 1, "type": 0, "due_date": "2030-04-01T12:00:00Z", "person_id": 102})),
        b("PUT", "/reminders/991", json!({"is_completed": true})),
        b("POST", "/webhook/subscribe", json!({"webhook_url": "http://127.0.0.1:9/v1"})),
        p("GET", "/webhook"),
        p("DELETE", "/reminders/992"),
        p("DELETE", "/interactions/901?type=1"),
        p("DELETE", "/notes/803"),
        p("DELETE", "/field-values/704"),
        p("DELETE", "/lists/301/list-entries/604"),
        p("DELETE", "/opportunities/401"),
        p("DELETE", "/persons/105"),
        p("DELETE", "/organizations/205"),
    ];
    let mut failures = Vec::new();
    for (m, path, body) in sweep {
        let (status, got) = call(
            &t,
            None,
            Method::from_bytes(m.as_bytes()).unwrap(),
            &path,
            body,
        )
        .await;
        if !(200..300).contains(&status) {
            failures.push(format!("{m} {path} -> {status}: {got}"));
        }
    }
    // The webhook routes by id, and the field routes that need an id made above.
    let w = t.get("/webhook", 200).await[0]["id"].as_i64().unwrap();
    for (m, path, body) in [
        ("GET", format!("/webhook/{w}"), None),
        (
            "PUT",
            format!("/webhook/{w}"),
            Some(json!({"disabled": true})),
        ),
        ("DELETE", format!("/webhook/{w}"), None),
    ] {
        let (status, got) = call(
            &t,
            None,
            Method::from_bytes(m.as_bytes()).unwrap(),
            &path,
            body,
        )
        .await;
        if !(200..300).contains(&status) {
            failures.push(format!("{m} {path} -> {status}: {got}"));
        }
    }
    let fields = t.get("/fields", 200).await;
    let score = fields
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Score")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    send(t.req(Method::DELETE, &format!("/fields/{score}")), 200).await;
    // An upload, multipart as the v1 docs describe (written by hand: the tests' HTTP client
    // has no multipart support enabled).
    let boundary = "affsync-test-boundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"person_id\"\r\n\r\n101\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"hello.txt\"\r\n\
         Content-Type: text/plain\r\n\r\nhello\r\n--{boundary}--\r\n"
    );
    let up = send(
        t.req(Method::POST, "/entity-files")
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .body(form),
        200,
    )
    .await;
    assert_eq!(up, json!({"success": true}));
    let files = t.get("/entity-files?person_id=101", 200).await;
    let f = &files["entity_files"][0];
    assert_eq!(f["name"], "hello.txt");
    let resp = t
        .req(Method::GET, &format!("/entity-files/download/{}", f["id"]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.text().await.unwrap(), "hello");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The emulator's table of which version has which operation (`versions::ADDED`) is the
/// digests' own: an operation is in a version exactly when that version's digest has it.
#[test]
fn the_emulators_versions_match_the_digests() {
    use affinity_crm_emulator::versions;
    let current = crate::openapi::digest(crate::openapi::CURRENT);
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::decode::fixtures()
                .join("openapi-v2-digests")
                .join(format!("{}.json", crate::openapi::CURRENT)),
        )
        .unwrap(),
    )
    .unwrap();
    let mut mismatches = Vec::new();
    for key in doc["digest"]["operations"].as_object().unwrap().keys() {
        let (method, route) = key.split_once(' ').unwrap();
        for v in VERSIONS {
            let in_digest = digest(v)
                .ops
                .contains_key(&(method.to_string(), crate::openapi::normalize(route)));
            if versions::has(v, method, route) != in_digest {
                mismatches.push(format!("{v} {key}: digest {in_digest}"));
            }
        }
    }
    assert_eq!(current.ops.len(), 114);
    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}
