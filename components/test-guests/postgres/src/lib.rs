//! Test guest: runs one query or statement against PostgreSQL via spin_sdk::pg3 (`/v3`) or pg4 (`/v4`).

use guest_support::{error, hex_decode, json, route_path};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value as Json, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::{pg3, pg4};
use std::fmt::Debug;

#[derive(Deserialize)]
struct Statement {
    address: String,
    statement: String,
    #[serde(default)]
    params: Vec<Param>,
    #[serde(default)]
    mode: Mode,
}

#[derive(Deserialize)]
struct Param {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    value: Json,
}

#[derive(Deserialize, Default, Clone, Copy)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Query,
    Execute,
}

/// Deserializes a parameter's JSON value into the Rust type its variant carries.
fn de<T: DeserializeOwned>(param: &Param) -> Result<T, String> {
    T::deserialize(&param.value).map_err(|e| format!("bad {} value: {e}", param.kind))
}

fn binary(param: &Param) -> Result<Vec<u8>, String> {
    hex_decode(&de::<String>(param)?).ok_or_else(|| format!("bad {} value: not hex", param.kind))
}

/// The parameter variants shared by both interface versions; `$pg` is the module.
macro_rules! common_param {
    ($pg:ident, $param:expr) => {{
        use $pg::ParameterValue as P;
        let param: &Param = $param;
        Ok(match param.kind.as_str() {
            "boolean" => P::Boolean(de(param)?),
            "int8" => P::Int8(de(param)?),
            "int16" => P::Int16(de(param)?),
            "int32" => P::Int32(de(param)?),
            "int64" => P::Int64(de(param)?),
            "floating32" => P::Floating32(de(param)?),
            "floating64" => P::Floating64(de(param)?),
            "str" => P::Str(de(param)?),
            "binary" => P::Binary(binary(param)?),
            "date" => P::Date(de(param)?),
            "time" => P::Time(de(param)?),
            "datetime" => P::Datetime(de(param)?),
            "timestamp" => P::Timestamp(de(param)?),
            "db_null" => P::DbNull,
            other => return Err(format!("unknown parameter type {other:?}")),
        })
    }};
}

fn v3_param(param: &Param) -> Result<pg3::ParameterValue, String> {
    common_param!(pg3, param)
}

fn v4_param(param: &Param) -> Result<pg4::ParameterValue, String> {
    use pg4::ParameterValue as P;
    Ok(match param.kind.as_str() {
        "uuid" => P::Uuid(de(param)?),
        "jsonb" => P::Jsonb(param.value.to_string().into_bytes()),
        "decimal" => P::Decimal(de(param)?),
        "range_int32" => P::RangeInt32(range(param)?),
        "range_int64" => P::RangeInt64(range(param)?),
        "range_decimal" => P::RangeDecimal(range(param)?),
        "array_int32" => P::ArrayInt32(de(param)?),
        "array_int64" => P::ArrayInt64(de(param)?),
        "array_decimal" => P::ArrayDecimal(de(param)?),
        "array_str" => P::ArrayStr(de(param)?),
        "interval" => {
            let i: Interval = de(param)?;
            P::Interval(pg4::Interval {
                micros: i.micros,
                days: i.days,
                months: i.months,
            })
        }
        _ => return common_param!(pg4, param),
    })
}

#[derive(Deserialize)]
struct Interval {
    micros: i64,
    days: i32,
    months: i32,
}

type Bound<T> = Option<(T, pg4::RangeBoundKind)>;

/// A range given as `[lower, upper]`, each `null` or `[value, "inclusive" | "exclusive"]`.
fn range<T: DeserializeOwned>(param: &Param) -> Result<(Bound<T>, Bound<T>), String> {
    let bound = |raw: Option<(T, String)>| match raw {
        None => Ok(None),
        Some((value, kind)) => match kind.as_str() {
            "inclusive" => Ok(Some((value, pg4::RangeBoundKind::Inclusive))),
            "exclusive" => Ok(Some((value, pg4::RangeBoundKind::Exclusive))),
            other => Err(format!("bad range bound kind {other:?}")),
        },
    };
    let (lower, upper) = de(param)?;
    Ok((bound(lower)?, bound(upper)?))
}

/// A row set as JSON, with every column type and value given as its Debug text.
fn row_set_json<T: Debug, V: Debug>(columns: Vec<(String, T)>, rows: Vec<Vec<V>>) -> Json {
    let columns: Vec<Json> = columns
        .into_iter()
        .map(|(name, data_type)| json!({ "name": name, "type": format!("{data_type:?}") }))
        .collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|v| format!("{v:?}")).collect())
        .collect();
    json!({ "columns": columns, "rows": rows })
}

/// Runs the statement with one interface version; `$pg` is the module, `$param` its parameter converter.
macro_rules! run {
    ($pg:ident, $param:ident, $stmt:expr) => {{
        let stmt: &Statement = $stmt;
        let params = stmt.params.iter().map($param).collect::<Result<Vec<_>, _>>()?;
        let conn = $pg::Connection::open(&stmt.address).map_err(|e| format!("{e:?}"))?;
        match stmt.mode {
            Mode::Query => conn.query(&stmt.statement, &params).map(|set| {
                let columns = set.columns.into_iter().map(|c| (c.name, c.data_type));
                row_set_json(columns.collect(), set.rows)
            }),
            Mode::Execute => conn
                .execute(&stmt.statement, &params)
                .map(|affected| json!({ "affected": affected })),
        }
        .map_err(|e| format!("{e:?}"))
    }};
}

fn run_v3(stmt: &Statement) -> Result<Json, String> {
    run!(pg3, v3_param, stmt)
}

fn run_v4(stmt: &Statement) -> Result<Json, String> {
    run!(pg4, v4_param, stmt)
}

#[http_component]
fn handle(req: Request) -> Response {
    let run = match route_path(&req) {
        "/v3" => run_v3,
        "/v4" => run_v4,
        other => return error(404, format!("no route for {other}")),
    };
    if *req.method() != Method::Post {
        return error(405, "use POST");
    }
    let stmt: Statement = match serde_json::from_slice(req.body()) {
        Ok(stmt) => stmt,
        Err(e) => return error(400, format!("bad request body: {e}")),
    };
    match run(&stmt) {
        Ok(body) => json(200, &body),
        Err(e) => error(400, e),
    }
}
