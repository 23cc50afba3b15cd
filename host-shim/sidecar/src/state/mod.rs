//! State stores. Keys reaching a store are already prefixed (`<app-id>||<key>`);
//! values are the JSON bytes daprd would store. ETags are decimal version
//! strings starting at "1", as Dapr's Redis store keeps them.

pub mod redis;
pub mod sqlite;

use std::time::Duration;

use async_trait::async_trait;

/// `options.concurrency` of a request. `Unset` is what daprd passes when the
/// client sent none: an ETag, if given, is still checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Concurrency {
    #[default]
    Unset,
    FirstWrite,
    LastWrite,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetRequest {
    pub key: String,
    pub value: Vec<u8>,
    pub etag: Option<String>,
    pub concurrency: Concurrency,
    /// `None` keeps the store default; `Some(None)` (ttlInSeconds = -1) never expires.
    pub ttl: Option<Option<Duration>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DeleteRequest {
    pub key: String,
    pub etag: Option<String>,
    pub concurrency: Concurrency,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Upsert(SetRequest),
    Delete(DeleteRequest),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredValue {
    pub value: Vec<u8>,
    pub etag: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    /// The ETag given does not match the stored version (or the key is gone).
    #[error("possible etag mismatch. error from state store: {0}")]
    EtagMismatch(String),
    /// The ETag is not a version this store could have issued.
    #[error("invalid etag value: {0}")]
    EtagInvalid(String),
    #[error("{0}")]
    Backend(String),
}

/// ETag rules shared by every backend, as Dapr's Redis store applies them:
/// with `LastWrite` the ETag is ignored; otherwise a given ETag must equal the
/// current version of an existing key (a key that does not exist accepts any
/// well-formed ETag); `FirstWrite` without an ETag only succeeds when the key
/// does not exist yet.
pub fn check_etag(
    key: &str,
    current: Option<&str>,
    etag: Option<&str>,
    concurrency: Concurrency,
) -> Result<(), StateError> {
    if concurrency == Concurrency::LastWrite {
        return Ok(());
    }
    match (etag, current) {
        (Some(given), _) if given.parse::<u64>().is_err() => {
            Err(StateError::EtagInvalid(given.to_string()))
        }
        (Some(_), None) => Ok(()),
        (Some(given), Some(current)) if given == current => Ok(()),
        (Some(_), _) => Err(StateError::EtagMismatch(format!(
            "etag of {key} does not match"
        ))),
        (None, Some(_)) if concurrency == Concurrency::FirstWrite => Err(StateError::EtagMismatch(
            format!("{key} exists and first-write was requested without an etag"),
        )),
        (None, _) => Ok(()),
    }
}

#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get(&self, key: &str) -> Result<Option<StoredValue>, StateError>;
    async fn set(&self, request: SetRequest) -> Result<(), StateError>;
    /// Deleting a missing key succeeds (unless an ETag was required).
    async fn delete(&self, request: DeleteRequest) -> Result<(), StateError>;
    /// All operations or none.
    async fn transact(&self, operations: Vec<Operation>) -> Result<(), StateError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_rules() {
        use Concurrency::*;
        assert!(check_etag("k", Some("3"), Some("3"), Unset).is_ok());
        assert!(matches!(
            check_etag("k", Some("3"), Some("2"), Unset),
            Err(StateError::EtagMismatch(_))
        ));
        assert!(check_etag("k", None, Some("1"), FirstWrite).is_ok());
        assert!(matches!(
            check_etag("k", Some("3"), Some("abc"), Unset),
            Err(StateError::EtagInvalid(_))
        ));
        assert!(check_etag("k", Some("3"), Some("2"), LastWrite).is_ok());
        assert!(check_etag("k", Some("3"), None, Unset).is_ok());
        assert!(matches!(
            check_etag("k", Some("3"), None, FirstWrite),
            Err(StateError::EtagMismatch(_))
        ));
        assert!(check_etag("k", None, None, FirstWrite).is_ok());
    }
}
