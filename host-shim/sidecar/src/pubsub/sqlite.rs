//! Durable embedded broker in one SQLite file: message log, group cursors, pending list.
//!
//! `publish` appends to `pubsub_messages` and returns once committed. A group's row in
//! `pubsub_groups` holds the last sequence number handed out to it (a new group starts at 0, the
//! whole topic, like a Redis group created at id 0). `fetch` moves up to `max` messages past the
//! cursor into `pubsub_pending` for the consumer and advances the cursor in one write transaction,
//! so competing consumers — tasks or processes sharing the file — never get the same message. `ack`
//! removes the pending row; `reclaim` re-assigns pending rows claimed more than `idle` ago.
//!
//! A message acknowledged by every group known for its topic is deleted. A group created later
//! therefore does not see messages that all earlier groups have already consumed (a new group on a
//! topic nobody consumed yet sees it all).
//!
//! All SQLite work runs on `spawn_blocking` with one connection behind a mutex. A waiting `fetch`
//! is woken by a per-topic `Notify` when this process publishes, and polls every [`POLL_INTERVAL`]
//! for other processes' writes.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params};
use tokio::sync::Notify;
use tokio::time::Instant;

use super::{Broker, Message, PubSubError};

/// How often a waiting `fetch` looks for messages written by another process.
const POLL_INTERVAL: Duration = Duration::from_millis(200);
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

// AUTOINCREMENT matters: messages are deleted once consumed, and a reused sequence number could
// fall at or below a group's cursor and never be delivered.
const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS pubsub_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    data BLOB NOT NULL,
    metadata TEXT NOT NULL,
    published_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS pubsub_messages_by_topic ON pubsub_messages (topic, seq);
CREATE TABLE IF NOT EXISTS pubsub_groups (
    topic TEXT NOT NULL,
    grp TEXT NOT NULL,
    delivered_seq INTEGER NOT NULL,
    PRIMARY KEY (topic, grp)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pubsub_pending (
    topic TEXT NOT NULL,
    grp TEXT NOT NULL,
    seq INTEGER NOT NULL,
    consumer TEXT NOT NULL,
    claimed_at INTEGER NOT NULL,
    PRIMARY KEY (topic, grp, seq)
) WITHOUT ROWID;
";

/// Deletes the topic's messages below the lowest position any group still needs: its oldest pending
/// message, or the one after its cursor. With no group on the topic the bound is NULL and nothing
/// is deleted.
const PRUNE: &str = "
DELETE FROM pubsub_messages WHERE topic = ?1 AND seq < (
    SELECT MIN(COALESCE(
        (SELECT MIN(p.seq) FROM pubsub_pending p WHERE p.topic = g.topic AND p.grp = g.grp),
        g.delivered_seq + 1))
    FROM pubsub_groups g WHERE g.topic = ?1)
";

pub struct SqliteBroker {
    conn: Arc<Mutex<Connection>>,
    /// Woken by `publish` in this process, one per topic.
    published: Mutex<HashMap<String, Arc<Notify>>>,
}

impl SqliteBroker {
    /// Opens (creating if needed) the broker database at `path`.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            anyhow::bail!(
                "{}: could not switch to WAL mode (journal_mode is {mode})",
                path.display()
            );
        }
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            published: Mutex::new(HashMap::new()),
        })
    }

    /// Runs `f` on the connection on the blocking pool.
    async fn with_conn<T, F>(&self, f: F) -> Result<T, PubSubError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            f(&mut conn.lock().unwrap_or_else(PoisonError::into_inner))
        })
        .await
        .map_err(db_err)?
        .map_err(db_err)
    }

    fn published(&self, topic: &str) -> Arc<Notify> {
        let mut map = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(map.entry(topic.to_string()).or_default())
    }
}

