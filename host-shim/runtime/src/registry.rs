//! The app's components and their current versions, swapped atomically.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use arc_swap::ArcSwap;
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::component::{self, LoadedComponent};
use crate::state::{ComponentContext, HostState};

/// One component: its fixed context and its current compiled version.
pub struct ComponentSlot {
    pub context: Arc<ComponentContext>,
    pub source: PathBuf,
    current: ArcSwap<LoadedComponent>,
    reloading: tokio::sync::Mutex<()>,
}

impl ComponentSlot {
    pub fn new(context: Arc<ComponentContext>, source: PathBuf, loaded: LoadedComponent) -> Self {
        Self {
            context,
            source,
            current: ArcSwap::from_pointee(loaded),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    /// The version new requests get; in-flight ones keep the `Arc` they took.
    pub fn current(&self) -> Arc<LoadedComponent> {
        self.current.load_full()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    Swapped { digest: String },
    Unchanged { digest: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error("no component `{0}`")]
    UnknownComponent(String),
    #[error("{0:#}")]
    Rejected(anyhow::Error),
}

pub struct Components {
    engine: Engine,
    linker: Arc<Linker<HostState>>,
    slots: HashMap<String, Arc<ComponentSlot>>,
    swaps: tokio::sync::broadcast::Sender<String>,
}

impl Components {
    pub fn new(
        engine: Engine,
        linker: Arc<Linker<HostState>>,
        slots: HashMap<String, Arc<ComponentSlot>>,
    ) -> Self {
        let (swaps, _) = tokio::sync::broadcast::channel(16);
        Self {
            engine,
            linker,
            slots,
            swaps,
        }
    }

    pub fn get(&self, id: &str) -> Option<&Arc<ComponentSlot>> {
        self.slots.get(id)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Arc<ComponentSlot>)> {
        self.slots.iter()
    }

    /// Ids of components swapped in, as they happen.
    pub fn subscribe_swaps(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.swaps.subscribe()
    }

    /// Compiles the component's file again, off the request path, and swaps it
    /// in. A file that fails to compile or link leaves the old version serving.
    pub async fn reload(&self, id: &str) -> Result<ReloadOutcome, ReloadError> {
        let slot = self
            .slots
            .get(id)
            .ok_or_else(|| ReloadError::UnknownComponent(id.to_string()))?;
        let _one_at_a_time = slot.reloading.lock().await;
        let (engine, linker, source, id_owned) = (
            self.engine.clone(),
            self.linker.clone(),
            slot.source.clone(),
            id.to_string(),
        );
        let current_digest = slot.current().digest.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            let bytes = std::fs::read(&source).map_err(|e| {
                anyhow::anyhow!(
                    "component `{id_owned}`: failed to read {}: {e}",
                    source.display()
                )
            })?;
            if component::digest(&bytes) == current_digest {
                return Ok(None);
            }
            component::compile(&engine, &linker, &id_owned, &source, &bytes).map(Some)
        })
        .await
        .map_err(|e| ReloadError::Rejected(e.into()))?;
        match loaded {
            Ok(Some(loaded)) => {
                let digest = loaded.digest.clone();
                slot.current.store(Arc::new(loaded));
                tracing::info!(component = id, digest = %digest, "component swapped in");
                let _ = self.swaps.send(id.to_string());
                Ok(ReloadOutcome::Swapped { digest })
            }
            Ok(None) => Ok(ReloadOutcome::Unchanged {
                digest: slot.current().digest.clone(),
            }),
            Err(e) => {
                tracing::error!(component = id, error = %format!("{e:#}"), "new version rejected; the old one keeps serving");
                Err(ReloadError::Rejected(e))
            }
        }
    }
}
