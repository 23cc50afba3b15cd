//! The web component: serves the Docket single-page app, built into the
//! component at compile time, with the rules of `docket-assets`.

use docket_http::Request;
use docket_spin::io::{header_pairs, send_response};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

include!(concat!(env!("OUT_DIR"), "/site.rs"));

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let path_and_query = incoming.path_with_query().unwrap_or_default();
    let path = match path_and_query.split_once('?') {
        Some((path, _)) => path.to_string(),
        None => path_and_query,
    };
    // The body is never read: no method that has one is served.
    let request = Request {
        method: incoming.method().to_string(),
        path,
        headers: header_pairs(incoming.headers().entries()),
        ..Request::default()
    };
    send_response(out, docket_assets::serve(&SITE, &request)).await;
}
