//! Test guest: subscribes through `GET /dapr/subscribe` to the topic named by
//! its `docket-topic-v1` marker (tests patch it to swap versions) and keeps
//! each delivered event's topic in key-value storage, listed by `GET /received`.

use guest_support::{error, json};
use spin_sdk::http::{Method, Request, Response};
use spin_sdk::http_component;
use spin_sdk::key_value::{Error, Store};

const TOPIC: &str = "docket-topic-v1";
const EVENT_KEY_PREFIX: &str = "event:";

#[http_component]
fn handle(req: Request) -> Response {
    let result = Store::open_default().and_then(|store| match (req.method(), req.path()) {
        (Method::Get, "/dapr/subscribe") => Ok(json(
            200,
            &serde_json::json!([{"pubsubname": "pubsub", "topic": TOPIC, "route": "/events"}]),
        )),
        (Method::Post, "/events") => record(&store, req.body()),
        (Method::Get, "/received") => received(&store),
        (method, path) => Ok(error(404, format!("no route for {method} {path}"))),
    });
    result.unwrap_or_else(|e: Error| error(500, format!("{e:?}")))
}

/// One key per event id, so concurrent deliveries never overwrite each other.
fn record(store: &Store, body: &[u8]) -> Result<Response, Error> {
    let Ok(event) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Ok(error(400, "not a CloudEvent"));
    };
    let id = event["id"].as_str().unwrap_or_default();
    let topic = event["topic"].as_str().unwrap_or_default();
    store.set(&format!("{EVENT_KEY_PREFIX}{id}"), topic.as_bytes())?;
    Ok(Response::new(200, ()))
}

fn received(store: &Store) -> Result<Response, Error> {
    let mut topics = Vec::new();
    for key in store.get_keys()? {
        if key.starts_with(EVENT_KEY_PREFIX)
            && let Some(topic) = store.get(&key)?
        {
            topics.push(String::from_utf8_lossy(&topic).into_owned());
        }
    }
    topics.sort();
    Ok(json(200, &topics.into()))
}
