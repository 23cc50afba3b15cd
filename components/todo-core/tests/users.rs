//! Signup and login over the in-memory database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::json;
use support::Api;

#[test]
fn a_login_with_a_name_no_signup_accepts_never_reaches_the_database() {
    let api = Api::new();
    let signup = api.call(
        None,
        "POST",
        "/api/auth/signup",
        Some(json!({"username": "carol", "password": "correct horse"})),
    );
    assert_eq!(signup.status, 201, "{}", signup.body);
    // With the table gone, any lookup would fail as a 500.
    api.db.run("DROP TABLE users");
    for username in [
        "a\u{0}b",
        "'; DROP TABLE users; --",
        "x",
        &"y".repeat(65),
        "auth",
    ] {
        let login = api.call(
            None,
            "POST",
            "/api/auth/login",
            Some(json!({"username": username, "password": "correct horse"})),
        );
        assert_eq!(login.status, 401, "{username:?}: {}", login.body);
    }
}
