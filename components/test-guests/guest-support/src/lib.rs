//! Small helpers shared by the Docket test guests: JSON responses, query strings, hex and paths.

use spin_sdk::http::{Request, Response};
use std::fmt::Display;

/// A response with the given status and a JSON body.
pub fn json(status: u16, body: &serde_json::Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

/// A JSON error response: `{"error":"<message>"}`.
pub fn error(status: u16, message: impl Display) -> Response {
    json(status, &serde_json::json!({ "error": message.to_string() }))
}

/// A `text/plain` response.
pub fn text(status: u16, body: impl Into<String>) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "text/plain")
        .body(body.into())
        .build()
}

/// The first value of query parameter `name`, percent-decoded.
pub fn query_param(req: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(req.query().as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// The path the guest should route on: Spin's `spin-path-info` header (the path
/// relative to the component's route) when the host sets it, else the URI path.
pub fn route_path(req: &Request) -> &str {
    req.header("spin-path-info")
        .and_then(|value| value.as_str())
        .unwrap_or_else(|| req.path())
}

/// Lowercase hex encoding.
pub fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes a hex string (either case); `None` if it is not valid hex.
pub fn hex_decode(hex: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = hex
        .chars()
        .map(|c| c.to_digit(16).map(|d| d as u8))
        .collect::<Option<_>>()?;
    if !digits.len().is_multiple_of(2) {
        return None;
    }
    Some(digits.chunks_exact(2).map(|p| p[0] << 4 | p[1]).collect())
}
