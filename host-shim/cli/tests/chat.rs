//! The chat through `docket up` and the real todo-api `.wasm`: the
//! conversation lives in the Dapr state store only, so it survives a
//! restart and is shared by instances on one Redis; with the store down the
//! chat answers 503 while tasks keep working.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::redis::{self, Redis};
use support::todo::{Backend, Setup, TodoApp, default_resources};

fn chat(app: &TodoApp, user: &str, body: Value) -> support::Reply {
    app.call(
        Some(user),
        "POST",
        &format!("/api/{user}/chat"),
        Some(&body),
    )
}

fn messages(app: &TodoApp, user: &str, id: &str) -> Vec<String> {
    let reply = app.call(Some(user), "GET", &format!("/api/{user}/chat/{id}"), None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect()
}

/// The embedded resources with the state store on `redis`.
fn on_redis(redis: &Redis) -> Setup {
    let mut resources: Vec<(&str, String)> = default_resources();
    resources.retain(|(name, _)| *name != "statestore.yaml");
    resources.push((
        "statestore.yaml",
        redis::component("statestore", "state.redis", redis.port),
    ));
    Setup {
        resources,
        ..Setup::default()
    }
}

#[test]
fn a_conversation_acts_on_tasks_and_survives_a_restart() {
    let app = TodoApp::start(Backend::Sqlite, "chat-restart");
    let first = chat(
        &app,
        "alice",
        json!({"message": "add buy milk tomorrow high priority", "timezone": "Europe/Berlin"}),
    );
    assert_eq!(first.status, 200, "{}", first.body);
    let first = first.json();
    let id = first["conversation_id"].as_str().unwrap().to_string();
    assert!(
        first["response"]
            .as_str()
            .unwrap()
            .starts_with("Added “buy milk” (High, due ")
    );
    assert_eq!(first["tool_calls"][0]["name"], "add_task");
    let tasks = app
        .call(Some("alice"), "GET", "/api/alice/tasks", None)
        .json();
    assert_eq!(tasks[0]["title"], "buy milk");
    assert_eq!(tasks[0]["priority"], "High");
    // The task API's events come from the chat's changes too.
    assert_eq!(
        app.scalar("SELECT count(*) FROM event_outbox WHERE event_type = 'task.created'"),
        1
    );

    let app = app.restart();
    let second = chat(
        &app,
        "alice",
        json!({"conversation_id": id, "message": "done with buy milk"}),
    );
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(second.json()["conversation_id"], id.as_str());
    assert_eq!(messages(&app, "alice", &id).len(), 4);
    let tasks = app
        .call(Some("alice"), "GET", "/api/alice/tasks", None)
        .json();
    assert_eq!(tasks[0]["completed"], true);

    let forgotten = app.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/chat/{id}"),
        None,
    );
    assert_eq!(forgotten.status, 204);
    assert_eq!(
        app.call(Some("alice"), "GET", &format!("/api/alice/chat/{id}"), None)
            .status,
        404
    );
}

