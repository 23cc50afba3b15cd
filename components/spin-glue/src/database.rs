//! `todo_core::sql::Db` over Spin's SQLite (`default`) and PostgreSQL
//! interfaces.

use chrono::{DateTime, NaiveDate, NaiveTime, Timelike, Utc};
use spin_sdk::{pg4, sqlite};
use todo_core::sql::{Cell, Db, DbError, Dialect, Param, Query, Row, SqliteValue};

/// The database `database_url` names: empty for the embedded SQLite
/// database `default`, otherwise a `postgres://` URL.
pub fn open(database_url: &str) -> Result<Box<dyn Db>, DbError> {
    if database_url.is_empty() {
        let conn = sqlite::Connection::open("default").map_err(sqlite_error)?;
        // Spin leaves foreign keys off; the schema relies on them.
        conn.execute("PRAGMA foreign_keys = ON", &[])
            .map_err(sqlite_error)?;
        Ok(Box::new(SqliteDb(conn)))
    } else {
        let conn = pg4::Connection::open(database_url).map_err(pg_error)?;
        Ok(Box::new(PgDb(conn)))
    }
}

struct SqliteDb(sqlite::Connection);

fn sqlite_error(error: sqlite::Error) -> DbError {
    let message = format!("{error:?}");
    match error {
        sqlite::Error::Io(text) if text.contains("UNIQUE constraint") => DbError::Unique(text),
        sqlite::Error::Io(text) if text.contains("constraint failed") => DbError::Constraint(text),
        sqlite::Error::Io(text) if text.contains("database is locked") => {
            DbError::Unavailable(text)
        }
        sqlite::Error::NoSuchDatabase | sqlite::Error::AccessDenied => {
            DbError::Unavailable(message)
        }
        _ => DbError::Other(message),
    }
}

impl SqliteDb {
    fn run(&self, query: &Query) -> Result<sqlite::QueryResult, DbError> {
        let params: Vec<sqlite::Value> = query
            .params()
            .iter()
            .map(|p| match p.sqlite_value() {
                SqliteValue::Integer(v) => sqlite::Value::Integer(v),
                SqliteValue::Text(v) => sqlite::Value::Text(v),
            })
            .collect();
        self.0.execute(query.text(), &params).map_err(sqlite_error)
    }
}

impl Db for SqliteDb {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query(&self, query: &Query) -> Result<Vec<Row>, DbError> {
        let result = self.run(query)?;
        Ok(result
            .rows
            .into_iter()
            .map(|row| {
                Row(row
                    .values
                    .into_iter()
                    .map(|value| match value {
                        sqlite::Value::Integer(v) => Cell::Int(v),
                        sqlite::Value::Real(v) => Cell::Real(v),
                        sqlite::Value::Text(v) => Cell::Text(v),
                        sqlite::Value::Blob(_) | sqlite::Value::Null => Cell::Null,
                    })
                    .collect())
            })
            .collect())
    }

    fn execute(&self, query: &Query) -> Result<u64, DbError> {
        self.run(query)?;
        // The v2 interface does not report affected rows; the connection does.
        let changes = self
            .0
            .execute("SELECT changes()", &[])
            .map_err(sqlite_error)?;
        Ok(
            match changes.rows.first().and_then(|row| row.values.first()) {
                Some(sqlite::Value::Integer(n)) => u64::try_from(*n).unwrap_or(0),
                _ => 0,
            },
        )
    }
}

struct PgDb(pg4::Connection);

fn pg_error(error: pg4::PgError) -> DbError {
    match error {
        pg4::PgError::ConnectionFailed(text) => DbError::Unavailable(text),
        pg4::PgError::QueryFailed(pg4::QueryError::DbError(db)) => match db.code.as_str() {
            "23505" => DbError::Unique(db.message),
            code if code.starts_with("23") => DbError::Constraint(db.message),
            // Connection exceptions, shutdowns, too many connections.
            code if code.starts_with("08") || code.starts_with("57P") || code == "53300" => {
                DbError::Unavailable(db.message)
            }
            _ => DbError::Other(format!("{}: {}", db.code, db.message)),
        },
        other => DbError::Other(format!("{other:?}")),
    }
}

fn pg_param(param: &Param) -> pg4::ParameterValue {
    use pg4::ParameterValue as P;
    match param {
        Param::Int(v) => P::Int64(*v),
        Param::Bool(v) => P::Boolean(*v),
        Param::Text(v) => P::Str(v.clone()),
        Param::Timestamp(at) => {
            let naive = at.naive_utc();
            let (date, time) = (naive.date(), naive.time());
            P::Datetime((
                chrono::Datelike::year(&date),
                chrono::Datelike::month(&date) as u8,
                chrono::Datelike::day(&date) as u8,
                time.hour() as u8,
                time.minute() as u8,
                time.second() as u8,
                time.nanosecond(),
            ))
        }
        Param::Time(t) => P::Time((
            t.hour() as u8,
            t.minute() as u8,
            t.second() as u8,
            t.nanosecond(),
        )),
    }
}

fn pg_cell(value: pg4::DbValue) -> Result<Cell, DbError> {
    use pg4::DbValue as V;
    Ok(match value {
        V::DbNull => Cell::Null,
        V::Boolean(v) => Cell::Bool(v),
        V::Int8(v) => Cell::Int(i64::from(v)),
        V::Int16(v) => Cell::Int(i64::from(v)),
        V::Int32(v) => Cell::Int(i64::from(v)),
        V::Int64(v) => Cell::Int(v),
        V::Floating32(v) => Cell::Real(f64::from(v)),
        V::Floating64(v) => Cell::Real(v),
        V::Str(v) => Cell::Text(v),
        V::Datetime((y, mo, d, h, mi, s, ns)) => {
            let at = NaiveDate::from_ymd_opt(y, mo.into(), d.into())
                .and_then(|date| date.and_hms_nano_opt(h.into(), mi.into(), s.into(), ns))
                .ok_or_else(|| DbError::Decode("an impossible timestamp".into()))?;
            Cell::Timestamp(DateTime::<Utc>::from_naive_utc_and_offset(at, Utc))
        }
        V::Time((h, mi, s, ns)) => Cell::Time(
            NaiveTime::from_hms_nano_opt(h.into(), mi.into(), s.into(), ns)
                .ok_or_else(|| DbError::Decode("an impossible time".into()))?,
        ),
        other => {
            return Err(DbError::Decode(format!(
                "unexpected column value {other:?}"
            )));
        }
    })
}

impl Db for PgDb {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn query(&self, query: &Query) -> Result<Vec<Row>, DbError> {
        let params: Vec<_> = query.params().iter().map(pg_param).collect();
        let result = self.0.query(query.text(), &params).map_err(pg_error)?;
        result
            .rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(pg_cell)
                    .collect::<Result<Vec<_>, _>>()
                    .map(Row)
            })
            .collect()
    }

    fn execute(&self, query: &Query) -> Result<u64, DbError> {
        let params: Vec<_> = query.params().iter().map(pg_param).collect();
        self.0.execute(query.text(), &params).map_err(pg_error)
    }
}
