//! Pub/sub broker behaviour, run against SQLite (temp file) and a local Redis (127.0.0.1:6379).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docket_sidecar::pubsub::redis::RedisBroker;
use docket_sidecar::pubsub::sqlite::SqliteBroker;
use docket_sidecar::pubsub::{Broker, Message};

const REDIS_URL: &str = "redis://127.0.0.1:6379";
const SHORT: Duration = Duration::from_millis(300);
const LONG: Duration = Duration::from_secs(5);

/// A broker plus what it takes to clean up after it: a temp dir, or the Redis streams it used.
struct Fixture {
    name: &'static str,
    broker: Arc<dyn Broker>,
    dir: Option<tempfile::TempDir>,
    topics: Mutex<Vec<String>>,
}

impl Fixture {
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let broker = Arc::new(SqliteBroker::open(&dir.path().join("pubsub.db")).unwrap());
        Self {
            name: "sqlite",
            broker,
            dir: Some(dir),
            topics: Mutex::default(),
        }
    }

    async fn redis() -> Self {
        Self::redis_with(None).await
    }

    async fn redis_with(max_len: Option<usize>) -> Self {
        let broker = Arc::new(RedisBroker::connect(REDIS_URL, max_len).await.unwrap());
        Self {
            name: "redis",
            broker,
            dir: None,
            topics: Mutex::default(),
        }
    }

    fn topic(&self) -> String {
        let topic = format!("test-{}", uuid::Uuid::new_v4());
        self.topics.lock().unwrap().push(topic.clone());
        topic
    }

    fn group(&self, topic: &str, name: &'static str) -> Group {
        Group::new(Arc::clone(&self.broker), topic, name)
    }

    fn db_path(&self) -> PathBuf {
        self.dir.as_ref().unwrap().path().join("pubsub.db")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let topics = self.topics.get_mut().unwrap();
        if self.dir.is_none() && !topics.is_empty() {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(&*topics).query(&mut redis());
        }
    }
}

/// One consumer group on one topic of a broker, with the broker calls unwrapped.
#[derive(Clone)]
struct Group {
    broker: Arc<dyn Broker>,
    topic: String,
    name: &'static str,
}

impl Group {
    fn new(broker: Arc<dyn Broker>, topic: &str, name: &'static str) -> Self {
        Self {
            broker,
            topic: topic.to_string(),
            name,
        }
    }

    async fn send(&self, data: &[u8]) {
        self.broker
            .publish(&self.topic, data, &BTreeMap::new())
            .await
            .unwrap();
    }

    /// Publishes `message 0` … `message n-1` and returns them.
    async fn send_n(&self, n: usize) -> Vec<Vec<u8>> {
        let sent: Vec<_> = (0..n)
            .map(|i| format!("message {i}").into_bytes())
            .collect();
        for data in &sent {
            self.send(data).await;
        }
        sent
    }

    async fn take(&self, consumer: &str, max: usize, wait: Duration) -> Vec<Message> {
        self.broker
            .fetch(&self.topic, self.name, consumer, max, wait)
            .await
            .unwrap()
    }

    async fn ack(&self, messages: &[Message]) {
        for message in messages {
            self.broker
                .ack(&self.topic, self.name, &message.id)
                .await
                .unwrap();
        }
    }

    async fn reclaim(&self, consumer: &str, idle: Duration) -> Vec<Message> {
        self.broker
            .reclaim(&self.topic, self.name, consumer, idle, 10)
            .await
            .unwrap()
    }
}

fn redis() -> redis::Connection {
    redis::Client::open(REDIS_URL)
        .unwrap()
        .get_connection()
        .unwrap()
}

/// Runs one Redis command, e.g. `redis_cmd(&["XLEN", topic])`.
fn redis_cmd<T: redis::FromRedisValue>(args: &[&str]) -> T {
    redis::cmd(args[0])
        .arg(&args[1..])
        .query(&mut redis())
        .unwrap()
}

fn payloads(messages: &[Message]) -> Vec<Vec<u8>> {
    messages.iter().map(|m| m.data.clone()).collect()
}

