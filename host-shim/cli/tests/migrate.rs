//! `docket migrate` against SQLite and the real local Postgres, and the
//! embedded database `docket up` migrates before serving.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::json;
use support::{Docket, Options, component, manifest, psql};

fn repo_migrations(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(kind)
}

fn migrate(database: &str, dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(["migrate", "--database", database, "--dir"])
        .arg(dir)
        .output()
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn migrates_sqlite_once_and_refuses_an_edited_file() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("app.db").display());
    let files = dir.path().join("migrations");
    copy_dir(&repo_migrations("sqlite"), &files);
    let first = migrate(&database, &files);
    assert!(first.status.success(), "{}", text(&first));
    assert!(
        text(&first).contains("applied 0001_initial.sql"),
        "{}",
        text(&first)
    );
    let again = migrate(&database, &files);
    let in_folder = std::fs::read_dir(&files).unwrap().count();
    assert!(
        text(&again).contains(&format!(
            "0 migration(s) applied, {in_folder} already in place"
        )),
        "{}",
        text(&again)
    );
    let initial = files.join("0001_initial.sql");
    let mut sql = std::fs::read_to_string(&initial).unwrap();
    sql.push_str("\n-- a late edit\n");
    std::fs::write(&initial, sql).unwrap();
    let refused = migrate(&database, &files);
    assert!(!refused.status.success());
    assert!(
        text(&refused).contains("0001_initial.sql was edited after it was applied"),
        "{}",
        text(&refused)
    );
}

#[test]
fn migrates_postgres_without_echoing_the_url() {
    let name = format!("docket_cli_migrate_{}", std::process::id());
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    psql(&format!("CREATE DATABASE {name}"));
    let url = format!("postgres://postgres:not-a-real-password@127.0.0.1:5432/{name}");
    let output = migrate(&url, &repo_migrations("postgres"));
    psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    assert!(output.status.success(), "{}", text(&output));
    assert!(text(&output).contains("applied 0001_initial.sql"));
    assert!(!text(&output).contains("not-a-real-password"));
}

#[test]
fn refuses_an_unknown_database_kind() {
    let output = migrate("mysql://x", &repo_migrations("sqlite"));
    assert!(!output.status.success());
    assert!(
        text(&output).contains("sqlite:PATH or a postgres:// URL"),
        "{}",
        text(&output)
    );
}

#[test]
fn up_migrates_the_embedded_database_before_serving() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    copy_dir(
        &repo_migrations("sqlite"),
        &dir.path().join("migrations/sqlite"),
    );
    let text = manifest(&component(
        "db",
        "/...",
        "sqlite",
        "sqlite_databases = [\"default\"]",
    ));
    std::fs::write(dir.path().join("spin.toml"), text).unwrap();
    let app = Docket::launch(dir, Options::default()).unwrap_or_else(|l| panic!("{l}"));
    let reply = app.post_json(
        "/v3/default",
        &json!({"statement": "SELECT name FROM priorities ORDER BY weight", "params": []}),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.json()["rows"],
        json!([["Low"], ["Medium"], ["High"], ["Critical"]])
    );
    app.wait_for_log("embedded database migrated");
}
