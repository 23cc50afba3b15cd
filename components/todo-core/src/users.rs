//! Users: the row every token subject gets on first write, and the
//! standalone signup and login endpoints (argon2id) that issue tokens.

use docket_auth::{Claims, hash_password, sign_hs256, verify_password};
use serde::Deserialize;
use serde_json::json;

use crate::Context;
use crate::http::{ApiError, Reply, Request, Response};
use crate::input::json_body;
use crate::sql::{Db, DbError, Param, transaction};

/// How long an issued token is valid.
pub const TOKEN_TTL_SECS: i64 = 24 * 60 * 60;
/// Path segments under `/api/` that a username would shadow.
const RESERVED_NAMES: &[&str] = &["auth", "internal", "priorities", "openapi.json"];
const MIN_PASSWORD_CHARS: usize = 8;
const MAX_PASSWORD_BYTES: usize = 1024;

/// Makes sure the user `id` has a row (tokens from an outside issuer name
/// users this database has not seen yet).
pub fn ensure_user(db: &dyn Db, id: &str) -> Result<(), DbError> {
    db.execute(
        &db.q()
            .sql("INSERT INTO users (id, username) VALUES (")
            .bind(Param::from(id))
            .sql(", ")
            .bind(Param::from(id))
            .sql(") ON CONFLICT DO NOTHING"),
    )?;
    Ok(())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Signup {
    username: String,
    password: String,
    email: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
}

fn check_username(username: &str) -> Result<(), ApiError> {
    let valid_chars = username
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'));
    if !(3..=64).contains(&username.len()) || !valid_chars {
        return Err(ApiError::invalid(
            "username",
            "a username is 3 to 64 characters of letters, digits, '_', '.' and '-'",
        ));
    }
    if RESERVED_NAMES.contains(&username.to_ascii_lowercase().as_str()) {
        return Err(ApiError::invalid("username", "that username is reserved"));
    }
    Ok(())
}

fn check_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(ApiError::invalid(
            "password",
            format!(
                "a password is {MIN_PASSWORD_CHARS} characters to {MAX_PASSWORD_BYTES} bytes long"
            ),
        ));
    }
    Ok(())
}

fn check_email(email: &str) -> Result<(), ApiError> {
    let shape_ok = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if shape_ok {
        Ok(())
    } else {
        Err(ApiError::invalid("email", "not an email address"))
    }
}

fn token_response(ctx: &Context, status: u16, user_id: &str) -> Reply {
    let claims = Claims::new(user_id, ctx.now.timestamp(), TOKEN_TTL_SECS);
    let token = sign_hs256(ctx.signing_secret, &claims);
    Response::json(
        status,
        &json!({
            "user_id": user_id,
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL_SECS,
        }),
    )
    .with_header("cache-control", "no-store")
    .into()
}

fn hashing_failed(error: impl std::fmt::Display) -> ApiError {
    ApiError::internal("the password could not be processed").cause(error.to_string())
}

pub fn signup(ctx: &Context, request: &Request) -> Result<Reply, ApiError> {
    let body: Signup = json_body(request)?;
    check_username(&body.username)?;
    check_password(&body.password)?;
    if let Some(email) = &body.email {
        check_email(email)?;
    }
    let hash = hash_password(&body.password).map_err(hashing_failed)?;
    let inserted = transaction(ctx.db, |db| {
        db.execute(
            &db.q()
                .sql("INSERT INTO users (id, username, email, password_hash) VALUES (")
                .bind(Param::from(body.username.as_str()))
                .sql(", ")
                .bind(Param::from(body.username.as_str()))
                .sql(", ")
                .bind(body.email.as_deref().map(Param::from))
                .sql(", ")
                .bind(Param::from(hash))
                .sql(") ON CONFLICT DO NOTHING"),
        )
    })?;
    if inserted == 0 {
        return Err(ApiError::conflict("that username is taken").member("field", json!("username")));
    }
    Ok(token_response(ctx, 201, &body.username))
}

fn stored_hash(ctx: &Context, username: &str) -> Result<Option<String>, ApiError> {
    let rows = ctx.db.query(
        &ctx.db
            .q()
            .sql("SELECT password_hash FROM users WHERE username = ")
            .bind(Param::from(username)),
    )?;
    Ok(match rows.first() {
        Some(row) => row.opt_text(0)?,
        None => None,
    })
}

pub fn login(ctx: &Context, request: &Request) -> Result<Reply, ApiError> {
    let body: Login = json_body(request)?;
    // A name no signup accepts has no row to look for (and may hold bytes,
    // such as NUL, that a database refuses).
    let stored = if check_username(&body.username).is_ok() {
        stored_hash(ctx, &body.username)?
    } else {
        None
    };
    let valid = match stored {
        Some(hash) => verify_password(&body.password, &hash),
        None => {
            // Spend the same time as a real check, so timing does not tell
            // which usernames exist.
            hash_password(&body.password).map_err(hashing_failed)?;
            false
        }
    };
    if !valid {
        return Err(ApiError::unauthorized("invalid username or password"));
    }
    Ok(token_response(ctx, 200, &body.username))
}
