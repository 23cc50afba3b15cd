//! Hostile input and access against the whole app (todo API, chat,
//! notifications): refused credentials on every API family, one user reaching
//! for another's data, SQL metacharacters and oversize values in every field
//! of every write, outbound calls to hosts not allowed, and secrets kept out
//! of every log line.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use docket_auth::{Claims, sign_hs256};
use serde_json::{Value, json};
use support::Reply;
use support::providers::Providers;
use support::recording_app::RecordingApp;
use support::todo::{Backend, SECRET, Setup, TodoApp};

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn assert_problem(reply: &Reply, status: u16, context: &str) {
    assert_eq!(reply.status, status, "{context}: {}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{context}"
    );
    assert_eq!(reply.json()["status"], status, "{context}");
}

/// A request with exactly these headers and a JSON body, if any.
fn send(
    app: &TodoApp,
    auth: Option<&str>,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> Reply {
    let mut headers = Vec::new();
    if let Some(auth) = auth {
        headers.push(("authorization", auth));
    }
    if body.is_some() {
        headers.push(("content-type", "application/json"));
    }
    let text = body.map(Value::to_string).unwrap_or_default();
    app.docket.request(method, path, &headers, &text)
}

/// One route of each API family as Alice: reads and writes.
fn every_family() -> Vec<(&'static str, &'static str, Option<Value>)> {
    let spec = json!({"pattern": "daily", "timezone": "UTC", "starts_at": "2030-01-01T00:00:00Z"});
    vec![
        ("GET", "/api/alice/tasks", None),
        ("POST", "/api/alice/tasks", Some(json!({"title": "x"}))),
        ("DELETE", "/api/alice/tasks/1", None),
        ("GET", "/api/alice/tags", None),
        ("POST", "/api/alice/tags", Some(json!({"name": "x"}))),
        ("GET", "/api/alice/recurring", None),
        (
            "POST",
            "/api/alice/recurring",
            Some(json!({"title": "x", "recurrence": spec.clone()})),
        ),
        (
            "POST",
            "/api/alice/recurring/preview",
            Some(json!({"recurrence": spec})),
        ),
        (
            "POST",
            "/api/alice/chat",
            Some(json!({"message": "list my tasks"})),
        ),
        ("GET", "/api/alice/chat/c1", None),
        (
            "POST",
            "/api/alice/mcp",
            Some(json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})),
        ),
        ("GET", "/api/notifications/preferences", None),
        (
            "PUT",
            "/api/notifications/preferences",
            Some(preferences("a@example.com", "device")),
        ),
        ("GET", "/api/notifications/deliveries", None),
        ("GET", "/api/notifications/mailbox", None),
    ]
}

/// `token` with its header replaced and its claims and signature kept: the
/// signature no longer covers what the header says.
fn reheaded(token: &str, header: &Value) -> String {
    let (_, rest) = token.split_once('.').unwrap();
    format!("{}.{rest}", URL_SAFE_NO_PAD.encode(header.to_string()))
}

/// Whole notification preferences (PUT replaces them).
fn preferences(email: &str, device_token: &str) -> Value {
    json!({
        "email": email,
        "channels": {"email": true, "push": true},
        "events": {"task.created": true, "task.completed": true, "task.due": true},
        "device_tokens": [device_token],
    })
}

