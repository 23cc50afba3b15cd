//! docket's Prometheus metrics, one registry per process, rendered in the
//! text exposition format at `GET /.well-known/docket/metrics`.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Registry, Unit};

/// The content type of [`Metrics::render`]'s output (OpenMetrics text,
/// which Prometheus reads).
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long a scrape waits for one probe before showing its last values.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The process's metrics.
pub fn global() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Something measured when scraped rather than as it happens (the outbox
/// backlog lives in the application's database).
#[async_trait]
pub trait Probe: Send + Sync {
    async fn refresh(&self, metrics: &Metrics);
}

type LatencyFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// 0.5 ms to ~16 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    component: String,
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    component: String,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ErrorLabels {
    component: String,
    route: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabels {
    app_id: String,
    pubsub: String,
    topic: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    app_id: String,
    pubsub: String,
    topic: String,
    result: String,
}

/// Which subscription (or publisher) a pub/sub measurement is about.
#[derive(Debug, Clone, Copy)]
pub struct TopicOf<'a> {
    pub app_id: &'a str,
    pub pubsub: &'a str,
    pub topic: &'a str,
}

impl TopicOf<'_> {
    fn labels(&self) -> TopicLabels {
        TopicLabels {
            app_id: self.app_id.into(),
            pubsub: self.pubsub.into(),
            topic: self.topic.into(),
        }
    }
}

/// What the app answered one delivery attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryResult {
    Success,
    Retry,
    Drop,
}

impl DeliveryResult {
    fn as_str(self) -> &'static str {
        match self {
            DeliveryResult::Success => "success",
            DeliveryResult::Retry => "retry",
            DeliveryResult::Drop => "drop",
        }
    }
}

