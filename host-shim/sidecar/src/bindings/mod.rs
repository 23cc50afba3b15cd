//! Input and output bindings.

pub mod cron;
pub mod http;
pub mod input;
