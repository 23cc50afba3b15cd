//! A real SQLite database with the repository's migrations behind [`Db`],
//! and an [`Authenticator`] over a shared secret: what native tests of this
//! crate and of crates built on it run the API with.
#![allow(clippy::expect_used)] // test support: a database that cannot be set up ends the test

use std::path::Path;

use docket_auth::{AuthError, Claims, KeySet, verify};
use rusqlite::types::{Value, ValueRef};

use crate::Authenticator;
use crate::sql::{Cell, Db, DbError, Dialect, Query, Row, SqliteValue};

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

    /// Runs statements directly, bypassing the API.
    pub fn run(&self, sql: &str) {
        self.0.execute_batch(sql).expect("statement");
    }

    /// The first column of every row, as text.
    pub fn strings(&self, sql: &str) -> Vec<String> {
        let mut statement = self.0.prepare(sql).expect("query");
        statement
            .query_map([], |row| row.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("text values")
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

pub struct SharedSecret(pub KeySet);

impl Authenticator for SharedSecret {
    fn verify(&self, token: &str, now_unix: i64) -> Result<Claims, AuthError> {
        verify(token, &self.0, now_unix)
    }
}
