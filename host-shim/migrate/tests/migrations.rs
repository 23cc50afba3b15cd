//! The repository's migrations apply to SQLite and the real local Postgres,
//! are recorded, re-running applies nothing, and an edited file is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use docket_migrate::{MigrateError, Migration, migrate_postgres, migrate_sqlite, read_dir};

fn repo_migrations(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../migrations")
        .join(kind)
}

fn edited(migrations: &[Migration]) -> Vec<Migration> {
    let mut changed = migrations.to_vec();
    changed[0] =
        Migration::new(&changed[0].name, format!("{}\n-- edited", changed[0].sql)).unwrap();
    changed
}

#[test]
fn sqlite_applies_once_and_refuses_edits() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nested/app.db");
    let migrations = read_dir(&repo_migrations("sqlite")).unwrap();
    let applied = migrate_sqlite(&db, &migrations).unwrap();
    assert_eq!(
        applied,
        migrations
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    );
    assert!(migrate_sqlite(&db, &migrations).unwrap().is_empty());
    let conn = rusqlite::Connection::open(&db).unwrap();
    let priorities: Vec<String> = conn
        .prepare("SELECT name FROM priorities ORDER BY weight")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(priorities, ["Low", "Medium", "High", "Critical"]);
    assert!(matches!(
        migrate_sqlite(&db, &edited(&migrations)),
        Err(MigrateError::Edited { .. })
    ));
}

#[test]
fn a_failing_migration_is_not_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("app.db");
    let good = Migration::new("0001_good.sql", "CREATE TABLE a (x INTEGER);".into()).unwrap();
    let bad = Migration::new(
        "0002_bad.sql",
        "CREATE TABLE b (x INTEGER); SELEC nonsense;".into(),
    )
    .unwrap();
    let err = migrate_sqlite(&db, &[good.clone(), bad]).unwrap_err();
    assert!(
        matches!(&err, MigrateError::Sql { name, .. } if name == "0002_bad.sql"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let recorded: i64 = conn
        .query_row("SELECT count(*) FROM schema_migrations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(recorded, 1);
    let table_b: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'b'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        table_b, 0,
        "the failed migration's transaction left a table behind"
    );
}

#[test]
fn refuses_names_and_duplicates() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("0001_a.sql"), "").unwrap();
    std::fs::write(dir.path().join("0001_b.sql"), "").unwrap();
    assert!(matches!(
        read_dir(dir.path()),
        Err(MigrateError::DuplicateVersion { .. })
    ));
    std::fs::remove_file(dir.path().join("0001_b.sql")).unwrap();
    std::fs::write(dir.path().join("1_bad.sql"), "").unwrap();
    assert!(matches!(
        read_dir(dir.path()),
        Err(MigrateError::BadName { .. })
    ));
}

/// Runs each statement on its own (CREATE/DROP DATABASE refuse transactions).
async fn admin(statements: &[&str]) {
    let (client, connection) = tokio_postgres::connect(
        "host=127.0.0.1 user=postgres dbname=postgres",
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    for statement in statements {
        client.batch_execute(statement).await.unwrap();
    }
}

#[tokio::test]
async fn postgres_applies_once_and_refuses_edits() {
    let name = format!("docket_migrate_{}", std::process::id());
    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
    admin(&[&drop, &format!("CREATE DATABASE {name}")]).await;
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    let migrations = read_dir(&repo_migrations("postgres")).unwrap();
    let first = migrate_postgres(&url, &migrations).await;
    let again = migrate_postgres(&url, &migrations).await;
    let refused = migrate_postgres(&url, &edited(&migrations)).await;
    admin(&[&drop]).await;
    assert_eq!(
        first.unwrap(),
        migrations
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    );
    assert!(again.unwrap().is_empty());
    assert!(matches!(refused, Err(MigrateError::Edited { .. })));
}
