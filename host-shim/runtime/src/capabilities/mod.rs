//! Spin host capabilities. Each module links its interfaces, checks the
//! app's use of it at startup, and keeps per-app and per-request state.

pub mod key_value;
pub mod outbound_http;
pub mod postgres;
pub mod sqlite;
pub mod sqlite_pool;
pub mod variables;
