//! Spin-compatible WebAssembly runtime: engine, capabilities, HTTP trigger, hot swap.

mod admin;
mod bindings;
pub mod capabilities;
mod component;
pub mod config;
mod engine;
mod guest_log;
mod headers;
mod invoke;
mod limiter;
mod linker;
mod registry;
mod responses;
mod runtime;
mod state;
mod trigger;
mod wasm_error;
mod watch;

pub use config::{CALLER_HEADER, RequestLimits, RuntimeConfig, RuntimeConfigFile};
pub use registry::{Components, ReloadError, ReloadOutcome};
pub use runtime::Runtime;
