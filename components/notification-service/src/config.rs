//! The service's Spin variables, and provider credentials from them or from
//! a Dapr secret store.

use std::time::Duration;

use docket_http::ApiError;
use docket_notify::Settings;
use docket_spin::vars::{dapr_url, optional, required};
use spin_sdk::http::{Request, Response, send};

pub struct Config {
    pub dapr_url: String,
    pub pubsub_name: String,
    pub statestore_name: String,
    pub jwt_secret: String,
    pub jwks_url: String,
    pub provider_timeout: Duration,
}

impl Config {
    pub fn load() -> Result<Self, ApiError> {
        let jwt_secret = required("jwt_secret")?;
        Ok(Self {
            dapr_url: dapr_url(),
            pubsub_name: optional("pubsub_name", "pubsub"),
            statestore_name: optional("statestore_name", "statestore"),
            jwt_secret,
            jwks_url: optional("jwks_url", ""),
            provider_timeout: Duration::from_secs(
                optional("provider_timeout_secs", "10")
                    .parse()
                    .unwrap_or(10),
            ),
        })
    }

    /// The providers, with each credential taken from its Spin variable or,
    /// when `<variable>_secret` names a secret, from the Dapr secret store
    /// `secret_store`.
    pub async fn settings(&self) -> Result<Settings, ApiError> {
        let sendgrid_api_key = self.credential("sendgrid_api_key").await?;
        let fcm_service_account = self.credential("fcm_service_account").await?;
        Settings::new(
            &sendgrid_api_key,
            &optional("sendgrid_from", ""),
            &optional("sendgrid_base_url", ""),
            &fcm_service_account,
            &optional("fcm_base_url", ""),
        )
        .map_err(|e| {
            ApiError::internal("the notification providers are misconfigured").cause(e.to_string())
        })
    }

    async fn credential(&self, variable: &str) -> Result<String, ApiError> {
        let value = optional(variable, "");
        let secret = optional(&format!("{variable}_secret"), "");
        if !value.is_empty() || secret.is_empty() {
            return Ok(value);
        }
        self.secret(&optional("secret_store", "kubernetes"), &secret)
            .await
    }

    /// `GET /v1.0/secrets/{store}/{name}`: the value under the key `name`,
    /// or the only value (a Kubernetes secret with one key). A secret that
    /// cannot be read is a 503: deliveries wait until it can.
    async fn secret(&self, store: &str, name: &str) -> Result<String, ApiError> {
        let url = format!("{}/v1.0/secrets/{store}/{name}", self.dapr_url);
        let unavailable = |cause: String| {
            ApiError::new(
                503,
                "Service Unavailable",
                "the secret store is unavailable",
            )
            .header("retry-after", "1".to_string())
            .cause(cause)
        };
        let response: Response = send(Request::get(url).build())
            .await
            .map_err(|e| unavailable(format!("secret {name}: {e:?}")))?;
        match *response.status() {
            200 => {
                let values: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_slice(response.body()).unwrap_or_default();
                let value = match values.get(name) {
                    Some(value) => Some(value),
                    None if values.len() == 1 => values.values().next(),
                    None => None,
                };
                value
                    .and_then(|v| v.as_str())
                    .map(str::to_string)
                    .ok_or_else(|| unavailable(format!("secret {name} has no key {name}")))
            }
            status => Err(unavailable(format!(
                "secret {name}: the sidecar answered {status}"
            ))),
        }
    }
}
