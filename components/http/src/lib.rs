//! The request and response shapes Docket's HTTP handlers work on, independent
//! of the host, and RFC 9457 problem details for every error.

use docket_auth::{AuthError, Claims};
use serde::Serialize;
use serde_json::{Value, json};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The value of header `name` (any case) among `headers`.
pub fn find_header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

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
        find_header(&self.headers, name)
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
        find_header(&self.headers, name)
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

    /// 413 for a body over [`MAX_BODY_BYTES`].
    pub fn too_large() -> Self {
        Self::new(
            413,
            "Content Too Large",
            format!("the body is larger than {MAX_BODY_BYTES} bytes"),
        )
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

/// Checks bearer tokens. A component's implementation may fetch a JWKS when
/// a token is not signed with the shared secret.
pub trait Authenticator {
    fn verify(&self, token: &str, now_unix: i64) -> Result<Claims, AuthError>;
}

/// The user the request's `Authorization: Bearer` token names.
pub fn bearer_subject(
    auth: &dyn Authenticator,
    request: &Request,
    now_unix: i64,
) -> Result<String, ApiError> {
    let header = request
        .header("authorization")
        .ok_or_else(|| ApiError::unauthorized("an Authorization: Bearer token is required"))?;
    let token = header
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized("the Authorization header must be `Bearer <token>`")
        })?;
    let claims = auth
        .verify(token, now_unix)
        .map_err(|e| ApiError::unauthorized(format!("the token was refused: {e}")))?;
    Ok(claims.sub)
}

/// A request to another service, made through whatever HTTP client the host
/// offers (see [`HttpClient`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outgoing {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Outgoing {
    pub fn post(url: impl Into<String>) -> Self {
        Self {
            method: "POST".into(),
            url: url.into(),
            ..Self::default()
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn with_json(self, body: &Value) -> Self {
        let mut request = self.with_header("content-type", "application/json");
        request.body = body.to_string().into_bytes();
        request
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        find_header(&self.headers, name)
    }
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq)]
pub enum HttpFailure {
    Timeout,
    Unreachable(String),
    /// The host refused to make the call: the URL's origin is not in the
    /// component's `allowed_outbound_hosts`. Nothing was sent.
    NotAllowed,
}

impl std::fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Timeout => f.write_str("no answer in time"),
            Self::Unreachable(why) => write!(f, "unreachable: {why}"),
            Self::NotAllowed => f.write_str("the host is not in allowed_outbound_hosts"),
        }
    }
}

/// Sends requests to other services; the component supplies one over
/// `wasi:http`, tests a local one.
pub trait HttpClient {
    fn send(
        &self,
        request: &Outgoing,
    ) -> impl std::future::Future<Output = Result<Response, HttpFailure>>;
}
