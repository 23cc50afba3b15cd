//! SQLite through both interface versions: every value type, NULLs, errors,
//! a forbidden database, and durability across a restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use std::sync::Arc;
use support::{Docket, Options, component, manifest};

fn app_manifest() -> String {
    manifest(&component(
        "db",
        "/...",
        "sqlite",
        "sqlite_databases = [\"default\", \"audit\"]",
    ))
}

fn exec(app: &Docket, path: &str, statement: &str, params: serde_json::Value) -> support::Reply {
    app.post_json(path, &json!({"statement": statement, "params": params}))
}

#[test]
fn round_trips_every_value_type_in_both_versions() {
    let app = Docket::start(&app_manifest());
    for version in ["v2", "v3"] {
        let table = format!("t_{version}");
        let path = format!("/{version}/default");
        let create = exec(
            &app,
            &path,
            &format!("CREATE TABLE {table} (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)"),
            json!([]),
        );
        assert_eq!(create.status, 200, "{}", create.body);
        let insert = exec(
            &app,
            &path,
            &format!("INSERT INTO {table} VALUES (?, ?, ?, ?, ?)"),
            json!([-9007199254740993i64, 2.5, "Robert'); DROP TABLE students;--", {"blob": "00ff10"}, null]),
        );
        assert_eq!(insert.status, 200, "{}", insert.body);
        let rows = exec(
            &app,
            &path,
            &format!("SELECT i, r, s, b, n FROM {table}"),
            json!([]),
        )
        .json();
        assert_eq!(rows["columns"], json!(["i", "r", "s", "b", "n"]));
        assert_eq!(
            rows["rows"],
            json!([[-9007199254740993i64, 2.5, "Robert'); DROP TABLE students;--", {"blob": "00ff10"}, null]])
        );
    }
}

#[test]
fn v3_reports_last_insert_rowid_and_changes() {
    let app = Docket::start(&app_manifest());
    exec(
        &app,
        "/v3/default",
        "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT)",
        json!([]),
    );
    exec(
        &app,
        "/v3/default",
        "INSERT INTO items (name) VALUES ('a'), ('b')",
        json!([]),
    );
    let third = exec(
        &app,
        "/v3/default",
        "INSERT INTO items (name) VALUES (?)",
        json!(["c"]),
    )
    .json();
    assert_eq!(third["last_insert_rowid"], 3);
    assert_eq!(third["changes"], 1);
    let update = exec(
        &app,
        "/v3/default",
        "UPDATE items SET name = 'z'",
        json!([]),
    )
    .json();
    assert_eq!(update["changes"], 3);
}

#[test]
fn reports_sql_errors_and_forbidden_databases() {
    let app = Docket::start(&app_manifest());
    let syntax = exec(&app, "/v3/default", "SELEC 1", json!([]));
    assert_eq!(syntax.status, 400);
    assert!(
        syntax.body.contains("Io") && syntax.body.contains("syntax error"),
        "{}",
        syntax.body
    );
    let missing_table = exec(&app, "/v2/default", "SELECT * FROM nowhere", json!([]));
    assert!(
        missing_table.body.contains("no such table"),
        "{}",
        missing_table.body
    );
    for version in ["v2", "v3"] {
        let forbidden = exec(&app, &format!("/{version}/secrets"), "SELECT 1", json!([]));
        assert_eq!(forbidden.status, 400);
        assert!(
            forbidden.body.contains("AccessDenied"),
            "{}",
            forbidden.body
        );
    }
    let other_db = exec(&app, "/v3/audit", "SELECT 41 + 1 AS answer", json!([])).json();
    assert_eq!(other_db["rows"], json!([[42]]));
}

#[test]
fn data_survives_a_restart() {
    let app = Docket::start(&app_manifest());
    exec(&app, "/v3/default", "CREATE TABLE kept (v TEXT)", json!([]));
    exec(
        &app,
        "/v3/default",
        "INSERT INTO kept VALUES ('still here')",
        json!([]),
    );
    let dir: Arc<tempfile::TempDir> = app.dir.clone();
    assert!(app.stop().success());
    let again = Docket::launch(dir.clone(), Options::default()).unwrap();
    let rows = exec(&again, "/v2/default", "SELECT v FROM kept", json!([])).json();
    assert_eq!(rows["rows"], json!([["still here"]]));
    assert!(dir.path().join("data/sqlite/default.db").is_file());
}

#[test]
fn uses_the_path_from_runtime_config() {
    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("rc.toml");
    std::fs::write(
        &config,
        "[sqlite_database.default]\ntype = \"spin\"\npath = \"elsewhere/app.db\"\n",
    )
    .unwrap();
    let options = Options {
        args: vec!["--runtime-config-file".into(), config.display().to_string()],
        ..Default::default()
    };
    let app = Docket::start_with(&app_manifest(), options);
    let created = exec(&app, "/v3/default", "CREATE TABLE here (x)", json!([]));
    assert_eq!(created.status, 200, "{}", created.body);
    assert!(config_dir.path().join("elsewhere/app.db").is_file());
}
