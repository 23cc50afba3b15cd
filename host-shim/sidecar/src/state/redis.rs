//! Redis state store (`state.redis`) with Dapr's physical layout; ETag checks and writes run atomically in one Lua script.
//!
//! Each key is a hash with fields `data` (the value bytes), `version` (the
//! ETag: "1" on first write, then HINCRBY 1 per write) and `first-write` = 0
//! once first-write concurrency was used. TTLs are key expiries (PEXPIRE), and
//! PERSIST removes one when a write has no TTL.

use std::time::Duration;

use anyhow::Context;
use async_trait::async_trait;
use redis::Script;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::{
    Concurrency, DeleteRequest, Operation, SetRequest, StateError, StateStore, StoredValue,
    check_etag,
};

/// Every write (set, delete, transaction) goes through this script.
///
/// KEYS: one per operation. ARGV: five per operation: kind (`set`/`del`),
/// etag (`""` = none), concurrency (`unset`/`first-write`/`last-write`),
/// data, and TTL in milliseconds (`0` = never expires; a `del` passes an
/// empty data and `0`).
///
/// Pass 1 walks the operations in order and applies the rule of `check_etag`
/// to the version each key will have at that point (so a later operation on
/// the same key sees the earlier one, as in SQLite). ETag syntax has already
/// been validated in Rust, so only the comparison is left here. On the first
/// failure it returns `{index, current version or ""}` without writing
/// anything; otherwise pass 2 applies every write and it returns `{}`.
const WRITE_SCRIPT: &str = r#"
local ARGS_PER_OP = 5
local pending = {}
local function version_of(key)
  local v = pending[key]
  if v == nil then v = redis.call("HGET", key, "version") end
  return v
end
for i, key in ipairs(KEYS) do
  local base = (i - 1) * ARGS_PER_OP
  local kind, etag, mode = ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  local current = version_of(key)
  local ok = true
  if mode ~= "last-write" then
    if etag ~= "" then
      ok = (not current) or current == etag
    elseif mode == "first-write" then
      ok = not current
    end
  end
  if not ok then return {tostring(i), current or ""} end
  if kind == "set" then
    pending[key] = tostring((tonumber(current) or 0) + 1)
  else
    pending[key] = false
  end
end
for i, key in ipairs(KEYS) do
  local base = (i - 1) * ARGS_PER_OP
  if ARGV[base + 1] == "set" then
    redis.call("HSET", key, "data", ARGV[base + 4])
    if ARGV[base + 3] == "first-write" then redis.call("HSET", key, "first-write", 0) end
    redis.call("HINCRBY", key, "version", 1)
    local ttl = tonumber(ARGV[base + 5])
    if ttl > 0 then redis.call("PEXPIRE", key, ttl) else redis.call("PERSIST", key) end
  else
    redis.call("DEL", key)
  end
end
return {}
"#;

pub struct RedisStateStore {
    conn: ConnectionManager,
    default_ttl: Option<Duration>,
    script: Script,
}

fn backend(err: impl std::fmt::Display) -> StateError {
    StateError::Backend(err.to_string())
}

/// One operation, flattened into the script's arguments.
struct ScriptOp<'a> {
    kind: &'static str,
    key: &'a str,
    etag: Option<&'a str>,
    concurrency: Concurrency,
    data: &'a [u8],
    ttl_ms: u64,
}

impl ScriptOp<'_> {
    fn mode(&self) -> &'static str {
        match self.concurrency {
            Concurrency::Unset => "unset",
            Concurrency::FirstWrite => "first-write",
            Concurrency::LastWrite => "last-write",
        }
    }

    /// `check_etag` against a version equal to the ETag itself can only fail
    /// on the ETag's syntax: this rejects invalid ETags exactly as it does.
    fn validate(&self) -> Result<(), StateError> {
        check_etag(self.key, self.etag, self.etag, self.concurrency)
    }

    /// The error for a check the script reported as failed, worded by `check_etag`.
    fn conflict(&self, current: &str) -> StateError {
        let current = Some(current).filter(|v| !v.is_empty());
        match check_etag(self.key, current, self.etag, self.concurrency) {
            Err(err) => err,
            Ok(()) => StateError::Backend(format!(
                "the Redis ETag check of {} disagrees with check_etag",
                self.key
            )),
        }
    }
}

