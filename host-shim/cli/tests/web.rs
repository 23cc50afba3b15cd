//! The web component under `docket up` with the repository's spin.toml: the
//! single-page app at `/`, its assets compressed and cached, and `/api/...`
//! still answered by the todo API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use support::guest;
use support::todo::{Backend, TodoApp};

const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// A response with its body as bytes, exactly as sent.
struct Raw {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Raw {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn problem(&self) -> serde_json::Value {
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json")
        );
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// Sends a request and reads the body without any decoding.
fn fetch(app: &TodoApp, method: &str, path: &str, headers: &[(&str, &str)]) -> Raw {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut request = ureq::http::Request::builder()
        .method(method)
        .uri(app.docket.url(path));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let mut response = agent
        .run(request.body(Vec::new()).unwrap())
        .expect("request failed");
    Raw {
        status: response.status().as_u16(),
        headers: response
            .headers()
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body: response.body_mut().read_to_vec().unwrap(),
    }
}

fn get(app: &TodoApp, path: &str) -> Raw {
    fetch(app, "GET", path, &[])
}

/// The first `<script ... src="...">` of the page.
fn script_src(html: &str) -> String {
    let tag = html
        .split("<script")
        .nth(1)
        .expect("the page has a <script>");
    let src = tag.split("src=\"").nth(1).expect("the script has a src");
    src.split('"').next().unwrap().to_string()
}

/// Decodes with Node's zlib, an implementation apart from the one that
/// compressed (Node builds the front end, so it is there).
fn decompress(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let function = match coding {
        "br" => "brotliDecompressSync",
        "gzip" => "gunzipSync",
        other => panic!("no decoder for {other}"),
    };
    let script = format!(
        "process.stdout.write(require('node:zlib').{function}(require('node:fs').readFileSync(0)))"
    );
    let mut node = Command::new("node")
        .args(["-e", &script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node runs");
    node.stdin.take().unwrap().write_all(bytes).unwrap();
    let output = node.wait_with_output().unwrap();
    assert!(output.status.success(), "node could not decode {coding}");
    output.stdout
}

fn assert_security_headers(reply: &Raw) {
    let policy = reply.header("content-security-policy").unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{directive} missing in {policy}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(reply.header("referrer-policy").is_some());
}

#[test]
fn serves_the_app_its_assets_and_leaves_the_api_to_the_todo_api() {
    guest("web");
    let app = TodoApp::start(Backend::Sqlite, "web");

    // The page Vite writes: the app's mount point and its module script.
    let page = get(&app, "/");
    assert_eq!(page.status, 200, "{}", page.text());
    let html = page.text();
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<div id=\"app\">"), "{html}");
    assert!(html.contains("<script type=\"module\""), "{html}");
    let index = page.body.clone();
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    assert_security_headers(&page);
    let page_tag = page.header("etag").unwrap().to_string();
    assert!(
        page_tag.starts_with('"') && page_tag.ends_with('"'),
        "{page_tag}"
    );

    let revalidated = fetch(&app, "GET", "/", &[("if-none-match", &page_tag)]);
    assert_eq!(revalidated.status, 304);
    assert!(revalidated.body.is_empty());
    assert_eq!(revalidated.header("etag"), Some(page_tag.as_str()));

    // A browser opening one of the app's own routes loads the app; any other
    // client asking for a path nothing serves (daprd's `GET /dapr/config`)
    // gets 404, as from an app without that route.
    for route in ["/tasks", "/templates/3", "/tasks/?view=week"] {
        let fallback = fetch(&app, "GET", route, &[("accept", "text/html")]);
        assert_eq!(fallback.status, 200, "{route}");
        assert_eq!(fallback.body, index, "{route}");
        assert_eq!(fallback.header("cache-control"), Some("no-cache"));
    }
    assert_eq!(get(&app, "/dapr/config").status, 404);

    let script = script_src(&html);
    assert!(script.starts_with("/assets/"), "{script}");
    let plain = get(&app, &script);
    assert_eq!(plain.status, 200);
    let identity = plain.body.clone();
    assert_eq!(
        plain.header("content-length"),
        Some(identity.len().to_string().as_str())
    );
    assert_eq!(plain.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(
        plain.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    assert_security_headers(&plain);

    for coding in ["br", "gzip"] {
        let accept = format!("{coding}, identity;q=0.5");
        let compressed = fetch(&app, "GET", &script, &[("accept-encoding", &accept)]);
        assert_eq!(compressed.status, 200);
        assert_eq!(compressed.header("content-encoding"), Some(coding));
        assert_eq!(compressed.header("vary"), Some("Accept-Encoding"));
        assert_eq!(compressed.header("cache-control"), Some(IMMUTABLE));
        assert!(compressed.body.len() < identity.len(), "{coding}");
        assert_eq!(decompress(coding, &compressed.body), identity, "{coding}");
        let tag = compressed.header("etag").unwrap();
        assert_ne!(tag, plain.header("etag").unwrap());
        let unchanged = fetch(
            &app,
            "GET",
            &script,
            &[("accept-encoding", &accept), ("if-none-match", tag)],
        );
        assert_eq!(unchanged.status, 304, "{coding}");
        assert!(unchanged.body.is_empty());
    }
    let browser = fetch(
        &app,
        "GET",
        &script,
        &[("accept-encoding", "gzip, deflate, br, zstd")],
    );
    assert_eq!(browser.header("content-encoding"), Some("br"));

    let head = fetch(&app, "HEAD", &script, &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("cache-control"), Some(IMMUTABLE));
    assert_eq!(
        head.header("content-length"),
        Some(identity.len().to_string().as_str())
    );

    let missing = get(&app, "/assets/nope.js");
    assert_eq!(missing.status, 404);
    assert_eq!(missing.problem()["status"], 404);

    let post = fetch(&app, "POST", "/", &[]);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    assert_eq!(post.problem()["title"], "Method Not Allowed");

    // Spellings that climb stay inside the table; none is a server error.
    let climbing = fetch(
        &app,
        "GET",
        "/%2e%2e/%2e%2e/etc/passwd",
        &[("accept", "text/html")],
    );
    assert_eq!(climbing.body, index);
    assert_eq!(get(&app, "/%2e%2e/%2e%2e/etc/passwd").status, 404);
    assert_eq!(get(&app, "/assets/..%2f..%2fCargo.toml").status, 404);
    assert_eq!(get(&app, "/%ff").status, 400);

    // Spin's routing: the most specific route wins, so the API is untouched.
    let priorities = get(&app, "/api/priorities");
    assert_eq!(priorities.status, 200, "{}", priorities.text());
    assert_eq!(priorities.header("content-type"), Some("application/json"));
    assert!(priorities.header("content-security-policy").is_none());
    let unknown_api = get(&app, "/api/nope");
    assert_eq!(unknown_api.status, 404);
    assert_ne!(unknown_api.body, index);
}
