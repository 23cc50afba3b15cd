//! Test guest: echoes the method, URI, headers and body length it received as JSON.

use guest_support::{error, json};
use serde_json::{Map, Value};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

#[http_component]
async fn handle(req: IncomingRequest) -> Response {
    let method = req.method().to_string();
    let uri = req.uri();
    let mut headers = Map::new();
    for (name, value) in req.headers().entries() {
        let name = name.to_lowercase();
        let value = String::from_utf8_lossy(&value);
        let joined = match headers.get(&name) {
            Some(Value::String(previous)) => format!("{previous}, {value}"),
            _ => value.into_owned(),
        };
        headers.insert(name, Value::String(joined));
    }
    match req.into_body().await {
        Ok(body) => json(
            200,
            &serde_json::json!({
                "method": method,
                "uri": uri,
                "headers": headers,
                "body_len": body.len(),
            }),
        ),
        Err(e) => error(400, format!("could not read request body: {e:?}")),
    }
}
