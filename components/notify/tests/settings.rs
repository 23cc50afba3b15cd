//! Settings from strings, and secrets kept out of errors, Debug output,
//! records and outcomes. Also the Dapr-facing shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use docket_notify::record::Channel;
use docket_notify::{DEAD_LETTER_TOPIC, Outcome, Settings, SettingsError, subscriptions};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};

/// A line from the middle of the test key: if it shows, the key shows.
fn key_line() -> &'static str {
    TEST_KEY_PEM.lines().nth(5).unwrap()
}

fn assert_no_secret(text: &str) {
    assert!(!text.contains(SENDGRID_KEY), "the API key in {text:?}");
    assert!(!text.contains(key_line()), "the private key in {text:?}");
    assert!(!text.contains("PRIVATE KEY"), "the private key in {text:?}");
}

fn fcm_error_for(account: &Value) -> SettingsError {
    Settings::new(SENDGRID_KEY, "", "", &account.to_string(), "").unwrap_err()
}

#[test]
fn a_bad_service_account_says_what_is_wrong_without_quoting_it() {
    let with = |member: &str, value: Value| {
        let mut account = service_account();
        account[member] = value;
        account
    };
    let without = |member: &str| {
        let mut account = service_account();
        account.as_object_mut().unwrap().remove(member);
        account
    };
    let pkcs1 = rsa::RsaPrivateKey::from_pkcs8_pem(TEST_KEY_PEM)
        .unwrap()
        .to_pkcs1_pem(rsa::pkcs8::LineEnding::LF)
        .unwrap()
        .to_string();
    let cases = [
        (with("type", json!("authorized_user")), "`type`"),
        (without("type"), "`type`"),
        (without("project_id"), "`project_id`"),
        (with("project_id", json!("a/b")), "`project_id`"),
        (without("private_key"), "`private_key`"),
        (with("private_key", json!(7)), "`private_key`"),
        (
            with(
                "private_key",
                json!(TEST_KEY_PEM.replace(key_line(), "AAAA")),
            ),
            "`private_key`",
        ),
        (with("private_key", json!(pkcs1)), "`private_key`"),
        (without("client_email"), "`client_email`"),
        (without("private_key_id"), "`private_key_id`"),
        (without("token_uri"), "`token_uri`"),
        (
            with("token_uri", json!("file:///etc/passwd")),
            "`token_uri`",
        ),
    ];
    for (account, member) in cases {
        let error = fcm_error_for(&account);
        assert_eq!(error.setting, "fcm_service_account_json");
        let text = error.to_string();
        assert!(text.contains(member), "{text} should name {member}");
        assert_no_secret(&text);
        assert_no_secret(&format!("{error:?}"));
    }
    // Cut off in the middle of the key: serde_json would quote the string.
    let json = service_account().to_string();
    let cut = &json[..json.find(key_line()).unwrap() + 20];
    let error = Settings::new("", "", "", cut, "").unwrap_err();
    assert!(error.to_string().contains("not valid JSON"), "{error}");
    assert_no_secret(&error.to_string());
    assert_no_secret(&format!("{error:?}"));
}

#[test]
fn other_bad_settings_name_the_setting() {
    let cases = [
        (
            Settings::new(SENDGRID_KEY, "Docket <nope>", "", "", ""),
            "sendgrid_from",
        ),
        (
            Settings::new(SENDGRID_KEY, "", "sendgrid.test", "", ""),
            "sendgrid_base_url",
        ),
        (
            Settings::new(SENDGRID_KEY, "", "ftp://user:hunter2@sendgrid.test", "", ""),
            "sendgrid_base_url",
        ),
        (
            Settings::new("", "", "", &service_account().to_string(), "fcm.test"),
            "fcm_base_url",
        ),
        (
            Settings::new("SG.with space", "", "", "", ""),
            "sendgrid_api_key",
        ),
    ];
    for (result, setting) in cases {
        let error = result.unwrap_err();
        assert_eq!(error.setting, setting);
        assert_no_secret(&error.to_string());
        assert!(!error.to_string().contains("hunter2"));
        assert!(!error.to_string().contains("with space"));
    }
    // Unused settings are not checked: no API key, no sender to check.
    assert!(Settings::new("", "Docket <nope>", "", "", "").is_ok());
}

#[test]
fn debug_output_redacts_the_secrets() {
    let settings = both_settings();
    let debug = format!("{settings:?}");
    assert_no_secret(&debug);
    assert!(debug.contains("[redacted]"));
    assert!(debug.contains("http://sendgrid.test"));
    assert!(debug.contains(CLIENT_EMAIL));
    let pretty = format!("{settings:#?}");
    assert_no_secret(&pretty);
    assert!(settings.sendgrid_configured() && settings.fcm_configured());
}

#[test]
fn records_and_outcomes_never_hold_credentials() {
    let mut preferences = push_only(&["device-1", "device-2"]);
    preferences.channels.email = true;
    preferences.email = Some("ada@example.com".into());
    let echo = format!("Bearer {SENDGRID_KEY} rejected; key {}", key_line());
    let oauth_refusal = json!({"error": format!("bad {}", key_line())});
    let fcm_refusal =
        json!({"error": {"status": "Bearer ya29.secret-access-token", "message": echo}});
    let world = World::new(both_settings())
        .prefs("ada", &preferences)
        .on(
            SENDGRID_URL,
            vec![json_reply(401, json!({"errors": [{"message": echo}]}))],
        )
        .on(
            TOKEN_URI,
            vec![
                json_reply(400, oauth_refusal),
                token_granted("ya29.secret-access-token"),
            ],
        )
        .on(FCM_URL, vec![json_reply(403, fcm_refusal), status(401)]);
    let outcomes: Vec<Outcome> = (0..3)
        .map(|minute| world.deliver(&created(&format!("e{minute}"), "ada"), minute))
        .collect();
    assert_eq!(
        outcomes[0],
        Outcome::Drop("email: sendgrid: HTTP 401; push: oauth: HTTP 400".into())
    );
    assert!(outcomes.iter().all(|o| !matches!(o, Outcome::Success)));
    for outcome in &outcomes {
        let text = format!("{outcome:?}");
        assert_no_secret(&text);
        assert!(!text.contains("secret-access-token"), "{text}");
    }
    for key in world.store.keys() {
        let value = world.stored(&key).unwrap().to_string();
        assert_no_secret(&value);
        assert!(!value.contains("eyJ"), "an assertion in {key}: {value}");
        if key != "fcm-access-token" {
            assert!(!value.contains("secret-access-token"), "{key}: {value}");
        }
    }
    let push = world.record("e1", Channel::Push);
    assert_eq!(
        push.targets[0].last_error.as_deref(),
        Some("fcm: HTTP 403"),
        "a status that is no code is left out"
    );
}

#[test]
fn dapr_shapes() {
    assert_eq!(DEAD_LETTER_TOPIC, "task-events-dlq");
    assert_eq!(
        subscriptions("pubsub", "/events/task", "/events/task-dlq"),
        json!([
            {"pubsubname": "pubsub", "topic": "task-events", "routes": {"default": "/events/task"},
             "deadLetterTopic": "task-events-dlq"},
            {"pubsubname": "pubsub", "topic": "task-events-dlq", "routes": {"default": "/events/task-dlq"}},
        ])
    );
    assert_eq!(Outcome::Success.dapr_body(), json!({"status": "SUCCESS"}));
    assert_eq!(
        Outcome::Retry("x".into()).dapr_body(),
        json!({"status": "RETRY"})
    );
    assert_eq!(
        Outcome::Drop("x".into()).dapr_body(),
        json!({"status": "DROP"})
    );
}
