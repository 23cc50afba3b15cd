//! An in-process [`StateStore`] with Redis-like integer ETags, for tests of
//! the crates built on the trait. It can be taken down to test outages.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;

use crate::{StateStore, StoreError, Stored};

#[derive(Default)]
pub struct MemoryStore {
    items: RefCell<BTreeMap<String, (Vec<u8>, u64)>>,
    down: Cell<bool>,
}

impl MemoryStore {
    /// While down, every call fails as an unreachable store does.
    pub fn set_down(&self, down: bool) {
        self.down.set(down);
    }

    /// The stored keys, in order.
    pub fn keys(&self) -> Vec<String> {
        self.items.borrow().keys().cloned().collect()
    }

    /// Dapr refuses keys with `||`, its own app-id separator.
    fn check(&self, key: &str) -> Result<(), StoreError> {
        if self.down.get() {
            Err(StoreError::Unavailable("connection refused".into()))
        } else if key.contains("||") {
            Err(StoreError::Unavailable(format!(
                "input key {key:?} can't contain '||'"
            )))
        } else {
            Ok(())
        }
    }

    fn version(&self, key: &str) -> Option<u64> {
        self.items.borrow().get(key).map(|(_, version)| *version)
    }

    fn put(&self, key: &str, value: &[u8], current: Option<u64>) {
        self.items
            .borrow_mut()
            .insert(key.to_string(), (value.to_vec(), current.unwrap_or(0) + 1));
    }
}

impl StateStore for MemoryStore {
    async fn get(&self, key: &str) -> Result<Option<Stored>, StoreError> {
        self.check(key)?;
        Ok(self.items.borrow().get(key).map(|(value, version)| Stored {
            value: value.clone(),
            etag: version.to_string(),
        }))
    }

    async fn save(&self, key: &str, value: &[u8], etag: Option<&str>) -> Result<(), StoreError> {
        self.check(key)?;
        let current = self.version(key);
        // As in Dapr's Redis store, a missing key accepts any ETag.
        if let (Some(etag), Some(current)) = (etag, current)
            && etag != current.to_string()
        {
            return Err(StoreError::Conflict);
        }
        self.put(key, value, current);
        Ok(())
    }

    async fn create(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.check(key)?;
        if self.version(key).is_some() {
            return Err(StoreError::Conflict);
        }
        self.put(key, value, None);
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.check(key)?;
        self.items.borrow_mut().remove(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(future: impl std::future::Future<Output = T>) -> T {
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = std::pin::pin!(future);
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(value) => value,
            std::task::Poll::Pending => panic!("the memory store never waits"),
        }
    }

    #[test]
    fn a_stale_etag_is_a_conflict() {
        let store = MemoryStore::default();
        run(store.save("k", b"1", None)).unwrap();
        let first = run(store.get("k")).unwrap().unwrap();
        run(store.save("k", b"2", Some(&first.etag))).unwrap();
        assert_eq!(
            run(store.save("k", b"3", Some(&first.etag))),
            Err(StoreError::Conflict)
        );
        assert_eq!(run(store.get("k")).unwrap().unwrap().value, b"2");
    }

    #[test]
    fn a_missing_key_accepts_any_etag_as_redis_does() {
        let store = MemoryStore::default();
        run(store.save("k", b"1", Some("7"))).unwrap();
        assert_eq!(run(store.get("k")).unwrap().unwrap().value, b"1");
    }

    #[test]
    fn create_writes_only_once() {
        let store = MemoryStore::default();
        run(store.create("k", b"first")).unwrap();
        assert_eq!(run(store.create("k", b"second")), Err(StoreError::Conflict));
        assert_eq!(run(store.get("k")).unwrap().unwrap().value, b"first");
    }

    #[test]
    fn keys_with_the_dapr_separator_are_refused() {
        let store = MemoryStore::default();
        assert!(matches!(
            run(store.save("a||b", b"1", None)),
            Err(StoreError::Unavailable(_))
        ));
    }

    #[test]
    fn a_store_that_is_down_refuses_everything() {
        let store = MemoryStore::default();
        store.set_down(true);
        assert!(matches!(
            run(store.get("k")),
            Err(StoreError::Unavailable(_))
        ));
        assert!(matches!(
            run(store.create("k", b"v")),
            Err(StoreError::Unavailable(_))
        ));
    }
}