/// Publishes through `publisher` while a 5 s fetch waits on `waiter`; returns what the fetch got
/// (then acked) and how long after the publish it returned.
async fn fetch_during_wait(waiter: &Group, publisher: &Group) -> (Vec<Message>, Duration) {
    let task = waiter.clone();
    let fetch = tokio::spawn(async move { (task.take("c1", 10, LONG).await, Instant::now()) });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let published = Instant::now();
    publisher.send(b"wake up").await;
    let (got, returned) = fetch.await.unwrap();
    waiter.ack(&got).await;
    (got, returned - published)
}

// ---- cases run on both backends ----

async fn publish_then_fetch_in_order(f: &Fixture) {
    let topic = f.topic();
    let meta = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
    let mut json = meta("content-type", "application/json");
    json.insert("traceparent".into(), "00-ab-01".into());
    let sent = [
        (b"{\"a\":1}".to_vec(), json),
        (vec![0, 159, 146, 150, 255], BTreeMap::new()),
        (Vec::new(), meta("k", "v with \"quotes\"")),
    ];
    for (data, metadata) in &sent {
        f.broker.publish(&topic, data, metadata).await.unwrap();
    }
    let got = f.group(&topic, "app").take("c1", 10, SHORT).await;
    let got_pairs: Vec<_> = got
        .iter()
        .map(|m| (m.data.clone(), m.metadata.clone()))
        .collect();
    assert_eq!(got_pairs, sent);
    assert!(got.iter().all(|m| m.topic == topic));
    assert_eq!(
        got.iter().map(|m| &m.id).collect::<BTreeSet<_>>().len(),
        3,
        "unique ids"
    );
}

async fn every_group_gets_every_message(f: &Fixture) {
    let topic = f.topic();
    let sent = f.group(&topic, "orders").send_n(5).await;
    for name in ["orders", "billing"] {
        assert_eq!(
            payloads(&f.group(&topic, name).take("c1", 10, SHORT).await),
            sent
        );
    }
}

async fn consumers_in_a_group_split_messages(f: &Fixture) {
    let app = f.group(&f.topic(), "app");
    let sent: BTreeSet<_> = app.send_n(200).await.into_iter().collect();
    let consume = |consumer: &'static str| {
        let app = app.clone();
        tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = app.take(consumer, 7, Duration::from_millis(200)).await;
                if batch.is_empty() {
                    return got;
                }
                app.ack(&batch).await;
                got.extend(payloads(&batch));
                assert!(got.len() <= 200, "{consumer} got more than was published");
            }
        })
    };
    let (a, b) = (consume("c1"), consume("c2"));
    let (a, b) = (a.await.unwrap(), b.await.unwrap());
    println!("split: c1 got {}, c2 got {}", a.len(), b.len());
    assert_eq!(a.len() + b.len(), 200, "no message delivered twice");
    let (a, b): (BTreeSet<_>, BTreeSet<_>) = (a.into_iter().collect(), b.into_iter().collect());
    assert!(a.is_disjoint(&b));
    assert_eq!(&a | &b, sent);
}

async fn unacked_messages_are_reclaimed(f: &Fixture) {
    let app = f.group(&f.topic(), "app");
    let sent = app.send_n(4).await;
    let got = app.take("c1", 10, SHORT).await;
    assert_eq!(payloads(&got), sent);
    app.ack(&[got[0].clone(), got[2].clone()]).await;

    assert!(app.take("c1", 10, Duration::ZERO).await.is_empty());
    assert!(app.take("c2", 10, Duration::ZERO).await.is_empty());
    let idle = Duration::from_millis(400);
    assert!(
        app.reclaim("c2", idle).await.is_empty(),
        "not idle long enough yet"
    );

    tokio::time::sleep(idle + Duration::from_millis(100)).await;
    let reclaimed = app.reclaim("c2", idle).await;
    assert_eq!(
        reclaimed,
        [got[1].clone(), got[3].clone()],
        "the unacked ones, unchanged"
    );

    // Just claimed by c2, so not idle; once acked, never returned again.
    assert!(app.reclaim("c3", idle).await.is_empty());
    app.ack(&reclaimed[..1]).await;
    tokio::time::sleep(idle + Duration::from_millis(100)).await;
    assert_eq!(app.reclaim("c3", idle).await, [got[3].clone()]);
    let none = f
        .broker
        .reclaim(&app.topic, "app", "c3", Duration::ZERO, 0)
        .await
        .unwrap();
    assert!(none.is_empty(), "max 0");
}

