//! The authenticated user's notification API: preferences, delivery records
//! and the local mailbox. Everything is read and written under the user's
//! own keys, so one user never sees another's data.

use chrono::{DateTime, Utc};
use docket_http::{ApiError, MAX_BODY_BYTES, Request, Response};
use docket_state::{StateStore, StoreError};
use serde::Serialize;
use serde_json::Value;

use crate::mailbox;
use crate::preferences::{self, Preferences};
use crate::record;

pub const PREFIX: &str = "/api/notifications";
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 200;

/// Answers a request for `user_id`, whom the caller has authenticated.
/// `_now` is unused for now; it is part of the signature so that the
/// component's call need not change when a route needs the time.
pub async fn handle<S: StateStore>(
    store: &S,
    user_id: &str,
    request: &Request,
    _now: DateTime<Utc>,
) -> Result<Response, ApiError> {
    let route = request.path.strip_prefix(PREFIX).unwrap_or_default();
    match (route, request.method.as_str()) {
        ("/preferences", "GET") => json(preferences::load(store, user_id).await),
        ("/preferences", "PUT") => {
            let preferences = Preferences::from_json(&json_body(request)?).map_err(|invalid| {
                ApiError::invalid(
                    &invalid.field,
                    format!("{} {}", invalid.field, invalid.detail),
                )
            })?;
            json(
                preferences::save(store, user_id, &preferences)
                    .await
                    .map(|()| preferences),
            )
        }
        ("/deliveries", "GET") => json(record::list(store, user_id, limit(request)?).await),
        ("/mailbox", "GET") => json(mailbox::list(store, user_id, limit(request)?).await),
        ("/preferences", _) => Err(not_allowed(request, "GET, PUT")),
        ("/deliveries" | "/mailbox", _) => Err(not_allowed(request, "GET")),
        _ => Err(ApiError::not_found(format!(
            "no route for {}",
            request.path
        ))),
    }
}

/// 200 with `value`, or 503 if the store failed.
fn json(value: Result<impl Serialize, StoreError>) -> Result<Response, ApiError> {
    let value = value.map_err(|error| {
        ApiError::new(503, "Service Unavailable", "the state store is unavailable")
            .header("retry-after", "1".to_string())
            .cause(format!("{error:?}"))
    })?;
    Ok(Response::json(200, &value))
}

fn not_allowed(request: &Request, allow: &str) -> ApiError {
    ApiError::new(
        405,
        "Method Not Allowed",
        format!("{} is not allowed here", request.method),
    )
    .header("allow", allow.to_string())
}

/// `?limit=N`, 1 to [`MAX_LIMIT`]; other parameters are refused so that a
/// typo does not go unnoticed.
fn limit(request: &Request) -> Result<usize, ApiError> {
    let mut limit = DEFAULT_LIMIT;
    for (name, value) in form_urlencoded::parse(request.query.as_bytes()) {
        if name != "limit" {
            return Err(ApiError::bad_request(format!(
                "unknown query parameter {name:?}; only limit is accepted"
            )));
        }
        let number: i64 = value
            .parse()
            .map_err(|_| ApiError::bad_request("limit must be an integer"))?;
        limit = usize::try_from(number)
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                ApiError::invalid("limit", format!("limit must be from 1 to {MAX_LIMIT}"))
            })?;
    }
    Ok(limit)
}

/// The body as JSON: 415 unless it says it is JSON, 400 unless it is.
fn json_body(request: &Request) -> Result<Value, ApiError> {
    let content_type = request.header("content-type").unwrap_or_default();
    let essence = content_type.split(';').next().unwrap_or_default().trim();
    if !essence.eq_ignore_ascii_case("application/json") {
        return Err(ApiError::new(
            415,
            "Unsupported Media Type",
            "the body must be application/json",
        )
        .header("accept", "application/json".to_string()));
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::too_large());
    }
    serde_json::from_slice(&request.body)
        .map_err(|e| ApiError::bad_request(format!("malformed JSON: {e}")))
}
