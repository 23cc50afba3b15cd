//! State store behaviour, one suite run against SQLite (temp file) and a local Redis (127.0.0.1:6379).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use docket_sidecar::state::redis::RedisStateStore;
use docket_sidecar::state::sqlite::SqliteStateStore;
use docket_sidecar::state::{
    Concurrency, DeleteRequest, Operation, SetRequest, StateError, StateStore, StoredValue,
};
use redis::Commands as _;

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const SECOND: Duration = Duration::from_secs(1);
const PAST_EXPIRY: Duration = Duration::from_millis(1500);

/// A backing store for one test: a temp SQLite file, or a key prefix in the local Redis.
struct Env {
    prefix: String,
    /// SQLite: the temp dir holding the file. Redis: `None`.
    dir: Option<tempfile::TempDir>,
}

impl Env {
    fn sqlite() -> Self {
        Self::new(Some(tempfile::tempdir().unwrap()))
    }

    fn redis() -> Self {
        Self::new(None)
    }

    fn new(dir: Option<tempfile::TempDir>) -> Self {
        let prefix = format!("test-{}||", uuid::Uuid::new_v4());
        Self { prefix, dir }
    }

    /// A store handle on this test's backing store, with this default TTL.
    async fn open(&self, default_ttl: Option<Duration>) -> Box<dyn StateStore> {
        match &self.dir {
            Some(dir) => Box::new(
                SqliteStateStore::open(&dir.path().join("nested/state.db"))
                    .unwrap()
                    .with_default_ttl(default_ttl),
            ),
            None => Box::new(
                RedisStateStore::connect(REDIS_URL, default_ttl)
                    .await
                    .unwrap(),
            ),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }
}

/// Removes every Redis key the test created, even when it panicked.
impl Drop for Env {
    fn drop(&mut self) {
        if self.dir.is_some() {
            return;
        }
        let mut conn = redis_conn();
        let keys: Vec<String> = conn
            .scan_match(format!("{}*", self.prefix))
            .unwrap()
            .filter_map(Result::ok)
            .collect();
        if !keys.is_empty() {
            let _: i64 = redis::cmd("DEL").arg(&keys).query(&mut conn).unwrap();
        }
    }
}

fn redis_conn() -> redis::Connection {
    redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap()
}

fn set(key: &str, value: &[u8]) -> SetRequest {
    SetRequest {
        key: key.to_string(),
        value: value.to_vec(),
        etag: None,
        concurrency: Concurrency::Unset,
        ttl: None,
    }
}

fn set_with(key: &str, value: &[u8], etag: Option<&str>, concurrency: Concurrency) -> SetRequest {
    SetRequest {
        etag: etag.map(str::to_string),
        concurrency,
        ..set(key, value)
    }
}

fn set_ttl(key: &str, value: &[u8], ttl: Option<Option<Duration>>) -> SetRequest {
    SetRequest {
        ttl,
        ..set(key, value)
    }
}

fn del(key: &str, etag: Option<&str>, concurrency: Concurrency) -> DeleteRequest {
    DeleteRequest {
        key: key.to_string(),
        etag: etag.map(str::to_string),
        concurrency,
    }
}

fn stored(value: &[u8], etag: &str) -> Option<StoredValue> {
    Some(StoredValue {
        value: value.to_vec(),
        etag: etag.to_string(),
    })
}

fn is_mismatch(result: Result<(), StateError>) -> bool {
    matches!(result, Err(StateError::EtagMismatch(_)))
}

fn is_invalid(result: Result<(), StateError>) -> bool {
    matches!(result, Err(StateError::EtagInvalid(_)))
}

/// The behaviour suite: each case runs once per backend.
mod cases {
    use super::*;
    use Concurrency::{FirstWrite, LastWrite, Unset};

