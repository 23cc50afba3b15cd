//! Token verification through the public API: every accepted and refused shape.
#![allow(clippy::unwrap_used)]

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use docket_auth::{AuthError, Claims, KeySet, sign_hs256, verify};
use hmac::{Hmac, Mac};
use rsa::pkcs8::DecodePrivateKey as _;
use rsa::signature::{SignatureEncoding as _, Signer as _};
use rsa::traits::PublicKeyParts as _;
use sha2::Sha256;

const NOW: i64 = 1_750_000_000;
const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";
/// Generated for these tests only (keygen is too slow in a debug test build).
const RSA_TEST_KEY: &str = include_str!("data/rsa-2048-test-only.pem");

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn claims() -> Claims {
    Claims::new("alice", NOW, 3600)
}

/// A compact JWS over raw header and payload JSON, signed by `sign`.
fn jws(header: &str, payload: &str, sign: impl Fn(&[u8]) -> Vec<u8>) -> String {
    let input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature = sign(input.as_bytes());
    format!("{input}.{}", b64(&signature))
}

fn hs256(secret: &[u8]) -> impl Fn(&[u8]) -> Vec<u8> {
    move |input| {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
        mac.update(input);
        mac.finalize().into_bytes().to_vec()
    }
}

fn hs_keys() -> KeySet {
    KeySet::new().with_hs256_secret(SECRET)
}

