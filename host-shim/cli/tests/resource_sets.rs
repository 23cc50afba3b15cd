//! The repository's Dapr resource sets under `docket up`: `local` and
//! `redis` load whole; `k8s` is refused, naming the type docket lacks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use support::dapr::{component_names, wait_ready};
use support::redis::Redis;
use support::{Docket, Options, guest};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

fn up(resources: &Path) -> Result<Docket, String> {
    for name in ["todo_api", "recurring_task_service", "notification_service"] {
        guest(name);
    }
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let options = Options {
        args: vec![
            "--resources-path".into(),
            resources.display().to_string(),
            "--variable".into(),
            "jwt_secret=resource-sets-test-secret".into(),
        ],
        manifest: Some(repo().join("spin.toml")),
        ..Options::default()
    };
    Docket::launch(dir, options)
}

fn loaded_components(docket: &Docket) -> Vec<String> {
    wait_ready(docket);
    let metadata = docket.dapr("GET", "/v1.0/metadata", &[], "").json();
    let mut names = component_names(&metadata);
    names.sort();
    names
}

#[test]
fn the_local_set_loads_whole() {
    let docket = up(&repo().join("dapr/components/local")).unwrap();
    assert_eq!(
        loaded_components(&docket),
        ["outbox-relay", "pubsub", "recurring-cron", "statestore"]
    );
}

#[test]
fn the_redis_set_loads_whole() {
    // The repository's files, pointed at a redis-server of the test's own.
    let redis = Redis::start();
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(repo().join("dapr/components/redis")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let text = text.replace("127.0.0.1:6379", &format!("127.0.0.1:{}", redis.port));
        std::fs::write(copy.path().join(path.file_name().unwrap()), text).unwrap();
    }
    let docket = up(copy.path()).unwrap();
    assert_eq!(
        loaded_components(&docket),
        ["outbox-relay", "pubsub", "recurring-cron", "statestore"]
    );
}

#[test]
fn the_k8s_set_is_refused_naming_what_docket_lacks() {
    let Err(logs) = up(&repo().join("dapr/components/k8s")) else {
        panic!("docket up accepted a pubsub.kafka component it cannot run");
    };
    assert!(
        logs.contains("pubsub.kafka is not supported by docket"),
        "{logs}"
    );
}
