//! Bearer tokens (JWT: HS256, RS256, EdDSA) and argon2id passwords, in pure Rust for guests and host.

mod claims;
mod keys;
mod password;
mod token;

pub use claims::Claims;
pub use keys::{KeySet, KeySetError};
pub use password::{PasswordError, hash_password, verify_password};
pub use token::{AuthError, sign_hs256, verify};
