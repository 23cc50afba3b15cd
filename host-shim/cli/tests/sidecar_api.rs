//! The Dapr HTTP API of `docket sidecar` in front of a plain HTTP app:
//! state, secrets, output bindings, invocation, health, metadata, tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use serde_json::{Value, json};
use support::echo_server::EchoServer;
use support::recording_app::RecordingApp;
use support::{Docket, Options};

const STATE_AND_SECRETS: &str = r#"
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: statestore
spec:
  type: state.sqlite
  version: v1
  metadata:
    - name: connectionString
      value: "state.db"
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: envsecrets
spec:
  type: secretstores.local.env
  version: v1
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: filesecrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
    - name: secretsFile
      value: secrets.json
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: scoped-away
spec:
  type: state.sqlite
  version: v1
scopes: [someone-else]
"#;

fn sidecar_with(resources: &[(&str, &str)], app: &RecordingApp, options: Options) -> Docket {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::create_dir_all(dir.path().join("resources")).unwrap();
    for (name, text) in resources {
        std::fs::write(dir.path().join("resources").join(name), text).unwrap();
    }
    Docket::sidecar(dir, "orders", app.port(), options)
        .unwrap_or_else(|logs| panic!("sidecar did not start:\n{logs}"))
}

fn app() -> RecordingApp {
    RecordingApp::start(|request| match request.path.as_str() {
        "/dapr/subscribe" => (404, "text/plain", String::new()),
        _ => (
            200,
            "application/json",
            json!({"echo": request.path}).to_string(),
        ),
    })
}

