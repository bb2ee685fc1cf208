//! A tenant with several users, each with a key of their own (issue 22): what a key writes is
//! its user's, `whoami` answers its user, and each key has its own per-minute window.

use crate::common::*;
use affinity_crm_emulator::{Emulator, EmulatorConfig, EmulatorError, Seed, SeedUser};
use reqwest::Method;
use serde_json::{json, Value};

const BEA: &str = "key-bea";
const CY: &str = "key-cy";

fn user(id: i64, first: &str, key: &str) -> SeedUser {
    SeedUser {
        id,
        first_name: first.into(),
        last_name: Some("Member".into()),
        email: format!("{}@fund.vc", first.to_lowercase()),
        api_key: key.into(),
    }
}

/// The test tenant with two further users: Bea (11, `BEA`) and Cy (12, `CY`); the first user
/// (1) keeps `KEY`.
fn two_users() -> Seed {
    let mut seed = test_seed();
    seed.users = vec![user(11, "Bea", BEA), user(12, "Cy", CY)];
    seed
}

async fn two_user_emu(config: EmulatorConfig) -> TestEmu {
    TestEmu::with(config, two_users()).await
}

impl TestEmu {
    /// A request with `key`, in the path's version's auth.
    fn as_key(&self, key: &str, method: Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, self.url(path));
        if path.starts_with("/v2/") {
            rb.bearer_auth(key)
        } else {
            rb.basic_auth("", Some(key))
        }
    }

    async fn post_as(&self, key: &str, path: &str, body: Value, status: u16) -> Value {
        send(self.as_key(key, Method::POST, path).json(&body), status).await
    }
}

#[tokio::test]
async fn whoami_answers_the_user_whose_key_asks() {
    let t = two_user_emu(EmulatorConfig::default()).await;
    for (key, id, email) in [
        (KEY, 1, "owner@fund.vc"),
        (BEA, 11, "bea@fund.vc"),
        (CY, 12, "cy@fund.vc"),
    ] {
        let v1 = send(t.as_key(key, Method::GET, "/auth/whoami"), 200).await;
        assert_eq!(v1["user"]["id"], id, "{v1}");
        assert_eq!(v1["user"]["email"], email);
        assert_eq!(v1["tenant"]["subdomain"], "testventures");
        let v2 = send(t.as_key(key, Method::GET, "/v2/auth/whoami"), 200).await;
        assert_eq!(v2["user"]["id"], id, "{v2}");
        assert_eq!(v2["user"]["emailAddress"], email);
    }
    // With `--api-key` set, a key that is no user's is still refused, in both versions.
    let body = send(t.as_key("key-nobody", Method::GET, "/auth/whoami"), 401).await;
    assert!(body["errors"][0].is_string(), "{body}");
    let body = send(t.as_key("key-nobody", Method::GET, "/v2/auth/whoami"), 401).await;
    assert_eq!(body["errors"][0]["code"], "authentication");
    // The users are the tenant's internal persons, so v2 lists them as users.
    let users = t.get("/v2/users", 200).await;
    let ids: Vec<i64> = users["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_i64().unwrap())
        .collect();
    for id in [1, 11, 12] {
        assert!(ids.contains(&id), "user {id} in {users}");
    }
}

#[tokio::test]
async fn without_an_api_key_other_keys_are_the_first_user_and_users_keys_their_own() {
    let emu = Emulator::start(EmulatorConfig::default(), two_users())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = format!("{}/v2/auth/whoami", emu.base_url());
    let who = |key: &'static str| {
        let rb = http.get(&url).bearer_auth(key);
        async move { send(rb, 200).await["user"]["id"].clone() }
    };
    assert_eq!(who("anything").await, 1);
    assert_eq!(who(CY).await, 12);
}

