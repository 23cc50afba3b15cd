//! Manifest parsing against files and inline text: what is accepted, and
//! that each rejection names the file and the field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use docket_manifest::{HttpHandler, ManifestError, TriggerRoute, load, parse};

const HEADER: &str = "spin_manifest_version = 2\n[application]\nname = \"t\"\n";

fn rejection(body: &str) -> String {
    let text = format!("{HEADER}{body}");
    match parse(Path::new("/apps/spin.toml"), &text) {
        Ok(_) => panic!("manifest should be rejected:\n{text}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn reads_every_supported_field() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/valid.toml");
    let app = load(&path).unwrap();
    assert_eq!(app.name, "sample");
    assert_eq!(app.version.as_deref(), Some("1.2.3"));
    assert!(app.variables["jwt_secret"].secret);
    assert!(app.variables["jwt_secret"].required);
    assert_eq!(
        app.variables["dapr_url"].default.as_deref(),
        Some("http://localhost:3500")
    );

    let api = &app.components["todo-api"];
    assert_eq!(api.source, app.base_dir.join("target/todo_api.wasm"));
    assert!(api.source.is_absolute());
    assert_eq!(api.sqlite_databases, ["default", "audit"]);
    assert_eq!(api.environment["RUST_LOG"], "info");
    assert_eq!(
        api.allowed_outbound_hosts[1].raw(),
        "postgres://{{ db_host }}:5432"
    );
    assert_eq!(
        api.variables["greeting"].variables().collect::<Vec<_>>(),
        ["db_host"]
    );
    let build = api.build.as_ref().unwrap();
    assert_eq!(build.workdir, app.base_dir.join("components"));
    assert_eq!(
        app.components["worker"]
            .build
            .as_ref()
            .unwrap()
            .commands
            .len(),
        2
    );

    assert_eq!(app.triggers.len(), 4);
    assert!(matches!(app.triggers[2].route, TriggerRoute::Private));
    match &app.triggers[3].handler {
        HttpHandler::Static(response) => {
            assert_eq!(response.status, 418);
            assert_eq!(response.headers["x-kind"], "teapot");
        }
        other => panic!("expected a static response, got {other:?}"),
    }
}

#[test]
fn missing_file_names_the_path() {
    let err = load(Path::new("/nonexistent/spin.toml")).unwrap_err();
    assert!(matches!(err, ManifestError::Read { .. }));
    assert!(err.to_string().contains("/nonexistent/spin.toml"));
}

#[test]
fn rejects_unknown_manifest_version() {
    let err = parse(
        Path::new("spin.toml"),
        "spin_manifest_version = 1\n[application]\nname=\"x\"\n",
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("spin.toml"), "{err}");
    assert!(err.contains("spin_manifest_version"), "{err}");
    assert!(err.contains("unsupported manifest version 1"), "{err}");
    let err = parse(Path::new("spin.toml"), "[application]\nname=\"x\"\n").unwrap_err();
    assert!(err.to_string().contains("missing"), "{err}");
}

#[test]
fn rejects_unknown_fields_by_name() {
    let err = rejection("[component.a]\nsource = \"a.wasm\"\nallowed_http_hosts = []\n");
    assert!(err.contains("/apps/spin.toml"), "{err}");
    assert!(err.contains("allowed_http_hosts"), "{err}");
}

#[test]
fn rejects_route_that_clashes() {
    let err = rejection(
        "[[trigger.http]]\nroute = \"/a/:x\"\ncomponent = \"a\"\n\
         [[trigger.http]]\nroute = \"/a/:y/\"\ncomponent = \"b\"\n\
         [component.a]\nsource = \"a.wasm\"\n[component.b]\nsource = \"b.wasm\"\n",
    );
    assert!(err.contains("trigger.http[1].route"), "{err}");
    assert!(err.contains("clashes"), "{err}");
    assert!(err.contains("component `a`"), "{err}");
}

#[test]
fn rejects_undefined_variables() {
    let err = rejection(
        "[component.a]\nsource = \"a.wasm\"\n[component.a.variables]\nx = \"{{ nope }}\"\n",
    );
    assert!(err.contains("component.a.variables.x"), "{err}");
    assert!(err.contains("undefined variable `nope`"), "{err}");
    let err = rejection(
        "[component.a]\nsource = \"a.wasm\"\nallowed_outbound_hosts = [\"http://{{ host }}:1\"]\n",
    );
    assert!(err.contains("allowed_outbound_hosts"), "{err}");
}

#[test]
fn rejects_bad_values_with_their_field() {
    let cases = [
        (
            "[[trigger.http]]\nroute = \"/x\"\ncomponent = \"ghost\"\n",
            "trigger.http[0].component",
        ),
        (
            "[[trigger.redis]]\nchannel = \"x\"\ncomponent = \"a\"\n",
            "trigger.redis",
        ),
        (
            "[[trigger.http]]\nroute = \"/.well-known/spin/info\"\nstatic_response = {}\n",
            "reserved",
        ),
        (
            "[[trigger.http]]\nroute = \"/a/.../b\"\nstatic_response = {}\n",
            "trigger.http[0].route",
        ),
        ("[component.Bad_Id]\nsource = \"a.wasm\"\n", "kebab-case"),
        (
            "[component.a]\nsource = { url = \"https://x/a.wasm\", digest = \"sha256:0\" }\n",
            "component.a.source",
        ),
        (
            "[component.a]\nsource = \"a.wasm\"\nallowed_outbound_hosts = [\"ftp://x\"]\n",
            "a port is required",
        ),
        (
            "[component.a]\nsource = \"a.wasm\"\nsqlite_databases = [\"a b\"]\n",
            "sqlite_databases",
        ),
        (
            "[variables]\nx = { required = true, default = \"1\" }\n",
            "variables.x",
        ),
        ("[variables]\nx = {}\n", "needs a `default`"),
        ("[variables]\nBad = { default = \"1\" }\n", "variables.Bad"),
        ("[[trigger.http]]\nroute = \"/x\"\n", "exactly one of"),
    ];
    for (body, expected) in cases {
        let err = rejection(body);
        assert!(
            err.contains(expected),
            "for {body:?} expected {expected:?} in: {err}"
        );
    }
}

#[test]
fn retaining_components_drops_the_others_and_their_routes() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/valid.toml");
    let mut app = load(&path).unwrap();
    let keep = app.components.keys().next().unwrap().clone();
    app.retain_components(std::slice::from_ref(&keep)).unwrap();
    assert_eq!(app.components.keys().collect::<Vec<_>>(), [&keep]);
    assert!(!app.triggers.is_empty());
    for trigger in &app.triggers {
        if let HttpHandler::Component(id) = &trigger.handler {
            assert_eq!(id, &keep);
        }
    }
}

#[test]
fn retaining_an_unknown_component_is_refused_by_name() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/manifests/valid.toml");
    let mut app = load(&path).unwrap();
    let error = app.retain_components(&["nope".to_string()]).unwrap_err();
    assert!(
        error.to_string().contains("no component \"nope\""),
        "{error}"
    );
}

#[test]
fn a_bare_file_name_is_relative_to_the_current_directory() {
    let text = format!(
        "{HEADER}[[trigger.http]]\nroute = \"/...\"\ncomponent = \"c\"\n\
         [component.c]\nsource = \"c.wasm\"\n[component.c.build]\ncommand = \"make\"\n"
    );
    let app = parse(Path::new("spin.toml"), &text).unwrap();
    let here = std::env::current_dir().unwrap();
    assert_eq!(app.base_dir, here);
    assert_eq!(app.components["c"].source, here.join("c.wasm"));
    assert_eq!(app.components["c"].build.as_ref().unwrap().workdir, here);
}
