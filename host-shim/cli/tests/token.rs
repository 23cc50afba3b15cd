//! `docket token` and the local secrets `docket up` generates for required secret variables.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use docket_auth::{KeySet, verify};
use support::{Docket, Options, component, manifest};

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// An app whose `vars` component exposes `jwt_secret` as its variable `key`.
fn app_manifest(extra_variables: &str) -> String {
    manifest(
        &(format!(
            "[variables]\njwt_secret = {{ required = true, secret = true }}\n{extra_variables}"
        ) + &component(
            "vars",
            "/...",
            "variables",
            "[component.vars.variables]\nkey = \"{{ jwt_secret }}\"\n",
        )),
    )
}

/// Runs `docket token` with `dir/data` as data dir and `dir/spin.toml` as manifest.
fn token(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docket"))
        .arg("token")
        .arg("--data-dir")
        .arg(dir.join("data"))
        .arg("--manifest")
        .arg(dir.join("spin.toml"))
        .args(args)
        .env_remove("SPIN_VARIABLE_JWT_SECRET")
        .env_remove("DOCKET_DATA_DIR")
        .env_remove("DOCKET_MANIFEST")
        .envs(env.iter().copied())
        .output()
        .expect("run docket token")
}

fn printed_token(output: &Output) -> String {
    assert!(
        output.status.success(),
        "docket token failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(
        stdout.ends_with('\n') && stdout.lines().count() == 1,
        "{stdout:?}"
    );
    stdout.trim_end().to_string()
}

fn payload(token: &str) -> serde_json::Value {
    let part = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
}

fn secret_file(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join("data/secrets/jwt_secret")).unwrap();
    text.trim().to_string()
}

fn verifies_with(token: &str, secret: &str) -> bool {
    let keys = KeySet::new().with_hs256_secret(secret.as_bytes());
    verify(token, &keys, now()).is_ok()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn prints_a_token_signed_with_the_local_secret() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), app_manifest("")).unwrap();
    let before = now();
    let output = token(dir.path(), &["--user", "alice"], &[]);
    let token = printed_token(&output);
    assert_eq!(token.split('.').count(), 3);
    let claims = payload(&token);
    assert_eq!(claims["sub"], "alice");
    let iat = claims["iat"].as_i64().unwrap();
    assert!((before..=now()).contains(&iat), "{claims}");
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 24 * 3600);

    let secret = secret_file(dir.path());
    assert_eq!(secret.len(), 64);
    assert!(verifies_with(&token, &secret));
    assert_eq!(mode(&dir.path().join("data/secrets")), 0o700);
    assert_eq!(mode(&dir.path().join("data/secrets/jwt_secret")), 0o600);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains(&secret), "secret leaked: {stderr}");
}

#[test]
fn reuses_the_secret_across_invocations() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), app_manifest("")).unwrap();
    let first = printed_token(&token(dir.path(), &["--user", "alice"], &[]));
    let secret = secret_file(dir.path());
    let second = printed_token(&token(dir.path(), &["--user", "bob", "--ttl", "90m"], &[]));
    assert_eq!(secret_file(dir.path()), secret);
    assert!(verifies_with(&first, &secret) && verifies_with(&second, &secret));
    let claims = payload(&second);
    assert_eq!(claims["sub"], "bob");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        90 * 60
    );
}

#[test]
fn the_environment_secret_wins_over_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("spin.toml"), app_manifest("")).unwrap();
    let env = [("SPIN_VARIABLE_JWT_SECRET", "from-the-environment")];
    let token = printed_token(&token(dir.path(), &["--user", "alice"], &env));
    assert!(verifies_with(&token, "from-the-environment"));
    assert!(!dir.path().join("data/secrets/jwt_secret").exists());
}

#[test]
fn refuses_bad_input_with_exit_code_two() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["--user", ""][..],
        &["--user", "   "],
        &["--user", "alice", "--ttl", "24"],
        &["--user", "alice", "--ttl", "0h"],
        &["--user", "alice", "--ttl", "1y"],
        &["--ttl", "1h"],
    ] {
        let output = token(dir.path(), args, &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(output.stdout.is_empty(), "{args:?}");
        assert!(stderr.contains("error"), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
    assert!(!dir.path().join("data").exists());
}

#[test]
fn up_generates_a_secret_and_reuses_it_after_a_restart() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(dir.path().join("spin.toml"), app_manifest("")).unwrap();
    let app = Docket::launch(dir.clone(), Options::default()).unwrap();
    let served = app.get("/spin?name=key");
    assert_eq!(served.status, 200, "{}", served.body);
    let secret = secret_file(dir.path());
    assert_eq!(served.body, secret);
    assert_eq!(secret.len(), 64);
    assert_eq!(mode(&dir.path().join("data/secrets/jwt_secret")), 0o600);
    app.wait_for_log("using local secret");
    let logs = app.logs();
    assert!(logs.contains("jwt_secret"), "{logs}");
    assert!(!logs.contains(&secret), "secret leaked into logs:\n{logs}");
    app.stop();

    let app = Docket::launch(dir.clone(), Options::default()).unwrap();
    assert_eq!(app.get("/spin?name=key").body, secret);
    // A token made now verifies with what the app was given.
    let minted = printed_token(&token(dir.path(), &["--user", "carol"], &[]));
    assert!(verifies_with(&minted, &app.get("/spin?name=key").body));
}

#[test]
fn up_uses_the_secret_token_created_first() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(dir.path().join("spin.toml"), app_manifest("")).unwrap();
    let minted = printed_token(&token(dir.path(), &["--user", "dave"], &[]));
    let app = Docket::launch(dir.clone(), Options::default()).unwrap();
    let served = app.get("/spin?name=key").body;
    assert_eq!(served, secret_file(dir.path()));
    assert!(verifies_with(&minted, &served));
}

#[test]
fn up_prefers_a_configured_secret_and_writes_no_file() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::write(dir.path().join("spin.toml"), app_manifest("")).unwrap();
    let options = Options {
        env: vec![("SPIN_VARIABLE_JWT_SECRET".into(), "configured".into())],
        ..Default::default()
    };
    let app = Docket::launch(dir.clone(), options).unwrap();
    assert_eq!(app.get("/spin?name=key").body, "configured");
    assert!(!dir.path().join("data/secrets").exists());
}

#[test]
fn up_refusing_for_another_variable_leaves_no_secret() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let body = app_manifest("other = { required = true }\n");
    std::fs::write(dir.path().join("spin.toml"), body).unwrap();
    let Err(output) = Docket::launch(dir.clone(), Options::default()) else {
        panic!("docket started without `other`");
    };
    assert!(output.contains("`other`"), "{output}");
    assert!(!dir.path().join("data/secrets").exists());
}
