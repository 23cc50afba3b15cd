//! Shared test fixtures: a scripted HTTP client, events as Dapr delivers
//! them, provider settings and store helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::cell::RefCell;
use std::collections::VecDeque;

use chrono::{DateTime, Duration, TimeZone, Utc};
use docket_events::{Priority, ReminderEvent, Task, TaskEvent, TaskEventType, cloud_event};
use docket_http::{HttpClient, HttpFailure, Outgoing, Response};
use docket_notify::preferences::{self, Preferences};
use docket_notify::record::{Channel, DeliveryRecord};
use docket_notify::{Notifier, Outcome, Settings};
use docket_state::StateStore;
use docket_state::memory::MemoryStore;
use futures::executor::block_on;
use serde_json::{Value, json};

pub const SENDGRID_KEY: &str = "SG.test-key-0123456789";
pub const SENDGRID_URL: &str = "http://sendgrid.test/v3/mail/send";
pub const TOKEN_URI: &str = "http://oauth.test/token";
pub const FCM_URL: &str = "http://fcm.test/v1/projects/docket-test/messages:send";
pub const CLIENT_EMAIL: &str = "notify@docket-test.iam.gserviceaccount.com";
pub const TEST_KEY_PEM: &str = include_str!("../data/test-only-rsa-key.pem");

pub type Reply = Result<Response, HttpFailure>;

/// Answers each URL from its own queue of replies (the last one repeats)
/// and records every request.
#[derive(Default)]
pub struct FakeHttp {
    script: RefCell<Vec<(String, VecDeque<Reply>)>>,
    pub requests: RefCell<Vec<Outgoing>>,
}

impl FakeHttp {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn on(self, url: &str, replies: Vec<Reply>) -> Self {
        self.script
            .borrow_mut()
            .push((url.to_string(), replies.into()));
        self
    }

    /// Replaces what `url` answers from now on.
    pub fn answer(&self, url: &str, replies: Vec<Reply>) {
        let mut script = self.script.borrow_mut();
        script.retain(|(u, _)| u != url);
        script.push((url.to_string(), replies.into()));
    }

    pub fn requests_to(&self, url: &str) -> Vec<Outgoing> {
        self.requests
            .borrow()
            .iter()
            .filter(|r| r.url == url)
            .cloned()
            .collect()
    }

    pub fn count(&self, url: &str) -> usize {
        self.requests_to(url).len()
    }
}

impl HttpClient for FakeHttp {
    async fn send(&self, request: &Outgoing) -> Result<Response, HttpFailure> {
        self.requests.borrow_mut().push(request.clone());
        let mut script = self.script.borrow_mut();
        let (_, replies) = script
            .iter_mut()
            .find(|(url, _)| *url == request.url)
            .unwrap_or_else(|| panic!("no reply scripted for {}", request.url));
        if replies.len() > 1 {
            replies.pop_front().unwrap()
        } else {
            replies.front().cloned().expect("an empty script")
        }
    }
}

pub fn status(status: u16) -> Reply {
    Ok(Response {
        status,
        headers: Vec::new(),
        body: Vec::new(),
    })
}

pub fn json_reply(status: u16, body: Value) -> Reply {
    Ok(Response::json(status, &body))
}

/// SendGrid's acceptance.
pub fn accepted(message_id: &str) -> Reply {
    Ok(Response {
        status: 202,
        headers: vec![("x-message-id".into(), message_id.into())],
        body: Vec::new(),
    })
}

pub fn token_granted(access_token: &str) -> Reply {
    json_reply(
        200,
        json!({"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"}),
    )
}

pub fn fcm_sent(id: &str) -> Reply {
    json_reply(
        200,
        json!({"name": format!("projects/docket-test/messages/{id}")}),
    )
}

/// An FCM v1 error as Google writes it.
pub fn fcm_error(code: u16, status: &str, fcm_code: &str) -> Reply {
    json_reply(
        code,
        json!({"error": {"code": code, "message": "Requested entity was not found.", "status": status,
            "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": fcm_code}]}}),
    )
}

/// Wednesday 4 March 2026, 09:00 UTC, plus `minutes`.
pub fn at(minutes: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap() + Duration::minutes(minutes)
}

pub fn now() -> DateTime<Utc> {
    at(0)
}

pub fn task(user: &str) -> Task {
    Task {
        id: 42,
        user_id: user.into(),
        title: "Pay rent".into(),
        description: "Transfer to <landlord> & keep the receipt".into(),
        completed: false,
        completed_at: None,
        priority: Priority::High,
        due_at: Some("2026-03-05T17:00:00.000Z".into()),
        remind_at: None,
        tags: Vec::new(),
        recurring_task_id: None,
        occurrence_at: None,
        created_at: "2026-03-04T08:00:00.000Z".into(),
        updated_at: "2026-03-04T08:00:00.000Z".into(),
        version: 1,
    }
}

/// A CloudEvent as Dapr delivers it, with the attributes Dapr adds.
pub fn envelope(event_id: &str, event_type: &str, data: &impl serde::Serialize) -> Vec<u8> {
    let mut event = cloud_event(
        event_id,
        event_type,
        "todo-api",
        "2026-03-04T09:00:00.000Z",
        data,
    );
    event["topic"] = json!("task-events");
    event["pubsubname"] = json!("pubsub");
    event["traceparent"] = json!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
    event.to_string().into_bytes()
}

