//! Conversations kept only in the state store: turns append, history reads
//! and forgets, concurrent turns lose nothing, a store outage is a 503.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::{Cell, RefCell};
use std::collections::HashMap;

use chrono::Utc;
use common::{Api, now};
use docket_chat::assistant::{Builtin, Turn};
use docket_chat::history::{self, Conversation, Message, Role};
use docket_chat::service::{self, Assistant, ChatRequest};
use docket_chat::store::{StateStore, StoreError, Stored};
use futures::executor::block_on;
use todo_core::http::{ApiError, Request};

/// A state store with Redis-like integer ETags, which can be taken down
/// and can let another writer in just before the next save.
#[derive(Default)]
struct MemoryStore {
    items: RefCell<HashMap<String, (Vec<u8>, u64)>>,
    down: Cell<bool>,
    interleave: RefCell<Option<Message>>,
}

impl MemoryStore {
    fn check(&self) -> Result<(), StoreError> {
        if self.down.get() {
            Err(StoreError::Unavailable("connection refused".into()))
        } else {
            Ok(())
        }
    }
}

impl StateStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Stored>, StoreError> {
        self.check()?;
        Ok(self.items.borrow().get(key).map(|(value, version)| Stored {
            value: value.clone(),
            etag: version.to_string(),
        }))
    }

    async fn save(&self, key: &str, value: &[u8], etag: Option<&str>) -> Result<(), StoreError> {
        self.check()?;
        if let Some(message) = self.interleave.borrow_mut().take() {
            // Another turn saves first.
            let mut items = self.items.borrow_mut();
            let (stored, version) = items.get_mut(key).expect("an existing conversation");
            let mut conversation: Conversation = serde_json::from_slice(stored).unwrap();
            conversation.append(&[message]);
            *stored = serde_json::to_vec(&conversation).unwrap();
            *version += 1;
        }
        let mut items = self.items.borrow_mut();
        let current = items.get(key).map(|(_, v)| *v);
        if let (Some(etag), Some(current)) = (etag, current)
            && etag != current.to_string()
        {
            return Err(StoreError::Conflict);
        }
        items.insert(key.to_string(), (value.to_vec(), current.unwrap_or(0) + 1));
        Ok(())
    }

    async fn create(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.check()?;
        let mut items = self.items.borrow_mut();
        if items.contains_key(key) {
            return Err(StoreError::Conflict);
        }
        items.insert(key.to_string(), (value.to_vec(), 1));
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check()?;
        self.items.borrow_mut().remove(key);
        Ok(())
    }
}

struct Failing;

impl Assistant for Failing {
    async fn reply(&self, _: &[Message], _: &str) -> Result<Turn, ApiError> {
        Err(ApiError::new(
            504,
            "Gateway Timeout",
            "the language model did not answer in time",
        ))
    }
}

fn ask(message: &str, conversation_id: Option<&str>) -> ChatRequest {
    ChatRequest {
        conversation_id: conversation_id.map(str::to_string),
        message: message.to_string(),
        timezone: None,
    }
}

fn chat(
    store: &MemoryStore,
    api: &Api,
    user: &str,
    request: ChatRequest,
    new_id: &str,
) -> Result<service::ChatResponse, ApiError> {
    api.as_user(user);
    let assistant = Builtin { api, now: now() };
    block_on(service::turn(
        store,
        &assistant,
        user,
        request,
        new_id.to_string(),
        Utc::now(),
    ))
}

fn read(store: &MemoryStore, user: &str, id: &str) -> Result<serde_json::Value, ApiError> {
    let response = block_on(service::read(store, user, id))?;
    Ok(serde_json::from_slice(&response.body).unwrap())
}

#[test]
fn turns_append_to_a_conversation_that_can_be_read_and_forgotten() {
    let (store, api) = (MemoryStore::default(), Api::new());
    let first = chat(
        &store,
        &api,
        "alice",
        ask("add buy milk tomorrow", None),
        "c-1",
    )
    .unwrap();
    assert_eq!(first.conversation_id, "c-1");
    assert_eq!(first.tool_calls.len(), 1);
    let second = chat(
        &store,
        &api,
        "alice",
        ask("what's due tomorrow?", Some("c-1")),
        "unused",
    )
    .unwrap();
    assert_eq!(second.conversation_id, "c-1");
    assert!(second.response.contains("buy milk"), "{}", second.response);

    let history = read(&store, "alice", "c-1").unwrap();
    let roles: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user", "assistant"]);
    assert_eq!(history["messages"][0]["content"], "add buy milk tomorrow");
    assert_eq!(history["messages"][1]["tool_calls"][0]["name"], "add_task");

    let forgotten = block_on(service::forget(&store, "alice", "c-1")).unwrap();
    assert_eq!(forgotten.status, 204);
    assert_eq!(read(&store, "alice", "c-1").unwrap_err().status, 404);
}

