//! Routing precedence, the `spin-*` headers, static responses, host
//! endpoints, and startup refusals — through the real binary.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Docket, Options, component, guest, manifest};

fn headers_app() -> Docket {
    let mut body = String::new();
    body += &component("catch-all", "/...", "headers", "");
    body += &component("users", "/users/:id", "headers", "");
    body += &component("cart", "/users/:userid/cart/...", "headers", "");
    body += &component("me", "/users/me", "headers", "");
    body += "[[trigger.http]]\nroute = \"/teapot\"\nstatic_response = { status_code = 418, headers = { x-kind = \"teapot\" }, body = \"short and stout\" }\n";
    Docket::start(&manifest(&body))
}

fn matched(app: &Docket, path: &str) -> serde_json::Value {
    let reply = app.get(path);
    assert_eq!(reply.status, 200, "{path}: {}", reply.body);
    reply.json()
}

#[test]
fn most_specific_route_wins() {
    let app = headers_app();
    let route = |path: &str| matched(&app, path)["headers"]["spin-matched-route"].clone();
    assert_eq!(route("/users/me"), "/users/me");
    assert_eq!(route("/users/42"), "/users/:id");
    assert_eq!(route("/users/42/cart/items"), "/users/:userid/cart/...");
    assert_eq!(route("/users/42/other"), "/...");
    assert_eq!(route("/"), "/...");
}

#[test]
fn sets_spin_headers_like_spin() {
    let app = headers_app();
    let reply = app.request(
        "GET",
        "/users/7/cart/items/3/edit?theme=pink",
        &[("spin-client-addr", "6.6.6.6:1"), ("x-custom", "kept")],
        "",
    );
    let seen = reply.json();
    let headers = &seen["headers"];
    let full_url = format!("http://{}/users/7/cart/items/3/edit?theme=pink", app.addr);
    assert_eq!(headers["spin-full-url"], full_url);
    assert_eq!(
        seen["uri"], full_url,
        "wasi:http gives scheme, authority and path"
    );
    assert_eq!(headers["spin-path-info"], "/items/3/edit");
    assert_eq!(headers["spin-matched-route"], "/users/:userid/cart/...");
    assert_eq!(
        headers["spin-raw-component-route"],
        "/users/:userid/cart/..."
    );
    assert_eq!(headers["spin-component-route"], "/users/:userid/cart");
    assert_eq!(headers["spin-base-path"], "/");
    assert_eq!(headers["spin-path-match-userid"], "7");
    assert_eq!(headers["x-custom"], "kept");
    let client = headers["spin-client-addr"].as_str().unwrap();
    assert!(
        client.starts_with("127.0.0.1:"),
        "client addr not overwritten: {client}"
    );
}

#[test]
fn serves_static_responses_and_404s() {
    let app = Docket::start(&manifest(
        &(component("api", "/api/...", "headers", "")
            + "[[trigger.http]]\nroute = \"/teapot\"\nstatic_response = { status_code = 418, headers = { x-kind = \"teapot\" }, body = \"short and stout\" }\n"),
    ));
    let teapot = app.get("/teapot");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.header("x-kind"), Some("teapot"));
    assert_eq!(teapot.body, "short and stout");
    assert_eq!(app.get("/elsewhere").status, 404);
    assert_eq!(app.get("/apix").status, 404);
    assert_eq!(app.get("/api").status, 200);
}

#[test]
fn answers_host_endpoints() {
    let app = Docket::start(&manifest(&component("api", "/...", "headers", "")));
    let health = app.get("/.well-known/spin/health");
    assert_eq!((health.status, health.body.trim()), (200, "OK"));
    let info = app.get("/.well-known/spin/info").json();
    assert_eq!(info["name"], "test-app");
    assert_eq!(info["version"], "9.9.9");
}

