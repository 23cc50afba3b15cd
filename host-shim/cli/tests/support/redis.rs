//! A redis-server of a test's own, which the test can stop and resume.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A redis-server of the test's own on a free port, restartable on that port.
pub struct Redis {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Redis {
    pub fn start() -> Redis {
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

    pub fn resume(&mut self) {
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

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new("redis-cli")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .args(args)
            .output()
            .expect("redis-cli");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The CloudEvent ids of every entry in a topic's stream, in order.
    pub fn event_ids(&self, topic: &str) -> Vec<String> {
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

pub fn wait_until(what: &str, done: impl FnMut() -> bool) {
    wait_until_within(what, Duration::from_secs(30), done);
}

pub fn wait_until_within(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A Dapr component of `kind` (`pubsub.redis`, `state.redis`) named `name`
/// on this server.
pub fn component(name: &str, kind: &str, port: u16) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: {kind}\n  version: v1\n  metadata:\n    - name: redisHost\n      value: \"127.0.0.1:{port}\"\n"
    )
}
