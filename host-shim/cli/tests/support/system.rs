//! The whole system for story and fault tests: `docket up` with the
//! repository's Redis resource set (on a redis-server of the test's own, with
//! second-scale intervals) or the embedded default, real Postgres or SQLite,
//! and the local SendGrid stand-in recording every email.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Value, json};

use super::load::Target;
use super::providers::{Providers, SENDGRID_KEY};
use super::redis::Redis;
use super::todo::{Backend, Setup, TodoApp, default_resources, recurring_cron};

/// The files of `dapr/components/redis`, in the names they have there.
const REDIS_SET: [&str; 5] = [
    "outbox-relay.yaml",
    "pubsub.yaml",
    "recurring-cron.yaml",
    "resiliency.yaml",
    "statestore.yaml",
];

/// The repository's Redis resource set pointed at `port`, its crons ticking
/// every second, a dead consumer's messages taken over after 2 s, and
/// retries capped at 1 s but many (about 200 s in all), so a provider outage
/// of several seconds and a dead sender's lease on a notice (120 s) are
/// outlasted.
pub fn redis_resource_set(port: u16) -> Vec<(&'static str, String)> {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dapr/components/redis");
    REDIS_SET
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(folder.join(name)).expect("redis resource set");
            let quick = [
                ("127.0.0.1:6379", format!("127.0.0.1:{port}")),
                ("@every 10s", "@every 1s".to_string()),
                ("value: \"15s\"", "value: \"2s\"".to_string()),
                ("value: \"5s\"", "value: \"500ms\"".to_string()),
                ("maxInterval: 10s", "maxInterval: 1s".to_string()),
                ("maxRetries: 20", "maxRetries: 200".to_string()),
            ]
            .iter()
            .fold(text, |text, (from, to)| text.replace(from, to));
            (*name, quick)
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stack {
    /// The Redis resource set and a Postgres database of the test's own.
    RedisPostgres,
    /// The embedded default: SQLite database, SQLite pub/sub and state.
    Embedded,
}

pub struct System {
    pub app: TodoApp,
    pub providers: Providers,
    pub redis: Option<Redis>,
}

pub const USER: &str = "sam";
pub const ADDRESS: &str = "sam@example.com";

impl System {
    pub fn start(stack: Stack, tag: &str) -> System {
        Self::start_with(stack, tag, Vec::new())
    }

    /// With `variables` added to the app's (e.g. a `database_url` of its own).
    pub fn start_with(stack: Stack, tag: &str, variables: Vec<(String, String)>) -> System {
        let providers = Providers::start();
        let (redis, resources, backend) = match stack {
            Stack::RedisPostgres => {
                let redis = Redis::start();
                let resources = redis_resource_set(redis.port);
                (Some(redis), resources, Backend::Postgres)
            }
            Stack::Embedded => {
                let mut resources = default_resources();
                resources.push(("recurring-cron.yaml", recurring_cron("1s")));
                (None, resources, Backend::Sqlite)
            }
        };
        let mut all = vec![
            ("sendgrid_base_url".to_string(), providers.url()),
            ("sendgrid_api_key".to_string(), SENDGRID_KEY.to_string()),
        ];
        all.extend(variables);
        let setup = Setup {
            resources,
            variables: all,
            ..Setup::default()
        };
        let app = TodoApp::start_with(backend, tag, setup);
        let system = System {
            app,
            providers,
            redis,
        };
        system.email_to(&system.app, USER, ADDRESS);
        system
    }

    /// Asks for an email for every kind of event.
    pub fn email_to(&self, app: &TodoApp, user: &str, address: &str) {
        let preferences = json!({
            "email": address,
            "channels": {"email": true, "push": false},
            "events": {"task.created": true, "task.completed": true, "task.due": true},
            "device_tokens": [],
        });
        let reply = app.call(
            Some(user),
            "PUT",
            "/api/notifications/preferences",
            Some(&preferences),
        );
        assert_eq!(reply.status, 200, "{}", reply.body);
    }

    /// The subjects of the emails the provider accepted.
    pub fn subjects(&self) -> Vec<String> {
        self.providers
            .accepted_mail()
            .iter()
            .map(|mail| mail["subject"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// How many accepted emails are about the task titled `title`.
    pub fn mails_about(&self, title: &str) -> usize {
        self.subjects()
            .iter()
            .filter(|subject| mentions(subject, title))
            .count()
    }

    /// The CloudEvents on the `task-events` stream (Redis stack only).
    pub fn stream_events(&self) -> Vec<Value> {
        let redis = self.redis.as_ref().expect("a Redis stack");
        redis
            .cli(&["--no-raw", "XRANGE", "task-events", "-", "+"])
            .lines()
            .filter_map(|line| {
                let quoted = &line[line.find("\"{")?..];
                let text: String = serde_json::from_str(quoted).ok()?;
                serde_json::from_str(&text).ok()
            })
            .collect()
    }

    /// A load target for `USER` on this system's app.
    pub fn target(&self) -> Arc<Target> {
        Arc::new(Target {
            base: std::sync::RwLock::new(format!("http://{}", self.app.docket.addr)),
            token: self.app.token(USER),
            user: USER.to_string(),
        })
    }
}

/// Whether an email subject (`New task: <title>`, `Reminder: <title>`, …)
/// is about exactly this task title.
pub fn mentions(subject: &str, title: &str) -> bool {
    subject
        .split_once(": ")
        .is_some_and(|(_, about)| about == title)
}

/// How many emails each of `titles` got, in the order given.
pub fn email_counts(system: &System, titles: &[String]) -> Vec<usize> {
    let subjects = system.subjects();
    titles
        .iter()
        .map(|title| subjects.iter().filter(|s| mentions(s, title)).count())
        .collect()
}

/// Each title's number of emails, reporting titles with none or several.
pub fn exactly_once(system: &System, titles: &[String]) -> (usize, Vec<String>) {
    let mut delivered = 0;
    let mut wrong = Vec::new();
    for (title, count) in titles.iter().zip(email_counts(system, titles)) {
        if count == 1 {
            delivered += 1;
        } else {
            wrong.push(format!("{title}: {count}"));
        }
    }
    (delivered, wrong)
}