    pub async fn round_trip_and_versions(env: &Env) {
        let s = env.open(None).await;
        let k = env.key("a");
        assert_eq!(s.get(&k).await.unwrap(), None);
        s.set(set(&k, b"\"one\"")).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), stored(b"\"one\"", "1"));
        s.set(set(&k, b"{\"n\":2}")).await.unwrap();
        s.set(set(&k, b"3")).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), stored(b"3", "3"));
        assert_eq!(s.get(&env.key("other")).await.unwrap(), None);
    }

    pub async fn etag_on_set(env: &Env) {
        let s = env.open(None).await;
        let k = env.key("a");
        s.set(set(&k, b"v1")).await.unwrap();
        s.set(set_with(&k, b"v2", Some("1"), Unset)).await.unwrap();
        assert!(is_mismatch(
            s.set(set_with(&k, b"x", Some("1"), Unset)).await
        ));
        assert!(is_invalid(
            s.set(set_with(&k, b"x", Some("abc"), Unset)).await
        ));
        assert!(is_invalid(
            s.set(set_with(&k, b"x", Some("-2"), FirstWrite)).await
        ));
        assert_eq!(s.get(&k).await.unwrap(), stored(b"v2", "2"));
        s.set(set_with(&k, b"v3", Some("2"), FirstWrite))
            .await
            .unwrap();
        assert_eq!(s.get(&k).await.unwrap(), stored(b"v3", "3"));
        // As in Dapr's Redis store, a key that does not exist accepts any
        // well-formed ETag.
        let missing = env.key("missing");
        s.set(set_with(&missing, b"x", Some("7"), Unset))
            .await
            .unwrap();
        assert_eq!(s.get(&missing).await.unwrap(), stored(b"x", "1"));
    }

    pub async fn etag_on_delete(env: &Env) {
        let s = env.open(None).await;
        let k = env.key("a");
        s.set(set(&k, b"v1")).await.unwrap();
        s.set(set(&k, b"v2")).await.unwrap();
        assert!(is_mismatch(s.delete(del(&k, Some("1"), Unset)).await));
        assert!(is_invalid(s.delete(del(&k, Some("two"), FirstWrite)).await));
        assert_eq!(s.get(&k).await.unwrap(), stored(b"v2", "2"));
        s.delete(del(&k, Some("2"), Unset)).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), None);
        // As in Dapr's Redis store, deleting a missing key accepts any ETag.
        s.delete(del(&k, Some("2"), Unset)).await.unwrap();
    }

    pub async fn first_write_without_etag(env: &Env) {
        let s = env.open(None).await;
        let k = env.key("a");
        s.set(set_with(&k, b"first", None, FirstWrite))
            .await
            .unwrap();
        assert!(is_mismatch(
            s.set(set_with(&k, b"second", None, FirstWrite)).await
        ));
        assert!(is_mismatch(s.delete(del(&k, None, FirstWrite)).await));
        assert_eq!(s.get(&k).await.unwrap(), stored(b"first", "1"));
        // Without first-write, no ETag means last write wins.
        s.set(set_with(&k, b"second", None, Unset)).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), stored(b"second", "2"));
    }

    pub async fn last_write_ignores_etag(env: &Env) {
        let s = env.open(None).await;
        let k = env.key("a");
        s.set(set(&k, b"v1")).await.unwrap();
        s.set(set_with(&k, b"v2", Some("99"), LastWrite))
            .await
            .unwrap();
        s.set(set_with(&k, b"v3", Some("not-a-number"), LastWrite))
            .await
            .unwrap();
        assert_eq!(s.get(&k).await.unwrap(), stored(b"v3", "3"));
        s.delete(del(&k, Some("42"), LastWrite)).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), None);
    }

    pub async fn delete_missing_key(env: &Env) {
        let s = env.open(None).await;
        let k = env.key("never-written");
        for concurrency in [Unset, FirstWrite, LastWrite] {
            s.delete(del(&k, None, concurrency)).await.unwrap();
        }
        assert_eq!(s.get(&k).await.unwrap(), None);
    }

    pub async fn transaction_commits_all(env: &Env) {
        let s = env.open(None).await;
        let (a, b, c, d) = (env.key("a"), env.key("b"), env.key("c"), env.key("d"));
        s.set(set(&a, b"a1")).await.unwrap();
        s.set(set(&b, b"b1")).await.unwrap();
        s.transact(vec![
            Operation::Upsert(set_with(&a, b"a2", Some("1"), Unset)),
            Operation::Delete(del(&b, Some("1"), Unset)),
            Operation::Upsert(set_with(&c, b"c1", None, FirstWrite)),
            // Later operations see earlier ones on the same key.
            Operation::Upsert(set(&d, b"d1")),
            Operation::Upsert(set_with(&d, b"d2", Some("1"), Unset)),
        ])
        .await
        .unwrap();
        assert_eq!(s.get(&a).await.unwrap(), stored(b"a2", "2"));
        assert_eq!(s.get(&b).await.unwrap(), None);
        assert_eq!(s.get(&c).await.unwrap(), stored(b"c1", "1"));
        assert_eq!(s.get(&d).await.unwrap(), stored(b"d2", "2"));
        s.transact(Vec::new()).await.unwrap();
    }

    pub async fn transaction_rolls_back_all(env: &Env) {
        let s = env.open(None).await;
        let (a, b, c) = (env.key("a"), env.key("b"), env.key("c"));
        s.set(set(&a, b"a1")).await.unwrap();
        s.set(set(&b, b"b1")).await.unwrap();
        let writes = || {
            vec![
                Operation::Upsert(set(&a, b"changed")),
                Operation::Delete(del(&b, None, Unset)),
                Operation::Upsert(set(&c, b"new")),
            ]
        };
        let with_last = |op: Operation| writes().into_iter().chain([op]).collect::<Vec<_>>();
        let bad_etag = with_last(Operation::Upsert(set_with(&a, b"x", Some("7"), Unset)));
        assert!(is_mismatch(s.transact(bad_etag).await));
        let bad_delete = with_last(Operation::Delete(del(&a, Some("7"), Unset)));
        assert!(is_mismatch(s.transact(bad_delete).await));
        let invalid = with_last(Operation::Delete(del(&b, Some("x"), Unset)));
        assert!(is_invalid(s.transact(invalid).await));
        let first_write = with_last(Operation::Upsert(set_with(&c, b"x", None, FirstWrite)));
        assert!(is_mismatch(s.transact(first_write).await));
        assert_eq!(s.get(&a).await.unwrap(), stored(b"a1", "1"));
        assert_eq!(s.get(&b).await.unwrap(), stored(b"b1", "1"));
        assert_eq!(s.get(&c).await.unwrap(), None);
    }

    pub async fn ttl_expiry(env: &Env) {
        let s = env.open(None).await;
        let (k, kept) = (env.key("a"), env.key("kept"));
        s.set(set_ttl(&k, b"short", Some(Some(SECOND))))
            .await
            .unwrap();
        // A later write without a TTL removes an earlier one.
        s.set(set_ttl(&kept, b"v1", Some(Some(SECOND))))
            .await
            .unwrap();
        s.set(set(&kept, b"v2")).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), stored(b"short", "1"));
        tokio::time::sleep(PAST_EXPIRY).await;
        assert_eq!(s.get(&k).await.unwrap(), None);
        s.delete(del(&k, Some("1"), Unset)).await.unwrap();
        assert_eq!(s.get(&kept).await.unwrap(), stored(b"v2", "2"));
        // An expired key starts over at version 1.
        s.set(set(&k, b"again")).await.unwrap();
        assert_eq!(s.get(&k).await.unwrap(), stored(b"again", "1"));
    }

    pub async fn default_ttl(env: &Env) {
        let s = env.open(Some(SECOND)).await;
        let (k, forever, longer) = (env.key("a"), env.key("forever"), env.key("longer"));
        s.set(set(&k, b"default")).await.unwrap();
        s.set(set_ttl(&forever, b"kept", Some(None))).await.unwrap();
        s.set(set_ttl(&longer, b"kept", Some(Some(60 * SECOND))))
            .await
            .unwrap();
        tokio::time::sleep(PAST_EXPIRY).await;
        assert_eq!(s.get(&k).await.unwrap(), None);
        assert_eq!(s.get(&forever).await.unwrap(), stored(b"kept", "1"));
        assert_eq!(s.get(&longer).await.unwrap(), stored(b"kept", "1"));
    }

    pub async fn arbitrary_bytes(env: &Env) {
        let s = env.open(None).await;
        let all_bytes: Vec<u8> = (0..=255).collect();
        let big: Vec<u8> = (0..1 << 20)
            .map(|i: u32| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let values: [&[u8]; 5] = [
            b"",
            b"\xff\xfe\x00\x80 not utf-8 \xc3\x28",
            &all_bytes,
            &big,
            b"\0",
        ];
        for (i, value) in values.iter().enumerate() {
            let k = env.key(&format!("bytes-{i}"));
            s.set(set(&k, value)).await.unwrap();
            assert_eq!(s.get(&k).await.unwrap(), stored(value, "1"), "value {i}");
        }
    }

    /// Racing writers holding the same ETag, over two connections: exactly one wins.
    pub async fn concurrent_etag_writers(env: &Env) {
        let handles = [env.open(None).await, env.open(None).await];
        let k = env.key("a");
        handles[0].set(set(&k, b"start")).await.unwrap();
        let attempts = (0..16).map(|i| {
            let (s, value) = (&handles[i % 2], format!("{i}"));
            s.set(set_with(&k, value.as_bytes(), Some("1"), Unset))
        });
        let results = futures::future::join_all(attempts).await;
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
        assert!(results.into_iter().filter(Result::is_err).all(is_mismatch));
        assert_eq!(handles[1].get(&k).await.unwrap().unwrap().etag, "2");
    }
}

