//! Delivery records: one per event and channel under [`key`], plus a per-user
//! index of their keys (newest first) so that a user's records can be listed.

use chrono::{DateTime, Duration, Utc};
use docket_state::{StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::event::Notice;
use crate::store;

/// Keys kept in a user's index; older records stay but are no longer listed.
pub const INDEX_LIMIT: usize = 500;

/// How long an attempt holds its record. A delivery finding the record held
/// answers Retry instead of sending alongside; a holder that died (or lost
/// the store mid-attempt) frees it when this runs out. It outlasts the
/// longest attempt: a token request and ten pushes under the host's timeout.
pub const LEASE_SECONDS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Email,
    Push,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Email, Channel::Push];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Push => "push",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Not finished: never tried, being tried, or last tried with a
    /// transient failure.
    Pending,
    Sent,
    /// Failed for good; never tried again.
    Failed,
    /// Still pending when the event reached the dead-letter topic; like
    /// `failed`, never tried again.
    Dead,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Sendgrid,
    Fcm,
    Mailbox,
}

impl Provider {
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Sendgrid => "sendgrid",
            Provider::Fcm => "fcm",
            Provider::Mailbox => "mailbox",
        }
    }
}

/// One device a push goes to. The token itself is not kept, only a
/// fingerprint: the first 16 bytes of its SHA-256, in hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    pub token_sha256: String,
    pub status: Status,
    pub provider_message_id: Option<String>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub event_id: String,
    pub channel: Channel,
    pub user_id: String,
    pub event_type: String,
    pub task_id: i64,
    pub status: Status,
    pub attempts: u32,
    pub last_error: Option<String>,
    pub provider: Provider,
    pub provider_message_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// Push only: the state of each device token tried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub targets: Vec<Target>,
    /// Set while an attempt is under way (see [`LEASE_SECONDS`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<DateTime<Utc>>,
}

pub fn key(event_id: &str, channel: Channel) -> String {
    format!("delivery:{event_id}:{}", channel.as_str())
}

pub fn index_key(user_id: &str) -> String {
    format!("deliveries:{user_id}")
}

/// How one attempt on a channel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Attempt {
    Sent {
        message_id: Option<String>,
        /// Something worth keeping in `last_error` although the channel
        /// succeeded (a device token that failed while another got it).
        note: Option<String>,
    },
    /// Never going to work; not tried again.
    Failed(String),
    /// May work later.
    Retry(String),
}

impl Attempt {
    /// The status it leaves, the provider's message id and what to keep as
    /// `last_error`.
    pub(crate) fn into_parts(self) -> (Status, Option<String>, Option<String>) {
        match self {
            Attempt::Sent { message_id, note } => (Status::Sent, message_id, note),
            Attempt::Failed(why) => (Status::Failed, None, Some(why)),
            Attempt::Retry(why) => (Status::Pending, None, Some(why)),
        }
    }
}

impl DeliveryRecord {
    pub(crate) fn new(
        notice: &Notice,
        channel: Channel,
        provider: Provider,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            event_id: notice.event_id.clone(),
            channel,
            user_id: notice.user_id.clone(),
            event_type: notice.kind.as_str().to_string(),
            task_id: notice.task_id,
            status: Status::Pending,
            attempts: 0,
            last_error: None,
            provider,
            provider_message_id: None,
            created_at: now,
            updated_at: now,
            sent_at: None,
            targets: Vec::new(),
            lease_until: None,
        }
    }

    pub(crate) fn is_held(&self, now: DateTime<Utc>) -> bool {
        self.lease_until.is_some_and(|until| until > now)
    }

    /// Counts a new attempt and holds the record for it.
    pub(crate) fn begin(&mut self, now: DateTime<Utc>) {
        self.attempts += 1;
        self.status = Status::Pending;
        self.updated_at = now;
        self.lease_until = Some(now + Duration::seconds(LEASE_SECONDS));
    }

    pub(crate) fn finish(&mut self, attempt: Attempt, now: DateTime<Utc>) {
        (self.status, self.provider_message_id, self.last_error) = attempt.into_parts();
        self.sent_at = (self.status == Status::Sent).then_some(now);
        self.updated_at = now;
        self.lease_until = None;
    }

    /// Gives up on a pending record, keeping its attempts and last error.
    pub(crate) fn bury(&mut self, now: DateTime<Utc>) {
        self.status = Status::Dead;
        self.updated_at = now;
        self.lease_until = None;
    }
}

/// Adds `record_key` to the user's index unless it is there already.
pub(crate) async fn index(
    store: &impl StateStore,
    user_id: &str,
    record_key: &str,
) -> Result<(), StoreError> {
    store::prepend_once(
        store,
        &index_key(user_id),
        &record_key.to_string(),
        |a, b| a == b,
        INDEX_LIMIT,
    )
    .await
}

/// The user's records, newest first, at most `limit`.
pub(crate) async fn list(
    store: &impl StateStore,
    user_id: &str,
    limit: usize,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    let keys: Vec<String> = store::load_list(store, &index_key(user_id)).await?;
    let mut records = Vec::new();
    for key in keys {
        if records.len() == limit {
            break;
        }
        // An index entry is written before its record, so it may have none.
        if let Some((record, _)) = store::load::<DeliveryRecord>(store, &key).await?
            && record.user_id == user_id
        {
            records.push(record);
        }
    }
    Ok(records)
}