/// A token with no signature at all.
fn unsigned(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

#[test]
fn refused_credentials_are_401_on_every_api_family() {
    let app = TodoApp::start(Backend::Sqlite, "hostile_auth");
    let alice = json!({"sub": "alice", "iat": now(), "exp": now() + 3600});
    let valid = app.token("alice");
    let (head, rest) = valid.split_once('.').unwrap();
    let (body, _) = rest.split_once('.').unwrap();
    let not_yet = Claims {
        nbf: Some(now() + 3600),
        ..Claims::new("alice", now(), 7200)
    };
    let cases: Vec<(&str, String)> = vec![
        (
            "forged signature",
            format!("Bearer {head}.{body}.{}", URL_SAFE_NO_PAD.encode([0u8; 32])),
        ),
        (
            "signed with another key",
            format!(
                "Bearer {}",
                sign_hs256(
                    b"not-the-secret-at-all-0123456789",
                    &Claims::new("alice", now(), 3600)
                )
            ),
        ),
        ("claims swapped under a valid signature", {
            let forged =
                URL_SAFE_NO_PAD.encode(json!({"sub": "bob", "exp": now() + 3600}).to_string());
            format!(
                "Bearer {head}.{forged}.{}",
                valid.rsplit('.').next().unwrap()
            )
        }),
        (
            "expired",
            format!(
                "Bearer {}",
                sign_hs256(SECRET.as_bytes(), &Claims::new("alice", now() - 7200, 3600))
            ),
        ),
        (
            "not yet valid",
            format!("Bearer {}", sign_hs256(SECRET.as_bytes(), &not_yet)),
        ),
        (
            "alg none, no signature",
            format!(
                "Bearer {}",
                unsigned(&json!({"alg": "none", "typ": "JWT"}), &alice)
            ),
        ),
        (
            "alg none, signature kept",
            format!("Bearer {}", reheaded(&valid, &json!({"alg": "none"}))),
        ),
        (
            "alg None, signature kept",
            format!("Bearer {}", reheaded(&valid, &json!({"alg": "None"}))),
        ),
        (
            "alg HS512, signature kept",
            format!("Bearer {}", reheaded(&valid, &json!({"alg": "HS512"}))),
        ),
        (
            "no alg",
            format!("Bearer {}", reheaded(&valid, &json!({"typ": "JWT"}))),
        ),
        (
            "subject with a NUL",
            format!(
                "Bearer {}",
                sign_hs256(SECRET.as_bytes(), &Claims::new("al\u{0}ice", now(), 3600))
            ),
        ),
        (
            "subject too long",
            format!(
                "Bearer {}",
                sign_hs256(
                    SECRET.as_bytes(),
                    &Claims::new("a".repeat(300), now(), 3600)
                )
            ),
        ),
        ("no Bearer scheme", valid.clone()),
        ("Basic scheme", "Basic YWxpY2U6cGFzc3dvcmQ=".into()),
        ("Bearer without a token", "Bearer".into()),
        ("two parts", format!("Bearer {head}.{body}")),
        ("four parts", format!("Bearer {valid}.{body}")),
        ("not base64", "Bearer !!!.@@@.###".into()),
        (
            "header not JSON",
            format!("Bearer {}.{body}.AAAA", URL_SAFE_NO_PAD.encode("{not json")),
        ),
        ("huge token", format!("Bearer {}", "A".repeat(16 * 1024))),
    ];
    for (method, path, request_body) in every_family() {
        let anonymous = send(&app, None, method, path, request_body.as_ref());
        assert_problem(&anonymous, 401, &format!("no header: {method} {path}"));
        for (case, header) in &cases {
            let context = format!("{case}: {method} {path}");
            let reply = send(&app, Some(header), method, path, request_body.as_ref());
            assert_problem(&reply, 401, &context);
            assert!(
                reply
                    .header("www-authenticate")
                    .is_some_and(|h| h.starts_with("Bearer")),
                "{context}"
            );
            assert!(
                !reply.body.contains(&valid[..40]),
                "{context} echoed the token"
            );
        }
    }
    // Nothing was written by any of them.
    for table in ["users", "tasks", "tags", "recurring_tasks"] {
        assert_eq!(
            app.scalar(&format!("SELECT count(*) FROM {table}")),
            0,
            "{table}"
        );
    }
    assert_eq!(
        app.call(Some("alice"), "GET", "/api/notifications/preferences", None)
            .json()["email"],
        Value::Null
    );
}

/// A validly signed token for a user Alice's data has never seen reaches
/// none of it: her paths are 403 whatever the id, and the user-scoped
/// notification routes show that user's own (empty) data.
#[test]
fn a_token_for_an_unknown_user_reaches_nothing() {
    let app = TodoApp::start(Backend::Sqlite, "hostile_stranger");
    let task = app.create_task("alice", &json!({"title": "alice's"}));
    let email = preferences("alice@example.com", "alice-device");
    let set = app.call(
        Some("alice"),
        "PUT",
        "/api/notifications/preferences",
        Some(&email),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let id = task["id"].as_i64().unwrap();
    for (method, path, body) in every_family() {
        if path.starts_with("/api/notifications") {
            continue;
        }
        let path = path.replace("/1", &format!("/{id}"));
        let reply = app.call(Some("mallory"), method, &path, body.as_ref());
        assert_problem(&reply, 403, &format!("{method} {path}"));
        assert!(!reply.body.contains("alice's"), "{method} {path}");
    }
    let theirs = app.call(
        Some("mallory"),
        "GET",
        "/api/notifications/preferences",
        None,
    );
    assert_eq!(theirs.status, 200, "{}", theirs.body);
    assert_eq!(theirs.json()["email"], Value::Null);
    assert_eq!(
        app.call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None
        )
        .json(),
        task
    );
}

/// The reply for another user's resource must not differ from the reply
/// for one that does not exist, ids aside.
fn assert_like_missing(theirs: &Reply, missing: &Reply, their_id: &str, context: &str) {
    assert!(theirs.status < 500, "{context}: {}", theirs.body);
    assert_eq!(
        theirs.status, missing.status,
        "{context}: {} vs {}",
        theirs.body, missing.body
    );
    assert_eq!(
        theirs.body.replace(their_id, "ID"),
        missing.body.replace(MISSING, "ID"),
        "{context}"
    );
}

const MISSING: &str = "987654321";

/// Everything Alice owns, as she sees it.
fn alice_snapshot(app: &TodoApp, task: i64, template: i64, conversation: &str) -> Vec<Value> {
    [
        format!("/api/alice/tasks/{task}"),
        "/api/alice/tasks".to_string(),
        "/api/alice/tags".to_string(),
        format!("/api/alice/recurring/{template}"),
        format!("/api/alice/chat/{conversation}"),
        "/api/notifications/preferences".to_string(),
    ]
    .iter()
    .map(|path| {
        let reply = app.call(Some("alice"), "GET", path, None);
        assert_eq!(reply.status, 200, "{path}: {}", reply.body);
        reply.json()
    })
    .collect()
}

fn cross_user_access_is_404_and_changes_nothing(backend: Backend) {
    let app = TodoApp::start(backend, "hostile_cross");
    let tag = app.call(
        Some("alice"),
        "POST",
        "/api/alice/tags",
        Some(&json!({"name": "private"})),
    );
    assert_eq!(tag.status, 201, "{}", tag.body);
    let tag = tag.json()["id"].to_string();
    let task = app.create_task(
        "alice",
        &json!({"title": "alice's secret", "tag_ids": [tag.parse::<i64>().unwrap()]}),
    );
    let task_id = task["id"].as_i64().unwrap();
    let spec = json!({"pattern": "daily", "timezone": "UTC", "starts_at": "2030-01-01T00:00:00Z"});
    let template = app.call(
        Some("alice"),
        "POST",
        "/api/alice/recurring",
        Some(&json!({"title": "alice's routine", "recurrence": spec})),
    );
    assert_eq!(template.status, 201, "{}", template.body);
    let template_id = template.json()["id"].as_i64().unwrap();
    let chat = app.call(
        Some("alice"),
        "POST",
        "/api/alice/chat",
        Some(&json!({"message": "help"})),
    );
    assert_eq!(chat.status, 200, "{}", chat.body);
    let conversation = chat.json()["conversation_id"].as_str().unwrap().to_string();
    let prefs = preferences("alice@example.com", "alice-device");
    assert_eq!(
        app.call(
            Some("alice"),
            "PUT",
            "/api/notifications/preferences",
            Some(&prefs)
        )
        .status,
        200
    );
    let before = alice_snapshot(&app, task_id, template_id, &conversation);

    let bobs_task = app.create_task("bob", &json!({"title": "bob's"}))["id"].to_string();
    let bobs_tag = app
        .call(
            Some("bob"),
            "POST",
            "/api/bob/tags",
            Some(&json!({"name": "mine"})),
        )
        .json()["id"]
        .to_string();
    let task_id = task_id.to_string();
    let template_id = template_id.to_string();
    // (method, path with {} for Alice's id or the missing one, body, Alice's id)
    let spec = json!({"pattern": "weekly", "timezone": "UTC", "starts_at": "2031-01-01T00:00:00Z"});
    let probes: Vec<(&str, String, Option<Value>, &str)> = vec![
        ("GET", "/api/bob/tasks/{}".into(), None, &task_id),
        (
            "PUT",
            "/api/bob/tasks/{}".into(),
            Some(json!({"title": "mine now"})),
            &task_id,
        ),
        ("PATCH", "/api/bob/tasks/{}/complete".into(), None, &task_id),
        ("DELETE", "/api/bob/tasks/{}".into(), None, &task_id),
        (
            "PUT",
            format!("/api/bob/tasks/{{}}/tags/{bobs_tag}"),
            None,
            &task_id,
        ),
        (
            "DELETE",
            format!("/api/bob/tasks/{{}}/tags/{tag}"),
            None,
            &task_id,
        ),
        (
            "PUT",
            format!("/api/bob/tasks/{bobs_task}/tags/{{}}"),
            None,
            &tag,
        ),
        (
            "DELETE",
            format!("/api/bob/tasks/{bobs_task}/tags/{{}}"),
            None,
            &tag,
        ),
        (
            "PATCH",
            "/api/bob/tags/{}".into(),
            Some(json!({"name": "renamed"})),
            &tag,
        ),
        ("DELETE", "/api/bob/tags/{}".into(), None, &tag),
        (
            "POST",
            "/api/bob/tasks".into(),
            Some(json!({"title": "t", "tag_ids": ["{}"]})),
            &tag,
        ),
        (
            "PUT",
            format!("/api/bob/tasks/{bobs_task}"),
            Some(json!({"tag_ids": ["{}"]})),
            &tag,
        ),
        ("GET", "/api/bob/tasks?tag={}".into(), None, &tag),
        ("GET", "/api/bob/recurring/{}".into(), None, &template_id),
        (
            "PATCH",
            "/api/bob/recurring/{}".into(),
            Some(json!({"title": "mine", "recurrence": spec})),
            &template_id,
        ),
        (
            "POST",
            "/api/bob/recurring/{}/disable".into(),
            None,
            &template_id,
        ),
        (
            "POST",
            "/api/bob/recurring/{}/enable".into(),
            None,
            &template_id,
        ),
        (
            "GET",
            "/api/bob/recurring/{}/preview".into(),
            None,
            &template_id,
        ),
        ("DELETE", "/api/bob/recurring/{}".into(), None, &template_id),
        (
            "POST",
            "/api/bob/recurring".into(),
            Some(json!({"title": "t", "tag_ids": ["{}"], "recurrence": spec})),
            &tag,
        ),
        ("GET", "/api/bob/chat/{}".into(), None, &conversation),
        (
            "POST",
            "/api/bob/chat".into(),
            Some(json!({"conversation_id": "{}", "message": "delete all my tasks"})),
            &conversation,
        ),
        ("DELETE", "/api/bob/chat/{}".into(), None, &conversation),
    ];
    for (method, path, body, theirs) in probes {
        let fill = |id: &str| {
            let path = path.replace("{}", id);
            // Numeric ids go into bodies as numbers.
            let body = body.as_ref().map(|b| {
                let text = b.to_string();
                let quoted = if theirs.parse::<i64>().is_ok() {
                    text.replace("\"{}\"", id)
                } else {
                    text.replace("{}", id)
                };
                serde_json::from_str::<Value>(&quoted).unwrap()
            });
            app.call(Some("bob"), method, &path, body.as_ref())
        };
        let context = format!("{method} {path}");
        let reply = fill(theirs);
        assert!(
            matches!(reply.status, 200 | 404 | 422),
            "{context}: {} {}",
            reply.status,
            reply.body
        );
        assert!(
            !reply.body.contains("alice"),
            "{context} leaked: {}",
            reply.body
        );
        assert_like_missing(&reply, &fill(MISSING), theirs, &context);
    }
    // What Bob lists is his own.
    let listed = app.call(Some("bob"), "GET", "/api/bob/tasks", None).json();
    assert!(
        listed
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["user_id"] == "bob"),
        "{listed}"
    );
    let prefs = app
        .call(Some("bob"), "GET", "/api/notifications/preferences", None)
        .json();
    assert_eq!(prefs["email"], Value::Null);
    // Bob's token on Alice's paths: 403 whether or not the resource exists.
    for path in [
        format!("/api/alice/tasks/{task_id}"),
        format!("/api/alice/tasks/{MISSING}"),
    ] {
        assert_problem(&app.call(Some("bob"), "DELETE", &path, None), 403, &path);
    }
    let task_id: i64 = task_id.parse().unwrap();
    let template_id: i64 = template_id.parse().unwrap();
    assert_eq!(
        alice_snapshot(&app, task_id, template_id, &conversation),
        before
    );
}

