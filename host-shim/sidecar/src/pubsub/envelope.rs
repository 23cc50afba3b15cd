//! CloudEvents 1.0 envelopes as daprd builds them on publish, and the one it
//! synthesises for raw-payload subscriptions.

use base64::Engine;
use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

pub const CLOUDEVENT_CONTENT_TYPE: &str = "application/cloudevents+json";
const EVENT_TYPE: &str = "com.dapr.event.sent";

/// What the publish request said about the event besides its body.
#[derive(Debug, Default, Clone)]
pub struct PublishContext<'a> {
    pub app_id: &'a str,
    pub pubsub: &'a str,
    pub topic: &'a str,
    pub content_type: Option<&'a str>,
    pub traceparent: Option<&'a str>,
    pub tracestate: Option<&'a str>,
    pub ttl_seconds: Option<i64>,
    /// `metadata.cloudevent.*` overrides (id, source, type, subject, ...).
    pub overrides: Vec<(&'a str, &'a str)>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    #[error("a CloudEvent body must be a JSON object")]
    NotAnObject,
}

/// Builds the bytes daprd would store for a publish.
pub fn wrap(body: &[u8], ctx: &PublishContext<'_>) -> Result<Vec<u8>, EnvelopeError> {
    let content_type = ctx.content_type.unwrap_or("text/plain");
    let traceparent = ctx
        .traceparent
        .map(str::to_string)
        .unwrap_or_else(docket_telemetry::trace::new_traceparent);
    let now = Utc::now();
    let mut event = if is_cloudevent(content_type) {
        let Ok(Value::Object(event)) = serde_json::from_slice::<Value>(body) else {
            return Err(EnvelopeError::NotAnObject);
        };
        let mut event = event;
        event.entry("source").or_insert_with(|| json!("Dapr"));
        event.entry("type").or_insert_with(|| json!(EVENT_TYPE));
        event.entry("specversion").or_insert_with(|| json!("1.0"));
        event
    } else {
        let mut event = Map::new();
        event.insert("id".into(), json!(uuid::Uuid::new_v4().to_string()));
        event.insert("specversion".into(), json!("1.0"));
        event.insert("source".into(), json!(ctx.app_id));
        event.insert("type".into(), json!(EVENT_TYPE));
        event.insert("datacontenttype".into(), json!(content_type));
        let (field, data) = payload(body, content_type);
        event.insert(field.into(), data);
        for (name, value) in &ctx.overrides {
            event.insert((*name).to_string(), json!(value));
        }
        event
    };
    event.insert("topic".into(), json!(ctx.topic));
    event.insert("pubsubname".into(), json!(ctx.pubsub));
    event
        .entry("time")
        .or_insert_with(|| json!(now.to_rfc3339_opts(SecondsFormat::Secs, true)));
    event.entry("traceid").or_insert_with(|| json!(traceparent));
    event
        .entry("traceparent")
        .or_insert_with(|| json!(traceparent));
    event
        .entry("tracestate")
        .or_insert_with(|| json!(ctx.tracestate.unwrap_or("")));
    if let Some(ttl) = ctx.ttl_seconds {
        let expiration = now + chrono::Duration::seconds(ttl);
        event.insert(
            "expiration".into(),
            json!(expiration.to_rfc3339_opts(SecondsFormat::Secs, true)),
        );
    }
    Ok(Value::Object(event).to_string().into_bytes())
}

fn is_cloudevent(content_type: &str) -> bool {
    media_type(content_type) == CLOUDEVENT_CONTENT_TYPE
}

fn media_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// JSON stays JSON (or a string if it does not parse), binary becomes
/// `data_base64`, anything else is a string.
fn payload(body: &[u8], content_type: &str) -> (&'static str, Value) {
    match media_type(content_type).as_str() {
        "application/json" => match serde_json::from_slice::<Value>(body) {
            Ok(value) => ("data", value),
            Err(_) => ("data", json!(String::from_utf8_lossy(body))),
        },
        "application/octet-stream" => (
            "data_base64",
            json!(base64::engine::general_purpose::STANDARD.encode(body)),
        ),
        _ => ("data", json!(String::from_utf8_lossy(body))),
    }
}