#[tokio::test]
async fn notes_are_created_by_the_user_whose_key_wrote_them() {
    let t = two_user_emu(EmulatorConfig::default()).await;
    let mut ids = vec![];
    for (key, creator) in [(KEY, 1), (BEA, 11), (CY, 12)] {
        // v1 write, read back in v1 and v2.
        let n = t
            .post_as(
                key,
                "/notes",
                json!({"person_ids": [101], "content": format!("v1 note by {creator}")}),
                200,
            )
            .await;
        assert_eq!(n["creator_id"], creator, "{n}");
        let id = n["id"].as_i64().unwrap();
        let back = t.get(&format!("/notes/{id}"), 200).await;
        assert_eq!(back["creator_id"], creator, "{back}");
        let v2 = t.get(&format!("/v2/notes/{id}"), 200).await;
        assert_eq!(v2["creator"]["id"], creator, "{v2}");
        ids.push((id, creator));

        // v2 write, read back in v2 and v1.
        let n = t
            .post_as(
                key,
                "/v2/notes",
                json!({"type": "entities", "content": {"html": "<p>v2</p>"},
                       "companies": [{"id": 201}]}),
                201,
            )
            .await;
        assert_eq!(n["creator"]["id"], creator, "{n}");
        let id = n["id"].as_i64().unwrap();
        let v2 = t.get(&format!("/v2/notes/{id}"), 200).await;
        assert_eq!(v2["creator"]["id"], creator, "{v2}");
        let back = t.get(&format!("/notes/{id}"), 200).await;
        assert_eq!(back["creator_id"], creator, "{back}");
        ids.push((id, creator));
    }
    // `creator_id` filters by it.
    let bea = t.get("/notes?creator_id=11", 200).await;
    assert_eq!(bea["notes"].as_array().unwrap().len(), 2, "{bea}");

    // Only a note's creator may delete it: Cy may not delete Bea's, Bea may.
    let (bea_v1, _) = ids[2];
    let (bea_v2, _) = ids[3];
    send(
        t.as_key(CY, Method::DELETE, &format!("/notes/{bea_v1}")),
        403,
    )
    .await;
    send(
        t.as_key(KEY, Method::DELETE, &format!("/v2/notes/{bea_v2}")),
        403,
    )
    .await;
    send(
        t.as_key(BEA, Method::DELETE, &format!("/notes/{bea_v1}")),
        200,
    )
    .await;
    send(
        t.as_key(BEA, Method::DELETE, &format!("/v2/notes/{bea_v2}")),
        204,
    )
    .await;
}

#[tokio::test]
async fn interactions_logged_with_a_key_record_its_user_as_creator() {
    let t = two_user_emu(EmulatorConfig::default()).await;
    // (key, user, v1 type, the v2 route that lists it)
    let cases = [
        (BEA, 11, 1, "/v2/calls"),
        (CY, 12, 1, "/v2/calls"),
        (BEA, 11, 2, "/v2/chat-messages"),
        (CY, 12, 0, "/v2/meetings"),
    ];
    for (key, creator, kind, route) in cases {
        let i = t
            .post_as(
                key,
                "/interactions",
                json!({"type": kind, "person_ids": [102], "content": "logged",
                       "date": "2024-06-01T15:00:00Z", "direction": 0}),
                200,
            )
            .await;
        assert_eq!(i["manual_creator_id"], creator, "{i}");
        assert_eq!(i["logging_type"], 1, "logged by hand: {i}");
        let id = i["id"].as_i64().unwrap();
        let back = t.get(&format!("/interactions/{id}?type={kind}"), 200).await;
        assert_eq!(back["manual_creator_id"], creator, "{back}");

        let page = t.get(&format!("{route}?filter=person.id=102"), 200).await;
        let it = page["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["id"] == id)
            .unwrap_or_else(|| panic!("interaction {id} in {page}"))
            .clone();
        // Calls and meetings name their creator as an `Attendee`; chat messages as
        // `PersonData` (the OpenAPI digests' `interactions.*` schemas).
        let creator_id = if kind == 2 {
            &it["creator"]["id"]
        } else {
            &it["creator"]["person"]["id"]
        };
        assert_eq!(*creator_id, creator, "{it}");
        if kind == 0 {
            assert_eq!(it["organizer"]["person"]["id"], creator, "{it}");
        }
    }
}

#[tokio::test]
async fn each_keys_per_minute_window_is_its_own() {
    let config = EmulatorConfig {
        rate_limit_per_minute: 3,
        ..Default::default()
    };
    let t = two_user_emu(config).await;
    let remaining = |resp: &reqwest::Response| {
        resp.headers()["x-ratelimit-limit-user-remaining"]
            .to_str()
            .unwrap()
            .to_string()
    };
    for n in 1..=3 {
        let resp = t.as_key(BEA, Method::GET, "/lists").send().await.unwrap();
        assert_eq!(resp.status(), 200, "Bea's request {n}");
        assert_eq!(remaining(&resp), (3 - n).to_string());
    }
    let resp = t.as_key(BEA, Method::GET, "/lists").send().await.unwrap();
    assert_eq!(resp.status(), 429, "Bea's fourth request in the minute");

    // Cy's and the first user's windows are untouched by Bea's 429.
    for key in [CY, KEY] {
        let resp = t
            .as_key(key, Method::GET, "/v2/lists")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200, "{key}");
        assert_eq!(remaining(&resp), "2", "{key}");
    }
    // `/rate-limit` reads the asking key's window (and, outside the monthly quota, still
    // counts in it).
    let body = send(t.as_key(CY, Method::GET, "/rate-limit"), 200).await;
    assert_eq!(body["rate"]["api_key_per_minute"]["used"], 2, "{body}");
    send(t.as_key(CY, Method::GET, "/lists"), 200).await;
    send(t.as_key(CY, Method::GET, "/lists"), 429).await;
    send(t.as_key(BEA, Method::GET, "/lists"), 429).await;
    send(t.as_key(KEY, Method::GET, "/lists"), 200).await;
}

