//! The service's Spin variables, and provider credentials from them or from
//! a Dapr secret store.

use std::time::Duration;

use docket_http::ApiError;
use docket_notify::Settings;
use docket_spin::vars::{dapr_url, optional};
use spin_sdk::http::{Request, Response, send};
use spin_sdk::variables;

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
        let jwt_secret = variables::get("jwt_secret").map_err(|e| {
            ApiError::internal("the service is not configured")
                .cause(format!("variable jwt_secret: {e}"))
        })?;
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
    /// when that is empty and `secret_store` names a Dapr secret store, from
    /// the secret of the same name with dashes (`sendgrid-api-key`).
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
        let store = optional("secret_store", "");
        if !value.is_empty() || store.is_empty() {
            return Ok(value);
        }
        let name = variable.replace('_', "-");
        self.secret(&store, &name).await
    }

    /// `GET /v1.0/secrets/{store}/{name}`: a missing secret is no credential.
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
                Ok(values
                    .get(name)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string())
            }
            204 => Ok(String::new()),
            status => Err(unavailable(format!(
                "secret {name}: the sidecar answered {status}"
            ))),
        }
    }
}
