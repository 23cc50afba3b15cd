//! The todo API over an in-memory SQLite database, as the assistant's tools
//! see it, at a fixed moment.
#![allow(dead_code)]

use std::cell::RefCell;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use docket_auth::KeySet;
use docket_chat::tools::{Answer, TaskApi};
use serde_json::Value;
use todo_core::http::Request;
use todo_core::testing::{SharedSecret, SqliteDb};
use todo_core::{Context, handle_as};

/// Wednesday 4 March 2026, 10:00 in Berlin.
pub fn now() -> DateTime<Tz> {
    chrono_tz::Europe::Berlin
        .with_ymd_and_hms(2026, 3, 4, 10, 0, 0)
        .unwrap()
}

pub struct Api {
    pub db: SqliteDb,
    auth: SharedSecret,
    user: RefCell<String>,
    now: DateTime<Utc>,
}

impl Api {
    pub fn new() -> Api {
        Api {
            db: SqliteDb::migrated(),
            auth: SharedSecret(KeySet::new().with_hs256_secret(b"unused")),
            user: RefCell::new("alice".into()),
            now: now().with_timezone(&Utc),
        }
    }

    pub fn as_user(&self, user: &str) {
        *self.user.borrow_mut() = user.to_string();
    }
}

impl TaskApi for Api {
    fn call(&self, method: &str, path: &str, query: &str, body: Option<&Value>) -> Answer {
        let user = self.user.borrow().clone();
        let request = Request {
            method: method.into(),
            path: format!("/api/{user}/{path}"),
            query: query.into(),
            headers: body
                .map(|_| vec![("content-type".to_string(), "application/json".to_string())])
                .unwrap_or_default(),
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        };
        let ctx = Context {
            db: &self.db,
            now: self.now,
            auth: &self.auth,
            signing_secret: b"unused",
            traceparent: None,
        };
        let reply = handle_as(&ctx, &user, &request);
        let body = serde_json::from_slice(&reply.response.body).unwrap_or(Value::Null);
        Answer {
            status: reply.response.status,
            body,
        }
    }
}
