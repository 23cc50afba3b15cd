//! The keys a token may be signed with: one HS256 secret and the keys of a JWKS.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::{BigUint, RsaPublicKey};
use serde::Deserialize;
use sha2::Sha256;

/// Smallest RSA modulus accepted (NIST SP 800-131A).
const MIN_RSA_BITS: usize = 2048;

/// Why a JWKS could not be loaded. Messages never include key material.
#[derive(Debug, thiserror::Error)]
pub enum KeySetError {
    #[error("the JWKS is not valid JSON with a `keys` array")]
    InvalidJson(#[source] serde_json::Error),
    #[error("JWKS key {kid:?} is invalid: {reason}")]
    InvalidKey {
        kid: Option<String>,
        reason: &'static str,
    },
}

/// Keys a token may be signed with. An empty set accepts no token.
#[derive(Clone, Default)]
pub struct KeySet {
    pub(crate) hs256: Option<Vec<u8>>,
    pub(crate) rs256: Vec<Keyed<rsa::pkcs1v15::VerifyingKey<Sha256>>>,
    pub(crate) ed25519: Vec<Keyed<ed25519_dalek::VerifyingKey>>,
}

/// A public key with its optional JWKS `kid`.
#[derive(Clone)]
pub(crate) struct Keyed<K> {
    pub kid: Option<String>,
    pub key: K,
}

impl std::fmt::Debug for KeySet {
    // Counts only: the HS256 secret must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeySet")
            .field("hs256", &self.hs256.is_some())
            .field("rs256", &self.rs256.len())
            .field("ed25519", &self.ed25519.len())
            .finish()
    }
}

impl KeySet {
    /// A set with no keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Accepts HS256 tokens signed with `secret`; an empty secret configures nothing.
    pub fn with_hs256_secret(mut self, secret: &[u8]) -> Self {
        self.hs256 = (!secret.is_empty()).then(|| secret.to_vec());
        self
    }

    /// Adds the signature keys of an RFC 7517 JWKS: RSA (RS256) and OKP
    /// Ed25519 (EdDSA). Keys of other types, curves, algorithms or uses are skipped.
    pub fn with_jwks(mut self, jwks_json: &str) -> Result<Self, KeySetError> {
        let jwks: Jwks = serde_json::from_str(jwks_json).map_err(KeySetError::InvalidJson)?;
        for jwk in jwks.keys {
            if !jwk.is_for_signatures() {
                continue;
            }
            match (jwk.kty.as_str(), jwk.alg.as_deref(), jwk.crv.as_deref()) {
                ("RSA", None | Some("RS256"), _) => {
                    let key = jwk.rsa_key()?;
                    self.rs256.push(Keyed { kid: jwk.kid, key });
                }
                // RFC 9864 names the algorithm `Ed25519`; RFC 8037 calls it `EdDSA`.
                ("OKP", None | Some("EdDSA" | "Ed25519"), Some("Ed25519")) => {
                    let key = jwk.ed25519_key()?;
                    self.ed25519.push(Keyed { kid: jwk.kid, key });
                }
                _ => {}
            }
        }
        Ok(self)
    }

    /// True when no key is configured, so every token would be rejected.
    pub fn is_empty(&self) -> bool {
        self.hs256.is_none() && self.rs256.is_empty() && self.ed25519.is_empty()
    }
}

#[derive(Deserialize)]
struct Jwks {
    keys: Vec<Jwk>,
}

#[derive(Deserialize)]
struct Jwk {
    kty: String,
    #[serde(rename = "use")]
    use_: Option<String>,
    key_ops: Option<Vec<String>>,
    alg: Option<String>,
    kid: Option<String>,
    n: Option<String>,
    e: Option<String>,
    crv: Option<String>,
    x: Option<String>,
}

impl Jwk {
    fn is_for_signatures(&self) -> bool {
        let use_ok = self.use_.as_deref().is_none_or(|u| u == "sig");
        let ops_ok = self
            .key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|op| op == "verify"));
        use_ok && ops_ok
    }

    fn invalid(&self, reason: &'static str) -> KeySetError {
        KeySetError::InvalidKey {
            kid: self.kid.clone(),
            reason,
        }
    }

    fn member(
        &self,
        value: Option<&String>,
        missing: &'static str,
    ) -> Result<Vec<u8>, KeySetError> {
        let value = value.ok_or_else(|| self.invalid(missing))?;
        URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| self.invalid("a member is not base64url without padding"))
    }

    fn rsa_key(&self) -> Result<rsa::pkcs1v15::VerifyingKey<Sha256>, KeySetError> {
        let n = BigUint::from_bytes_be(&self.member(self.n.as_ref(), "missing `n`")?);
        let e = BigUint::from_bytes_be(&self.member(self.e.as_ref(), "missing `e`")?);
        if n.bits() < MIN_RSA_BITS {
            return Err(self.invalid("RSA modulus is shorter than 2048 bits"));
        }
        let key =
            RsaPublicKey::new(n, e).map_err(|_| self.invalid("not a usable RSA public key"))?;
        Ok(rsa::pkcs1v15::VerifyingKey::new(key))
    }

    fn ed25519_key(&self) -> Result<ed25519_dalek::VerifyingKey, KeySetError> {
        let x = self.member(self.x.as_ref(), "missing `x`")?;
        let x: [u8; 32] = x
            .try_into()
            .map_err(|_| self.invalid("Ed25519 `x` is not 32 bytes"))?;
        ed25519_dalek::VerifyingKey::from_bytes(&x)
            .map_err(|_| self.invalid("Ed25519 `x` is not a curve point"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_secret_configures_nothing() {
        assert!(KeySet::new().with_hs256_secret(b"").is_empty());
        assert!(!KeySet::new().with_hs256_secret(b"k").is_empty());
    }

    #[test]
    fn skips_keys_of_other_types_and_uses() {
        let jwks = r#"{"keys":[
            {"kty":"EC","crv":"P-256","x":"AA","y":"AA"},
            {"kty":"oct","k":"c2VjcmV0"},
            {"kty":"OKP","crv":"X25519","x":"AA"},
            {"kty":"RSA","use":"enc","n":"AA","e":"AQAB"},
            {"kty":"RSA","alg":"RS512","n":"AA","e":"AQAB"},
            {"kty":"RSA","key_ops":["encrypt"],"n":"AA","e":"AQAB"}
        ]}"#;
        assert!(KeySet::new().with_jwks(jwks).unwrap().is_empty());
    }

    #[test]
    fn rejects_invalid_json_and_short_rsa_keys() {
        assert!(matches!(
            KeySet::new().with_jwks("{not json"),
            Err(KeySetError::InvalidJson(_))
        ));
        assert!(matches!(
            KeySet::new().with_jwks(r#"{"nokeys":[]}"#),
            Err(KeySetError::InvalidJson(_))
        ));
        let short = r#"{"keys":[{"kty":"RSA","kid":"a","n":"AQAB","e":"AQAB"}]}"#;
        let err = KeySet::new().with_jwks(short).unwrap_err();
        assert!(err.to_string().contains("2048"), "{err}");
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let keys = KeySet::new().with_hs256_secret(b"super-secret-bytes");
        assert!(!format!("{keys:?}").contains("super"));
    }
}