/// Strings that break naive SQL, LIKE patterns and C strings.
const NASTY: &[&str] = &[
    "'; DROP TABLE tasks; --",
    "Robert\"); DELETE FROM users WHERE ('1'='1",
    "%",
    "_",
    "\\",
    "100% _done_ \\o/",
    "Zoë 🎉 中文 \u{202e}txet\u{202c} ¯\\_(ツ)_/¯",
    "a\u{0}b",
];

/// How a field may answer a value it does not like.
#[derive(Clone, Copy, PartialEq)]
enum Kind {
    /// Free text: every printable value is stored verbatim.
    Text,
    /// A format or a name from a set: stored verbatim or a 422 naming it.
    Format,
}

struct Field {
    method: &'static str,
    /// `{user}` and `{id}` are filled in per case.
    path: &'static str,
    /// A valid body; `target` points at the member under test.
    body: Value,
    target: &'static str,
    /// The `field` a 422 must name.
    name: &'static str,
    kind: Kind,
    max_chars: usize,
    /// Where the stored value is read back from the success response.
    echo: Option<&'static str>,
}

fn field(
    method: &'static str,
    path: &'static str,
    body: Value,
    target: &'static str,
    name: &'static str,
    kind: Kind,
    max_chars: usize,
) -> Field {
    Field {
        method,
        path,
        body,
        target,
        name,
        kind,
        max_chars,
        echo: Some(target),
    }
}

