//! Calls from the sidecar into the app: deliveries, binding events,
//! `/dapr/subscribe` and service invocation, with `APP_API_TOKEN` attached.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, Method};

#[derive(Debug, Clone)]
pub struct AppResponse {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
}

#[derive(Clone)]
pub struct AppChannel {
    client: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl AppChannel {
    /// `base` is the app's address, e.g. `http://127.0.0.1:3000`.
    pub fn new(base: &str, token: Option<String>, timeout: Duration) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(64)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            token,
        })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn url(&self, path: &str) -> String {
        if path.starts_with('/') {
            format!("{}{path}", self.base)
        } else {
            format!("{}/{path}", self.base)
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        headers: HeaderMap,
        body: Bytes,
    ) -> Result<AppResponse, reqwest::Error> {
        send(
            &self.client,
            method,
            &self.url(path),
            headers,
            body,
            self.token.as_deref(),
        )
        .await
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// One request with the app token (if any) as `dapr-api-token`.
pub async fn send(
    client: &reqwest::Client,
    method: Method,
    url: &str,
    mut headers: HeaderMap,
    body: Bytes,
    token: Option<&str>,
) -> Result<AppResponse, reqwest::Error> {
    if let Some(token) = token
        && let Ok(value) = token.parse()
    {
        headers.insert("dapr-api-token", value);
    }
    let response = client
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.bytes().await?;
    Ok(AppResponse {
        status,
        headers,
        body,
    })
}
