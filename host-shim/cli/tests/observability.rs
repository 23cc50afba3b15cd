//! docket's Prometheus metrics (requests, errors, pub/sub, the outbox
//! backlog) and W3C trace context: one trace id follows a task from the API
//! request through its event to the email it causes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::Duration;

use serde_json::json;
use support::metrics::{count, sample, scrape};
use support::providers::{Providers, SENDGRID_KEY};
use support::redis::wait_until;
use support::todo::{Backend, Setup, TodoApp, default_resources};
use support::{Docket, Options, component, manifest};

const API: (&str, &str) = ("component", "todo-api");
const API_ROUTE: (&str, &str) = ("route", "/api/...");

fn task_events(app_id: &'static str) -> [(&'static str, &'static str); 3] {
    [
        ("app_id", app_id),
        ("pubsub", "pubsub"),
        ("topic", "task-events"),
    ]
}

#[test]
fn requests_publishes_and_deliveries_are_counted() {
    let app = TodoApp::start(Backend::Sqlite, "metrics");
    for title in ["one", "two", "three"] {
        app.create_task("alice", &json!({"title": title}));
    }
    let anonymous = app.call(None, "GET", "/api/alice/tasks", None);
    assert_eq!(anonymous.status, 401);

    let delivered = [
        task_events("notification-service").as_slice(),
        &[("result", "success")],
    ]
    .concat();
    wait_until("three deliveries counted", || {
        count(
            &scrape(&app.docket),
            "docket_pubsub_delivery_attempts_total",
            &delivered,
        ) >= 3.0
    });
    let text = scrape(&app.docket);
    let created = [API, API_ROUTE, ("method", "POST"), ("status", "201")];
    assert_eq!(count(&text, "docket_http_requests_total", &created), 3.0);
    let refused = [API, API_ROUTE, ("method", "GET"), ("status", "401")];
    assert_eq!(count(&text, "docket_http_requests_total", &refused), 1.0);
    assert!(
        count(
            &text,
            "docket_http_request_duration_seconds_count",
            &[API, API_ROUTE]
        ) >= 4.0,
        "{text}"
    );
    assert_eq!(
        count(
            &text,
            "docket_pubsub_published_total",
            &task_events("todo-api")
        ),
        3.0
    );
    assert_eq!(
        count(&text, "docket_http_request_errors_total", &[API]),
        0.0
    );
    assert_eq!(
        sample(&text, "docket_outbox_pending_events", &[]),
        Some(0.0)
    );
}

#[test]
fn the_outbox_backlog_grows_while_events_cannot_be_published() {
    // No pub/sub component: every publish is refused and the events wait.
    let setup = Setup {
        resources: default_resources()
            .into_iter()
            .filter(|(name, _)| *name != "pubsub.yaml")
            .collect(),
        ..Setup::default()
    };
    let app = TodoApp::start_with(Backend::Sqlite, "backlog", setup);
    app.create_task("alice", &json!({"title": "waits"}));
    app.create_task("alice", &json!({"title": "waits too"}));
    std::thread::sleep(Duration::from_millis(1100));

    let text = scrape(&app.docket);
    assert_eq!(
        sample(&text, "docket_outbox_pending_events", &[]),
        Some(2.0)
    );
    let age = sample(&text, "docket_outbox_oldest_pending_age_seconds", &[]).unwrap();
    assert!((1.0..60.0).contains(&age), "age {age}");
    assert_eq!(
        count(
            &text,
            "docket_pubsub_published_total",
            &task_events("todo-api")
        ),
        0.0
    );
}

#[test]
fn a_trapping_component_is_counted_as_an_error_of_its_route() {
    let docket = Docket::start_with(
        &manifest(&component("bad", "/bad/...", "misbehave", "")),
        Options::default(),
    );
    assert_eq!(docket.get("/bad/trap").status, 500);
    let text = scrape(&docket);
    let bad = [("component", "bad"), ("route", "/bad/...")];
    assert_eq!(
        count(
            &text,
            "docket_http_request_errors_total",
            &[bad[0], bad[1], ("kind", "trap")]
        ),
        1.0
    );
    assert_eq!(
        count(
            &text,
            "docket_http_requests_total",
            &[bad[0], bad[1], ("status", "500")]
        ),
        1.0
    );
}

#[test]
fn one_trace_id_follows_a_task_from_request_to_email() {
    let providers = Providers::start();
    let setup = Setup {
        variables: vec![
            ("sendgrid_base_url".into(), providers.url()),
            ("sendgrid_api_key".into(), SENDGRID_KEY.into()),
        ],
        ..Setup::default()
    };
    let app = TodoApp::start_with(Backend::Sqlite, "trace", setup);
    let preferences = json!({
        "email": "alice@example.com",
        "channels": {"email": true, "push": false},
        "events": {"task.created": true, "task.completed": true, "task.due": true},
        "device_tokens": [],
    });
    let saved = app.call(
        Some("alice"),
        "PUT",
        "/api/notifications/preferences",
        Some(&preferences),
    );
    assert_eq!(saved.status, 200, "{}", saved.body);

    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let traceparent = format!("00-{trace_id}-00f067aa0ba902b7-01");
    let token = format!("Bearer {}", app.token("alice"));
    let created = app.docket.request(
        "POST",
        "/api/alice/tasks",
        &[
            ("authorization", token.as_str()),
            ("content-type", "application/json"),
            ("traceparent", traceparent.as_str()),
        ],
        &json!({"title": "traced"}).to_string(),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    wait_until("the email is sent", || providers.accepted_mail().len() == 1);

    let sent = app.docket.wait_for_log("sent by email via sendgrid");
    assert!(sent.contains(&format!("trace_id={trace_id}")), "{sent}");
    let logs = app.docket.logs();
    let requests_in_trace: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("docket::request") && l.contains(trace_id))
        .collect();
    for path in ["/api/alice/tasks", "/events/task-events"] {
        assert!(
            requests_in_trace.iter().any(|l| l.contains(path)),
            "no request to {path} in trace {trace_id}:\n{logs}"
        );
    }
}

#[test]
fn a_request_without_trace_context_starts_its_own_trace() {
    let app = TodoApp::start(Backend::Sqlite, "newtrace");
    app.create_task("bob", &json!({"title": "untraced"}));
    let line = app.docket.wait_for_log("/api/bob/tasks");
    let trace_id = line
        .split("trace_id=")
        .nth(1)
        .map(|rest| {
            rest.trim_matches('"')
                .split(['"', ' '])
                .next()
                .unwrap_or("")
        })
        .unwrap_or("");
    assert_eq!(trace_id.len(), 32, "{line}");
    assert!(trace_id.bytes().all(|b| b.is_ascii_hexdigit()), "{line}");
}
