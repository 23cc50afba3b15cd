//! The one small database layer: queries written once, run on SQLite or
//! Postgres. Placeholders and parameter types differ between the two, so
//! statements are assembled with [`Query`], which renders each bound value the
//! way its dialect needs it.
//!
//! On Postgres every placeholder carries an explicit cast (`$1::int8`,
//! `$2::timestamp AT TIME ZONE 'UTC'`), so the parameter's type is the one the
//! component sends, whatever the column's type; hosts bind strictly by type.
//! Missing values are written as a literal `NULL` for the same reason.

use chrono::{DateTime, NaiveTime, Utc};
use std::fmt::Write;

use crate::time::{format_timestamp, parse_timestamp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A value bound to a statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    Int(i64),
    Bool(bool),
    Text(String),
    Timestamp(DateTime<Utc>),
    Time(NaiveTime),
}

impl From<i64> for Param {
    fn from(value: i64) -> Self {
        Self::Int(value)
    }
}
impl From<bool> for Param {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl From<&str> for Param {
    fn from(value: &str) -> Self {
        Self::Text(value.to_string())
    }
}
impl From<String> for Param {
    fn from(value: String) -> Self {
        Self::Text(value)
    }
}
impl From<&String> for Param {
    fn from(value: &String) -> Self {
        Self::Text(value.clone())
    }
}
impl From<DateTime<Utc>> for Param {
    fn from(value: DateTime<Utc>) -> Self {
        Self::Timestamp(value)
    }
}
impl From<NaiveTime> for Param {
    fn from(value: NaiveTime) -> Self {
        Self::Time(value)
    }
}

/// How SQLite stores a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqliteValue {
    Integer(i64),
    Text(String),
}

impl Param {
    /// Booleans as 0/1, timestamps as RFC 3339 text with milliseconds (which
    /// sorts as time does), times of day as `HH:MM`.
    pub fn sqlite_value(&self) -> SqliteValue {
        match self {
            Self::Int(v) => SqliteValue::Integer(*v),
            Self::Bool(v) => SqliteValue::Integer(i64::from(*v)),
            Self::Text(v) => SqliteValue::Text(v.clone()),
            Self::Timestamp(v) => SqliteValue::Text(format_timestamp(*v)),
            Self::Time(v) => SqliteValue::Text(v.format("%H:%M").to_string()),
        }
    }
}

/// A statement being assembled: SQL text plus the values its placeholders refer to.
#[derive(Debug, Clone)]
pub struct Query {
    dialect: Dialect,
    sql: String,
    params: Vec<Param>,
}

impl Query {
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            sql: String::new(),
            params: Vec::new(),
        }
    }

    /// Appends SQL text as is.
    pub fn sql(mut self, text: &str) -> Self {
        self.sql.push_str(text);
        self
    }

    /// Appends a placeholder for `value`, or `NULL` when there is none.
    pub fn bind(mut self, value: impl Into<Option<Param>>) -> Self {
        self.push_bind(value.into());
        self
    }

    pub fn push_sql(&mut self, text: &str) {
        self.sql.push_str(text);
    }

    pub fn push_bind(&mut self, value: Option<Param>) {
        let Some(value) = value else {
            self.sql.push_str("NULL");
            return;
        };
        let n = self.params.len() + 1;
        let _ = match (self.dialect, &value) {
            (Dialect::Sqlite, _) => write!(self.sql, "?{n}"),
            (Dialect::Postgres, Param::Int(_)) => write!(self.sql, "${n}::int8"),
            (Dialect::Postgres, Param::Bool(_)) => write!(self.sql, "${n}::bool"),
            (Dialect::Postgres, Param::Text(_)) => write!(self.sql, "${n}::text"),
            (Dialect::Postgres, Param::Timestamp(_)) => {
                write!(self.sql, "(${n}::timestamp AT TIME ZONE 'UTC')")
            }
            (Dialect::Postgres, Param::Time(_)) => write!(self.sql, "${n}::time"),
        };
        self.params.push(value);
    }

    /// Appends `a, b, c` placeholders for a list.
    pub fn push_list(&mut self, values: impl IntoIterator<Item = Param>) {
        for (i, value) in values.into_iter().enumerate() {
            if i > 0 {
                self.sql.push_str(", ");
            }
            self.push_bind(Some(value));
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    pub fn text(&self) -> &str {
        &self.sql
    }

    pub fn params(&self) -> &[Param] {
        &self.params
    }
}

/// A value read back from a row, whichever backend produced it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Bool(bool),
    Text(String),
    Timestamp(DateTime<Utc>),
    Time(NaiveTime),
}