#[test]
fn unknown_and_foreign_conversations_are_not_found() {
    let (store, api) = (MemoryStore::default(), Api::new());
    chat(&store, &api, "alice", ask("add something", None), "c-1").unwrap();
    for (user, id) in [
        ("alice", "c-2"),
        ("bob", "c-1"),
        ("alice", "../../etc"),
        ("alice", ""),
    ] {
        let error = chat(&store, &api, user, ask("hello", Some(id)), "n").unwrap_err();
        assert_eq!(error.status, 404, "{user} {id:?}");
        assert_eq!(
            read(&store, user, id).unwrap_err().status,
            404,
            "{user} {id:?}"
        );
    }
    assert_eq!(
        block_on(service::forget(&store, "bob", "c-1"))
            .unwrap_err()
            .status,
        404
    );
    assert!(read(&store, "alice", "c-1").is_ok());
}

#[test]
fn a_turn_racing_another_keeps_both_turns_messages() {
    let (store, api) = (MemoryStore::default(), Api::new());
    chat(&store, &api, "alice", ask("add one", None), "c-1").unwrap();
    *store.interleave.borrow_mut() = Some(Message {
        role: Role::User,
        content: "a message from another tab".into(),
        tool_calls: Vec::new(),
        at: "2026-03-04T09:00:00.000Z".into(),
    });
    chat(&store, &api, "alice", ask("add two", Some("c-1")), "n").unwrap();
    let contents: Vec<String> = read(&store, "alice", "c-1").unwrap()["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(contents.len(), 5, "{contents:?}");
    assert!(contents.contains(&"a message from another tab".to_string()));
    assert!(contents.contains(&"add two".to_string()));
}

#[test]
fn a_store_outage_is_a_503_and_touches_no_task() {
    let (store, api) = (MemoryStore::default(), Api::new());
    store.down.set(true);
    let error = chat(&store, &api, "alice", ask("add buy milk", None), "c-1").unwrap_err();
    assert_eq!(error.status, 503);
    assert!(error.detail.contains("tasks keep working"));
    assert_eq!(api.db.scalar("SELECT count(*) FROM tasks"), 0);
    assert_eq!(read(&store, "alice", "c-1").unwrap_err().status, 503);
}

#[test]
fn a_failed_answer_keeps_the_users_message() {
    let store = MemoryStore::default();
    let error = block_on(service::turn(
        &store,
        &Failing,
        "alice",
        ask("hello?", None),
        "c-9".into(),
        Utc::now(),
    ))
    .unwrap_err();
    assert_eq!(error.status, 504);
    let history = read(&store, "alice", "c-9").unwrap();
    assert_eq!(history["messages"].as_array().unwrap().len(), 1);
    assert_eq!(history["messages"][0]["content"], "hello?");
}

#[test]
fn empty_and_oversized_messages_are_refused() {
    let body = |message: &str| Request {
        method: "POST".into(),
        path: "/api/alice/chat".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: serde_json::json!({"message": message})
            .to_string()
            .into_bytes(),
        ..Request::default()
    };
    for message in ["", "   ", &"x".repeat(100 * 1024)] {
        let error = service::parse(&body(message)).unwrap_err();
        assert_eq!(error.status, 422, "{} chars", message.len());
    }
    assert!(service::parse(&body("add milk")).is_ok());
    let mut unknown = body("hi");
    unknown.body = br#"{"message": "hi", "mood": "cheerful"}"#.to_vec();
    assert_eq!(service::parse(&unknown).unwrap_err().status, 422);
}

#[test]
fn keys_separate_users_and_conversations() {
    assert_ne!(history::key("a|b", "c"), history::key("a", "b|c"));
    assert!(history::valid_id("3f2a-9c"));
    assert!(!history::valid_id("a/b"));
}
