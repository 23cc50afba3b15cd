//! The user's API: preferences, delivery records and the mailbox.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use docket_http::{ApiError, Request, Response};
use docket_notify::{Outcome, Settings, api};
use docket_state::memory::MemoryStore;
use futures::executor::block_on;
use serde_json::{Value, json};

fn call(
    store: &MemoryStore,
    user: &str,
    method: &str,
    path_and_query: &str,
    body: Option<&str>,
) -> Result<Response, ApiError> {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let request = Request {
        method: method.into(),
        path: path.into(),
        query: query.into(),
        headers: body
            .map(|_| {
                vec![(
                    "content-type".into(),
                    "application/json; charset=utf-8".into(),
                )]
            })
            .unwrap_or_default(),
        body: body.unwrap_or_default().as_bytes().to_vec(),
    };
    block_on(api::handle(store, user, &request, now()))
}

fn ok(result: Result<Response, ApiError>) -> Value {
    let response = result.unwrap();
    assert_eq!(response.status, 200);
    serde_json::from_slice(&response.body).unwrap()
}

fn get(store: &MemoryStore, user: &str, path: &str) -> Value {
    ok(call(
        store,
        user,
        "GET",
        &format!("/api/notifications/{path}"),
        None,
    ))
}

fn put_prefs(store: &MemoryStore, user: &str, body: &Value) -> Result<Response, ApiError> {
    call(
        store,
        user,
        "PUT",
        "/api/notifications/preferences",
        Some(&body.to_string()),
    )
}

fn defaults() -> Value {
    json!({
        "email": null,
        "channels": {"email": true, "push": false},
        "events": {"task.created": true, "task.completed": true, "task.due": true},
        "device_tokens": [],
    })
}

fn valid() -> Value {
    json!({
        "email": "ada@example.com",
        "channels": {"email": true, "push": true},
        "events": {"task.created": false, "task.completed": true, "task.due": true},
        "device_tokens": ["token-a", "token-b"],
    })
}

#[test]
fn preferences_default_until_set_and_round_trip() {
    let store = MemoryStore::default();
    assert_eq!(get(&store, "ada", "preferences"), defaults());
    assert_eq!(ok(put_prefs(&store, "ada", &valid())), valid());
    assert_eq!(get(&store, "ada", "preferences"), valid());
    assert_eq!(get(&store, "bob", "preferences"), defaults(), "per user");
    let cleared = json!({"email": null, "channels": {"email": false, "push": false},
        "events": {"task.created": true, "task.completed": true, "task.due": true}, "device_tokens": []});
    assert_eq!(ok(put_prefs(&store, "ada", &cleared)), cleared);
}

