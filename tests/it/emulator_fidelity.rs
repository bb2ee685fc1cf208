//! What independently written Affinity clients found wrong with the emulator (issue 17's
//! findings), one test per finding, each failing before its fix.

use crate::common::*;
use affinity_crm_emulator::EmulatorConfig;
use reqwest::Method;
use serde_json::{json, Value};

fn header(resp: &reqwest::Response, name: &str) -> Option<String> {
    resp.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
}

/// Finding 1: all six rate-limit headers on every answer, v1 and v2, errors included; the org
/// ones say `unlimited` when the account has no monthly quota (affinity-api.md §4).
#[tokio::test]
async fn org_rate_limit_headers_are_on_every_answer_even_without_a_quota() {
    let t = TestEmu::start().await;
    for path in ["/lists", "/v2/lists", "/persons/999999", "/v2/lists/999999"] {
        let resp = t.req(Method::GET, path).send().await.unwrap();
        for name in ["user", "user-remaining", "user-reset"] {
            let v = header(&resp, &format!("x-ratelimit-limit-{name}"))
                .unwrap_or_else(|| panic!("{path}: no x-ratelimit-limit-{name}"));
            v.parse::<u64>().unwrap();
        }
        assert_eq!(
            header(&resp, "x-ratelimit-limit-org").as_deref(),
            Some("unlimited"),
            "{path}"
        );
        assert_eq!(
            header(&resp, "x-ratelimit-limit-org-remaining").as_deref(),
            Some("unlimited"),
            "{path}"
        );
        let reset = header(&resp, "x-ratelimit-limit-org-reset").expect("org reset");
        assert!(reset.parse::<u64>().unwrap() <= 31 * 24 * 3600, "{path}");
    }
    // With a quota, the org headers count it down.
    let t = TestEmu::with(
        EmulatorConfig {
            monthly_quota: Some(10),
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let resp = t.req(Method::GET, "/v2/lists").send().await.unwrap();
    assert_eq!(
        header(&resp, "x-ratelimit-limit-org").as_deref(),
        Some("10")
    );
    assert_eq!(
        header(&resp, "x-ratelimit-limit-org-remaining").as_deref(),
        Some("9")
    );
    // The client reads `unlimited` as no monthly cap.
    let plain = TestEmu::start().await;
    let client = crate::client::client(&plain.emu.base_url());
    client.lists_v1().await.unwrap();
    let r = client.last_rate_reading().unwrap();
    assert_eq!((r.org_limit, r.org_remaining), (None, None));
    assert!(r.org_reset.is_some() && r.user_limit == Some(900));
}

/// Finding 2: what the current spec requires of lists, field metadata, an entity's list entries
/// and opportunities. The spec check when `t` drops validates every answer besides.
#[tokio::test]
async fn v2_answers_carry_what_the_current_spec_requires() {
    let t = TestEmu::start().await;
    let list = t.get("/v2/lists/301", 200).await;
    assert!(list["createdAt"].is_string(), "{list}");
    for f in t.get("/v2/lists/301/fields", 200).await["data"]
        .as_array()
        .unwrap()
    {
        assert!(f["createdAt"].is_string(), "{f}");
        assert!(
            f.get("description").is_some() && f["isRequired"].is_boolean(),
            "{f}"
        );
    }
    let entries = t.get("/v2/companies/201/list-entries", 200).await;
    assert_eq!(entries["data"][0]["listName"], "Deal Flow", "{entries}");
    let opp = t.get("/v2/opportunities/401", 200).await;
    assert_eq!(opp["listName"], "Pipeline", "{opp}");
    assert_eq!(opp["isRestricted"], false);
    assert_eq!(opp["isRedacted"], false);
    let page = t.get("/v2/opportunities", 200).await;
    assert!(page["data"][0]["listName"].is_string(), "{page}");
    let entry = t.get("/v2/lists/303/list-entries", 200).await;
    assert_eq!(entry["data"][0]["entity"]["isRedacted"], false, "{entry}");
}

/// Finding 3: v1 booleans written `True`/`False`, as two clients used against Affinity send them.
#[tokio::test]
async fn v1_booleans_are_read_in_any_case() {
    let t = TestEmu::start().await;
    let got = t.get("/persons?with_interaction_dates=True", 200).await;
    let ids: Vec<i64> = got["persons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![101], "persons without interactions drop out");
    let fields = t.get("/fields?with_modified_names=True", 200).await;
    assert!(
        fields
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["name"] == "[Deal Flow] Status"),
        "{fields}"
    );
    t.get("/fields?with_modified_names=FALSE", 200).await;
    t.get("/organizations?with_interaction_dates=False", 200)
        .await;
    // Not a boolean at all is still refused.
    t.get("/fields?with_modified_names=yes", 422).await;
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Finding 4: v1 organizations carry `crunchbase_uuid`; `opportunity_ids` only with
/// `with_opportunities`, and `interactions.*.person_ids` only with `with_interaction_persons`.
#[tokio::test]
async fn v1_organizations_have_the_live_shape() {
    let t = TestEmu::start().await;
    let one = t.get("/organizations/201", 200).await;
    assert!(keys(&one).contains(&"crunchbase_uuid".to_string()), "{one}");
    assert!(one.get("opportunity_ids").is_none(), "{one}");
    let with = t
        .get("/organizations/201?with_opportunities=true", 200)
        .await;
    assert_eq!(with["opportunity_ids"], json!([401]));
    let search = t.get("/organizations?term=a", 200).await;
    for o in search["organizations"].as_array().unwrap() {
        assert!(o.get("crunchbase_uuid").is_some(), "{o}");
    }
    let entries = t.get("/lists/301/list-entries", 200).await;
    assert!(entries[0]["entity"].get("crunchbase_uuid").is_some());

    let dated = t.get("/persons?with_interaction_dates=true", 200).await;
    let inter = &dated["persons"][0]["interactions"];
    let last = &inter["last_interaction"];
    assert!(last["date"].is_string(), "{inter}");
    assert!(last.get("person_ids").is_none(), "{inter}");
    let dated = t
        .get(
            "/persons?with_interaction_dates=true&with_interaction_persons=true",
            200,
        )
        .await;
    assert_eq!(
        dated["persons"][0]["interactions"]["last_interaction"]["person_ids"],
        json!([101])
    );
}

/// Finding 6: `X-Affinity-Api-Version` selects the version, is echoed back, and an unknown one
/// is refused as Affinity refuses it (affinity-api.md §1).
#[tokio::test]
async fn api_version_is_read_and_echoed() {
    let t = TestEmu::start().await;
    let v2 = |version: Option<&str>, method: Method, path: &str| {
        let rb = t.req(method, path);
        match version {
            Some(v) => rb.header("X-Affinity-Api-Version", v),
            None => rb,
        }
    };
    let resp = v2(None, Method::GET, "/v2/lists").send().await.unwrap();
    assert_eq!(
        header(&resp, "x-affinity-api-version").as_deref(),
        Some("2026-09-17")
    );
    for v in ["2024-01-01", "2026-07-15", "2026-09-17"] {
        let resp = v2(Some(v), Method::GET, "/v2/lists").send().await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(header(&resp, "x-affinity-api-version").as_deref(), Some(v));
    }
    let bad = send(v2(Some("2027-01-01"), Method::GET, "/v2/lists"), 400).await;
    assert_eq!(bad["errors"][0]["code"], "validation");
    assert_eq!(bad["errors"][0]["param"], "X-Affinity-Api-Version");
    assert_eq!(
        bad["errors"][0]["message"],
        "The provided version: '2027-01-01' is not valid."
    );
    // An operation that came with a later version is not in an earlier one.
    send(v2(Some("2024-01-01"), Method::GET, "/v2/rate-limit"), 404).await;
    send(v2(Some("2026-07-15"), Method::GET, "/v2/rate-limit"), 200).await;
    // Where the versions' shapes differ, each gets its own: field metadata gained
    // `description` and `isRequired` with 2026-09-17.
    for (v, has) in [("2026-07-15", false), ("2026-09-17", true)] {
        let rb = v2(Some(v), Method::GET, "/v2/lists/301/fields");
        let page = send(rb, 200).await;
        let f = &page["data"][0];
        assert_eq!(f.get("isRequired").is_some(), has, "{v}: {f}");
        assert_eq!(f.get("description").is_some(), has, "{v}: {f}");
        assert!(f["createdAt"].is_string(), "{v}: {f}");
    }
    // v1 has no versions: no echo.
    let resp = t.req(Method::GET, "/lists").send().await.unwrap();
    assert!(header(&resp, "x-affinity-api-version").is_none());
    // The emulator's default version can be set, as a key's default is in Affinity.
    let old = TestEmu::with(
        EmulatorConfig {
            default_api_version: "2024-01-01",
            ..Default::default()
        },
        test_seed(),
    )
    .await;
    let resp = old.req(Method::GET, "/v2/lists").send().await.unwrap();
    assert_eq!(
        header(&resp, "x-affinity-api-version").as_deref(),
        Some("2024-01-01")
    );
}

/// Finding 8: a field that says it tracks changes has its changes served; one whose type
/// Affinity does not track (text) says so in `track_changes`.
#[tokio::test]
async fn track_changes_says_what_the_changes_route_serves() {
    let t = TestEmu::start().await;
    let fields = t.get("/fields", 200).await;
    let fields = fields.as_array().unwrap();
    let mut tracked = 0;
    for f in fields {
        let id = f["id"].as_i64().unwrap();
        let status = if f["track_changes"] == true { 200 } else { 422 };
        if status == 200 {
            tracked += 1;
        }
        t.get(&format!("/field-value-changes?field_id={id}"), status)
            .await;
    }
    assert!(tracked >= 3, "{tracked} tracked fields");
    // `Website` (504) is a text field whose seed asks for tracking: it reports false.
    let website = fields.iter().find(|f| f["id"] == 504).unwrap();
    assert_eq!(website["value_type"], 6);
    assert_eq!(website["track_changes"], false, "{website}");
}

/// Finding 5: a v1 create answers 200 with the record. The one client that checks the status,
/// `affinity-crm` (written against the live API), accepts only 200 for creates; the 201 of
/// Affinity's Postman collection is a hand-written example.
#[tokio::test]
async fn v1_creates_answer_200() {
    let t = TestEmu::start().await;
    let creates = [
        (
            "/persons",
            json!({"first_name": "Ada", "last_name": "Byron", "emails": ["ada@example.com"]}),
        ),
        (
            "/organizations",
            json!({"name": "Analytical", "domain": "analytical.example"}),
        ),
        ("/lists/301/list-entries", json!({"entity_id": 202})),
        ("/notes", json!({"content": "hello", "person_ids": [101]})),
        (
            "/field-values",
            json!({"field_id": 511, "entity_id": 203, "value": "Hardware"}),
        ),
        (
            "/lists",
            json!({"name": "New", "type": 1, "is_public": true}),
        ),
        ("/opportunities", json!({"name": "Deal", "list_id": 303})),
    ];
    for (path, body) in creates {
        let got = t.send_json(Method::POST, path, body, 200).await;
        assert!(got["id"].is_i64(), "{path}: {got}");
    }
}
