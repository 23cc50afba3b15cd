//! The component's Spin variables.

use docket_spin::vars::{dapr_url, optional, required};
use todo_core::http::ApiError;

pub struct Config {
    pub jwt_secret: String,
    /// Empty when only the shared secret signs tokens.
    pub jwks_url: String,
    /// Empty for the embedded SQLite database `default`.
    pub database_url: String,
    pub dapr_url: String,
    pub pubsub_name: String,
    /// Dapr state store component holding chat conversations.
    pub statestore_name: String,
    /// An OpenAI-compatible API for the chat; empty: built-in understanding.
    pub llm_base_url: String,
    pub llm_api_key: String,
    pub llm_model: String,
    pub llm_timeout_secs: u64,
}

impl Config {
    pub fn load() -> Result<Self, ApiError> {
        let jwt_secret = required("jwt_secret")?;
        Ok(Self {
            jwt_secret,
            jwks_url: optional("jwks_url", ""),
            database_url: optional("database_url", ""),
            dapr_url: dapr_url(),
            pubsub_name: optional("pubsub_name", "pubsub"),
            statestore_name: optional("statestore_name", "statestore"),
            llm_base_url: optional("llm_base_url", ""),
            llm_api_key: optional("llm_api_key", ""),
            llm_model: optional("llm_model", ""),
            llm_timeout_secs: optional("llm_timeout_secs", "30").parse().unwrap_or(30),
        })
    }
}