fn hs_token(payload: &str) -> String {
    jws(r#"{"alg":"HS256","typ":"JWT"}"#, payload, hs256(SECRET))
}

fn rsa_key() -> rsa::RsaPrivateKey {
    rsa::RsaPrivateKey::from_pkcs8_pem(RSA_TEST_KEY).unwrap()
}

fn rsa_jwk(kid: &str, key: &rsa::RsaPrivateKey) -> String {
    let public = key.to_public_key();
    format!(
        r#"{{"kty":"RSA","use":"sig","alg":"RS256","kid":"{kid}","n":"{}","e":"{}"}}"#,
        b64(&public.n().to_bytes_be()),
        b64(&public.e().to_bytes_be())
    )
}

fn rs256(key: rsa::RsaPrivateKey) -> impl Fn(&[u8]) -> Vec<u8> {
    let signer = rsa::pkcs1v15::SigningKey::<Sha256>::new(key);
    move |input| signer.sign(input).to_vec()
}

fn ed_key(seed: u8) -> ed25519_dalek::SigningKey {
    ed25519_dalek::SigningKey::from_bytes(&[seed; 32])
}

fn ed_jwk(kid: &str, key: &ed25519_dalek::SigningKey) -> String {
    format!(
        r#"{{"kty":"OKP","crv":"Ed25519","kid":"{kid}","x":"{}"}}"#,
        b64(key.verifying_key().as_bytes())
    )
}

fn eddsa(key: ed25519_dalek::SigningKey) -> impl Fn(&[u8]) -> Vec<u8> {
    move |input| ed25519_dalek::Signer::sign(&key, input).to_bytes().to_vec()
}

fn payload() -> String {
    serde_json::to_string(&claims()).unwrap()
}

#[test]
fn round_trips_an_hs256_token() {
    let mut claims = claims();
    claims.name = Some("Alice".into());
    claims.email = Some("alice@example.com".into());
    let token = sign_hs256(SECRET, &claims);
    assert_eq!(token.split('.').count(), 3);
    assert_eq!(verify(&token, &hs_keys(), NOW), Ok(claims));
}

#[test]
fn ignores_unknown_claims() {
    let token = hs_token(&format!(
        r#"{{"sub":"bob","exp":{},"roles":["admin"],"iss":"x"}}"#,
        NOW + 60
    ));
    let claims = verify(&token, &hs_keys(), NOW).unwrap();
    assert_eq!((claims.sub.as_str(), claims.exp), ("bob", NOW + 60));
}

#[test]
fn rejects_a_token_signed_with_another_secret() {
    let token = sign_hs256(b"another secret", &claims());
    assert_eq!(
        verify(&token, &hs_keys(), NOW),
        Err(AuthError::BadSignature)
    );
}

#[test]
fn rejects_any_token_when_no_key_is_configured() {
    let token = sign_hs256(SECRET, &claims());
    assert_eq!(
        verify(&token, &KeySet::new(), NOW),
        Err(AuthError::UnknownKey)
    );
    let empty = KeySet::new().with_hs256_secret(b"");
    assert_eq!(verify(&token, &empty, NOW), Err(AuthError::UnknownKey));
}

#[test]
fn rejects_alg_none_and_other_algorithms() {
    let payload = b64(payload().as_bytes());
    for header in [
        r#"{"alg":"none"}"#,
        r#"{"alg":"None"}"#,
        r#"{"alg":"NONE"}"#,
        r#"{"alg":"HS512"}"#,
        r#"{"alg":"RS512"}"#,
        r#"{"alg":"ES256"}"#,
        r#"{"typ":"JWT"}"#,
        r#"{"alg":null}"#,
        r#"{"alg":256}"#,
    ] {
        let unsigned = format!("{}.{payload}.", b64(header.as_bytes()));
        let signed = format!("{}.{payload}.{}", b64(header.as_bytes()), b64(b"sig"));
        for token in [unsigned, signed] {
            let result = verify(&token, &hs_keys(), NOW);
            assert!(
                matches!(
                    result,
                    Err(AuthError::UnsupportedAlgorithm | AuthError::Malformed(_))
                ),
                "{header}: {result:?}"
            );
        }
    }
    let none = format!("{}.{payload}.", b64(br#"{"alg":"none"}"#));
    assert_eq!(
        verify(&none, &hs_keys(), NOW),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[test]
fn rejects_critical_header_extensions() {
    let token = jws(
        r#"{"alg":"HS256","crit":["exp"],"exp":1}"#,
        &payload(),
        hs256(SECRET),
    );
    assert_eq!(
        verify(&token, &hs_keys(), NOW),
        Err(AuthError::UnsupportedAlgorithm)
    );
}

#[test]
fn rejects_hs256_signed_with_the_rsa_public_key() {
    // Key confusion: the attacker uses the published public key as an HMAC secret.
    let key = rsa_key();
    let jwks = format!(r#"{{"keys":[{}]}}"#, rsa_jwk("k1", &key));
    let keys = KeySet::new().with_jwks(&jwks).unwrap();
    for public_bytes in [
        key.to_public_key().n().to_bytes_be(),
        jwks.clone().into_bytes(),
    ] {
        for header in [r#"{"alg":"HS256"}"#, r#"{"alg":"HS256","kid":"k1"}"#] {
            let token = jws(header, &payload(), hs256(&public_bytes));
            assert_eq!(verify(&token, &keys, NOW), Err(AuthError::UnknownKey));
        }
    }
}

#[test]
fn verifies_rs256_with_a_jwks_key() {
    let key = rsa_key();
    let keys = KeySet::new()
        .with_jwks(&format!(r#"{{"keys":[{}]}}"#, rsa_jwk("k1", &key)))
        .unwrap();
    let token = jws(
        r#"{"alg":"RS256","kid":"k1"}"#,
        &payload(),
        rs256(key.clone()),
    );
    assert_eq!(verify(&token, &keys, NOW), Ok(claims()));
    // Without a kid, every RS256 key is tried.
    let token = jws(r#"{"alg":"RS256"}"#, &payload(), rs256(key));
    assert_eq!(verify(&token, &keys, NOW), Ok(claims()));
}

#[test]
fn verifies_eddsa_and_selects_the_key_by_kid() {
    let (a, b) = (ed_key(1), ed_key(2));
    let jwks = format!(
        r#"{{"keys":[{},{},{{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}}]}}"#,
        ed_jwk("a", &a),
        ed_jwk("b", &b)
    );
    let keys = KeySet::new().with_jwks(&jwks).unwrap();
    let signed_by_b = |kid: &str| {
        jws(
            &format!(r#"{{"alg":"EdDSA","kid":"{kid}"}}"#),
            &payload(),
            eddsa(b.clone()),
        )
    };
    assert_eq!(verify(&signed_by_b("b"), &keys, NOW), Ok(claims()));
    assert_eq!(
        verify(&signed_by_b("a"), &keys, NOW),
        Err(AuthError::BadSignature)
    );
    assert_eq!(
        verify(&signed_by_b("zz"), &keys, NOW),
        Err(AuthError::UnknownKey)
    );
    let no_kid = jws(r#"{"alg":"EdDSA"}"#, &payload(), eddsa(b.clone()));
    assert_eq!(verify(&no_kid, &keys, NOW), Ok(claims()));
}

#[test]
fn accepts_hs256_and_jwks_keys_together() {
    let ed = ed_key(3);
    let keys = hs_keys()
        .with_jwks(&format!(r#"{{"keys":[{}]}}"#, ed_jwk("e", &ed)))
        .unwrap();
    let ed_token = jws(r#"{"alg":"EdDSA"}"#, &payload(), eddsa(ed));
    assert!(verify(&ed_token, &keys, NOW).is_ok());
    assert!(verify(&sign_hs256(SECRET, &claims()), &keys, NOW).is_ok());
}

#[test]
fn rejects_a_tampered_payload() {
    let evil = b64(serde_json::to_string(&Claims::new("mallory", NOW, 3600))
        .unwrap()
        .as_bytes());
    let hs = sign_hs256(SECRET, &claims());
    let ed = ed_key(4);
    let ed_keys = KeySet::new()
        .with_jwks(&format!(r#"{{"keys":[{}]}}"#, ed_jwk("e", &ed)))
        .unwrap();
    let eddsa_token = jws(r#"{"alg":"EdDSA"}"#, &payload(), eddsa(ed));
    for (token, keys) in [(hs, hs_keys()), (eddsa_token, ed_keys)] {
        let parts: Vec<&str> = token.split('.').collect();
        let tampered = format!("{}.{evil}.{}", parts[0], parts[2]);
        assert_eq!(verify(&tampered, &keys, NOW), Err(AuthError::BadSignature));
    }
}

#[test]
fn enforces_expiry_with_thirty_seconds_of_leeway() {
    let token = |exp: i64| hs_token(&format!(r#"{{"sub":"a","exp":{exp}}}"#));
    assert!(verify(&token(NOW - 29), &hs_keys(), NOW).is_ok());
    assert_eq!(
        verify(&token(NOW - 30), &hs_keys(), NOW),
        Err(AuthError::Expired)
    );
    assert_eq!(
        verify(&token(NOW - 3600), &hs_keys(), NOW),
        Err(AuthError::Expired)
    );
    assert_eq!(
        verify(&hs_token(r#"{"sub":"a"}"#), &hs_keys(), NOW),
        Err(AuthError::MissingExpiry)
    );
    // Fractional NumericDates are allowed by RFC 7519.
    let fractional = hs_token(&format!(r#"{{"sub":"a","exp":{}.5}}"#, NOW + 10));
    assert_eq!(verify(&fractional, &hs_keys(), NOW).unwrap().exp, NOW + 10);
}

#[test]
fn refuses_a_token_before_its_nbf() {
    let token = |nbf: i64| {
        hs_token(&format!(
            r#"{{"sub":"a","exp":{},"nbf":{nbf}}}"#,
            NOW + 3600
        ))
    };
    assert!(verify(&token(NOW + 30), &hs_keys(), NOW).is_ok());
    assert_eq!(
        verify(&token(NOW + 31), &hs_keys(), NOW),
        Err(AuthError::NotYetValid)
    );
}

#[test]
fn requires_a_non_empty_subject_of_at_most_255_chars_without_control_characters() {
    let with_sub =
        |sub: &str| hs_token(&format!(r#"{{"exp":{},{sub}}}"#, NOW + 60).replace(",}", "}"));
    assert_eq!(
        verify(&with_sub(""), &hs_keys(), NOW),
        Err(AuthError::MissingSubject)
    );
    assert_eq!(
        verify(&with_sub(r#""sub":"""#), &hs_keys(), NOW),
        Err(AuthError::MissingSubject)
    );
    let long = format!(r#""sub":"{}""#, "é".repeat(256));
    assert_eq!(
        verify(&with_sub(&long), &hs_keys(), NOW),
        Err(AuthError::InvalidSubject)
    );
    for control in [r"\u0000", r"\n", r"\u007f"] {
        let sub = format!(r#""sub":"a{control}b""#);
        assert_eq!(
            verify(&with_sub(&sub), &hs_keys(), NOW),
            Err(AuthError::InvalidSubject),
            "{control}"
        );
    }
    let max = format!(r#""sub":"{}""#, "é".repeat(255));
    assert!(verify(&with_sub(&max), &hs_keys(), NOW).is_ok());
}

#[test]
fn rejects_garbage_and_wrong_part_counts() {
    let good = sign_hs256(SECRET, &claims());
    let parts: Vec<&str> = good.split('.').collect();
    let cases = [
        String::new(),
        "garbage".to_string(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.{}", parts[2]),
        format!("{good}."),
        "..".to_string(),
        "a.b.c".to_string(),
        format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        format!("{}.{}.{}", b64(b"not json"), parts[1], parts[2]),
        hs_token("[1,2]"),
        hs_token(r#"{"sub":"a","exp":"tomorrow"}"#),
        format!("{}.{}.{}", parts[0], parts[1], "a".repeat(9000)),
    ];
    for token in cases {
        let result = verify(&token, &hs_keys(), NOW);
        assert!(
            matches!(result, Err(AuthError::Malformed(_))),
            "{token:.40}: {result:?}"
        );
    }
}

#[test]
fn error_messages_do_not_echo_the_token() {
    let token = sign_hs256(b"wrong", &claims());
    let message = verify(&token, &hs_keys(), NOW).unwrap_err().to_string();
    assert_eq!(message, "bad token signature");
    for part in token.split('.') {
        assert!(!message.contains(part));
    }
}
