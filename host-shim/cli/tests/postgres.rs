//! PostgreSQL through pg3 and pg4 against the real local server, in a
//! database of the test's own: every value type, NULLs, errors, denied hosts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::{Docket, TestDatabase as Database, component, manifest};

const SERVER: &str = "127.0.0.1:5432";

fn app() -> Docket {
    Docket::start(&manifest(&component(
        "pg",
        "/...",
        "postgres",
        &format!("allowed_outbound_hosts = [\"postgres://{SERVER}\"]"),
    )))
}

fn run(
    app: &Docket,
    version: &str,
    db: &Database,
    mode: &str,
    statement: &str,
    params: Value,
) -> support::Reply {
    app.post_json(
        &format!("/{version}"),
        &json!({"address": db.address(), "statement": statement, "params": params, "mode": mode}),
    )
}

fn query(app: &Docket, version: &str, db: &Database, statement: &str, params: Value) -> Value {
    let reply = run(app, version, db, "query", statement, params);
    assert_eq!(reply.status, 200, "{statement}: {}", reply.body);
    reply.json()
}

fn execute(app: &Docket, version: &str, db: &Database, statement: &str, params: Value) -> u64 {
    let reply = run(app, version, db, "execute", statement, params);
    assert_eq!(reply.status, 200, "{statement}: {}", reply.body);
    reply.json()["affected"].as_u64().unwrap()
}

fn values(row: &Value) -> Vec<String> {
    row.as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn pg4_round_trips_every_value_type() {
    let db = Database::create("pg4");
    let app = app();
    execute(
        &app,
        "v4",
        &db,
        "CREATE TABLE everything (b BOOL, c \"char\", i2 INT2, i4 INT4, i8 INT8, f4 FLOAT4, f8 FLOAT8, \
         t TEXT, bin BYTEA, d DATE, tm TIME, ts TIMESTAMP, tstz TIMESTAMPTZ, u UUID, j JSONB, n NUMERIC, \
         r4 INT4RANGE, r8 INT8RANGE, rn NUMRANGE, a4 INT4[], a8 INT8[], an NUMERIC[], at TEXT[], iv INTERVAL)",
        json!([]),
    );
    let params = json!([
        {"type": "boolean", "value": true},
        {"type": "int8", "value": -8},
        {"type": "int16", "value": -16},
        {"type": "int32", "value": 32},
        {"type": "int64", "value": 6400000000i64},
        {"type": "floating32", "value": 1.5},
        {"type": "floating64", "value": -2.25},
        {"type": "str", "value": "O'Brien; DROP TABLE everything; --"},
        {"type": "binary", "value": "00ff7f"},
        {"type": "date", "value": [2026, 2, 28]},
        {"type": "time", "value": [9, 30, 15, 500_000]},
        {"type": "datetime", "value": [2026, 11, 28, 13, 5, 7, 0]},
        {"type": "timestamp", "value": 1_800_000_000},
        {"type": "uuid", "value": "6f1c5f5e-62f3-4b1f-9f58-3f2b4c8d9e01"},
        {"type": "jsonb", "value": {"tags": ["a", "b"], "n": 1}},
        {"type": "decimal", "value": "12345.6789"},
        {"type": "range_int32", "value": [[1, "inclusive"], [10, "exclusive"]]},
        {"type": "range_int64", "value": [[5, "inclusive"], null]},
        {"type": "range_decimal", "value": [null, ["2.5", "inclusive"]]},
        {"type": "array_int32", "value": [1, null, 3]},
        {"type": "array_int64", "value": [9000000000i64]},
        {"type": "array_decimal", "value": ["1.10", null]},
        {"type": "array_str", "value": ["x", null, "z"]},
        {"type": "interval", "value": {"micros": 1_500_000, "days": 2, "months": 3}}
    ]);
    let placeholders: Vec<String> = (1..=24).map(|i| format!("${i}")).collect();
    let inserted = execute(
        &app,
        "v4",
        &db,
        &format!(
            "INSERT INTO everything VALUES ({})",
            placeholders.join(", ")
        ),
        params,
    );
    assert_eq!(inserted, 1);

    let result = query(&app, "v4", &db, "SELECT * FROM everything", json!([]));
    let types: Vec<String> = result["columns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["type"].as_str().unwrap().to_string())
        .collect();
    for (i, expected) in [
        "Boolean",
        "Int8",
        "Int16",
        "Int32",
        "Int64",
        "Floating32",
        "Floating64",
        "Str",
        "Binary",
        "Date",
        "Time",
        "Datetime",
        "Datetime",
        "Uuid",
        "Jsonb",
        "Decimal",
        "RangeInt32",
        "RangeInt64",
        "RangeDecimal",
        "ArrayInt32",
        "ArrayInt64",
        "ArrayDecimal",
        "ArrayStr",
        "Interval",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            types[i].ends_with(expected),
            "column {i}: {} is not {expected}",
            types[i]
        );
    }
    let row = values(&result["rows"][0]);
    let expected = [
        "Boolean(true)",
        "Int8(-8)",
        "Int16(-16)",
        "Int32(32)",
        "Int64(6400000000)",
        "Floating32(1.5)",
        "Floating64(-2.25)",
        "Str(\"O'Brien; DROP TABLE everything; --\")",
        "Binary([0, 255, 127])",
        "Date((2026, 2, 28))",
        "Time((9, 30, 15, 500000))",
        "Datetime((2026, 11, 28, 13, 5, 7, 0))",
        "Datetime((2027, 1, 15, 8, 0, 0, 0))",
        "Uuid(\"6f1c5f5e-62f3-4b1f-9f58-3f2b4c8d9e01\")",
        "Decimal(\"12345.6789\")",
        "RangeInt32((Some((1, RangeBoundKind::Inclusive)), Some((10, RangeBoundKind::Exclusive))))",
        "RangeInt64((Some((5, RangeBoundKind::Inclusive)), None))",
        "RangeDecimal((None, Some((\"2.5\", RangeBoundKind::Inclusive))))",
        "ArrayInt32([Some(1), None, Some(3)])",
        "ArrayInt64([Some(9000000000)])",
        "ArrayDecimal([Some(\"1.10\"), None])",
        "ArrayStr([Some(\"x\"), None, Some(\"z\")])",
        "Interval(Interval { micros: 1500000, days: 2, months: 3 })",
    ];
    let without_json: Vec<&String> = row
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 14)
        .map(|(_, v)| v)
        .collect();
    for (got, want) in without_json.iter().zip(expected) {
        assert!(got.ends_with(want), "got {got}, want {want}");
    }
    assert!(row[14].contains("Jsonb("), "{}", row[14]);
}