#[test]
fn every_rule_is_checked_and_names_its_field() {
    let store = MemoryStore::default();
    let with = |pointer: &str, value: Value| {
        let mut body = valid();
        *body.pointer_mut(pointer).unwrap() = value;
        body
    };
    let without = |member: &str| {
        let mut body = valid();
        body.as_object_mut().unwrap().remove(member);
        body
    };
    let mut events_without_due = valid();
    events_without_due["events"]
        .as_object_mut()
        .unwrap()
        .remove("task.due");
    let mut extra = valid();
    extra["sms"] = json!(true);
    let mut extra_channel = valid();
    extra_channel["channels"]["sms"] = json!(true);
    let mut extra_event = valid();
    extra_event["events"]["task.updated"] = json!(true);
    let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
    let cases = [
        (json!([1, 2]), "body"),
        (extra, "sms"),
        (extra_channel, "channels.sms"),
        (extra_event, "events.task.updated"),
        (without("events"), "events"),
        (without("email"), "email"),
        (events_without_due, "events.task.due"),
        (with("/channels", json!(true)), "channels"),
        (with("/channels/push", json!("yes")), "channels.push"),
        (
            with("/events/task.created", Value::Null),
            "events.task.created",
        ),
        (with("/email", json!("")), "email"),
        (with("/email", json!("ada")), "email"),
        (with("/email", json!("ada@example")), "email"),
        (with("/email", json!("a@b@example.com")), "email"),
        (with("/email", json!("ada @example.com")), "email"),
        (with("/email", json!("@example.com")), "email"),
        (
            with("/email", json!(format!("{}@example.com", "a".repeat(250)))),
            "email",
        ),
        (with("/email", json!(7)), "email"),
        (with("/device_tokens", json!("token")), "device_tokens"),
        (with("/device_tokens", json!(eleven)), "device_tokens"),
        (
            with("/device_tokens", json!(["ok", ""])),
            "device_tokens[1]",
        ),
        (
            with("/device_tokens", json!(["has space"])),
            "device_tokens[0]",
        ),
        (
            with("/device_tokens", json!(["tab\there"])),
            "device_tokens[0]",
        ),
        (
            with("/device_tokens", json!(["ünïcode"])),
            "device_tokens[0]",
        ),
        (with("/device_tokens", json!([7])), "device_tokens[0]"),
        (
            with("/device_tokens", json!(["x".repeat(4097)])),
            "device_tokens[0]",
        ),
        (
            with("/device_tokens", json!(["a", "b", "a"])),
            "device_tokens[2]",
        ),
    ];
    for (body, field) in cases {
        let error = put_prefs(&store, "ada", &body).unwrap_err();
        assert_eq!(error.status, 422, "{body}");
        assert_eq!(
            error.extra,
            vec![("field", json!(field))],
            "{body}: {}",
            error.detail
        );
    }
    // The limits themselves are fine.
    let ten: Vec<String> = (0..10).map(|i| format!("t{i}")).collect();
    ok(put_prefs(
        &store,
        "ada",
        &with("/device_tokens", json!(ten)),
    ));
    ok(put_prefs(
        &store,
        "ada",
        &with("/device_tokens", json!(["x".repeat(4096)])),
    ));
    ok(put_prefs(
        &store,
        "ada",
        &with("/email", json!(format!("{}@example.com", "a".repeat(242)))),
    ));
    assert_eq!(
        get(&store, "ada", "preferences")["email"],
        json!(format!("{}@example.com", "a".repeat(242)))
    );
}

#[test]
fn methods_paths_media_types_and_syntax() {
    let store = MemoryStore::default();
    let status = |result: Result<Response, ApiError>| match result {
        Ok(response) => response.status,
        Err(error) => error.status,
    };
    let error = call(
        &store,
        "ada",
        "DELETE",
        "/api/notifications/preferences",
        None,
    )
    .unwrap_err();
    assert_eq!(error.status, 405);
    assert_eq!(error.headers, vec![("allow", "GET, PUT".to_string())]);
    for path in [
        "/api/notifications/deliveries",
        "/api/notifications/mailbox",
    ] {
        let error = call(&store, "ada", "POST", path, Some("{}")).unwrap_err();
        assert_eq!(
            (error.status, error.headers),
            (405, vec![("allow", "GET".to_string())])
        );
    }
    for path in [
        "/api/notifications",
        "/api/notifications/",
        "/api/notifications/preferences/extra",
        "/api/notifications/unknown",
        "/api/tasks",
        "/preferences",
    ] {
        assert_eq!(
            status(call(&store, "ada", "GET", path, None)),
            404,
            "{path}"
        );
    }
    let text = Request {
        method: "PUT".into(),
        path: "/api/notifications/preferences".into(),
        headers: vec![("content-type".into(), "text/plain".into())],
        body: valid().to_string().into_bytes(),
        ..Request::default()
    };
    assert_eq!(
        block_on(api::handle(&store, "ada", &text, now()))
            .unwrap_err()
            .status,
        415
    );
    let untyped = Request {
        headers: Vec::new(),
        ..text
    };
    assert_eq!(
        block_on(api::handle(&store, "ada", &untyped, now()))
            .unwrap_err()
            .status,
        415
    );
    for malformed in ["{\"email\": ", "", "not json", "{\"email\": null,}"] {
        let result = call(
            &store,
            "ada",
            "PUT",
            "/api/notifications/preferences",
            Some(malformed),
        );
        assert_eq!(status(result), 400, "{malformed:?}");
    }
    assert_eq!(
        get(&store, "ada", "preferences"),
        defaults(),
        "nothing was stored"
    );
}

#[test]
fn a_store_that_is_down_is_503_with_retry_after() {
    let store = MemoryStore::default();
    store.set_down(true);
    for (method, path, body) in [
        ("GET", "/api/notifications/preferences", None),
        (
            "PUT",
            "/api/notifications/preferences",
            Some(valid().to_string()),
        ),
        ("GET", "/api/notifications/deliveries", None),
        ("GET", "/api/notifications/mailbox", None),
    ] {
        let error = call(&store, "ada", method, path, body.as_deref()).unwrap_err();
        assert_eq!(error.status, 503, "{method} {path}");
        assert_eq!(error.headers, vec![("retry-after", "1".to_string())]);
    }
}

