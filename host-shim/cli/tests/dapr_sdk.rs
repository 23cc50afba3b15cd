//! An app written with the official Dapr JavaScript SDK (`tests/dapr-sdk`)
//! runs unchanged against `docket sidecar`: state, publish and subscribe, secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use support::dapr::{sqlite_pubsub, write_resources};
use support::{Docket, Options};

const STATE_AND_SECRETS: &str = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.sqlite\n  version: v1\n---\napiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: envsecrets\nspec:\n  type: secretstores.local.env\n  version: v1\n";

#[test]
fn an_sdk_app_works_unchanged() {
    let sdk_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/dapr-sdk");
    assert!(
        sdk_dir.join("node_modules/@dapr/dapr").is_dir(),
        "run `npm ci` in tests/dapr-sdk first (scripts/test does)"
    );
    let app_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let dir = Arc::new(tempfile::tempdir().unwrap());
    write_resources(
        &dir,
        &[
            ("pubsub.yaml", sqlite_pubsub("pubsub", "")),
            ("state.yaml", STATE_AND_SECRETS.into()),
        ],
    );
    let options = Options {
        env: vec![("SDK_SECRET".into(), "from-env".into())],
        ..Default::default()
    };
    let sidecar =
        Docket::sidecar(dir, "sdk-app", app_port, options).unwrap_or_else(|l| panic!("{l}"));
    let output = Command::new("node")
        .arg("app.mjs")
        .current_dir(&sdk_dir)
        .env("DAPR_HTTP_PORT", sidecar.dapr.unwrap().port().to_string())
        .env("APP_PORT", app_port.to_string())
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "sdk app failed:\n{stdout}\n{}\n{}",
        String::from_utf8_lossy(&output.stderr),
        sidecar.logs()
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .expect("result line");
    let result: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(result["state"], serde_json::json!({"hello": "sdk"}));
    assert_eq!(
        result["received"],
        serde_json::json!([{"text": "hi from the sdk"}])
    );
    assert_eq!(
        result["secret"],
        serde_json::json!({"SDK_SECRET": "from-env"})
    );
}
