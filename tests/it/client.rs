//! The client against the emulator, and against small mock servers for the routes the
//! emulator does not have yet (paging, merged entities, update-fields batches).

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use affinity_crm::{
    v1, v2, ApiKey, Backoff, Client, Config, EntityKind, Error, FieldSelection, KeySource,
    ListEntryId, ListId, OrganizationId, Request, V1Auth, V1Page,
};
use affinity_crm_emulator::middleware::presented_key;
use affinity_crm_emulator::{EmulatorConfig, Version};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use futures::TryStreamExt;
use serde_json::{json, Value};

use crate::common::{test_seed, TestEmu, KEY};

/// A client for `base` with the key given in code and quick retries.
fn client_for(base: &str, key: &str, source: KeySource) -> Client {
    let mut c = Config::new(ApiKey::new(key), source)
        .with_base_url(base)
        .unwrap();
    c.retry.backoff = Backoff {
        base: Duration::from_millis(5),
        cap: Duration::from_millis(50),
    };
    c.timeout = Duration::from_secs(10);
    Client::new(c).unwrap()
}

pub fn client(base: &str) -> Client {
    client_for(base, KEY, KeySource::Code)
}

async fn emu(config: EmulatorConfig) -> TestEmu {
    TestEmu::with(config, test_seed()).await
}

/// Serves `app` on 127.0.0.1:0; gives its base URL. The server stops with the test's runtime.
async fn mock(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    format!("http://{addr}")
}

