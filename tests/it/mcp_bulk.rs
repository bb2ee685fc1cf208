//! `push_mapping`, the MCP server's bulk write: a mapping file's records through the push
//! planner, planned (the push's dry run) and then applied with the plan's token, in-process.

use affinity_crm_emulator::{demo_seed, EmulatorConfig};
use affsync::mcp::{McpServer, Options};
use affsync::store::Store;
use serde_json::json;

use crate::common::TestEmu;

#[tokio::test]
async fn push_mapping_plans_the_push_then_applies_exactly_it_journaled_with_its_origin() {
    let t = TestEmu::with(EmulatorConfig::default(), demo_seed()).await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = t
        .run(dir.path(), &db, &["pull", "--list", "Deal Flow", "--quiet"])
        .await;
    assert_eq!(code, 0, "{err}");
    let mapping = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("mappings/companies.toml");
    let store = Store::open(&db).await.unwrap();
    let client = crate::client::client(&t.emu.base_url());
    let server = McpServer::new(
        store,
        Ok(client),
        Options {
            allow_writes: true,
            mapping_root: None,
        },
    );
    let args = json!({"mapping": mapping.to_str().unwrap(), "only": ["c049", "c053", "c001"]});

    let writes = t.writes().await;
    let planned = server
        .call("push_mapping", args.clone(), "tester")
        .await
        .unwrap();
    assert_eq!(planned["status"], "planned", "{planned}");
    assert_eq!(t.writes().await, writes, "a plan writes nothing");
    let plan = &planned["plan"];
    let records = plan["records"]["records_detail"].as_array().unwrap();
    assert_eq!(records.len(), 3, "{plan}");
    // Quarry Fleet (c049) and Heron Kitchen (c053) are in Affinity off the list: updated, not
    // created again.
    for id in ["c049", "c053"] {
        let r = records.iter().find(|r| r["source_id"] == id).unwrap();
        assert_eq!(r["action"], "updated", "{r}");
        assert_eq!(r["add_to_list"], true, "{r}");
    }
    let estimate = plan["api_calls"].as_u64().unwrap();
    assert!(estimate > 0, "{plan}");

    // Applied with the token: the push itself, with the calls the plan said.
    let token = planned["plan_token"].as_str().unwrap();
    let mut with_token = args.clone();
    with_token["plan_token"] = json!(token);
    let served = t.served().await;
    let applied = server
        .call("push_mapping", with_token.clone(), "tester")
        .await
        .unwrap();
    assert_eq!(applied["status"], "applied", "{applied}");
    let result = &applied["result"]["affinity"];
    assert_eq!(result["updated"], 3, "{result}");
    assert_eq!(result["created"], 0, "{result}");
    assert_eq!(result["failed"], 0, "{result}");
    assert_eq!(result["partial"], false, "{result}");
    // The plan's lookups are made again by the push (its resolve), then the writes.
    assert_eq!(
        t.served().await - served,
        estimate,
        "the push made the calls its plan counted: {applied}"
    );
    assert_eq!(applied["result"]["journal"]["origin"], "tester");

    // The token is spent.
    let again = server.call("push_mapping", with_token, "tester").await;
    assert!(again.is_err(), "{again:?}");

    // A mapping that is not there is a tool error naming it, with nothing written.
    let writes = t.writes().await;
    let e = server
        .call("push_mapping", json!({"mapping": "nowhere.toml"}), "tester")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("nowhere.toml"), "{e}");
    assert_eq!(t.writes().await, writes);
}