async fn new_group_sees_earlier_messages(f: &Fixture) {
    let topic = f.topic();
    let sent = f.group(&topic, "app").send_n(3).await;
    assert_eq!(
        payloads(&f.group(&topic, "late-app").take("c1", 10, SHORT).await),
        sent
    );
}

/// A fetch gives up after `wait` when nothing comes, and returns promptly when a message is
/// published during the wait; prints the publish→return latency over 100 such publishes.
async fn fetch_waits_for_a_publish(f: &Fixture) {
    let app = f.group(&f.topic(), "app");
    let started = Instant::now();
    assert!(app.take("c1", 10, SHORT).await.is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= SHORT - Duration::from_millis(20),
        "gave up after {waited:?}"
    );

    let mut latencies = Vec::new();
    for _ in 0..100 {
        let (got, latency) = fetch_during_wait(&app, &app).await;
        assert_eq!(payloads(&got), [b"wake up"]);
        latencies.push(latency);
    }
    latencies.sort();
    let [p50, p90, max] = [50, 90, 99].map(|p| latencies[p]);
    println!(
        "{} publish→fetch latency: p50 {p50:?} p90 {p90:?} max {max:?}",
        f.name
    );
    assert!(
        max < Duration::from_secs(2),
        "a fetch returned {max:?} after the publish"
    );
}

macro_rules! on_both_backends {
    ($($case:ident),* $(,)?) => {
        mod sqlite_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(&super::Fixture::sqlite()).await;
            })*
        }
        mod redis_backend {
            $(#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                super::$case(&super::Fixture::redis().await).await;
            })*
        }
    };
}

on_both_backends!(
    publish_then_fetch_in_order,
    every_group_gets_every_message,
    consumers_in_a_group_split_messages,
    unacked_messages_are_reclaimed,
    new_group_sees_earlier_messages,
    fetch_waits_for_a_publish,
);

// ---- SQLite only ----

const CRASH_DB: &str = "BROKERS_TEST_CRASH_DB";

/// Child half of the crash test (a no-op unless run by it): publishes 3 messages, takes 2, acks
/// 1, then exits without closing or checkpointing anything.
#[tokio::test]
async fn sqlite_crash_child() {
    let Some(path) = std::env::var_os(CRASH_DB) else {
        return;
    };
    let app = Group::new(
        Arc::new(SqliteBroker::open(path.as_ref()).unwrap()),
        "crash",
        "app",
    );
    app.send_n(3).await;
    let got = app.take("c1", 2, SHORT).await;
    app.ack(&got[..1]).await;
    std::process::exit(3);
}

