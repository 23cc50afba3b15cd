//! Hot swap on file change: watch the folders holding component sources and
//! reload a component shortly after its `.wasm` stops changing.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use notify::{RecommendedWatcher, RecursiveMode, Watcher};

use crate::registry::Components;

/// Writers (cargo, cp) touch a file several times; wait for them to settle.
const SETTLE: Duration = Duration::from_millis(300);

/// Starts watching; the returned watcher must be kept alive.
pub fn watch_sources(components: Arc<Components>) -> anyhow::Result<RecommendedWatcher> {
    let mut by_path: HashMap<PathBuf, Vec<String>> = HashMap::new();
    for (id, slot) in components.iter() {
        by_path
            .entry(slot.source.clone())
            .or_default()
            .push(id.clone());
    }
    let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel::<PathBuf>();
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event {
            for path in event.paths {
                let _ = sender.send(path);
            }
        }
    })
    .context("failed to start the file watcher")?;
    let folders: HashSet<PathBuf> = by_path
        .keys()
        .filter_map(|path| path.parent().map(PathBuf::from))
        .collect();
    for folder in &folders {
        watcher
            .watch(folder, RecursiveMode::NonRecursive)
            .with_context(|| format!("failed to watch {}", folder.display()))?;
    }
    tokio::spawn(async move {
        while let Some(first) = receiver.recv().await {
            let mut changed = HashSet::from([first]);
            tokio::time::sleep(SETTLE).await;
            while let Ok(path) = receiver.try_recv() {
                changed.insert(path);
            }
            let ids: HashSet<&String> = changed
                .iter()
                .filter_map(|path| by_path.get(path))
                .flatten()
                .collect();
            for id in ids {
                // Errors are logged by `reload`; the old version keeps serving.
                let _ = components.reload(id).await;
            }
        }
    });
    Ok(watcher)
}
