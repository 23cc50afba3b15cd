//! Helpers to call the API over `todo_core::testing`'s SQLite database.

#![allow(dead_code)]

use std::cell::RefCell;

use chrono::{DateTime, Duration, Utc};
use docket_auth::{Claims, KeySet, sign_hs256};
use serde_json::Value as Json;
use todo_core::Context;
use todo_core::http::{Reply, Request};
use todo_core::testing::{SharedSecret, SqliteDb};

pub const SECRET: &[u8] = b"a-test-secret-of-reasonable-length";

/// The API over one database, with a clock the test moves.
pub struct Api {
    pub db: SqliteDb,
    pub now: RefCell<DateTime<Utc>>,
    auth: SharedSecret,
}

pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Json,
    pub reply: Reply,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl Api {
    pub fn new() -> Self {
        Self {
            db: SqliteDb::migrated(),
            now: RefCell::new(
                DateTime::parse_from_rfc3339("2026-03-02T08:00:00Z")
                    .expect("time")
                    .with_timezone(&Utc),
            ),
            auth: SharedSecret(KeySet::new().with_hs256_secret(SECRET)),
        }
    }

    pub fn advance(&self, by: Duration) {
        let next = *self.now.borrow() + by;
        *self.now.borrow_mut() = next;
    }

    pub fn token(&self, user: &str) -> String {
        let claims = Claims::new(user, self.now.borrow().timestamp(), 3600);
        sign_hs256(SECRET, &claims)
    }

    /// Sends a request as `user` (bearer token) or anonymously.
    pub fn call(
        &self,
        user: Option<&str>,
        method: &str,
        target: &str,
        body: Option<Json>,
    ) -> Answer {
        let mut headers = Vec::new();
        if let Some(user) = user {
            headers.push((
                "authorization".to_string(),
                format!("Bearer {}", self.token(user)),
            ));
        }
        let body = match body {
            Some(json) => {
                headers.push(("content-type".to_string(), "application/json".to_string()));
                serde_json::to_vec(&json).expect("json")
            }
            None => Vec::new(),
        };
        self.raw(method, target, headers, body)
    }

    pub fn raw(
        &self,
        method: &str,
        target: &str,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> Answer {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let request = Request {
            method: method.to_string(),
            path: path.to_string(),
            query: query.to_string(),
            headers,
            body,
        };
        let ctx = Context {
            db: &self.db,
            now: *self.now.borrow(),
            auth: &self.auth,
            signing_secret: SECRET,
            traceparent: docket_http::find_header(&request.headers, "traceparent"),
        };
        let reply = todo_core::handle(&ctx, &request);
        let body = if reply.response.body.is_empty() {
            Json::Null
        } else {
            serde_json::from_slice(&reply.response.body).expect("the API answers JSON")
        };
        Answer {
            status: reply.response.status,
            headers: reply.response.headers.clone(),
            body,
            reply,
        }
    }
}
