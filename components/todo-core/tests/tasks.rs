#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::Duration;
use serde_json::json;
use support::Api;

fn create(api: &Api, user: &str, body: serde_json::Value) -> serde_json::Value {
    let answer = api.call(
        Some(user),
        "POST",
        &format!("/api/{user}/tasks"),
        Some(body),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body
}

#[test]
fn a_task_goes_through_its_whole_life() {
    let api = Api::new();
    let task = create(
        &api,
        "alice",
        json!({"title": "Buy milk", "priority": "high", "due_at": "2026-03-03T17:00:00+01:00"}),
    );
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["priority"], "High");
    assert_eq!(task["due_at"], "2026-03-03T16:00:00.000Z");
    assert_eq!(task["completed"], false);
    assert_eq!(task["version"], 1);
    let id = task["id"].as_i64().expect("integer id");

    let got = api.call(
        Some("alice"),
        "GET",
        &format!("/api/alice/tasks/{id}"),
        None,
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), Some("\"1\""));
    assert_eq!(got.body, task);

    api.advance(Duration::minutes(5));
    let updated = api.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}"),
        Some(json!({"title": "Buy oat milk", "due_at": null})),
    );
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["title"], "Buy oat milk");
    assert_eq!(updated.body["due_at"], serde_json::Value::Null);
    assert_eq!(updated.body["version"], 2);
    assert_eq!(updated.body["updated_at"], "2026-03-02T08:05:00.000Z");

    let done = api.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tasks/{id}/complete"),
        None,
    );
    assert_eq!(done.body["completed"], true);
    assert_eq!(done.body["completed_at"], "2026-03-02T08:05:00.000Z");
    let undone = api.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tasks/{id}/complete"),
        None,
    );
    assert_eq!(undone.body["completed"], false);
    assert_eq!(undone.body["completed_at"], serde_json::Value::Null);

    let deleted = api.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tasks/{id}"),
        None,
    );
    assert_eq!(deleted.status, 204);
    let gone = api.call(
        Some("alice"),
        "GET",
        &format!("/api/alice/tasks/{id}"),
        None,
    );
    assert_eq!(gone.status, 404);
}

#[test]
fn an_event_carries_the_requests_trace_context() {
    let api = Api::new();
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let create = |header: &str| {
        let body = serde_json::to_vec(&json!({"title": "traced"})).expect("json");
        let headers = vec![
            (
                "authorization".into(),
                format!("Bearer {}", api.token("alice")),
            ),
            ("content-type".into(), "application/json".into()),
            ("traceparent".into(), header.into()),
        ];
        let answer = api.raw("POST", "/api/alice/tasks", headers, body);
        assert_eq!(answer.status, 201);
        let envelope: serde_json::Value =
            serde_json::from_str(&answer.reply.events[0].envelope).expect("cloud event");
        envelope
    };

    assert_eq!(create(traceparent)["traceparent"], traceparent);
    // Not valid W3C: left out, so the broker starts a trace of its own.
    assert!(create("00-not-a-trace-01").get("traceparent").is_none());
}

