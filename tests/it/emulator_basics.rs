//! Auth, rate-limit headers and the routes every client calls first.

use crate::common::*;
use affinity_crm_emulator::EmulatorConfig;
use serde_json::json;

#[tokio::test]
async fn whoami_in_both_versions() {
    let t = TestEmu::start().await;
    let v1 = t.get("/auth/whoami", 200).await;
    assert_eq!(v1["tenant"]["subdomain"], "testventures");
    assert_eq!(v1["user"]["email"], "owner@fund.vc");
    assert_eq!(v1["grant"]["type"], "api_key");
    let v2 = t.get("/v2/auth/whoami", 200).await;
    assert_eq!(v2["user"]["emailAddress"], "owner@fund.vc");
    assert_eq!(v2["grant"]["scopes"], json!(["api"]));
}

#[tokio::test]
async fn wrong_key_gets_401_in_affinity_shape() {
    let t = TestEmu::start().await;
    let body = send(
        t.http.get(t.url("/v2/auth/whoami")).bearer_auth("nope"),
        401,
    )
    .await;
    assert_eq!(body["errors"][0]["code"], "authentication");
    let body = send(
        t.http
            .get(t.url("/auth/whoami"))
            .basic_auth("", Some("nope")),
        401,
    )
    .await;
    assert!(
        body["errors"][0].is_string(),
        "v1 errors are strings: {body}"
    );
    // v1 takes Bearer too (since 2025-11-05); v2 does not take Basic.
    send(t.http.get(t.url("/auth/whoami")).bearer_auth(KEY), 200).await;
    send(
        t.http
            .get(t.url("/v2/auth/whoami"))
            .basic_auth("", Some(KEY)),
        401,
    )
    .await;
    send(t.http.get(t.url("/v2/auth/whoami")), 401).await;
}

#[tokio::test]
async fn rate_limit_headers_are_lowercase_and_org_ones_say_unlimited_without_a_quota() {
    let t = TestEmu::start().await;
    let resp = t
        .req(reqwest::Method::GET, "/v2/auth/whoami")
        .send()
        .await
        .unwrap();
    let h = resp.headers();
    assert_eq!(h["x-ratelimit-limit-user"], "900");
    assert!(h.contains_key("x-ratelimit-limit-user-remaining"));
    assert!(h.contains_key("x-ratelimit-limit-user-reset"));
    // All six on every answer; without a monthly quota the org ones say so (issue 17,
    // finding 1; affinity-api.md §4).
    assert_eq!(h["x-ratelimit-limit-org"], "unlimited");
    assert_eq!(h["x-ratelimit-limit-org-remaining"], "unlimited");
    assert!(h.contains_key("x-ratelimit-limit-org-reset"));
    let body = t.get("/rate-limit", 200).await;
    assert_eq!(body["rate"]["org_monthly"]["limit"], "unlimited");
    assert_eq!(body["rate"]["org_monthly"]["remaining"], "unlimited");
    assert_eq!(body["rate"]["api_key_per_minute"]["limit"], 900);

    let config = EmulatorConfig {
        monthly_quota: Some(100_000),
        ..Default::default()
    };
    let t = TestEmu::with(config, test_seed()).await;
    let resp = t
        .req(reqwest::Method::GET, "/v2/auth/whoami")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-ratelimit-limit-org"], "100000");
    let body = t.get("/v2/rate-limit", 200).await;
    assert_eq!(body["orgPerMonth"]["limit"], 100_000);
    assert_eq!(body["callerPerMinute"]["limit"], 900);
}

#[tokio::test]
async fn per_minute_limit_answers_429_with_affinity_body() {
    let config = EmulatorConfig {
        rate_limit_per_minute: 3,
        ..Default::default()
    };
    let t = TestEmu::with(config, test_seed()).await;
    for _ in 0..3 {
        t.get("/v2/auth/whoami", 200).await;
    }
    let resp = t
        .req(reqwest::Method::GET, "/v2/auth/whoami")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 429);
    assert_eq!(resp.headers()["x-ratelimit-limit-user-remaining"], "0");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "rate-limit");
}

#[tokio::test]
async fn monthly_quota_is_spent_across_keys_but_whoami_is_free() {
    let config = EmulatorConfig {
        monthly_quota: Some(2),
        api_key: None,
        ..Default::default()
    };
    let emu = affinity_crm_emulator::Emulator::start(config, test_seed())
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let url = |p: &str| format!("{}{}", emu.base_url(), p);
    // Free routes do not spend the quota.
    for _ in 0..5 {
        send(http.get(url("/v2/auth/whoami")).bearer_auth("a"), 200).await;
    }
    send(http.get(url("/v2/lists")).bearer_auth("a"), 200).await;
    send(http.get(url("/v2/lists")).bearer_auth("b"), 200).await;
    send(http.get(url("/v2/lists")).bearer_auth("c"), 429).await;
}

#[tokio::test]
async fn faults_are_reproducible_from_their_seed() {
    async fn pattern(seed: u64) -> Vec<String> {
        let config = EmulatorConfig {
            fault_rate: 0.5,
            fault_seed: seed,
            api_key: None,
            ..Default::default()
        };
        let emu = affinity_crm_emulator::Emulator::start(config, test_seed())
            .await
            .unwrap();
        let http = reqwest::Client::new();
        let mut out = vec![];
        for _ in 0..30 {
            let r = http
                .get(format!("{}/auth/whoami", emu.base_url()))
                .bearer_auth("k")
                .send()
                .await;
            out.push(match r {
                Ok(r) => {
                    let status = r.status().as_u16();
                    match r.bytes().await {
                        Ok(_) => status.to_string(),
                        Err(_) => "dropped".to_string(),
                    }
                }
                Err(_) => "dropped".to_string(),
            });
        }
        out
    }
    let a = pattern(7).await;
    assert_eq!(a, pattern(7).await, "same seed, same faults");
    assert_ne!(a, pattern(8).await, "another seed, other faults");
    for kind in ["200", "500", "503", "dropped"] {
        assert!(a.iter().any(|k| k == kind), "{kind} missing from {a:?}");
    }
}

#[tokio::test]
async fn stats_count_requests_per_route() {
    let t = TestEmu::start().await;
    t.get("/auth/whoami", 200).await;
    t.get("/auth/whoami", 200).await;
    t.get("/v2/auth/whoami", 200).await;
    let stats: serde_json::Value = t
        .http
        .get(t.url("/_emulator/stats"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stats["routes"]["GET /auth/whoami"], 2);
    assert_eq!(stats["routes"]["GET /v2/auth/whoami"], 1);
    assert_eq!(stats["total"], 3);
}
