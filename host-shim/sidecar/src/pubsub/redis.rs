//! Redis Streams broker with Dapr's `pubsub.redis` layout: a stream per topic, a group per app.
//!
//! Entries are `XADD <topic> [MAXLEN ~ n] * data <bytes> [metadata <json>]`. A group is created at
//! id `0` with MKSTREAM (so a new group reads the whole stream), `fetch` is `XREADGROUP … >`, `ack`
//! is `XACK` and `reclaim` is `XAUTOCLAIM`.
//!
//! Connections: publish, ack, reclaim and group creation share one `ConnectionManager`
//! (multiplexed, reconnecting). A blocking `XREADGROUP … BLOCK` would stall every command queued
//! behind it on a multiplexed connection, so each in-progress `fetch` borrows a connection of its
//! own from a small pool of idle reader connections and gives it back when the read returns. The
//! pool grows to the peak number of concurrent fetches (in the sidecar, one per subscription loop)
//! and those connections are reused afterwards, so steady state opens no new TCP connections. A
//! reader that fails, or whose fetch is cancelled mid-read, is dropped instead of returned; entries
//! such a read had already claimed stay pending and come back through `reclaim`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig, MultiplexedConnection};
use redis::streams::{StreamAutoClaimReply, StreamId, StreamReadReply};
use redis::{AsyncConnectionConfig, Client, RedisError, Value};

use super::{Broker, Message, PubSubError};

/// Idle reader connections kept for reuse; extra ones are closed when returned.
const MAX_IDLE_READERS: usize = 32;
/// Response timeout for ordinary commands.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long past the BLOCK time a blocking read may take before its connection is given up.
const READ_GRACE: Duration = Duration::from_secs(5);

pub struct RedisBroker {
    client: Client,
    conn: ConnectionManager,
    max_len_approx: Option<usize>,
    idle_readers: Mutex<Vec<MultiplexedConnection>>,
    /// `(topic, group)` pairs this broker has created (or found existing).
    groups: Mutex<HashSet<(String, String)>>,
}

impl RedisBroker {
    /// Connects to `url` (`redis://host:port[/db]`); `max_len_approx` trims each stream with
    /// `MAXLEN ~ n`.
    pub async fn connect(url: &str, max_len_approx: Option<usize>) -> anyhow::Result<Self> {
        let client = Client::open(url)?;
        let config = ConnectionManagerConfig::new().set_response_timeout(Some(COMMAND_TIMEOUT));
        let conn = ConnectionManager::new_with_config(client.clone(), config).await?;
        Ok(Self {
            client,
            conn,
            max_len_approx,
            idle_readers: Mutex::new(Vec::new()),
            groups: Mutex::new(HashSet::new()),
        })
    }

    async fn ensure_group(&self, topic: &str, group: &str) -> Result<(), PubSubError> {
        let key = (topic.to_string(), group.to_string());
        if lock(&self.groups).contains(&key) {
            return Ok(());
        }
        let created: Result<(), RedisError> = redis::cmd("XGROUP")
            .arg("CREATE")
            .arg(topic)
            .arg(group)
            .arg("0")
            .arg("MKSTREAM")
            .query_async(&mut self.conn.clone())
            .await;
        match created {
            Ok(()) => {}
            Err(e) if e.code() == Some("BUSYGROUP") => {}
            Err(e) => return Err(backend(e)),
        }
        lock(&self.groups).insert(key);
        Ok(())
    }

    fn forget_group(&self, topic: &str, group: &str) {
        lock(&self.groups).remove(&(topic.to_string(), group.to_string()));
    }