/// One result row. The accessors convert between the two backends'
/// representations (SQLite keeps booleans as 0/1 and timestamps as text).
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub Vec<Cell>);

impl Row {
    fn cell(&self, index: usize) -> Result<&Cell, DbError> {
        self.0
            .get(index)
            .ok_or_else(|| DbError::Decode(format!("no column {index}")))
    }

    pub fn int(&self, index: usize) -> Result<i64, DbError> {
        self.opt_int(index)?
            .ok_or_else(|| DbError::Decode(format!("column {index} is NULL")))
    }

    pub fn opt_int(&self, index: usize) -> Result<Option<i64>, DbError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Int(v) => Ok(Some(*v)),
            other => Err(mismatch(index, "an integer", other)),
        }
    }

    pub fn bool(&self, index: usize) -> Result<bool, DbError> {
        match self.cell(index)? {
            Cell::Bool(v) => Ok(*v),
            Cell::Int(v) => Ok(*v != 0),
            other => Err(mismatch(index, "a boolean", other)),
        }
    }

    pub fn text(&self, index: usize) -> Result<String, DbError> {
        self.opt_text(index)?
            .ok_or_else(|| DbError::Decode(format!("column {index} is NULL")))
    }

    pub fn opt_text(&self, index: usize) -> Result<Option<String>, DbError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Text(v) => Ok(Some(v.clone())),
            other => Err(mismatch(index, "text", other)),
        }
    }

    pub fn timestamp(&self, index: usize) -> Result<DateTime<Utc>, DbError> {
        self.opt_timestamp(index)?
            .ok_or_else(|| DbError::Decode(format!("column {index} is NULL")))
    }

    pub fn opt_timestamp(&self, index: usize) -> Result<Option<DateTime<Utc>>, DbError> {
        match self.cell(index)? {
            Cell::Null => Ok(None),
            Cell::Timestamp(v) => Ok(Some(*v)),
            Cell::Text(v) => parse_timestamp(v)
                .map(Some)
                .ok_or_else(|| DbError::Decode(format!("column {index}: bad timestamp {v:?}"))),
            other => Err(mismatch(index, "a timestamp", other)),
        }
    }

    /// A timestamp in the API's text form.
    pub fn opt_timestamp_text(&self, index: usize) -> Result<Option<String>, DbError> {
        Ok(self.opt_timestamp(index)?.map(format_timestamp))
    }

    pub fn time(&self, index: usize) -> Result<NaiveTime, DbError> {
        match self.cell(index)? {
            Cell::Time(v) => Ok(*v),
            Cell::Text(v) => NaiveTime::parse_from_str(v, "%H:%M")
                .or_else(|_| NaiveTime::parse_from_str(v, "%H:%M:%S"))
                .map_err(|_| DbError::Decode(format!("column {index}: bad time {v:?}"))),
            other => Err(mismatch(index, "a time", other)),
        }
    }
}

fn mismatch(index: usize, wanted: &str, got: &Cell) -> DbError {
    DbError::Decode(format!("column {index}: expected {wanted}, got {got:?}"))
}

#[derive(Debug, Clone, PartialEq)]
pub enum DbError {
    /// A UNIQUE constraint refused the write.
    Unique(String),
    /// A FOREIGN KEY or CHECK constraint refused the write.
    Constraint(String),
    /// The database could not be reached.
    Unavailable(String),
    /// A value came back in a shape the code did not expect.
    Decode(String),
    Other(String),
}

