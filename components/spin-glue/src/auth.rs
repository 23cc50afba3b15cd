//! Token verification: the shared HS256 secret always; the JWKS at
//! `jwks_url` only for a token the secret cannot check.

use docket_auth::{AuthError, Claims, KeySet, verify};
use docket_http::{Authenticator, Request};
use spin_sdk::http::{Request as OutboundRequest, Response as OutboundResponse, send};

pub struct Keys(KeySet);

impl Authenticator for Keys {
    fn verify(&self, token: &str, now_unix: i64) -> Result<Claims, AuthError> {
        verify(token, &self.0, now_unix)
    }
}

fn bearer_token(request: &Request) -> Option<&str> {
    let header = request.header("authorization")?;
    let (scheme, token) = header.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// The keys this request's token needs, fetching the JWKS only when the
/// token is not one the shared secret signs.
/// `jwks_url` may be empty: then only the shared secret signs tokens.
pub async fn for_request(jwt_secret: &str, jwks_url: &str, request: &Request) -> Keys {
    let shared = KeySet::new().with_hs256_secret(jwt_secret.as_bytes());
    let needs_jwks = !jwks_url.is_empty()
        && bearer_token(request).is_some_and(|token| {
            matches!(
                verify(token, &shared, chrono::Utc::now().timestamp()),
                Err(AuthError::UnknownKey | AuthError::UnsupportedAlgorithm)
            )
        });
    if !needs_jwks {
        return Keys(shared);
    }
    match fetch_jwks(jwks_url).await {
        Ok(jwks) => match shared.clone().with_jwks(&jwks) {
            Ok(keys) => Keys(keys),
            Err(error) => {
                eprintln!("the JWKS at jwks_url is unusable: {error}");
                Keys(shared)
            }
        },
        Err(error) => {
            eprintln!("fetching the JWKS failed: {error}");
            Keys(shared)
        }
    }
}

async fn fetch_jwks(url: &str) -> Result<String, String> {
    let response: OutboundResponse = send(OutboundRequest::get(url).build())
        .await
        .map_err(|e| format!("{e:?}"))?;
    if *response.status() != 200 {
        return Err(format!("status {}", response.status()));
    }
    String::from_utf8(response.into_body()).map_err(|_| "the JWKS is not UTF-8".to_string())
}