/// The event a raw-payload subscriber receives for raw bytes.
pub fn synthesize_raw(data: &[u8], pubsub: &str, topic: &str) -> Vec<u8> {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "specversion": "1.0",
        "source": "Dapr",
        "type": EVENT_TYPE,
        "datacontenttype": "application/octet-stream",
        "data_base64": base64::engine::general_purpose::STANDARD.encode(data),
        "topic": topic,
        "pubsubname": pubsub,
    })
    .to_string()
    .into_bytes()
}

/// True when the event carries an `expiration` that has passed.
pub fn is_expired(event: &Value) -> bool {
    event
        .get("expiration")
        .and_then(Value::as_str)
        .and_then(|e| chrono::DateTime::parse_from_rfc3339(e).ok())
        .is_some_and(|at| at < Utc::now())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx<'a>(content_type: Option<&'a str>) -> PublishContext<'a> {
        PublishContext {
            app_id: "checkout",
            pubsub: "pubsub",
            topic: "orders",
            content_type,
            ..Default::default()
        }
    }

    fn wrapped(body: &[u8], ctx: &PublishContext<'_>) -> Value {
        serde_json::from_slice(&wrap(body, ctx).unwrap()).unwrap()
    }

    #[test]
    fn wraps_json_with_every_field() {
        let event = wrapped(br#"{"orderId":1}"#, &ctx(Some("application/json")));
        assert_eq!(event["data"], json!({"orderId": 1}));
        assert_eq!(event["specversion"], "1.0");
        assert_eq!(event["source"], "checkout");
        assert_eq!(event["type"], "com.dapr.event.sent");
        assert_eq!(event["datacontenttype"], "application/json");
        assert_eq!(event["topic"], "orders");
        assert_eq!(event["pubsubname"], "pubsub");
        assert_eq!(event["traceid"], event["traceparent"]);
        assert!(event["traceparent"].as_str().unwrap().starts_with("00-"));
        assert_eq!(
            uuid::Uuid::parse_str(event["id"].as_str().unwrap())
                .unwrap()
                .get_version_num(),
            4
        );
        assert!(chrono::DateTime::parse_from_rfc3339(event["time"].as_str().unwrap()).is_ok());
        assert!(event.get("expiration").is_none());
    }

    #[test]
    fn places_payload_by_content_type() {
        assert_eq!(
            wrapped(b"not json", &ctx(Some("application/json")))["data"],
            "not json"
        );
        assert_eq!(wrapped(b"hi", &ctx(None))["datacontenttype"], "text/plain");
        assert_eq!(wrapped(b"hi", &ctx(None))["data"], "hi");
        assert_eq!(
            wrapped(br#"{"a":1}"#, &ctx(Some("application/foo+json")))["data"],
            r#"{"a":1}"#
        );
        let binary = wrapped(&[0, 255], &ctx(Some("application/octet-stream")));
        assert_eq!(binary["data_base64"], "AP8=");
        assert!(binary.get("data").is_none());
    }

    #[test]
    fn keeps_app_cloudevents_and_overwrites_topic() {
        let body = br#"{"id":"mine","source":"app","topic":"wrong","custom":true,"data":{"x":1}}"#;
        let event = wrapped(body, &ctx(Some("application/cloudevents+json")));
        assert_eq!(event["id"], "mine");
        assert_eq!(event["source"], "app");
        assert_eq!(event["custom"], true);
        assert_eq!(event["topic"], "orders");
        assert_eq!(event["type"], "com.dapr.event.sent");
        assert_eq!(
            wrap(b"[1]", &ctx(Some("application/cloudevents+json"))),
            Err(EnvelopeError::NotAnObject)
        );
    }

    #[test]
    fn adds_expiration_and_trace_context() {
        let mut context = ctx(Some("application/json"));
        context.ttl_seconds = Some(-5);
        context.traceparent = Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        let event = wrapped(b"{}", &context);
        assert_eq!(
            event["traceparent"],
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        );
        assert!(is_expired(&event));
        context.ttl_seconds = Some(60);
        assert!(!is_expired(&wrapped(b"{}", &context)));
    }

    #[test]
    fn applies_cloudevent_overrides() {
        let mut context = ctx(Some("application/json"));
        context.overrides = vec![("id", "fixed-id"), ("subject", "task-7")];
        let event = wrapped(b"{}", &context);
        assert_eq!(event["id"], "fixed-id");
        assert_eq!(event["subject"], "task-7");
    }
}
