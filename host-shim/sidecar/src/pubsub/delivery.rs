//! Delivering a topic to the app: fetch from the broker as the app-id's
//! consumer group, route each event, POST it, read the answer, retry under the
//! resiliency policy, dead-letter or drop, and only then acknowledge. What a
//! crashed sidecar left unacknowledged is reclaimed by the redelivery sweep.
//! Messages that carry an ordering key go through one lane per key: a lane
//! delivers its messages one after another, in the order they were fetched.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use bytes::Bytes;
use docket_telemetry::metrics::TopicOf;
use http::{HeaderMap, HeaderName, HeaderValue, Method};
use serde_json::Value;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::envelope::{CLOUDEVENT_CONTENT_TYPE, is_expired, synthesize_raw};
use super::outcome::{Outcome, classify};
use super::{Broker, Message};
use crate::app_channel::AppChannel;
use crate::resiliency::RetryPolicy;
use crate::routing::Routes;

/// How long one fetch waits for new messages before looping.
const FETCH_WAIT: Duration = Duration::from_secs(1);
/// Back-off after a broker error, so a down broker is not hammered.
const BROKER_ERROR_PAUSE: Duration = Duration::from_millis(500);
/// An ordering lane with nothing to deliver for this long ends.
const LANE_IDLE: Duration = Duration::from_secs(30);

/// A message on its way through a lane, holding its concurrency permit.
type Queued = (Message, OwnedSemaphorePermit);

/// One active subscription of one app-id.
pub struct Subscription {
    pub pubsub: String,
    pub topic: String,
    /// Consumer group: the app-id (or the component's `consumerID`).
    pub group: String,
    pub routes: Routes,
    pub dead_letter_topic: Option<String>,
    pub raw_payload: bool,
    pub retry: RetryPolicy,
    /// The broker's own redelivery once `retry` is spent and there is no
    /// dead-letter topic (Kafka's `consumeRetryEnabled`): the same message is
    /// tried again under this policy, holding back the ones behind it.
    pub consume_retry: Option<RetryPolicy>,
    /// Resiliency timeout of one delivery attempt; past it the attempt counts as failed.
    pub timeout: Option<Duration>,
    /// Deliveries in flight at once.
    pub concurrency: usize,
    /// A message unacknowledged this long is taken over by the sweep.
    pub processing_timeout: Duration,
    pub redeliver_interval: Duration,
}

impl Subscription {
    /// The labels of this subscription's metrics.
    fn metric_labels(&self) -> TopicOf<'_> {
        TopicOf {
            app_id: &self.group,
            pubsub: &self.pubsub,
            topic: &self.topic,
        }
    }
}

/// A subscription being served, with its concurrency limit and the ids in flight.
struct Running {
    sub: Subscription,
    permits: Arc<Semaphore>,
    in_flight: Mutex<HashSet<String>>,
    /// Ordering key → the queue of its lane.
    lanes: Mutex<HashMap<String, UnboundedSender<Queued>>>,
}

impl Running {
    fn start(&self, id: &str) -> bool {
        self.in_flight
            .lock()
            .is_ok_and(|mut ids| ids.insert(id.to_string()))
    }

    fn finish(&self, id: &str) {
        if let Ok(mut ids) = self.in_flight.lock() {
            ids.remove(id);
        }
    }
}

pub struct Deliverer {
    pub broker: Arc<dyn Broker>,
    pub app: AppChannel,
    /// Unique per sidecar process, so replicas share a group but not pending entries.
    pub consumer: String,
}

impl Deliverer {
    /// Runs the subscription until the returned set is dropped or aborted.
    pub fn spawn(self: &Arc<Self>, subscription: Subscription) -> JoinSet<()> {
        let running = Arc::new(Running {
            permits: Arc::new(Semaphore::new(subscription.concurrency.max(1))),
            in_flight: Mutex::new(HashSet::new()),
            lanes: Mutex::new(HashMap::new()),
            sub: subscription,
        });
        let mut tasks = JoinSet::new();
        tasks.spawn(self.clone().fetch_loop(running.clone()));
        tasks.spawn(self.clone().sweep_loop(running));
        tasks
    }