fn authorized(h: &HeaderMap, v: Version) -> bool {
    presented_key(h, v).as_deref() == Some(KEY)
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_call_succeeds() {
    let t = emu(EmulatorConfig {
        rate_limit_per_minute: 2,
        rate_window: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let mut cfg = client(&t.emu.base_url()).config().clone();
    cfg.pacing = false; // reach the 429 instead of pacing around it
    let c = Client::new(cfg).unwrap();
    for _ in 0..3 {
        let w = c
            .whoami_v1()
            .await
            .expect("no error: the 429 is waited out");
        assert_eq!(w.tenant.id, 7);
    }
    let s = c.stats();
    assert_eq!(s.calls, 3);
    assert!(s.rate_limited >= 1, "{s:?}");
    assert_eq!(s.attempts, 3 + s.rate_limited);
}

#[tokio::test]
async fn pacing_waits_before_the_budget_runs_out_instead_of_meeting_a_429() {
    let t = emu(EmulatorConfig {
        rate_limit_per_minute: 2,
        rate_window: Duration::from_secs(2),
        ..Default::default()
    })
    .await;
    let c = client(&t.emu.base_url());
    for _ in 0..3 {
        c.rate_limit_v2().await.unwrap();
    }
    let s = c.stats();
    assert_eq!(s.rate_limited, 0, "{s:?}");
    assert!(s.paced >= 1, "{s:?}");
    let r = c.last_rate_reading().expect("headers read");
    assert_eq!(r.user_limit, Some(2));
}

#[tokio::test]
async fn faults_from_the_emulator_are_retried() {
    let t = emu(EmulatorConfig {
        fault_rate: 0.4,
        fault_seed: 7,
        ..Default::default()
    })
    .await;
    let c = client(&t.emu.base_url());
    for _ in 0..12 {
        c.whoami_v2().await.expect("faults are retried");
    }
    let s = c.stats();
    assert!(s.retries >= 1, "{s:?}");
    assert_eq!(s.attempts, 12 + s.retries);
}

#[tokio::test]
async fn a_spent_retry_budget_gives_a_typed_error() {
    let t = emu(EmulatorConfig {
        fault_rate: 1.0,
        ..Default::default()
    })
    .await;
    let mut cfg = client(&t.emu.base_url()).config().clone();
    cfg.retry.max_retries = 2;
    let c = Client::new(cfg).unwrap();
    let e = c.whoami_v1().await.unwrap_err();
    assert!(
        matches!(e, Error::Server { .. } | Error::Transport { .. }),
        "{e:?}"
    );
    assert!(e.is_transient());
    assert_eq!(e.retry_spent().unwrap().attempts, 3, "{e}");
    assert!(e.to_string().contains("after 3 attempts"), "{e}");
}

#[tokio::test]
async fn a_create_that_fails_is_not_repeated_and_says_it_was_tried_once() {
    let t = emu(EmulatorConfig {
        fault_rate: 1.0,
        ..Default::default()
    })
    .await;
    let c = client(&t.emu.base_url());
    let e = c
        .create_organization_v1(&v1::NewOrganization {
            name: "Acme".into(),
            domain: None,
            person_ids: None,
        })
        .await
        .unwrap_err();
    assert!(
        matches!(e, Error::Server { .. } | Error::Transport { .. }),
        "{e:?}"
    );
    // Not repeated (a second POST could create it twice), and the error says one attempt.
    assert_eq!(e.retry_spent().unwrap().attempts, 1, "{e}");
    assert!(e.to_string().contains("after 1 attempt in"), "{e}");
}

#[tokio::test]
async fn a_spent_rate_limit_budget_gives_rate_limited() {
    let t = emu(EmulatorConfig {
        rate_limit_per_minute: 1,
        rate_window: Duration::from_secs(60),
        ..Default::default()
    })
    .await;
    let mut cfg = client(&t.emu.base_url()).config().clone();
    cfg.pacing = false;
    cfg.retry.max_rate_limit_waits = 0;
    let c = Client::new(cfg).unwrap();
    c.whoami_v1().await.unwrap();
    match c.whoami_v1().await.unwrap_err() {
        Error::RateLimited { reset, retry, .. } => {
            assert!(reset.is_some());
            assert_eq!(retry.attempts, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_401_names_where_the_key_came_from_and_never_prints_it() {
    let t = TestEmu::start().await;
    let secret = "wrong-secret-key-3f9a";
    let sources = [
        (
            KeySource::Env("AFFINITY_API_KEY".into()),
            "the key from `AFFINITY_API_KEY`",
        ),
        (
            KeySource::File("/etc/affsync/key".into()),
            "the key from the file `/etc/affsync/key`",
        ),
        (KeySource::Code, "the key given in code"),
    ];
    for (source, says) in sources {
        let c = client_for(&t.emu.base_url(), secret, source);
        for e in [
            c.whoami_v1().await.unwrap_err(),
            c.whoami_v2().await.unwrap_err(),
        ] {
            assert!(matches!(e, Error::Auth { .. }), "{e:?}");
            let (shown, debug) = (e.to_string(), format!("{e:?}"));
            assert!(shown.contains(says), "{shown}");
            assert!(
                !shown.contains(secret) && !debug.contains(secret),
                "{shown} {debug}"
            );
            assert_eq!(e.retry_spent(), None);
        }
        assert!(!format!("{c:?}").contains(secret));
    }
}

#[tokio::test]
async fn a_timeout_is_retried_then_reported_as_a_timeout() {
    let t = emu(EmulatorConfig {
        latency: Duration::from_millis(400),
        ..Default::default()
    })
    .await;
    let mut cfg = client(&t.emu.base_url()).config().clone();
    cfg.timeout = Duration::from_millis(50);
    cfg.retry.max_retries = 1;
    let c = Client::new(cfg).unwrap();
    match c.whoami_v1().await.unwrap_err() {
        Error::Transport { timeout, retry, .. } => {
            assert!(timeout);
            assert_eq!(retry.attempts, 2);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn v1_takes_basic_or_bearer() {
    let t = TestEmu::start().await;
    for auth in [V1Auth::Basic, V1Auth::Bearer] {
        let mut cfg = client(&t.emu.base_url()).config().clone();
        cfg.v1_auth = auth;
        let c = Client::new(cfg).unwrap();
        assert_eq!(c.whoami_v1().await.unwrap().user.id.0, 1, "{auth:?}");
    }
}

#[tokio::test]
async fn the_client_reads_both_rate_limit_routes() {
    let t = emu(EmulatorConfig {
        monthly_quota: Some(1000),
        ..Default::default()
    })
    .await;
    let c = client(&t.emu.base_url());
    let r1 = c.rate_limit_v1().await.unwrap();
    assert_eq!(r1.rate.org_monthly.limit.count(), Some(1000));
    let r2 = c.rate_limit_v2().await.unwrap();
    assert!(r2.org_per_month.is_some());
    let t = TestEmu::start().await;
    let c = client(&t.emu.base_url());
    let r1 = c.rate_limit_v1().await.unwrap();
    assert_eq!(r1.rate.org_monthly.limit, affinity_crm::Limit::Unlimited);
}

// ---- mock servers: routes the emulator does not have yet ----

#[derive(Clone, Default)]
struct Calls(Arc<AtomicU32>);

impl Calls {
    fn next(&self) -> u32 {
        self.0.fetch_add(1, Ordering::SeqCst)
    }
    fn count(&self) -> u32 {
        self.0.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_5xx_then_a_broken_body_then_success() {
    let calls = Calls::default();
    let app = Router::new()
        .route(
            "/persons/{id}",
            get(|State(c): State<Calls>| async move {
                match c.next() {
                    0 => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Json(json!({"error": "busy"})),
                    )
                        .into_response(),
                    1 => {
                        let broken = futures::stream::once(async {
                            Err::<bytes::Bytes, std::io::Error>(std::io::Error::new(
                                std::io::ErrorKind::ConnectionReset,
                                "cut",
                            ))
                        });
                        Response::new(axum::body::Body::from_stream(broken))
                    }
                    _ => Json(json!({"id": 1, "type": 0, "first_name": "A", "emails": []}))
                        .into_response(),
                }
            }),
        )
        .with_state(calls.clone());
    let c = client(&mock(app).await);
    let p = c.person_v1(1.into()).await.unwrap();
    assert_eq!(p.first_name.as_deref(), Some("A"));
    assert_eq!(calls.count(), 3);
    assert_eq!(c.stats().retries, 2);
}

#[tokio::test]
async fn a_create_is_not_repeated_after_a_500() {
    let calls = Calls::default();
    let app = Router::new()
        .route(
            "/persons",
            post(|State(c): State<Calls>| async move {
                c.next();
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"errors": ["oops"]})),
                )
            }),
        )
        .with_state(calls.clone());
    let c = client(&mock(app).await);
    let e = c
        .create_person_v1(&v1::NewPerson {
            first_name: "A".into(),
            last_name: "B".into(),
            emails: vec![],
            organization_ids: None,
        })
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Server { status: 500, .. }), "{e:?}");
    assert_eq!(
        calls.count(),
        1,
        "a create that may have happened is not repeated"
    );
}

/// v1 `/persons` over 7 people: pages of `page_size`, an empty page carrying a token in the
/// middle, and `Invalid page_token variable` when a param changes between pages (§2.2).
async fn v1_persons(headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    if !authorized(&headers, Version::V1) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"errors": ["no"]}))).into_response();
    }
    let param = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let term = param("term").unwrap_or_default();
    let size: usize = param("page_size")
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    // A token is `<term>:<offset>:<empty>`.
    let (offset, empty_next) = match param("page_token") {
        None => (0, false),
        Some(t) => {
            let parts: Vec<&str> = t.split(':').collect();
            if parts[0] != term {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({"errors": ["Invalid page_token variable"]})),
                )
                    .into_response();
            }
            (parts[1].parse().unwrap(), parts[2] == "1")
        }
    };
    let all: Vec<Value> = (1..=7)
        .map(|i| json!({"id": i, "type": 0, "first_name": format!("{term}{i}"), "last_name": null, "emails": []}))
        .collect();
    if offset == 3 && !empty_next {
        // An empty page that still carries a token.
        return Json(json!({"persons": [], "next_page_token": format!("{term}:3:1")}))
            .into_response();
    }
    let page: Vec<Value> = all.iter().skip(offset).take(size).cloned().collect();
    let next = offset + page.len();
    let token = (next < all.len()).then(|| format!("{term}:{next}:0"));
    Json(json!({"persons": page, "next_page_token": token})).into_response()
}