fn sidecar(app: &RecordingApp) -> Docket {
    let options = Options {
        env: vec![("SECRET_COLOUR".into(), "teal".into())],
        ..Default::default()
    };
    sidecar_with(
        &[
            ("components.yaml", STATE_AND_SECRETS),
            ("secrets.json", r#"{"db":{"password":"pw1"},"token":"t"}"#),
        ],
        app,
        options,
    )
}

fn code(reply: &support::Reply) -> String {
    reply.json()["errorCode"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn saves_gets_and_deletes_state_with_etags() {
    let app = app();
    let dapr = sidecar(&app);
    let save = |body: Value| {
        dapr.dapr(
            "POST",
            "/v1.0/state/statestore",
            &[("content-type", "application/json")],
            &body.to_string(),
        )
    };
    assert_eq!(save(json!([{"key": "k", "value": {"n": 1}}])).status, 204);
    let got = dapr.dapr("GET", "/v1.0/state/statestore/k", &[], "");
    assert_eq!(got.status, 200);
    assert_eq!(got.json(), json!({"n": 1}));
    assert_eq!(got.header("etag"), Some("1"));
    assert_eq!(got.header("content-type"), Some("application/json"));

    assert_eq!(
        save(json!([{"key": "k", "value": "second", "etag": "1"}])).status,
        204
    );
    let stale = save(json!([{"key": "k", "value": "third", "etag": "1"}]));
    assert_eq!(stale.status, 409, "{}", stale.body);
    assert_eq!(code(&stale), "ERR_STATE_SAVE");
    let invalid = save(json!([{"key": "k", "value": 1, "etag": "not-a-number"}]));
    assert_eq!(invalid.status, 400);
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/k", &[], "").body,
        "\"second\""
    );
    let first_write =
        save(json!([{"key": "k", "value": 9, "options": {"concurrency": "first-write"}}]));
    assert_eq!(first_write.status, 409);
    let last_write = save(
        json!([{"key": "k", "value": 9, "etag": "1", "options": {"concurrency": "last-write"}}]),
    );
    assert_eq!(last_write.status, 204);

    let wrong_delete = dapr.dapr(
        "DELETE",
        "/v1.0/state/statestore/k",
        &[("if-match", "1")],
        "",
    );
    assert_eq!(wrong_delete.status, 409);
    assert_eq!(code(&wrong_delete), "ERR_STATE_DELETE");
    assert_eq!(
        dapr.dapr(
            "DELETE",
            "/v1.0/state/statestore/k",
            &[("if-match", "3")],
            ""
        )
        .status,
        204
    );
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/k", &[], "").status,
        204
    );
    assert_eq!(
        dapr.dapr("DELETE", "/v1.0/state/statestore/never", &[], "")
            .status,
        204
    );
}

#[test]
fn rejects_bad_state_requests() {
    let app = app();
    let dapr = sidecar(&app);
    let post = |path: &str, body: &str| {
        dapr.dapr("POST", path, &[("content-type", "application/json")], body)
    };
    let unknown = post("/v1.0/state/nostore", "[]");
    assert_eq!(
        (unknown.status, code(&unknown).as_str()),
        (400, "ERR_STATE_STORE_NOT_FOUND")
    );
    let out_of_scope = post("/v1.0/state/scoped-away", "[]");
    assert_eq!(
        out_of_scope.status, 400,
        "a component scoped to another app must not be visible"
    );
    let bad_json = post("/v1.0/state/statestore", "{not json");
    assert_eq!(
        (bad_json.status, code(&bad_json).as_str()),
        (400, "ERR_MALFORMED_REQUEST")
    );
    let illegal = post("/v1.0/state/statestore", r#"[{"key":"a||b","value":1}]"#);
    assert_eq!(
        (illegal.status, code(&illegal).as_str()),
        (400, "ERR_MALFORMED_REQUEST")
    );
    let no_key = post("/v1.0/state/statestore", r#"[{"value":1}]"#);
    assert_eq!(no_key.status, 400);
    let bad_op = post(
        "/v1.0/state/statestore/transaction",
        r#"{"operations":[{"operation":"merge","request":{"key":"a"}}]}"#,
    );
    assert_eq!(
        (bad_op.status, code(&bad_op).as_str()),
        (400, "ERR_NOT_SUPPORTED_STATE_OPERATION")
    );
    assert_eq!(post("/v1.0/state/statestore", "[]").status, 204);
}

#[test]
fn bulk_get_and_transactions() {
    let app = app();
    let dapr = sidecar(&app);
    let post = |path: &str, body: Value| {
        dapr.dapr(
            "POST",
            path,
            &[("content-type", "application/json")],
            &body.to_string(),
        )
    };
    post(
        "/v1.0/state/statestore",
        json!([{"key": "a", "value": 1}, {"key": "b", "value": {"x": true}}]),
    );
    let bulk = post(
        "/v1.0/state/statestore/bulk",
        json!({"keys": ["a", "b", "missing"]}),
    );
    assert_eq!(bulk.status, 200);
    assert_eq!(
        bulk.json(),
        json!([{"key": "a", "data": 1, "etag": "1"}, {"key": "b", "data": {"x": true}, "etag": "1"}, {"key": "missing"}])
    );
    let bad = post(
        "/v1.0/state/statestore/transaction",
        json!({"operations": [
            {"operation": "upsert", "request": {"key": "c", "value": 3}},
            {"operation": "delete", "request": {"key": "a", "etag": "7"}}
        ]}),
    );
    assert_eq!(
        (bad.status, code(&bad).as_str()),
        (500, "ERR_STATE_TRANSACTION")
    );
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/c", &[], "").status,
        204,
        "a failed transaction must change nothing"
    );
    let good = post(
        "/v1.0/state/statestore/transaction",
        json!({"operations": [
            {"operation": "upsert", "request": {"key": "c", "value": 3}},
            {"operation": "delete", "request": {"key": "a", "etag": "1"}}
        ]}),
    );
    assert_eq!(good.status, 204, "{}", good.body);
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/c", &[], "").body,
        "3"
    );
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/a", &[], "").status,
        204
    );
}

#[test]
fn expires_state_after_its_ttl() {
    let app = app();
    let dapr = sidecar(&app);
    let saved = dapr.dapr(
        "POST",
        "/v1.0/state/statestore",
        &[("content-type", "application/json")],
        &json!([{"key": "short", "value": 1, "metadata": {"ttlInSeconds": "1"}}, {"key": "long", "value": 2}]).to_string(),
    );
    assert_eq!(saved.status, 204);
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/short", &[], "")
            .status,
        200
    );
    std::thread::sleep(std::time::Duration::from_millis(1600));
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/short", &[], "")
            .status,
        204
    );
    assert_eq!(
        dapr.dapr("GET", "/v1.0/state/statestore/long", &[], "")
            .status,
        200
    );
}

