//! The chat endpoints: a turn (`POST /api/{user_id}/chat`), reading a
//! conversation and forgetting it. History is read and written through a
//! [`StateStore`] only; nothing is kept in memory between requests.

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use todo_core::http::{ApiError, Request, Response};
use todo_core::input::{self, json_body};

use crate::assistant::Turn;
use crate::history::{self, Conversation, Message, Role};
use crate::store::{StateStore, StoreError};

/// Longest message accepted, in characters.
pub const MAX_MESSAGE_CHARS: usize = 4000;
/// Writes retried when another turn wrote the conversation in between. Each
/// conflict means some other turn's write succeeded, so a turn racing N others
/// needs at most N + 1 attempts; this bounds the work at a generous N.
const SAVE_ATTEMPTS: usize = 64;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChatRequest {
    pub conversation_id: Option<String>,
    pub message: String,
    /// IANA timezone for dates in the message ("tomorrow"); default UTC.
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ChatResponse {
    pub conversation_id: String,
    pub response: String,
    pub tool_calls: Vec<serde_json::Value>,
}

/// Produces the assistant's side of a turn, given the history so far.
pub trait Assistant {
    fn reply(
        &self,
        history: &[Message],
        message: &str,
    ) -> impl Future<Output = Result<Turn, ApiError>>;
}

fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::Unavailable(cause) => ApiError::new(
            503,
            "Service Unavailable",
            "the conversation store is unavailable; tasks keep working through the task API",
        )
        .header("retry-after", "5".to_string())
        .cause(cause),
        StoreError::Conflict => {
            ApiError::conflict("the conversation changed too often to save; retry")
        }
    }
}

fn unknown_conversation(id: &str) -> ApiError {
    ApiError::not_found(format!("conversation {id:?} does not exist"))
}

async fn load<S: StateStore>(
    store: &S,
    user_id: &str,
    id: &str,
) -> Result<Option<(Conversation, String)>, ApiError> {
    if !history::valid_id(id) {
        return Err(unknown_conversation(id));
    }
    let Some(stored) = store
        .get(&history::key(user_id, id))
        .await
        .map_err(store_error)?
    else {
        return Ok(None);
    };
    let conversation: Conversation = serde_json::from_slice(&stored.value).map_err(|e| {
        ApiError::internal("a stored conversation is unreadable").cause(e.to_string())
    })?;
    Ok(Some((conversation, stored.etag)))
}

/// Appends `messages` and saves, re-reading and re-appending when another
/// turn saved first, so neither turn's messages are lost.
async fn append<S: StateStore>(
    store: &S,
    mut conversation: Conversation,
    mut etag: Option<String>,
    messages: &[Message],
) -> Result<(), ApiError> {
    let key = history::key(&conversation.user_id, &conversation.conversation_id);
    for _ in 0..SAVE_ATTEMPTS {
        let mut updated = conversation.clone();
        updated.append(messages);
        let value = serde_json::to_vec(&updated).map_err(|e| {
            ApiError::internal("the conversation could not be saved").cause(e.to_string())
        })?;
        match store.save(&key, &value, etag.as_deref()).await {
            Ok(()) => return Ok(()),
            Err(StoreError::Conflict) => {
                let (latest, latest_etag) =
                    load(store, &conversation.user_id, &conversation.conversation_id)
                        .await?
                        .ok_or_else(|| unknown_conversation(&conversation.conversation_id))?;
                conversation = latest;
                etag = Some(latest_etag);
            }
            Err(other) => return Err(store_error(other)),
        }
    }
    Err(store_error(StoreError::Conflict))
}

fn message(role: Role, content: &str, turn: Option<&Turn>, now: DateTime<Utc>) -> Message {
    Message {
        role,
        content: content.to_string(),
        tool_calls: turn
            .map(|t| {
                t.tool_calls
                    .iter()
                    .filter_map(|c| serde_json::to_value(c).ok())
                    .collect()
            })
            .unwrap_or_default(),
        at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
    }
}

/// Checks a turn's body before anything runs.
pub fn parse(request: &Request) -> Result<ChatRequest, ApiError> {
    let chat: ChatRequest = json_body(request)?;
    if chat.message.chars().count() > MAX_MESSAGE_CHARS {
        return Err(ApiError::invalid(
            "message",
            format!("a message is at most {MAX_MESSAGE_CHARS} characters"),
        ));
    }
    input::text("message", &chat.message, MAX_MESSAGE_CHARS)?;
    if chat.message.trim().is_empty() {
        return Err(ApiError::invalid("message", "the message is empty"));
    }
    Ok(chat)
}

/// One turn: the user's message, the assistant's answer and its tool calls,
/// appended to the conversation (a new one when no id is given).
pub async fn turn<S: StateStore, A: Assistant>(
    store: &S,
    assistant: &A,
    user_id: &str,
    chat: ChatRequest,
    new_id: String,
    now: DateTime<Utc>,
) -> Result<ChatResponse, ApiError> {
    let (conversation, etag) = match &chat.conversation_id {
        Some(id) => {
            let (conversation, etag) = load(store, user_id, id)
                .await?
                .ok_or_else(|| unknown_conversation(id))?;
            (conversation, Some(etag))
        }
        None => {
            // Reading the new key first proves the store is up before any
            // tool acts on the user's tasks.
            if load(store, user_id, &new_id).await?.is_some() {
                return Err(ApiError::conflict("that conversation id is taken; retry"));
            }
            (Conversation::new(&new_id, user_id), None)
        }
    };
    let asked = message(Role::User, &chat.message, None, now);
    let outcome = assistant.reply(&conversation.messages, &chat.message).await;
    let conversation_id = conversation.conversation_id.clone();
    match outcome {
        Ok(turn) => {
            let answered = message(Role::Assistant, &turn.response, Some(&turn), now);
            append(store, conversation, etag, &[asked, answered]).await?;
            Ok(ChatResponse {
                conversation_id,
                response: turn.response,
                tool_calls: turn
                    .tool_calls
                    .iter()
                    .filter_map(|c| serde_json::to_value(c).ok())
                    .collect(),
            })
        }
        Err(error) => {
            // The user's message is kept even when no answer came.
            append(store, conversation, etag, &[asked]).await?;
            Err(error.member("conversation_id", json!(conversation_id)))
        }
    }
}

pub async fn read<S: StateStore>(store: &S, user_id: &str, id: &str) -> Result<Response, ApiError> {
    let (conversation, _) = load(store, user_id, id)
        .await?
        .ok_or_else(|| unknown_conversation(id))?;
    Ok(Response::json(200, &conversation))
}

pub async fn forget<S: StateStore>(
    store: &S,
    user_id: &str,
    id: &str,
) -> Result<Response, ApiError> {
    if load(store, user_id, id).await?.is_none() {
        return Err(unknown_conversation(id));
    }
    store
        .delete(&history::key(user_id, id))
        .await
        .map_err(store_error)?;
    Ok(Response::no_content())
}
