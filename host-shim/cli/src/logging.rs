//! One `tracing` subscriber for the binary; `RUST_LOG` overrides the default.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str = "info,wasmtime=warn,wasmtime_wasi=warn,wasmtime_wasi_http=warn,cranelift_codegen=warn,hyper=warn,notify=warn";

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}
