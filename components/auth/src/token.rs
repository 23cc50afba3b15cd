//! Compact JWS tokens: verifying HS256/RS256/EdDSA and signing HS256.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rsa::signature::Verifier as _;
use serde::Deserialize;
use sha2::Sha256;

use crate::claims::Claims;
use crate::keys::{KeySet, Keyed};

type HmacSha256 = Hmac<Sha256>;

/// Larger tokens are refused before any decoding (bounded work per request).
const MAX_TOKEN_LEN: usize = 8 * 1024;
/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: i64 = 30;
const MAX_SUBJECT_CHARS: usize = 255;

/// Why a token was rejected. Messages never include the token or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("malformed token: {0}")]
    Malformed(&'static str),
    #[error("unsupported token algorithm")]
    UnsupportedAlgorithm,
    #[error("no key configured for this token")]
    UnknownKey,
    #[error("bad token signature")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token not yet valid")]
    NotYetValid,
    #[error("token has no expiry")]
    MissingExpiry,
    #[error("token has no subject")]
    MissingSubject,
    #[error("token subject is too long or has control characters")]
    InvalidSubject,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Alg {
    Hs256,
    Rs256,
    EdDsa,
}

#[derive(Deserialize)]
struct Header {
    alg: Option<String>,
    kid: Option<String>,
    crit: Option<serde_json::Value>,
}

/// The payload as sent: numbers may be fractional and anything may be missing.
#[derive(Deserialize)]
struct RawClaims {
    sub: Option<String>,
    exp: Option<serde_json::Number>,
    iat: Option<serde_json::Number>,
    nbf: Option<serde_json::Number>,
    name: Option<String>,
    email: Option<String>,
}

/// Verifies a compact JWS and its time and subject claims at `now_unix`.
pub fn verify(token: &str, keys: &KeySet, now_unix: i64) -> Result<Claims, AuthError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::Malformed("longer than 8 KiB"));
    }
    let mut parts = token.split('.');
    let (Some(header_b64), Some(payload_b64), Some(signature_b64), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed("not three dot-separated parts"));
    };
    let header: Header = serde_json::from_slice(&decode(header_b64, "header is not base64url")?)
        .map_err(|_| AuthError::Malformed("header is not a JSON object"))?;
    let alg = match header.alg.as_deref() {
        Some("HS256") => Alg::Hs256,
        Some("RS256") => Alg::Rs256,
        Some("EdDSA") => Alg::EdDsa,
        _ => return Err(AuthError::UnsupportedAlgorithm),
    };
    // RFC 7515 §4.1.11: extensions the recipient does not understand must be refused.
    if header.crit.is_some() {
        return Err(AuthError::UnsupportedAlgorithm);
    }
    let signature = decode(signature_b64, "signature is not base64url")?;
    let signed = &token.as_bytes()[..header_b64.len() + 1 + payload_b64.len()];
    check_signature(alg, header.kid.as_deref(), keys, signed, &signature)?;
    let raw: RawClaims = serde_json::from_slice(&decode(payload_b64, "payload is not base64url")?)
        .map_err(|_| AuthError::Malformed("payload is not a JSON claims object"))?;
    check_claims(raw, now_unix)
}

/// Signs `claims` as an HS256 compact JWS.
pub fn sign_hs256(secret: &[u8], claims: &Claims) -> String {
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    // Serializing a struct of strings and integers cannot fail.
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let signing_input = format!("{header}.{payload}");
    let mut mac = hmac_sha256(secret);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

fn hmac_sha256(secret: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        // RFC 2104: HMAC takes keys of any length (long ones are hashed first).
        Err(_) => unreachable!("HMAC-SHA256 accepts keys of any length"),
    }
}

fn decode(part: &str, error: &'static str) -> Result<Vec<u8>, AuthError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| AuthError::Malformed(error))
}

fn check_signature(
    alg: Alg,
    kid: Option<&str>,
    keys: &KeySet,
    signed: &[u8],
    signature: &[u8],
) -> Result<(), AuthError> {
    match alg {
        Alg::Hs256 => {
            // Only the configured secret: never an RSA/Ed25519 public key used as
            // an HMAC key (the key-confusion attack).
            let secret = keys.hs256.as_deref().ok_or(AuthError::UnknownKey)?;
            let mut mac = hmac_sha256(secret);
            mac.update(signed);
            mac.verify_slice(signature)
                .map_err(|_| AuthError::BadSignature)
        }
        Alg::Rs256 => {
            let signature = rsa::pkcs1v15::Signature::try_from(signature)
                .map_err(|_| AuthError::BadSignature)?;
            try_keys(&keys.rs256, kid, |key| {
                key.verify(signed, &signature).is_ok()
            })
        }
        Alg::EdDsa => {
            let signature = ed25519_dalek::Signature::from_slice(signature)
                .map_err(|_| AuthError::BadSignature)?;
            try_keys(&keys.ed25519, kid, |key| {
                key.verify_strict(signed, &signature).is_ok()
            })
        }
    }
}

/// With a `kid`, only the keys carrying it; without, every key of the algorithm.
fn try_keys<K>(
    keys: &[Keyed<K>],
    kid: Option<&str>,
    verifies: impl Fn(&K) -> bool,
) -> Result<(), AuthError> {
    let mut candidates = keys
        .iter()
        .filter(|k| kid.is_none() || k.kid.as_deref() == kid)
        .peekable();
    if candidates.peek().is_none() {
        return Err(AuthError::UnknownKey);
    }
    if candidates.any(|k| verifies(&k.key)) {
        Ok(())
    } else {
        Err(AuthError::BadSignature)
    }
}

fn check_claims(raw: RawClaims, now: i64) -> Result<Claims, AuthError> {
    let exp = numeric_date(raw.exp)?.ok_or(AuthError::MissingExpiry)?;
    if exp <= now.saturating_sub(LEEWAY_SECS) {
        return Err(AuthError::Expired);
    }
    let nbf = numeric_date(raw.nbf)?;
    if nbf.is_some_and(|nbf| nbf > now.saturating_add(LEEWAY_SECS)) {
        return Err(AuthError::NotYetValid);
    }
    let sub = raw.sub.unwrap_or_default();
    if sub.is_empty() {
        return Err(AuthError::MissingSubject);
    }
    // A subject becomes a user id in paths, keys and database rows, where a
    // control character (NUL above all) has no business.
    if sub.chars().count() > MAX_SUBJECT_CHARS || sub.chars().any(char::is_control) {
        return Err(AuthError::InvalidSubject);
    }
    Ok(Claims {
        sub,
        exp,
        iat: numeric_date(raw.iat)?,
        nbf,
        name: raw.name,
        email: raw.email,
    })
}

/// RFC 7519 NumericDate: seconds, possibly fractional (truncated here).
fn numeric_date(value: Option<serde_json::Number>) -> Result<Option<i64>, AuthError> {
    let Some(value) = value else {
        return Ok(None);
    };
    if let Some(secs) = value.as_i64() {
        return Ok(Some(secs));
    }
    match value.as_f64() {
        Some(secs) if secs.is_finite() && secs.abs() < 1e15 => Ok(Some(secs.trunc() as i64)),
        _ => Err(AuthError::Malformed("a date claim is out of range")),
    }
}
