//! The notification service under `docket up` with real Postgres and a
//! Redis of the test's own (pub/sub and state), against a local server that
//! speaks SendGrid's and FCM's APIs and fails on demand.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;

use serde_json::{Value, json};
use support::providers::{MAIL_PATH, Providers, SENDGRID_KEY, TOKEN_PATH};
use support::redis::{self, Redis, wait_until};
use support::todo::{Backend, Setup, TodoApp, recurring_cron, relay_binding};

/// Exponential retries capped at 1 s, so a test sees retries run out fast.
fn quick_retries(max_retries: u32) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: retries\nspec:\n  policies:\n    retries:\n      deliveries:\n        policy: exponential\n        maxInterval: 1s\n        maxRetries: {max_retries}\n  targets:\n    components:\n      pubsub:\n        inbound:\n          retry: deliveries\n"
    )
}

/// A `secretstores.local.file` store named `localsecrets` over `file`.
fn file_secret_store(file: &Path) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: localsecrets\nspec:\n  type: secretstores.local.file\n  version: v1\n  metadata:\n    - name: secretsFile\n      value: {:?}\n",
        file.display().to_string()
    )
}

struct System {
    app: TodoApp,
    providers: Providers,
    _redis: Redis,
    _secrets: tempfile::TempDir,
}

#[derive(Default)]
struct Options {
    push: bool,
    /// The SendGrid key from the Dapr secret store instead of a variable.
    key_in_secret_store: bool,
}

fn start(tag: &str, options: Options) -> System {
    let redis = Redis::start();
    let providers = Providers::start();
    let secrets = tempfile::tempdir().unwrap();
    let secrets_file = secrets.path().join("secrets.json");
    std::fs::write(
        &secrets_file,
        json!({"sendgrid-api-key": SENDGRID_KEY}).to_string(),
    )
    .unwrap();
    let mut variables = vec![
        ("sendgrid_base_url".to_string(), providers.url()),
        ("fcm_base_url".to_string(), providers.url()),
    ];
    if options.key_in_secret_store {
        variables.push(("secret_store".to_string(), "localsecrets".to_string()));
        variables.push((
            "sendgrid_api_key_secret".to_string(),
            "sendgrid-api-key".to_string(),
        ));
    } else {
        variables.push(("sendgrid_api_key".to_string(), SENDGRID_KEY.to_string()));
    }
    if options.push {
        variables.push((
            "fcm_service_account".to_string(),
            providers.service_account(),
        ));
    }
    let setup = Setup {
        resources: vec![
            (
                "pubsub.yaml",
                redis::component("pubsub", "pubsub.redis", redis.port),
            ),
            (
                "statestore.yaml",
                redis::component("statestore", "state.redis", redis.port),
            ),
            ("secrets.yaml", file_secret_store(&secrets_file)),
            ("resiliency.yaml", quick_retries(6)),
            ("outbox-relay.yaml", relay_binding("1s")),
            ("recurring-cron.yaml", recurring_cron("1s")),
        ],
        variables,
        ..Setup::default()
    };
    let app = TodoApp::start_with(Backend::Postgres, tag, setup);
    System {
        app,
        providers,
        _redis: redis,
        _secrets: secrets,
    }
}

