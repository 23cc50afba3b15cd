//! `GET /v1.0/metadata` and `PUT /v1.0/metadata/{attribute}`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use serde_json::{Value, json};

use crate::shared::Shared;

pub async fn get(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Json<Value> {
    let app_id = shared.caller(&headers);
    let components: Vec<Value> = shared
        .registry
        .describe()
        .into_iter()
        .map(|(name, kind, version, capabilities)| {
            json!({"name": name, "type": kind, "version": version, "capabilities": capabilities})
        })
        .collect();
    let subscriptions: Vec<Value> = shared
        .subscriptions
        .read()
        .map(|subs| {
            subs.iter()
                .filter(|s| s.app_id == app_id)
                .map(|s| {
                    json!({
                        "pubsubname": s.spec.pubsub,
                        "topic": s.spec.topic,
                        "metadata": s.spec.metadata,
                        "rules": s.spec.routes.rules.iter().map(|(m, p)| json!({"match": m, "path": p}))
                            .chain(s.spec.routes.default.iter().map(|p| json!({"match": "", "path": p})))
                            .collect::<Vec<_>>(),
                        "deadLetterTopic": s.spec.dead_letter_topic.clone().unwrap_or_default(),
                        "type": if s.programmatic { "PROGRAMMATIC" } else { "DECLARATIVE" },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let extended = shared
        .extended
        .lock()
        .map(|e| e.clone())
        .unwrap_or_default();
    let port = shared
        .app
        .base()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse::<u16>().ok())
        .unwrap_or(0);
    Json(json!({
        "id": app_id,
        "runtimeVersion": format!("docket-{}", env!("CARGO_PKG_VERSION")),
        "enabledFeatures": [],
        "components": components,
        "subscriptions": subscriptions,
        "extended": extended,
        "httpEndpoints": [],
        "appConnectionProperties": {
            "port": port,
            "protocol": "http",
            "channelAddress": shared.app.base().trim_start_matches("http://").rsplit_once(':').map(|(h, _)| h).unwrap_or("127.0.0.1"),
        },
    }))
}

pub async fn put(
    State(shared): State<Arc<Shared>>,
    Path(attribute): Path<String>,
    body: Bytes,
) -> StatusCode {
    if let Ok(mut extended) = shared.extended.lock() {
        extended.insert(attribute, String::from_utf8_lossy(&body).into_owned());
    }
    StatusCode::NO_CONTENT
}
