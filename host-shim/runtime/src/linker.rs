//! One linker with every interface docket provides, built once per engine.

use wasmtime::Engine;
use wasmtime::component::{HasSelf, Linker};

use crate::bindings;
use crate::state::HostState;
use crate::wasm_error::WasmtimeContext;

pub fn build_linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker).wasm_context("failed to link WASI")?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)
        .wasm_context("failed to link wasi:http")?;
    link_spin_interfaces(&mut linker).wasm_context("failed to link the Spin interfaces")?;
    Ok(linker)
}

fn link_spin_interfaces(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    type Data = HasSelf<HostState>;
    fn state(s: &mut HostState) -> &mut HostState {
        s
    }
    bindings::fermyon::spin::variables::add_to_linker::<_, Data>(linker, state)?;
    bindings::wasi::config::store::add_to_linker::<_, Data>(linker, state)?;
    bindings::fermyon::spin::sqlite::add_to_linker::<_, Data>(linker, state)?;
    bindings::spin::sqlite::sqlite::add_to_linker::<_, Data>(linker, state)?;
    bindings::fermyon::spin::key_value::add_to_linker::<_, Data>(linker, state)?;
    crate::capabilities::postgres::add_to_linker(linker)?;
    Ok(())
}
