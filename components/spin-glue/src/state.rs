//! [`StateStore`] over the Dapr sidecar's state API.

use docket_state::{StateStore, StoreError, Stored};
use serde_json::{Value, json};
use spin_sdk::http::{Method, Request as OutboundRequest, Response as OutboundResponse, send};

/// The state store behind Dapr's HTTP API.
pub struct DaprStateStore {
    /// E.g. `http://localhost:3500`.
    pub dapr_url: String,
    /// The state store component's name.
    pub store: String,
}

impl DaprStateStore {
    fn url(&self, key: Option<&str>) -> String {
        let base = format!("{}/v1.0/state/{}", self.dapr_url, self.store);
        match key {
            Some(key) => format!(
                "{base}/{}",
                form_urlencoded::byte_serialize(key.as_bytes()).collect::<String>()
            ),
            None => base,
        }
    }

    async fn send(&self, request: OutboundRequest) -> Result<OutboundResponse, StoreError> {
        send(request)
            .await
            .map_err(|e| StoreError::Unavailable(format!("the Dapr sidecar did not answer: {e:?}")))
    }

    async fn write(
        &self,
        key: &str,
        value: &[u8],
        etag: Option<&str>,
        concurrency: &str,
    ) -> Result<(), StoreError> {
        let value: Value = serde_json::from_slice(value)
            .map_err(|e| StoreError::Unavailable(format!("not JSON: {e}")))?;
        let mut item = json!({
            "key": key,
            "value": value,
            "options": {"concurrency": concurrency, "consistency": "strong"},
        });
        if let Some(etag) = etag {
            item["etag"] = json!(etag);
        }
        let request = OutboundRequest::builder()
            .method(Method::Post)
            .uri(self.url(None))
            .header("content-type", "application/json")
            .body(json!([item]).to_string())
            .build();
        let response = self.send(request).await?;
        match *response.status() {
            200..=299 => Ok(()),
            409 => Err(StoreError::Conflict),
            _ => Err(unexpected(&response)),
        }
    }
}

fn unexpected(response: &OutboundResponse) -> StoreError {
    StoreError::Unavailable(format!(
        "the state store answered {}: {}",
        response.status(),
        String::from_utf8_lossy(response.body())
            .chars()
            .take(200)
            .collect::<String>()
    ))
}

impl StateStore for DaprStateStore {
    async fn get(&self, key: &str) -> Result<Option<Stored>, StoreError> {
        let url = format!("{}?consistency=strong", self.url(Some(key)));
        let response = self.send(OutboundRequest::get(url).build()).await?;
        match *response.status() {
            204 => Ok(None),
            200 => {
                let etag = response
                    .header("etag")
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string();
                Ok(Some(Stored {
                    value: response.into_body(),
                    etag,
                }))
            }
            _ => Err(unexpected(&response)),
        }
    }

    async fn save(&self, key: &str, value: &[u8], etag: Option<&str>) -> Result<(), StoreError> {
        match etag {
            Some(_) => self.write(key, value, etag, "first-write").await,
            None => self.write(key, value, None, "last-write").await,
        }
    }

    async fn create(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.write(key, value, None, "first-write").await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let request = OutboundRequest::builder()
            .method(Method::Delete)
            .uri(self.url(Some(key)))
            .build();
        let response = self.send(request).await?;
        match *response.status() {
            200..=299 => Ok(()),
            _ => Err(unexpected(&response)),
        }
    }
}
