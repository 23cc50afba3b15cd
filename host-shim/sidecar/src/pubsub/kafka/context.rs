//! What librdkafka reports in the background: its log lines and client
//! errors (kept, so a failed connection check can say why), commit results
//! and group rebalances (which keep the offset tracker's assignment current).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use rdkafka::consumer::{BaseConsumer, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::{ClientContext, TopicPartitionList, config::RDKafkaLogLevel};

use super::offsets::OffsetTracker;

/// A client error librdkafka reported, by kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientProblem {
    Authentication(String),
    Tls(String),
    Other(String),
}

/// The client errors of one client, readable outside its context.
#[derive(Clone, Default)]
pub struct Problems(Arc<Mutex<Option<ClientProblem>>>);

impl Problems {
    /// The last authentication or TLS problem, else the last error of any kind.
    pub fn latest(&self) -> Option<ClientProblem> {
        lock(&self.0).clone()
    }

    fn record(&self, problem: ClientProblem) {
        let mut kept = lock(&self.0);
        // A later "all brokers down" must not hide why they are down.
        let keep_older = matches!(problem, ClientProblem::Other(_))
            && matches!(
                *kept,
                Some(ClientProblem::Authentication(_) | ClientProblem::Tls(_))
            );
        if !keep_older {
            *kept = Some(problem);
        }
    }
}

pub struct Observer {
    component: String,
    problems: Problems,
    tracker: Mutex<OffsetTracker>,
}

impl Observer {
    pub fn new(component: &str, problems: Problems) -> Self {
        Self {
            component: component.to_string(),
            problems,
            tracker: Mutex::new(OffsetTracker::default()),
        }
    }

    pub fn tracker(&self) -> MutexGuard<'_, OffsetTracker> {
        lock(&self.tracker)
    }
}

impl ClientContext for Observer {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, line: &str) {
        let component = self.component.as_str();
        match level {
            RDKafkaLogLevel::Emerg
            | RDKafkaLogLevel::Alert
            | RDKafkaLogLevel::Critical
            | RDKafkaLogLevel::Error => {
                tracing::error!(target: "librdkafka", pubsub = component, facility, "{line}")
            }
            RDKafkaLogLevel::Warning => {
                tracing::warn!(target: "librdkafka", pubsub = component, facility, "{line}")
            }
            RDKafkaLogLevel::Notice | RDKafkaLogLevel::Info => {
                tracing::info!(target: "librdkafka", pubsub = component, facility, "{line}")
            }
            RDKafkaLogLevel::Debug => {
                tracing::debug!(target: "librdkafka", pubsub = component, facility, "{line}")
            }
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        tracing::warn!(pubsub = %self.component, error = %error, "Kafka client error: {reason}");
        let problem = match error.rdkafka_error_code() {
            Some(RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SaslAuthenticationFailed) => {
                ClientProblem::Authentication(reason.to_string())
            }
            Some(RDKafkaErrorCode::SSL) => ClientProblem::Tls(reason.to_string()),
            _ => ClientProblem::Other(reason.to_string()),
        };
        self.problems.record(problem);
    }
}

impl ConsumerContext for Observer {
    fn pre_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(list) = rebalance {
            let partitions = partitions_of(list);
            tracing::info!(pubsub = %self.component, ?partitions, "partitions revoked");
            self.tracker().revoke(partitions);
        }
    }

    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(list) => {
                let partitions = partitions_of(list);
                tracing::info!(pubsub = %self.component, ?partitions, "partitions assigned");
                self.tracker().assign(partitions);
            }
            Rebalance::Revoke(_) => {}
            Rebalance::Error(e) => {
                tracing::warn!(pubsub = %self.component, error = %e, "consumer group rebalance failed")
            }
        }
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        if let Err(e) = result {
            tracing::warn!(pubsub = %self.component, error = %e, offsets = ?offsets.to_topic_map(), "offset commit failed; those records may be delivered again");
        }
    }
}

fn partitions_of(list: &TopicPartitionList) -> Vec<i32> {
    list.elements().iter().map(|e| e.partition()).collect()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
