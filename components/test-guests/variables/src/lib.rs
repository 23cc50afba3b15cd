//! Test guest: reads `/spin?name=` via fermyon:spin/variables and `/config?name=` via wasi:config/store.

use guest_support::{error, query_param, route_path, text};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;

// spin-sdk 5.2 has no public wrapper for wasi:config/store, so bind it directly
// (wit/ is spin-sdk's wasi-runtime-config-2024-09-27 package, copied unchanged).
wit_bindgen::generate!({
    world: "wasi:config/imports",
    path: "wit",
});

use wasi::config::store;

#[http_component]
fn handle(req: Request) -> Response {
    let Some(name) = query_param(&req, "name") else {
        return error(400, "missing query parameter `name`");
    };
    let value = match route_path(&req) {
        "/spin" => match spin_sdk::variables::get(&name) {
            Ok(value) => Ok(Some(value)),
            Err(spin_sdk::variables::Error::Undefined(_)) => Ok(None),
            Err(e) => Err(format!("{e:?}")),
        },
        "/config" => store::get(&name).map_err(|e| format!("{e:?}")),
        other => return error(404, format!("no route for {other}")),
    };
    match value {
        Ok(Some(value)) => text(200, value),
        Ok(None) => error(404, "not found"),
        Err(e) => error(500, e),
    }
}
