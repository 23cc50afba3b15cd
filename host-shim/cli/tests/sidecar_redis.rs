//! The Redis backends shared by several sidecars with one app-id: each event
//! handled once, a killed replica's pending messages taken over, and state
//! laid out in Redis as Dapr lays it out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::BTreeSet;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use support::dapr::{publish, redis_pubsub, wait_ready, write_resources};
use support::recording_app::{Recorded, RecordingApp};
use support::{Docket, Options};

const WAIT: Duration = Duration::from_secs(30);

fn redis(args: &[&str]) -> String {
    let output = Command::new("redis-cli")
        .args(["-h", "127.0.0.1"])
        .args(args)
        .output()
        .expect("redis-cli");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}-{}", std::process::id(), uuid_like())
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}")
}

fn subscriber(topic: &str, delay: Duration) -> RecordingApp {
    let list = json!([{"pubsubname": "pubsub", "topic": topic, "route": "/events"}]).to_string();
    RecordingApp::start(move |r: &Recorded| {
        if r.path == "/dapr/subscribe" {
            return (200, "application/json", list.clone());
        }
        std::thread::sleep(delay);
        (200, "text/plain", String::new())
    })
}

fn replica(dir: &Arc<tempfile::TempDir>, app: &RecordingApp) -> Docket {
    let docket = Docket::sidecar(dir.clone(), "notifier", app.port(), Options::default())
        .unwrap_or_else(|l| panic!("{l}"));
    wait_ready(&docket);
    docket
}

fn event_numbers(apps: &[&RecordingApp]) -> Vec<i64> {
    apps.iter()
        .flat_map(|app| app.to("/events"))
        .map(|r| r.json()["data"]["n"].as_i64().unwrap())
        .collect()
}

#[test]
fn replicas_share_one_consumer_group() {
    let topic = unique("events");
    let dir = Arc::new(tempfile::tempdir().unwrap());
    write_resources(&dir, &[("pubsub.yaml", redis_pubsub("pubsub"))]);
    let (app_a, app_b) = (
        subscriber(&topic, Duration::from_millis(5)),
        subscriber(&topic, Duration::from_millis(5)),
    );
    let (a, _b) = (replica(&dir, &app_a), replica(&dir, &app_b));
    for n in 0..100 {
        publish(&a, "pubsub", &topic, &json!({"n": n}));
    }
    let deadline = std::time::Instant::now() + WAIT;
    while event_numbers(&[&app_a, &app_b]).len() < 100 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {} of 100 delivered",
            event_numbers(&[&app_a, &app_b]).len()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_secs(1));
    let mut all = event_numbers(&[&app_a, &app_b]);
    all.sort_unstable();
    assert_eq!(
        all,
        (0..100).collect::<Vec<_>>(),
        "each event exactly once across replicas"
    );
    assert!(
        !app_a.to("/events").is_empty() && !app_b.to("/events").is_empty(),
        "both replicas should take a share"
    );
    assert_eq!(redis(&["XLEN", &topic]), "100");
    let groups = redis(&["XINFO", "GROUPS", &topic]);
    assert!(
        groups.contains("notifier"),
        "consumer group named after the app-id: {groups}"
    );
    redis(&["DEL", &topic]);
}

#[test]
fn a_killed_replicas_messages_go_to_the_survivor() {
    let topic = unique("jobs");
    let dir = Arc::new(tempfile::tempdir().unwrap());
    write_resources(&dir, &[("pubsub.yaml", redis_pubsub("pubsub"))]);
    let stuck_app = subscriber(&topic, Duration::from_secs(60));
    let stuck = replica(&dir, &stuck_app);
    for n in 0..10 {
        publish(&stuck, "pubsub", &topic, &json!({"n": n}));
    }
    stuck_app.wait_for("/events", 1, WAIT);
    stuck.kill();
    let healthy_app = subscriber(&topic, Duration::ZERO);
    let _healthy = replica(&dir, &healthy_app);
    healthy_app.wait_for("/events", 10, WAIT);
    std::thread::sleep(Duration::from_secs(3));
    let mut seen = event_numbers(&[&healthy_app]);
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..10).collect::<Vec<_>>(),
        "the survivor delivers each pending message once"
    );
    redis(&["DEL", &topic]);
}

#[test]
fn state_is_laid_out_as_dapr_lays_it_out() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let store = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.redis\n  version: v1\n  metadata:\n    - name: redisHost\n      value: \"127.0.0.1:6379\"\n";
    write_resources(&dir, &[("state.yaml", store.into())]);
    let app = RecordingApp::start(|_| (404, "text/plain", String::new()));
    let app_id = unique("layout");
    let docket = Docket::sidecar(dir, &app_id, app.port(), Options::default()).unwrap();
    let saved = docket.dapr(
        "POST",
        "/v1.0/state/statestore",
        &[("content-type", "application/json")],
        &json!([{"key": "order-1", "value": {"total": 3}, "metadata": {"ttlInSeconds": "100"}}])
            .to_string(),
    );
    assert_eq!(saved.status, 204, "{}", saved.body);
    let key = format!("{app_id}||order-1");
    assert_eq!(redis(&["HGET", &key, "data"]), r#"{"total":3}"#);
    assert_eq!(redis(&["HGET", &key, "version"]), "1");
    let ttl: i64 = redis(&["TTL", &key]).parse().unwrap();
    assert!((1..=100).contains(&ttl), "ttl {ttl}");
    let got = docket.dapr("GET", "/v1.0/state/statestore/order-1", &[], "");
    assert_eq!((got.status, got.json()), (200, json!({"total": 3})));
    assert_eq!(
        docket
            .dapr(
                "DELETE",
                "/v1.0/state/statestore/order-1",
                &[("if-match", "1")],
                ""
            )
            .status,
        204
    );
    assert_eq!(redis(&["EXISTS", &key]), "0");
    let keys: BTreeSet<String> = redis(&["KEYS", &format!("{app_id}*")])
        .lines()
        .map(String::from)
        .filter(|l| !l.is_empty())
        .collect();
    assert!(keys.is_empty(), "{keys:?}");
}
