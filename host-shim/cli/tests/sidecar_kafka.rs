//! The `pubsub.kafka` backend against a real Kafka-protocol broker (Tansu):
//! publish and deliver over TLS with SCRAM, one delivery per app-id across
//! replicas, a killed replica's uncommitted records taken over, per-task
//! order under load, refusals for wrong credentials or an unknown CA, and
//! nothing lost across a broker restart; and the whole system under
//! `docket up` on the repository's Kafka resource set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::dapr::{retry_policy, wait_ready};
use support::kafka::{KafkaBroker, KafkaOptions, KafkaStorage, TestCa, repository_set};
use support::providers::{Providers, SENDGRID_KEY};
use support::recording_app::{Recorded, RecordingApp};
use support::redis::Redis;
use support::todo::{Backend, Setup, TodoApp};
use support::{Docket, Options};

const WAIT: Duration = Duration::from_secs(60);
const APP_ID: &str = "notifier";

/// An app subscribed to `topic` on `pubsub`; `answer` decides each delivery's status.
fn subscriber(topic: &str, answer: impl Fn(&Value) -> u16 + Send + Sync + 'static) -> RecordingApp {
    let list = json!([{"pubsubname": "pubsub", "topic": topic, "route": "/events"}]).to_string();
    RecordingApp::start(move |r: &Recorded| {
        if r.path == "/dapr/subscribe" {
            return (200, "application/json", list.clone());
        }
        (answer(&r.json()), "text/plain", String::new())
    })
}

fn resources(broker: &KafkaBroker) -> Arc<tempfile::TempDir> {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    broker.write_resources(
        &dir.path().join("resources"),
        &[("initialOffset", "oldest"), ("sessionTimeout", "6s")],
    );
    dir
}

fn sidecar(dir: &Arc<tempfile::TempDir>, app: &RecordingApp) -> Docket {
    let docket = Docket::sidecar(dir.clone(), APP_ID, app.port(), Options::default())
        .unwrap_or_else(|logs| panic!("sidecar did not start:\n{logs}"));
    wait_ready(&docket);
    docket
}

/// Publishes `body` with `partitionKey` = `key`; returns the sidecar's status.
fn publish_keyed(docket: &Docket, topic: &str, key: &str, body: &Value) -> u16 {
    docket
        .dapr(
            "POST",
            &format!("/v1.0/publish/pubsub/{topic}?metadata.partitionKey={key}"),
            &[("content-type", "application/json")],
            &body.to_string(),
        )
        .status
}