    async fn take_reader(&self) -> Result<MultiplexedConnection, RedisError> {
        if let Some(conn) = lock(&self.idle_readers).pop() {
            return Ok(conn);
        }
        let config = AsyncConnectionConfig::new().set_response_timeout(None);
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    fn return_reader(&self, conn: MultiplexedConnection) {
        let mut idle = lock(&self.idle_readers);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
    }

    /// One `XREADGROUP` on a borrowed reader connection.
    async fn read_group(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<StreamId>, RedisError> {
        let mut cmd = redis::cmd("XREADGROUP");
        cmd.arg("GROUP")
            .arg(group)
            .arg(consumer)
            .arg("COUNT")
            .arg(max);
        let block_ms = wait.as_millis();
        if block_ms > 0 {
            // BLOCK 0 would mean "forever", so a zero wait sends no BLOCK at all.
            cmd.arg("BLOCK")
                .arg(u64::try_from(block_ms).unwrap_or(u64::MAX));
        }
        cmd.arg("STREAMS").arg(topic).arg(">");

        let mut conn = self.take_reader().await?;
        conn.set_response_timeout(wait + READ_GRACE);
        let reply: Option<StreamReadReply> = match cmd.query_async(&mut conn).await {
            Ok(reply) => reply,
            Err(e) => {
                if e.is_unrecoverable_error() {
                    // Likely a server restart: the other idle readers are dead too.
                    lock(&self.idle_readers).clear();
                }
                return Err(e);
            }
        };
        self.return_reader(conn);
        Ok(reply
            .map(|r| r.keys.into_iter().flat_map(|k| k.ids).collect())
            .unwrap_or_default())
    }

    /// Turns stream entries into messages; an entry without `data` is acked and skipped.
    async fn messages_from(
        &self,
        topic: &str,
        group: &str,
        entries: Vec<StreamId>,
    ) -> Vec<Message> {
        let mut messages = Vec::with_capacity(entries.len());
        for entry in entries {
            match to_message(topic, entry) {
                Ok(message) => messages.push(message),
                Err(id) => {
                    tracing::warn!(
                        topic,
                        group,
                        id,
                        "stream entry has no `data` field; acknowledging and skipping"
                    );
                    if let Err(e) = self.ack(topic, group, &id).await {
                        tracing::warn!(topic, group, id, error = %e, "could not ack skipped entry");
                    }
                }
            }
        }
        messages
    }
}

#[async_trait]
impl Broker for RedisBroker {
    async fn publish(
        &self,
        topic: &str,
        data: &[u8],
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), PubSubError> {
        let mut cmd = redis::cmd("XADD");
        cmd.arg(topic);
        if let Some(n) = self.max_len_approx {
            cmd.arg("MAXLEN").arg("~").arg(n);
        }
        cmd.arg("*").arg("data").arg(data);
        if !metadata.is_empty() {
            let json = serde_json::to_string(metadata).map_err(backend)?;
            cmd.arg("metadata").arg(json);
        }
        let _id: String = cmd
            .query_async(&mut self.conn.clone())
            .await
            .map_err(backend)?;
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
        self.ensure_group(topic, group).await?;
        let entries = match self.read_group(topic, group, consumer, max, wait).await {
            // The stream (and its groups) was deleted since we created the group: create it again.
            Err(e) if e.code() == Some("NOGROUP") => {
                self.forget_group(topic, group);
                self.ensure_group(topic, group).await?;
                self.read_group(topic, group, consumer, max, wait)
                    .await
                    .map_err(backend)?
            }
            other => other.map_err(backend)?,
        };
        Ok(self.messages_from(topic, group, entries).await)
    }

    async fn ack(&self, topic: &str, group: &str, id: &str) -> Result<(), PubSubError> {
        let _acked: i64 = redis::cmd("XACK")
            .arg(topic)
            .arg(group)
            .arg(id)
            .query_async(&mut self.conn.clone())
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn reclaim(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        idle: Duration,
        max: usize,
    ) -> Result<Vec<Message>, PubSubError> {
        let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        let mut cursor = "0-0".to_string();
        let mut messages = Vec::new();
        while messages.len() < max {
            let reply: Result<StreamAutoClaimReply, RedisError> = redis::cmd("XAUTOCLAIM")
                .arg(topic)
                .arg(group)
                .arg(consumer)
                .arg(idle_ms)
                .arg(&cursor)
                .arg("COUNT")
                .arg(max - messages.len())
                .query_async(&mut self.conn.clone())
                .await;
            let reply = match reply {
                // No such group (or stream): nothing can be pending in it.
                Err(e) if e.code() == Some("NOGROUP") => break,
                other => other.map_err(backend)?,
            };
            // Entries deleted from the stream are dropped from the PEL by Redis (≥ 7) and listed in
            // `deleted_ids`; nil entries (Redis 6.2) are skipped by the parser. Either way they are
            // not returned.
            messages.extend(self.messages_from(topic, group, reply.claimed).await);
            cursor = reply.next_stream_id;
            if cursor == "0-0" {
                break;
            }
        }
        Ok(messages)
    }
}

/// Builds a [`Message`] from an entry, or returns the entry id when it has no `data` field.
fn to_message(topic: &str, mut entry: StreamId) -> Result<Message, String> {
    let Some(data) = entry
        .map
        .remove("data")
        .and_then(|v| redis::from_redis_value::<Vec<u8>>(v).ok())
    else {
        return Err(entry.id);
    };
    let metadata = match entry.map.remove("metadata") {
        Some(value) => parse_metadata(&entry.id, value),
        None => BTreeMap::new(),
    };
    Ok(Message {
        id: entry.id,
        topic: topic.to_string(),
        data,
        metadata,
        ordering_key: None,
    })
}

/// Parses the `metadata` field (a JSON object); non-string values are kept as their JSON text.
fn parse_metadata(id: &str, value: Value) -> BTreeMap<String, String> {
    let parsed = redis::from_redis_value::<Vec<u8>>(value)
        .ok()
        .and_then(|bytes| {
            serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).ok()
        });
    let Some(object) = parsed else {
        tracing::warn!(
            id,
            "stream entry has a `metadata` field that is not a JSON object; ignoring it"
        );
        return BTreeMap::new();
    };
    object
        .into_iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => (k, s),
            other => (k, other.to_string()),
        })
        .collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn backend(e: impl std::fmt::Display) -> PubSubError {
    PubSubError::Backend(format!("redis: {e}"))
}
