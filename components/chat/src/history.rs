//! Conversations as they are kept in the state store: one key per user and
//! conversation, the whole history as one JSON value, written with the ETag
//! it was read with so that two concurrent turns never drop a message.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Messages kept per conversation; older ones are dropped first.
pub const MAX_MESSAGES: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<Value>,
    pub at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub conversation_id: String,
    pub user_id: String,
    pub messages: Vec<Message>,
}

impl Conversation {
    pub fn new(conversation_id: &str, user_id: &str) -> Self {
        Self {
            conversation_id: conversation_id.to_string(),
            user_id: user_id.to_string(),
            messages: Vec::new(),
        }
    }

    pub fn append(&mut self, messages: &[Message]) {
        self.messages.extend_from_slice(messages);
        let excess = self.messages.len().saturating_sub(MAX_MESSAGES);
        self.messages.drain(..excess);
    }
}

/// The state-store key of a user's conversation. User ids may contain the
/// separator, so both parts are length-prefixed.
pub fn key(user_id: &str, conversation_id: &str) -> String {
    format!("chat|{}:{user_id}|{conversation_id}", user_id.len())
}

/// Conversation ids are what this service generates: 1–64 of `[A-Za-z0-9-]`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}
