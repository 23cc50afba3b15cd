//! Where subscriptions come from — the app's `GET /dapr/subscribe` and
//! `Subscription` resources — and how each becomes a running delivery.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};
use serde::Deserialize;

use crate::pubsub::delivery::{Deliverer, Subscription};
use crate::registry::expand_template;
use crate::resiliency::RetryPolicy;
use crate::resources::subscription_routes;
use crate::resources::{SubscriptionRoutes, SubscriptionSpec};
use crate::routing::Routes;
use crate::shared::{ActiveSubscription, Shared};

/// One item of the app's `/dapr/subscribe` answer.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProgrammaticSubscription {
    pubsubname: String,
    topic: String,
    route: Option<String>,
    routes: Option<crate::resources::RawRoutes>,
    dead_letter_topic: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

/// Asks the app for its subscriptions, as daprd does at startup: 404 means
/// none; other failures are logged and mean none.
pub async fn programmatic(shared: &Shared) -> Vec<SubscriptionSpec> {
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let response = match shared
        .app
        .send(Method::GET, "/dapr/subscribe", headers, Bytes::new())
        .await
    {
        Ok(response) => response,
        Err(e) => {
            tracing::warn!(error = %e, "could not ask the app for subscriptions");
            return Vec::new();
        }
    };
    match response.status {
        200 if response.body.iter().all(u8::is_ascii_whitespace) => Vec::new(),
        200 => match serde_json::from_slice::<Vec<ProgrammaticSubscription>>(&response.body) {
            Ok(items) => items.into_iter().filter_map(to_spec).collect(),
            Err(e) => {
                tracing::error!(error = %e, "the app's /dapr/subscribe answer is not a valid subscription list");
                Vec::new()
            }
        },
        404 => Vec::new(),
        status => {
            tracing::error!(status, "the app's /dapr/subscribe failed");
            Vec::new()
        }
    }
}

fn to_spec(item: ProgrammaticSubscription) -> Option<SubscriptionSpec> {
    let spec = SubscriptionSpec {
        file: None,
        name: format!("{}-{}", item.pubsubname, item.topic),
        routes: subscription_routes(item.routes, item.route),
        pubsub: item.pubsubname,
        topic: item.topic,
        dead_letter_topic: item.dead_letter_topic.filter(|t| !t.is_empty()),
        metadata: item.metadata,
        scopes: Vec::new(),
    };
    match spec.validate() {
        Ok(()) => Some(spec),
        Err(e) => {
            tracing::error!(topic = %spec.topic, error = %e, "subscription discarded");
            None
        }
    }
}

/// Docket's retry policy for deliveries when no Resiliency targets the
/// pubsub component (daprd would try once): exponential, up to 10 retries.
pub fn default_retry() -> RetryPolicy {
    RetryPolicy::exponential(Duration::from_secs(15), Some(10))
}

fn routes(spec: &SubscriptionRoutes) -> Option<Routes> {
    Routes::new(spec.rules.clone(), spec.default.clone()).ok()
}

/// Starts deliveries for `specs`; returns what is running and the tasks.
pub fn start(
    shared: &Arc<Shared>,
    specs: Vec<(SubscriptionSpec, bool)>,
    consumer: &str,
) -> (Vec<ActiveSubscription>, Vec<tokio::task::JoinSet<()>>) {
    let mut active = Vec::new();
    let mut tasks = Vec::new();
    for (spec, programmatic) in specs {
        let app_id = match spec.scopes.first() {
            Some(scoped) if shared.config.app_ids.contains(scoped) => scoped.clone(),
            Some(_) => continue,
            None => shared
                .config
                .owner_of(spec.routes.default.as_deref().unwrap_or("/")),
        };
        let Some(component) = shared
            .registry
            .pubsub
            .get(&spec.pubsub)
            .filter(|c| c.spec.in_scope(&app_id))
        else {
            tracing::error!(pubsub = %spec.pubsub, topic = %spec.topic, "subscription names a pubsub component that is not loaded");
            continue;
        };
        let Some(routes) = routes(&spec.routes) else {
            tracing::error!(topic = %spec.topic, "subscription routes are invalid");
            continue;
        };
        let group = component
            .consumer_id
            .as_deref()
            .map(|template| expand_template(template, &app_id))
            .unwrap_or_else(|| app_id.clone());
        let retry = shared
            .resiliency
            .pubsub_inbound_retry(&spec.pubsub)
            .unwrap_or_else(default_retry);
        let deliverer = Arc::new(Deliverer {
            broker: component.broker.clone(),
            app: shared.app.clone(),
            consumer: consumer.to_string(),
        });
        let subscription = Subscription {
            pubsub: spec.pubsub.clone(),
            topic: spec.topic.clone(),
            group,
            routes,
            dead_letter_topic: spec.dead_letter_topic.clone(),
            raw_payload: spec.metadata.get("rawPayload").is_some_and(|v| v == "true"),
            retry,
            consume_retry: component.consume_retry.clone(),
            timeout: shared.resiliency.pubsub_inbound_timeout(&spec.pubsub),
            concurrency: component.concurrency,
            processing_timeout: component.processing_timeout,
            redeliver_interval: component.redeliver_interval,
        };
        tracing::info!(app_id = %app_id, pubsub = %spec.pubsub, topic = %spec.topic, "subscribed");
        tasks.push(deliverer.spawn(subscription));
        active.push(ActiveSubscription {
            spec,
            app_id,
            programmatic,
        });
    }
    (active, tasks)
}
