//! Target resolution and default-policy fallbacks across merged resources.

use super::*;

fn load(files: &[(&str, &str)]) -> Result<Resiliency, ResiliencyError> {
    let specs: Vec<(PathBuf, ResiliencySpec)> = files
        .iter()
        .map(|(path, yaml)| {
            (
                PathBuf::from(path),
                ResiliencySpec::from_yaml_str(yaml).unwrap(),
            )
        })
        .collect();
    Resiliency::from_specs(specs.iter().map(|(path, spec)| (path.as_path(), spec)))
}

fn full_example() -> Resiliency {
    load(&[("resiliency.yaml", spec::tests::FULL_EXAMPLE)]).unwrap()
}

#[test]
fn named_targets_resolve_to_their_policies() {
    let resiliency = full_example();
    assert_eq!(
        resiliency.pubsub_inbound_retry("pubsub"),
        Some(RetryPolicy::constant(Duration::from_secs(5), Some(10)))
    );
    assert_eq!(
        resiliency.pubsub_inbound_timeout("pubsub"),
        Some(Duration::from_secs(5))
    );
    assert_eq!(
        resiliency.binding_inbound_retry("nightly"),
        Some(RetryPolicy::constant(Duration::from_secs(5), Some(10)))
    );
    assert_eq!(resiliency.binding_inbound_timeout("nightly"), None);
    let outbound =
        resiliency.component_policies("statestore", ComponentKind::Statestore, Direction::Outbound);
    assert!(matches!(
        outbound.retry.map(|r| r.kind),
        Some(Backoff::Exponential { .. })
    ));
    assert_eq!(
        outbound.circuit_breaker.map(|cb| cb.timeout),
        Some(Duration::from_secs(45))
    );
    let app = resiliency.app_policies("other-app");
    assert_eq!(app.timeout, Some(Duration::from_secs(5)));
    assert!(app.retry.is_some() && app.circuit_breaker.is_some());
}

#[test]
fn untargeted_components_get_nothing_without_defaults() {
    let resiliency = full_example();
    assert_eq!(resiliency.pubsub_inbound_retry("other-pubsub"), None);
    assert_eq!(
        resiliency.app_policies("unknown-app"),
        ResolvedPolicies::default()
    );
    assert!(
        Resiliency::default()
            .pubsub_inbound_retry("pubsub")
            .is_none()
    );
}

const DEFAULTS: &str = r#"
spec:
  policies:
    timeouts:
      DefaultTimeoutPolicy: 3s
      DefaultComponentInboundTimeoutPolicy: 7s
    retries:
      DefaultRetryPolicy: {policy: constant, duration: 1s, maxRetries: 1}
      DefaultComponentInboundRetryPolicy: {policy: constant, duration: 2s, maxRetries: 2}
      DefaultPubsubComponentInboundRetryPolicy: {policy: constant, duration: 3s, maxRetries: 3}
      DefaultAppRetryPolicy: {policy: constant, duration: 4s, maxRetries: 4}
      mine: {policy: exponential}
  targets:
    components:
      targeted: {inbound: {retry: mine}}
      outbound-only: {outbound: {retry: mine}}
"#;

fn retries_of(policy: Option<RetryPolicy>) -> Option<u32> {
    policy.and_then(|p| p.max_retries)
}

#[test]
fn defaults_fall_back_from_specific_to_general() {
    let resiliency = load(&[("defaults.yaml", DEFAULTS)]).unwrap();
    assert_eq!(
        retries_of(resiliency.pubsub_inbound_retry("any-pubsub")),
        Some(3)
    );
    assert_eq!(
        retries_of(resiliency.binding_inbound_retry("any-binding")),
        Some(2)
    );
    let outbound =
        resiliency.component_policies("store", ComponentKind::Statestore, Direction::Outbound);
    assert_eq!(retries_of(outbound.retry), Some(1));
    assert_eq!(outbound.timeout, Some(Duration::from_secs(3)));
    assert_eq!(
        resiliency.binding_inbound_timeout("any-binding"),
        Some(Duration::from_secs(7))
    );
    assert_eq!(
        retries_of(resiliency.app_policies("any-app").retry),
        Some(4)
    );
}

#[test]
fn a_target_entry_disables_the_defaults() {
    let resiliency = load(&[("defaults.yaml", DEFAULTS)]).unwrap();
    let targeted = resiliency.pubsub_inbound_retry("targeted").unwrap();
    assert!(matches!(targeted.kind, Backoff::Exponential { .. }));
    assert_eq!(resiliency.pubsub_inbound_timeout("targeted"), None);
    assert_eq!(resiliency.pubsub_inbound_retry("outbound-only"), None);
}

#[test]
fn resources_merge_and_later_ones_win() {
    let first = "spec: {policies: {retries: {shared: {maxRetries: 1}, DefaultRetryPolicy: {maxRetries: 9}}}}";
    let second = r#"
spec:
  policies: {retries: {shared: {maxRetries: 2}}}
  targets: {components: {pubsub: {inbound: {retry: shared}}}}
"#;
    let resiliency = load(&[("a.yaml", first), ("b.yaml", second)]).unwrap();
    assert_eq!(
        retries_of(resiliency.pubsub_inbound_retry("pubsub")),
        Some(2)
    );
    assert_eq!(
        retries_of(resiliency.pubsub_inbound_retry("other")),
        Some(9)
    );
}

#[test]
fn targets_may_use_policies_from_another_resource() {
    let policies = "spec: {policies: {timeouts: {quick: 1s}}}";
    let targets = "spec: {targets: {components: {pubsub: {inbound: {timeout: quick}}}}}";
    let resiliency = load(&[("policies.yaml", policies), ("targets.yaml", targets)]).unwrap();
    assert_eq!(
        resiliency.pubsub_inbound_timeout("pubsub"),
        Some(Duration::from_secs(1))
    );
}

#[test]
fn unknown_policy_names_are_errors_naming_target_and_policy() {
    let cases = [
        (
            "spec: {policies: {retries: {real: {}}}, targets: {components: {pubsub: {inbound: {retry: typo}}}}}",
            "res.yaml: spec.targets.components.pubsub.inbound.retry: no retry policy named \"typo\" (defined: real)",
        ),
        (
            "spec: {targets: {components: {store: {outbound: {timeout: slow}}}}}",
            "res.yaml: spec.targets.components.store.outbound.timeout: no timeout policy named \"slow\" (none are defined)",
        ),
        (
            "spec: {targets: {apps: {billing: {circuitBreaker: cb}}}}",
            "res.yaml: spec.targets.apps.billing.circuitBreaker: no circuitBreaker policy named \"cb\"",
        ),
    ];
    for (yaml, expected) in cases {
        let error = load(&[("res.yaml", yaml)]).unwrap_err().to_string();
        assert!(error.starts_with(expected), "{error}");
    }
}

#[test]
fn errors_convert_to_strings_for_resource_loading() {
    let error: String = ResiliencyError::new("spec.policies", "bad").into();
    assert_eq!(error, "spec.policies: bad");
}
