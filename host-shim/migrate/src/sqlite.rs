//! Applying migrations to a SQLite file.

use std::path::Path;

use rusqlite::Connection;

use crate::{Applied, MigrateError, Migration, plan};

const RECORD_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);";

fn db(err: rusqlite::Error) -> MigrateError {
    MigrateError::Database(err.to_string())
}

/// Applies what is pending; returns the names applied, in order.
pub fn migrate_sqlite(path: &Path, migrations: &[Migration]) -> Result<Vec<String>, MigrateError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| MigrateError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let mut conn = Connection::open(path).map_err(db)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    )
    .map_err(db)?;
    conn.execute_batch(RECORD_TABLE).map_err(db)?;
    let applied = conn
        .prepare("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
        .and_then(|mut stmt| {
            stmt.query_map([], |row| {
                Ok(Applied {
                    version: row.get(0)?,
                    name: row.get(1)?,
                    checksum: row.get(2)?,
                })
            })?
            .collect::<Result<Vec<_>, _>>()
        })
        .map_err(db)?;
    let mut done = Vec::new();
    for migration in plan(&applied, migrations)? {
        let sql_error = |e: rusqlite::Error| MigrateError::Sql {
            name: migration.name.clone(),
            message: e.to_string(),
        };
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(db)?;
        tx.execute_batch(&migration.sql).map_err(sql_error)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (?1, ?2, ?3)",
            rusqlite::params![migration.version, migration.name, migration.checksum],
        )
        .map_err(sql_error)?;
        tx.commit().map_err(sql_error)?;
        done.push(migration.name.clone());
    }
    Ok(done)
}
