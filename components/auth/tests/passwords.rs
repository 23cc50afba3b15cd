//! argon2id password hashing through the public API.

use docket_auth::{hash_password, verify_password};

#[test]
fn hashes_and_verifies_a_password() {
    let hash = hash_password("correct horse battery staple").unwrap();
    assert!(
        hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{hash}"
    );
    assert!(verify_password("correct horse battery staple", &hash));
    assert!(!verify_password("Correct horse battery staple", &hash));
    assert!(!verify_password("", &hash));
}

#[test]
fn salts_every_hash() {
    assert_ne!(
        hash_password("same").unwrap(),
        hash_password("same").unwrap()
    );
}

#[test]
fn refuses_garbage_hashes() {
    for garbage in [
        "",
        "garbage",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$AAAA",
        "$2b$12$abcdefghijklmnopqrstuv",
    ] {
        assert!(!verify_password("password", garbage), "{garbage}");
    }
}