fn write_fields() -> Vec<Field> {
    use Kind::{Format, Text};
    let spec = json!({"pattern": "cron", "cron": "0 9 * * 1", "timezone": "Europe/Berlin", "starts_at": "2030-01-01T00:00:00Z"});
    let daily = json!({"pattern": "daily", "time_of_day": "09:00", "timezone": "UTC", "starts_at": "2030-01-01T00:00:00Z"});
    let template = json!({"title": "t", "description": "d", "priority": "Low", "recurrence": spec});
    let task = json!({"title": "t", "description": "d", "priority": "Low", "due_at": "2030-01-02T00:00:00Z", "remind_at": "2030-01-01T00:00:00Z"});
    let prefs = preferences("a@example.com", "tok");
    let mut fields = vec![
        field(
            "POST",
            "/api/{user}/tasks",
            task.clone(),
            "/title",
            "title",
            Text,
            500,
        ),
        field(
            "POST",
            "/api/{user}/tasks",
            task.clone(),
            "/description",
            "description",
            Text,
            10_000,
        ),
        field(
            "POST",
            "/api/{user}/tasks",
            task.clone(),
            "/priority",
            "priority",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/tasks",
            task.clone(),
            "/due_at",
            "due_at",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/tasks",
            task.clone(),
            "/remind_at",
            "remind_at",
            Format,
            100,
        ),
        field(
            "PUT",
            "/api/{user}/tasks/{id}",
            task.clone(),
            "/title",
            "title",
            Text,
            500,
        ),
        field(
            "PUT",
            "/api/{user}/tasks/{id}",
            task.clone(),
            "/description",
            "description",
            Text,
            10_000,
        ),
        field(
            "PUT",
            "/api/{user}/tasks/{id}",
            task,
            "/due_at",
            "due_at",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/tags",
            json!({"name": "n", "color": "#000000"}),
            "/name",
            "name",
            Text,
            50,
        ),
        field(
            "POST",
            "/api/{user}/tags",
            json!({"name": "n", "color": "#000000"}),
            "/color",
            "color",
            Format,
            100,
        ),
        field(
            "PATCH",
            "/api/{user}/tags/{tag}",
            json!({"name": "n"}),
            "/name",
            "name",
            Text,
            50,
        ),
        field(
            "PATCH",
            "/api/{user}/tags/{tag}",
            json!({"color": "#000000"}),
            "/color",
            "color",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/recurring",
            template.clone(),
            "/title",
            "title",
            Text,
            500,
        ),
        field(
            "POST",
            "/api/{user}/recurring",
            template.clone(),
            "/description",
            "description",
            Text,
            10_000,
        ),
        field(
            "POST",
            "/api/{user}/recurring",
            template.clone(),
            "/priority",
            "priority",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/recurring",
            template.clone(),
            "/recurrence/timezone",
            "recurrence.timezone",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/recurring",
            template.clone(),
            "/recurrence/cron",
            "recurrence.cron",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/recurring",
            template.clone(),
            "/recurrence/starts_at",
            "recurrence.starts_at",
            Format,
            100,
        ),
        field(
            "POST",
            "/api/{user}/recurring",
            json!({"title": "t", "recurrence": daily}),
            "/recurrence/time_of_day",
            "recurrence.time_of_day",
            Format,
            100,
        ),
        field(
            "PATCH",
            "/api/{user}/recurring/{template}",
            json!({"title": "t"}),
            "/title",
            "title",
            Text,
            500,
        ),
        field(
            "PATCH",
            "/api/{user}/recurring/{template}",
            json!({"description": "d"}),
            "/description",
            "description",
            Text,
            10_000,
        ),
        field(
            "POST",
            "/api/{user}/recurring/preview",
            json!({"recurrence": {"pattern": "daily", "timezone": "UTC", "starts_at": "2030-01-01T00:00:00Z"}}),
            "/recurrence/timezone",
            "recurrence.timezone",
            Format,
            100,
        ),
        field(
            "PUT",
            "/api/notifications/preferences",
            prefs.clone(),
            "/email",
            "email",
            Format,
            254,
        ),
        field(
            "PUT",
            "/api/notifications/preferences",
            prefs,
            "/device_tokens/0",
            "device_tokens[0]",
            Format,
            4096,
        ),
        field(
            "POST",
            "/api/auth/signup",
            json!({"username": "someone", "password": "long enough password"}),
            "/username",
            "username",
            Format,
            64,
        ),
        field(
            "POST",
            "/api/auth/login",
            json!({"username": "someone", "password": "long enough password"}),
            "/username",
            "username",
            Format,
            64,
        ),
        field(
            "POST",
            "/api/auth/login",
            json!({"username": "someone", "password": "long enough password"}),
            "/password",
            "password",
            Format,
            1024,
        ),
    ];
    for (target, name, kind) in [
        ("/message", "message", Text),
        ("/timezone", "timezone", Format),
        ("/conversation_id", "conversation_id", Format),
    ] {
        let mut body = json!({"message": "hello", "timezone": "UTC"});
        body[&target[1..]] = json!("x");
        let mut chat = field("POST", "/api/{user}/chat", body, target, name, kind, 4000);
        chat.echo = None;
        fields.push(chat);
    }
    for field in &mut fields {
        if field.path.contains("preview")
            || field.path.contains("auth")
            || field.target.contains("recurrence/")
        {
            field.echo = None;
        }
    }
    fields
}

