//! One `Resiliency` resource (`dapr.io/v1alpha1`): its YAML model and the checked spec.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::ResiliencyError;
use super::duration::parse_policy_duration;
use super::retry::{
    Backoff, DEFAULT_CONSTANT_DURATION, DEFAULT_MAX_INTERVAL, RetryPolicy, StatusMatcher,
};

/// Default trip condition of a circuit breaker in daprd.
pub const DEFAULT_TRIP: &str = "consecutiveFailures > 5";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CircuitBreakerPolicy {
    pub max_requests: u32,
    pub interval: Duration,
    pub timeout: Duration,
    /// CEL over `requests`/`consecutiveFailures`; kept as written.
    pub trip: String,
}

/// The policy names a target refers to; `None` = not set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyNames {
    pub timeout: Option<String>,
    pub retry: Option<String>,
    pub circuit_breaker: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComponentTargets {
    pub inbound: PolicyNames,
    pub outbound: PolicyNames,
}

/// A parsed and checked `Resiliency` resource.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResiliencySpec {
    pub name: String,
    /// App-ids the resource applies to; empty = every app.
    pub scopes: Vec<String>,
    pub timeouts: BTreeMap<String, Duration>,
    pub retries: BTreeMap<String, RetryPolicy>,
    pub circuit_breakers: BTreeMap<String, CircuitBreakerPolicy>,
    pub apps: BTreeMap<String, PolicyNames>,
    pub components: BTreeMap<String, ComponentTargets>,
}

impl ResiliencySpec {
    /// Reads a whole resource document (`apiVersion`, `kind`, `metadata`, `spec`).
    pub fn from_yaml(document: serde_yaml_ng::Value) -> Result<Self, ResiliencyError> {
        if document.get("targets").is_some() {
            return Err(ResiliencyError::new(
                "targets",
                "`targets` belongs under `spec` (spec.targets), not at the top level",
            ));
        }
        let raw: RawResource = serde_yaml_ng::from_value(document)
            .map_err(|e| ResiliencyError::new("Resiliency", e.to_string()))?;
        raw.check()
    }

    pub fn from_yaml_str(text: &str) -> Result<Self, ResiliencyError> {
        let document: serde_yaml_ng::Value = serde_yaml_ng::from_str(text)
            .map_err(|e| ResiliencyError::new("Resiliency", e.to_string()))?;
        Self::from_yaml(document)
    }

    /// daprd loads a scoped resource only for the listed app-ids.
    pub fn applies_to(&self, app_id: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|scope| scope == app_id)
    }
}

#[derive(Deserialize)]
struct RawResource {
    #[serde(default)]
    metadata: RawMetadata,
    #[serde(default)]
    scopes: Vec<String>,
    #[serde(default)]
    spec: RawSpec,
}

#[derive(Deserialize, Default)]
struct RawMetadata {
    #[serde(default)]
    name: String,
}

