//! Test guest: imports fermyon:spin/mqtt@2.0.0 (by opening an MQTT connection), which Docket does not provide.

use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use spin_sdk::mqtt::Connection;

#[http_component]
fn handle(_req: Request) -> Response {
    let outcome = match Connection::open("mqtt://localhost:1883", "", "", 30) {
        Ok(_) => "mqtt connection opened\n".to_string(),
        Err(e) => format!("mqtt connection failed: {e:?}\n"),
    };
    Response::new(200, outcome)
}
