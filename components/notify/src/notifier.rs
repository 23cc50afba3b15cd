//! Handling one delivery of the `task-events` topic (or of its dead-letter
//! topic): preferences, one delivery record per channel, and the answer
//! Dapr gets.

use chrono::{DateTime, Utc};
use docket_events::TASK_EVENTS_TOPIC;
use docket_http::HttpClient;
use docket_state::{StateStore, StoreError};
use serde_json::{Value, json};

use crate::channel::Delivery;
use crate::event::{self, Notice};
use crate::message;
use crate::preferences;
use crate::record::{self, Channel, DeliveryRecord, Status};
use crate::settings::Settings;
use crate::store;

pub const DEAD_LETTER_TOPIC: &str = "task-events-dlq";

const BUSY: &str = "another delivery of this event is at work";

/// What Dapr is told about a delivery (always with HTTP 200).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Deliver again later; the text says why (for the log).
    Retry(String),
    /// It can never succeed; Dapr forwards it to the dead-letter topic.
    Drop(String),
}

impl Outcome {
    pub fn dapr_body(&self) -> Value {
        let status = match self {
            Outcome::Success => "SUCCESS",
            Outcome::Retry(_) => "RETRY",
            Outcome::Drop(_) => "DROP",
        };
        json!({ "status": status })
    }
}

/// The answer to Dapr's `GET /dapr/subscribe`.
pub fn subscriptions(pubsub_name: &str, route: &str, dead_letter_route: &str) -> Value {
    json!([
        {
            "pubsubname": pubsub_name,
            "topic": TASK_EVENTS_TOPIC,
            "routes": { "default": route },
            "deadLetterTopic": DEAD_LETTER_TOPIC,
        },
        {
            "pubsubname": pubsub_name,
            "topic": DEAD_LETTER_TOPIC,
            "routes": { "default": dead_letter_route },
        },
    ])
}

pub struct Notifier<'a, H, S> {
    pub http: &'a H,
    pub store: &'a S,
    pub settings: &'a Settings,
}

/// What one channel adds to the outcome.
enum Verdict {
    Done,
    Retry(String),
    Drop(String),
}

