//! `bindings.http` output: `POST /v1.0/bindings/{name}` with an operation
//! becomes an HTTP request to the configured URL.

use std::collections::BTreeMap;

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::resources::Metadata;

pub struct HttpBinding {
    url: String,
    error_if_not_2xx: bool,
    security_token: Option<(String, String)>,
}

/// What the binding answered: a body and `metadata.*` pairs (as headers).
pub struct BindingResponse {
    pub body: Bytes,
    pub metadata: Vec<(String, String)>,
}

#[derive(Debug, thiserror::Error)]
pub enum BindingError {
    #[error(
        "unsupported operation {0:?} (supported: create, get, head, post, put, patch, delete, options, trace)"
    )]
    Operation(String),
    #[error("{0}")]
    Request(String),
    #[error("received status code {status}")]
    Status {
        status: u16,
        response: BindingResponse,
    },
}

impl std::fmt::Debug for BindingResponse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BindingResponse")
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

impl HttpBinding {
    pub fn from_metadata(metadata: &Metadata) -> Result<Self, String> {
        let url = metadata.get("url").ok_or("`url` is required")?.to_string();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("`url` must be http(s), got {url:?}"));
        }
        let error_if_not_2xx =
            !matches!(metadata.get("errorIfNot2XX"), Some(v) if v.eq_ignore_ascii_case("false"));
        let security_token = metadata.get("securityToken").map(|token| {
            (
                metadata
                    .get("securityTokenHeader")
                    .unwrap_or("Authorization")
                    .to_string(),
                token.to_string(),
            )
        });
        Ok(Self {
            url: url.trim_end_matches('/').to_string(),
            error_if_not_2xx,
            security_token,
        })
    }

    pub async fn invoke(
        &self,
        client: &reqwest::Client,
        operation: &str,
        data: Bytes,
        metadata: &BTreeMap<String, String>,
    ) -> Result<BindingResponse, BindingError> {
        let method = match operation {
            "create" | "post" => Method::POST,
            "get" => Method::GET,
            "head" => Method::HEAD,
            "put" => Method::PUT,
            "patch" => Method::PATCH,
            "delete" => Method::DELETE,
            "options" => Method::OPTIONS,
            "trace" => Method::TRACE,
            other => return Err(BindingError::Operation(other.to_string())),
        };
        let url = match metadata.get("path") {
            Some(path) => format!("{}/{}", self.url, path.trim_start_matches('/')),
            None => self.url.clone(),
        };
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        // Dapr sends metadata keys that start with a capital letter as headers.
        for (key, value) in metadata
            .iter()
            .filter(|(k, _)| k.starts_with(|c: char| c.is_ascii_uppercase()))
        {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(key.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                headers.insert(name, value);
            }
        }
        if let Some((name, token)) = &self.security_token
            && let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(token.as_str()),
            )
        {
            headers.insert(name, value);
        }
        let response = client
            .request(method, &url)
            .headers(headers)
            .body(data)
            .send()
            .await
            .map_err(|e| BindingError::Request(e.to_string()))?;
        let status = response.status();
        let mut out_metadata = vec![
            ("statusCode".to_string(), status.as_u16().to_string()),
            ("status".to_string(), status.to_string()),
        ];
        for (name, value) in response.headers() {
            if let Ok(value) = value.to_str() {
                out_metadata.push((name.to_string(), value.to_string()));
            }
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| BindingError::Request(e.to_string()))?;
        let per_call = metadata
            .get("errorIfNot2XX")
            .map(|v| !v.eq_ignore_ascii_case("false"));
        let result = BindingResponse {
            body,
            metadata: out_metadata,
        };
        if per_call.unwrap_or(self.error_if_not_2xx) && !status.is_success() {
            return Err(BindingError::Status {
                status: status.as_u16(),
                response: result,
            });
        }
        Ok(result)
    }
}