#[tokio::test]
async fn v1_paging_follows_tokens_across_pages_and_keeps_params() {
    let pages = Calls::default();
    let counted = pages.clone();
    let app = Router::new().route(
        "/persons",
        get(move |h: HeaderMap, q: Query<Vec<(String, String)>>| {
            counted.next();
            v1_persons(h, q)
        }),
    );
    let c = client(&mock(app).await);
    let req = Request::get("/persons").query("term", "ada");
    let got: Vec<V1Page<v1::Person>> = c
        .v1_pages(req, "persons", Some(3))
        .try_collect()
        .await
        .unwrap();
    let sizes: Vec<usize> = got.iter().map(|p| p.items.len()).collect();
    assert_eq!(
        sizes,
        vec![3, 0, 3, 1],
        "pages of 3, an empty one in the middle"
    );
    let people: Vec<v1::Person> = c.persons_v1(Some("ada"), &[]).try_collect().await.unwrap();
    assert_eq!(people.len(), 7);
    assert_eq!(people[6].first_name.as_deref(), Some("ada7"));
    assert_eq!(pages.count(), 4 + 1, "at 500 a page, one page holds all 7");
}

/// v2 `/v2/companies`: 3 pages whose `nextUrl` names Affinity's own host; the client must
/// follow it through its own base URL, with its Bearer auth, keeping the other params.
async fn v2_companies(headers: HeaderMap, Query(q): Query<Vec<(String, String)>>) -> Response {
    if !authorized(&headers, Version::V2) {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"errors": [{"code": "authentication", "message": "no"}]})),
        )
            .into_response();
    }
    let param = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if param("fieldTypes").as_deref() != Some("enriched") {
        return (
            StatusCode::BAD_REQUEST,
            Json(json!({"errors": [{"code": "validation", "message": "lost fieldTypes", "param": "fieldTypes"}]})),
        )
            .into_response();
    }
    let page: u64 = param("cursor").and_then(|c| c.parse().ok()).unwrap_or(0);
    let data: Vec<Value> = (0..2)
        .map(|i| {
            let id = page * 2 + i + 1;
            json!({"id": id, "name": format!("Co {id}"), "domain": null, "domains": [], "isGlobal": false,
                   "fields": [{"id": "affinity-data-industry", "name": "Industry", "type": "enriched",
                               "enrichmentSource": "affinity-data", "value": {"type": "filterable-text-multi", "data": null}}]})
        })
        .collect();
    let next = (page < 2).then(|| {
        format!(
            "https://api.affinity.co/v2/companies?cursor={}&fieldTypes=enriched&limit=100",
            page + 1
        )
    });
    Json(json!({"data": data, "pagination": {"nextUrl": next, "prevUrl": null}})).into_response()
}