/// Sets the member at `pointer` (which must exist) to `value`.
fn with_member(body: &Value, pointer: &str, value: &str) -> Value {
    let mut body = body.clone();
    let member = body.pointer_mut(pointer);
    *member.unwrap_or_else(|| panic!("no {pointer} in the body")) = json!(value);
    body
}

/// Sends only the head of a request declaring a body over 1 MiB and returns
/// the response head, lower-cased: the refusal must not wait for the body.
fn oversize_request_head(app: &TodoApp, method: &str, path: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let addr = app.docket.addr;
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    let timeout = Some(std::time::Duration::from_secs(30));
    stream.set_read_timeout(timeout).unwrap();
    let length = 1024 * 1024 + 1;
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: {length}\r\n\r\n{{"
    )
    .unwrap();
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap() == 1 {
        head.push(byte[0]);
    }
    String::from_utf8_lossy(&head).to_ascii_lowercase()
}

/// Makes the per-case resources a path names, as a fresh user.
fn fill_path(app: &TodoApp, path: &str, user: &str) -> String {
    let mut path = path.replace("{user}", user);
    if path.contains("{id}") {
        let id = app.create_task(user, &json!({"title": "to change"}))["id"].to_string();
        path = path.replace("{id}", &id);
    }
    if path.contains("{tag}") {
        static TAGS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = TAGS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = json!({"name": format!("to change {n}")});
        let tag = app.call(
            Some(user),
            "POST",
            &format!("/api/{user}/tags"),
            Some(&name),
        );
        path = path.replace("{tag}", &tag.json()["id"].to_string());
    }
    if path.contains("{template}") {
        let spec =
            json!({"pattern": "daily", "timezone": "UTC", "starts_at": "2030-01-01T00:00:00Z"});
        let body = json!({"title": "to change", "recurrence": spec});
        let template = app.call(
            Some(user),
            "POST",
            &format!("/api/{user}/recurring"),
            Some(&body),
        );
        path = path.replace("{template}", &template.json()["id"].to_string());
    }
    path
}

fn check_value(app: &TodoApp, field: &Field, value: &str, user: &str) {
    let path = fill_path(app, field.path, user);
    let body = with_member(&field.body, field.target, value);
    let context = format!(
        "{} {} {} = {:?}",
        field.method,
        path,
        field.target,
        value.chars().take(40).collect::<String>()
    );
    let reply = app.call(Some(user), field.method, &path, Some(&body));
    assert!(
        reply.status < 500,
        "{context}: {} {}",
        reply.status,
        reply.body
    );
    let oversize = value.chars().count() > field.max_chars;
    let control = value.chars().any(char::is_control);
    match reply.status {
        200..=299 => {
            assert!(!oversize, "{context}: an oversize value was accepted");
            if let Some(echo) = field.echo {
                assert_eq!(
                    reply.json().pointer(echo),
                    Some(&json!(value)),
                    "{context}: not stored verbatim"
                );
            }
        }
        413 => assert_problem(&reply, 413, &context),
        422 => {
            assert_problem(&reply, 422, &context);
            assert_eq!(
                reply.json()["field"],
                field.name,
                "{context}: {}",
                reply.body
            );
            assert!(
                field.kind == Kind::Format || oversize || control,
                "{context}: free text refused: {}",
                reply.body
            );
        }
        // Credentials that match no user.
        401 if field.path.ends_with("/login") => assert_problem(&reply, 401, &context),
        // A conversation id that is not one of the user's is unknown.
        404 if field.name == "conversation_id" => assert_problem(&reply, 404, &context),
        _ => panic!("{context}: {} {}", reply.status, reply.body),
    }
}

fn metacharacters_and_oversize_values_in_every_field(backend: Backend) {
    let app = TodoApp::start(backend, "hostile_fields");
    for (n, field) in write_fields().iter().enumerate() {
        // A user per field, so that unique names never collide.
        let user = format!("user{n}");
        let values = NASTY.iter().map(|v| v.to_string()).chain([
            "x".repeat(field.max_chars + 1),
            "é".repeat(field.max_chars + 1),
            "y".repeat(64 * 1024),
        ]);
        for value in values {
            check_value(&app, field, &value, &user);
        }
        // Over the body limit: 413 from the declared length.
        let path = fill_path(&app, field.path, &user);
        let head = oversize_request_head(&app, field.method, &path, &app.token(&user));
        assert!(
            head.starts_with("http/1.1 413"),
            "{} {path}: {head}",
            field.method
        );
        assert!(head.contains("application/problem+json"), "{head}");
    }
    // Query parameters and path segments.
    for value in NASTY
        .iter()
        .map(|v| v.to_string())
        .chain(["q".repeat(10_000)])
    {
        let encoded = support::encode(&value);
        for path in [
            format!("/api/alice/tasks?q={encoded}"),
            format!("/api/alice/tasks?tag={encoded}"),
            format!("/api/alice/tasks?sort={encoded}"),
            format!("/api/alice/tasks?priority={encoded}"),
            format!("/api/alice/tasks?due_before={encoded}"),
            format!("/api/alice/tasks/{encoded}"),
            format!("/api/alice/chat/{encoded}"),
            format!("/api/alice/recurring/1/preview?count={encoded}"),
            format!("/api/notifications/mailbox?limit={encoded}"),
        ] {
            let reply = app.call(Some("alice"), "GET", &path, None);
            assert!(
                reply.status < 500,
                "{path}: {} {}",
                reply.status,
                reply.body
            );
            if reply.status >= 400 {
                assert_problem(&reply, reply.status, &path);
            }
        }
    }
    for table in [
        "users",
        "tasks",
        "tags",
        "task_tags",
        "recurring_tasks",
        "recurring_task_tags",
        "event_outbox",
    ] {
        app.scalar(&format!("SELECT count(*) FROM {table}"));
    }
    let titles = app.text("SELECT count(*) FROM tasks WHERE title = '''; DROP TABLE tasks; --'");
    assert_eq!(
        titles, "2",
        "the DROP title was stored as text by POST and PUT"
    );
}

on_both_backends!(
    cross_user_access_is_404_and_changes_nothing,
    metacharacters_and_oversize_values_in_every_field,
);

/// A language model and a JWKS on hosts todo-api may not call: the request
/// fails clearly and nothing reaches them.
#[test]
fn outbound_calls_to_hosts_not_allowed_are_refused_without_a_call() {
    let server = RecordingApp::start(|_| (200, "application/json", "{}".to_string()));
    let base = format!("http://127.0.0.1:{}", server.port());
    let setup = Setup {
        variables: vec![
            ("llm_base_url".into(), format!("{base}/v1")),
            ("llm_api_key".into(), "sk-not-allowed".into()),
            ("jwks_url".into(), format!("{base}/jwks.json")),
        ],
        ..Setup::default()
    };
    let app = TodoApp::start_with(Backend::Sqlite, "hostile_outbound", setup);
    let reply = app.call(
        Some("alice"),
        "POST",
        "/api/alice/chat",
        Some(&json!({"message": "hi"})),
    );
    assert_problem(&reply, 502, "chat");
    let detail = reply.json()["detail"].as_str().unwrap().to_string();
    assert!(
        detail.contains("not allowed") || detail.contains("allowed_outbound_hosts"),
        "{detail}"
    );
    assert!(!reply.body.contains("sk-not-allowed"), "{}", reply.body);
    // An RS256 token makes the JWKS worth fetching; it may not be.
    let rs256 = format!(
        "Bearer {}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","kid":"k1"}"#),
        URL_SAFE_NO_PAD.encode(json!({"sub": "alice", "exp": now() + 3600}).to_string()),
        URL_SAFE_NO_PAD.encode([7u8; 256])
    );
    let reply = send(&app, Some(&rs256), "GET", "/api/alice/tasks", None);
    assert!(
        matches!(reply.status, 401 | 503),
        "{} {}",
        reply.status,
        reply.body
    );
    assert_problem(&reply, reply.status, "jwks");
    std::thread::sleep(std::time::Duration::from_millis(200));
    assert!(server.requests().is_empty(), "{:?}", server.requests());
    // HS256 tokens still work without the JWKS.
    assert_eq!(
        app.call(Some("alice"), "GET", "/api/alice/tasks", None)
            .status,
        200
    );
}