#[test]
fn reads_secrets_from_env_and_file_stores() {
    let app = app();
    let dapr = sidecar(&app);
    let env = dapr.dapr("GET", "/v1.0/secrets/envsecrets/SECRET_COLOUR", &[], "");
    assert_eq!(
        (env.status, env.json()),
        (200, json!({"SECRET_COLOUR": "teal"}))
    );
    let file = dapr.dapr("GET", "/v1.0/secrets/filesecrets/db:password", &[], "");
    assert_eq!(
        (file.status, file.json()),
        (200, json!({"db:password": "pw1"}))
    );
    let bulk = dapr.dapr("GET", "/v1.0/secrets/filesecrets/bulk", &[], "");
    assert_eq!(
        bulk.json(),
        json!({"db:password": {"db:password": "pw1"}, "token": {"token": "t"}})
    );
    let unknown = dapr.dapr("GET", "/v1.0/secrets/nostore/x", &[], "");
    assert_eq!(
        (unknown.status, code(&unknown).as_str()),
        (401, "ERR_SECRET_STORE_NOT_FOUND")
    );
    let missing = dapr.dapr("GET", "/v1.0/secrets/filesecrets/nope", &[], "");
    assert_eq!(
        (missing.status, code(&missing).as_str()),
        (500, "ERR_SECRET_GET")
    );
}

#[test]
fn invokes_the_app_and_passes_status_and_headers() {
    let app = RecordingApp::start(|request| match request.path.as_str() {
        "/orders/7?verbose=1" => (
            201,
            "application/json",
            json!({"method": request.method}).to_string(),
        ),
        _ => (404, "text/plain", "no".into()),
    });
    let dapr = sidecar(&app);
    let reply = dapr.dapr(
        "PUT",
        "/v1.0/invoke/orders/method/orders/7?verbose=1",
        &[("x-trace", "abc")],
        "{}",
    );
    assert_eq!(reply.status, 201);
    assert_eq!(reply.json(), json!({"method": "PUT"}));
    let seen = app.to("/orders/7?verbose=1");
    assert_eq!(seen[0].header("x-trace"), Some("abc"));
    assert_eq!(seen[0].header("dapr-callee-app-id"), Some("orders"));
    assert_eq!(
        dapr.dapr("GET", "/v1.0/invoke/orders/method/missing", &[], "")
            .status,
        404
    );
    let unknown = dapr.dapr("GET", "/v1.0/invoke/stranger/method/x", &[], "");
    assert_eq!(
        (unknown.status, code(&unknown).as_str()),
        (500, "ERR_DIRECT_INVOKE")
    );
}

#[test]
fn invokes_other_app_ids_at_their_mapped_address() {
    let other =
        RecordingApp::start(|request| (202, "text/plain", format!("other saw {}", request.path)));
    let app = app();
    let options = Options {
        args: vec![
            "--invoke".into(),
            format!("billing=http://127.0.0.1:{}", other.port()),
        ],
        ..Default::default()
    };
    let dapr = sidecar_with(&[], &app, options);
    let reply = dapr.dapr("POST", "/v1.0/invoke/billing/method/charge", &[], "{}");
    assert_eq!(
        (reply.status, reply.body.as_str()),
        (202, "other saw /charge")
    );
    assert_eq!(
        other.to("/charge")[0].header("dapr-caller-app-id"),
        Some("orders")
    );
}

#[test]
fn invokes_an_http_output_binding() {
    let upstream = EchoServer::start("upstream says hi");
    let binding = format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: webhook\nspec:\n  type: bindings.http\n  version: v1\n  metadata:\n    - name: url\n      value: http://127.0.0.1:{}\n",
        upstream.addr.port()
    );
    let app = app();
    let dapr = sidecar_with(&[("binding.yaml", &binding)], &app, Options::default());
    let post = |body: Value| {
        dapr.dapr(
            "POST",
            "/v1.0/bindings/webhook",
            &[("content-type", "application/json")],
            &body.to_string(),
        )
    };
    let ok = post(json!({"operation": "post", "data": {"a": 1}, "metadata": {"path": "/hook"}}));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.body, "upstream says hi");
    assert_eq!(ok.header("metadata.statuscode"), Some("200"));
    let unsupported = post(json!({"operation": "explode"}));
    assert_eq!(
        (unsupported.status, code(&unsupported).as_str()),
        (500, "ERR_INVOKE_OUTPUT_BINDING")
    );
    let unknown = dapr.dapr(
        "POST",
        "/v1.0/bindings/nope",
        &[],
        r#"{"operation":"post"}"#,
    );
    assert_eq!(unknown.status, 500);
    assert_eq!(
        dapr.dapr("POST", "/v1.0/bindings/webhook", &[], "not json")
            .status,
        400
    );
}