#[tokio::test]
async fn v2_paging_follows_next_url_through_the_clients_own_base() {
    let app = Router::new().route("/v2/companies", get(v2_companies));
    let c = client(&mock(app).await);
    let pages: Vec<v2::Page<v2::Company>> = c
        .v2_pages(
            Request::get("/v2/companies")
                .query("fieldTypes", "enriched")
                .query("limit", 100),
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(pages.len(), 3);
    let all: Vec<v2::Company> = c
        .companies_v2(&[], &FieldSelection::types(&["enriched"]))
        .try_collect()
        .await
        .unwrap();
    let ids: Vec<i64> = all.iter().map(|c| c.id.0).collect();
    assert_eq!(ids, vec![1, 2, 3, 4, 5, 6]);
    assert_eq!(
        all[0].fields[0].value,
        v2::FieldValue::FilterableTextMulti(None),
        "an empty multi value is null"
    );
    // Without the selection the mock refuses: the error is typed, with Affinity's param.
    let e = c
        .companies_v2(&[], &FieldSelection::none())
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(
        matches!(&e, Error::Validation { status: 400, param: Some(p), .. } if p == "fieldTypes"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_merged_entity_gives_a_typed_error_with_the_new_id() {
    let app = Router::new()
        .route(
            "/organizations/{id}",
            get(|| async {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({"errors": ["organization_id: 299 no longer exists as it has been merged into 201"]})),
                )
            }),
        )
        .route(
            "/v2/persons/{id}",
            get(|| async {
                (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    Json(json!({"errors": [{"code": "unprocessable-entity", "message": "199 no longer exists as it has been merged into 101"}]})),
                )
            }),
        );
    let c = client(&mock(app).await);
    match c.organization_v1(OrganizationId(299)).await.unwrap_err() {
        Error::Merged {
            entity,
            old_id,
            new_id,
            ..
        } => assert_eq!(
            (entity, old_id, new_id),
            (EntityKind::Organization, 299, 201)
        ),
        other => panic!("{other:?}"),
    }
    let e = c
        .person_v2(199.into(), &FieldSelection::none())
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Merged {
                entity: EntityKind::Person,
                old_id: 199,
                new_id: 101,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("use id 101"), "{e}");
    assert_eq!(c.stats().retries, 0, "a 422 is not retried");
}

#[tokio::test]
async fn update_fields_batches_are_split_at_100() {
    let sizes = Arc::new(std::sync::Mutex::new(Vec::<usize>::new()));
    let seen = sizes.clone();
    let app = Router::new().route(
        "/v2/lists/{lid}/list-entries/{eid}/fields",
        patch(move |Json(body): Json<Value>| {
            let seen = seen.clone();
            async move {
                assert_eq!(body["operation"], "update-fields");
                seen.lock()
                    .unwrap()
                    .push(body["updates"].as_array().unwrap().len());
                Json(json!({"operation": "update-fields"}))
            }
        }),
    );
    let c = client(&mock(app).await);
    let updates: Vec<v2::FieldUpdate> = (0..250)
        .map(|i| v2::FieldUpdate {
            id: v2::FieldId(format!("field-{i}")),
            value: v2::FieldValue::Text(Some(format!("v{i}"))),
        })
        .collect();
    let calls = c
        .update_list_entry_fields_v2(ListId(301), ListEntryId(601), &updates)
        .await
        .unwrap();
    assert_eq!(calls, 3);
    assert_eq!(*sizes.lock().unwrap(), vec![100, 100, 50]);
}

/// A gate that lets every write through its check, and says whether the lock still holds at
/// the last byte as `holds` says.
struct Gate {
    holds: std::sync::atomic::AtomicBool,
}

impl affinity_crm::WriteGate for Gate {
    fn check(&self) -> futures::future::BoxFuture<'_, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
    fn still_holds(&self) -> bool {
        self.holds.load(Ordering::SeqCst)
    }
}

#[tokio::test]
async fn a_write_whose_gate_closes_after_its_check_is_left_unfinished_and_not_taken() {
    let t = emu(EmulatorConfig::default()).await;
    let gate = Arc::new(Gate {
        holds: std::sync::atomic::AtomicBool::new(false),
    });
    let c = client(&t.emu.base_url()).with_write_gate(gate.clone());
    let new = |name: &str| affinity_crm::v1::NewOrganization {
        name: name.into(),
        domain: Some(format!("{}.example", name.to_lowercase())),
        person_ids: None,
    };
    // The check passed, then the lock was lost (a pause) before the last byte: refused, and
    // Affinity never saw a whole request.
    let e = c.create_organization_v1(&new("Gated")).await.unwrap_err();
    assert!(
        matches!(e, affinity_crm::Error::WriteRefused { .. }),
        "{e:?}"
    );
    let found = t.get("/organizations?term=Gated", 200).await;
    assert_eq!(found["organizations"], json!([]), "{found}");
    // While it holds, the same write goes through whole.
    gate.holds.store(true, Ordering::SeqCst);
    let o = c.create_organization_v1(&new("Gated")).await.unwrap();
    assert_eq!(o.name, "Gated");
    let found = t.get("/organizations?term=Gated", 200).await;
    assert_eq!(
        found["organizations"][0]["domain"], "gated.example",
        "{found}"
    );
}
