//! Pub/sub brokers. A backend stores published bytes per topic and hands each
//! message to one consumer of each consumer group (one group per app-id),
//! keeping it pending until acknowledged so a crashed consumer's messages can
//! be claimed by another.

pub mod delivery;
pub mod envelope;
pub mod kafka;
pub mod outcome;
pub mod redis;
pub mod sqlite;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Backend id (a stream entry id, a sequence number); unique per topic.
    pub id: String,
    pub topic: String,
    /// Exactly the bytes that were published (the CloudEvent envelope).
    pub data: Vec<u8>,
    /// Publish metadata, delivered to the app as headers.
    pub metadata: BTreeMap<String, String>,
    /// Messages with the same key reach the app one at a time, in the order
    /// they were fetched (a Kafka partition); `None` means no order is kept.
    pub ordering_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum PubSubError {
    #[error("{0}")]
    Backend(String),
}

#[async_trait]
pub trait Broker: Send + Sync {
    async fn publish(
        &self,
        topic: &str,
        data: &[u8],
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), PubSubError>;

    /// Waits up to `wait` for new messages on `topic` for `group` and claims
    /// up to `max` of them for `consumer`. A new group starts at the beginning
    /// of the topic.
    async fn fetch(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Message>, PubSubError>;

    async fn ack(&self, topic: &str, group: &str, id: &str) -> Result<(), PubSubError>;

    /// Claims for `consumer` messages another consumer of `group` took more
    /// than `idle` ago without acknowledging them.
    async fn reclaim(
        &self,
        topic: &str,
        group: &str,
        consumer: &str,
        idle: Duration,
        max: usize,
    ) -> Result<Vec<Message>, PubSubError>;
}
