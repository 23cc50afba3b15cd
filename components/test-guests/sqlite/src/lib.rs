//! Test guest: runs one SQL statement against a named database via spin_sdk::sqlite (v2) or sqlite3 (v3).

use guest_support::{error, hex_decode, hex_encode, json, route_path};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::{sqlite, sqlite3};

#[derive(Deserialize)]
struct Statement {
    statement: String,
    #[serde(default)]
    params: Vec<Json>,
}

/// A SQLite value independent of the interface version.
enum Value {
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Null,
}

/// Conversions between [`Value`] and each interface version's identically shaped `Value`.
macro_rules! convert_values {
    ($($versioned:path),*) => {$(
        impl From<Value> for $versioned {
            fn from(value: Value) -> Self {
                use $versioned as V;
                match value {
                    Value::Integer(i) => V::Integer(i),
                    Value::Real(r) => V::Real(r),
                    Value::Text(t) => V::Text(t),
                    Value::Blob(b) => V::Blob(b),
                    Value::Null => V::Null,
                }
            }
        }

        impl From<$versioned> for Value {
            fn from(value: $versioned) -> Self {
                use $versioned as V;
                match value {
                    V::Integer(i) => Value::Integer(i),
                    V::Real(r) => Value::Real(r),
                    V::Text(t) => Value::Text(t),
                    V::Blob(b) => Value::Blob(b),
                    V::Null => Value::Null,
                }
            }
        }
    )*};
}

convert_values!(sqlite::Value, sqlite3::Value);

impl TryFrom<&Json> for Value {
    type Error = String;

    fn try_from(json: &Json) -> Result<Self, String> {
        Ok(match json {
            Json::Null => Value::Null,
            Json::Number(n) => match n.as_i64() {
                Some(i) => Value::Integer(i),
                None => Value::Real(n.as_f64().ok_or("unrepresentable number")?),
            },
            Json::String(s) => Value::Text(s.clone()),
            Json::Object(o) => match o.get("blob") {
                Some(Json::String(hex)) if o.len() == 1 => {
                    Value::Blob(hex_decode(hex).ok_or("blob is not valid hex")?)
                }
                _ => return Err(format!("unsupported parameter {json}")),
            },
            _ => return Err(format!("unsupported parameter {json}")),
        })
    }
}

impl From<Value> for Json {
    fn from(value: Value) -> Self {
        match value {
            Value::Integer(i) => i.into(),
            Value::Real(r) => r.into(),
            Value::Text(t) => t.into(),
            Value::Blob(b) => json!({ "blob": hex_encode(&b) }),
            Value::Null => Json::Null,
        }
    }
}

/// Column names plus rows of values, as JSON.
fn result_json<V: Into<Value>>(columns: Vec<String>, rows: impl Iterator<Item = Vec<V>>) -> Json {
    let rows: Vec<Json> = rows
        .map(|row| row.into_iter().map(|v| Json::from(v.into())).collect())
        .collect();
    json!({ "columns": columns, "rows": rows })
}

fn run_v2(database: &str, statement: &str, params: Vec<Value>) -> Result<Json, sqlite::Error> {
    let conn = sqlite::Connection::open(database)?;
    let params: Vec<sqlite::Value> = params.into_iter().map(Into::into).collect();
    let result = conn.execute(statement, &params)?;
    Ok(result_json(
        result.columns,
        result.rows.into_iter().map(|r| r.values),
    ))
}

fn run_v3(database: &str, statement: &str, params: Vec<Value>) -> Result<Json, sqlite3::Error> {
    let conn = sqlite3::Connection::open(database)?;
    let params: Vec<sqlite3::Value> = params.into_iter().map(Into::into).collect();
    let result = conn.execute(statement, &params)?;
    let mut body = result_json(result.columns, result.rows.into_iter().map(|r| r.values));
    body["last_insert_rowid"] = conn.last_insert_rowid().into();
    body["changes"] = conn.changes().into();
    Ok(body)
}

#[http_component]
fn handle(req: Request) -> Response {
    let path = route_path(&req);
    let (version, database) = match path.strip_prefix('/').and_then(|p| p.split_once('/')) {
        Some((version @ ("v2" | "v3"), database)) => (version, database),
        _ => return error(404, format!("no route for {path}")),
    };
    if *req.method() != Method::Post {
        return error(405, "use POST");
    }
    let body: Statement = match serde_json::from_slice(req.body()) {
        Ok(body) => body,
        Err(e) => return error(400, format!("bad request body: {e}")),
    };
    let params = match body.params.iter().map(Value::try_from).collect() {
        Ok(params) => params,
        Err(e) => return error(400, e),
    };
    let result = if version == "v2" {
        run_v2(database, &body.statement, params).map_err(|e| format!("{e:?}"))
    } else {
        run_v3(database, &body.statement, params).map_err(|e| format!("{e:?}"))
    };
    match result {
        Ok(body) => json(200, &body),
        Err(e) => error(400, e),
    }
}
