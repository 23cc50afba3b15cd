//! Test guest: answers every request with a fixed greeting whose version marker tests binary-patch.

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

/// The marker `docket-hello-v1` must occur exactly once in the built .wasm.
const GREETING: &str = "hello from docket-hello-v1\n";

#[http_component]
fn handle(_req: Request) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(GREETING)
        .build()
}
