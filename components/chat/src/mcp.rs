//! The assistant's tools as an MCP server over the Streamable HTTP
//! transport: each POST carries one JSON-RPC message (or a batch); requests
//! get a JSON response, notifications and responses a bare 202. The server
//! keeps no session state, so any replica can answer any request.

use serde_json::{Value, json};

use crate::tools::{self, TaskApi};

/// Protocol revisions this server speaks, newest first.
pub const PROTOCOL_VERSIONS: &[&str] = &["2025-06-18", "2025-03-26", "2024-11-05"];

const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;
const METHOD_NOT_FOUND: i64 = -32601;
const INVALID_PARAMS: i64 = -32602;

/// What to send back: a status and, unless 202, a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct McpReply {
    pub status: u16,
    pub body: Option<Value>,
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn result(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

/// Handles one POSTed body.
pub fn handle(api: &dyn TaskApi, server_version: &str, body: &[u8]) -> McpReply {
    let Ok(message) = serde_json::from_slice::<Value>(body) else {
        return McpReply {
            status: 400,
            body: Some(error(Value::Null, PARSE_ERROR, "the body is not JSON")),
        };
    };
    let answers: Vec<Value> = match &message {
        Value::Array(batch) if !batch.is_empty() => batch
            .iter()
            .filter_map(|m| answer(api, server_version, m))
            .collect(),
        Value::Array(_) => vec![error(Value::Null, INVALID_REQUEST, "an empty batch")],
        single => answer(api, server_version, single).into_iter().collect(),
    };
    match (answers.len(), message.is_array()) {
        (0, _) => McpReply {
            status: 202,
            body: None,
        },
        (_, true) => McpReply {
            status: 200,
            body: Some(Value::Array(answers)),
        },
        _ => McpReply {
            status: 200,
            body: answers.into_iter().next(),
        },
    }
}

/// The answer to one message; `None` for notifications and responses.
fn answer(api: &dyn TaskApi, server_version: &str, message: &Value) -> Option<Value> {
    if message["jsonrpc"] != "2.0" {
        return Some(error(
            message["id"].clone(),
            INVALID_REQUEST,
            "not a JSON-RPC 2.0 message",
        ));
    }
    let id = message.get("id").cloned()?;
    let Some(method) = message["method"].as_str() else {
        // A response from the client to a request this server never sends.
        return None;
    };
    let params = &message["params"];
    Some(match method {
        "initialize" => {
            let asked = params["protocolVersion"].as_str().unwrap_or_default();
            let version = PROTOCOL_VERSIONS
                .iter()
                .find(|v| **v == asked)
                .unwrap_or(&PROTOCOL_VERSIONS[0]);
            result(
                id,
                json!({
                    "protocolVersion": version,
                    "capabilities": {"tools": {"listChanged": false}},
                    "serverInfo": {"name": "docket", "version": server_version},
                    "instructions": "Manage the signed-in user's tasks, tags and recurring templates."
                }),
            )
        }
        "ping" => result(id, json!({})),
        "tools/list" => {
            let tools: Vec<Value> = tools::catalogue()
                .into_iter()
                .map(|t| json!({"name": t.name, "description": t.description, "inputSchema": t.parameters}))
                .collect();
            result(id, json!({"tools": tools}))
        }
        "tools/call" => {
            let Some(name) = params["name"].as_str() else {
                return Some(error(id, INVALID_PARAMS, "tools/call needs a tool name"));
            };
            let arguments = match &params["arguments"] {
                Value::Null => json!({}),
                object @ Value::Object(_) => object.clone(),
                _ => return Some(error(id, INVALID_PARAMS, "arguments must be an object")),
            };
            if !tools::catalogue().iter().any(|t| t.name == name) {
                return Some(error(id, INVALID_PARAMS, &format!("unknown tool {name:?}")));
            }
            let call = tools::run(api, name, &arguments);
            result(
                id,
                json!({
                    "content": [{"type": "text", "text": call.result.to_string()}],
                    "structuredContent": {"result": call.result},
                    "isError": !call.ok,
                }),
            )
        }
        _ => error(id, METHOD_NOT_FOUND, &format!("unknown method {method:?}")),
    })
}
