//! Bad input and refused credentials against the real todo-api `.wasm`:
//! each gets a precise 4xx problem and leaves the data as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use docket_auth::{Claims, sign_hs256};
use serde_json::{Value, json};
use support::todo::{Backend, SECRET, TodoApp};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn unsigned_token(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// Sends only the head of a POST declaring `length` body bytes and returns
/// the response head; a client that waits for `100 Continue` works this way.
fn oversized_request_head(app: &TodoApp, auth: &str, length: usize) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(app.docket.addr).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "POST /api/alice/tasks HTTP/1.1\r\nhost: {}\r\nauthorization: {auth}\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n\r\n{{\"title\": \"",
        app.docket.addr
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head)
        .to_ascii_lowercase()
        .replace("http/1.1", "HTTP/1.1")
}

fn assert_problem(reply: &support::Reply, status: u16, context: &str) {
    assert_eq!(reply.status, status, "{context}: {}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{context}"
    );
    let body = reply.json();
    assert_eq!(body["status"], status, "{context}");
    assert!(
        body["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{context}"
    );
}

fn every_auth_failure_is_refused(backend: Backend) {
    let app = TodoApp::start(backend, "authfail");
    let expired = sign_hs256(SECRET.as_bytes(), &Claims::new("alice", now() - 7200, 3600));
    let other_secret = sign_hs256(
        b"some-other-secret-entirely-000000",
        &Claims::new("alice", now(), 3600),
    );
    let no_subject = sign_hs256(SECRET.as_bytes(), &Claims::new("", now(), 3600));
    let alg_none = unsigned_token(
        &json!({"alg": "none", "typ": "JWT"}),
        &json!({"sub": "alice", "exp": now() + 3600}),
    );
    let rs256_without_jwks = format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(json!({"sub": "alice", "exp": now() + 3600}).to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    );
    let cases: Vec<(&str, Option<String>)> = vec![
        ("no header", None),
        ("basic scheme", Some("Basic YWxpY2U6cHc=".into())),
        ("empty bearer", Some("Bearer ".into())),
        ("garbage", Some("Bearer not.a.jwt".into())),
        ("expired", Some(format!("Bearer {expired}"))),
        ("wrong secret", Some(format!("Bearer {other_secret}"))),
        ("missing sub", Some(format!("Bearer {no_subject}"))),
        ("alg none", Some(format!("Bearer {alg_none}"))),
        (
            "rs256 without a jwks",
            Some(format!("Bearer {rs256_without_jwks}")),
        ),
    ];
    for (case, header) in cases {
        let headers: Vec<(&str, &str)> = header
            .iter()
            .map(|h| ("authorization", h.as_str()))
            .collect();
        let reply = app.docket.request("GET", "/api/alice/tasks", &headers, "");
        assert_problem(&reply, 401, case);
        assert!(
            reply
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{case}"
        );
        // Messages never echo the token.
        if let Some(header) = &header {
            let token = header.split_once(' ').map(|(_, t)| t).unwrap_or_default();
            assert!(
                token.len() < 8 || !reply.body.contains(token),
                "{case} leaked the token"
            );
        }
    }
    assert_eq!(app.scalar("SELECT count(*) FROM users"), 0);
}

fn signup_and_login_issue_tokens(backend: Backend) {
    let app = TodoApp::start(backend, "signup");
    let signup = app.docket.post_json(
        "/api/auth/signup",
        &json!({"username": "carol", "password": "correct horse", "email": "carol@example.com"}),
    );
    assert_eq!(signup.status, 201, "{}", signup.body);
    assert_eq!(signup.header("cache-control"), Some("no-store"));
    let token = signup.json()["access_token"].as_str().unwrap().to_string();
    let created = app.docket.request(
        "POST",
        "/api/carol/tasks",
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", "application/json"),
        ],
        r#"{"title": "from a signup token"}"#,
    );
    assert_eq!(created.status, 201, "{}", created.body);

    assert_problem(
        &app.docket.post_json(
            "/api/auth/signup",
            &json!({"username": "carol", "password": "another one"}),
        ),
        409,
        "taken",
    );
    assert_problem(
        &app.docket.post_json(
            "/api/auth/signup",
            &json!({"username": "dave", "password": "short"}),
        ),
        422,
        "short password",
    );
    assert_problem(
        &app.docket.post_json(
            "/api/auth/signup",
            &json!({"username": "auth", "password": "long enough"}),
        ),
        422,
        "reserved",
    );
    assert_problem(
        &app.docket.post_json(
            "/api/auth/signup",
            &json!({"username": "a b", "password": "long enough"}),
        ),
        422,
        "bad username",
    );

    let login = app.docket.post_json(
        "/api/auth/login",
        &json!({"username": "carol", "password": "correct horse"}),
    );
    assert_eq!(login.status, 200);
    assert_eq!(login.json()["user_id"], "carol");
    let wrong = app.docket.post_json(
        "/api/auth/login",
        &json!({"username": "carol", "password": "wrong horse"}),
    );
    let unknown = app.docket.post_json(
        "/api/auth/login",
        &json!({"username": "nobody", "password": "wrong horse"}),
    );
    assert_problem(&wrong, 401, "wrong password");
    assert_problem(&unknown, 401, "unknown user");
    assert_eq!(wrong.json()["detail"], unknown.json()["detail"]);
    assert_eq!(app.scalar("SELECT count(*) FROM users"), 1);
}

