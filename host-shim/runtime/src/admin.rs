//! Host endpoints under `/.well-known/`: Spin's health and info, docket's
//! Prometheus metrics, and its component reload (loopback callers with the
//! admin token only).

use std::net::SocketAddr;

use http::{Method, Response, StatusCode};
use serde_json::json;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::registry::{Components, ReloadError, ReloadOutcome};
use crate::responses::{body, json, text};

pub const SPIN_PREFIX: &str = "/.well-known/spin/";
pub const DOCKET_PREFIX: &str = "/.well-known/docket/";
/// Prometheus scrapes docket here.
pub const METRICS_PATH: &str = "/.well-known/docket/metrics";

pub struct AdminContext<'a> {
    pub app_name: &'a str,
    pub app_version: Option<&'a str>,
    pub components: &'a Components,
    pub token: Option<&'a str>,
}

pub async fn handle(
    ctx: AdminContext<'_>,
    method: &Method,
    path: &str,
    authorization: Option<&str>,
    client: SocketAddr,
) -> Response<HyperOutgoingBody> {
    match path {
        "/.well-known/spin/health" => text(StatusCode::OK, "OK"),
        METRICS_PATH => metrics().await,
        "/.well-known/spin/info" => json(
            StatusCode::OK,
            &json!({
                "name": ctx.app_name,
                "version": ctx.app_version,
                "host": format!("docket {}", env!("CARGO_PKG_VERSION")),
            }),
        ),
        _ => match reload_target(path) {
            Some(id) => reload(ctx, method, id, authorization, client).await,
            None => text(StatusCode::NOT_FOUND, "not found"),
        },
    }
}

async fn metrics() -> Response<HyperOutgoingBody> {
    let mut response = Response::new(body(docket_telemetry::global().render().await));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(docket_telemetry::metrics::CONTENT_TYPE),
    );
    response
}

fn reload_target(path: &str) -> Option<&str> {
    path.strip_prefix("/.well-known/docket/components/")?
        .strip_suffix("/reload")
        .filter(|id| !id.is_empty() && !id.contains('/'))
}

async fn reload(
    ctx: AdminContext<'_>,
    method: &Method,
    id: &str,
    authorization: Option<&str>,
    client: SocketAddr,
) -> Response<HyperOutgoingBody> {
    if method != Method::POST {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "use POST");
        response
            .headers_mut()
            .insert(http::header::ALLOW, http::HeaderValue::from_static("POST"));
        return response;
    }
    if !client.ip().is_loopback() {
        return text(
            StatusCode::FORBIDDEN,
            "reload is only accepted from loopback",
        );
    }
    let presented = authorization.and_then(|value| value.strip_prefix("Bearer "));
    let authorized = matches!((ctx.token, presented), (Some(expected), Some(given)) if constant_time_eq(expected.as_bytes(), given.as_bytes()));
    if !authorized {
        return text(StatusCode::UNAUTHORIZED, "missing or wrong admin token");
    }
    match ctx.components.reload(id).await {
        Ok(ReloadOutcome::Swapped { digest }) => json(
            StatusCode::OK,
            &json!({"component": id, "swapped": true, "digest": digest}),
        ),
        Ok(ReloadOutcome::Unchanged { digest }) => json(
            StatusCode::OK,
            &json!({"component": id, "swapped": false, "digest": digest}),
        ),
        Err(ReloadError::UnknownComponent(_)) => {
            text(StatusCode::NOT_FOUND, format!("no component `{id}`"))
        }
        Err(ReloadError::Rejected(e)) => json(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"component": id, "swapped": false, "error": format!("{e:#}")}),
        ),
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_reload_paths() {
        assert_eq!(
            reload_target("/.well-known/docket/components/todo-api/reload"),
            Some("todo-api")
        );
        assert_eq!(
            reload_target("/.well-known/docket/components//reload"),
            None
        );
        assert_eq!(
            reload_target("/.well-known/docket/components/a/b/reload"),
            None
        );
        assert_eq!(reload_target("/.well-known/docket/components/a"), None);
    }

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
