//! Pub/sub through `docket sidecar` on the embedded backend: CloudEvents,
//! the app's answers, retries and their timing, dead letters, routing rules,
//! raw payloads, TTL, cron bindings, and nothing lost across `kill -9`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};
use support::dapr::{
    publish, retry_policy, sqlite_pubsub, start_sidecar, wait_ready, write_resources,
};
use support::recording_app::{Recorded, RecordingApp};
use support::{Docket, Options};

const WAIT: Duration = Duration::from_secs(20);

fn subscriptions(list: Value) -> impl Fn(&Recorded) -> Option<(u16, &'static str, String)> {
    move |request: &Recorded| {
        (request.path == "/dapr/subscribe").then(|| (200, "application/json", list.to_string()))
    }
}

/// `docket sidecar` for app-id `checkout` with the embedded broker, ready.
fn embedded_sidecar(app: &RecordingApp) -> Docket {
    let dapr = start_sidecar(
        &[("pubsub.yaml", sqlite_pubsub("pubsub", ""))],
        "checkout",
        app,
        Options::default(),
    );
    wait_ready(&dapr);
    dapr
}

fn ok() -> (u16, &'static str, String) {
    (200, "text/plain", String::new())
}

#[test]
fn delivers_cloudevents_to_the_subscribed_route() {
    let subscribe =
        subscriptions(json!([{"pubsubname": "pubsub", "topic": "orders", "route": "/orders"}]));
    let app = RecordingApp::start(move |r| subscribe(r).unwrap_or_else(ok));
    let dapr = embedded_sidecar(&app);
    let reply = dapr.dapr(
        "POST",
        "/v1.0/publish/pubsub/orders",
        &[
            ("content-type", "application/json"),
            (
                "traceparent",
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ),
        ],
        r#"{"orderId":1}"#,
    );
    assert_eq!(reply.status, 204, "{}", reply.body);
    let delivered = &app.wait_for("/orders", 1, WAIT)[0];
    assert_eq!(delivered.method, "POST");
    assert_eq!(
        delivered.header("content-type"),
        Some("application/cloudevents+json")
    );
    assert_eq!(delivered.header("pubsubname"), Some("pubsub"));
    let event = delivered.json();
    assert_eq!(event["data"], json!({"orderId": 1}));
    assert_eq!(event["source"], "checkout");
    assert_eq!(event["type"], "com.dapr.event.sent");
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["datacontenttype"], "application/json");
    assert_eq!(event["topic"], "orders");
    assert_eq!(event["pubsubname"], "pubsub");
    assert_eq!(
        event["traceparent"],
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    );
    assert_eq!(
        delivered.header("traceparent"),
        Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    );
    assert!(event["id"].as_str().is_some_and(|id| id.len() == 36));
    assert!(event["time"].is_string());
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(app.to("/orders").len(), 1, "delivered twice");
}

#[test]
fn calls_into_the_app_carry_the_app_token() {
    let subscribe = subscriptions(json!([{"pubsubname": "pubsub", "topic": "t", "route": "/t"}]));
    let app = RecordingApp::start(move |r| subscribe(r).unwrap_or_else(ok));
    let options = Options {
        env: vec![("APP_API_TOKEN".into(), "app-secret".into())],
        ..Default::default()
    };
    let dapr = start_sidecar(
        &[("pubsub.yaml", sqlite_pubsub("pubsub", ""))],
        "checkout",
        &app,
        options,
    );
    wait_ready(&dapr);
    publish(&dapr, "pubsub", "t", &json!({}));
    let delivery = &app.wait_for("/t", 1, WAIT)[0];
    assert_eq!(delivery.header("dapr-api-token"), Some("app-secret"));
    assert_eq!(
        app.to("/dapr/subscribe")[0].header("dapr-api-token"),
        Some("app-secret")
    );
}

