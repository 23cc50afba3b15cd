//! Guest parameter values as `ToSql`, plus the Postgres wire types
//! tokio-postgres has no Rust type for here (ranges, intervals, untyped NULL).

use std::error::Error as StdError;

use bytes::{BufMut, BytesMut};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use rust_decimal::Decimal;
use tokio_postgres::types::{FromSql, IsNull, Kind, ToSql, Type, to_sql_checked};

use crate::bindings::spin::postgres4_0_0::postgres::{
    Error, Interval, ParameterValue, RangeBoundKind,
};

pub type Param = Box<dyn ToSql + Send + Sync>;
type BoxError = Box<dyn StdError + Sync + Send>;

pub fn param_refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

fn bad(message: impl Into<String>) -> Error {
    Error::BadParameter(message.into())
}

pub fn date(y: i32, m: u8, d: u8) -> Result<NaiveDate, Error> {
    NaiveDate::from_ymd_opt(y, m.into(), d.into())
        .ok_or_else(|| bad(format!("invalid date {y}-{m}-{d}")))
}

pub fn time(h: u8, m: u8, s: u8, ns: u32) -> Result<NaiveTime, Error> {
    NaiveTime::from_hms_nano_opt(h.into(), m.into(), s.into(), ns)
        .ok_or_else(|| bad(format!("invalid time {h}:{m}:{s}.{ns}")))
}

fn decimal(text: &str) -> Result<Decimal, Error> {
    text.parse()
        .map_err(|e| bad(format!("invalid decimal {text:?}: {e}")))
}

type Bound<T> = Option<(T, RangeBoundKind)>;

fn range<T, U>(
    (lower, upper): (Bound<T>, Bound<T>),
    convert: impl Fn(T) -> Result<U, Error>,
) -> Result<PgRange<U>, Error> {
    let bound = |b: Bound<T>| -> Result<Option<(U, bool)>, Error> {
        b.map(|(v, kind)| Ok((convert(v)?, kind == RangeBoundKind::Inclusive)))
            .transpose()
    };
    Ok(PgRange {
        lower: bound(lower)?,
        upper: bound(upper)?,
    })
}

/// Converts each guest value to something tokio-postgres can bind.
pub fn to_params(values: Vec<ParameterValue>) -> Result<Vec<Param>, Error> {
    values.into_iter().map(to_param).collect()
}

fn to_param(value: ParameterValue) -> Result<Param, Error> {
    use ParameterValue as P;
    Ok(match value {
        P::Boolean(v) => Box::new(v),
        P::Int8(v) => Box::new(v),
        P::Int16(v) => Box::new(v),
        P::Int32(v) => Box::new(v),
        P::Int64(v) => Box::new(v),
        P::Floating32(v) => Box::new(v),
        P::Floating64(v) => Box::new(v),
        P::Str(v) => Box::new(v),
        P::Binary(v) => Box::new(v),
        P::Date((y, m, d)) => Box::new(date(y, m, d)?),
        P::Time((h, m, s, ns)) => Box::new(time(h, m, s, ns)?),
        P::Datetime((y, mo, d, h, mi, s, ns)) => Box::new(Timestamp(NaiveDateTime::new(
            date(y, mo, d)?,
            time(h, mi, s, ns)?,
        ))),
        P::Timestamp(secs) => Box::new(Timestamp(
            chrono::DateTime::from_timestamp(secs, 0)
                .ok_or_else(|| bad(format!("timestamp {secs} out of range")))?
                .naive_utc(),
        )),
        P::Uuid(v) => Box::new(
            uuid::Uuid::parse_str(&v).map_err(|e| bad(format!("invalid uuid {v:?}: {e}")))?,
        ),
        P::Jsonb(bytes) => Box::new(
            serde_json::from_slice::<serde_json::Value>(&bytes)
                .map_err(|e| bad(format!("invalid JSON: {e}")))?,
        ),
        P::Decimal(v) => Box::new(decimal(&v)?),
        P::RangeInt32(bounds) => Box::new(range(bounds, Ok)?),
        P::RangeInt64(bounds) => Box::new(range(bounds, Ok)?),
        P::RangeDecimal(bounds) => Box::new(range(bounds, |v: String| decimal(&v))?),
        P::ArrayInt32(v) => Box::new(v),
        P::ArrayInt64(v) => Box::new(v),
        P::ArrayDecimal(v) => Box::new(
            v.into_iter()
                .map(|d| d.as_deref().map(decimal).transpose())
                .collect::<Result<Vec<_>, _>>()?,
        ),
        P::ArrayStr(v) => Box::new(v),
        P::Interval(v) => Box::new(v),
        P::DbNull => Box::new(Null),
    })
}

