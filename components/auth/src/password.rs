//! Password hashing with argon2id (OWASP parameters), as PHC strings.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};

/// 16 bytes, the salt length RFC 9106 recommends.
const SALT_LEN: usize = 16;

/// Why a password could not be hashed. Never includes the password.
#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("failed to generate a salt: {0}")]
    Random(getrandom::Error),
    #[error("failed to hash the password: {0}")]
    Hash(argon2::password_hash::Error),
}

/// Hashes `password` with argon2id and a fresh random salt; returns a PHC string.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    let mut salt = [0u8; SALT_LEN];
    // getrandom 0.3 directly: password-hash's `rand_core` feature would pull
    // getrandom 0.2, which only knows WASI preview 1.
    getrandom::fill(&mut salt).map_err(PasswordError::Random)?;
    let salt = SaltString::encode_b64(&salt).map_err(PasswordError::Hash)?;
    let hash = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(PasswordError::Hash)?;
    Ok(hash.to_string())
}

/// True when `password` matches `phc_hash`; false for a wrong password or an unreadable hash.
pub fn verify_password(password: &str, phc_hash: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc_hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &hash)
        .is_ok()
}
