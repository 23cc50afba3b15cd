//! OAuth2 access tokens for FCM from the service account (Google's
//! JWT-bearer grant, RFC 7523), cached in the state store so that every
//! instance shares one token until shortly before it expires.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use docket_http::{HttpClient, Outgoing};
use docket_state::{StateStore, StoreError};
use rsa::signature::{SignatureEncoding as _, Signer as _};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::classify;
use crate::record::Attempt;
use crate::settings::Fcm;
use crate::store;

pub const CACHE_KEY: &str = "fcm-access-token";
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const ASSERTION_SECONDS: i64 = 3600;
/// A cached token with less than this left is not used.
const MARGIN_SECONDS: i64 = 60;
const PROVIDER: &str = "oauth";
const MAX_LIFETIME_SECONDS: i64 = 86_400;

#[derive(Serialize, Deserialize)]
struct Cached {
    /// The account the token belongs to: a new account ignores old tokens.
    client_email: String,
    access_token: String,
    expires_at: DateTime<Utc>,
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    expires_in: Option<i64>,
}

/// The signed JWT the token endpoint exchanges for an access token.
pub fn assertion(fcm: &Fcm, now: DateTime<Utc>) -> String {
    let header = json!({ "alg": "RS256", "typ": "JWT", "kid": fcm.private_key_id });
    let iat = now.timestamp();
    let claims = json!({
        "iss": fcm.client_email,
        "scope": SCOPE,
        "aud": fcm.token_uri,
        "iat": iat,
        "exp": iat + ASSERTION_SECONDS,
    });
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    // PKCS#1 v1.5 signatures are deterministic: no random numbers needed.
    let signature = fcm.signing_key.sign(signing_input.as_bytes()).to_bytes();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

/// A usable access token: the cached one, or a new one. `Err` inside is why
/// there is none (to be recorded on the channel).
pub async fn access_token(
    http: &impl HttpClient,
    store: &impl StateStore,
    fcm: &Fcm,
    now: DateTime<Utc>,
) -> Result<Result<String, Attempt>, StoreError> {
    // An unreadable cache entry is as good as none: it is about to be replaced.
    if let Ok(Some((cached, _))) = store::load::<Cached>(store, CACHE_KEY).await
        && cached.client_email == fcm.client_email
        && cached.expires_at - now > Duration::seconds(MARGIN_SECONDS)
    {
        return Ok(Ok(cached.access_token));
    }
    let granted = match fetch(http, fcm, now).await {
        Ok(granted) => granted,
        Err(attempt) => return Ok(Err(attempt)),
    };
    // Bounded: chrono panics on durations beyond its range.
    let lifetime = granted
        .expires_in
        .unwrap_or(ASSERTION_SECONDS)
        .clamp(0, MAX_LIFETIME_SECONDS);
    let cached = Cached {
        client_email: fcm.client_email.clone(),
        access_token: granted.access_token,
        expires_at: now + Duration::seconds(lifetime),
    };
    store
        .save(CACHE_KEY, &store::to_json(&cached), None)
        .await?;
    Ok(Ok(cached.access_token))
}

/// Drops the cached token (FCM refused it).
pub async fn forget(store: &impl StateStore) -> Result<(), StoreError> {
    store.delete(CACHE_KEY).await
}

async fn fetch(http: &impl HttpClient, fcm: &Fcm, now: DateTime<Utc>) -> Result<Granted, Attempt> {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", GRANT_TYPE)
        .append_pair("assertion", &assertion(fcm, now))
        .finish();
    let mut request = Outgoing::post(&fcm.token_uri)
        .with_header("content-type", "application/x-www-form-urlencoded");
    request.body = body.into_bytes();
    let response = http
        .send(&request)
        .await
        .map_err(|failure| classify::unanswered(PROVIDER, &failure))?;
    if !(200..300).contains(&response.status) {
        let error: Option<Value> = serde_json::from_slice(&response.body).ok();
        let code = error
            .as_ref()
            .and_then(|e| e.get("error"))
            .and_then(Value::as_str)
            .and_then(classify::code);
        return Err(classify::refused(PROVIDER, response.status, code));
    }
    serde_json::from_slice::<Granted>(&response.body)
        .ok()
        .filter(|granted| !granted.access_token.is_empty())
        .ok_or_else(|| Attempt::Retry(format!("{PROVIDER}: the answer holds no access token")))
}