/// A NULL that binds to a parameter of any type.
#[derive(Debug)]
pub struct Null;

impl ToSql for Null {
    fn to_sql(&self, _: &Type, _: &mut BytesMut) -> Result<IsNull, BoxError> {
        Ok(IsNull::Yes)
    }
    fn accepts(_: &Type) -> bool {
        true
    }
    to_sql_checked!();
}

/// A UTC date-time that binds to both `timestamp` and `timestamptz`.
#[derive(Debug)]
pub struct Timestamp(pub NaiveDateTime);

impl ToSql for Timestamp {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        if *ty == Type::TIMESTAMPTZ {
            self.0.and_utc().to_sql(ty, out)
        } else {
            self.0.to_sql(ty, out)
        }
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMP || *ty == Type::TIMESTAMPTZ
    }
    to_sql_checked!();
}

impl ToSql for Interval {
    fn to_sql(&self, _: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        out.put_i64(self.micros);
        out.put_i32(self.days);
        out.put_i32(self.months);
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
    to_sql_checked!();
}

impl<'a> FromSql<'a> for Interval {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let bytes: [u8; 16] = raw.try_into().map_err(|_| "interval must be 16 bytes")?;
        let (micros, rest) = bytes.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        })
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::INTERVAL
    }
}

/// A Postgres range in its binary form; `None` bounds are infinite.
#[derive(Debug, Clone, PartialEq)]
pub struct PgRange<T> {
    pub lower: Option<(T, bool)>,
    pub upper: Option<(T, bool)>,
}

// Range flag bits from Postgres' rangetypes.h.
const RANGE_EMPTY: u8 = 0x01;
const RANGE_LB_INC: u8 = 0x02;
const RANGE_UB_INC: u8 = 0x04;
const RANGE_LB_INF: u8 = 0x08;
const RANGE_UB_INF: u8 = 0x10;

fn range_element(ty: &Type) -> Option<&Type> {
    match ty.kind() {
        Kind::Range(element) => Some(element),
        _ => None,
    }
}

impl<T: ToSql + std::fmt::Debug> ToSql for PgRange<T> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let mut flags = 0;
        flags |= match &self.lower {
            None => RANGE_LB_INF,
            Some((_, true)) => RANGE_LB_INC,
            Some(_) => 0,
        };
        flags |= match &self.upper {
            None => RANGE_UB_INF,
            Some((_, true)) => RANGE_UB_INC,
            Some(_) => 0,
        };
        out.put_u8(flags);
        for (value, _) in self.lower.iter().chain(self.upper.iter()) {
            let start = out.len();
            out.put_i32(0);
            value.to_sql(element, out)?;
            let len = i32::try_from(out.len() - start - 4)?;
            out[start..start + 4].copy_from_slice(&len.to_be_bytes());
        }
        Ok(IsNull::No)
    }
    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(|element| T::accepts(element))
    }
    to_sql_checked!();
}

impl<'a, T: FromSql<'a>> FromSql<'a> for PgRange<T> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let element = range_element(ty).ok_or("not a range type")?;
        let (&flags, mut rest) = raw.split_first().ok_or("empty range value")?;
        if flags & RANGE_EMPTY != 0 {
            // The WIT range type cannot say "empty"; the caller reports it as unsupported.
            return Err("empty range".into());
        }
        let mut read = |present: bool, inclusive: bool| -> Result<Option<(T, bool)>, BoxError> {
            if !present {
                return Ok(None);
            }
            let (len, tail) = rest.split_at_checked(4).ok_or("truncated range")?;
            let len = usize::try_from(i32::from_be_bytes(len.try_into()?))?;
            let (value, tail) = tail.split_at_checked(len).ok_or("truncated range")?;
            rest = tail;
            Ok(Some((T::from_sql(element, value)?, inclusive)))
        };
        let lower = read(flags & RANGE_LB_INF == 0, flags & RANGE_LB_INC != 0)?;
        let upper = read(flags & RANGE_UB_INF == 0, flags & RANGE_UB_INC != 0)?;
        Ok(PgRange { lower, upper })
    }
    fn accepts(ty: &Type) -> bool {
        range_element(ty).is_some_and(|element| T::accepts(element))
    }
}

/// The raw bytes of a value of any type, for `unsupported(list<u8>)`.
pub struct RawBytes(pub Vec<u8>);

impl<'a> FromSql<'a> for RawBytes {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(RawBytes(raw.to_vec()))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}
