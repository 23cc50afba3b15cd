//! The MCP server: a client session (initialize, tools/list, tools/call)
//! and the JSON-RPC errors, against the real todo API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::Api;
use docket_chat::mcp::{McpReply, handle};
use serde_json::{Value, json};

fn post(api: &Api, message: Value) -> McpReply {
    handle(api, "1.2.3", message.to_string().as_bytes())
}

#[test]
fn a_client_session_lists_and_calls_tools() {
    let api = Api::new();
    let init = post(
        &api,
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-03-26", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}}),
    );
    assert_eq!(init.status, 200);
    let body = init.body.unwrap();
    assert_eq!(body["id"], 1);
    assert_eq!(body["result"]["protocolVersion"], "2025-03-26");
    assert_eq!(body["result"]["serverInfo"]["name"], "docket");
    assert!(body["result"]["capabilities"]["tools"].is_object());

    let initialized = post(
        &api,
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(
        initialized,
        McpReply {
            status: 202,
            body: None
        }
    );

    let listed = post(
        &api,
        json!({"jsonrpc": "2.0", "id": "two", "method": "tools/list"}),
    )
    .body
    .unwrap();
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"add_task") && names.contains(&"complete_task"),
        "{names:?}"
    );
    assert_eq!(
        listed["result"]["tools"][0]["inputSchema"]["type"],
        "object"
    );

    let called = post(&api, json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "add_task", "arguments": {"title": "from MCP", "priority": "Critical"}}})).body.unwrap();
    assert_eq!(called["result"]["isError"], false);
    assert_eq!(
        called["result"]["structuredContent"]["result"]["title"],
        "from MCP"
    );
    let text: Value =
        serde_json::from_str(called["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text["priority"], "Critical");
    assert_eq!(
        api.db
            .scalar("SELECT count(*) FROM tasks WHERE title = 'from MCP'"),
        1
    );

    let ping = post(&api, json!({"jsonrpc": "2.0", "id": 4, "method": "ping"}))
        .body
        .unwrap();
    assert_eq!(ping["result"], json!({}));
}

#[test]
fn tool_failures_and_protocol_errors_are_reported() {
    let api = Api::new();
    api.as_user("bob");
    let bobs = docket_chat::tools::run(&api, "add_task", &json!({"title": "bob's"}));
    api.as_user("alice");
    let refused = post(
        &api,
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
        "params": {"name": "delete_task", "arguments": {"task_id": bobs.result["id"]}}}),
    )
    .body
    .unwrap();
    assert_eq!(refused["result"]["isError"], true);
    assert_eq!(api.db.scalar("SELECT count(*) FROM tasks"), 1);

    let cases = [
        (
            json!({"jsonrpc": "2.0", "id": 2, "method": "resources/list"}),
            -32601,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call", "params": {"name": "rm_rf"}}),
            -32602,
        ),
        (
            json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call", "params": {"name": "add_task", "arguments": [1]}}),
            -32602,
        ),
        (json!({"jsonrpc": "1.0", "id": 5, "method": "ping"}), -32600),
        (json!([]), -32600),
    ];
    for (message, code) in cases {
        let reply = post(&api, message.clone());
        let body = reply.body.unwrap();
        let body = if body.is_array() {
            body[0].clone()
        } else {
            body
        };
        assert_eq!(body["error"]["code"], code, "{message}");
    }
    let garbage = handle(&api, "1", b"{not json");
    assert_eq!(garbage.status, 400);
    assert_eq!(garbage.body.unwrap()["error"]["code"], -32700);

    let batch = post(
        &api,
        json!([
            {"jsonrpc": "2.0", "id": 1, "method": "ping"},
            {"jsonrpc": "2.0", "method": "notifications/initialized"},
            {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
        ]),
    );
    assert_eq!(batch.body.unwrap().as_array().unwrap().len(), 2);
}
