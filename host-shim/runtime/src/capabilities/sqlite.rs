//! SQLite databases: `fermyon:spin/sqlite@2.0.0` and `spin:sqlite/sqlite@3.0.0`.
//! A component may open only the labels in its `sqlite_databases`; each label
//! is a file under the data dir unless the runtime config points elsewhere.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use std::time::Duration;

use anyhow::Context;
use rusqlite::types::ValueRef;
use tokio::sync::OwnedSemaphorePermit;
use wasmtime::component::Resource;

use super::sqlite_pool::{PooledConnection, SqlitePool};
use crate::state::HostState;

/// Every database the app's components may open, keyed by label.
pub struct SqliteDatabases {
    pools: HashMap<String, Arc<SqlitePool>>,
}

impl SqliteDatabases {
    /// Opens every label some component lists, so a bad path fails startup.
    pub fn open<'a>(
        labels: impl IntoIterator<Item = &'a String>,
        data_dir: &std::path::Path,
        configured: &BTreeMap<String, PathBuf>,
    ) -> anyhow::Result<Self> {
        let mut pools = HashMap::new();
        for label in labels {
            if pools.contains_key(label) {
                continue;
            }
            let path = configured
                .get(label)
                .cloned()
                .unwrap_or_else(|| data_dir.join("sqlite").join(format!("{label}.db")));
            let pool = SqlitePool::open(&path, "")
                .with_context(|| format!("failed to open sqlite database `{label}`"))?;
            pools.insert(label.clone(), pool);
        }
        Ok(Self { pools })
    }

    pub fn get(&self, label: &str) -> Option<&Arc<SqlitePool>> {
        self.pools.get(label)
    }
}

/// How long a statement waits for its turn to write before it fails as
/// SQLite's own busy timeout would.
const WRITE_WAIT: Duration = Duration::from_secs(10);

/// The host side of a guest's `connection` resource.
pub struct ConnectionHandle {
    pool: Arc<SqlitePool>,
    conn: Option<PooledConnection>,
    /// Held from the first write until the connection is back in autocommit
    /// (the transaction committed or rolled back).
    write_turn: Option<OwnedSemaphorePermit>,
    last_insert_rowid: i64,
    changes: u64,
}

/// Whether a statement may write (or, for `BEGIN IMMEDIATE`/`EXCLUSIVE`,
/// takes the write lock up front). Anything not known to be a read counts.
fn may_write(statement: &str) -> bool {
    let mut words = statement
        .split(|c: char| c.is_whitespace() || c == ';' || c == '(')
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_uppercase);
    match words.next().as_deref() {
        Some("SELECT" | "COMMIT" | "END" | "ROLLBACK" | "EXPLAIN" | "PRAGMA" | "RELEASE")
        | None => false,
        Some("BEGIN") => matches!(words.next().as_deref(), Some("IMMEDIATE" | "EXCLUSIVE")),
        _ => true,
    }
}

/// A value in either interface version.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SqlError {
    NoSuchDatabase,
    AccessDenied,
    InvalidConnection,
    DatabaseFull,
    Io(String),
}

pub struct QueryOutput {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<SqlValue>>,
}

impl rusqlite::ToSql for SqlValue {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value};
        Ok(match self {
            SqlValue::Integer(v) => ToSqlOutput::Owned(Value::Integer(*v)),
            SqlValue::Real(v) => ToSqlOutput::Owned(Value::Real(*v)),
            SqlValue::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            SqlValue::Blob(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            SqlValue::Null => ToSqlOutput::Owned(Value::Null),
        })
    }
}

fn read_value(value: ValueRef<'_>) -> SqlValue {
    match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(v) => SqlValue::Integer(v),
        ValueRef::Real(v) => SqlValue::Real(v),
        ValueRef::Text(v) => SqlValue::Text(String::from_utf8_lossy(v).into_owned()),
        ValueRef::Blob(v) => SqlValue::Blob(v.to_vec()),
    }
}

fn sql_error(err: rusqlite::Error) -> SqlError {
    match err.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DiskFull) => SqlError::DatabaseFull,
        _ => SqlError::Io(err.to_string()),
    }
}

