//! Compiling and linking one component's `.wasm` into a ready-to-serve
//! pre-instance. The engine's cache makes an unchanged file load without
//! recompiling.

use std::path::Path;

use anyhow::Context;
use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::{Component, Linker};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::state::HostState;

/// One compiled version of a component.
pub struct LoadedComponent {
    pub pre: ProxyPre<HostState>,
    /// sha256 of the `.wasm` bytes, hex.
    pub digest: String,
}

pub fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads, compiles and links `source`. Errors say which component and why,
/// including the name of any import docket does not provide.
pub fn load(
    engine: &Engine,
    linker: &Linker<HostState>,
    id: &str,
    source: &Path,
) -> anyhow::Result<LoadedComponent> {
    let bytes = std::fs::read(source)
        .with_context(|| format!("component `{id}`: failed to read {}", source.display()))?;
    compile(engine, linker, id, source, &bytes)
}

pub fn compile(
    engine: &Engine,
    linker: &Linker<HostState>,
    id: &str,
    source: &Path,
    bytes: &[u8],
) -> anyhow::Result<LoadedComponent> {
    let component = Component::from_binary(engine, bytes).map_err(|e| {
        anyhow::anyhow!(
            "component `{id}`: {} is not a valid WebAssembly component: {e:#}",
            source.display()
        )
    })?;
    let pre = linker
        .instantiate_pre(&component)
        .map_err(|e| anyhow::anyhow!("component `{id}` cannot run on docket: {e:#}"))?;
    let pre = ProxyPre::new(pre).map_err(|e| {
        anyhow::anyhow!("component `{id}` does not export wasi:http/incoming-handler@0.2.x: {e:#}")
    })?;
    Ok(LoadedComponent {
        pre,
        digest: digest(bytes),
    })
}