/// A Postgres role with a password, dropped after the test.
struct PasswordRole {
    name: String,
    database: String,
}

impl PasswordRole {
    fn create(password: &str, database: &str) -> PasswordRole {
        let name = format!("docket_hostile_{}", std::process::id());
        support::psql(&format!("DROP ROLE IF EXISTS {name}"));
        support::psql(&format!("CREATE ROLE {name} LOGIN PASSWORD '{password}'"));
        support::psql(&format!("GRANT ALL ON DATABASE {database} TO {name}"));
        support::psql_query(
            database,
            &format!("GRANT ALL ON ALL TABLES IN SCHEMA public TO {name}"),
        );
        support::psql_query(
            database,
            &format!("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {name}"),
        );
        PasswordRole {
            name,
            database: database.to_string(),
        }
    }
}

impl Drop for PasswordRole {
    fn drop(&mut self) {
        role_connections(&self.name);
        support::psql_query(&self.database, &format!("DROP OWNED BY {}", self.name));
        support::psql(&format!("DROP OWNED BY {}", self.name));
        support::psql(&format!("DROP ROLE IF EXISTS {}", self.name));
    }
}

#[test]
fn no_secret_reaches_the_logs() {
    const DB_PASSWORD: &str = "pg-Secret-7f3a9c";
    const LLM_KEY: &str = "sk-llm-Secret-51b2";
    let providers = Providers::start();
    let model = RecordingApp::start(|_| (500, "application/json", r#"{"error": "down"}"#.into()));
    let account = providers.service_account();
    let private_key: Value = serde_json::from_str(&account).unwrap();
    let private_key = private_key["private_key"].as_str().unwrap().to_string();
    // The key's body lines, any of which would betray it.
    let key_lines: Vec<String> = private_key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 20)
        .map(String::from)
        .collect();

    let database = support::TestDatabase::create("hostile_secrets");
    support::todo::migrate(&database.address());
    let role = PasswordRole::create(DB_PASSWORD, &database.name);
    let database_url = format!(
        "postgres://{}:{DB_PASSWORD}@127.0.0.1:5432/{}?sslmode=disable",
        role.name, database.name
    );
    let model_base = format!("http://127.0.0.1:{}", model.port());
    let setup = Setup {
        allowed_hosts: vec![model_base.clone()],
        variables: vec![
            ("database_url".into(), database_url),
            (
                "sendgrid_api_key".into(),
                support::providers::SENDGRID_KEY.into(),
            ),
            ("sendgrid_base_url".into(), providers.url()),
            ("fcm_base_url".into(), providers.url()),
            ("fcm_service_account".into(), account.clone()),
            ("llm_base_url".into(), format!("{model_base}/v1")),
            ("llm_api_key".into(), LLM_KEY.into()),
            ("llm_timeout_secs".into(), "5".into()),
        ],
        args: vec!["--variable".into(), "provider_timeout_secs=2".into()],
        ..Setup::default()
    };
    let app = TodoApp::start_with(Backend::Sqlite, "hostile_secrets", setup);
    let prefs = preferences("alice@example.com", "device-1");
    assert_eq!(
        app.call(
            Some("alice"),
            "PUT",
            "/api/notifications/preferences",
            Some(&prefs)
        )
        .status,
        200
    );
    // A success, then the providers failing, the model failing, and bad tokens.
    app.create_task("alice", &json!({"title": "first"}));
    support::redis::wait_until("the first email", || !providers.accepted_mail().is_empty());
    providers.fail_always(500);
    app.create_task("alice", &json!({"title": "second"}));
    let chat = app.call(
        Some("alice"),
        "POST",
        "/api/alice/chat",
        Some(&json!({"message": "hi"})),
    );
    assert!(chat.status >= 500, "{} {}", chat.status, chat.body);
    let forged = format!(
        "Bearer {}",
        sign_hs256(
            b"guessing-the-secret-0123456789ab",
            &Claims::new("alice", now(), 3600)
        )
    );
    assert_eq!(
        send(&app, Some(&forged), "GET", "/api/alice/tasks", None).status,
        401
    );
    std::thread::sleep(std::time::Duration::from_secs(3));
    let token = app.token("alice");
    let mut logs = String::new();

    // The database dropping its sessions, then unreachable: its errors are
    // logged, its URL is not.
    role_connections(&role.name);
    let after = app.call(Some("alice"), "GET", "/api/alice/tasks", None);
    assert!(
        after.status == 200 || after.status == 503,
        "{} {}",
        after.status,
        after.body
    );
    app.docket.wait_for_log("fcm: HTTP 500");
    logs.push_str(&app.docket.logs());
    let unreachable = format!(
        "postgres://{}:{DB_PASSWORD}@127.0.0.1:1/{}",
        role.name, database.name
    );
    let broken = TodoApp::start_with(
        Backend::Sqlite,
        "hostile_secrets_down",
        Setup {
            variables: vec![("database_url".into(), unreachable)],
            ..Setup::default()
        },
    );
    let down = broken.call(Some("alice"), "GET", "/api/alice/tasks", None);
    assert!(down.status >= 500, "{} {}", down.status, down.body);
    assert!(!down.body.contains(DB_PASSWORD), "{}", down.body);
    broken.docket.wait_for_log("database unavailable");
    logs.push_str(&broken.docket.logs());

    // The failing paths ran and were logged.
    for needle in [
        "docket::request",
        "sendgrid: HTTP 500",
        "fcm: HTTP 500",
        "database unavailable",
    ] {
        assert!(logs.contains(needle), "no {needle:?} in the logs:\n{logs}");
    }
    let mut secrets = vec![
        SECRET.to_string(),
        DB_PASSWORD.into(),
        LLM_KEY.into(),
        support::providers::SENDGRID_KEY.into(),
        token,
    ];
    secrets.extend(key_lines);
    for secret in secrets {
        let line = logs.lines().find(|line| line.contains(&secret));
        assert!(line.is_none(), "a secret is in the logs: {line:?}");
    }
}

/// Ends the role's open sessions.
fn role_connections(role: &str) {
    support::psql_query(
        "postgres",
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = '{role}'"
        ),
    );
}
