//! The Docket todo API component: currently only a health endpoint, with RFC 9457 problem responses.

use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;

const HEALTH_PATH: &str = "/api/health";

#[http_component]
fn handle(req: Request) -> Response {
    let path = req.path();
    match (req.method(), path) {
        (Method::Get, HEALTH_PATH) => health(),
        (method, HEALTH_PATH) => {
            let mut response = problem(
                405,
                "Method Not Allowed",
                &format!("{method} is not allowed on {HEALTH_PATH}"),
            );
            response.set_header("allow", "GET");
            response
        }
        (method, path) => problem(404, "Not Found", &format!("no route for {method} {path}")),
    }
}

fn health() -> Response {
    let body = json!({
        "status": "ok",
        "service": "todo-api",
        "version": env!("CARGO_PKG_VERSION"),
    });
    Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.to_string())
        .build()
}

/// An `application/problem+json` response (RFC 9457).
fn problem(status: u16, title: &str, detail: &str) -> Response {
    let body = json!({
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
    });
    Response::builder()
        .status(status)
        .header("content-type", "application/problem+json")
        .body(body.to_string())
        .build()
}
