//! JSON values in the state store, and bounded newest-first lists updated
//! with ETags so that concurrent writers never drop each other's items.

use docket_state::{StateStore, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Rounds of read-modify-write before a contended list gives up; each lost
/// round is another writer's success.
const LIST_ROUNDS: usize = 16;

pub(crate) fn to_json(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// The value at `key` and its ETag. A value this service did not write
/// counts as a failing store: nothing sensible can be done with it.
pub(crate) async fn load<T: DeserializeOwned>(
    store: &impl StateStore,
    key: &str,
) -> Result<Option<(T, String)>, StoreError> {
    let Some(stored) = store.get(key).await? else {
        return Ok(None);
    };
    let value = serde_json::from_slice(&stored.value)
        .map_err(|_| StoreError::Unavailable(format!("{key} holds an unreadable value")))?;
    Ok(Some((value, stored.etag)))
}

/// The list at `key`, empty if there is none.
pub(crate) async fn load_list<T: DeserializeOwned>(
    store: &impl StateStore,
    key: &str,
) -> Result<Vec<T>, StoreError> {
    Ok(load(store, key)
        .await?
        .map(|(items, _)| items)
        .unwrap_or_default())
}

/// Puts `item` first in the list at `key` unless an item `same` as it is in
/// the list already, keeping at most `keep` items.
pub(crate) async fn prepend_once<T: Serialize + DeserializeOwned + Clone>(
    store: &impl StateStore,
    key: &str,
    item: &T,
    same: impl Fn(&T, &T) -> bool,
    keep: usize,
) -> Result<(), StoreError> {
    for _ in 0..LIST_ROUNDS {
        let (mut items, etag) = match load::<Vec<T>>(store, key).await? {
            Some((items, etag)) => (items, Some(etag)),
            None => (Vec::new(), None),
        };
        if items.iter().any(|old| same(old, item)) {
            return Ok(());
        }
        items.insert(0, item.clone());
        items.truncate(keep);
        let value = to_json(&items);
        let written = match &etag {
            Some(etag) => store.save(key, &value, Some(etag)).await,
            None => store.create(key, &value).await,
        };
        if written != Err(StoreError::Conflict) {
            return written;
        }
    }
    Err(StoreError::Conflict)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::cell::Cell;

    use docket_state::Stored;
    use docket_state::memory::MemoryStore;
    use futures::executor::block_on;

    use super::*;

    /// Another writer prepends to the list between each read and write,
    /// `rivals` times.
    struct Contended {
        inner: MemoryStore,
        rivals: Cell<u32>,
    }

    impl Contended {
        async fn rival_writes(&self, key: &str) {
            let rival = self.rivals.get();
            if rival > 0 {
                self.rivals.set(rival - 1);
                let mut items: Vec<String> = load_list(&self.inner, key).await.unwrap();
                items.insert(0, format!("rival-{rival}"));
                self.inner.save(key, &to_json(&items), None).await.unwrap();
            }
        }
    }

    impl StateStore for Contended {
        async fn get(&self, key: &str) -> Result<Option<Stored>, StoreError> {
            self.inner.get(key).await
        }

        async fn save(
            &self,
            key: &str,
            value: &[u8],
            etag: Option<&str>,
        ) -> Result<(), StoreError> {
            self.rival_writes(key).await;
            self.inner.save(key, value, etag).await
        }

        async fn create(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
            self.rival_writes(key).await;
            self.inner.create(key, value).await
        }

        async fn delete(&self, key: &str) -> Result<(), StoreError> {
            self.inner.delete(key).await
        }
    }

    fn prepend(store: &Contended, item: &str) -> Result<(), StoreError> {
        block_on(prepend_once(
            store,
            "list",
            &item.to_string(),
            |a, b| a == b,
            3,
        ))
    }

    #[test]
    fn concurrent_writers_lose_nothing() {
        let store = Contended {
            inner: MemoryStore::default(),
            rivals: Cell::new(2),
        };
        prepend(&store, "mine").unwrap();
        let items: Vec<String> = block_on(load_list(&store, "list")).unwrap();
        assert_eq!(items, ["mine", "rival-1", "rival-2"]);
        prepend(&store, "rival-1").unwrap();
        prepend(&store, "newest").unwrap();
        let items: Vec<String> = block_on(load_list(&store, "list")).unwrap();
        assert_eq!(items, ["newest", "mine", "rival-1"], "kept 3, no repeats");
    }

    #[test]
    fn endless_contention_is_a_conflict() {
        let store = Contended {
            inner: MemoryStore::default(),
            rivals: Cell::new(u32::MAX),
        };
        assert_eq!(prepend(&store, "mine"), Err(StoreError::Conflict));
    }
}
