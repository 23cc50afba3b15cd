//! The component's Spin variables.

use spin_sdk::variables;
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
}

fn optional(name: &str, default: &str) -> String {
    variables::get(name).unwrap_or_else(|_| default.to_string())
}

impl Config {
    pub fn load() -> Result<Self, ApiError> {
        let jwt_secret = variables::get("jwt_secret").map_err(|e| {
            ApiError::internal("the service is not configured")
                .cause(format!("variable jwt_secret: {e}"))
        })?;
        Ok(Self {
            jwt_secret,
            jwks_url: optional("jwks_url", ""),
            database_url: optional("database_url", ""),
            dapr_url: optional("dapr_url", "http://localhost:3500")
                .trim_end_matches('/')
                .to_string(),
            pubsub_name: optional("pubsub_name", "pubsub"),
            statestore_name: optional("statestore_name", "statestore"),
        })
    }
}
