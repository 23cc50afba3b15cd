//! The key-value store: every operation, access control, durability.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;
use support::{Docket, Options, component, manifest};

fn app_manifest() -> String {
    manifest(&component(
        "kv",
        "/...",
        "kv",
        "key_value_stores = [\"default\", \"cache\"]",
    ))
}

#[test]
fn sets_gets_lists_and_deletes() {
    let app = Docket::start(&app_manifest());
    assert_eq!(app.get("/missing").status, 404);
    assert_eq!(app.request("PUT", "/b", &[], "second").status, 204);
    assert_eq!(app.request("PUT", "/a", &[], "first").status, 204);
    assert_eq!(app.request("PUT", "/a", &[], "first, again").status, 204);
    assert_eq!(app.get("/a").body, "first, again");
    assert_eq!(app.request("HEAD", "/b", &[], "").status, 200);
    assert_eq!(app.get("/").json(), serde_json::json!(["a", "b"]));
    assert_eq!(app.request("DELETE", "/a", &[], "").status, 204);
    assert_eq!(app.request("HEAD", "/a", &[], "").status, 404);
    assert_eq!(app.get("/").json(), serde_json::json!(["b"]));
}

#[test]
fn stores_are_separate_and_access_is_checked() {
    let app = Docket::start(&app_manifest());
    app.request("PUT", "/k?store=cache", &[], "in cache");
    assert_eq!(app.get("/k").status, 404);
    assert_eq!(app.get("/k?store=cache").body, "in cache");
    let denied = app.get("/k?store=private");
    assert_eq!(denied.status, 500);
    assert!(denied.body.contains("AccessDenied"), "{}", denied.body);
}

#[test]
fn values_survive_a_restart() {
    let app = Docket::start(&app_manifest());
    app.request("PUT", "/durable", &[], "yes");
    let dir: Arc<tempfile::TempDir> = app.dir.clone();
    assert!(app.stop().success());
    let again = Docket::launch(dir, Options::default()).unwrap();
    assert_eq!(again.get("/durable").body, "yes");
}
