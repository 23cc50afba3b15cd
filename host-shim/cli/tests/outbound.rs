//! Outbound HTTP restricted by `allowed_outbound_hosts`, against a local server.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::echo_server::EchoServer;
use support::{Docket, component, manifest};

fn fetch(app: &Docket, url: &str) -> support::Reply {
    app.get(&format!("/?url={}", support::encode(url)))
}

#[test]
fn allows_listed_hosts_and_denies_the_rest() {
    let allowed = EchoServer::start("hello from upstream");
    let other = EchoServer::start("should never be reached");
    let extra = format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\", \"https://*.example.com\"]",
        allowed.addr.port()
    );
    let app = Docket::start(&manifest(&component("out", "/...", "outbound", &extra)));

    let ok = fetch(&app, &format!("http://127.0.0.1:{}/x", allowed.addr.port()));
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.json()["body"], "hello from upstream");

    for denied in [
        format!("http://127.0.0.1:{}/x", other.addr.port()),
        format!("http://localhost:{}/x", allowed.addr.port()),
        "http://example.com/".to_string(),
    ] {
        let reply = fetch(&app, &denied);
        assert_eq!(reply.status, 502, "{denied}: {}", reply.body);
        assert!(
            reply.body.contains("HttpRequestDenied"),
            "{denied}: {}",
            reply.body
        );
    }
    let line = app.wait_for_log("outbound request denied");
    assert!(line.contains("component=\"out\""), "{line}");
}

#[test]
fn resolves_variable_templates_in_allowed_hosts() {
    let server = EchoServer::start("templated");
    let body = "[variables]\nupstream = { default = \"http://127.0.0.1:1\" }\n".to_string()
        + &component(
            "out",
            "/...",
            "outbound",
            "allowed_outbound_hosts = [\"{{ upstream }}\"]",
        );
    let options = support::Options {
        env: vec![(
            "SPIN_VARIABLE_UPSTREAM".into(),
            format!("http://127.0.0.1:{}", server.addr.port()),
        )],
        ..Default::default()
    };
    let app = Docket::start_with(&manifest(&body), options);
    let reply = fetch(&app, &format!("http://127.0.0.1:{}/", server.addr.port()));
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.json()["body"], "templated");
}

#[test]
fn no_allowed_hosts_means_no_network() {
    let server = EchoServer::start("unreachable");
    let app = Docket::start(&manifest(&component("out", "/...", "outbound", "")));
    let reply = fetch(&app, &format!("http://127.0.0.1:{}/", server.addr.port()));
    assert_eq!(reply.status, 502);
    assert!(reply.body.contains("HttpRequestDenied"), "{}", reply.body);
}

#[test]
fn an_allowed_host_that_is_down_fails_with_connection_refused() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let extra = format!("allowed_outbound_hosts = [\"http://127.0.0.1:{closed}\"]");
    let app = Docket::start(&manifest(&component("out", "/...", "outbound", &extra)));
    let reply = fetch(&app, &format!("http://127.0.0.1:{closed}/"));
    assert_eq!(reply.status, 502, "{}", reply.body);
    assert!(reply.body.contains("ConnectionRefused"), "{}", reply.body);
}

#[test]
fn repeated_calls_work_when_the_server_closes_each_connection() {
    let server = EchoServer::start("again");
    let extra = format!(
        "allowed_outbound_hosts = [\"http://127.0.0.1:{}\"]",
        server.addr.port()
    );
    let app = Docket::start(&manifest(&component("out", "/...", "outbound", &extra)));
    for _ in 0..20 {
        let reply = fetch(&app, &format!("http://127.0.0.1:{}/", server.addr.port()));
        assert_eq!(reply.json()["body"], "again");
    }
}
