//! The repository's Dapr resource sets under `docket up`: `local`, `redis`
//! and `kafka` (against a TLS + SCRAM broker of the test's own) load whole;
//! `k8s` is refused, naming the type docket lacks; `kafka` is `k8s` with
//! local addresses and secrets.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use support::dapr::{component_names, wait_ready};
use support::kafka::{KafkaBroker, KafkaOptions, repository_set};
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
        panic!("docket up accepted a secretstores.kubernetes component it cannot run");
    };
    assert!(
        logs.contains("secretstores.kubernetes is not supported by docket"),
        "{logs}"
    );
}

/// Every resource in a set's YAML files (the Kustomize index left out), by
/// `kind/name`.
fn resources(set: &str) -> std::collections::BTreeMap<String, serde_yaml_ng::Value> {
    let mut found = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(repo().join("dapr/components").join(set)).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|ext| ext != "yaml") {
            continue;
        }
        let value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let kind = value["kind"].as_str().unwrap().to_string();
        if kind != "Kustomization" {
            let name = value["metadata"]["name"].as_str().unwrap();
            found.insert(format!("{kind}/{name}"), value);
        }
    }
    found
}

/// Removes the metadata item `name` from a component, returning it.
fn take_item(component: &mut serde_yaml_ng::Value, name: &str) -> Option<serde_yaml_ng::Value> {
    let items = component["spec"]["metadata"].as_sequence_mut().unwrap();
    let index = items.iter().position(|item| item["name"] == name)?;
    Some(items.remove(index))
}

#[test]
fn the_kafka_set_differs_from_k8s_only_in_addresses_and_secret_sources() {
    let k8s = resources("k8s");
    let mut kafka = resources("kafka");
    assert_eq!(
        kafka.keys().collect::<Vec<_>>(),
        k8s.keys().collect::<Vec<_>>()
    );

    // Secret source: Kubernetes secrets there, one local file store here
    // whose top-level keys are the Kubernetes secrets' names.
    let store = kafka.remove("Component/docket-secrets").unwrap();
    assert_eq!(store["spec"]["type"], "secretstores.local.file");
    assert_eq!(
        store["spec"]["metadata"][0]["value"], "../../../.docket/kafka/secrets.json",
        "the secrets live outside the repository"
    );
    assert_eq!(store["spec"]["metadata"][1]["value"], "true", "multiValued");
    for (key, resource) in kafka.iter_mut() {
        if resource["auth"]["secretStore"].is_string() {
            assert_eq!(resource["auth"]["secretStore"], "docket-secrets", "{key}");
            resource["auth"]["secretStore"] = "kubernetes".into();
        }
    }
    // Addresses: the local broker's CA (production's is a public one), and
    // the local Redis without TLS (rediss:// there, redis:// here).
    let pubsub = kafka.get_mut("Component/pubsub").unwrap();
    let ca = take_item(pubsub, "caCert").unwrap();
    assert_eq!(ca["secretKeyRef"]["name"], "docket-redpanda");
    let statestore = kafka.get_mut("Component/statestore").unwrap();
    assert_eq!(
        take_item(statestore, "enableTLS").unwrap()["value"],
        "false"
    );
    let mut k8s_statestore = k8s["Component/statestore"].clone();
    assert_eq!(
        take_item(&mut k8s_statestore, "enableTLS").unwrap()["value"],
        "true"
    );

    for (key, resource) in &kafka {
        let production = match key.as_str() {
            "Component/statestore" => &k8s_statestore,
            _ => &k8s[key],
        };
        assert_eq!(
            resource, production,
            "{key} differs from dapr/components/k8s"
        );
    }
}

#[test]
fn the_kafka_set_loads_whole_against_a_local_secured_broker() {
    // The repository's files, their secret store pointed at a secrets file
    // for a TLS + SCRAM broker and a redis-server of the test's own.
    let broker = KafkaBroker::start(
        KafkaOptions::secured()
            .topic("task-events", 3)
            .topic("task-events-dlq", 1),
    );
    let redis = Redis::start();
    let copy = tempfile::tempdir().unwrap();
    for (name, text) in repository_set(&broker, redis.port, copy.path()) {
        std::fs::write(copy.path().join(name), text).unwrap();
    }
    let docket = up(copy.path()).unwrap();
    assert_eq!(
        loaded_components(&docket),
        [
            "docket-secrets",
            "outbox-relay",
            "pubsub",
            "recurring-cron",
            "statestore"
        ]
    );
}
