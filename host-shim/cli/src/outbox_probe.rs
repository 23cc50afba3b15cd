//! The outbox backlog as metrics: how many events the application wrote and
//! has not yet published, and how long the oldest has waited. Read from the
//! application's own database (the embedded SQLite file, or the Postgres
//! named by its `database_url` variable) each time metrics are scraped.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use docket_telemetry::{Metrics, Probe};

/// The application variable naming its database; empty for the embedded one.
pub const DATABASE_VARIABLE: &str = "database_url";

const PENDING_SQLITE: &str =
    "SELECT count(*), min(created_at) FROM event_outbox WHERE published_at IS NULL";
const PENDING_POSTGRES: &str = "SELECT count(*), \
     EXTRACT(EPOCH FROM now() - min(created_at))::float8 \
     FROM event_outbox WHERE published_at IS NULL";

pub enum OutboxProbe {
    Sqlite(PathBuf),
    /// A `postgres://` URL (it may hold a password; it is never logged).
    Postgres(String),
}

impl OutboxProbe {
    /// The probe for an application whose `database_url` resolved to `url`.
    pub fn for_database(url: &str, embedded: PathBuf) -> OutboxProbe {
        if url.is_empty() {
            OutboxProbe::Sqlite(embedded)
        } else {
            OutboxProbe::Postgres(url.to_string())
        }
    }

    async fn backlog(&self) -> anyhow::Result<(i64, Duration)> {
        match self {
            OutboxProbe::Sqlite(path) => {
                let path = path.clone();
                tokio::task::spawn_blocking(move || sqlite_backlog(&path, Utc::now())).await?
            }
            OutboxProbe::Postgres(url) => {
                let client = docket_runtime::capabilities::postgres::connect(url)
                    .await
                    .context("connecting to the application database")?;
                let row = client.query_one(PENDING_POSTGRES, &[]).await?;
                let age: Option<f64> = row.get(1);
                Ok((row.get(0), seconds(age.unwrap_or(0.0))))
            }
        }
    }
}

#[async_trait]
impl Probe for OutboxProbe {
    async fn refresh(&self, metrics: &Metrics) {
        match self.backlog().await {
            Ok((pending, oldest)) => metrics.outbox(pending, oldest),
            Err(error) => {
                tracing::warn!(error = %format!("{error:#}"), "reading the outbox backlog failed")
            }
        }
    }
}

fn sqlite_backlog(path: &std::path::Path, now: DateTime<Utc>) -> anyhow::Result<(i64, Duration)> {
    let db =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let (pending, oldest): (i64, Option<String>) =
        db.query_row(PENDING_SQLITE, [], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let age = match oldest {
        Some(created) => {
            let created = DateTime::parse_from_rfc3339(&created)
                .with_context(|| format!("outbox created_at {created:?}"))?;
            (now - created.with_timezone(&Utc)).num_milliseconds() as f64 / 1000.0
        }
        None => 0.0,
    };
    Ok((pending, seconds(age)))
}

/// A clock step backwards must not make a negative age.
fn seconds(value: f64) -> Duration {
    Duration::try_from_secs_f64(value.max(0.0)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_count_and_age_of_unpublished_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.db");
        let db = rusqlite::Connection::open(&path).unwrap();
        db.execute_batch(
            "CREATE TABLE event_outbox (id INTEGER PRIMARY KEY, created_at TEXT NOT NULL, published_at TEXT);
             INSERT INTO event_outbox (created_at, published_at) VALUES
               ('2026-03-02T10:00:00.000Z', NULL),
               ('2026-03-02T10:00:30.000Z', NULL),
               ('2026-03-02T09:00:00.000Z', '2026-03-02T09:00:01.000Z');",
        )
        .unwrap();
        let now = DateTime::parse_from_rfc3339("2026-03-02T10:01:00Z")
            .unwrap()
            .to_utc();
        let (pending, age) = sqlite_backlog(&path, now).unwrap();
        assert_eq!(pending, 2);
        assert_eq!(age, Duration::from_secs(60));

        db.execute("UPDATE event_outbox SET published_at = created_at", [])
            .unwrap();
        assert_eq!(sqlite_backlog(&path, now).unwrap(), (0, Duration::ZERO));
    }
}
