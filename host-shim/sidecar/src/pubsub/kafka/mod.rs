//! Kafka broker with Dapr's `pubsub.kafka` behaviour, on librdkafka.
//!
//! Publishing sends one record per message with the `partitionKey` metadata as the record key and
//! every metadata pair as a record header, and answers only once all in-sync replicas have it
//! (idempotent producer, `acks=all`).
//!
//! Consuming: one group consumer per (group, topic), created on the first `fetch`. A fetched record
//! becomes a message whose id is `<partition>-<offset>` and whose ordering key is its partition, so
//! delivery keeps a partition's records in order. `ack` marks the record done and commits the
//! first offset of the partition the app has not answered yet — never past an unanswered record.
//! There is nothing to `reclaim`: when a member leaves the group, the group hands its partitions to
//! the others, which start from the last committed offset.

mod context;
mod offsets;
pub mod settings;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use rdkafka::consumer::{CommitMode, Consumer, StreamConsumer};
use rdkafka::error::{KafkaResult, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message as _, Offset, TopicPartitionList};

use self::context::{ClientProblem, Observer, Problems};
use self::settings::KafkaSettings;
use super::{Broker, Message, PubSubError};

/// How long the start-up check waits for the brokers to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a publish may wait for room in the producer's local queue.
const QUEUE_TIMEOUT: Duration = Duration::from_secs(5);

type GroupConsumer = StreamConsumer<Observer>;

pub struct KafkaBroker {
    component: String,
    settings: KafkaSettings,
    producer: Mutex<FutureProducer<Observer>>,
    /// Errors of the producer's client, read by the start-up check.
    problems: Problems,
    consumers: Mutex<HashMap<(String, String), Arc<GroupConsumer>>>,
}

impl KafkaBroker {
    /// Creates the producer and checks that the brokers answer with these
    /// credentials, so a wrong password or an unknown CA stops start-up.
    pub async fn connect(component: &str, settings: KafkaSettings) -> anyhow::Result<Self> {
        let problems = Problems::default();
        let producer = new_producer(component, &settings, &problems)
            .map_err(|e| anyhow::anyhow!("invalid Kafka client settings: {e}"))?;
        let broker = Self {
            component: component.to_string(),
            settings,
            producer: Mutex::new(producer),
            problems,
            consumers: Mutex::new(HashMap::new()),
        };
        broker.check_connection().await?;
        Ok(broker)
    }

    fn producer(&self) -> FutureProducer<Observer> {
        self.producer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// An idempotent producer that hit a fatal error refuses every later
    /// record; the next publish gets a new one.
    fn replace_producer(&self) {
        match new_producer(&self.component, &self.settings, &self.problems) {
            Ok(fresh) => {
                tracing::warn!(pubsub = %self.component, "the Kafka producer failed fatally; starting a new one");
                *self.producer.lock().unwrap_or_else(PoisonError::into_inner) = fresh;
            }
            Err(e) => {
                tracing::error!(pubsub = %self.component, error = %e, "could not start a new Kafka producer")
            }
        }
    }

    async fn check_connection(&self) -> anyhow::Result<()> {
        let started = tokio::time::Instant::now();
        loop {
            let client = self.producer();
            let answer = tokio::task::spawn_blocking(move || {
                client
                    .client()
                    .fetch_metadata(None, Duration::from_secs(1))
                    .map(|_| ())
            })
            .await?;
            let problem = self.problems.latest();
            let target = self.settings.describe();
            match (answer, problem) {
                (Ok(()), _) => return Ok(()),
                (Err(_), Some(ClientProblem::Authentication(reason))) => {
                    anyhow::bail!("Kafka {target}: authentication failed: {reason}")
                }
                (Err(_), Some(ClientProblem::Tls(reason))) => {
                    anyhow::bail!("Kafka {target}: TLS handshake failed: {reason}")
                }
                (Err(e), problem) if started.elapsed() >= CONNECT_TIMEOUT => {
                    let reason = match problem {
                        Some(ClientProblem::Other(reason)) => reason,
                        _ => e.to_string(),
                    };
                    anyhow::bail!(
                        "Kafka {target}: no broker answered within {}s: {reason}",
                        CONNECT_TIMEOUT.as_secs()
                    )
                }
                (Err(_), _) => {}
            }
        }
    }

    /// The group consumer of `topic` for `group`, created and subscribed on first use.
    fn consumer(&self, topic: &str, group: &str) -> Result<Arc<GroupConsumer>, PubSubError> {
        let key = (group.to_string(), topic.to_string());
        let mut consumers = self
            .consumers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(consumer) = consumers.get(&key) {
            return Ok(consumer.clone());
        }
        let consumer: GroupConsumer = self
            .settings
            .consumer_config(group)
            .create_with_context(Observer::new(&self.component, Problems::default()))
            .map_err(backend)?;
        consumer.subscribe(&[topic]).map_err(backend)?;
        tracing::info!(pubsub = %self.component, topic, group, "consuming the topic in its Kafka consumer group");
        let consumer = Arc::new(consumer);
        consumers.insert(key, consumer.clone());
        Ok(consumer)
    }

    fn existing_consumer(&self, topic: &str, group: &str) -> Option<Arc<GroupConsumer>> {
        self.consumers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&(group.to_string(), topic.to_string()))
            .cloned()
    }
}