#[test]
fn nulls_come_back_as_db_null_in_both_versions() {
    let db = Database::create("nulls");
    let app = app();
    execute(
        &app,
        "v3",
        &db,
        "CREATE TABLE n (a INT4, b TEXT, c TIMESTAMP, d JSONB)",
        json!([]),
    );
    let nulls =
        json!([{"type": "db_null"}, {"type": "db_null"}, {"type": "db_null"}, {"type": "db_null"}]);
    execute(
        &app,
        "v3",
        &db,
        "INSERT INTO n VALUES ($1, $2, $3, $4)",
        nulls,
    );
    for version in ["v3", "v4"] {
        let row = values(&query(&app, version, &db, "SELECT * FROM n", json!([]))["rows"][0]);
        assert!(
            row.iter().all(|v| v.ends_with("DbNull")),
            "{version}: {row:?}"
        );
    }
}

#[test]
fn pg3_reads_what_it_can_and_marks_the_rest_unsupported() {
    let db = Database::create("pg3");
    let app = app();
    let result = query(
        &app,
        "v3",
        &db,
        "SELECT 7::INT4 AS n, 'x'::TEXT AS s, '{}'::JSONB AS j, DATE '2026-01-02' AS d",
        json!([]),
    );
    let row = values(&result["rows"][0]);
    assert!(row[0].ends_with("Int32(7)"), "{row:?}");
    assert!(row[1].ends_with("Str(\"x\")"), "{row:?}");
    assert!(row[2].ends_with("Unsupported"), "{row:?}");
    assert!(row[3].ends_with("Date((2026, 1, 2))"), "{row:?}");
    assert!(
        result["columns"][2]["type"]
            .as_str()
            .unwrap()
            .ends_with("Other")
    );
}

#[test]
fn reports_query_errors_with_postgres_details() {
    let db = Database::create("errors");
    let app = app();
    execute(
        &app,
        "v4",
        &db,
        "CREATE TABLE u (id INT4 PRIMARY KEY)",
        json!([]),
    );
    execute(&app, "v4", &db, "INSERT INTO u VALUES (1)", json!([]));
    let duplicate = run(
        &app,
        "v4",
        &db,
        "execute",
        "INSERT INTO u VALUES (1)",
        json!([]),
    );
    assert_eq!(duplicate.status, 400);
    assert!(
        duplicate.body.contains("23505"),
        "unique violation code missing: {}",
        duplicate.body
    );
    let v3_duplicate = run(
        &app,
        "v3",
        &db,
        "execute",
        "INSERT INTO u VALUES (1)",
        json!([]),
    );
    assert!(
        v3_duplicate.body.contains("QueryFailed") && v3_duplicate.body.contains("duplicate key"),
        "{}",
        v3_duplicate.body
    );
    let bad_uuid = run(
        &app,
        "v4",
        &db,
        "query",
        "SELECT $1::UUID",
        json!([{"type": "uuid", "value": "nope"}]),
    );
    assert!(bad_uuid.body.contains("BadParameter"), "{}", bad_uuid.body);
    let wrong_type = run(
        &app,
        "v4",
        &db,
        "query",
        "SELECT $1::INT4",
        json!([{"type": "str", "value": "x"}]),
    );
    assert_eq!(wrong_type.status, 400, "{}", wrong_type.body);
}

#[test]
fn refuses_hosts_not_allowed() {
    let app = app();
    let reply = app.post_json(
        "/v4",
        &json!({"address": "postgres://postgres@localhost:5432/test", "statement": "SELECT 1"}),
    );
    assert_eq!(reply.status, 400);
    assert!(
        reply.body.contains("ConnectionFailed") && reply.body.contains("not allowed"),
        "{}",
        reply.body
    );
}