fn set_preferences(app: &TodoApp, user: &str, preferences: &Value) {
    let reply = app.call(
        Some(user),
        "PUT",
        "/api/notifications/preferences",
        Some(preferences),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
}

/// Whole preferences: PUT replaces them.
fn preferences(email: Option<&str>, push_tokens: &[&str]) -> Value {
    json!({
        "email": email,
        "channels": {"email": email.is_some(), "push": !push_tokens.is_empty()},
        "events": {"task.created": true, "task.completed": true, "task.due": true},
        "device_tokens": push_tokens,
    })
}

fn email_to(app: &TodoApp, user: &str, address: &str) {
    set_preferences(app, user, &preferences(Some(address), &[]));
}

fn deliveries(app: &TodoApp, user: &str) -> Vec<Value> {
    let reply = app.call(Some(user), "GET", "/api/notifications/deliveries", None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json().as_array().cloned().unwrap_or_else(|| {
        reply.json()["items"]
            .as_array()
            .cloned()
            .expect("a list of deliveries")
    })
}

fn delivery_for(app: &TodoApp, user: &str, event_type: &str) -> Option<Value> {
    deliveries(app, user)
        .into_iter()
        .find(|d| d["event_type"] == event_type && d["channel"] == "email")
}

#[test]
fn a_created_and_a_completed_task_each_send_one_email() {
    let system = start("notify_mail", Options::default());
    let (app, providers) = (&system.app, &system.providers);
    email_to(app, "nora", "nora@example.com");

    let task = app.create_task(
        "nora",
        &json!({"title": "Renew passport", "priority": "High"}),
    );
    wait_until("the email is accepted", || {
        providers.accepted_mail().len() == 1
    });
    let mail = &providers.accepted_mail()[0];
    assert_eq!(
        mail["personalizations"][0]["to"][0]["email"],
        "nora@example.com"
    );
    assert!(
        mail["subject"].as_str().unwrap().contains("Renew passport"),
        "{mail}"
    );

    let id = task["id"].as_i64().unwrap();
    let done = app.call(
        Some("nora"),
        "PATCH",
        &format!("/api/nora/tasks/{id}/complete"),
        None,
    );
    assert_eq!(done.status, 200, "{}", done.body);
    wait_until("the completion notice is accepted", || {
        providers.accepted_mail().len() == 2
    });
    let notice = &providers.accepted_mail()[1];
    assert!(
        notice["subject"].as_str().unwrap().starts_with("Completed"),
        "{notice}"
    );

    let created = delivery_for(app, "nora", "task.created").expect("a record");
    assert_eq!(created["status"], "sent");
    assert_eq!(created["provider"], "sendgrid");
    assert!(
        created["provider_message_id"]
            .as_str()
            .unwrap()
            .starts_with("sg-")
    );
    // Nothing more arrives: each event was sent once.
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(providers.accepted_mail().len(), 2);
    // Another user sees none of it.
    assert!(deliveries(app, "olga").is_empty());
}

#[test]
fn a_passed_reminder_sends_one_notice() {
    let system = start("notify_reminder", Options::default());
    let (app, providers) = (&system.app, &system.providers);
    email_to(app, "nora", "nora@example.com");
    let remind_at = chrono::Utc::now() + chrono::Duration::seconds(1);
    let stamp =
        |at: chrono::DateTime<chrono::Utc>| at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    app.create_task(
        "nora",
        &json!({"title": "Dentist", "due_at": stamp(remind_at + chrono::Duration::hours(2)), "remind_at": stamp(remind_at)}),
    );
    let reminders = || {
        providers
            .accepted_mail()
            .into_iter()
            .filter(|mail| {
                mail["subject"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("Reminder"))
            })
            .count()
    };
    wait_until("the reminder is sent", || reminders() == 1);
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(reminders(), 1, "one reminder, however many ticks pass");
    assert!(delivery_for(app, "nora", "task.due").is_some_and(|d| d["status"] == "sent"));
}

#[test]
fn a_provider_failing_five_times_then_succeeding_sends_once() {
    let system = start(
        "notify_retry",
        Options {
            key_in_secret_store: true,
            ..Options::default()
        },
    );
    let (app, providers) = (&system.app, &system.providers);
    email_to(app, "nora", "nora@example.com");
    providers.fail_next(5, 503);

    app.create_task("nora", &json!({"title": "Flaky provider"}));
    wait_until("the email is accepted", || {
        providers.accepted_mail().len() == 1
    });
    assert_eq!(system.providers.app.to(MAIL_PATH).len(), 6);
    wait_until("the record shows six attempts", || {
        delivery_for(app, "nora", "task.created")
            .is_some_and(|d| d["status"] == "sent" && d["attempts"] == 6)
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(providers.accepted_mail().len(), 1);
}

#[test]
fn a_provider_always_failing_ends_dead_lettered() {
    let system = start("notify_dead", Options::default());
    let (app, providers) = (&system.app, &system.providers);
    email_to(app, "nora", "nora@example.com");
    providers.fail_always(503);

    app.create_task("nora", &json!({"title": "Never delivered"}));
    wait_until("the delivery is dead", || {
        delivery_for(app, "nora", "task.created").is_some_and(|d| d["status"] == "dead")
    });
    let record = delivery_for(app, "nora", "task.created").unwrap();
    // The first attempt and six retries.
    assert_eq!(record["attempts"], 7, "{record}");
    assert_eq!(system.providers.app.to(MAIL_PATH).len(), 7);
    assert!(providers.accepted_mail().is_empty());
}

#[test]
fn a_permanent_refusal_is_recorded_as_failed_and_not_retried() {
    let system = start("notify_refused", Options::default());
    let (app, providers) = (&system.app, &system.providers);
    email_to(app, "nora", "nora@example.com");
    providers.fail_always(400);

    app.create_task("nora", &json!({"title": "Refused"}));
    wait_until("the delivery failed", || {
        delivery_for(app, "nora", "task.created").is_some_and(|d| d["status"] == "failed")
    });
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(system.providers.app.to(MAIL_PATH).len(), 1);
    let record = delivery_for(app, "nora", "task.created").unwrap();
    assert_eq!(
        record["status"], "failed",
        "a DROP must not become dead: {record}"
    );
    assert!(!record["last_error"].to_string().contains(SENDGRID_KEY));
}

#[test]
fn push_goes_through_fcm_with_one_access_token() {
    let system = start(
        "notify_push",
        Options {
            push: true,
            ..Options::default()
        },
    );
    let (app, providers) = (&system.app, &system.providers);
    set_preferences(app, "nora", &preferences(None, &["device-token-1"]));
    let task = app.create_task("nora", &json!({"title": "Push me"}));
    wait_until("the push is accepted", || {
        providers.accepted_push().len() == 1
    });
    let push = &providers.accepted_push()[0];
    assert_eq!(push["message"]["token"], "device-token-1");
    assert!(
        push["message"]["notification"]["title"]
            .as_str()
            .unwrap()
            .contains("Push me")
    );

    let id = task["id"].as_i64().unwrap();
    app.call(
        Some("nora"),
        "PATCH",
        &format!("/api/nora/tasks/{id}/complete"),
        None,
    );
    wait_until("the second push is accepted", || {
        providers.accepted_push().len() == 2
    });
    assert_eq!(
        system.providers.app.to(TOKEN_PATH).len(),
        1,
        "the access token is reused"
    );
    assert!(providers.accepted_mail().is_empty());
}

#[test]
fn without_providers_notices_land_in_the_mailbox() {
    let app = TodoApp::start(Backend::Sqlite, "notify_mailbox");
    app.create_task("mia", &json!({"title": "Local only"}));
    wait_until("the notice is in the mailbox", || {
        let reply = app.call(Some("mia"), "GET", "/api/notifications/mailbox", None);
        reply.status == 200 && reply.body.contains("Local only")
    });
    let other = app.call(Some("max"), "GET", "/api/notifications/mailbox", None);
    assert!(!other.body.contains("Local only"));
}

#[test]
fn the_preferences_api_refuses_bad_input() {
    let app = TodoApp::start(Backend::Sqlite, "notify_input");
    let anonymous = app.call(None, "GET", "/api/notifications/preferences", None);
    assert_eq!(anonymous.status, 401);
    let bad_email = app.call(
        Some("nora"),
        "PUT",
        "/api/notifications/preferences",
        Some(&preferences(Some("not an address"), &[])),
    );
    assert_eq!(bad_email.status, 422, "{}", bad_email.body);
    assert_eq!(bad_email.json()["field"], "email");
    let unknown = app.call(
        Some("nora"),
        "PUT",
        "/api/notifications/preferences",
        Some(&json!({"emial": "nora@example.com"})),
    );
    assert_eq!(unknown.status, 422, "{}", unknown.body);
    let token = format!("Bearer {}", app.token("nora"));
    let text = app.docket.request(
        "PUT",
        "/api/notifications/preferences",
        &[("authorization", &token), ("content-type", "text/plain")],
        "email=nora@example.com",
    );
    assert_eq!(text.status, 415, "{}", text.body);
    let broken = app.docket.request(
        "PUT",
        "/api/notifications/preferences",
        &[
            ("authorization", &token),
            ("content-type", "application/json"),
        ],
        "{\"email\":",
    );
    assert_eq!(broken.status, 400, "{}", broken.body);
    assert!(
        broken
            .headers
            .iter()
            .any(|(n, v)| n == "content-type" && v.contains("problem+json"))
    );
    let unchanged = app.call(Some("nora"), "GET", "/api/notifications/preferences", None);
    assert_eq!(unchanged.json()["email"], Value::Null);
}