impl<H: HttpClient, S: StateStore> Notifier<'_, H, S> {
    /// Notifies the event's user on each channel their preferences ask for.
    ///
    /// Each channel's record is claimed (attempt counted, status `pending`,
    /// a lease taken) with its ETag before the provider is called, and a
    /// channel already `sent` or `failed` is never tried again, so a
    /// redelivery only does what is left. One window cannot be closed: if
    /// the provider accepts and the instance dies (or the store fails)
    /// before `sent` is written, a redelivery sends again. Providers offer
    /// no idempotency key to close it; the mailbox needs none (its entries
    /// are keyed by event and channel).
    pub async fn deliver(&self, body: &[u8], now: DateTime<Utc>) -> Outcome {
        let notice = match event::parse(body).and_then(|event| event.notice()) {
            Ok(Some(notice)) => notice,
            Ok(None) => return Outcome::Success,
            Err(why) => return Outcome::Drop(why),
        };
        self.notify(&notice, now)
            .await
            .unwrap_or_else(store_failure)
    }

    /// Marks every record of the event that is still `pending` as `dead`.
    /// Records already `sent` or `failed` stay: Dapr forwards DROPped
    /// events here too. Only records are touched; an event that never got
    /// one (the store was down throughout) leaves no trace.
    pub async fn dead_letter(&self, body: &[u8], now: DateTime<Utc>) -> Outcome {
        let event = match event::parse(body) {
            Ok(event) => event,
            Err(why) => {
                eprintln!("{DEAD_LETTER_TOPIC}: ignoring an unusable delivery: {why}");
                return Outcome::Success;
            }
        };
        for channel in Channel::ALL {
            if let Err(error) = self.bury(&event.event_id, channel, now).await {
                return store_failure(error);
            }
        }
        Outcome::Success
    }

    async fn bury(
        &self,
        event_id: &str,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let key = record::key(event_id, channel);
        match store::load::<DeliveryRecord>(self.store, &key).await? {
            Some((mut record, etag)) if record.status == Status::Pending => {
                record.bury(now);
                self.store
                    .save(&key, &store::to_json(&record), Some(&etag))
                    .await
            }
            _ => Ok(()),
        }
    }

    async fn notify(&self, notice: &Notice, now: DateTime<Utc>) -> Result<Outcome, StoreError> {
        let preferences = preferences::load(self.store, &notice.user_id).await?;
        let message = message::compose(notice);
        let delivery = Delivery {
            http: self.http,
            store: self.store,
            settings: self.settings,
            notice,
            message: &message,
            preferences: &preferences,
        };
        let mut retry = Vec::new();
        let mut drop = Vec::new();
        for channel in Channel::ALL {
            if !preferences.wants(notice.kind, channel) {
                continue;
            }
            match self.on_channel(&delivery, channel, now).await? {
                Verdict::Done => {}
                Verdict::Retry(why) => retry.push(format!("{}: {why}", channel.as_str())),
                Verdict::Drop(why) => drop.push(format!("{}: {why}", channel.as_str())),
            }
        }
        Ok(if !retry.is_empty() {
            Outcome::Retry(retry.join("; "))
        } else if !drop.is_empty() {
            Outcome::Drop(drop.join("; "))
        } else {
            Outcome::Success
        })
    }

    async fn on_channel(
        &self,
        delivery: &Delivery<'_, H, S>,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Result<Verdict, StoreError> {
        let notice = delivery.notice;
        let key = record::key(&notice.event_id, channel);
        let provider = delivery.provider(channel);
        let (mut record, etag) = match store::load::<DeliveryRecord>(self.store, &key).await? {
            Some((record, etag)) => (record, Some(etag)),
            None => (DeliveryRecord::new(notice, channel, provider, now), None),
        };
        if record.status != Status::Pending {
            return Ok(verdict(&record));
        }
        if record.is_held(now) {
            return Ok(Verdict::Retry(BUSY.into()));
        }
        record.provider = provider;
        record.begin(now);
        let value = store::to_json(&record);
        let claimed = match &etag {
            Some(etag) => self.store.save(&key, &value, Some(etag)).await,
            None => {
                // Index first: a listed key without a record is skipped,
                // a record missing from the index would never be listed.
                record::index(self.store, &notice.user_id, &key).await?;
                self.store.create(&key, &value).await
            }
        };
        match claimed {
            Err(StoreError::Conflict) => return Ok(Verdict::Retry(BUSY.into())),
            claimed => claimed?,
        }
        let attempt = delivery.attempt(channel, &mut record, now).await?;
        record.finish(attempt, now);
        // Without an ETag: the lease keeps other deliveries off the record.
        self.store
            .save(&key, &store::to_json(&record), None)
            .await?;
        if record.status == Status::Sent {
            log_sent(notice, &record);
        }
        Ok(verdict(&record))
    }
}

/// One line per notice sent (on stdout: it is news, not trouble), with the
/// trace id that links it to the request that caused it. No addresses or
/// message text: those stay in the record.
fn log_sent(notice: &Notice, record: &DeliveryRecord) {
    println!(
        "{} notice for event {} sent by {} via {}, attempt {}, trace_id={}",
        notice.kind.as_str(),
        notice.event_id,
        record.channel.as_str(),
        record.provider.as_str(),
        record.attempts,
        notice.trace_id.as_deref().unwrap_or("-"),
    );
}

fn verdict(record: &DeliveryRecord) -> Verdict {
    let why = || record.last_error.clone().unwrap_or_default();
    match record.status {
        Status::Sent => Verdict::Done,
        Status::Pending => Verdict::Retry(why()),
        Status::Failed | Status::Dead => Verdict::Drop(why()),
    }
}

fn store_failure(error: StoreError) -> Outcome {
    Outcome::Retry(match error {
        StoreError::Conflict => BUSY.into(),
        StoreError::Unavailable(why) => format!("state store unavailable: {why}"),
    })
}