fn numbers(apps: &[&RecordingApp]) -> Vec<i64> {
    apps.iter()
        .flat_map(|app| app.to("/events"))
        .map(|r| r.json()["data"]["n"].as_i64().unwrap())
        .collect()
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool, logs: impl Fn() -> String) {
    let deadline = Instant::now() + WAIT;
    while !done() {
        assert!(Instant::now() < deadline, "{what}:\n{}", logs());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// How many times the sidecar has been given partitions by the group.
fn assignments(docket: &Docket) -> usize {
    docket
        .logs()
        .lines()
        .filter(|l| l.contains("partitions assigned") && !l.contains("partitions=[]"))
        .count()
}

#[test]
fn publishes_and_delivers_over_tls_with_scram() {
    let broker = KafkaBroker::start(KafkaOptions::secured().topic("task-events", 3));
    let dir = resources(&broker);
    let app = subscriber("task-events", |_| 200);
    let docket = sidecar(&dir, &app);
    let reply = docket.dapr(
        "POST",
        "/v1.0/publish/pubsub/task-events?metadata.partitionKey=task-7&metadata.origin=tests",
        &[("content-type", "application/json")],
        &json!({"n": 1, "task": 7}).to_string(),
    );
    assert_eq!(reply.status, 204, "{}", reply.body);
    let delivered = app.wait_for("/events", 1, WAIT);
    let event = &delivered[0];
    assert_eq!(event.json()["data"], json!({"n": 1, "task": 7}));
    assert_eq!(event.json()["topic"], "task-events");
    assert_eq!(
        event.header("content-type"),
        Some("application/cloudevents+json")
    );
    assert_eq!(event.header("pubsubname"), Some("pubsub"));
    assert_eq!(event.header("__key"), Some("task-7"));
    assert_eq!(event.header("__topic"), Some("task-events"));
    assert_eq!(event.header("__offset"), Some("0"));
    assert!(event.header("__partition").is_some());
    assert!(event.header("__timestamp").is_some());
    // Publish metadata travels as record headers.
    assert_eq!(event.header("partitionkey"), Some("task-7"));
    assert_eq!(event.header("origin"), Some("tests"));
    let logs = docket.logs();
    assert!(!logs.contains(broker.password()), "the password is logged");
}

#[test]
fn replicas_of_one_app_id_share_the_records() {
    let broker = KafkaBroker::start(KafkaOptions::plain().topic("jobs", 4));
    let dir = resources(&broker);
    let (app_a, app_b) = (subscriber("jobs", |_| 200), subscriber("jobs", |_| 200));
    let a = sidecar(&dir, &app_a);
    wait_until(
        "the first replica never joined",
        || assignments(&a) >= 1,
        || a.logs(),
    );
    let b = sidecar(&dir, &app_b);
    // The group settles once both have been given partitions after the second joined.
    wait_until(
        "the group never settled on both replicas",
        || assignments(&b) >= 1 && assignments(&a) >= 2,
        || format!("{}\n---\n{}", a.logs(), b.logs()),
    );
    for n in 0..100 {
        assert_eq!(
            publish_keyed(&a, "jobs", &format!("task-{n}"), &json!({"n": n})),
            204
        );
    }
    wait_until(
        "not every record was delivered",
        || numbers(&[&app_a, &app_b]).len() >= 100,
        || format!("{}\n---\n{}", a.logs(), b.logs()),
    );
    std::thread::sleep(Duration::from_secs(1));
    let mut all = numbers(&[&app_a, &app_b]);
    all.sort_unstable();
    assert_eq!(
        all,
        (0..100).collect::<Vec<_>>(),
        "each record once across replicas"
    );
    assert!(
        !app_a.to("/events").is_empty() && !app_b.to("/events").is_empty(),
        "both replicas take a share"
    );
}

#[test]
fn a_killed_replicas_uncommitted_records_go_to_the_other() {
    let broker = KafkaBroker::start(KafkaOptions::plain().topic("jobs", 2));
    let dir = resources(&broker);
    // Handles the first five at once, then hangs as a crashing process would.
    let stuck_app = subscriber("jobs", |event| {
        if event["data"]["n"].as_i64().unwrap_or(0) >= 5 {
            std::thread::sleep(Duration::from_secs(120));
        }
        200
    });
    let stuck = sidecar(&dir, &stuck_app);
    for n in 0..5 {
        assert_eq!(
            publish_keyed(&stuck, "jobs", "task-1", &json!({"n": n})),
            204
        );
    }
    stuck_app.wait_for("/events", 5, WAIT);
    for n in 5..10 {
        assert_eq!(
            publish_keyed(&stuck, "jobs", "task-1", &json!({"n": n})),
            204
        );
    }
    stuck_app.wait_for("/events", 6, WAIT);
    stuck.kill();
    let healthy_app = subscriber("jobs", |_| 200);
    let healthy = sidecar(&dir, &healthy_app);
    wait_until(
        "the survivor never delivered the uncommitted records",
        || numbers(&[&healthy_app]).iter().filter(|n| **n >= 5).count() >= 5,
        || healthy.logs(),
    );
    let seen = numbers(&[&healthy_app]);
    let uncommitted: Vec<i64> = seen.iter().copied().filter(|n| *n >= 5).collect();
    assert_eq!(
        uncommitted,
        (5..10).collect::<Vec<_>>(),
        "in order, each once"
    );
    // Records acknowledged before the kill are committed (at most the
    // in-flight commit of the last one may come again).
    assert!(
        seen.iter().filter(|n| **n < 4).count() == 0,
        "acknowledged records delivered again: {seen:?}"
    );
}

#[test]
fn records_of_one_task_keep_their_order_under_load() {
    const TASKS: i64 = 16;
    const PER_TASK: i64 = 30;
    let broker = KafkaBroker::start(KafkaOptions::plain().topic("task-events", 4));
    let dir = resources(&broker);
    // Uneven handling times would reorder records delivered concurrently.
    let app = subscriber("task-events", |event| {
        let n = event["data"]["seq"].as_i64().unwrap_or(0);
        std::thread::sleep(Duration::from_millis(((n * 7) % 5) as u64));
        200
    });
    let docket = Arc::new(sidecar(&dir, &app));
    let publishers: Vec<_> = (0..4)
        .map(|worker| {
            let docket = docket.clone();
            std::thread::spawn(move || {
                for seq in 0..PER_TASK {
                    for task in (worker..TASKS).step_by(4) {
                        let body = json!({"task": task, "seq": seq});
                        let status =
                            publish_keyed(&docket, "task-events", &format!("task-{task}"), &body);
                        assert_eq!(status, 204);
                    }
                }
            })
        })
        .collect();
    for publisher in publishers {
        publisher.join().unwrap();
    }
    let total = (TASKS * PER_TASK) as usize;
    app.wait_for("/events", total, WAIT);
    let mut per_task: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for event in app.to("/events") {
        let data = &event.json()["data"];
        per_task
            .entry(data["task"].as_i64().unwrap())
            .or_default()
            .push(data["seq"].as_i64().unwrap());
    }
    assert_eq!(per_task.len() as i64, TASKS);
    for (task, seqs) in per_task {
        assert_eq!(
            seqs,
            (0..PER_TASK).collect::<Vec<_>>(),
            "task {task} out of order"
        );
    }
}

#[test]
fn a_failing_record_is_retried_in_place_then_dead_lettered() {
    let broker = KafkaBroker::start(KafkaOptions::plain().topic("jobs", 1).topic("jobs-dlq", 1));
    let dir = resources(&broker);
    std::fs::write(
        dir.path().join("resources/resiliency.yaml"),
        retry_policy("pubsub", 2),
    )
    .unwrap();
    let list = json!([
        {"pubsubname": "pubsub", "topic": "jobs", "route": "/events", "deadLetterTopic": "jobs-dlq"},
        {"pubsubname": "pubsub", "topic": "jobs-dlq", "route": "/dead"},
    ])
    .to_string();
    let app = RecordingApp::start(move |r: &Recorded| match r.path.as_str() {
        "/dapr/subscribe" => (200, "application/json", list.clone()),
        "/events" if r.json()["data"]["n"] == 0 => (500, "text/plain", String::new()),
        _ => (200, "text/plain", String::new()),
    });
    let docket = sidecar(&dir, &app);
    for n in 0..2 {
        assert_eq!(
            publish_keyed(&docket, "jobs", "task-1", &json!({"n": n})),
            204
        );
    }
    let dead = app.wait_for("/dead", 1, WAIT);
    assert_eq!(dead[0].json()["data"], json!({"n": 0}));
    assert_eq!(dead[0].header("__topic"), Some("jobs-dlq"));
    assert_eq!(
        dead[0].header("__key"),
        Some("task-1"),
        "the key travels along"
    );
    app.wait_for("/events", 4, WAIT);
    assert_eq!(
        numbers(&[&app]),
        [0, 0, 0, 1],
        "the next record of the task waits until the failing one is settled"
    );
}

#[test]
fn without_a_dead_letter_topic_the_record_is_tried_again_until_handled() {
    let broker = KafkaBroker::start(KafkaOptions::plain().topic("jobs", 1));
    let dir = Arc::new(tempfile::tempdir().unwrap());
    broker.write_resources(
        &dir.path().join("resources"),
        &[("initialOffset", "oldest"), ("backOffDuration", "200ms")],
    );
    std::fs::write(
        dir.path().join("resources/resiliency.yaml"),
        retry_policy("pubsub", 1),
    )
    .unwrap();
    // Fails its first four attempts: two resiliency attempts per round, so
    // the resiliency policy alone would have dropped it.
    let failures = Arc::new(AtomicUsize::new(0));
    let app = subscriber("jobs", move |event| {
        let first = event["data"]["n"] == 0;
        if first && failures.fetch_add(1, Ordering::SeqCst) < 4 {
            500
        } else {
            200
        }
    });
    let docket = sidecar(&dir, &app);
    for n in 0..2 {
        assert_eq!(
            publish_keyed(&docket, "jobs", "task-1", &json!({"n": n})),
            204
        );
    }
    app.wait_for("/events", 6, WAIT);
    assert_eq!(numbers(&[&app]), [0, 0, 0, 0, 0, 1]);
}

/// Starts the sidecar with `broker`'s resources, expecting it to refuse.
fn refusal(broker: &KafkaBroker, secrets: &support::kafka::KafkaSecrets) -> String {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    broker.write_resources_with(&dir.path().join("resources"), secrets, &[]);
    let app = subscriber("task-events", |_| 200);
    match Docket::sidecar(dir, APP_ID, app.port(), Options::default()) {
        Ok(docket) => panic!("the sidecar started:\n{}", docket.logs()),
        Err(logs) => logs,
    }
}

#[test]
fn a_wrong_scram_password_stops_start_up() {
    let broker = KafkaBroker::start(KafkaOptions::secured().topic("task-events", 1));
    let mut secrets = broker.secrets();
    secrets.password = "not-the-password".into();
    let logs = refusal(&broker, &secrets);
    assert!(logs.contains("\"pubsub\""), "names the component:\n{logs}");
    assert!(
        logs.contains(&broker.bootstrap()),
        "names the broker:\n{logs}"
    );
    assert!(logs.contains("authentication failed"), "{logs}");
    assert!(
        !logs.contains("not-the-password"),
        "shows the password:\n{logs}"
    );
}

#[test]
fn an_unknown_ca_stops_start_up() {
    let broker = KafkaBroker::start(KafkaOptions::secured().topic("task-events", 1));
    let mut secrets = broker.secrets();
    secrets.ca_pem = TestCa::new("someone else's CA").pem;
    let logs = refusal(&broker, &secrets);
    assert!(logs.contains("\"pubsub\""), "names the component:\n{logs}");
    assert!(
        logs.contains(&broker.bootstrap()),
        "names the broker:\n{logs}"
    );
    assert!(logs.contains("certificate verify failed"), "{logs}");
}

#[test]
fn nothing_is_lost_across_a_broker_restart() {
    let mut options = KafkaOptions::plain().topic("task-events", 3);
    options.storage = KafkaStorage::Sqlite;
    let mut broker = KafkaBroker::start(options);
    let dir = resources(&broker);
    let app = subscriber("task-events", |_| 200);
    let docket = Arc::new(sidecar(&dir, &app));
    let accepted = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = {
        let (docket, accepted, stop) = (docket.clone(), accepted.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let key = format!("task-{}", n % 10);
                // A publish the sidecar did not accept is the publisher's to retry.
                if publish_keyed(&docket, "task-events", &key, &json!({"n": n})) == 204 {
                    accepted.lock().unwrap().push(n);
                    n += 1;
                } else {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        })
    };
    app.wait_for("/events", 20, WAIT);
    broker.kill();
    std::thread::sleep(Duration::from_secs(2));
    broker.restart();
    let before = accepted.lock().unwrap().len();
    wait_until(
        "no publish was accepted after the restart",
        || accepted.lock().unwrap().len() >= before + 50,
        || docket.logs(),
    );
    stop.store(true, Ordering::Relaxed);
    publisher.join().unwrap();
    let accepted = accepted.lock().unwrap().clone();
    wait_until(
        "accepted records were lost across the restart",
        || {
            let seen: std::collections::BTreeSet<i64> = numbers(&[&app]).into_iter().collect();
            accepted.iter().all(|n| seen.contains(n))
        },
        || format!("{}\n---\n{}", docket.logs(), broker.logs()),
    );
    println!(
        "{} records accepted around the restart, all delivered",
        accepted.len()
    );
}

#[test]
fn docket_up_on_the_kafka_set_emails_a_created_task() {
    let broker = KafkaBroker::start(
        KafkaOptions::secured()
            .topic("task-events", 6)
            .topic("task-events-dlq", 6),
    );
    let redis = Redis::start();
    let secrets = tempfile::tempdir().unwrap();
    let repository = repository_set(&broker, redis.port, secrets.path());
    let providers = Providers::start();
    let setup = Setup {
        resources: repository,
        variables: vec![
            ("sendgrid_base_url".to_string(), providers.url()),
            ("sendgrid_api_key".to_string(), SENDGRID_KEY.to_string()),
        ],
        ..Setup::default()
    };
    let app = TodoApp::start_with(Backend::Sqlite, "kafka_story", setup);
    let preferences = json!({
        "email": "sam@example.com",
        "channels": {"email": true, "push": false},
        "events": {"task.created": true, "task.completed": true, "task.due": true},
        "device_tokens": [],
    });
    let reply = app.call(
        Some("sam"),
        "PUT",
        "/api/notifications/preferences",
        Some(&preferences),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    // Another app-id on the same topic sees what the services published:
    // each event keyed by its task, one task's events in order.
    let observed = subscriber("task-events", |_| 200);
    let observer = Docket::sidecar(
        resources(&broker),
        "observer",
        observed.port(),
        Options::default(),
    )
    .unwrap_or_else(|logs| panic!("sidecar did not start:\n{logs}"));
    wait_ready(&observer);

    let task = app.create_task("sam", &json!({"title": "Water the plants"}));
    let id = task["id"].as_i64().unwrap();
    let path = format!("/api/sam/tasks/{id}");
    let reply = app.call(
        Some("sam"),
        "PUT",
        &path,
        Some(&json!({"priority": "High"})),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let reply = app.call(Some("sam"), "PATCH", &format!("{path}/complete"), None);
    assert_eq!(reply.status, 200, "{}", reply.body);
    let events = observed.wait_for("/events", 3, WAIT);
    let key = id.to_string();
    assert!(
        events
            .iter()
            .all(|e| e.header("__key") == Some(key.as_str())),
        "{:?}",
        events.iter().map(|e| e.header("__key")).collect::<Vec<_>>()
    );
    let types: Vec<Value> = events.iter().map(|e| e.json()["type"].clone()).collect();
    assert_eq!(types, ["task.created", "task.updated", "task.completed"]);

    wait_until(
        "the email was never sent",
        || {
            providers
                .accepted_mail()
                .iter()
                .any(|mail| mail["subject"] == "New task: Water the plants")
        },
        || app.docket.logs(),
    );
    let mail = &providers.accepted_mail()[0];
    assert_eq!(
        mail["personalizations"][0]["to"][0]["email"],
        "sam@example.com"
    );
}