#[test]
fn publish_errors_use_daprd_codes() {
    let app = RecordingApp::start(|_| (404, "text/plain", String::new()));
    let limited = sqlite_pubsub(
        "limited",
        "    - name: allowedTopics\n      value: \"a,b\"\n",
    );
    let dapr = start_sidecar(
        &[
            ("pubsub.yaml", sqlite_pubsub("pubsub", "")),
            ("limited.yaml", limited),
        ],
        "checkout",
        &app,
        Options::default(),
    );
    let post = |path: &str| dapr.dapr("POST", path, &[("content-type", "text/plain")], "hi");
    let code = |reply: &support::Reply| {
        reply.json()["errorCode"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let unknown = post("/v1.0/publish/nope/t");
    assert_eq!(
        (unknown.status, code(&unknown).as_str()),
        (404, "ERR_PUBSUB_NOT_FOUND")
    );
    let forbidden = post("/v1.0/publish/limited/c");
    assert_eq!(
        (forbidden.status, code(&forbidden).as_str()),
        (403, "ERR_PUBSUB_FORBIDDEN")
    );
    assert_eq!(post("/v1.0/publish/limited/a").status, 204);
    let bad_raw = post("/v1.0/publish/pubsub/t?metadata.rawPayload=maybe");
    assert_eq!(
        (bad_raw.status, code(&bad_raw).as_str()),
        (400, "ERR_PUBSUB_REQUEST_METADATA")
    );
    let bad_event = dapr.dapr(
        "POST",
        "/v1.0/publish/pubsub/t",
        &[("content-type", "application/cloudevents+json")],
        "[1]",
    );
    assert_eq!(bad_event.status, 500);
    assert_eq!(post("/v1.0/publish/pubsub/deep/topic/name").status, 204);
}

#[test]
fn reads_app_answers_and_retries_with_exponential_backoff() {
    let flaky = Arc::new(AtomicUsize::new(0));
    let subscribe = subscriptions(json!([
        {"pubsubname": "pubsub", "topic": "ok", "route": "/ok"},
        {"pubsubname": "pubsub", "topic": "drop", "route": "/drop", "deadLetterTopic": "dead"},
        {"pubsubname": "pubsub", "topic": "gone", "route": "/gone"},
        {"pubsubname": "pubsub", "topic": "flaky", "route": "/flaky"},
        {"pubsubname": "pubsub", "topic": "broken", "route": "/broken", "deadLetterTopic": "dead"},
        {"pubsubname": "pubsub", "topic": "dead", "route": "/dead"}
    ]));
    let counter = flaky.clone();
    let app = RecordingApp::start(move |r| {
        subscribe(r).unwrap_or_else(|| match r.path.as_str() {
            "/drop" => (200, "application/json", r#"{"status":"DROP"}"#.into()),
            "/gone" => (404, "text/plain", String::new()),
            "/flaky" if counter.fetch_add(1, Ordering::SeqCst) < 2 => {
                (200, "application/json", r#"{"status":"RETRY"}"#.into())
            }
            "/flaky" => (200, "application/json", r#"{"status":"SUCCESS"}"#.into()),
            "/broken" => (500, "text/plain", "boom".into()),
            _ => ok(),
        })
    });
    let resources = [
        ("pubsub.yaml", sqlite_pubsub("pubsub", "")),
        ("resiliency.yaml", retry_policy("pubsub", 3)),
    ];
    let dapr = start_sidecar(&resources, "checkout", &app, Options::default());
    wait_ready(&dapr);
    for topic in ["ok", "drop", "gone", "flaky", "broken"] {
        publish(&dapr, "pubsub", topic, &json!({"topic": topic}));
    }
    let dead = app.wait_for("/dead", 2, WAIT);
    let dead_topics: Vec<Value> = dead
        .iter()
        .map(|r| r.json()["data"]["topic"].clone())
        .collect();
    assert!(
        dead_topics.contains(&json!("drop")) && dead_topics.contains(&json!("broken")),
        "{dead_topics:?}"
    );
    assert_eq!(app.wait_for("/flaky", 3, WAIT).len(), 3);
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(app.to("/ok").len(), 1);
    assert_eq!(app.to("/drop").len(), 1, "DROP must not be retried");
    assert_eq!(app.to("/gone").len(), 1, "404 must not be retried");
    assert_eq!(app.to("/flaky").len(), 3, "SUCCESS after two RETRYs");
    let broken = app.to("/broken");
    assert_eq!(broken.len(), 4, "one attempt and three retries");
    assert_eq!(app.to("/dead").len(), 2);
    // Exponential: 500 ms × 1.5^n with ±50 % jitter, plus scheduling slack.
    for (n, pair) in broken.windows(2).enumerate() {
        let gap = pair[1].at.duration_since(pair[0].at).as_secs_f64();
        let base = 0.5 * 1.5f64.powi(n as i32);
        assert!(
            gap >= base * 0.5 - 0.05 && gap <= base * 1.5 + 0.3,
            "retry {n} came after {gap:.3}s, expected about {base:.3}s"
        );
    }
}

#[test]
fn routes_by_rules_and_delivers_raw_payloads() {
    let subscribe = subscriptions(json!([
        {"pubsubname": "pubsub", "topic": "sized", "routes": {"rules": [{"match": "event.data.size > 10", "path": "/big"}], "default": "/small"}},
        {"pubsubname": "pubsub", "topic": "raw", "route": "/raw", "metadata": {"rawPayload": "true"}}
    ]));
    let app = RecordingApp::start(move |r| subscribe(r).unwrap_or_else(ok));
    let dapr = embedded_sidecar(&app);
    publish(&dapr, "pubsub", "sized", &json!({"size": 50}));
    publish(&dapr, "pubsub", "sized", &json!({"size": 5}));
    let raw = dapr.dapr(
        "POST",
        "/v1.0/publish/pubsub/raw?metadata.rawPayload=true",
        &[("content-type", "application/octet-stream")],
        "plain bytes",
    );
    assert_eq!(raw.status, 204);
    assert_eq!(app.wait_for("/big", 1, WAIT)[0].json()["data"]["size"], 50);
    assert_eq!(app.wait_for("/small", 1, WAIT)[0].json()["data"]["size"], 5);
    let raw_event = app.wait_for("/raw", 1, WAIT)[0].json();
    assert_eq!(raw_event["data_base64"], "cGxhaW4gYnl0ZXM=");
    assert_eq!(raw_event["datacontenttype"], "application/octet-stream");
}

#[test]
fn declarative_subscriptions_follow_their_scopes() {
    let app = RecordingApp::start(|r| {
        if r.path == "/dapr/subscribe" {
            (404, "text/plain", String::new())
        } else {
            ok()
        }
    });
    let mine = "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: mine\nspec:\n  pubsubname: pubsub\n  topic: t1\n  routes:\n    default: /mine\nscopes: [checkout]\n";
    let theirs = "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: theirs\nspec:\n  pubsubname: pubsub\n  topic: t1\n  routes:\n    default: /theirs\nscopes: [billing]\n";
    let dapr = start_sidecar(
        &[
            ("pubsub.yaml", sqlite_pubsub("pubsub", "")),
            ("mine.yaml", mine.into()),
            ("theirs.yaml", theirs.into()),
        ],
        "checkout",
        &app,
        Options::default(),
    );
    wait_ready(&dapr);
    publish(&dapr, "pubsub", "t1", &json!({"n": 1}));
    app.wait_for("/mine", 1, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    assert!(app.to("/theirs").is_empty());
}

#[test]
fn expired_events_are_dropped() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    write_resources(&dir, &[("pubsub.yaml", sqlite_pubsub("pubsub", ""))]);
    let silent = RecordingApp::start(|_| (404, "text/plain", String::new()));
    let first =
        Docket::sidecar(dir.clone(), "checkout", silent.port(), Options::default()).unwrap();
    wait_ready(&first);
    let ttl = first.dapr(
        "POST",
        "/v1.0/publish/pubsub/later?metadata.ttlInSeconds=1",
        &[("content-type", "application/json")],
        r#"{"n":"short"}"#,
    );
    assert_eq!(ttl.status, 204);
    publish(&first, "pubsub", "later", &json!({"n": "kept"}));
    first.stop();
    std::thread::sleep(Duration::from_millis(1500));
    let subscribe =
        subscriptions(json!([{"pubsubname": "pubsub", "topic": "later", "route": "/later"}]));
    let app = RecordingApp::start(move |r| subscribe(r).unwrap_or_else(ok));
    let second = Docket::sidecar(dir, "checkout", app.port(), Options::default()).unwrap();
    wait_ready(&second);
    let got = app.wait_for("/later", 1, WAIT);
    std::thread::sleep(Duration::from_millis(500));
    let received: Vec<Value> = app
        .to("/later")
        .iter()
        .map(|r| r.json()["data"]["n"].clone())
        .collect();
    assert_eq!(received, vec![json!("kept")], "{got:?}");
}

#[test]
fn nothing_is_lost_across_kill_9() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    write_resources(&dir, &[("pubsub.yaml", sqlite_pubsub("pubsub", ""))]);
    let subscribe =
        subscriptions(json!([{"pubsubname": "pubsub", "topic": "jobs", "route": "/jobs"}]));
    let stuck = RecordingApp::start(move |r| {
        subscribe(r).unwrap_or_else(|| {
            std::thread::sleep(Duration::from_secs(30));
            ok()
        })
    });
    let first = Docket::sidecar(dir.clone(), "worker", stuck.port(), Options::default()).unwrap();
    wait_ready(&first);
    for n in 0..20 {
        publish(&first, "pubsub", "jobs", &json!({"n": n}));
    }
    stuck.wait_for("/jobs", 1, WAIT);
    first.kill();

    let subscribe =
        subscriptions(json!([{"pubsubname": "pubsub", "topic": "jobs", "route": "/jobs"}]));
    let healthy = RecordingApp::start(move |r| subscribe(r).unwrap_or_else(ok));
    let second = Docket::sidecar(dir, "worker", healthy.port(), Options::default()).unwrap();
    wait_ready(&second);
    healthy.wait_for("/jobs", 20, WAIT);
    std::thread::sleep(Duration::from_millis(1500));
    let mut seen: Vec<i64> = healthy
        .to("/jobs")
        .iter()
        .map(|r| r.json()["data"]["n"].as_i64().unwrap())
        .collect();
    seen.sort_unstable();
    assert_eq!(
        seen,
        (0..20).collect::<Vec<_>>(),
        "every message exactly once after the restart"
    );
}

#[test]
fn cron_bindings_fire_on_schedule_within_their_scope() {
    let app = RecordingApp::start(|r| match (r.method.as_str(), r.path.as_str()) {
        ("OPTIONS", "/probed") => (405, "text/plain", String::new()),
        ("OPTIONS", _) => (404, "text/plain", String::new()),
        _ => ok(),
    });
    let cron = |name: &str, extra: &str| {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: bindings.cron\n  version: v1\n  metadata:\n    - name: schedule\n      value: \"@every 1s\"\n{extra}"
        )
    };
    let resources = [
        (
            "tick.yaml",
            cron(
                "tick",
                "    - name: direction\n      value: input\nscopes: [worker]\n",
            ),
        ),
        ("probed.yaml", cron("probed", "")),
        ("unprobed.yaml", cron("unprobed", "")),
        (
            "elsewhere.yaml",
            cron(
                "elsewhere",
                "    - name: direction\n      value: input\nscopes: [someone-else]\n",
            ),
        ),
    ];
    let dapr = start_sidecar(&resources, "worker", &app, Options::default());
    wait_ready(&dapr);
    let ticks = app.wait_for("/tick", 2, WAIT);
    assert_eq!(ticks[0].method, "POST");
    assert!(ticks[0].body.is_empty());
    assert!(ticks[0].header("readtimeutc").is_some());
    app.wait_for("/probed", 2, WAIT);
    assert!(
        app.to("/elsewhere").is_empty(),
        "a binding scoped to another app fired"
    );
    assert!(
        app.requests()
            .iter()
            .all(|r| !(r.path == "/unprobed" && r.method == "POST")),
        "a binding the app did not accept fired"
    );
}
