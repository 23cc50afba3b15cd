//! The local mailbox: where a notice goes when its channel's provider is not
//! configured (development, or a deployment without SendGrid/FCM). One list
//! per user under [`key`], newest first.

use chrono::{DateTime, Utc};
use docket_state::{StateStore, StoreError};
use serde::{Deserialize, Serialize};

use crate::event::Notice;
use crate::message::Message;
use crate::record::Channel;
use crate::store;

/// Messages kept per user; older ones are dropped.
pub const MAILBOX_LIMIT: usize = 200;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MailboxEntry {
    pub message_id: String,
    pub channel: Channel,
    pub event_id: String,
    pub event_type: String,
    pub task_id: i64,
    pub subject: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

pub fn key(user_id: &str) -> String {
    format!("mailbox:{user_id}")
}

/// The message id of a notice in the mailbox. It is derived from the event
/// and channel, so a redelivery finds the entry already there and the
/// mailbox gets each notice once, whatever happens between the steps.
pub fn message_id(event_id: &str, channel: Channel) -> String {
    format!("mailbox:{event_id}:{}", channel.as_str())
}

pub(crate) async fn put(
    store: &impl StateStore,
    notice: &Notice,
    message: &Message,
    channel: Channel,
    now: DateTime<Utc>,
) -> Result<String, StoreError> {
    let entry = MailboxEntry {
        message_id: message_id(&notice.event_id, channel),
        channel,
        event_id: notice.event_id.clone(),
        event_type: notice.kind.as_str().to_string(),
        task_id: notice.task_id,
        subject: message.subject.clone(),
        body: message.body.clone(),
        created_at: now,
    };
    store::prepend_once(
        store,
        &key(&notice.user_id),
        &entry,
        |a, b| a.message_id == b.message_id,
        MAILBOX_LIMIT,
    )
    .await?;
    Ok(entry.message_id)
}

/// The user's mailbox, newest first, at most `limit` entries.
pub(crate) async fn list(
    store: &impl StateStore,
    user_id: &str,
    limit: usize,
) -> Result<Vec<MailboxEntry>, StoreError> {
    let mut entries: Vec<MailboxEntry> = store::load_list(store, &key(user_id)).await?;
    entries.truncate(limit);
    Ok(entries)
}