/// Three created events for Ada and one for Bob, one minute apart, all to
/// the mailbox.
fn history() -> MemoryStore {
    let world = World::new(Settings::mailbox_only());
    for (minute, event, user) in [
        (0, "e1", "ada"),
        (1, "e2", "ada"),
        (2, "b1", "bob"),
        (3, "e3", "ada"),
    ] {
        assert_eq!(
            world.deliver(&created(event, user), minute),
            Outcome::Success
        );
    }
    world.store
}

fn ids(list: &Value, member: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| item[member].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn deliveries_are_listed_newest_first_within_the_limit_per_user() {
    let store = history();
    let all = get(&store, "ada", "deliveries");
    assert_eq!(ids(&all, "event_id"), ["e3", "e2", "e1"]);
    assert_eq!(all[0]["channel"], "email");
    assert_eq!(all[0]["status"], "sent");
    assert_eq!(all[0]["provider"], "mailbox");
    assert_eq!(all[0]["attempts"], 1);
    assert_eq!(all[0]["user_id"], "ada");
    assert_eq!(all[0]["task_id"], 42);
    assert_eq!(all[0]["event_type"], "task.created");
    assert_eq!(all[0]["created_at"], "2026-03-04T09:03:00Z");
    assert_eq!(
        ids(&get(&store, "ada", "deliveries?limit=2"), "event_id"),
        ["e3", "e2"]
    );
    assert_eq!(ids(&get(&store, "bob", "deliveries"), "event_id"), ["b1"]);
    assert_eq!(get(&store, "carol", "deliveries"), json!([]));
}

#[test]
fn the_mailbox_is_listed_newest_first_within_the_limit_per_user() {
    let store = history();
    let mailbox = get(&store, "ada", "mailbox");
    assert_eq!(ids(&mailbox, "event_id"), ["e3", "e2", "e1"]);
    assert_eq!(mailbox[0]["message_id"], "mailbox:e3:email");
    assert_eq!(mailbox[0]["subject"], "New task: Pay rent");
    assert_eq!(mailbox[0]["created_at"], "2026-03-04T09:03:00Z");
    assert!(mailbox[0]["body"].as_str().unwrap().contains("<landlord>"));
    assert_eq!(
        ids(&get(&store, "ada", "mailbox?limit=1"), "event_id"),
        ["e3"]
    );
    assert_eq!(ids(&get(&store, "bob", "mailbox"), "event_id"), ["b1"]);
    assert_eq!(get(&store, "carol", "mailbox"), json!([]));
}

#[test]
fn limits_are_checked() {
    let store = history();
    for list in ["deliveries", "mailbox"] {
        for (query, expected) in [
            ("limit=0", 422),
            ("limit=201", 422),
            ("limit=-1", 422),
            ("limit=abc", 400),
            ("limit=", 400),
            ("limit=1.5", 400),
            ("offset=2", 400),
        ] {
            let path = format!("/api/notifications/{list}?{query}");
            let error = call(&store, "ada", "GET", &path, None).unwrap_err();
            assert_eq!(error.status, expected, "{path}");
        }
        let path = format!("/api/notifications/{list}?limit=200");
        assert_eq!(
            ok(call(&store, "ada", "GET", &path, None))
                .as_array()
                .unwrap()
                .len(),
            3
        );
    }
}

#[test]
fn the_default_limit_is_50_and_the_mailbox_keeps_200() {
    let world = World::new(Settings::mailbox_only());
    for n in 0..205 {
        world.deliver(&created(&format!("e{n}"), "ada"), n);
    }
    let store = world.store;
    let listed = get(&store, "ada", "deliveries");
    assert_eq!(listed.as_array().unwrap().len(), 50);
    assert_eq!(listed[0]["event_id"], "e204");
    let mailbox = get(&store, "ada", "mailbox?limit=200");
    assert_eq!(mailbox.as_array().unwrap().len(), 200);
    assert_eq!(mailbox[199]["event_id"], "e5", "the oldest were dropped");
}