fn bad_bodies_get_precise_errors_and_change_nothing(backend: Backend) {
    let app = TodoApp::start(backend, "badinput");
    let task = app.create_task("alice", &json!({"title": "keep me"}));
    let id = task["id"].as_i64().unwrap();
    let bobs_tag = app
        .call(
            Some("bob"),
            "POST",
            "/api/bob/tags",
            Some(&json!({"name": "bob's"})),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let auth = format!("Bearer {}", app.token("alice"));
    let send = |method: &str, path: &str, content_type: &str, body: &[u8]| {
        app.docket.request_bytes(
            method,
            path,
            &[("authorization", &auth), ("content-type", content_type)],
            body,
        )
    };
    let json_ct = "application/json";
    let huge_title = "x".repeat(10 * 1024);
    let cases: Vec<(&str, &str, &str, Vec<u8>, u16)> = vec![
        ("malformed", "POST", json_ct, br#"{"title": "#.to_vec(), 400),
        ("not an object", "POST", json_ct, b"[1, 2]".to_vec(), 422),
        ("empty body", "POST", json_ct, Vec::new(), 400),
        ("wrong content type", "POST", "text/plain", br#"{"title": "x"}"#.to_vec(), 415),
        ("form content type", "POST", "application/x-www-form-urlencoded", b"title=x".to_vec(), 415),
        ("unknown field", "POST", json_ct, br#"{"title": "x", "owner": "bob"}"#.to_vec(), 422),
        ("missing title", "POST", json_ct, br#"{"priority": "High"}"#.to_vec(), 422),
        ("empty title", "POST", json_ct, br#"{"title": "   "}"#.to_vec(), 422),
        ("10 KB title", "POST", json_ct, json!({"title": huge_title}).to_string().into_bytes(), 422),
        ("NUL in title", "POST", json_ct, br#"{"title": "a\u0000b"}"#.to_vec(), 422),
        ("unknown priority", "POST", json_ct, br#"{"title": "x", "priority": "Urgent"}"#.to_vec(), 422),
        ("bad due date", "POST", json_ct, br#"{"title": "x", "due_at": "tomorrow"}"#.to_vec(), 422),
        ("reminder after due", "POST", json_ct, br#"{"title": "x", "due_at": "2030-01-01T00:00:00Z", "remind_at": "2030-01-02T00:00:00Z"}"#.to_vec(), 422),
        ("another user's tag", "POST", json_ct, json!({"title": "x", "tag_ids": [bobs_tag]}).to_string().into_bytes(), 422),
        ("title of wrong type", "POST", json_ct, br#"{"title": 42}"#.to_vec(), 422),
        ("invalid UTF-8", "POST", json_ct, vec![b'{', b'"', b't', b'"', b':', b'"', 0xff, 0xfe, b'"', b'}'], 400),
    ];
    for (case, method, content_type, body, status) in cases {
        let reply = send(method, "/api/alice/tasks", content_type, &body);
        assert_problem(&reply, status, case);
        if status == 422 && reply.json().get("field").is_some() {
            assert!(reply.json()["field"].is_string(), "{case}");
        }
    }
    // The same rules on update.
    let put = format!("/api/alice/tasks/{id}");
    assert_problem(
        &send("PUT", &put, json_ct, br#"{"title": ""}"#),
        422,
        "empty title on update",
    );
    assert_problem(
        &send("PUT", &put, json_ct, br#"{"completed": "yes"}"#),
        422,
        "completed of wrong type",
    );
    assert_problem(
        &send("PUT", &put, json_ct, br#"{"id": 99}"#),
        422,
        "id is not writable",
    );
    assert_problem(
        &send("PUT", "/api/alice/tasks/abc", json_ct, br#"{"title": "x"}"#),
        404,
        "non-numeric id",
    );
    assert_problem(
        &send(
            "POST",
            "/api/alice/tags",
            json_ct,
            br#"{"name": "x", "color": "red"}"#,
        ),
        422,
        "bad colour",
    );

    // Over 1 MiB: refused from the declared length, before the body is sent.
    let head = oversized_request_head(&app, &auth, 1024 * 1024 + 1);
    assert!(head.starts_with("HTTP/1.1 413"), "{head}");
    assert!(head.contains("application/problem+json"), "{head}");

    assert_eq!(app.scalar("SELECT count(*) FROM tasks"), 1);
    assert_eq!(app.call(Some("alice"), "GET", &put, None).json(), task);
}

fn sql_metacharacters_are_stored_verbatim(backend: Backend) {
    let app = TodoApp::start(backend, "sqlmeta");
    let nasty = [
        "Robert'); DROP TABLE tasks;--",
        "\" OR 1=1 --",
        "%_\\ LIKE '%'",
        "$1::text; SELECT pg_sleep(5)",
        "?1 ?2 ? ;",
    ];
    for text in nasty {
        let task = app.create_task("alice", &json!({"title": text, "description": text}));
        assert_eq!(task["title"], text);
        assert_eq!(task["description"], text);
        let tag = app.call(
            Some("alice"),
            "POST",
            "/api/alice/tags",
            Some(&json!({"name": &text[..text.len().min(50)]})),
        );
        assert_eq!(tag.status, 201, "{}", tag.body);
        let search = app
            .call(
                Some("alice"),
                "GET",
                &format!("/api/alice/tasks?q={}", support::encode(text)),
                None,
            )
            .json();
        assert_eq!(
            search.as_array().unwrap().len(),
            1,
            "search for {text:?}: {search}"
        );
    }
    let listed = app
        .call(
            Some("alice"),
            "GET",
            "/api/alice/tasks?sort=created&order=asc",
            None,
        )
        .json();
    let titles: Vec<&str> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, nasty);
    assert_eq!(app.scalar("SELECT count(*) FROM tasks"), 5);
}

on_both_backends!(
    every_auth_failure_is_refused,
    signup_and_login_issue_tokens,
    bad_bodies_get_precise_errors_and_change_nothing,
    sql_metacharacters_are_stored_verbatim,
);

mod jwks {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};
    use support::recording_app::RecordingApp;
    use support::todo::Setup;

    fn eddsa_token(key: &SigningKey, kid: &str, user: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(json!({"alg": "EdDSA", "kid": kid}).to_string());
        let claims = URL_SAFE_NO_PAD.encode(json!({"sub": user, "exp": now() + 600}).to_string());
        let signing_input = format!("{header}.{claims}");
        let signature = key.sign(signing_input.as_bytes());
        format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature.to_bytes())
        )
    }

    /// Tokens from an outside issuer are checked against its JWKS, fetched
    /// only for tokens the shared secret does not sign.
    #[test]
    fn eddsa_tokens_are_checked_against_the_jwks() {
        let issuer = SigningKey::from_bytes(&[7u8; 32]);
        let stranger = SigningKey::from_bytes(&[9u8; 32]);
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "kid": "issuer-1",
                         "x": URL_SAFE_NO_PAD.encode(issuer.verifying_key().as_bytes())});
        let jwks_body = json!({"keys": [jwk]}).to_string();
        let jwks = RecordingApp::start(move |_| (200, "application/json", jwks_body.clone()));
        let setup = Setup {
            allowed_hosts: vec![format!("http://127.0.0.1:{}", jwks.port())],
            variables: vec![(
                "jwks_url".to_string(),
                format!("http://127.0.0.1:{}/.well-known/jwks.json", jwks.port()),
            )],
            ..Setup::default()
        };
        let app = TodoApp::start_with(Backend::Sqlite, "jwks", setup);

        let shared = app.call(Some("erin"), "GET", "/api/erin/tasks", None);
        assert_eq!(shared.status, 200, "{}", shared.body);
        assert!(jwks.requests().is_empty(), "an HS256 token needs no JWKS");

        let good = format!("Bearer {}", eddsa_token(&issuer, "issuer-1", "erin"));
        let reply = app
            .docket
            .request("GET", "/api/erin/tasks", &[("authorization", &good)], "");
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(jwks.to("/.well-known/jwks.json").len(), 1);

        let forged = format!("Bearer {}", eddsa_token(&stranger, "issuer-1", "erin"));
        let reply = app
            .docket
            .request("GET", "/api/erin/tasks", &[("authorization", &forged)], "");
        assert_problem(&reply, 401, "a key the JWKS does not hold");
        let unknown_kid = format!("Bearer {}", eddsa_token(&issuer, "other", "erin"));
        let reply = app.docket.request(
            "GET",
            "/api/erin/tasks",
            &[("authorization", &unknown_kid)],
            "",
        );
        assert_problem(&reply, 401, "an unknown kid");
    }
}