pub fn task_event(event_type: TaskEventType, event_id: &str, user: &str) -> Vec<u8> {
    let mut task = task(user);
    if event_type == TaskEventType::Completed {
        task.completed = true;
        task.completed_at = Some("2026-03-04T08:30:00.000Z".into());
    }
    let event = TaskEvent {
        version: 1,
        event_id: event_id.into(),
        event_type,
        task_id: task.id,
        task_data: task,
        user_id: user.into(),
        timestamp: "2026-03-04T09:00:00.000Z".into(),
        changed_fields: Vec::new(),
    };
    envelope(event_id, event_type.as_str(), &event)
}

pub fn created(event_id: &str, user: &str) -> Vec<u8> {
    task_event(TaskEventType::Created, event_id, user)
}

pub fn reminder(event_id: &str, user: &str) -> Vec<u8> {
    let event = ReminderEvent {
        version: 1,
        event_id: event_id.into(),
        task_id: 42,
        title: "Pay rent".into(),
        due_at: Some("2026-03-05T17:00:00.000Z".into()),
        remind_at: "2026-03-05T16:00:00.000Z".into(),
        user_id: user.into(),
        timestamp: "2026-03-05T16:00:00.000Z".into(),
    };
    envelope(event_id, docket_events::REMINDER_EVENT_TYPE, &event)
}

pub fn sendgrid_settings() -> Settings {
    Settings::new(
        SENDGRID_KEY,
        "Docket <notify@docket.test>",
        "http://sendgrid.test/",
        "",
        "",
    )
    .unwrap()
}

pub fn service_account() -> Value {
    json!({
        "type": "service_account",
        "project_id": "docket-test",
        "private_key_id": "test-key-id-1",
        "private_key": TEST_KEY_PEM,
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URI,
    })
}

/// SendGrid and FCM both configured.
pub fn both_settings() -> Settings {
    Settings::new(
        SENDGRID_KEY,
        "",
        "http://sendgrid.test",
        &service_account().to_string(),
        "http://fcm.test",
    )
    .unwrap()
}

pub fn fcm_settings() -> Settings {
    Settings::new(
        "",
        "",
        "",
        &service_account().to_string(),
        "http://fcm.test",
    )
    .unwrap()
}

pub fn with_email(address: &str) -> Preferences {
    Preferences {
        email: Some(address.into()),
        ..Preferences::default()
    }
}

/// Push only, to `tokens`.
pub fn push_only(tokens: &[&str]) -> Preferences {
    let mut preferences = Preferences::default();
    preferences.channels.email = false;
    preferences.channels.push = true;
    preferences.device_tokens = tokens.iter().map(|t| t.to_string()).collect();
    preferences
}

pub fn body_json(request: &Outgoing) -> Value {
    serde_json::from_slice(&request.body).unwrap()
}

pub fn is_retry(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Retry(_))
}

pub fn is_drop(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Drop(_))
}

/// A notifier over a scripted HTTP client and an in-memory store.
pub struct World {
    pub http: FakeHttp,
    pub store: MemoryStore,
    pub settings: Settings,
}

impl World {
    pub fn new(settings: Settings) -> Self {
        Self {
            http: FakeHttp::new(),
            store: MemoryStore::default(),
            settings,
        }
    }

    pub fn on(mut self, url: &str, replies: Vec<Reply>) -> Self {
        self.http = self.http.on(url, replies);
        self
    }

    pub fn prefs(self, user: &str, preferences: &Preferences) -> Self {
        block_on(preferences::save(&self.store, user, preferences)).unwrap();
        self
    }

    pub fn notifier(&self) -> Notifier<'_, FakeHttp, MemoryStore> {
        Notifier {
            http: &self.http,
            store: &self.store,
            settings: &self.settings,
        }
    }

    /// Delivers `body` at [`at`]`(minute)`.
    pub fn deliver(&self, body: &[u8], minute: i64) -> Outcome {
        block_on(self.notifier().deliver(body, at(minute)))
    }

    pub fn dead_letter(&self, body: &[u8], minute: i64) -> Outcome {
        block_on(self.notifier().dead_letter(body, at(minute)))
    }

    pub fn try_record(&self, event_id: &str, channel: Channel) -> Option<DeliveryRecord> {
        let key = docket_notify::record::key(event_id, channel);
        self.stored(&key)
            .map(|value| serde_json::from_value(value).unwrap())
    }

    pub fn record(&self, event_id: &str, channel: Channel) -> DeliveryRecord {
        self.try_record(event_id, channel)
            .expect("a delivery record")
    }

    pub fn stored(&self, key: &str) -> Option<Value> {
        block_on(self.store.get(key))
            .unwrap()
            .map(|stored| serde_json::from_slice(&stored.value).unwrap())
    }

    pub fn count(&self, url: &str) -> usize {
        self.http.count(url)
    }

    pub fn requests_to(&self, url: &str) -> Vec<Outgoing> {
        self.http.requests_to(url)
    }

    pub fn nothing_sent(&self) -> bool {
        self.http.requests.borrow().is_empty()
    }
}