#[async_trait]
impl Broker for KafkaBroker {
    async fn publish(
        &self,
        topic: &str,
        data: &[u8],
        metadata: &BTreeMap<String, String>,
    ) -> Result<(), PubSubError> {
        let mut headers = OwnedHeaders::new_with_capacity(metadata.len());
        for (name, value) in metadata.iter().filter(|(k, _)| !is_delivery_field(k)) {
            headers = headers.insert(Header {
                key: name,
                value: Some(value),
            });
        }
        let mut record: FutureRecord<'_, str, [u8]> =
            FutureRecord::to(topic).payload(data).headers(headers);
        if let Some(key) = metadata.get("partitionKey") {
            record = record.key(key.as_str());
        }
        if let Some(partition) = metadata.get("partitionNumber") {
            let partition = partition.parse::<i32>().map_err(|_| {
                PubSubError::Backend(format!(
                    "kafka: partitionNumber {partition:?} is not a number"
                ))
            })?;
            record = record.partition(partition);
        }
        let sent = self.producer().send(record, QUEUE_TIMEOUT).await;
        match sent {
            Ok(_) => Ok(()),
            Err((e, _)) => {
                if e.rdkafka_error_code() == Some(RDKafkaErrorCode::Fatal) {
                    self.replace_producer();
                }
                Err(backend(e))
            }
        }
    }

    async fn fetch(
        &self,
        topic: &str,
        group: &str,
        _consumer: &str,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Message>, PubSubError> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let consumer = self.consumer(topic, group)?;
        let mut messages = Vec::new();
        let first = match tokio::time::timeout(wait, consumer.recv()).await {
            Err(_) => return Ok(messages),
            Ok(received) => received.map_err(backend)?,
        };
        let mut next = Some(first);
        while let Some(record) = next.take() {
            let partition = record.partition();
            if consumer
                .context()
                .tracker()
                .handed_out(partition, record.offset())
            {
                messages.push(to_message(&record));
            }
            drop(record);
            if messages.len() >= max {
                break;
            }
            // Take what is already buffered without waiting.
            next = match tokio::time::timeout(Duration::ZERO, consumer.recv()).await {
                Ok(Ok(record)) => Some(record),
                _ => None,
            };
        }
        Ok(messages)
    }

    async fn ack(&self, topic: &str, group: &str, id: &str) -> Result<(), PubSubError> {
        let (partition, offset) = parse_id(id)
            .ok_or_else(|| PubSubError::Backend(format!("kafka: {id:?} is not a record id")))?;
        let Some(consumer) = self.existing_consumer(topic, group) else {
            return Ok(());
        };
        let Some(position) = consumer.context().tracker().acknowledged(partition, offset) else {
            return Ok(());
        };
        let mut list = TopicPartitionList::new();
        list.add_partition_offset(topic, partition, Offset::Offset(position))
            .map_err(backend)?;
        consumer.commit(&list, CommitMode::Async).map_err(backend)
    }

