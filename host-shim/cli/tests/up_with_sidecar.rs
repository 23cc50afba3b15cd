//! `docket up` runs the components and the sidecar together: components
//! find the Dapr API through `dapr_url` and speak as their own app-id;
//! `--no-sidecar` leaves the Dapr API to an external daprd.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use support::recording_app::RecordingApp;
use support::{Docket, Options, guest, manifest};

fn app_with_dapr_caller(id: &str) -> String {
    manifest(&format!(
        "[variables]\ndapr_url = {{ default = \"http://localhost:3500\" }}\n\
         [[trigger.http]]\nroute = \"/...\"\ncomponent = \"{id}\"\n\
         [component.{id}]\nsource = {:?}\nallowed_outbound_hosts = [\"{{{{ dapr_url }}}}\"]\n",
        guest("outbound").display().to_string()
    ))
}

/// A folder holding a manifest whose `notifier` component may call `dapr_url`.
fn notifier_app_dir() -> Arc<tempfile::TempDir> {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(
        dir.path().join("spin.toml"),
        app_with_dapr_caller("notifier"),
    )
    .unwrap();
    dir
}

fn fetch_through_guest(app: &Docket, url: &str) -> support::Reply {
    app.get(&format!("/?url={}", support::encode(url)))
}

#[test]
fn components_reach_the_sidecar_as_their_own_app_id() {
    let dir = notifier_app_dir();
    let app = Docket::launch(dir, Options::default()).unwrap_or_else(|l| panic!("{l}"));
    let dapr = app.dapr.expect("sidecar address");
    let reply = fetch_through_guest(
        &app,
        &format!("http://127.0.0.1:{}/v1.0/metadata", dapr.port()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    let metadata: serde_json::Value =
        serde_json::from_str(reply.json()["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        metadata["id"], "notifier",
        "the sidecar did not see the calling component"
    );
    let direct = app.dapr("GET", "/v1.0/metadata", &[], "").json();
    assert_eq!(direct["appConnectionProperties"]["port"], app.addr.port());
}

#[test]
fn no_sidecar_points_components_at_an_external_daprd() {
    let daprd = RecordingApp::start(|_| (204, "text/plain", String::new()));
    let dir = notifier_app_dir();
    let options = Options {
        args: vec![
            "--no-sidecar".into(),
            "--dapr-http-port".into(),
            daprd.port().to_string(),
        ],
        ..Default::default()
    };
    let app = Docket::launch(dir, options).unwrap_or_else(|l| panic!("{l}"));
    let reply = fetch_through_guest(
        &app,
        &format!("http://127.0.0.1:{}/v1.0/healthz", daprd.port()),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["status"], 204);
    assert_eq!(daprd.to("/v1.0/healthz").len(), 1);
}

#[test]
fn loads_the_shipped_local_and_redis_resource_sets() {
    let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    for set in ["local", "redis"] {
        let dir = notifier_app_dir();
        let options = Options {
            args: vec![
                "--resources-path".into(),
                repo.join("dapr/components").join(set).display().to_string(),
            ],
            ..Default::default()
        };
        let app = Docket::launch(dir, options).unwrap_or_else(|l| panic!("{set}: {l}"));
        let metadata = app.dapr("GET", "/v1.0/metadata", &[], "").json();
        let names = support::dapr::component_names(&metadata);
        assert!(
            names.iter().any(|n| n == "pubsub") && names.iter().any(|n| n == "statestore"),
            "{set}: {names:?}"
        );
        let saved = app.dapr(
            "POST",
            "/v1.0/state/statestore",
            &[("content-type", "application/json")],
            r#"[{"key":"probe","value":1}]"#,
        );
        assert_eq!(saved.status, 204, "{set}: {}", saved.body);
        assert_eq!(
            app.dapr("DELETE", "/v1.0/state/statestore/probe", &[], "")
                .status,
            204
        );
    }
}

fn subscriber_bytes(topic_marker: &[u8]) -> Vec<u8> {
    let mut bytes = std::fs::read(guest("subscriber")).unwrap();
    let marker = b"docket-topic-v1";
    let at = bytes
        .windows(marker.len())
        .position(|w| w == marker)
        .expect("marker in subscriber.wasm");
    bytes[at..at + marker.len()].copy_from_slice(topic_marker);
    bytes
}

fn wait_for_received(app: &Docket, topic: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let received = app.get("/received").json();
        if received
            .as_array()
            .is_some_and(|topics| topics.iter().any(|t| t == topic))
        {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{topic} never delivered; received {received}\n{}",
            app.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn a_hot_swap_makes_the_sidecar_ask_for_subscriptions_again() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::create_dir_all(dir.path().join("wasm")).unwrap();
    std::fs::write(
        dir.path().join("wasm/subscriber.wasm"),
        subscriber_bytes(b"docket-topic-v1"),
    )
    .unwrap();
    let text = manifest(
        "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"subscriber\"\n\
         [component.subscriber]\nsource = \"wasm/subscriber.wasm\"\nkey_value_stores = [\"default\"]\n",
    );
    std::fs::write(dir.path().join("spin.toml"), text).unwrap();
    support::dapr::write_resources(
        &dir,
        &[("pubsub.yaml", support::dapr::sqlite_pubsub("pubsub", ""))],
    );
    let options = Options {
        args: vec![
            "--resources-path".into(),
            dir.path().join("resources").display().to_string(),
        ],
        ..Default::default()
    };
    let app = Docket::launch(dir.clone(), options).unwrap_or_else(|l| panic!("{l}"));
    support::dapr::wait_ready(&app);
    support::dapr::publish(
        &app,
        "pubsub",
        "docket-topic-v1",
        &serde_json::json!({"n": 1}),
    );
    wait_for_received(&app, "docket-topic-v1");

    support::replace_file(
        &dir.path().join("wasm/subscriber.wasm"),
        &subscriber_bytes(b"docket-topic-v2"),
    );
    app.wait_for_log("the app's subscriptions changed");
    support::dapr::publish(
        &app,
        "pubsub",
        "docket-topic-v2",
        &serde_json::json!({"n": 2}),
    );
    wait_for_received(&app, "docket-topic-v2");
    let metadata = app
        .dapr(
            "GET",
            "/v1.0/metadata",
            &[("docket-app-id", "subscriber")],
            "",
        )
        .json();
    assert_eq!(
        metadata["subscriptions"][0]["topic"], "docket-topic-v2",
        "{metadata}"
    );
}