/// Turns sent at once to one conversation: each re-reads and appends when
/// another saved first, so every message is kept (on the real sidecar's
/// ETags, over Redis).
#[test]
fn concurrent_turns_on_one_conversation_lose_no_message() {
    let redis = Redis::start();
    let app = TodoApp::start_with(Backend::Sqlite, "chat-race", on_redis(&redis));
    let id = chat(&app, "alice", json!({"message": "help"})).json()["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let turns: Vec<_> = (0..10)
            .map(|i| {
                let body = json!({"conversation_id": id, "message": format!("message {i}")});
                let app = &app;
                scope.spawn(move || chat(app, "alice", body).status)
            })
            .collect();
        turns.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let kept = messages(&app, "alice", &id);
    assert_eq!(kept.len(), 2 + 2 * 10, "{kept:?}");
    for i in 0..10 {
        assert!(
            kept.contains(&format!("message {i}")),
            "message {i} was lost"
        );
    }
}

#[test]
fn two_instances_on_one_redis_share_the_conversation() {
    let redis = Redis::start();
    let a = TodoApp::start_with(Backend::Sqlite, "chat-a", on_redis(&redis));
    let b = TodoApp::start_with(Backend::Sqlite, "chat-b", on_redis(&redis));
    let started = chat(&a, "alice", json!({"message": "help"})).json();
    let id = started["conversation_id"].as_str().unwrap().to_string();
    let continued = chat(
        &b,
        "alice",
        json!({"conversation_id": id, "message": "what can you do?"}),
    );
    assert_eq!(continued.status, 200, "{}", continued.body);
    let from_a = messages(&a, "alice", &id);
    assert_eq!(from_a, messages(&b, "alice", &id));
    assert_eq!(from_a.len(), 4);
    assert_eq!(from_a[2], "what can you do?");
}

#[test]
fn with_the_state_store_down_chat_is_503_and_tasks_keep_working() {
    let mut redis = Redis::start();
    let app = TodoApp::start_with(Backend::Sqlite, "chat-down", on_redis(&redis));
    let id = chat(&app, "alice", json!({"message": "help"})).json()["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    redis.stop();
    let reply = chat(
        &app,
        "alice",
        json!({"conversation_id": id, "message": "add buy milk"}),
    );
    assert_eq!(reply.status, 503, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json")
    );
    assert!(
        reply.json()["detail"]
            .as_str()
            .unwrap()
            .contains("conversation store is unavailable")
    );
    let fresh = chat(&app, "alice", json!({"message": "add buy bread"}));
    assert_eq!(fresh.status, 503, "{}", fresh.body);
    // Nothing was done on the user's behalf, and the task API works.
    assert_eq!(app.scalar("SELECT count(*) FROM tasks"), 0);
    let created = app.create_task("alice", &json!({"title": "works without the store"}));
    assert_eq!(created["title"], "works without the store");

    redis.resume();
    let back = chat(&app, "alice", json!({"message": "show my tasks"}));
    assert_eq!(back.status, 200, "{}", back.body);
}

#[test]
fn bad_chat_requests_get_precise_errors() {
    let app = TodoApp::start(Backend::Sqlite, "chat-bad");
    let id = chat(&app, "alice", json!({"message": "help"})).json()["conversation_id"]
        .as_str()
        .unwrap()
        .to_string();
    let cases = [
        (json!({"message": ""}), 422),
        (json!({"message": "x".repeat(100 * 1024)}), 422),
        (json!({"message": "hi", "timezone": "Mars/Olympus"}), 422),
        (json!({"message": "hi", "mood": "cheerful"}), 422),
        (
            json!({"conversation_id": "no-such-conversation", "message": "hi"}),
            404,
        ),
        (
            json!({"conversation_id": "../../etc/passwd", "message": "hi"}),
            404,
        ),
        (json!({"message": 42}), 422),
    ];
    for (body, status) in cases {
        let reply = chat(&app, "alice", body.clone());
        assert_eq!(reply.status, status, "{body}: {}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
    // Bob cannot read, continue or forget Alice's conversation.
    assert_eq!(
        app.call(Some("bob"), "GET", &format!("/api/bob/chat/{id}"), None)
            .status,
        404
    );
    assert_eq!(
        chat(&app, "bob", json!({"conversation_id": id, "message": "hi"})).status,
        404
    );
    assert_eq!(
        app.call(Some("bob"), "DELETE", &format!("/api/bob/chat/{id}"), None)
            .status,
        404
    );
    assert_eq!(
        app.call(Some("bob"), "GET", &format!("/api/alice/chat/{id}"), None)
            .status,
        403
    );
    assert_eq!(
        app.call(
            None,
            "POST",
            "/api/alice/chat",
            Some(&json!({"message": "hi"}))
        )
        .status,
        401
    );
    assert_eq!(messages(&app, "alice", &id).len(), 2);
}

mod language_model {
    use super::*;
    use support::recording_app::{Recorded, RecordingApp};

    /// An OpenAI-compatible endpoint: asks for `add_task` first, then answers
    /// with text once the tool's result is in the conversation.
    fn model(request: &Recorded) -> (u16, &'static str, String) {
        let body = request.json();
        let messages = body["messages"].as_array().cloned().unwrap_or_default();
        let answered = messages.iter().any(|m| m["role"] == "tool");
        let reply = if answered {
            json!({"choices": [{"message": {"role": "assistant", "content": "Done: added it."}}]})
        } else {
            let arguments = json!({"title": "plan the party", "priority": "High"}).to_string();
            json!({"choices": [{"message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "add_task", "arguments": arguments}}
            ]}}]})
        };
        (200, "application/json", reply.to_string())
    }

    fn with_model(server: &RecordingApp, timeout_secs: u64) -> Setup {
        Setup {
            allowed_hosts: vec![format!("http://127.0.0.1:{}", server.port())],
            variables: vec![
                (
                    "llm_base_url".into(),
                    format!("http://127.0.0.1:{}/v1", server.port()),
                ),
                ("llm_api_key".into(), "sk-local-test".into()),
                ("llm_model".into(), "test-model".into()),
                ("llm_timeout_secs".into(), timeout_secs.to_string()),
            ],
            ..Setup::default()
        }
    }

    #[test]
    fn the_model_manages_tasks_through_the_tools() {
        let server = RecordingApp::start(model);
        let app = TodoApp::start_with(Backend::Sqlite, "chat-llm", with_model(&server, 30));
        let reply = chat(
            &app,
            "alice",
            json!({"message": "I need to plan the party, it's important"}),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
        let reply = reply.json();
        assert_eq!(reply["response"], "Done: added it.");
        assert_eq!(reply["tool_calls"][0]["name"], "add_task");
        assert_eq!(reply["tool_calls"][0]["ok"], true);
        let tasks = app
            .call(Some("alice"), "GET", "/api/alice/tasks", None)
            .json();
        assert_eq!(tasks[0]["title"], "plan the party");
        assert_eq!(tasks[0]["priority"], "High");

        let calls = server.to("/v1/chat/completions");
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[0].header("authorization"),
            Some("Bearer sk-local-test")
        );
        assert_eq!(calls[0].json()["model"], "test-model");
        assert!(calls[0].json()["tools"].as_array().unwrap().len() >= 5);
        assert_eq!(
            calls[1].json()["messages"]
                .as_array()
                .unwrap()
                .last()
                .unwrap()["tool_call_id"],
            "call_1"
        );
        // The key is not logged.
        assert!(!app.docket.logs().contains("sk-local-test"));
    }

    #[test]
    fn a_model_that_times_out_or_answers_garbage_is_a_clear_error_and_the_message_is_kept() {
        let slow = RecordingApp::start(|_| {
            std::thread::sleep(std::time::Duration::from_secs(3));
            (200, "application/json", "{}".to_string())
        });
        let app = TodoApp::start_with(Backend::Sqlite, "chat-slow", with_model(&slow, 1));
        let reply = chat(&app, "alice", json!({"message": "are you there?"}));
        assert_eq!(reply.status, 504, "{}", reply.body);
        let id = reply.json()["conversation_id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(messages(&app, "alice", &id), ["are you there?"]);

        let garbage = RecordingApp::start(|_| (200, "text/html", "<html>oops</html>".to_string()));
        let app = TodoApp::start_with(Backend::Sqlite, "chat-garbage", with_model(&garbage, 5));
        let reply = chat(&app, "alice", json!({"message": "hello"}));
        assert_eq!(reply.status, 502, "{}", reply.body);
        assert!(
            reply.json()["detail"]
                .as_str()
                .unwrap()
                .contains("not JSON")
        );
    }
}

/// An MCP client session over HTTP with the user's token: initialize, the
/// initialized notification, tools/list, tools/call.
#[test]
fn an_mcp_client_manages_tasks_with_the_users_token() {
    let app = TodoApp::start(Backend::Sqlite, "mcp");
    let rpc = |user: &str, message: Value| {
        let token = format!("Bearer {}", app.token(user));
        app.docket.request(
            "POST",
            &format!("/api/{user}/mcp"),
            &[
                ("authorization", token.as_str()),
                ("content-type", "application/json"),
                ("accept", "application/json, text/event-stream"),
            ],
            &message.to_string(),
        )
    };
    let init = rpc(
        "alice",
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "it", "version": "1"}}}),
    );
    assert_eq!(init.status, 200, "{}", init.body);
    assert_eq!(init.json()["result"]["protocolVersion"], "2025-06-18");
    let notified = rpc(
        "alice",
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    );
    assert_eq!(notified.status, 202);
    assert!(notified.body.is_empty());

    let tools = rpc(
        "alice",
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
    )
    .json();
    assert!(
        tools["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "list_tasks")
    );
    let added = rpc(
        "alice",
        json!({"jsonrpc": "2.0", "id": 3, "method": "tools/call",
        "params": {"name": "add_task", "arguments": {"title": "via MCP", "tags": ["mcp"]}}}),
    )
    .json();
    assert_eq!(added["result"]["isError"], false, "{added}");
    let id = added["result"]["structuredContent"]["result"]["id"]
        .as_i64()
        .unwrap();
    let task = app
        .call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None,
        )
        .json();
    assert_eq!(task["tags"][0]["name"], "mcp");
    assert_eq!(
        app.scalar("SELECT count(*) FROM event_outbox WHERE event_type = 'task.created'"),
        1
    );

    // Another user's session cannot touch it; a token for the wrong path is refused.
    let foreign = rpc(
        "bob",
        json!({"jsonrpc": "2.0", "id": 4, "method": "tools/call",
        "params": {"name": "complete_task", "arguments": {"task_id": id}}}),
    )
    .json();
    assert_eq!(foreign["result"]["isError"], true);
    let token = format!("Bearer {}", app.token("bob"));
    let wrong_path = app.docket.request(
        "POST",
        "/api/alice/mcp",
        &[
            ("authorization", token.as_str()),
            ("content-type", "application/json"),
        ],
        "{}",
    );
    assert_eq!(wrong_path.status, 403);
    let stream = app.call(Some("alice"), "GET", "/api/alice/mcp", None);
    assert_eq!(stream.status, 405);
    let not_json = app.docket.request(
        "POST",
        "/api/alice/mcp",
        &[
            ("authorization", &format!("Bearer {}", app.token("alice"))),
            ("content-type", "text/plain"),
        ],
        "hi",
    );
    assert_eq!(not_json.status, 415);
}
