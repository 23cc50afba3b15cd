//! Spin variables every component reads.

use docket_http::ApiError;
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

/// A variable the service cannot run without; its absence is a 500 whose
/// cause (for the log) names it.
pub fn required(name: &str) -> Result<String, ApiError> {
    variables::get(name).map_err(|e| {
        ApiError::internal("the service is not configured").cause(format!("variable {name}: {e}"))
    })
}
