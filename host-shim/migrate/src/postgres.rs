//! Applying migrations to Postgres, one transaction each, under an advisory
//! lock so two migrators started together do not both apply a file.

use tokio_postgres::NoTls;

use crate::{Applied, MigrateError, Migration, plan};

/// Any fixed number; all docket migrators take the same lock.
const LOCK_KEY: i64 = 0x646f_636b_6574;

const RECORD_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    checksum TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
);";

fn db(err: tokio_postgres::Error) -> MigrateError {
    MigrateError::Database(error_chain(&err))
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// Applies what is pending; returns the names applied, in order. TLS is not
/// used here: the migration Job reaches Postgres inside the cluster network
/// (`sslmode=disable`) or through psql in production.
pub async fn migrate_postgres(
    url: &str,
    migrations: &[Migration],
) -> Result<Vec<String>, MigrateError> {
    let (mut client, connection) = tokio_postgres::connect(url, NoTls).await.map_err(db)?;
    let driver = tokio::spawn(connection);
    let result = async {
        client.batch_execute(RECORD_TABLE).await.map_err(db)?;
        client
            .execute("SELECT pg_advisory_lock($1)", &[&LOCK_KEY])
            .await
            .map_err(db)?;
        let rows = client
            .query(
                "SELECT version, name, checksum FROM schema_migrations ORDER BY version",
                &[],
            )
            .await
            .map_err(db)?;
        let applied: Vec<Applied> = rows
            .iter()
            .map(|row| Applied {
                version: row.get::<_, i32>(0) as u32,
                name: row.get(1),
                checksum: row.get(2),
            })
            .collect();
        let mut done = Vec::new();
        for migration in plan(&applied, migrations)? {
            let sql_error = |e: tokio_postgres::Error| MigrateError::Sql {
                name: migration.name.clone(),
                message: error_chain(&e),
            };
            let tx = client.transaction().await.map_err(db)?;
            tx.batch_execute(&migration.sql).await.map_err(sql_error)?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                &[
                    &(migration.version as i32),
                    &migration.name,
                    &migration.checksum,
                ],
            )
            .await
            .map_err(sql_error)?;
            tx.commit().await.map_err(sql_error)?;
            done.push(migration.name.clone());
        }
        Ok(done)
    }
    .await;
    drop(client);
    let _ = driver.await;
    result
}
