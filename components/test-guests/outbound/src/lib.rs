//! Test guest: `GET /?url=<url>` performs an outgoing GET and reports the status and body.

use guest_support::{error, json, query_param};
use spin_sdk::http::{Request, Response, send};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: Request) -> Response {
    let Some(url) = query_param(&req, "url") else {
        return error(400, "missing query parameter `url`");
    };
    match send::<_, Response>(Request::get(url)).await {
        Ok(resp) => json(
            200,
            &serde_json::json!({
                "status": resp.status(),
                "body": String::from_utf8_lossy(resp.body()),
            }),
        ),
        Err(e) => error(502, format!("{e:?}")),
    }
}
