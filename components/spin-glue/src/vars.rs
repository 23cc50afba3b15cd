//! Spin variables every component reads.

use spin_sdk::variables;

/// The variable's value, or `default` when it is unset.
pub fn optional(name: &str, default: &str) -> String {
    variables::get(name).unwrap_or_else(|_| default.to_string())
}

/// Where the Dapr sidecar listens, without a trailing slash.
pub fn dapr_url() -> String {
    optional("dapr_url", "http://localhost:3500")
        .trim_end_matches('/')
        .to_string()
}
