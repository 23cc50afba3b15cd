//! Result rows as guest values, chosen by each column's Postgres type.

use chrono::{Datelike, NaiveDateTime, Timelike};
use rust_decimal::Decimal;
use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::{Column as PgColumn, Row};

use super::pg_types::{PgRange, RawBytes};
use crate::bindings::spin::postgres4_0_0::postgres::{
    Column, DbDataType, DbValue, Error, Interval, RangeBoundKind, RowSet,
};

pub fn to_row_set(columns: &[PgColumn], rows: &[Row]) -> Result<RowSet, Error> {
    let columns: Vec<Column> = columns
        .iter()
        .map(|c| Column {
            name: c.name().to_string(),
            data_type: data_type(c.type_()),
        })
        .collect();
    let rows = rows
        .iter()
        .map(|row| (0..row.len()).map(|i| value(row, i)).collect())
        .collect::<Result<Vec<_>, _>>()?;
    Ok(RowSet { columns, rows })
}

fn data_type(ty: &Type) -> DbDataType {
    match *ty {
        Type::BOOL => DbDataType::Boolean,
        Type::CHAR => DbDataType::Int8,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => DbDataType::Str,
        Type::BYTEA => DbDataType::Binary,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::UUID => DbDataType::Uuid,
        Type::JSON | Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(ty.name().to_string()),
    }
}

fn datetime(v: NaiveDateTime) -> DbValue {
    DbValue::Datetime((
        v.year(),
        v.month() as u8,
        v.day() as u8,
        v.hour() as u8,
        v.minute() as u8,
        v.second() as u8,
        v.nanosecond(),
    ))
}

fn bound<T, U>(b: Option<(T, bool)>, convert: impl Fn(T) -> U) -> Option<(U, RangeBoundKind)> {
    b.map(|(v, inclusive)| {
        let kind = if inclusive {
            RangeBoundKind::Inclusive
        } else {
            RangeBoundKind::Exclusive
        };
        (convert(v), kind)
    })
}

type Bounds<U> = (Option<(U, RangeBoundKind)>, Option<(U, RangeBoundKind)>);

fn range<T, U>(r: PgRange<T>, convert: impl Fn(T) -> U) -> Bounds<U> {
    (bound(r.lower, &convert), bound(r.upper, &convert))
}

fn get<'a, T: FromSql<'a>>(
    row: &'a Row,
    i: usize,
    wrap: impl Fn(T) -> DbValue,
) -> Result<DbValue, tokio_postgres::Error> {
    Ok(row
        .try_get::<_, Option<T>>(i)?
        .map_or(DbValue::DbNull, wrap))
}

fn value(row: &Row, i: usize) -> Result<DbValue, Error> {
    let ty = row.columns()[i].type_().clone();
    let typed = match ty {
        Type::BOOL => get(row, i, DbValue::Boolean),
        Type::CHAR => get(row, i, DbValue::Int8),
        Type::INT2 => get(row, i, DbValue::Int16),
        Type::INT4 => get(row, i, DbValue::Int32),
        Type::INT8 => get(row, i, DbValue::Int64),
        Type::FLOAT4 => get(row, i, DbValue::Floating32),
        Type::FLOAT8 => get(row, i, DbValue::Floating64),
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME => get(row, i, DbValue::Str),
        Type::BYTEA => get(row, i, DbValue::Binary),
        Type::DATE => get(row, i, |d: chrono::NaiveDate| {
            DbValue::Date((d.year(), d.month() as u8, d.day() as u8))
        }),
        Type::TIME => get(row, i, |t: chrono::NaiveTime| {
            DbValue::Time((
                t.hour() as u8,
                t.minute() as u8,
                t.second() as u8,
                t.nanosecond(),
            ))
        }),
        Type::TIMESTAMP => get(row, i, datetime),
        Type::TIMESTAMPTZ => get(row, i, |v: chrono::DateTime<chrono::Utc>| {
            datetime(v.naive_utc())
        }),
        Type::UUID => get(row, i, |v: uuid::Uuid| DbValue::Uuid(v.to_string())),
        Type::JSON | Type::JSONB => get(row, i, |v: serde_json::Value| {
            DbValue::Jsonb(v.to_string().into_bytes())
        }),
        Type::NUMERIC => get(row, i, |v: Decimal| DbValue::Decimal(v.to_string())),
        Type::INT4_RANGE => get(row, i, |r: PgRange<i32>| {
            DbValue::RangeInt32(range(r, |v| v))
        }),
        Type::INT8_RANGE => get(row, i, |r: PgRange<i64>| {
            DbValue::RangeInt64(range(r, |v| v))
        }),
        Type::NUM_RANGE => get(row, i, |r: PgRange<Decimal>| {
            DbValue::RangeDecimal(range(r, |v| v.to_string()))
        }),
        Type::INT4_ARRAY => get(row, i, DbValue::ArrayInt32),
        Type::INT8_ARRAY => get(row, i, DbValue::ArrayInt64),
        Type::NUMERIC_ARRAY => get(row, i, |v: Vec<Option<Decimal>>| {
            DbValue::ArrayDecimal(v.into_iter().map(|d| d.map(|d| d.to_string())).collect())
        }),
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY => get(row, i, DbValue::ArrayStr),
        Type::INTERVAL => get(row, i, |v: Interval| DbValue::Interval(v)),
        _ => get(row, i, |raw: RawBytes| DbValue::Unsupported(raw.0)),
    };
    // A value the WIT types cannot express (an empty range, a date beyond
    // chrono's range) is handed over as raw bytes rather than failing the query.
    typed
        .or_else(|_| get(row, i, |raw: RawBytes| DbValue::Unsupported(raw.0)))
        .map_err(|e| Error::ValueConversionFailed(e.to_string()))
}
