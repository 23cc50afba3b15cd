//! Input bindings: the cron binding's ticks become `POST /<route>` on the
//! app, after daprd's `OPTIONS` probe unless `direction` declares `input`.

use std::sync::Arc;

use bytes::Bytes;
use chrono::Utc;
use http::{HeaderMap, HeaderValue, Method};

use crate::app_channel::AppChannel;
use crate::registry::CronBinding;
use crate::resiliency::RetryPolicy;

/// Runs one cron binding until the task is aborted.
pub async fn run_cron(binding: Arc<CronBinding>, app: AppChannel, retry: Option<RetryPolicy>) {
    let name = &binding.spec.name;
    if !binding.declared_input && !app_subscribed(&binding, &app).await {
        tracing::warn!(binding = %name, route = %binding.route, "app has not subscribed to binding (OPTIONS probe failed); not started");
        return;
    }
    tracing::info!(binding = %name, route = %binding.route, "cron binding started");
    loop {
        let now = Utc::now();
        let Some(next) = binding.schedule.next_after(now) else {
            tracing::warn!(binding = %name, "schedule has no future firing; stopped");
            return;
        };
        let wait = (next - now).to_std().unwrap_or_default();
        tokio::time::sleep(wait).await;
        fire(&binding, &app, retry.as_ref()).await;
    }
}

/// daprd treats 2xx and 405 as "subscribed".
async fn app_subscribed(binding: &CronBinding, app: &AppChannel) -> bool {
    match app
        .send(
            Method::OPTIONS,
            &binding.route,
            HeaderMap::new(),
            Bytes::new(),
        )
        .await
    {
        Ok(response) => (200..300).contains(&response.status) || response.status == 405,
        Err(_) => false,
    }
}

async fn fire(binding: &CronBinding, app: &AppChannel, retry: Option<&RetryPolicy>) {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("timeZone", HeaderValue::from_static("UTC"));
    if let Ok(read_time) = HeaderValue::try_from(Utc::now().to_rfc3339()) {
        headers.insert("readTimeUTC", read_time);
    }
    let mut retries = 0;
    loop {
        let result = app
            .send(Method::POST, &binding.route, headers.clone(), Bytes::new())
            .await;
        let status = result.as_ref().ok().map(|r| r.status);
        // With a retry policy only exactly 200 ends the retries, as in daprd.
        let done = match (retry, status) {
            (Some(_), Some(200)) => true,
            (None, Some(s)) => (200..300).contains(&s),
            _ => false,
        };
        if done {
            return;
        }
        match retry {
            Some(policy) if policy.allows_retry(retries, status) => {
                tokio::time::sleep(policy.delay(retries)).await;
                retries += 1;
            }
            _ => {
                if !status.is_some_and(|s| (200..300).contains(&s)) {
                    tracing::error!(binding = %binding.spec.name, status = ?status, "app failed to handle the cron event");
                }
                return;
            }
        }
    }
}
