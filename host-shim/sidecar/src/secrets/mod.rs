//! Secret stores: the interface the secrets API uses, and the local env and file stores.

pub mod env;
pub mod file;

use std::collections::BTreeMap;
use std::path::PathBuf;

use async_trait::async_trait;

/// One secret's key/value pairs. Name/value stores answer `{"<name>": "<value>"}`.
pub type Secret = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The store's backing file could not be read or understood.
    #[error("secrets file {}: {message}", path.display())]
    File { path: PathBuf, message: String },
    #[error("{0}")]
    Store(String),
}

#[async_trait]
pub trait SecretStore: Send + Sync {
    /// `Ok(None)` when the store has no secret of that name.
    async fn get(&self, name: &str) -> Result<Option<Secret>, SecretError>;

    /// Every secret, by name, in the shape of `GET /v1.0/secrets/<store>/bulk`.
    async fn bulk(&self) -> Result<BTreeMap<String, Secret>, SecretError>;
}