#[test]
fn every_change_writes_its_event_to_the_outbox_in_order() {
    let api = Api::new();
    let created = api.call(
        Some("alice"),
        "POST",
        "/api/alice/tasks",
        Some(json!({"title": "a"})),
    );
    let id = created.body["id"].as_i64().expect("id");
    let updated = api.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}"),
        Some(json!({"priority": "Critical", "description": "now"})),
    );
    let completed = api.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tasks/{id}/complete"),
        None,
    );
    let deleted = api.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tasks/{id}"),
        None,
    );

    let mut types = Vec::new();
    for answer in [&created, &updated, &completed, &deleted] {
        assert_eq!(answer.reply.events.len(), 1);
        let envelope: serde_json::Value =
            serde_json::from_str(&answer.reply.events[0].envelope).expect("cloud event");
        assert_eq!(envelope["id"], envelope["data"]["event_id"]);
        assert_eq!(envelope["data"]["task_id"], id);
        assert_eq!(answer.reply.events[0].partition_key(), Some(id));
        assert_eq!(envelope["data"]["user_id"], "alice");
        types.push(envelope["type"].as_str().unwrap_or_default().to_string());
        if envelope["type"] == "task.updated" {
            assert_eq!(
                envelope["data"]["changed_fields"],
                json!(["description", "priority"])
            );
            assert_eq!(envelope["data"]["task_data"]["priority"], "Critical");
        }
    }
    assert_eq!(
        types,
        [
            "task.created",
            "task.updated",
            "task.completed",
            "task.deleted"
        ]
    );
    assert_eq!(
        api.db
            .scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL"),
        4
    );

    // Claimed by the request that wrote them, so a relay leaves them alone
    // until the claim runs out.
    let relay = api.call(None, "POST", "/api/internal/outbox-relay", None);
    assert_eq!(relay.body["claimed"], 0);
    api.advance(Duration::seconds(31));
    let relay = api.call(None, "POST", "/api/internal/outbox-relay", None);
    assert_eq!(relay.body["claimed"], 4);
    let ids: Vec<i64> = relay.reply.events.iter().map(|e| e.outbox_id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "oldest first: {ids:?}");
}

#[test]
fn an_unchanged_update_writes_no_event_and_keeps_the_version() {
    let api = Api::new();
    let task = create(&api, "alice", json!({"title": "same"}));
    let id = task["id"].as_i64().expect("id");
    let answer = api.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}"),
        Some(json!({"title": "same"})),
    );
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["version"], 1);
    assert!(answer.reply.events.is_empty());
}

#[test]
fn if_match_protects_against_lost_updates() {
    let api = Api::new();
    let task = create(&api, "alice", json!({"title": "x"}));
    let id = task["id"].as_i64().expect("id");
    let stale = api.raw(
        "PUT",
        &format!("/api/alice/tasks/{id}"),
        vec![
            (
                "authorization".into(),
                format!("Bearer {}", api.token("alice")),
            ),
            ("content-type".into(), "application/json".into()),
            ("if-match".into(), "\"7\"".into()),
        ],
        br#"{"title": "y"}"#.to_vec(),
    );
    assert_eq!(stale.status, 412);
    assert_eq!(stale.body["version"], 1);
    let fresh = api.raw(
        "DELETE",
        &format!("/api/alice/tasks/{id}"),
        vec![
            (
                "authorization".into(),
                format!("Bearer {}", api.token("alice")),
            ),
            ("if-match".into(), "\"1\"".into()),
        ],
        Vec::new(),
    );
    assert_eq!(fresh.status, 204);
}

#[test]
fn users_see_only_their_own_tasks() {
    let api = Api::new();
    let task = create(&api, "alice", json!({"title": "private"}));
    let id = task["id"].as_i64().expect("id");
    let bobs_task = create(&api, "bob", json!({"title": "bob's"}));

    for (method, path) in [
        ("GET", format!("/api/bob/tasks/{id}")),
        ("PUT", format!("/api/bob/tasks/{id}")),
        ("DELETE", format!("/api/bob/tasks/{id}")),
        ("PATCH", format!("/api/bob/tasks/{id}/complete")),
    ] {
        let body = (method == "PUT").then(|| json!({"title": "stolen"}));
        let answer = api.call(Some("bob"), method, &path, body);
        assert_eq!(answer.status, 404, "{method} {path}");
        assert!(!answer.body.to_string().contains("private"));
    }
    let list = api.call(Some("bob"), "GET", "/api/bob/tasks", None);
    assert_eq!(list.body, json!([bobs_task]));
    // Bob's token on Alice's path is refused outright.
    let answer = api.call(Some("bob"), "GET", "/api/alice/tasks", None);
    assert_eq!(answer.status, 403);
    let unchanged = api.call(
        Some("alice"),
        "GET",
        &format!("/api/alice/tasks/{id}"),
        None,
    );
    assert_eq!(unchanged.body, task);
}

