//! A real SQLite database with the repository's migrations, behind the same
//! `Db` trait the component implements, and helpers to call the API.

#![allow(dead_code)]

use std::cell::RefCell;
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use docket_auth::{AuthError, Claims, KeySet, sign_hs256, verify};
use rusqlite::types::{Value, ValueRef};
use serde_json::Value as Json;
use todo_core::http::{Reply, Request};
use todo_core::sql::{Cell, Db, DbError, Dialect, Query, Row, SqliteValue};
use todo_core::{Authenticator, Context};

pub const SECRET: &[u8] = b"a-test-secret-of-reasonable-length";

pub struct SqliteDb(rusqlite::Connection);

impl SqliteDb {
    pub fn migrated() -> Self {
        let conn = rusqlite::Connection::open_in_memory().expect("in-memory database");
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .expect("pragma");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/sqlite");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .expect("migrations folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let sql = std::fs::read_to_string(&file).expect("migration");
            conn.execute_batch(&sql).expect("migration applies");
        }
        Self(conn)
    }

    pub fn scalar(&self, sql: &str) -> i64 {
        self.0
            .query_row(sql, [], |row| row.get(0))
            .expect("scalar query")
    }
}

fn to_db_error(error: rusqlite::Error) -> DbError {
    let message = error.to_string();
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ConstraintViolation) if message.contains("UNIQUE") => {
            DbError::Unique(message)
        }
        Some(rusqlite::ErrorCode::ConstraintViolation) => DbError::Constraint(message),
        _ => DbError::Other(message),
    }
}

fn params(query: &Query) -> Vec<Value> {
    query
        .params()
        .iter()
        .map(|p| match p.sqlite_value() {
            SqliteValue::Integer(v) => Value::Integer(v),
            SqliteValue::Text(v) => Value::Text(v),
        })
        .collect()
}

impl Db for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&self, query: &Query) -> Result<Vec<Row>, DbError> {
        let mut statement = self.0.prepare(query.text()).map_err(to_db_error)?;
        let columns = statement.column_count();
        let mut rows = statement
            .query(rusqlite::params_from_iter(params(query)))
            .map_err(to_db_error)?;
        let mut out = Vec::new();
        while let Some(row) = rows.next().map_err(to_db_error)? {
            let cells = (0..columns)
                .map(|i| match row.get_ref(i) {
                    Ok(ValueRef::Integer(v)) => Cell::Int(v),
                    Ok(ValueRef::Real(v)) => Cell::Real(v),
                    Ok(ValueRef::Text(v)) => Cell::Text(String::from_utf8_lossy(v).into_owned()),
                    _ => Cell::Null,
                })
                .collect();
            out.push(Row(cells));
        }
        Ok(out)
    }

    fn execute(&self, query: &Query) -> Result<u64, DbError> {
        let mut statement = self.0.prepare(query.text()).map_err(to_db_error)?;
        let changed = statement
            .execute(rusqlite::params_from_iter(params(query)))
            .map_err(to_db_error)?;
        Ok(changed as u64)
    }
}

pub struct SharedSecret(KeySet);

impl Authenticator for SharedSecret {
    fn verify(&self, token: &str, now_unix: i64) -> Result<Claims, AuthError> {
        verify(token, &self.0, now_unix)
    }
}

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
