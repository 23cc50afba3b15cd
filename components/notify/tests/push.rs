//! Push through FCM (scripted): the OAuth2 JWT-bearer grant and its cache,
//! per-device-token outcomes, and push next to email.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use docket_http::Outgoing;
use docket_notify::Outcome;
use docket_notify::record::{Channel, Provider, Status};
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::Verifier;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{Value, json};
use sha2::Sha256;

/// FCM configured, Ada pushing to `tokens`.
fn fcm(tokens: &[&str]) -> World {
    World::new(fcm_settings()).prefs("ada", &push_only(tokens))
}

fn form(request: &Outgoing) -> Vec<(String, String)> {
    form_urlencoded::parse(&request.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn segment(part: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn fcm_tokens(world: &World) -> Vec<String> {
    world
        .requests_to(FCM_URL)
        .iter()
        .map(|r| {
            body_json(r)["message"]["token"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[test]
fn the_token_request_carries_a_signed_assertion_and_the_push_uses_its_token() {
    let world = fcm(&["device-1"])
        .on(TOKEN_URI, vec![token_granted("ya29.access-1")])
        .on(FCM_URL, vec![fcm_sent("m-1")]);
    assert_eq!(world.deliver(&created("e1", "ada"), 0), Outcome::Success);

    let token_requests = world.requests_to(TOKEN_URI);
    assert_eq!(token_requests.len(), 1);
    let request = &token_requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(
        request.header("content-type"),
        Some("application/x-www-form-urlencoded")
    );
    let form = form(request);
    assert_eq!(form.len(), 2);
    assert_eq!(
        form[0],
        (
            "grant_type".into(),
            "urn:ietf:params:oauth:grant-type:jwt-bearer".into()
        )
    );
    assert_eq!(form[1].0, "assertion");
    let parts: Vec<&str> = form[1].1.split('.').collect();
    assert_eq!(parts.len(), 3);
    assert_eq!(
        segment(parts[0]),
        json!({"alg": "RS256", "typ": "JWT", "kid": "test-key-id-1"})
    );
    let iat = now().timestamp();
    assert_eq!(
        segment(parts[1]),
        json!({
            "iss": CLIENT_EMAIL,
            "scope": "https://www.googleapis.com/auth/firebase.messaging",
            "aud": TOKEN_URI,
            "iat": iat,
            "exp": iat + 3600,
        })
    );
    let public_key = RsaPublicKey::from(&RsaPrivateKey::from_pkcs8_pem(TEST_KEY_PEM).unwrap());
    let verifier = rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public_key);
    let signature = URL_SAFE_NO_PAD.decode(parts[2]).unwrap();
    let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice()).unwrap();
    let signed = format!("{}.{}", parts[0], parts[1]);
    verifier.verify(signed.as_bytes(), &signature).unwrap();
    let tampered = format!("{signed}x");
    assert!(verifier.verify(tampered.as_bytes(), &signature).is_err());

    let pushes = world.requests_to(FCM_URL);
    assert_eq!(pushes.len(), 1);
    assert_eq!(
        pushes[0].header("authorization"),
        Some("Bearer ya29.access-1")
    );
    assert_eq!(
        body_json(&pushes[0]),
        json!({"message": {
            "token": "device-1",
            "notification": {
                "title": "New task: Pay rent",
                "body": "New task: Pay rent\nPriority: High\nDue: 2026-03-05 17:00 UTC\n\nTransfer to <landlord> & keep the receipt",
            },
            "data": {"event_id": "e1", "task_id": "42", "type": "task.created"},
        }})
    );

    let record = world.record("e1", Channel::Push);
    assert_eq!(record.status, Status::Sent);
    assert_eq!(record.provider, Provider::Fcm);
    assert_eq!(
        record.provider_message_id.as_deref(),
        Some("projects/docket-test/messages/m-1")
    );
    assert_eq!(record.targets.len(), 1);
    assert!(
        !serde_json::to_string(&record).unwrap().contains("device-1"),
        "records keep fingerprints, not tokens"
    );
}

#[test]
fn the_access_token_is_cached_across_events_until_it_nearly_expires() {
    let granted = vec![token_granted("ya29.first"), token_granted("ya29.second")];
    let world = fcm(&["device-1"])
        .on(TOKEN_URI, granted)
        .on(FCM_URL, vec![fcm_sent("m")]);
    assert_eq!(world.deliver(&created("e1", "ada"), 0), Outcome::Success);
    assert_eq!(world.deliver(&reminder("e2", "ada"), 30), Outcome::Success);
    assert_eq!(world.count(TOKEN_URI), 1);
    assert!(world.stored("fcm-access-token").is_some());
    // 3599 s granted at minute 0: at minute 59, 60 s or less remain.
    assert_eq!(world.deliver(&created("e3", "ada"), 59), Outcome::Success);
    assert_eq!(world.count(TOKEN_URI), 2);
    let bearers: Vec<String> = world
        .requests_to(FCM_URL)
        .iter()
        .map(|r| r.header("authorization").unwrap().to_string())
        .collect();
    assert_eq!(
        bearers,
        [
            "Bearer ya29.first",
            "Bearer ya29.first",
            "Bearer ya29.second"
        ]
    );
}

#[test]
fn a_401_forgets_the_token_and_the_retry_gets_a_new_one() {
    let granted = vec![token_granted("ya29.revoked"), token_granted("ya29.fresh")];
    let world = fcm(&["device-1"])
        .on(TOKEN_URI, granted)
        .on(FCM_URL, vec![status(401), fcm_sent("m")]);
    let outcome = world.deliver(&created("e1", "ada"), 0);
    assert!(is_retry(&outcome), "{outcome:?}");
    assert!(world.stored("fcm-access-token").is_none());
    assert_eq!(world.record("e1", Channel::Push).status, Status::Pending);

    assert_eq!(world.deliver(&created("e1", "ada"), 1), Outcome::Success);
    assert_eq!(world.count(TOKEN_URI), 2);
    let last = world.requests_to(FCM_URL).pop().unwrap();
    assert_eq!(last.header("authorization"), Some("Bearer ya29.fresh"));
    assert_eq!(world.record("e1", Channel::Push).attempts, 2);
}

#[test]
fn an_unregistered_token_fails_while_another_gets_the_push() {
    let replies = vec![fcm_error(404, "NOT_FOUND", "UNREGISTERED"), fcm_sent("m-2")];
    let world = fcm(&["stale", "fresh"])
        .on(TOKEN_URI, vec![token_granted("ya29.a")])
        .on(FCM_URL, replies);
    assert_eq!(world.deliver(&created("e1", "ada"), 0), Outcome::Success);
    assert_eq!(fcm_tokens(&world), ["stale", "fresh"]);
    let record = world.record("e1", Channel::Push);
    assert_eq!(record.status, Status::Sent);
    assert_eq!(
        record.provider_message_id.as_deref(),
        Some("projects/docket-test/messages/m-2")
    );
    assert_eq!(
        record.last_error.as_deref(),
        Some("1 of 2 device tokens failed: fcm: HTTP 404 UNREGISTERED")
    );
    let statuses: Vec<Status> = record.targets.iter().map(|t| t.status).collect();
    assert_eq!(statuses, [Status::Failed, Status::Sent]);
    // A redelivery pushes to neither again.
    assert_eq!(world.deliver(&created("e1", "ada"), 1), Outcome::Success);
    assert_eq!(world.count(FCM_URL), 2);
}

#[test]
fn when_every_token_is_refused_the_push_fails_and_drops() {
    let refused = fcm_error(400, "INVALID_ARGUMENT", "INVALID_ARGUMENT");
    let world = fcm(&["bad-1", "bad-2"])
        .on(TOKEN_URI, vec![token_granted("ya29.a")])
        .on(FCM_URL, vec![refused]);
    assert_eq!(
        world.deliver(&created("e1", "ada"), 0),
        Outcome::Drop("push: fcm: HTTP 400 INVALID_ARGUMENT".into())
    );
    assert_eq!(world.record("e1", Channel::Push).status, Status::Failed);
    assert_eq!(world.count(FCM_URL), 2);
}

#[test]
fn a_retry_pushes_only_to_the_tokens_still_pending() {
    let replies = vec![
        fcm_sent("m-1"),
        fcm_error(404, "NOT_FOUND", "UNREGISTERED"),
        status(503),
        fcm_sent("m-2"),
    ];
    let world = fcm(&["phone", "stale", "tablet"])
        .on(TOKEN_URI, vec![token_granted("ya29.a")])
        .on(FCM_URL, replies);
    assert_eq!(
        world.deliver(&created("e1", "ada"), 0),
        Outcome::Retry("push: fcm: HTTP 503".into())
    );
    assert_eq!(world.deliver(&created("e1", "ada"), 1), Outcome::Success);
    assert_eq!(fcm_tokens(&world), ["phone", "stale", "tablet", "tablet"]);
    let record = world.record("e1", Channel::Push);
    assert_eq!(record.status, Status::Sent);
    assert_eq!(record.attempts, 2);
    assert_eq!(
        record.last_error.as_deref(),
        Some("1 of 3 device tokens failed: fcm: HTTP 404 UNREGISTERED")
    );
}

#[test]
fn push_without_a_device_token_fails_and_drops() {
    let world = fcm(&[]);
    assert_eq!(
        world.deliver(&created("e1", "ada"), 0),
        Outcome::Drop("push: no device token".into())
    );
    assert_eq!(world.record("e1", Channel::Push).status, Status::Failed);
    assert!(world.nothing_sent());
}

#[test]
fn a_refused_grant_fails_and_an_unavailable_token_endpoint_retries() {
    let refusal = json!({"error": "invalid_grant", "error_description": "Invalid JWT Signature."});
    let world = fcm(&["device-1"]).on(TOKEN_URI, vec![json_reply(400, refusal), status(503)]);
    assert_eq!(
        world.deliver(&created("e1", "ada"), 0),
        Outcome::Drop("push: oauth: HTTP 400 invalid_grant".into())
    );
    assert_eq!(
        world.deliver(&created("e2", "ada"), 0),
        Outcome::Retry("push: oauth: HTTP 503".into())
    );
    assert_eq!(world.count(FCM_URL), 0);
}

#[test]
fn email_sent_and_push_transient_retries_without_mailing_again() {
    let mut preferences = push_only(&["device-1"]);
    preferences.channels.email = true;
    preferences.email = Some("ada@example.com".into());
    let world = World::new(both_settings())
        .prefs("ada", &preferences)
        .on(SENDGRID_URL, vec![accepted("mail-1")])
        .on(TOKEN_URI, vec![token_granted("ya29.a")])
        .on(FCM_URL, vec![status(500), fcm_sent("m")]);
    assert_eq!(
        world.deliver(&created("e1", "ada"), 0),
        Outcome::Retry("push: fcm: HTTP 500".into())
    );
    assert_eq!(world.record("e1", Channel::Email).status, Status::Sent);
    assert_eq!(world.record("e1", Channel::Push).status, Status::Pending);

    assert_eq!(world.deliver(&created("e1", "ada"), 1), Outcome::Success);
    assert_eq!(world.count(SENDGRID_URL), 1);
    assert_eq!(world.count(FCM_URL), 2);
    assert_eq!(world.record("e1", Channel::Email).attempts, 1);
}

#[test]
fn without_fcm_a_push_goes_to_the_mailbox() {
    let world = World::new(sendgrid_settings()).prefs("ada", &push_only(&["device-1"]));
    assert_eq!(world.deliver(&reminder("e1", "ada"), 0), Outcome::Success);
    let record = world.record("e1", Channel::Push);
    assert_eq!(record.provider, Provider::Mailbox);
    assert_eq!(
        record.provider_message_id.as_deref(),
        Some("mailbox:e1:push")
    );
    let mailbox = world.stored("mailbox:ada").unwrap();
    assert_eq!(mailbox[0]["channel"], "push");
    assert_eq!(mailbox[0]["subject"], "Reminder: Pay rent");
    assert!(world.nothing_sent());
}
