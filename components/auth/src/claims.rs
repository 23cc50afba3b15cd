//! The registered and profile claims Docket reads from a token.

use serde::{Deserialize, Serialize};

/// A token's claims. Claims not named here are ignored when verifying.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user the token speaks for.
    pub sub: String,
    /// Expiry, in seconds since the Unix epoch.
    pub exp: i64,
    /// Issue time, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// Time before which the token must not be accepted, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Email address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

impl Claims {
    /// Claims for `sub`, issued at `now_unix` and valid for `ttl_secs` seconds.
    pub fn new(sub: impl Into<String>, now_unix: i64, ttl_secs: i64) -> Self {
        Self {
            sub: sub.into(),
            exp: now_unix.saturating_add(ttl_secs),
            iat: Some(now_unix),
            nbf: None,
            name: None,
            email: None,
        }
    }
}