#[test]
fn logs_one_line_per_request_with_component_and_status() {
    let app = Docket::start(&manifest(&component("api", "/api/...", "headers", "")));
    app.get("/api/thing");
    let line = app.wait_for_log("path=/api/thing");
    assert!(line.contains("docket::request"), "{line}");
    for expected in [
        "component=\"api\"",
        "route=\"/api/...\"",
        "status=200",
        "duration_ms=",
    ] {
        assert!(line.contains(expected), "{expected} missing from {line}");
    }
}

#[test]
fn refuses_to_start_on_manifest_errors() {
    let cases = [
        (
            manifest("[component.a]\nsource = \"missing.wasm\"\n"),
            "not found",
        ),
        (
            "spin_manifest_version = 1\n[application]\nname = \"x\"\n".to_string(),
            "unsupported manifest version 1",
        ),
        (
            manifest(&(component("a", "/x", "hello", "") + &component("b", "/x/", "hello", ""))),
            "clashes",
        ),
        (
            manifest(&component(
                "a",
                "/x",
                "variables",
                "[component.a.variables]\nv = \"{{ nope }}\"\n",
            )),
            "undefined variable `nope`",
        ),
        (
            manifest(
                &("[variables]\ntoken = { required = true }\n".to_string()
                    + &component(
                        "a",
                        "/x",
                        "variables",
                        "[component.a.variables]\nt = \"{{ token }}\"\n",
                    )),
            ),
            "`token` (set SPIN_VARIABLE_TOKEN)",
        ),
        (
            manifest(&component("a", "/x", "unsupported_import", "")),
            "fermyon:spin/mqtt@2.0.0",
        ),
    ];
    for (text, expected) in cases {
        let output = Docket::refuses(&text, Options::default());
        assert!(
            output.contains(expected),
            "expected {expected:?} in:\n{output}"
        );
        assert!(
            output.contains("spin.toml") || expected.contains("mqtt"),
            "file not named:\n{output}"
        );
    }
}

#[test]
fn resolves_sources_against_the_manifest_folder() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    std::fs::create_dir_all(dir.path().join("wasm")).unwrap();
    std::fs::copy(guest("hello"), dir.path().join("wasm/hello.wasm")).unwrap();
    let text = manifest(
        "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = \"wasm/hello.wasm\"\n",
    );
    std::fs::write(dir.path().join("spin.toml"), text).unwrap();
    let app = Docket::launch(dir, Options::default()).unwrap();
    assert!(app.get("/").body.contains("docket-hello-v1"));
}

#[test]
fn accepts_a_relative_data_dir() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(
        dir.path().join("spin.toml"),
        manifest(&component("hello", "/...", "hello", "")),
    )
    .unwrap();
    let options = Options {
        args: vec!["--data-dir".into(), "relative/state".into()],
        cwd: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let app = Docket::launch(dir.clone(), options).unwrap();
    assert_eq!(app.get("/").status, 200);
    assert!(dir.path().join("relative/state/admin-token").is_file());
}

#[test]
fn build_runs_each_command_in_its_workdir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("work")).unwrap();
    let text = manifest(
        "[component.a]\nsource = \"a.wasm\"\n[component.a.build]\n\
         command = [\"echo one > first\", \"cat first > second\"]\nworkdir = \"work\"\n\
         [component.b]\nsource = \"b.wasm\"\n[component.b.build]\ncommand = \"exit 3\"\n",
    );
    std::fs::write(dir.path().join("spin.toml"), text).unwrap();
    let build = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_docket"))
            .args(["build", "-f"])
            .arg(dir.path().join("spin.toml"))
            .args(extra)
            .output()
            .unwrap()
    };
    let only_a = build(&["-c", "a"]);
    assert!(
        only_a.status.success(),
        "{}",
        String::from_utf8_lossy(&only_a.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("work/second")).unwrap(),
        "one\n"
    );
    let all = build(&[]);
    assert!(!all.status.success());
    let stderr = String::from_utf8_lossy(&all.stderr);
    assert!(
        stderr.contains("component `b`") && stderr.contains("exit 3"),
        "{stderr}"
    );
}
