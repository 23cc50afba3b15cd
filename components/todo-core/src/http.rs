//! The request and response shapes the API works on, independent of the host,
//! and RFC 9457 problem details for every error.

use serde::Serialize;
use serde_json::{Value, json};

use crate::outbox::PendingEvent;
use crate::sql::DbError;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, Default)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// The raw query string, without `?`.
    pub query: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, body: &impl Serialize) -> Self {
        let body = serde_json::to_vec(body).unwrap_or_default();
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body,
        }
    }

    /// JSON with an `ETag` of the resource's version (for `If-Match`).
    pub fn versioned(status: u16, body: &impl Serialize, version: i64) -> Self {
        Self::json(status, body).with_header("etag", format!("\"{version}\""))
    }

    pub fn no_content() -> Self {
        Self {
            status: 204,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A handler's result: the response, plus events it wrote to the outbox that
/// should be published once the response is on its way.
#[derive(Debug)]
pub struct Reply {
    pub response: Response,
    pub events: Vec<PendingEvent>,
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Self {
            response,
            events: Vec::new(),
        }
    }
}

/// An error the client gets as `application/problem+json`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub title: &'static str,
    pub detail: String,
    /// Extra members (e.g. `allow`, `field`).
    pub extra: Vec<(&'static str, Value)>,
    pub headers: Vec<(&'static str, String)>,
    /// What went wrong underneath, for the log only; never sent to the client.
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
            extra: Vec::new(),
            headers: Vec::new(),
            cause: None,
        }
    }

    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(400, "Bad Request", detail)
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, "Unauthorized", detail).header(
            "www-authenticate",
            "Bearer error=\"invalid_token\"".to_string(),
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, "Not Found", detail)
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::new(409, "Conflict", detail)
    }

    /// Well-formed input that breaks a rule; `field` names the offending member.
    pub fn invalid(field: &str, detail: impl Into<String>) -> Self {
        let mut error = Self::new(422, "Unprocessable Content", detail);
        error
            .extra
            .push(("field", Value::String(field.to_string())));
        error
    }

    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, "Internal Server Error", detail)
    }

    pub fn header(mut self, name: &'static str, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    pub fn member(mut self, name: &'static str, value: Value) -> Self {
        self.extra.push((name, value));
        self
    }

    /// [`Self::into_response`], logging server-side failures with their
    /// cause first (the component's stderr is the service log).
    pub fn into_logged_response(self, request: &Request) -> Response {
        if self.status >= 500 {
            eprintln!(
                "{} {}: {} ({})",
                request.method,
                request.path,
                self.detail,
                self.cause.as_deref().unwrap_or("no further cause")
            );
        }
        self.into_response()
    }

    pub fn into_response(self) -> Response {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        });
        if let Some(members) = body.as_object_mut() {
            for (name, value) in self.extra {
                members.insert(name.to_string(), value);
            }
        }
        let mut response = Response {
            status: self.status,
            headers: vec![("content-type".into(), "application/problem+json".into())],
            body: serde_json::to_vec(&body).unwrap_or_default(),
        };
        for (name, value) in self.headers {
            response.headers.push((name.to_string(), value));
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        let cause = error.to_string();
        let api_error = match error {
            DbError::Unavailable(_) => {
                Self::new(503, "Service Unavailable", "the database is unavailable")
                    .header("retry-after", "1".to_string())
            }
            DbError::Unique(_) => Self::conflict("that already exists"),
            // The details stay in the logs: they may name tables and values.
            _ => Self::internal("the request could not be completed"),
        };
        api_error.cause(cause)
    }
}
