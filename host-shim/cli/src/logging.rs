//! One `tracing` subscriber for the binary; `RUST_LOG` overrides the default.
//! Lines are written by a background thread so a request never waits on stderr.

use std::io::IsTerminal;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

const DEFAULT_FILTER: &str = "info,wasmtime=warn,wasmtime_wasi=warn,wasmtime_wasi_http=warn,cranelift_codegen=warn,hyper=warn,notify=warn";

/// Keep the guard until exit: dropping it flushes what is still queued.
pub fn init() -> WorkerGuard {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    guard
}
