//! SQLite state store (`state.sqlite`): one durable WAL file, integer versions as ETags, ETag checks inside the write transaction.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};

use super::{
    Concurrency, DeleteRequest, Operation, SetRequest, StateError, StateStore, StoredValue,
    check_etag,
};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS state (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    expires_at INTEGER NULL
);
CREATE INDEX IF NOT EXISTS state_expires_at ON state (expires_at) WHERE expires_at IS NOT NULL;";

/// How often (at most) a write also sweeps out expired rows.
const PURGE_INTERVAL_MS: i64 = 60_000;

/// A single connection behind a mutex: SQLite serialises writers anyway, and
/// every statement here is a short indexed lookup or write.
pub struct SqliteStateStore {
    inner: Arc<Mutex<Inner>>,
    default_ttl: Option<Duration>,
}

struct Inner {
    conn: Connection,
    last_purge_ms: i64,
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or_default()
}

fn backend(err: impl std::fmt::Display) -> StateError {
    StateError::Backend(err.to_string())
}

impl SqliteStateStore {
    /// Opens (creating it and its directory if needed) the store at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let conn =
            Connection::open(path).with_context(|| format!("failed to open {}", path.display()))?;
        conn.busy_timeout(Duration::from_millis(5000))?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
        anyhow::ensure!(
            mode.eq_ignore_ascii_case("wal"),
            "{} cannot use WAL mode",
            path.display()
        );
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("failed to create the state table in {}", path.display()))?;
        let now = now_ms();
        purge_expired(&conn, now)?;
        Ok(Self {
            inner: Arc::new(Mutex::new(Inner {
                conn,
                last_purge_ms: now,
            })),
            default_ttl: None,
        })
    }

    /// The component's `ttlInSeconds`: applied when a write names no TTL.
    pub fn with_default_ttl(mut self, ttl: Option<Duration>) -> Self {
        self.default_ttl = ttl;
        self
    }

    /// Runs `work` on the blocking pool with the connection locked.
    async fn with_inner<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Inner) -> Result<R, StateError> + Send + 'static,
    ) -> Result<R, StateError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut inner = inner
                .lock()
                .map_err(|_| backend("state store lock poisoned"))?;
            work(&mut inner)
        })
        .await
        .map_err(backend)?
    }

    /// Runs `work` in one IMMEDIATE transaction (the write lock is taken up
    /// front, so the ETag reads and the writes see the same state) and commits
    /// before returning. Any error rolls the whole transaction back.
    async fn write<R: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>, i64) -> Result<R, StateError> + Send + 'static,
    ) -> Result<R, StateError> {
        self.with_inner(move |inner| {
            let now = now_ms();
            let tx = inner
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(backend)?;
            let result = work(&tx, now)?;
            let purge = now - inner.last_purge_ms >= PURGE_INTERVAL_MS;
            if purge {
                purge_expired(&tx, now).map_err(backend)?;
            }
            tx.commit().map_err(backend)?;
            if purge {
                inner.last_purge_ms = now;
            }
            Ok(result)
        })
        .await
    }
}

fn purge_expired(conn: &Connection, now: i64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM state WHERE expires_at IS NOT NULL AND expires_at <= ?1",
        [now],
    )
}

/// The live version of `key`; an expired row counts as absent.
fn current_version(tx: &Transaction<'_>, key: &str, now: i64) -> Result<Option<i64>, StateError> {
    tx.query_row(
        "SELECT version FROM state WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
        params![key, now],
        |row| row.get(0),
    )
    .optional()
    .map_err(backend)
}

/// Reads the live version of `key` and applies `check_etag` to it.
fn checked_version(
    tx: &Transaction<'_>,
    key: &str,
    etag: Option<&str>,
    concurrency: Concurrency,
    now: i64,
) -> Result<Option<i64>, StateError> {
    let current = current_version(tx, key, now)?;
    let current_text = current.map(|v| v.to_string());
    check_etag(key, current_text.as_deref(), etag, concurrency)?;
    Ok(current)
}

fn apply_set(
    tx: &Transaction<'_>,
    request: &SetRequest,
    default_ttl: Option<Duration>,
    now: i64,
) -> Result<(), StateError> {
    let current = checked_version(
        tx,
        &request.key,
        request.etag.as_deref(),
        request.concurrency,
        now,
    )?;
    let version = current.unwrap_or(0).saturating_add(1);
    // A zero TTL means "no TTL", as for Dapr's Redis store (`ttl <= 0` → PERSIST).
    let expires_at = request
        .ttl
        .unwrap_or(default_ttl)
        .filter(|ttl| !ttl.is_zero())
        .map(|ttl| now.saturating_add(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX)));
    tx.execute(
        "INSERT INTO state (key, value, version, expires_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (key) DO UPDATE SET
             value = excluded.value, version = excluded.version, expires_at = excluded.expires_at",
        params![request.key, request.value, version, expires_at],
    )
    .map_err(backend)?;
    Ok(())
}

fn apply_delete(tx: &Transaction<'_>, request: &DeleteRequest, now: i64) -> Result<(), StateError> {
    checked_version(
        tx,
        &request.key,
        request.etag.as_deref(),
        request.concurrency,
        now,
    )?;
    // Also removes an expired row that was still lying around.
    tx.execute("DELETE FROM state WHERE key = ?1", [&request.key])
        .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl StateStore for SqliteStateStore {
    async fn get(&self, key: &str) -> Result<Option<StoredValue>, StateError> {
        let key = key.to_string();
        self.with_inner(move |inner| {
            inner
                .conn
                .query_row(
                    "SELECT value, version FROM state
                     WHERE key = ?1 AND (expires_at IS NULL OR expires_at > ?2)",
                    params![key, now_ms()],
                    |row| {
                        Ok(StoredValue {
                            value: row.get(0)?,
                            etag: row.get::<_, i64>(1)?.to_string(),
                        })
                    },
                )
                .optional()
                .map_err(backend)
        })
        .await
    }

    async fn set(&self, request: SetRequest) -> Result<(), StateError> {
        let default_ttl = self.default_ttl;
        self.write(move |tx, now| apply_set(tx, &request, default_ttl, now))
            .await
    }

    async fn delete(&self, request: DeleteRequest) -> Result<(), StateError> {
        self.write(move |tx, now| apply_delete(tx, &request, now))
            .await
    }

    async fn transact(&self, operations: Vec<Operation>) -> Result<(), StateError> {
        let default_ttl = self.default_ttl;
        self.write(move |tx, now| {
            operations.iter().try_for_each(|operation| match operation {
                Operation::Upsert(request) => apply_set(tx, request, default_ttl, now),
                Operation::Delete(request) => apply_delete(tx, request, now),
            })
        })
        .await
    }
}