#[tokio::test]
async fn sqlite_unacked_messages_survive_a_crash() {
    let f = Fixture::sqlite();
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "sqlite_crash_child", "--nocapture"])
        .env(CRASH_DB, f.db_path())
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(3), "the child should exit mid-run");

    let app = Group::new(
        Arc::new(SqliteBroker::open(&f.db_path()).unwrap()),
        "crash",
        "app",
    );
    let unacked = app.reclaim("c2", Duration::ZERO).await;
    assert_eq!(payloads(&unacked), [b"message 1"]);
    assert_eq!(payloads(&app.take("c2", 10, SHORT).await), [b"message 2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_two_handles_on_one_file_act_as_one_broker() {
    let f = Fixture::sqlite();
    let topic = f.topic();
    let here = f.group(&topic, "app");
    let there = Group {
        broker: Arc::new(SqliteBroker::open(&f.db_path()).unwrap()),
        ..here.clone()
    };

    // A fetch on one handle sees a publish through the other by polling the file.
    let (got, latency) = fetch_during_wait(&here, &there).await;
    assert_eq!(got.len(), 1);
    assert!(latency < Duration::from_secs(1), "took {latency:?}");

    // Competing consumers on separate handles split the messages.
    there.send_n(100).await;
    let mut seen = BTreeSet::new();
    loop {
        let a = here.take("c1", 3, Duration::ZERO).await;
        let b = there.take("c2", 3, Duration::ZERO).await;
        if a.is_empty() && b.is_empty() {
            break;
        }
        for m in a.iter().chain(&b) {
            assert!(seen.insert(m.id.clone()), "{} delivered twice", m.id);
        }
    }
    assert_eq!(seen.len(), 100);
}

#[tokio::test]
async fn sqlite_deletes_messages_every_group_acked() {
    let f = Fixture::sqlite();
    let topic = f.topic();
    let (a, b) = (f.group(&topic, "a"), f.group(&topic, "b"));
    a.send_n(4).await;
    let (in_a, in_b) = (a.take("c1", 10, SHORT).await, b.take("c1", 10, SHORT).await);
    a.ack(&in_a).await;
    b.ack(&[in_b[0].clone(), in_b[2].clone()]).await;

    let stored = || {
        let conn = rusqlite::Connection::open(f.db_path()).unwrap();
        let sql = "SELECT data FROM pubsub_messages WHERE topic = ?1";
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt.query_map([&topic], |row| row.get(0)).unwrap();
        rows.map(Result::unwrap).collect::<Vec<Vec<u8>>>()
    };
    // Group b still needs messages 1 and 3, so everything from 1 on is kept.
    assert_eq!(stored(), payloads(&in_a[1..]));
    let rest = b.reclaim("c2", Duration::ZERO).await;
    assert_eq!(rest, [in_b[1].clone(), in_b[3].clone()]);
    b.ack(&rest).await;
    assert!(stored().is_empty());

    // Sequence numbers keep growing after the log empties, so the cursors still see new messages.
    a.send(b"after").await;
    for group in [a, b] {
        assert_eq!(payloads(&group.take("c1", 10, SHORT).await), [b"after"]);
    }
}

// ---- Redis only ----

fn pending_count(topic: &str, group: &str) -> u64 {
    let summary: Vec<redis::Value> = redis_cmd(&["XPENDING", topic, group]);
    redis::from_redis_value(summary[0].clone()).unwrap()
}

#[tokio::test]
async fn redis_entries_use_dapr_layout() {
    let f = Fixture::redis().await;
    let topic = f.topic();
    let metadata = BTreeMap::from([("ttlInSeconds".to_string(), "60".to_string())]);
    let app = f.group(&topic, "app");
    app.broker
        .publish(&topic, b"\x00bytes\xff", &metadata)
        .await
        .unwrap();
    app.send(b"plain").await;

    type Entry = (String, Vec<(String, Vec<u8>)>);
    let entries: Vec<Entry> = redis_cmd(&["XRANGE", &topic, "-", "+"]);
    let [(id1, first), (id2, second)] = &entries[..] else {
        panic!("{entries:?}")
    };
    assert_eq!(first[0], ("data".to_string(), b"\x00bytes\xff".to_vec()));
    assert_eq!(first[1].0, "metadata");
    let json: BTreeMap<String, String> = serde_json::from_slice(&first[1].1).unwrap();
    assert_eq!(json, metadata);
    assert_eq!(
        second,
        &[("data".to_string(), b"plain".to_vec())],
        "no metadata field"
    );

    // Messages carry the entry ids, and stay pending in the group until acked.
    let got = app.take("c1", 10, SHORT).await;
    assert_eq!(got.iter().map(|m| &m.id).collect::<Vec<_>>(), [id1, id2]);
    assert_eq!(pending_count(&topic, "app"), 2);
}

#[tokio::test]
async fn redis_skips_entries_without_data() {
    let f = Fixture::redis().await;
    let app = f.group(&f.topic(), "app");
    let _: String = redis_cmd(&["XADD", &app.topic, "*", "other", "x"]);
    app.send(b"real").await;
    let got = app.take("c1", 10, SHORT).await;
    assert_eq!(payloads(&got), [b"real"]);
    app.ack(&got).await;
    assert_eq!(
        pending_count(&app.topic, "app"),
        0,
        "the data-less entry was acked"
    );
}

#[tokio::test]
async fn redis_recreates_a_group_whose_stream_was_deleted() {
    let f = Fixture::redis().await;
    let app = f.group(&f.topic(), "app");
    assert!(app.take("c1", 10, Duration::ZERO).await.is_empty());
    let _: () = redis_cmd(&["DEL", &app.topic]);
    app.send(b"again").await;
    assert_eq!(payloads(&app.take("c1", 10, SHORT).await), [b"again"]);
}

#[tokio::test]
async fn redis_trims_with_max_len_approx() {
    let f = Fixture::redis_with(Some(10)).await;
    let app = f.group(&f.topic(), "app");
    app.send_n(500).await;
    let len: u64 = redis_cmd(&["XLEN", &app.topic]);
    assert!(len < 500, "stream kept {len} entries");
}
