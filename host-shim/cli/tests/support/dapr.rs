//! Dapr resource YAML for sidecar tests.

use std::sync::Arc;

use super::recording_app::RecordingApp;
use super::{Docket, Options};

pub fn sqlite_pubsub(name: &str, extra: &str) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: pubsub.sqlite\n  version: v1\n  metadata:\n    - name: processingTimeout\n      value: \"1s\"\n    - name: redeliverInterval\n      value: \"500ms\"\n{extra}"
    )
}

pub fn redis_pubsub(name: &str) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {name}\nspec:\n  type: pubsub.redis\n  version: v1\n  metadata:\n    - name: redisHost\n      value: \"127.0.0.1:6379\"\n    - name: processingTimeout\n      value: \"2s\"\n    - name: redeliverInterval\n      value: \"500ms\"\n"
    )
}

/// Exponential retries (500 ms initial, capped at `max_interval`) for `pubsub`'s deliveries.
pub fn retry_policy(pubsub: &str, max_retries: i32) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata:\n  name: retries\nspec:\n  policies:\n    retries:\n      deliveries:\n        policy: exponential\n        maxInterval: 5s\n        maxRetries: {max_retries}\n  targets:\n    components:\n      {pubsub}:\n        inbound:\n          retry: deliveries\n"
    )
}

/// Writes `resources` into a fresh folder and starts `docket sidecar` for `app`.
pub fn start_sidecar(
    resources: &[(&str, String)],
    app_id: &str,
    app: &RecordingApp,
    options: Options,
) -> Docket {
    let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
    write_resources(&dir, resources);
    Docket::sidecar(dir, app_id, app.port(), options)
        .unwrap_or_else(|logs| panic!("sidecar did not start:\n{logs}"))
}

pub fn write_resources(dir: &tempfile::TempDir, resources: &[(&str, String)]) {
    let folder = dir.path().join("resources");
    std::fs::create_dir_all(&folder).expect("resources dir");
    for (name, text) in resources {
        std::fs::write(folder.join(name), text).expect("write resource");
    }
}

/// Waits for the sidecar's `/v1.0/healthz` to answer 204.
pub fn wait_ready(docket: &Docket) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while docket.dapr("GET", "/v1.0/healthz", &[], "").status != 204 {
        assert!(
            std::time::Instant::now() < deadline,
            "sidecar never became ready:\n{}",
            docket.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// Publishes JSON through the sidecar and expects 204.
pub fn publish(docket: &Docket, pubsub: &str, topic: &str, body: &serde_json::Value) {
    let reply = docket.dapr(
        "POST",
        &format!("/v1.0/publish/{pubsub}/{topic}"),
        &[("content-type", "application/json")],
        &body.to_string(),
    );
    assert_eq!(reply.status, 204, "publish failed: {}", reply.body);
}

/// Names of the components the metadata API lists.
pub fn component_names(metadata: &serde_json::Value) -> Vec<String> {
    metadata["components"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|c| c["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}