impl RedisStateStore {
    /// Connects to `url` (`redis://[:password@]host:port[/db]`, or `rediss://` for TLS).
    pub async fn connect(url: &str, default_ttl: Option<Duration>) -> anyhow::Result<Self> {
        let client = redis::Client::open(url).context("invalid Redis address")?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(5)))
            .set_response_timeout(Some(Duration::from_secs(5)));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .context("failed to connect to Redis")?;
        Ok(Self {
            conn,
            default_ttl,
            script: Script::new(WRITE_SCRIPT),
        })
    }

    /// The TTL in milliseconds a set applies; 0 means never expires (as does a
    /// zero TTL, like Dapr's `ttl <= 0` → PERSIST).
    fn ttl_ms(&self, ttl: Option<Option<Duration>>) -> u64 {
        ttl.unwrap_or(self.default_ttl)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }

    fn script_op<'a>(&self, operation: &'a Operation) -> ScriptOp<'a> {
        match operation {
            Operation::Upsert(r) => ScriptOp {
                kind: "set",
                key: &r.key,
                etag: r.etag.as_deref(),
                concurrency: r.concurrency,
                data: &r.value,
                ttl_ms: self.ttl_ms(r.ttl),
            },
            Operation::Delete(r) => ScriptOp {
                kind: "del",
                key: &r.key,
                etag: r.etag.as_deref(),
                concurrency: r.concurrency,
                data: &[],
                ttl_ms: 0,
            },
        }
    }

    /// Checks and applies `operations` atomically: all or none.
    async fn write(&self, operations: &[Operation]) -> Result<(), StateError> {
        if operations.is_empty() {
            return Ok(());
        }
        let ops: Vec<ScriptOp<'_>> = operations.iter().map(|op| self.script_op(op)).collect();
        ops.iter().try_for_each(ScriptOp::validate)?;
        let mut invocation = self.script.prepare_invoke();
        for op in &ops {
            invocation
                .key(op.key)
                .arg(op.kind)
                .arg(op.etag.unwrap_or(""))
                .arg(op.mode())
                .arg(op.data)
                .arg(op.ttl_ms);
        }
        let mut conn = self.conn.clone();
        let reply: Vec<String> = invocation.invoke_async(&mut conn).await.map_err(backend)?;
        match reply.as_slice() {
            [] => Ok(()),
            [index, current] => {
                let op = index
                    .parse::<usize>()
                    .ok()
                    .and_then(|i| ops.get(i.checked_sub(1)?))
                    .ok_or_else(|| backend(format!("unexpected script reply {reply:?}")))?;
                Err(op.conflict(current))
            }
            _ => Err(backend(format!("unexpected script reply {reply:?}"))),
        }
    }
}

#[async_trait]
impl StateStore for RedisStateStore {
    async fn get(&self, key: &str) -> Result<Option<StoredValue>, StateError> {
        let mut conn = self.conn.clone();
        let (data, version): (Option<Vec<u8>>, Option<String>) = redis::cmd("HMGET")
            .arg(key)
            .arg("data")
            .arg("version")
            .query_async(&mut conn)
            .await
            .map_err(backend)?;
        match (data, version) {
            (Some(value), Some(etag)) => Ok(Some(StoredValue { value, etag })),
            (None, None) => Ok(None),
            // Like Dapr: every write sets both fields, so this hash is not ours.
            _ => Err(backend(format!(
                "required hash field 'data' or 'version' was not found at {key}"
            ))),
        }
    }

    async fn set(&self, request: SetRequest) -> Result<(), StateError> {
        self.write(&[Operation::Upsert(request)]).await
    }

    async fn delete(&self, request: DeleteRequest) -> Result<(), StateError> {
        self.write(&[Operation::Delete(request)]).await
    }

    async fn transact(&self, operations: Vec<Operation>) -> Result<(), StateError> {
        self.write(&operations).await
    }
}
