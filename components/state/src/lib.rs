//! A key-value state store with ETags (Dapr's, in the components), as the
//! shared crates see it.

use std::future::Future;

#[derive(Debug, Clone, PartialEq)]
pub enum StoreError {
    /// The ETag no longer matches: someone wrote the key since it was read.
    Conflict,
    /// The store could not be reached or failed.
    Unavailable(String),
}

/// A stored value and the ETag to write it back with.
#[derive(Debug, Clone, PartialEq)]
pub struct Stored {
    pub value: Vec<u8>,
    pub etag: String,
}

pub trait StateStore {
    fn get(&self, key: &str) -> impl Future<Output = Result<Option<Stored>, StoreError>>;
    /// Writes `value`; with `etag`, only if the key is still at that ETag.
    fn save(
        &self,
        key: &str,
        value: &[u8],
        etag: Option<&str>,
    ) -> impl Future<Output = Result<(), StoreError>>;
    /// Writes `value` only if `key` holds nothing yet (Dapr's `first-write`
    /// without an ETag); [`StoreError::Conflict`] if it does.
    fn create(&self, key: &str, value: &[u8]) -> impl Future<Output = Result<(), StoreError>>;
    fn delete(&self, key: &str) -> impl Future<Output = Result<(), StoreError>>;
}

pub mod memory;