#[test]
fn health_metadata_and_the_api_token() {
    let app = app();
    let options = Options {
        env: vec![("DAPR_API_TOKEN".into(), "sesame".into())],
        ..Default::default()
    };
    let dapr = sidecar_with(
        &[
            ("components.yaml", STATE_AND_SECRETS),
            ("secrets.json", "{}"),
        ],
        &app,
        options,
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while dapr.dapr("GET", "/v1.0/healthz", &[], "").status != 204 {
        assert!(
            std::time::Instant::now() < deadline,
            "sidecar never became healthy"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(
        dapr.dapr("GET", "/v1.0/healthz/outbound", &[], "").status,
        204
    );
    assert_eq!(
        dapr.dapr("GET", "/v1.0/healthz?appid=other", &[], "")
            .status,
        500
    );
    let denied = dapr.dapr("GET", "/v1.0/metadata", &[], "");
    assert_eq!(
        (denied.status, denied.body.as_str()),
        (401, "invalid api token")
    );
    assert_eq!(
        dapr.dapr("GET", "/v1.0/metadata", &[("dapr-api-token", "wrong")], "")
            .status,
        401
    );
    let auth = [("dapr-api-token", "sesame")];
    assert_eq!(
        dapr.dapr("PUT", "/v1.0/metadata/team", &auth, "blue")
            .status,
        204
    );
    let metadata = dapr.dapr("GET", "/v1.0/metadata", &auth, "").json();
    assert_eq!(metadata["id"], "orders");
    assert_eq!(metadata["extended"]["team"], "blue");
    let names = support::dapr::component_names(&metadata);
    assert!(
        names.iter().any(|n| n == "statestore") && names.iter().any(|n| n == "envsecrets"),
        "{names:?}"
    );
    assert!(!names.iter().any(|n| n == "scoped-away"), "{names:?}");
    assert_eq!(metadata["appConnectionProperties"]["port"], app.port());
    assert!(
        !dapr.logs().contains("sesame"),
        "the token reached the logs"
    );
}

#[test]
fn refuses_bad_resources_naming_file_and_field() {
    let app = app();
    let cases = [
        (
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: pubsub.rabbitmq\n  version: v1\n",
            "not supported",
        ),
        (
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: pubsub.kafka\n  version: v1\n",
            "spec.metadata[brokers]",
        ),
        (
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: state.redis\n  version: v1\n",
            "spec.metadata[redisHost]",
        ),
        (
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: bindings.cron\n  version: v1\n  metadata:\n    - name: schedule\n      value: \"every tuesday\"\n",
            "spec.metadata[schedule]",
        ),
        (
            "apiVersion: dapr.io/v1alpha1\nkind: Widget\nmetadata:\n  name: x\n",
            "Widget",
        ),
        (
            "apiVersion: dapr.io/v2alpha1\nkind: Subscription\nmetadata:\n  name: s\nspec:\n  pubsubname: p\n  topic: t\n",
            "routes",
        ),
        (
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: x\nspec:\n  type: state.sqlite\n  version: v1\n  metadata:\n    - name: password\n      secretKeyRef:\n        name: a\n",
            "auth.secretStore",
        ),
    ];
    for (text, expected) in cases {
        let dir = Arc::new(tempfile::tempdir().unwrap());
        std::fs::create_dir_all(dir.path().join("resources")).unwrap();
        std::fs::write(dir.path().join("resources/bad.yaml"), text).unwrap();
        let output = match Docket::sidecar(dir, "orders", app.port(), Options::default()) {
            Ok(_) => panic!("sidecar started with {text}"),
            Err(output) => output,
        };
        assert!(output.contains("bad.yaml"), "file not named:\n{output}");
        assert!(
            output.contains(expected),
            "expected {expected:?} in:\n{output}"
        );
    }
}
