//! Tool calling against a scripted OpenAI-compatible model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::RefCell;

use common::{Api, now};
use docket_chat::llm::{Http, HttpFailure, Llm, LlmConfig};
use docket_chat::service::Assistant;
use docket_http::{Outgoing, Response};
use futures::executor::block_on;
use serde_json::{Value, json};

type Reply = Result<(u16, Vec<u8>), HttpFailure>;

/// Answers each POST with the next scripted reply and records the bodies.
struct Script {
    replies: RefCell<Vec<Reply>>,
    requests: RefCell<Vec<(String, String, Value)>>,
}

impl Script {
    fn new(replies: Vec<Reply>) -> Script {
        Script {
            replies: RefCell::new(replies.into_iter().rev().collect()),
            requests: RefCell::new(Vec::new()),
        }
    }
}

impl Http for Script {
    async fn send(&self, request: &Outgoing) -> Result<Response, HttpFailure> {
        let bearer = request.header("authorization").unwrap_or_default();
        let body: Value = serde_json::from_slice(&request.body).expect("a JSON request");
        self.requests.borrow_mut().push((
            request.url.clone(),
            bearer.trim_start_matches("Bearer ").into(),
            body,
        ));
        let (status, body) = self.replies.borrow_mut().pop().expect("a scripted reply")?;
        Ok(Response {
            status,
            headers: Vec::new(),
            body,
        })
    }
}

fn tool_call(id: &str, name: &str, arguments: &str) -> Reply {
    let body = json!({"choices": [{"message": {"role": "assistant", "content": null,
        "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}]}}]});
    Ok((200, body.to_string().into_bytes()))
}

fn text(content: &str) -> Reply {
    let body = json!({"choices": [{"message": {"role": "assistant", "content": content}}]});
    Ok((200, body.to_string().into_bytes()))
}

fn config() -> LlmConfig {
    LlmConfig {
        base_url: "http://llm.test/v1/".into(),
        api_key: "sk-test".into(),
        model: "test-model".into(),
    }
}

#[test]
fn the_model_calls_tools_and_then_answers() {
    let api = Api::new();
    let script = Script::new(vec![
        tool_call(
            "call-1",
            "add_task",
            r#"{"title": "buy milk", "priority": "High"}"#,
        ),
        text("Added buy milk."),
    ]);
    let config = config();
    let llm = Llm {
        http: &script,
        config: &config,
        api: &api,
        now: now(),
    };
    let turn = block_on(llm.reply(&[], "add buy milk, it's important")).unwrap();
    assert_eq!(turn.response, "Added buy milk.");
    assert_eq!(turn.tool_calls.len(), 1);
    assert!(turn.tool_calls[0].ok);
    assert_eq!(
        api.db
            .scalar("SELECT count(*) FROM tasks WHERE title = 'buy milk' AND priority_id = 3"),
        1
    );

    let requests = script.requests.borrow();
    assert_eq!(requests.len(), 2);
    let (url, bearer, first) = &requests[0];
    assert_eq!(url, "http://llm.test/v1/chat/completions");
    assert_eq!(bearer, "sk-test");
    assert_eq!(first["model"], "test-model");
    assert_eq!(first["messages"][0]["role"], "system");
    assert_eq!(
        first["messages"][1],
        json!({"role": "user", "content": "add buy milk, it's important"})
    );
    assert!(
        first["tools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["function"]["name"] == "add_task")
    );
    let second = &requests[1].2["messages"];
    let tool_message = second.as_array().unwrap().last().unwrap();
    assert_eq!(tool_message["role"], "tool");
    assert_eq!(tool_message["tool_call_id"], "call-1");
    assert!(
        tool_message["content"]
            .as_str()
            .unwrap()
            .contains("\"title\":\"buy milk\"")
    );
}

#[test]
fn bad_tool_arguments_and_other_users_tasks_come_back_as_tool_errors() {
    let api = Api::new();
    api.as_user("bob");
    let bobs = docket_chat::tools::run(&api, "add_task", &json!({"title": "bob's"}));
    let bobs_id = bobs.result["id"].as_i64().unwrap();
    api.as_user("alice");
    let script = Script::new(vec![
        tool_call("c1", "delete_task", "not json"),
        tool_call(
            "c2",
            "delete_task",
            &json!({"task_id": bobs_id}).to_string(),
        ),
        text("I could not delete that."),
    ]);
    let config = config();
    let llm = Llm {
        http: &script,
        config: &config,
        api: &api,
        now: now(),
    };
    let turn = block_on(llm.reply(&[], "delete everything")).unwrap();
    assert_eq!(turn.tool_calls.len(), 2);
    assert!(turn.tool_calls.iter().all(|c| !c.ok));
    assert_eq!(api.db.scalar("SELECT count(*) FROM tasks"), 1);
}

#[test]
fn a_failing_model_is_a_clear_gateway_error() {
    let api = Api::new();
    let config = config();
    let cases = vec![
        (Err(HttpFailure::Timeout), 504),
        (
            Err(HttpFailure::Unreachable("connection refused".into())),
            502,
        ),
        (Err(HttpFailure::NotAllowed), 502),
        (Ok((500, b"upstream exploded".to_vec())), 502),
        (Ok((200, b"<html>not json</html>".to_vec())), 502),
        (Ok((200, br#"{"choices": []}"#.to_vec())), 502),
    ];
    for (reply, status) in cases {
        let script = Script::new(vec![reply]);
        let llm = Llm {
            http: &script,
            config: &config,
            api: &api,
            now: now(),
        };
        let error = block_on(llm.reply(&[], "hello")).unwrap_err();
        assert_eq!(error.status, status, "{}", error.detail);
        assert!(!error.detail.contains("sk-test"));
    }
}

#[test]
fn a_model_that_never_stops_calling_tools_is_cut_off() {
    let api = Api::new();
    let config = config();
    let script = Script::new(
        (0..10)
            .map(|i| tool_call(&format!("c{i}"), "list_tags", "{}"))
            .collect(),
    );
    let llm = Llm {
        http: &script,
        config: &config,
        api: &api,
        now: now(),
    };
    let error = block_on(llm.reply(&[], "loop")).unwrap_err();
    assert_eq!(error.status, 502);
    assert!(script.requests.borrow().len() <= 6);
}