    async fn fetch_loop(self: Arc<Self>, running: Arc<Running>) {
        let sub = &running.sub;
        loop {
            let available = running.permits.available_permits().max(1);
            match self
                .broker
                .fetch(
                    &sub.topic,
                    &sub.group,
                    &self.consumer,
                    available,
                    FETCH_WAIT,
                )
                .await
            {
                Ok(messages) => self.dispatch(&running, messages).await,
                Err(e) => {
                    tracing::warn!(topic = %sub.topic, error = %e, "fetch from broker failed");
                    tokio::time::sleep(BROKER_ERROR_PAUSE).await;
                }
            }
        }
    }

    async fn sweep_loop(self: Arc<Self>, running: Arc<Running>) {
        let sub = &running.sub;
        loop {
            match self
                .broker
                .reclaim(
                    &sub.topic,
                    &sub.group,
                    &self.consumer,
                    sub.processing_timeout,
                    100,
                )
                .await
            {
                Ok(messages) if !messages.is_empty() => {
                    tracing::info!(topic = %sub.topic, count = messages.len(), "redelivering messages left unacknowledged");
                    self.dispatch(&running, messages).await;
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(topic = %sub.topic, error = %e, "redelivery sweep failed"),
            }
            tokio::time::sleep(sub.redeliver_interval).await;
        }
    }

    async fn dispatch(self: &Arc<Self>, running: &Arc<Running>, messages: Vec<Message>) {
        for message in messages {
            // The sweep may hand back a message this sidecar is still retrying.
            if !running.start(&message.id) {
                continue;
            }
            let Ok(permit) = running.permits.clone().acquire_owned().await else {
                return;
            };
            if let Some(key) = message.ordering_key.clone() {
                self.enqueue(running, key, (message, permit));
                continue;
            }
            let (this, running) = (self.clone(), running.clone());
            tokio::spawn(async move {
                let id = message.id.clone();
                this.deliver(&running.sub, message).await;
                running.finish(&id);
                drop(permit);
            });
        }
    }

    /// Queues the message on its key's lane, starting the lane if it has none.
    fn enqueue(self: &Arc<Self>, running: &Arc<Running>, key: String, queued: Queued) {
        let mut lanes = running.lanes.lock().unwrap_or_else(PoisonError::into_inner);
        let queued = match lanes.get(&key) {
            Some(lane) => match lane.send(queued) {
                Ok(()) => return,
                Err(returned) => returned.0,
            },
            None => queued,
        };
        let (lane, receiver) = unbounded_channel();
        if lane.send(queued).is_ok() {
            lanes.insert(key.clone(), lane);
            tokio::spawn(self.clone().run_lane(running.clone(), key, receiver));
        }
    }

    /// Delivers one lane's messages in order; ends once idle, after taking
    /// itself out of the lane map (under its lock, so nothing is queued to a
    /// lane that has ended).
    async fn run_lane(
        self: Arc<Self>,
        running: Arc<Running>,
        key: String,
        mut queue: UnboundedReceiver<Queued>,
    ) {
        loop {
            match tokio::time::timeout(LANE_IDLE, queue.recv()).await {
                Ok(Some((message, permit))) => {
                    let id = message.id.clone();
                    self.deliver(&running.sub, message).await;
                    running.finish(&id);
                    drop(permit);
                }
                Ok(None) => return,
                Err(_) => {
                    let mut lanes = running.lanes.lock().unwrap_or_else(PoisonError::into_inner);
                    if queue.is_empty() {
                        lanes.remove(&key);
                        return;
                    }
                }
            }
        }
    }

    /// Delivers one message to its final outcome, then acknowledges it.
    async fn deliver(&self, sub: &Subscription, message: Message) {
        let event_bytes = if sub.raw_payload {
            synthesize_raw(&message.data, &sub.pubsub, &sub.topic)
        } else {
            message.data.clone()
        };
        let event: Value = serde_json::from_slice(&event_bytes).unwrap_or(Value::Null);
        let event_id = event
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if is_expired(&event) {
            self.give_up(sub, &message, &event_id, "the event expired")
                .await;
        } else if let Some(path) = sub.routes.route(&event) {
            let path = path.to_string();
            self.deliver_to(
                sub,
                &message,
                &event,
                Bytes::from(event_bytes),
                &path,
                &event_id,
            )
            .await;
        } else {
            self.give_up(sub, &message, &event_id, "no route matched")
                .await;
        }
        if let Err(e) = self.broker.ack(&sub.topic, &sub.group, &message.id).await {
            tracing::warn!(topic = %sub.topic, id = %message.id, error = %e, "ack failed; the message will be redelivered");
        }
    }

    async fn deliver_to(
        &self,
        sub: &Subscription,
        message: &Message,
        event: &Value,
        body: Bytes,
        path: &str,
        event_id: &str,
    ) {
        let headers = delivery_headers(sub, message, event);
        let mut retries = 0u32;
        let mut rounds = 0u32;
        let metrics = docket_telemetry::global();
        loop {
            let started = Instant::now();
            let result = self
                .app
                .send(Method::POST, path, headers.clone(), body.clone())
                .await;
            let outcome = classify(&result);
            metrics.delivery_attempt(sub.metric_labels(), outcome.metric(), started.elapsed());
            match outcome {
                Outcome::Success => return,
                Outcome::Drop => {
                    self.give_up(sub, message, event_id, "the app dropped it")
                        .await;
                    return;
                }
                Outcome::Retry { status } => {
                    if !sub.retry.allows_retry(retries, status) {
                        if let Some(again) = self.consume_retry(sub, rounds) {
                            tracing::warn!(topic = %sub.topic, id = event_id, round = rounds + 1, status = ?status, "delivery failed; the message is tried again");
                            metrics.redelivery(sub.metric_labels());
                            tokio::time::sleep(again).await;
                            rounds += 1;
                            retries = 0;
                            continue;
                        }
                        let reason = format!(
                            "retries exhausted after {} attempt(s), last status {status:?}",
                            retries + 1
                        );
                        self.give_up(sub, message, event_id, &reason).await;
                        return;
                    }
                    tracing::debug!(topic = %sub.topic, id = event_id, retry = retries + 1, status = ?status, "delivery will be retried");
                    metrics.redelivery(sub.metric_labels());
                    tokio::time::sleep(sub.retry.delay(retries)).await;
                    retries += 1;
                }
            }
        }
    }

    /// The pause before the broker-level round `rounds + 1` of a failed
    /// message, when one is due: never while a dead-letter topic can take it.
    fn consume_retry(&self, sub: &Subscription, rounds: u32) -> Option<Duration> {
        let policy = sub.consume_retry.as_ref()?;
        (sub.dead_letter_topic.is_none() && policy.allows_retry(rounds, None))
            .then(|| policy.delay(rounds))
    }

    /// Dead-letters the message when the subscription has a topic for it,
    /// otherwise logs and drops it (as daprd does).
    async fn give_up(&self, sub: &Subscription, message: &Message, event_id: &str, reason: &str) {
        match &sub.dead_letter_topic {
            Some(dlq) => {
                match self
                    .broker
                    .publish(dlq, &message.data, &message.metadata)
                    .await
                {
                    Ok(()) => {
                        docket_telemetry::global().dead_lettered(sub.metric_labels());
                        tracing::warn!(topic = %sub.topic, dead_letter_topic = %dlq, id = event_id, reason, "message dead-lettered")
                    }
                    Err(e) => {
                        docket_telemetry::global().dropped(sub.metric_labels());
                        tracing::error!(topic = %sub.topic, id = event_id, error = %e, "dead-lettering failed; the message is dropped")
                    }
                }
            }
            None => {
                docket_telemetry::global().dropped(sub.metric_labels());
                tracing::warn!(topic = %sub.topic, id = event_id, reason, "message dropped")
            }
        }
    }
}

fn delivery_headers(sub: &Subscription, message: &Message, event: &Value) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static(CLOUDEVENT_CONTENT_TYPE),
    );
    let mut add = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    };
    for (name, value) in &message.metadata {
        add(name, value);
    }
    add("pubsubname", &sub.pubsub);
    for field in ["traceparent", "tracestate"] {
        if let Some(value) = event
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        {
            add(field, value);
        }
    }
    headers
}
