//! The outbox: with the broker down a change still answers at once and its
//! event waits in the outbox; when the broker is back the relay publishes
//! it, exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use support::todo::{Backend, Setup, TodoApp, relay_binding};

/// A redis-server of the test's own on a free port, restartable on that port.
struct Redis {
    port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Redis {
    fn start() -> Redis {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut redis = Redis {
            port,
            dir: tempfile::tempdir().unwrap(),
            child: None,
        };
        redis.resume();
        redis
    }

    fn resume(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server");
        self.child = Some(child);
        wait_until("redis answers", || self.cli(&["PING"]).trim() == "PONG");
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The CloudEvent ids of every entry in a topic's stream, in order.
    fn event_ids(&self, topic: &str) -> Vec<String> {
        self.cli(&["--no-raw", "XRANGE", topic, "-", "+"])
            .lines()
            .filter_map(|line| {
                let start = line.find("\"{")?;
                let quoted = &line[start..];
                let text: String = serde_json::from_str(quoted).ok()?;
                let event: Value = serde_json::from_str(&text).ok()?;
                event["id"].as_str().map(str::to_string)
            })
            .collect()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn redis_pubsub(port: u16) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n  type: pubsub.redis\n  version: v1\n  metadata:\n    - name: redisHost\n      value: \"127.0.0.1:{port}\"\n"
    )
}

fn outbox_survives_a_broker_outage(backend: Backend) {
    let mut redis = Redis::start();
    let setup = Setup {
        resources: vec![
            ("pubsub.yaml", redis_pubsub(redis.port)),
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
