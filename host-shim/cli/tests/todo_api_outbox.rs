//! The outbox: with the broker down a change still answers at once and its
//! event waits in the outbox; when the broker is back the relay publishes
//! it, exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::{Value, json};
use support::redis::{self, Redis, wait_until};
use support::todo::{Backend, Setup, TodoApp, relay_binding};

fn outbox_survives_a_broker_outage(backend: Backend) {
    let mut redis = Redis::start();
    let setup = Setup {
        resources: vec![
            (
                "pubsub.yaml",
                redis::component("pubsub", "pubsub.redis", redis.port),
            ),
            ("outbox-relay.yaml", relay_binding("1s")),
        ],
        ..Setup::default()
    };
    let app = TodoApp::start_with(backend, "outbox", setup);
    let pending = || app.scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL");

    let first = app.create_task("alice", &json!({"title": "while the broker is up"}));
    wait_until("the first event is published", || pending() == 0);
    assert_eq!(redis.event_ids("task-events").len(), 1);

    redis.stop();
    let task = app.create_task("alice", &json!({"title": "while the broker is down"}));
    let id = task["id"].as_i64().unwrap();
    let updated = app.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}"),
        Some(&json!({"priority": "High"})),
    );
    assert_eq!(updated.status, 200);
    wait_until("both publishes failed", || {
        app.scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL AND attempts >= 1")
            == 2
    });
    assert_eq!(pending(), 2);
    assert_ne!(first["id"], task["id"]);

    // Let the relay fail a few more rounds before the broker returns.
    std::thread::sleep(Duration::from_secs(2));
    redis.resume();
    wait_until("the relay publishes the backlog", || pending() == 0);
    // A few more relay rounds publish nothing twice.
    std::thread::sleep(Duration::from_secs(3));
    let delivered = redis.event_ids("task-events");
    let created_id: String = outbox_event_id(&app, id, "task.created");
    let updated_id: String = outbox_event_id(&app, id, "task.updated");
    assert_eq!(
        delivered,
        [created_id, updated_id],
        "each event exactly once, in order"
    );
}

fn outbox_event_id(app: &TodoApp, task_id: i64, event_type: &str) -> String {
    let rows = app.scalar(&format!(
        "SELECT id FROM event_outbox WHERE event_type = '{event_type}' AND payload LIKE '%\"task_id\":{task_id},%'"
    ));
    let payload = app_payload(app, rows);
    let event: Value = serde_json::from_str(&payload).unwrap();
    event["id"].as_str().unwrap().to_string()
}

fn app_payload(app: &TodoApp, outbox_id: i64) -> String {
    app.text(&format!(
        "SELECT payload FROM event_outbox WHERE id = {outbox_id}"
    ))
}

on_both_backends!(outbox_survives_a_broker_outage);
