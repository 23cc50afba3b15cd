//! The wasmtime engine: pooling allocator, epoch interruption, compile cache.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::Context;

use crate::wasm_error::WasmtimeContext;
use wasmtime::{
    Cache, CacheConfig, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig,
};

use crate::config::RuntimeConfig;

/// How often the epoch advances. Guests are checked for their deadline and
/// made to yield to other requests at this granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A Rust `wasm32-wasip2` component instantiates a handful of core modules
/// (the program plus the component model's adapter shims); these bound the
/// pool slots reserved per component instance.
const CORE_INSTANCES_PER_COMPONENT: u32 = 10;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 10;

const KEEP_RESIDENT_BYTES: usize = 1 << 20;
const DECOMMIT_BATCH: usize = 32;

pub fn build_engine(config: &RuntimeConfig) -> anyhow::Result<Engine> {
    let limits = config.limits;
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(limits.max_concurrent)
        .total_core_instances(limits.max_concurrent * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(limits.max_concurrent * MEMORIES_PER_COMPONENT)
        .total_tables(limits.max_concurrent * TABLES_PER_COMPONENT)
        .max_memory_size(limits.memory_bytes)
        // Reset recently used pages with memset and batch the rest of the
        // madvise calls: cheaper than unmapping a whole slot per request.
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        .decommit_batch_size(DECOMMIT_BATCH)
        .pagemap_scan(wasmtime::Enabled::Auto);

    let cache_dir = config.cache_dir();
    std::fs::create_dir_all(&cache_dir)
        .with_context(|| format!("failed to create cache dir {}", cache_dir.display()))?;
    let mut cache = CacheConfig::new();
    cache.with_directory(&cache_dir);
    let cache = Cache::new(cache).wasm_context("failed to set up the compile cache")?;

    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .cache(Some(cache));
    Engine::new(&wasm).wasm_context("failed to create the wasmtime engine")
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("docket-epoch".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_TICK);
                    engine.increment_epoch();
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