/// Runs one statement with positional parameters and collects all rows.
fn execute(
    conn: &mut rusqlite::Connection,
    statement: &str,
    params: &[SqlValue],
) -> Result<QueryOutput, SqlError> {
    let mut stmt = conn.prepare_cached(statement).map_err(sql_error)?;
    let columns: Vec<String> = stmt.column_names().into_iter().map(String::from).collect();
    let mut rows = Vec::new();
    let mut cursor = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(sql_error)?;
    while let Some(row) = cursor.next().map_err(sql_error)? {
        let values = (0..columns.len())
            .map(|i| row.get_ref(i).map(read_value))
            .collect::<Result<Vec<_>, _>>()
            .map_err(sql_error)?;
        rows.push(values);
    }
    Ok(QueryOutput { columns, rows })
}

impl HostState {
    fn sqlite_open(
        &mut self,
        label: &str,
    ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, SqlError>> {
        if !self.component.sqlite_databases.iter().any(|l| l == label) {
            return Ok(Err(SqlError::AccessDenied));
        }
        let Some(pool) = self.services.sqlite.get(label) else {
            return Ok(Err(SqlError::NoSuchDatabase));
        };
        let conn = match pool.get() {
            Ok(conn) => conn,
            Err(e) => return Ok(Err(SqlError::Io(format!("{e:#}")))),
        };
        let handle = ConnectionHandle {
            pool: pool.clone(),
            conn: Some(conn),
            write_turn: None,
            last_insert_rowid: 0,
            changes: 0,
        };
        Ok(Ok(self.table.push(handle)?))
    }

    async fn sqlite_execute(
        &mut self,
        handle: &Resource<ConnectionHandle>,
        statement: String,
        params: Vec<SqlValue>,
    ) -> wasmtime::Result<Result<QueryOutput, SqlError>> {
        let entry = self.table.get_mut(handle)?;
        let Some(mut conn) = entry.conn.take() else {
            return Ok(Err(SqlError::InvalidConnection));
        };
        let mut write_turn = entry.write_turn.take();
        if write_turn.is_none() && may_write(&statement) {
            let pool = entry.pool.clone();
            write_turn = pool.write_turn(WRITE_WAIT).await;
            if write_turn.is_none() {
                self.table.get_mut(handle)?.conn = Some(conn);
                return Ok(Err(SqlError::Io(
                    "database is locked: no turn to write within 10 s".into(),
                )));
            }
        }
        let (conn, result, rowid, changes, in_transaction) =
            tokio::task::spawn_blocking(move || {
                let db = conn.connection();
                let result = execute(db, &statement, &params);
                let (rowid, changes) = (db.last_insert_rowid(), db.changes());
                let in_transaction = !db.is_autocommit();
                (conn, result, rowid, changes, in_transaction)
            })
            .await?;
        let entry = self.table.get_mut(handle)?;
        entry.conn = Some(conn);
        entry.write_turn = write_turn.filter(|_| in_transaction);
        entry.last_insert_rowid = rowid;
        entry.changes = changes;
        Ok(result)
    }

    fn sqlite_stats(&self, handle: &Resource<ConnectionHandle>) -> wasmtime::Result<(i64, u64)> {
        let entry = self.table.get(handle)?;
        Ok((entry.last_insert_rowid, entry.changes))
    }
}

/// Both interface versions share types of the same shape; this implements
/// one version's host traits over the version-neutral code above.
macro_rules! sqlite_interface {
    ($module:path, { $($extra:tt)* }) => {
        const _: () = {
            use $module as wit;

            impl From<wit::Value> for SqlValue {
                fn from(value: wit::Value) -> Self {
                    match value {
                        wit::Value::Integer(v) => SqlValue::Integer(v),
                        wit::Value::Real(v) => SqlValue::Real(v),
                        wit::Value::Text(v) => SqlValue::Text(v),
                        wit::Value::Blob(v) => SqlValue::Blob(v),
                        wit::Value::Null => SqlValue::Null,
                    }
                }
            }

            impl From<SqlValue> for wit::Value {
                fn from(value: SqlValue) -> Self {
                    match value {
                        SqlValue::Integer(v) => wit::Value::Integer(v),
                        SqlValue::Real(v) => wit::Value::Real(v),
                        SqlValue::Text(v) => wit::Value::Text(v),
                        SqlValue::Blob(v) => wit::Value::Blob(v),
                        SqlValue::Null => wit::Value::Null,
                    }
                }
            }

            impl From<SqlError> for wit::Error {
                fn from(err: SqlError) -> Self {
                    match err {
                        SqlError::NoSuchDatabase => wit::Error::NoSuchDatabase,
                        SqlError::AccessDenied => wit::Error::AccessDenied,
                        SqlError::InvalidConnection => wit::Error::InvalidConnection,
                        SqlError::DatabaseFull => wit::Error::DatabaseFull,
                        SqlError::Io(message) => wit::Error::Io(message),
                    }
                }
            }

            impl From<QueryOutput> for wit::QueryResult {
                fn from(output: QueryOutput) -> Self {
                    wit::QueryResult {
                        columns: output.columns,
                        rows: output
                            .rows
                            .into_iter()
                            .map(|row| wit::RowResult {
                                values: row.into_iter().map(Into::into).collect(),
                            })
                            .collect(),
                    }
                }
            }

            impl wit::Host for HostState {}

            impl wit::HostConnection for HostState {
                async fn open(
                    &mut self,
                    database: String,
                ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, wit::Error>> {
                    Ok(self.sqlite_open(&database)?.map_err(Into::into))
                }

                async fn execute(
                    &mut self,
                    handle: Resource<ConnectionHandle>,
                    statement: String,
                    parameters: Vec<wit::Value>,
                ) -> wasmtime::Result<Result<wit::QueryResult, wit::Error>> {
                    let params = parameters.into_iter().map(Into::into).collect();
                    Ok(self
                        .sqlite_execute(&handle, statement, params)
                        .await?
                        .map(Into::into)
                        .map_err(Into::into))
                }

                $($extra)*

                async fn drop(&mut self, handle: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
                    self.table.delete(handle)?;
                    Ok(())
                }
            }
        };
    };
}

sqlite_interface!(crate::bindings::fermyon::spin::sqlite, {});

sqlite_interface!(crate::bindings::spin::sqlite::sqlite, {
    async fn last_insert_rowid(
        &mut self,
        handle: Resource<ConnectionHandle>,
    ) -> wasmtime::Result<i64> {
        Ok(self.sqlite_stats(&handle)?.0)
    }

    async fn changes(&mut self, handle: Resource<ConnectionHandle>) -> wasmtime::Result<u64> {
        Ok(self.sqlite_stats(&handle)?.1)
    }
});

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_write_locking_begins_take_the_writer_turn() {
        for statement in [
            "INSERT INTO t VALUES (1)",
            "  update t SET a = 1",
            "DELETE FROM t",
            "BEGIN IMMEDIATE",
            "begin exclusive transaction",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            "CREATE TABLE u (a)",
        ] {
            assert!(may_write(statement), "{statement}");
        }
        for statement in [
            "SELECT 1",
            "select changes()",
            "BEGIN",
            "BEGIN DEFERRED",
            "COMMIT",
            "ROLLBACK",
            "PRAGMA foreign_keys = ON",
            "",
        ] {
            assert!(!may_write(statement), "{statement}");
        }
    }

    #[test]
    fn round_trips_every_value_type() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        execute(
            &mut conn,
            "CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)",
            &[],
        )
        .unwrap();
        let values = vec![
            SqlValue::Integer(-7),
            SqlValue::Real(1.5),
            SqlValue::Text("it's; DROP TABLE t; --".into()),
            SqlValue::Blob(vec![0, 255]),
            SqlValue::Null,
        ];
        execute(&mut conn, "INSERT INTO t VALUES (?, ?, ?, ?, ?)", &values).unwrap();
        let out = execute(&mut conn, "SELECT * FROM t", &[]).unwrap();
        assert_eq!(out.columns, ["i", "r", "s", "b", "n"]);
        assert_eq!(out.rows, vec![values]);
    }

    #[test]
    fn reports_sql_errors_as_io() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        let err = execute(&mut conn, "SELEC nonsense", &[]).err().unwrap();
        assert!(matches!(err, SqlError::Io(message) if message.contains("syntax error")));
    }
}
