//! The Dapr HTTP API on `/v1.0/...`, one module per building block, with
//! daprd's API-token check in front.

mod bindings;
mod health;
mod invoke;
mod metadata;
mod publish;
mod secrets;
mod state;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put};

use crate::shared::Shared;

/// daprd's default `http-max-request-size` (4 MB).
const MAX_BODY: usize = 4 << 20;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1.0/healthz", get(health::healthz))
        .route("/v1.0/healthz/outbound", get(health::outbound))
        .route("/v1.0/metadata", get(metadata::get))
        .route("/v1.0/metadata/{attribute}", put(metadata::put))
        .route(
            "/v1.0/publish/{pubsub}/{*topic}",
            post(publish::publish).put(publish::publish),
        )
        .route("/v1.0/state/{store}", post(state::save).put(state::save))
        .route(
            "/v1.0/state/{store}/bulk",
            post(state::bulk_get).put(state::bulk_get),
        )
        .route(
            "/v1.0/state/{store}/transaction",
            post(state::transaction).put(state::transaction),
        )
        .route(
            "/v1.0/state/{store}/{key}",
            get(state::get).delete(state::delete),
        )
        .route(
            "/v1.0/bindings/{name}",
            post(bindings::invoke).put(bindings::invoke),
        )
        .route("/v1.0/secrets/{store}/bulk", get(secrets::bulk))
        .route("/v1.0/secrets/{store}/{key}", get(secrets::get))
        .route(
            "/v1.0/invoke/{app_id}/method/{*method}",
            any(invoke::invoke),
        )
        .layer(middleware::from_fn_with_state(
            shared.clone(),
            require_api_token,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(shared)
}

/// With `DAPR_API_TOKEN` set, every call but the health checks needs it.
async fn require_api_token(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let Some(expected) = shared.config.api_token.as_deref() else {
        return next.run(request).await;
    };
    let path = request.uri().path();
    if request.method() == http::Method::GET
        && (path == "/v1.0/healthz" || path == "/v1.0/healthz/outbound")
    {
        return next.run(request).await;
    }
    let given = request
        .headers()
        .get("dapr-api-token")
        .and_then(|v| v.to_str().ok());
    if given.is_some_and(|given| constant_time_eq(given.as_bytes(), expected.as_bytes())) {
        let mut request = request;
        request.headers_mut().remove("dapr-api-token");
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, "invalid api token").into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `metadata.<name>=value` query pairs, prefix stripped (first value wins).
pub(crate) fn query_metadata(query: Option<&str>) -> std::collections::BTreeMap<String, String> {
    let mut metadata = std::collections::BTreeMap::new();
    for (key, value) in url_pairs(query.unwrap_or_default()) {
        if let Some(name) = key.strip_prefix("metadata.") {
            metadata.entry(name.to_string()).or_insert(value);
        }
    }
    metadata
}

/// Decoded `key=value` pairs of a query string.
pub(crate) fn url_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_metadata_query_pairs() {
        let metadata = query_metadata(Some(
            "metadata.ttlInSeconds=5&other=1&metadata.a%20b=x%2By&metadata.ttlInSeconds=9",
        ));
        assert_eq!(metadata["ttlInSeconds"], "5");
        assert_eq!(metadata["a b"], "x+y");
        assert_eq!(metadata.len(), 2);
        assert_eq!(percent_decode("100%"), "100%");
    }
}