#[derive(Deserialize, Default)]
struct RawSpec {
    #[serde(default)]
    policies: RawPolicies,
    #[serde(default)]
    targets: RawTargets,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPolicies {
    #[serde(default)]
    timeouts: BTreeMap<String, Scalar>,
    #[serde(default)]
    retries: BTreeMap<String, RawRetry>,
    #[serde(default)]
    circuit_breakers: BTreeMap<String, RawCircuitBreaker>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRetry {
    policy: Option<String>,
    duration: Option<Scalar>,
    max_interval: Option<Scalar>,
    max_retries: Option<Scalar>,
    matching: Option<RawMatching>,
}

#[derive(Deserialize)]
struct RawMatching {
    #[serde(rename = "httpStatusCodes")]
    http_status_codes: Option<Scalar>,
    #[serde(rename = "gRPCStatusCodes")]
    grpc_status_codes: Option<Scalar>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCircuitBreaker {
    max_requests: Option<Scalar>,
    interval: Option<Scalar>,
    timeout: Option<Scalar>,
    trip: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawTargets {
    #[serde(default)]
    apps: BTreeMap<String, RawPolicyNames>,
    #[serde(default)]
    components: BTreeMap<String, RawComponentTargets>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawPolicyNames {
    timeout: Option<String>,
    retry: Option<String>,
    circuit_breaker: Option<String>,
}

#[derive(Deserialize)]
struct RawComponentTargets {
    #[serde(default)]
    inbound: RawPolicyNames,
    #[serde(default)]
    outbound: RawPolicyNames,
}

/// YAML writes `5s`, `500` or `"10"` for the same kinds of fields.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Integer(i64),
    Text(String),
}

impl Scalar {
    fn text(&self) -> String {
        match self {
            Scalar::Integer(value) => value.to_string(),
            Scalar::Text(text) => text.trim().to_string(),
        }
    }

    fn integer(&self, field: &str) -> Result<i64, ResiliencyError> {
        match self {
            Scalar::Integer(value) => Ok(*value),
            Scalar::Text(text) => text
                .trim()
                .parse()
                .map_err(|_| ResiliencyError::new(field, format!("{text:?} is not an integer"))),
        }
    }

    fn duration(&self, field: &str) -> Result<Duration, ResiliencyError> {
        parse_policy_duration(&self.text()).map_err(|e| ResiliencyError::new(field, e.to_string()))
    }
}

impl RawResource {
    fn check(self) -> Result<ResiliencySpec, ResiliencyError> {
        let policies = self.spec.policies;
        let mut spec = ResiliencySpec {
            name: self.metadata.name,
            scopes: self.scopes,
            ..ResiliencySpec::default()
        };
        for (name, value) in policies.timeouts {
            let duration = value.duration(&format!("spec.policies.timeouts.{name}"))?;
            spec.timeouts.insert(name, duration);
        }
        for (name, raw) in policies.retries {
            let policy = raw.check(&format!("spec.policies.retries.{name}"))?;
            spec.retries.insert(name, policy);
        }
        for (name, raw) in policies.circuit_breakers {
            let breaker = raw.check(&format!("spec.policies.circuitBreakers.{name}"))?;
            spec.circuit_breakers.insert(name, breaker);
        }
        for (name, raw) in self.spec.targets.apps {
            spec.apps.insert(name, raw.into_names());
        }
        for (name, raw) in self.spec.targets.components {
            let targets = ComponentTargets {
                inbound: raw.inbound.into_names(),
                outbound: raw.outbound.into_names(),
            };
            spec.components.insert(name, targets);
        }
        Ok(spec)
    }
}

impl RawRetry {
    fn check(self, field: &str) -> Result<RetryPolicy, ResiliencyError> {
        let kind = match self
            .policy
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("constant") => Backoff::Constant {
                duration: optional_duration(&self.duration, &format!("{field}.duration"))?
                    .unwrap_or(DEFAULT_CONSTANT_DURATION),
            },
            Some("exponential") => Backoff::Exponential {
                max_interval: optional_duration(
                    &self.max_interval,
                    &format!("{field}.maxInterval"),
                )?
                .unwrap_or(DEFAULT_MAX_INTERVAL),
            },
            Some(other) => {
                return Err(ResiliencyError::new(
                    &format!("{field}.policy"),
                    format!("{other:?} is not a retry policy (constant or exponential)"),
                ));
            }
        };
        let max_retries = match &self.max_retries {
            None => None,
            Some(value) => {
                let count = value.integer(&format!("{field}.maxRetries"))?;
                // Any negative count means "retry forever" in dapr/kit.
                if count < 0 {
                    None
                } else {
                    Some(u32::try_from(count).unwrap_or(u32::MAX))
                }
            }
        };
        let mut policy = RetryPolicy {
            kind,
            max_retries,
            matching: None,
        };
        if let Some(matching) = self.matching {
            if let Some(codes) = matching
                .grpc_status_codes
                .map(|c| c.text())
                .filter(|c| !c.is_empty())
            {
                StatusMatcher::parse_grpc(&codes).map_err(|e| {
                    ResiliencyError::new(
                        &format!("{field}.matching.gRPCStatusCodes"),
                        e.to_string(),
                    )
                })?;
            }
            if let Some(codes) = matching
                .http_status_codes
                .map(|c| c.text())
                .filter(|c| !c.is_empty())
            {
                let matcher = StatusMatcher::parse(&codes).map_err(|e| {
                    ResiliencyError::new(
                        &format!("{field}.matching.httpStatusCodes"),
                        e.to_string(),
                    )
                })?;
                policy.matching = Some(matcher);
            }
        }
        Ok(policy)
    }
}

impl RawCircuitBreaker {
    fn check(self, field: &str) -> Result<CircuitBreakerPolicy, ResiliencyError> {
        let max_requests = match &self.max_requests {
            None => 1,
            Some(value) => {
                let count = value.integer(&format!("{field}.maxRequests"))?;
                u32::try_from(count).map_err(|_| {
                    ResiliencyError::new(
                        &format!("{field}.maxRequests"),
                        format!("{count} is not a valid count"),
                    )
                })?
            }
        };
        Ok(CircuitBreakerPolicy {
            max_requests,
            interval: optional_duration(&self.interval, &format!("{field}.interval"))?
                .unwrap_or(Duration::ZERO),
            timeout: optional_duration(&self.timeout, &format!("{field}.timeout"))?
                .unwrap_or(Duration::from_secs(60)),
            trip: self
                .trip
                .filter(|trip| !trip.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_TRIP.to_string()),
        })
    }
}

impl RawPolicyNames {
    fn into_names(self) -> PolicyNames {
        let present = |name: Option<String>| name.filter(|name| !name.is_empty());
        PolicyNames {
            timeout: present(self.timeout),
            retry: present(self.retry),
            circuit_breaker: present(self.circuit_breaker),
        }
    }
}

fn optional_duration(
    value: &Option<Scalar>,
    field: &str,
) -> Result<Option<Duration>, ResiliencyError> {
    value
        .as_ref()
        .map(|value| value.duration(field))
        .transpose()
}

#[cfg(test)]
pub(crate) mod tests;