    async fn reclaim(
        &self,
        _topic: &str,
        _group: &str,
        _consumer: &str,
        _idle: Duration,
        _max: usize,
    ) -> Result<Vec<Message>, PubSubError> {
        // The consumer group reassigns a departed member's partitions; the
        // new owner reads them again from the last committed offset.
        Ok(Vec::new())
    }
}

fn new_producer(
    component: &str,
    settings: &KafkaSettings,
    problems: &Problems,
) -> KafkaResult<FutureProducer<Observer>> {
    settings
        .producer_config()
        .create_with_context(Observer::new(component, problems.clone()))
}

/// Delivery metadata added to every consumed record (not copied back into
/// headers when a message is dead-lettered).
fn is_delivery_field(name: &str) -> bool {
    matches!(
        name,
        "__key" | "__topic" | "__partition" | "__offset" | "__timestamp"
    )
}

fn to_message(record: &BorrowedMessage<'_>) -> Message {
    let mut metadata = BTreeMap::new();
    if let Some(headers) = record.headers() {
        for header in headers.iter() {
            let value = header
                .value
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .unwrap_or_default();
            metadata.insert(header.key.to_string(), value);
        }
    }
    if let Some(key) = record.key() {
        metadata.insert(
            "__key".to_string(),
            String::from_utf8_lossy(key).into_owned(),
        );
    }
    metadata.insert("__topic".to_string(), record.topic().to_string());
    metadata.insert("__partition".to_string(), record.partition().to_string());
    metadata.insert("__offset".to_string(), record.offset().to_string());
    if let Some(millis) = record.timestamp().to_millis() {
        metadata.insert("__timestamp".to_string(), millis.to_string());
    }
    Message {
        id: format!("{}-{}", record.partition(), record.offset()),
        topic: record.topic().to_string(),
        data: record.payload().unwrap_or_default().to_vec(),
        metadata,
        ordering_key: Some(record.partition().to_string()),
    }
}

fn parse_id(id: &str) -> Option<(i32, i64)> {
    let (partition, offset) = id.split_once('-')?;
    Some((partition.parse().ok()?, offset.parse().ok()?))
}

fn backend(e: impl std::fmt::Display) -> PubSubError {
    PubSubError::Backend(format!("kafka: {e}"))
}

#[cfg(test)]
mod tests {
    use rdkafka::ClientConfig;

    use super::*;

    #[test]
    fn record_ids_round_trip() {
        assert_eq!(parse_id("3-1042"), Some((3, 1042)));
        assert_eq!(parse_id("1712345-0"), Some((1712345, 0)));
        assert_eq!(parse_id("3"), None);
        assert_eq!(parse_id("a-1"), None);
    }

    #[test]
    fn delivery_fields_are_not_republished() {
        assert!(is_delivery_field("__offset"));
        assert!(!is_delivery_field("partitionKey"));
        assert!(!is_delivery_field("traceparent"));
    }

    fn keys(config: &ClientConfig) -> Vec<String> {
        config.config_map().keys().map(|k| k.to_string()).collect()
    }

    /// librdkafka refuses unknown or misspelt properties when a client is created.
    #[tokio::test]
    async fn every_client_setting_is_a_librdkafka_property() {
        use super::settings::KafkaSettings;
        use crate::resources::{ComponentSpec, Metadata};
        let yaml = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: events\nspec:\n  type: pubsub.kafka\n  version: v1\n";
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).expect("yaml");
        let spec = ComponentSpec::from_yaml(std::path::Path::new("k.yaml"), value).expect("spec");
        let metadata = Metadata {
            values: [
                ("brokers", "127.0.0.1:1"),
                ("authType", "password"),
                ("saslUsername", "u"),
                ("saslPassword", "p"),
                ("saslMechanism", "SHA-256"),
                ("skipVerify", "true"),
                ("maxMessageBytes", "100000"),
            ]
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        };
        let settings = KafkaSettings::parse(&spec, &metadata, "app").expect("settings");
        let producer: Result<FutureProducer, _> = settings.producer_config().create();
        assert!(producer.is_ok(), "{:?}", keys(&settings.producer_config()));
        let consumer: Result<StreamConsumer, _> = settings.consumer_config("g").create();
        assert!(
            consumer.is_ok(),
            "{:?}",
            keys(&settings.consumer_config("g"))
        );
    }
}