#[tokio::test]
async fn other_writes_are_the_callers_too() {
    let t = two_user_emu(EmulatorConfig::default()).await;
    // A list and its entry.
    let list = t
        .post_as(
            BEA,
            "/lists",
            json!({"name": "Bea's", "type": 0, "is_public": true}),
            200,
        )
        .await;
    assert_eq!(
        (list["owner_id"].clone(), list["creator_id"].clone()),
        (json!(11), json!(11))
    );
    let lid = list["id"].as_i64().unwrap();
    let entry = t
        .post_as(
            CY,
            &format!("/lists/{lid}/list-entries"),
            json!({"entity_id": 101}),
            200,
        )
        .await;
    assert_eq!(entry["creator_id"], 12, "{entry}");
    // A tracked value's change names its changer.
    t.post_as(
        CY,
        "/field-values",
        json!({"field_id": 512, "entity_id": 205, "value": {"city": "Oslo"}}),
        200,
    )
    .await;
    let changes = t
        .get("/field-value-changes?field_id=512&organization_id=205", 200)
        .await;
    assert_eq!(changes[0]["changer"]["id"], 12, "{changes}");
    // A webhook subscription is its creator's to change (affinity-api.md §5).
    let hook = t
        .post_as(
            BEA,
            "/webhook/subscribe",
            json!({"webhook_url": "http://127.0.0.1:9/hook"}),
            200,
        )
        .await;
    assert_eq!(hook["created_by"], 11, "{hook}");
    let path = format!("/webhook/{}", hook["id"]);
    let off = json!({"disabled": true});
    send(t.as_key(CY, Method::PUT, &path).json(&off), 403).await;
    send(t.as_key(BEA, Method::PUT, &path).json(&off), 200).await;
}

#[tokio::test]
async fn a_user_key_that_is_the_first_users_is_refused_at_start() {
    let mut seed = two_users();
    seed.users[1].api_key = KEY.into();
    let config = EmulatorConfig {
        api_key: Some(KEY.into()),
        ..Default::default()
    };
    let err = Emulator::start(config, seed).await.err().expect("refused");
    match &err {
        EmulatorError::InvalidSeed(inv) => assert_eq!(inv.param, "users.api_key", "{err}"),
        other => panic!("not an invalid seed: {other}"),
    }
    assert!(!err.to_string().contains(KEY), "the key stays out of {err}");
}

/// `affsync emulator --seed FILE` serves a seed with `users`, and refuses one whose users
/// repeat a key (exit 2, with the seed format's hint).
#[tokio::test]
async fn the_emulator_command_serves_a_seed_with_users() {
    use tokio::io::AsyncBufReadExt;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("seed.json");
    std::fs::write(&file, serde_json::to_string(&two_users()).unwrap()).unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["emulator", "--port", "0", "--api-key", KEY, "--seed"])
        .arg(&file)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    tokio::io::BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .unwrap();
    let base = line.trim().to_string();
    assert!(base.starts_with("http://127.0.0.1:"), "{line}");
    let http = reqwest::Client::new();
    for (key, id) in [(KEY, 1), (BEA, 11), (CY, 12)] {
        let who = send(
            http.get(format!("{base}/v2/auth/whoami")).bearer_auth(key),
            200,
        )
        .await;
        assert_eq!(who["user"]["id"], id, "{who}");
    }
    send(
        http.get(format!("{base}/v2/auth/whoami"))
            .bearer_auth("key-nobody"),
        401,
    )
    .await;
    child.kill().await.unwrap();

    let mut bad = two_users();
    bad.users[1].api_key = BEA.into();
    std::fs::write(&file, serde_json::to_string(&bad).unwrap()).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_affsync"))
        .args(["emulator", "--port", "0", "--seed"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("users.api_key") && err.contains("hint:"),
        "{err}"
    );
    assert!(!err.contains(BEA), "the key stays out of {err}");
}
