//! `POST /v1.0/publish/{pubsub}/{topic}`: wrap in a CloudEvent (unless
//! `rawPayload`) and hand to the broker.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use docket_telemetry::metrics::TopicOf;

use super::query_metadata;
use crate::errors::ApiError;
use crate::pubsub::envelope::{EnvelopeError, PublishContext, wrap};
use crate::registry::PubSubComponent;
use crate::shared::Shared;

fn forbidden(app_id: &str, topic: &str, pubsub: &str) -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "ERR_PUBSUB_FORBIDDEN",
        format!("topic {topic} is not allowed for app id {app_id} on pubsub {pubsub}"),
    )
}

/// `allowedTopics` and `publishingScopes`, as daprd applies them.
fn check_topic(component: &PubSubComponent, app_id: &str, topic: &str) -> Result<(), ApiError> {
    let name = &component.spec.name;
    if let Some(allowed) = &component.allowed_topics
        && !allowed.iter().any(|t| t == topic)
    {
        return Err(forbidden(app_id, topic, name));
    }
    if let Some(topics) = component.publishing_scopes.get(app_id)
        && !topics.iter().any(|t| t == topic)
    {
        return Err(forbidden(app_id, topic, name));
    }
    Ok(())
}

pub async fn publish(
    State(shared): State<Arc<Shared>>,
    Path((pubsub, topic)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let app_id = shared.caller(&headers);
    if pubsub.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ERR_PUBSUB_EMPTY",
            "pubsub name is empty",
        ));
    }
    if topic.is_empty() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "ERR_TOPIC_NAME_EMPTY",
            format!("topic is empty in pubsub {pubsub}"),
        ));
    }
    let component = shared
        .registry
        .pubsub
        .get(&pubsub)
        .filter(|c| c.spec.in_scope(&app_id))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "ERR_PUBSUB_NOT_FOUND",
                format!("pubsub {pubsub} not found"),
            )
        })?;
    check_topic(component, &app_id, &topic)?;

    let mut metadata = query_metadata(query.as_deref());
    let raw = match metadata.remove("rawPayload").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "ERR_PUBSUB_REQUEST_METADATA",
                format!("failed deserializing metadata: rawPayload {other:?} is not a boolean"),
            ));
        }
    };
    let ttl_seconds = metadata
        .get("ttlInSeconds")
        .map(|v| v.parse::<i64>())
        .transpose()
        .map_err(|_| {
            ApiError::bad_request(
                "ERR_PUBSUB_REQUEST_METADATA",
                "ttlInSeconds must be an integer",
            )
        })?;
    let data = if raw {
        body.to_vec()
    } else {
        let overrides: Vec<(String, String)> = metadata
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("cloudevent.")
                    .map(|field| (field.to_string(), v.clone()))
            })
            .collect();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let context = PublishContext {
            app_id: &app_id,
            pubsub: &pubsub,
            topic: &topic,
            content_type: header("content-type"),
            traceparent: header("traceparent"),
            tracestate: header("tracestate"),
            ttl_seconds,
            overrides: overrides
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect(),
        };
        wrap(&body, &context).map_err(|e: EnvelopeError| {
            ApiError::internal("ERR_PUBSUB_CLOUD_EVENTS_SER", e.to_string())
        })?
    };
    metadata.retain(|k, _| !k.starts_with("cloudevent."));
    let published = component.broker.publish(&topic, &data, &metadata).await;
    docket_telemetry::global().published(
        TopicOf {
            app_id: &app_id,
            pubsub: &pubsub,
            topic: &topic,
        },
        published.is_ok(),
    );
    published.map_err(|e| {
        ApiError::internal(
            "ERR_PUBSUB_PUBLISH_MESSAGE",
            format!("error when publish to topic {topic} in pubsub {pubsub}: {e}"),
        )
    })?;
    Ok(StatusCode::NO_CONTENT)
}
