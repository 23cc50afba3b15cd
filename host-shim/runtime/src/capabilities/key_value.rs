//! Key-value stores: `fermyon:spin/key-value@2.0.0`, each label a durable
//! SQLite file under the data dir (or where the runtime config says).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use rusqlite::OptionalExtension;
use wasmtime::component::Resource;

use super::sqlite_pool::SqlitePool;
use crate::bindings::fermyon::spin::key_value::{self as wit, Error};
use crate::state::HostState;

const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS spin_key_value (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;";

pub struct KeyValueStores {
    pools: HashMap<String, Arc<SqlitePool>>,
}

impl KeyValueStores {
    pub fn open<'a>(
        labels: impl IntoIterator<Item = &'a String>,
        data_dir: &Path,
        configured: &BTreeMap<String, PathBuf>,
    ) -> anyhow::Result<Self> {
        let mut pools = HashMap::new();
        for label in labels {
            if pools.contains_key(label) {
                continue;
            }
            let path = configured
                .get(label)
                .cloned()
                .unwrap_or_else(|| data_dir.join("key_value").join(format!("{label}.db")));
            let pool = SqlitePool::open(&path, SCHEMA)
                .with_context(|| format!("failed to open key-value store `{label}`"))?;
            pools.insert(label.clone(), pool);
        }
        Ok(Self { pools })
    }
}

/// The host side of a guest's `store` resource.
pub struct StoreHandle {
    pool: Arc<SqlitePool>,
}

fn other(err: impl std::fmt::Display) -> Error {
    Error::Other(err.to_string())
}

impl HostState {
    async fn with_store<R: Send + 'static>(
        &mut self,
        store: &Resource<StoreHandle>,
        work: impl FnOnce(&mut rusqlite::Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> wasmtime::Result<Result<R, Error>> {
        let pool = self.table.get(store)?.pool.clone();
        Ok(match pool.run(work).await {
            Ok(result) => result.map_err(other),
            Err(e) => Err(other(format!("{e:#}"))),
        })
    }
}

impl wit::Host for HostState {}

impl wit::HostStore for HostState {
    async fn open(
        &mut self,
        label: String,
    ) -> wasmtime::Result<Result<Resource<StoreHandle>, Error>> {
        if !self.component.key_value_stores.contains(&label) {
            return Ok(Err(Error::AccessDenied));
        }
        let Some(pool) = self.services.key_value.pools.get(&label) else {
            return Ok(Err(Error::NoSuchStore));
        };
        let handle = StoreHandle { pool: pool.clone() };
        Ok(Ok(self.table.push(handle)?))
    }

    async fn get(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Vec<u8>>, Error>> {
        self.with_store(&store, move |db| {
            db.prepare_cached("SELECT value FROM spin_key_value WHERE key = ?1")?
                .query_row([key], |row| row.get(0))
                .optional()
        })
        .await
    }

    async fn set(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
        value: Vec<u8>,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.with_store(&store, move |db| {
            db.prepare_cached(
                "INSERT INTO spin_key_value (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute(rusqlite::params![key, value])
            .map(drop)
        })
        .await
    }

    async fn delete(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<(), Error>> {
        self.with_store(&store, move |db| {
            db.prepare_cached("DELETE FROM spin_key_value WHERE key = ?1")?
                .execute([key])
                .map(drop)
        })
        .await
    }

    async fn exists(
        &mut self,
        store: Resource<StoreHandle>,
        key: String,
    ) -> wasmtime::Result<Result<bool, Error>> {
        self.with_store(&store, move |db| {
            db.prepare_cached("SELECT 1 FROM spin_key_value WHERE key = ?1")?
                .exists([key])
        })
        .await
    }

    async fn get_keys(
        &mut self,
        store: Resource<StoreHandle>,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        self.with_store(&store, |db| {
            let mut stmt = db.prepare_cached("SELECT key FROM spin_key_value ORDER BY key")?;
            let keys = stmt.query_map([], |row| row.get(0))?;
            keys.collect()
        })
        .await
    }

    async fn drop(&mut self, store: Resource<StoreHandle>) -> wasmtime::Result<()> {
        self.table.delete(store)?;
        Ok(())
    }
}