#[async_trait]
impl Broker for SqliteBroker {
    async fn publish(
        &self,
        topic: &str,
        data: &[u8],
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), PubSubError> {
        let metadata = serde_json::to_string(metadata).map_err(db_err)?;
        let (topic_owned, data) = (topic.to_string(), data.to_vec());
        self.with_conn(move |conn| {
            conn.prepare_cached(
                "INSERT INTO pubsub_messages (topic, data, metadata, published_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![topic_owned, data, metadata, now_ms()])
        })
        .await?;
        self.published(topic).notify_waiters();
        Ok(())
    }

    async fn fetch(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Message>, PubSubError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let deadline = Instant::now() + wait;
        let published = self.published(topic);
        loop {
            // Register for the wake-up before looking, so a publish in between is not missed.
            let notified = published.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();

            let (t, g, c) = (topic.to_string(), group.to_string(), consumer.to_string());
            let messages = self
                .with_conn(move |conn| claim_new(conn, &t, &g, &c, max))
                .await?;
            let now = Instant::now();
            if !messages.is_empty() || now >= deadline {
                return Ok(messages);
            }
            let nap = POLL_INTERVAL.min(deadline - now);
            tokio::select! {
                () = &mut notified => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn ack(&self, topic: &str, group: &str, id: &str) -> Result<(), PubSubError> {
        let seq: i64 = id
            .parse()
            .map_err(|_| PubSubError::Backend(format!("sqlite: invalid message id {id:?}")))?;
        let (topic, group) = (topic.to_string(), group.to_string());
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            tx.prepare_cached(
                "DELETE FROM pubsub_pending WHERE topic = ?1 AND grp = ?2 AND seq = ?3",
            )?
            .execute(params![topic, group, seq])?;
            tx.prepare_cached(PRUNE)?.execute(params![topic])?;
            tx.commit()
        })
        .await
    }

    async fn reclaim(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        idle: Duration,
        max: usize,
    ) -> Result<Vec<Message>, PubSubError> {
        let (topic, group, consumer) = (topic.to_string(), group.to_string(), consumer.to_string());
        let idle_ms = i64::try_from(idle.as_millis()).unwrap_or(i64::MAX);
        self.with_conn(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now = now_ms();
            let claimed: Vec<(i64, Message)> = tx
                .prepare_cached(
                    "SELECT m.seq, m.data, m.metadata FROM pubsub_pending p
                     JOIN pubsub_messages m ON m.seq = p.seq
                     WHERE p.topic = ?1 AND p.grp = ?2 AND p.claimed_at <= ?3
                     ORDER BY p.seq LIMIT ?4",
                )?
                .query_map(
                    params![topic, group, now.saturating_sub(idle_ms), limit(max)],
                    |row| read_row(&topic, row),
                )?
                .collect::<rusqlite::Result<_>>()?;
            assign(&tx, &topic, &group, &consumer, &claimed, now)?;
            tx.commit()?;
            Ok(claimed.into_iter().map(|(_, message)| message).collect())
        })
        .await
    }
}

/// Whether the group exists and has nothing past its cursor, checked without taking the write
/// lock, so that idle polling does not hold up writers in other processes.
fn nothing_new(conn: &Connection, topic: &str, group: &str) -> rusqlite::Result<bool> {
    conn.prepare_cached(
        "SELECT NOT EXISTS (SELECT 1 FROM pubsub_messages m WHERE m.topic = g.topic
             AND m.seq > g.delivered_seq)
         FROM pubsub_groups g WHERE g.topic = ?1 AND g.grp = ?2",
    )?
    .query_row(params![topic, group], |row| row.get(0))
    .optional()
    .map(|idle| idle.unwrap_or(false))
}

/// Hands up to `max` messages past the group's cursor to `consumer` (creating the group at 0 if
/// new).
fn claim_new(
    conn: &mut Connection,
    topic: &str,
    group: &str,
    consumer: &str,
    max: usize,
) -> rusqlite::Result<Vec<Message>> {
    if nothing_new(conn, topic, group)? {
        return Ok(Vec::new());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    tx.prepare_cached(
        "INSERT OR IGNORE INTO pubsub_groups (topic, grp, delivered_seq) VALUES (?1, ?2, 0)",
    )?
    .execute(params![topic, group])?;
    let cursor: i64 = tx
        .prepare_cached("SELECT delivered_seq FROM pubsub_groups WHERE topic = ?1 AND grp = ?2")?
        .query_row(params![topic, group], |row| row.get(0))?;
    let claimed: Vec<(i64, Message)> = tx
        .prepare_cached(
            "SELECT seq, data, metadata FROM pubsub_messages
             WHERE topic = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )?
        .query_map(params![topic, cursor, limit(max)], |row| {
            read_row(topic, row)
        })?
        .collect::<rusqlite::Result<_>>()?;
    if let Some((last, _)) = claimed.last() {
        assign(&tx, topic, group, consumer, &claimed, now_ms())?;
        tx.prepare_cached(
            "UPDATE pubsub_groups SET delivered_seq = ?3 WHERE topic = ?1 AND grp = ?2",
        )?
        .execute(params![topic, group, last])?;
    }
    tx.commit()?;
    Ok(claimed.into_iter().map(|(_, message)| message).collect())
}

/// Records `messages` as pending for `consumer`, claimed at `now`.
fn assign(
    tx: &Transaction<'_>,
    topic: &str,
    group: &str,
    consumer: &str,
    messages: &[(i64, Message)],
    now: i64,
) -> rusqlite::Result<()> {
    let mut upsert = tx.prepare_cached(
        "INSERT INTO pubsub_pending (topic, grp, seq, consumer, claimed_at)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (topic, grp, seq)
         DO UPDATE SET consumer = excluded.consumer, claimed_at = excluded.claimed_at",
    )?;
    for (seq, _) in messages {
        upsert.execute(params![topic, group, seq, consumer, now])?;
    }
    Ok(())
}

/// Reads a `(seq, data, metadata)` row.
fn read_row(topic: &str, row: &Row<'_>) -> rusqlite::Result<(i64, Message)> {
    let seq: i64 = row.get(0)?;
    let metadata: String = row.get(2)?;
    let metadata = serde_json::from_str(&metadata)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, Type::Text, Box::new(e)))?;
    Ok((
        seq,
        Message {
            id: seq.to_string(),
            topic: topic.to_string(),
            data: row.get(1)?,
            metadata,
            ordering_key: None,
        },
    ))
}

fn limit(max: usize) -> i64 {
    i64::try_from(max).unwrap_or(i64::MAX)
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

fn db_err(e: impl std::fmt::Display) -> PubSubError {
    PubSubError::Backend(format!("sqlite: {e}"))
}
