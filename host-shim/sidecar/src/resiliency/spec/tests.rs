//! Parsing `Resiliency` documents: the full example, defaults and field errors.

use super::*;

/// The example of the facts sheet, §8.6.
pub(crate) const FULL_EXAMPLE: &str = r#"
apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: app-resiliency}
scopes: [order-processor]
spec:
  policies:
    timeouts: {general: 5s, slow: 60s}
    retries:
      pubsubRetry: {policy: constant, duration: 5s, maxRetries: 10}
      backoff:     {policy: exponential, maxInterval: 15s, maxRetries: -1,
                    matching: {httpStatusCodes: "429,500-599", gRPCStatusCodes: "1-4,8-11,13,14"}}
    circuitBreakers:
      cb: {maxRequests: 1, interval: 8s, timeout: 45s, trip: consecutiveFailures > 8}
  targets:
    apps:       {other-app: {timeout: general, retry: backoff, circuitBreaker: cb}}
    components:
      pubsub:     {outbound: {retry: backoff}, inbound: {timeout: general, retry: pubsubRetry}}
      statestore: {outbound: {retry: backoff, circuitBreaker: cb}}
      nightly:    {inbound: {retry: pubsubRetry}}
"#;

#[test]
fn parses_the_full_example() {
    let spec = ResiliencySpec::from_yaml_str(FULL_EXAMPLE).unwrap();
    assert_eq!(spec.name, "app-resiliency");
    assert_eq!(spec.scopes, ["order-processor"]);
    assert!(spec.applies_to("order-processor") && !spec.applies_to("other"));
    assert_eq!(spec.timeouts["general"], Duration::from_secs(5));
    assert_eq!(spec.timeouts["slow"], Duration::from_secs(60));
    assert_eq!(
        spec.retries["pubsubRetry"],
        RetryPolicy::constant(Duration::from_secs(5), Some(10))
    );
    let backoff = &spec.retries["backoff"];
    assert_eq!(
        backoff.kind,
        Backoff::Exponential {
            max_interval: Duration::from_secs(15)
        }
    );
    assert_eq!(backoff.max_retries, None);
    let matcher = backoff.matching.as_ref().unwrap();
    assert!(matcher.matches(429) && matcher.matches(502) && !matcher.matches(404));
    assert_eq!(
        spec.circuit_breakers["cb"],
        CircuitBreakerPolicy {
            max_requests: 1,
            interval: Duration::from_secs(8),
            timeout: Duration::from_secs(45),
            trip: "consecutiveFailures > 8".to_string(),
        }
    );
    assert_eq!(
        spec.apps["other-app"].circuit_breaker.as_deref(),
        Some("cb")
    );
    let pubsub = &spec.components["pubsub"];
    assert_eq!(pubsub.inbound.retry.as_deref(), Some("pubsubRetry"));
    assert_eq!(pubsub.inbound.timeout.as_deref(), Some("general"));
    assert_eq!(pubsub.outbound.retry.as_deref(), Some("backoff"));
    assert_eq!(
        spec.components["statestore"].inbound,
        PolicyNames::default()
    );
}

#[test]
fn retry_fields_default_like_dapr() {
    let spec = ResiliencySpec::from_yaml_str(
        "spec: {policies: {retries: {plain: {}, expo: {policy: Exponential}, quoted: {maxRetries: '3', duration: 250}}}}",
    )
    .unwrap();
    assert_eq!(spec.retries["plain"], RetryPolicy::default());
    assert_eq!(
        spec.retries["expo"],
        RetryPolicy::exponential(Duration::from_secs(60), None)
    );
    assert_eq!(
        spec.retries["quoted"],
        RetryPolicy::constant(Duration::from_millis(250), Some(3))
    );
}

#[test]
fn circuit_breaker_fields_default_like_dapr() {
    let spec =
        ResiliencySpec::from_yaml_str("spec: {policies: {circuitBreakers: {cb: {}}}}").unwrap();
    let breaker = &spec.circuit_breakers["cb"];
    assert_eq!(breaker.max_requests, 1);
    assert_eq!(breaker.interval, Duration::ZERO);
    assert_eq!(breaker.timeout, Duration::from_secs(60));
    assert_eq!(breaker.trip, DEFAULT_TRIP);
}

#[test]
fn errors_name_the_field() {
    let cases = [
        (
            "spec: {policies: {timeouts: {t: 5x}}}",
            "spec.policies.timeouts.t",
        ),
        (
            "spec: {policies: {retries: {r: {policy: linear}}}}",
            "spec.policies.retries.r.policy",
        ),
        (
            "spec: {policies: {retries: {r: {duration: soon}}}}",
            "spec.policies.retries.r.duration",
        ),
        (
            "spec: {policies: {retries: {r: {maxRetries: many}}}}",
            "spec.policies.retries.r.maxRetries",
        ),
        (
            "spec: {policies: {retries: {r: {matching: {httpStatusCodes: '700'}}}}}",
            "spec.policies.retries.r.matching.httpStatusCodes",
        ),
        (
            "spec: {policies: {retries: {r: {matching: {gRPCStatusCodes: '20'}}}}}",
            "spec.policies.retries.r.matching.gRPCStatusCodes",
        ),
        (
            "spec: {policies: {circuitBreakers: {c: {timeout: x}}}}",
            "spec.policies.circuitBreakers.c.timeout",
        ),
        (
            "spec: {policies: {circuitBreakers: {c: {maxRequests: -1}}}}",
            "circuitBreakers.c.maxRequests",
        ),
        ("spec: {}\ntargets: {apps: {}}", "belongs under `spec`"),
    ];
    for (yaml, expected) in cases {
        let error = ResiliencySpec::from_yaml_str(yaml).expect_err(yaml);
        assert!(error.to_string().contains(expected), "{yaml}: {error}");
    }
}