pub struct Metrics {
    registry: Registry,
    probes: Mutex<Vec<Arc<dyn Probe>>>,
    requests: Family<RequestLabels, Counter>,
    request_duration: LatencyFamily<RouteLabels>,
    request_errors: Family<ErrorLabels, Counter>,
    published: Family<TopicLabels, Counter>,
    publish_failures: Family<TopicLabels, Counter>,
    delivery_attempts: Family<DeliveryLabels, Counter>,
    delivery_duration: LatencyFamily<TopicLabels>,
    redeliveries: Family<TopicLabels, Counter>,
    dead_letters: Family<TopicLabels, Counter>,
    dropped: Family<TopicLabels, Counter>,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("docket");
        let metrics = Metrics {
            registry: Registry::default(),
            probes: Mutex::new(Vec::new()),
            requests: Family::default(),
            request_duration: LatencyFamily::new_with_constructor(latency_histogram),
            request_errors: Family::default(),
            published: Family::default(),
            publish_failures: Family::default(),
            delivery_attempts: Family::default(),
            delivery_duration: LatencyFamily::new_with_constructor(latency_histogram),
            redeliveries: Family::default(),
            dead_letters: Family::default(),
            dropped: Family::default(),
            outbox_pending: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
        };
        registry.register(
            "http_requests",
            "Requests served, by component, route pattern, method and status",
            metrics.requests.clone(),
        );
        registry.register_with_unit(
            "http_request_duration",
            "Time to the response head, by component and route pattern",
            Unit::Seconds,
            metrics.request_duration.clone(),
        );
        registry.register(
            "http_request_errors",
            "Requests that failed in the host or answered 5xx, by kind",
            metrics.request_errors.clone(),
        );
        registry.register(
            "pubsub_published",
            "Messages accepted by a broker through the publish API",
            metrics.published.clone(),
        );
        registry.register(
            "pubsub_publish_failures",
            "Publish calls a broker refused or did not answer",
            metrics.publish_failures.clone(),
        );
        registry.register(
            "pubsub_delivery_attempts",
            "Deliveries to the app, by what it answered",
            metrics.delivery_attempts.clone(),
        );
        registry.register_with_unit(
            "pubsub_delivery_duration",
            "Time the app took to answer one delivery",
            Unit::Seconds,
            metrics.delivery_duration.clone(),
        );
        registry.register(
            "pubsub_redeliveries",
            "Delivery retries scheduled by the resiliency policy",
            metrics.redeliveries.clone(),
        );
        registry.register(
            "pubsub_dead_letters",
            "Messages forwarded to their dead-letter topic",
            metrics.dead_letters.clone(),
        );
        registry.register(
            "pubsub_dropped",
            "Messages given up with no dead-letter topic to take them",
            metrics.dropped.clone(),
        );
        registry.register(
            "outbox_pending_events",
            "Events written to the outbox and not yet published",
            metrics.outbox_pending.clone(),
        );
        registry.register_with_unit(
            "outbox_oldest_pending_age",
            "Age of the oldest unpublished outbox event (0 when none)",
            Unit::Seconds,
            metrics.outbox_oldest_age.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// Runs the probes, then renders every metric.
    pub async fn render(&self) -> String {
        let probes = self.probes.lock().map(|p| p.clone()).unwrap_or_default();
        for probe in probes {
            if tokio::time::timeout(PROBE_TIMEOUT, probe.refresh(self))
                .await
                .is_err()
            {
                tracing::warn!("a metrics probe did not answer in {PROBE_TIMEOUT:?}");
            }
        }
        let mut text = String::new();
        if encode(&mut text, &self.registry).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        text
    }

    pub fn add_probe(&self, probe: Arc<dyn Probe>) {
        if let Ok(mut probes) = self.probes.lock() {
            probes.push(probe);
        }
    }

    /// One request a component (or the router) answered.
    pub fn request(
        &self,
        component: &str,
        route: &str,
        method: &str,
        status: u16,
        elapsed: Duration,
    ) {
        self.requests
            .get_or_create(&RequestLabels {
                component: component.into(),
                route: route.into(),
                method: method.into(),
                status: status.to_string(),
            })
            .inc();
        self.request_duration
            .get_or_create(&RouteLabels {
                component: component.into(),
                route: route.into(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// A request that failed: `kind` names how (`timeout`, `trap`, `5xx`, …).
    pub fn request_error(&self, component: &str, route: &str, kind: &str) {
        self.request_errors
            .get_or_create(&ErrorLabels {
                component: component.into(),
                route: route.into(),
                kind: kind.into(),
            })
            .inc();
    }

    pub fn published(&self, on: TopicOf, accepted: bool) {
        let family = if accepted {
            &self.published
        } else {
            &self.publish_failures
        };
        family.get_or_create(&on.labels()).inc();
    }

    pub fn delivery_attempt(&self, on: TopicOf, result: DeliveryResult, elapsed: Duration) {
        let TopicLabels {
            app_id,
            pubsub,
            topic,
        } = on.labels();
        self.delivery_attempts
            .get_or_create(&DeliveryLabels {
                app_id,
                pubsub,
                topic,
                result: result.as_str().into(),
            })
            .inc();
        self.delivery_duration
            .get_or_create(&on.labels())
            .observe(elapsed.as_secs_f64());
    }

    pub fn redelivery(&self, on: TopicOf) {
        self.redeliveries.get_or_create(&on.labels()).inc();
    }

    pub fn dead_lettered(&self, on: TopicOf) {
        self.dead_letters.get_or_create(&on.labels()).inc();
    }

    pub fn dropped(&self, on: TopicOf) {
        self.dropped.get_or_create(&on.labels()).inc();
    }

    pub fn outbox(&self, pending: i64, oldest_age: Duration) {
        self.outbox_pending.set(pending);
        self.outbox_oldest_age.set(oldest_age.as_secs_f64());
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(text: &'a str, prefix: &str) -> &'a str {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starting {prefix:?} in\n{text}"))
    }

    #[tokio::test]
    async fn renders_requests_with_their_labels_and_latency() {
        let metrics = Metrics::new();
        for _ in 0..3 {
            metrics.request("todo-api", "/api/...", "GET", 200, Duration::from_millis(3));
        }
        metrics.request_error("todo-api", "/api/...", "trap");
        let text = metrics.render().await;
        assert_eq!(
            line(&text, "docket_http_requests_total{"),
            r#"docket_http_requests_total{component="todo-api",route="/api/...",method="GET",status="200"} 3"#
        );
        assert!(
            line(&text, "docket_http_request_duration_seconds_count{").ends_with(" 3"),
            "{text}"
        );
        assert!(
            text.contains(r#"docket_http_request_duration_seconds_bucket{le="0.004",component="todo-api",route="/api/..."} 3"#),
            "{text}"
        );
        assert!(
            line(&text, "docket_http_request_errors_total{").ends_with(" 1"),
            "{text}"
        );
    }

    struct FixedBacklog;

    #[async_trait]
    impl Probe for FixedBacklog {
        async fn refresh(&self, metrics: &Metrics) {
            metrics.outbox(7, Duration::from_secs(42));
        }
    }

    #[tokio::test]
    async fn probes_run_at_each_scrape() {
        let metrics = Metrics::new();
        assert_eq!(
            line(&metrics.render().await, "docket_outbox_pending_events "),
            "docket_outbox_pending_events 0"
        );
        metrics.add_probe(Arc::new(FixedBacklog));
        let text = metrics.render().await;
        assert_eq!(
            line(&text, "docket_outbox_pending_events "),
            "docket_outbox_pending_events 7"
        );
        assert_eq!(
            line(&text, "docket_outbox_oldest_pending_age_seconds "),
            "docket_outbox_oldest_pending_age_seconds 42.0"
        );
    }

    #[tokio::test]
    async fn counts_pubsub_traffic_per_topic_and_result() {
        let metrics = Metrics::new();
        let on = TopicOf {
            app_id: "notification-service",
            pubsub: "pubsub",
            topic: "task-events",
        };
        metrics.published(on, true);
        metrics.published(on, false);
        metrics.delivery_attempt(on, DeliveryResult::Retry, Duration::from_millis(1));
        metrics.redelivery(on);
        metrics.delivery_attempt(on, DeliveryResult::Success, Duration::from_millis(1));
        metrics.dead_lettered(on);
        let text = metrics.render().await;
        let labels = r#"app_id="notification-service",pubsub="pubsub",topic="task-events""#;
        for expected in [
            format!("docket_pubsub_published_total{{{labels}}} 1"),
            format!("docket_pubsub_publish_failures_total{{{labels}}} 1"),
            format!(r#"docket_pubsub_delivery_attempts_total{{{labels},result="retry"}} 1"#),
            format!(r#"docket_pubsub_delivery_attempts_total{{{labels},result="success"}} 1"#),
            format!("docket_pubsub_redeliveries_total{{{labels}}} 1"),
            format!("docket_pubsub_dead_letters_total{{{labels}}} 1"),
        ] {
            assert!(
                text.lines().any(|l| l == expected),
                "{expected} not in\n{text}"
            );
        }
    }
}