/// One `#[tokio::test]` per case and backend: `sqlite_store::<case>` and `redis_store::<case>`.
macro_rules! suite {
    ($($case:ident),* $(,)?) => {
        mod sqlite_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::cases::$case(&super::Env::sqlite()).await;
                }
            )*
        }
        mod redis_store {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    super::cases::$case(&super::Env::redis()).await;
                }
            )*
        }
    };
}

suite!(
    round_trip_and_versions,
    etag_on_set,
    etag_on_delete,
    first_write_without_etag,
    last_write_ignores_etag,
    delete_missing_key,
    transaction_commits_all,
    transaction_rolls_back_all,
    ttl_expiry,
    default_ttl,
    arbitrary_bytes,
    concurrent_etag_writers,
);

/// A raw Redis command's reply.
fn redis_cmd<T: redis::FromRedisValue>(args: &[&str]) -> T {
    redis::cmd(args[0])
        .arg(&args[1..])
        .query(&mut redis_conn())
        .unwrap()
}

#[tokio::test]
async fn redis_layout_matches_dapr() {
    let env = Env::redis();
    let s = env.open(None).await;
    let (k, fw) = (env.key("a"), env.key("fw"));
    s.set(set(&k, b"{\"x\":1}")).await.unwrap();
    assert_eq!(redis_cmd::<String>(&["TYPE", &k]), "hash");
    assert_eq!(redis_cmd::<Vec<u8>>(&["HGET", &k, "data"]), b"{\"x\":1}");
    assert_eq!(redis_cmd::<String>(&["HGET", &k, "version"]), "1");
    assert_eq!(redis_cmd::<i64>(&["TTL", &k]), -1);
    assert_eq!(redis_cmd::<i64>(&["HEXISTS", &k, "first-write"]), 0);

    s.set(set_ttl(&k, b"\xff", Some(Some(100 * SECOND))))
        .await
        .unwrap();
    assert_eq!(redis_cmd::<Vec<u8>>(&["HGET", &k, "data"]), b"\xff");
    assert_eq!(redis_cmd::<String>(&["HGET", &k, "version"]), "2");
    assert!((90..=100).contains(&redis_cmd::<i64>(&["TTL", &k])));
    s.set(set_ttl(&k, b"3", Some(None))).await.unwrap();
    assert_eq!(redis_cmd::<i64>(&["TTL", &k]), -1);

    s.set(set_with(&fw, b"f", None, Concurrency::FirstWrite))
        .await
        .unwrap();
    assert_eq!(redis_cmd::<String>(&["HGET", &fw, "first-write"]), "0");
    assert_eq!(redis_cmd::<String>(&["HGET", &fw, "version"]), "1");

    // Data written by daprd is read back as is.
    let dapr = env.key("from-dapr");
    let _: i64 = redis_cmd(&["HSET", &dapr, "data", "\"hi\"", "version", "41"]);
    assert_eq!(s.get(&dapr).await.unwrap(), stored(b"\"hi\"", "41"));
    s.set(set_with(&dapr, b"\"yo\"", Some("41"), Concurrency::Unset))
        .await
        .unwrap();
    assert_eq!(redis_cmd::<String>(&["HGET", &dapr, "version"]), "42");

    // The component default TTL becomes the key's expiry.
    let with_default = env.open(Some(30 * SECOND)).await;
    with_default.set(set(&k, b"v")).await.unwrap();
    assert!((25..=30).contains(&redis_cmd::<i64>(&["TTL", &k])));
}

#[tokio::test]
async fn sqlite_survives_reopen() {
    let env = Env::sqlite();
    let (k, gone) = (env.key("a"), env.key("gone"));
    {
        let s = env.open(None).await;
        s.set(set(&k, b"v1")).await.unwrap();
        s.set(set(&k, b"\x00durable\xff")).await.unwrap();
        s.set(set(&gone, b"x")).await.unwrap();
        s.delete(del(&gone, None, Concurrency::Unset))
            .await
            .unwrap();
    }
    let s = env.open(None).await;
    assert_eq!(s.get(&k).await.unwrap(), stored(b"\x00durable\xff", "2"));
    assert_eq!(s.get(&gone).await.unwrap(), None);
    s.set(set_with(&k, b"v3", Some("2"), Concurrency::Unset))
        .await
        .unwrap();
    assert_eq!(s.get(&k).await.unwrap(), stored(b"v3", "3"));
}