#[test]
fn tags_attach_detach_and_belong_to_their_user() {
    let api = Api::new();
    let home = api.call(
        Some("alice"),
        "POST",
        "/api/alice/tags",
        Some(json!({"name": "home", "color": "#AABBCC"})),
    );
    assert_eq!(home.status, 201);
    assert_eq!(home.body["color"], "#aabbcc");
    let home_id = home.body["id"].as_i64().expect("id");
    let bobs = api.call(
        Some("bob"),
        "POST",
        "/api/bob/tags",
        Some(json!({"name": "work"})),
    );
    let bobs_id = bobs.body["id"].as_i64().expect("id");

    let task = create(&api, "alice", json!({"title": "t", "tag_ids": [home_id]}));
    assert_eq!(
        task["tags"],
        json!([{"id": home_id, "name": "home", "color": "#aabbcc"}])
    );
    let id = task["id"].as_i64().expect("id");

    let refused = api.call(
        Some("alice"),
        "POST",
        "/api/alice/tasks",
        Some(json!({"title": "t", "tag_ids": [bobs_id]})),
    );
    assert_eq!(refused.status, 422);
    assert_eq!(refused.body["field"], "tag_ids");
    let refused = api.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}/tags/{bobs_id}"),
        None,
    );
    assert_eq!(refused.status, 422);

    let detached = api.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tasks/{id}/tags/{home_id}"),
        None,
    );
    assert_eq!(detached.status, 200);
    assert_eq!(detached.body["tags"], json!([]));
    let again = api.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tasks/{id}/tags/{home_id}"),
        None,
    );
    assert_eq!(again.status, 404);
    let attached = api.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}/tags/{home_id}"),
        None,
    );
    assert_eq!(attached.body["tags"][0]["id"], home_id);

    let renamed = api.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tags/{home_id}"),
        Some(json!({"name": "house"})),
    );
    assert_eq!(renamed.body["name"], "house");
    assert_eq!(renamed.body["color"], "#aabbcc");
    let duplicate = api.call(
        Some("alice"),
        "POST",
        "/api/alice/tags",
        Some(json!({"name": "house"})),
    );
    assert_eq!(duplicate.status, 409);
    // The same name is fine for another user.
    let bobs_house = api.call(
        Some("bob"),
        "POST",
        "/api/bob/tags",
        Some(json!({"name": "house"})),
    );
    assert_eq!(bobs_house.status, 201);
    let foreign = api.call(
        Some("bob"),
        "DELETE",
        &format!("/api/bob/tags/{home_id}"),
        None,
    );
    assert_eq!(foreign.status, 404);

    let before = api
        .call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None,
        )
        .body;
    let deleted = api.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tags/{home_id}"),
        None,
    );
    assert_eq!(deleted.status, 204);
    // The task it was on changed: a new version and a task.updated event.
    assert_eq!(deleted.reply.events.len(), 1);
    let envelope: serde_json::Value =
        serde_json::from_str(&deleted.reply.events[0].envelope).unwrap();
    assert_eq!(envelope["type"], "task.updated");
    assert_eq!(envelope["data"]["changed_fields"], json!(["tags"]));
    assert_eq!(envelope["data"]["task_data"]["tags"], json!([]));
    let after = api
        .call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None,
        )
        .body;
    assert_eq!(after["version"], before["version"].as_i64().unwrap() + 1);
    let task = api.call(
        Some("alice"),
        "GET",
        &format!("/api/alice/tasks/{id}"),
        None,
    );
    assert_eq!(task.body["tags"], json!([]));
    let tags = api.call(Some("alice"), "GET", "/api/alice/tags", None);
    assert_eq!(tags.body, json!([]));
}

#[test]
fn priorities_are_listed_by_weight() {
    let api = Api::new();
    let answer = api.call(None, "GET", "/api/priorities", None);
    let names: Vec<&str> = answer
        .body
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["Low", "Medium", "High", "Critical"]);
}
