//! Test guest: exposes a key-value store (`?store=`, default `default`) over GET/PUT/DELETE/HEAD `/<key>`.

use guest_support::{error, json, query_param, route_path};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::{Error, Store};

#[http_component]
fn handle(req: Request) -> Response {
    let store_name = query_param(&req, "store").unwrap_or_else(|| "default".to_string());
    let key = route_path(&req).trim_start_matches('/');
    let result = Store::open(&store_name).and_then(|store| match (req.method(), key) {
        (Method::Get, "") => store.get_keys().map(|keys| json(200, &keys.into())),
        (Method::Get, key) => store.get(key).map(|value| match value {
            Some(value) => Response::builder()
                .status(200)
                .header("content-type", "application/octet-stream")
                .body(value)
                .build(),
            None => Response::new(404, ()),
        }),
        (Method::Head, key) => store
            .exists(key)
            .map(|exists| Response::new(if exists { 200 } else { 404 }, ())),
        (Method::Put, "") | (Method::Delete, "") => Ok(error(400, "empty key")),
        (Method::Put, key) => store.set(key, req.body()).map(|()| Response::new(204, ())),
        (Method::Delete, key) => store.delete(key).map(|()| Response::new(204, ())),
        (method, _) => Ok(error(405, format!("method {method} not supported"))),
    });
    result.unwrap_or_else(|e: Error| error(500, format!("{e:?}")))
}