impl std::fmt::Display for DbError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unique(m) => write!(f, "unique constraint: {m}"),
            Self::Constraint(m) => write!(f, "constraint: {m}"),
            Self::Unavailable(m) => write!(f, "database unavailable: {m}"),
            Self::Decode(m) => write!(f, "decoding a row: {m}"),
            Self::Other(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for DbError {}

/// A database connection, as the component's host provides it.
pub trait Db {
    fn dialect(&self) -> Dialect;
    fn query(&self, query: &Query) -> Result<Vec<Row>, DbError>;
    fn execute(&self, query: &Query) -> Result<u64, DbError>;

    fn q(&self) -> Query {
        Query::new(self.dialect())
    }
}

/// Runs `prefix (id, id, ...) suffix` for `ids`; no query and no rows when
/// there are no ids.
pub fn rows_for_ids(
    db: &dyn Db,
    prefix: &str,
    ids: impl IntoIterator<Item = i64>,
    suffix: &str,
) -> Result<Vec<Row>, DbError> {
    let mut query = db.q().sql(prefix);
    let mut any = false;
    query.push_list(ids.into_iter().map(|id| {
        any = true;
        Param::Int(id)
    }));
    if !any {
        return Ok(Vec::new());
    }
    query.push_sql(suffix);
    db.query(&query)
}

/// Inserts `(owner, tag)` rows into a link table such as `task_tags`.
pub fn insert_tag_links(
    db: &dyn Db,
    table: &'static str,
    owner_column: &'static str,
    owner_id: i64,
    tag_ids: &[i64],
) -> Result<(), DbError> {
    for tag_id in tag_ids {
        db.execute(
            &db.q()
                .sql(&format!(
                    "INSERT INTO {table} ({owner_column}, tag_id) VALUES ("
                ))
                .bind(Param::Int(owner_id))
                .sql(", ")
                .bind(Param::Int(*tag_id))
                .sql(") ON CONFLICT DO NOTHING"),
        )?;
    }
    Ok(())
}

/// Whether a query that returned `rows` rows hit its `LIMIT`, so more rows
/// may be waiting for the next batch.
pub fn filled_limit(rows: usize, limit: i64) -> bool {
    i64::try_from(rows).unwrap_or(i64::MAX) >= limit
}

/// Runs `work` in a transaction: commits when it returns `Ok`, rolls back
/// otherwise (including on a failed commit), so a connection never goes back
/// to a pool with a transaction open.
pub fn transaction<T, E: From<DbError>>(
    db: &dyn Db,
    work: impl FnOnce(&dyn Db) -> Result<T, E>,
) -> Result<T, E> {
    let begin = match db.dialect() {
        // IMMEDIATE takes the write lock up front, so two writers queue on the
        // busy timeout instead of failing when both try to upgrade.
        Dialect::Sqlite => "BEGIN IMMEDIATE",
        Dialect::Postgres => "BEGIN",
    };
    db.execute(&db.q().sql(begin))?;
    let outcome = work(db).and_then(|value| {
        db.execute(&db.q().sql("COMMIT"))?;
        Ok(value)
    });
    if outcome.is_err() {
        let _ = db.execute(&db.q().sql("ROLLBACK"));
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_uses_numbered_question_marks() {
        let q = Query::new(Dialect::Sqlite)
            .sql("SELECT * FROM t WHERE a = ")
            .bind(Param::Int(1))
            .sql(" AND b = ")
            .bind(Param::from("x"));
        assert_eq!(q.text(), "SELECT * FROM t WHERE a = ?1 AND b = ?2");
        assert_eq!(q.params().len(), 2);
    }

    #[test]
    fn postgres_casts_every_placeholder_and_inlines_null() {
        let now = Utc::now();
        let q = Query::new(Dialect::Postgres)
            .sql("VALUES (")
            .bind(Param::Int(1))
            .sql(", ")
            .bind(None)
            .sql(", ")
            .bind(Param::Timestamp(now))
            .sql(")");
        assert_eq!(
            q.text(),
            "VALUES ($1::int8, NULL, ($2::timestamp AT TIME ZONE 'UTC'))"
        );
        assert_eq!(q.params(), &[Param::Int(1), Param::Timestamp(now)]);
    }

    #[test]
    fn rows_read_sqlite_and_postgres_shapes_alike() {
        let ts = parse_timestamp("2026-01-02T03:04:05.678Z").unwrap();
        let sqlite = Row(vec![
            Cell::Int(1),
            Cell::Text("2026-01-02T03:04:05.678Z".into()),
        ]);
        let postgres = Row(vec![Cell::Bool(true), Cell::Timestamp(ts)]);
        assert!(sqlite.bool(0).unwrap());
        assert!(postgres.bool(0).unwrap());
        assert_eq!(sqlite.timestamp(1).unwrap(), ts);
        assert_eq!(postgres.timestamp(1).unwrap(), ts);
        assert!(matches!(sqlite.int(1), Err(DbError::Decode(_))));
        assert!(matches!(sqlite.int(9), Err(DbError::Decode(_))));
    }
}
