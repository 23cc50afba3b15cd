//! Resiliency policies: `Resiliency` resources merged, and the policy each target gets.

mod duration;
mod retry;
mod spec;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use duration::{DurationError, parse_go_duration, parse_policy_duration};
pub use retry::{
    Backoff, DEFAULT_CONSTANT_DURATION, DEFAULT_MAX_INTERVAL, EXPONENTIAL_INITIAL_INTERVAL,
    EXPONENTIAL_MAX_ELAPSED, EXPONENTIAL_MULTIPLIER, EXPONENTIAL_RANDOMIZATION_FACTOR, RetryPolicy,
    StatusMatcher, StatusMatcherError,
};
pub use spec::{CircuitBreakerPolicy, ComponentTargets, DEFAULT_TRIP, PolicyNames, ResiliencySpec};

/// A problem in a `Resiliency` resource; `context` is the file and/or field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{context}: {message}")]
pub struct ResiliencyError {
    pub context: String,
    pub message: String,
}

impl ResiliencyError {
    pub fn new(context: &str, message: impl Into<String>) -> Self {
        Self {
            context: context.to_string(),
            message: message.into(),
        }
    }
}

impl From<ResiliencyError> for String {
    fn from(error: ResiliencyError) -> Self {
        error.to_string()
    }
}

/// The component categories daprd uses in default policy names
/// (`Default<Kind>Component<Direction>RetryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComponentKind {
    Pubsub,
    Binding,
    Statestore,
    Secretstore,
    Configuration,
    Lock,
    Crypto,
}

impl ComponentKind {
    fn policy_word(self) -> &'static str {
        match self {
            ComponentKind::Pubsub => "Pubsub",
            ComponentKind::Binding => "Binding",
            ComponentKind::Statestore => "Statestore",
            ComponentKind::Secretstore => "Secretstore",
            ComponentKind::Configuration => "Configuration",
            ComponentKind::Lock => "Lock",
            ComponentKind::Crypto => "Crypto",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Calls daprd makes to the app on the component's behalf (deliveries, input bindings).
    Inbound,
    /// Calls daprd makes to the component for the app.
    Outbound,
}

impl Direction {
    fn policy_word(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        }
    }
}

/// The policies that apply to one call target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResolvedPolicies {
    pub timeout: Option<Duration>,
    pub retry: Option<RetryPolicy>,
    pub circuit_breaker: Option<CircuitBreakerPolicy>,
}

#[derive(Debug, Clone)]
struct Target<T> {
    names: T,
    source: PathBuf,
}

/// Every loaded `Resiliency` resource merged: a later resource's policy or
/// target of the same name replaces an earlier one, as in daprd.
#[derive(Debug, Clone, Default)]
pub struct Resiliency {
    timeouts: BTreeMap<String, Duration>,
    retries: BTreeMap<String, RetryPolicy>,
    circuit_breakers: BTreeMap<String, CircuitBreakerPolicy>,
    apps: BTreeMap<String, Target<PolicyNames>>,
    components: BTreeMap<String, Target<ComponentTargets>>,
}

impl Resiliency {
    /// Merges resources (with the file each came from) and checks that every
    /// policy a target names is defined in one of them.
    pub fn from_specs<'a>(
        specs: impl IntoIterator<Item = (&'a Path, &'a ResiliencySpec)>,
    ) -> Result<Self, ResiliencyError> {
        let mut merged = Self::default();
        for (path, spec) in specs {
            merged.timeouts.extend(spec.timeouts.clone());
            merged.retries.extend(spec.retries.clone());
            merged
                .circuit_breakers
                .extend(spec.circuit_breakers.clone());
            for (name, names) in &spec.apps {
                let target = Target {
                    names: names.clone(),
                    source: path.to_path_buf(),
                };
                merged.apps.insert(name.clone(), target);
            }
            for (name, targets) in &spec.components {
                let target = Target {
                    names: targets.clone(),
                    source: path.to_path_buf(),
                };
                merged.components.insert(name.clone(), target);
            }
        }
        merged.validate()?;
        Ok(merged)
    }

    /// Every policy name a target refers to must be defined; the error names
    /// the file, the target field and the missing policy.
    pub fn validate(&self) -> Result<(), ResiliencyError> {
        for (app, target) in &self.apps {
            self.check_names(
                &target.names,
                &target.source,
                &format!("spec.targets.apps.{app}"),
            )?;
        }
        for (component, target) in &self.components {
            let field = format!("spec.targets.components.{component}");
            self.check_names(
                &target.names.inbound,
                &target.source,
                &format!("{field}.inbound"),
            )?;
            self.check_names(
                &target.names.outbound,
                &target.source,
                &format!("{field}.outbound"),
            )?;
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.timeouts.is_empty() && self.retries.is_empty() && self.circuit_breakers.is_empty()
    }

    /// Policies for calls to another app-id; `DefaultApp…`/`Default…` policies
    /// apply when the app is not a target.
    pub fn app_policies(&self, app_id: &str) -> ResolvedPolicies {
        match self.apps.get(app_id) {
            Some(target) => self.resolve(&target.names),
            None => self.resolve_defaults(&["App"]),
        }
    }

    /// Policies for a component in one direction. As in daprd, the default
    /// policies (`Default<Kind>Component<Direction>…`, `DefaultComponent<Direction>…`,
    /// `DefaultComponent…`, `Default…`) apply only to a component that is not a
    /// target at all: a target entry, even for the other direction, wins.
    pub fn component_policies(
        &self,
        component: &str,
        kind: ComponentKind,
        direction: Direction,
    ) -> ResolvedPolicies {
        match self.components.get(component) {
            Some(target) => self.resolve(match direction {
                Direction::Inbound => &target.names.inbound,
                Direction::Outbound => &target.names.outbound,
            }),
            None => {
                let specific =
                    format!("{}Component{}", kind.policy_word(), direction.policy_word());
                let directional = format!("Component{}", direction.policy_word());
                self.resolve_defaults(&[&specific, &directional, "Component"])
            }
        }
    }

    pub fn pubsub_inbound_retry(&self, component: &str) -> Option<RetryPolicy> {
        self.component_policies(component, ComponentKind::Pubsub, Direction::Inbound)
            .retry
    }

    pub fn binding_inbound_retry(&self, component: &str) -> Option<RetryPolicy> {
        self.component_policies(component, ComponentKind::Binding, Direction::Inbound)
            .retry
    }

    pub fn pubsub_inbound_timeout(&self, component: &str) -> Option<Duration> {
        self.component_policies(component, ComponentKind::Pubsub, Direction::Inbound)
            .timeout
    }

    pub fn binding_inbound_timeout(&self, component: &str) -> Option<Duration> {
        self.component_policies(component, ComponentKind::Binding, Direction::Inbound)
            .timeout
    }

    fn resolve(&self, names: &PolicyNames) -> ResolvedPolicies {
        ResolvedPolicies {
            timeout: names
                .timeout
                .as_ref()
                .and_then(|name| self.timeouts.get(name).copied()),
            retry: names
                .retry
                .as_ref()
                .and_then(|name| self.retries.get(name).cloned()),
            circuit_breaker: names
                .circuit_breaker
                .as_ref()
                .and_then(|name| self.circuit_breakers.get(name).cloned()),
        }
    }

    /// The first `Default<level>…Policy` defined for each kind of policy,
    /// trying `levels` in order and then the plain `Default…Policy`.
    fn resolve_defaults(&self, levels: &[&str]) -> ResolvedPolicies {
        let candidates = |suffix: &str| -> Vec<String> {
            levels
                .iter()
                .chain(std::iter::once(&""))
                .map(|level| format!("Default{level}{suffix}"))
                .collect()
        };
        let first = |suffix: &str, defined: &dyn Fn(&str) -> bool| {
            candidates(suffix).into_iter().find(|name| defined(name))
        };
        let names = PolicyNames {
            timeout: first("TimeoutPolicy", &|name| self.timeouts.contains_key(name)),
            retry: first("RetryPolicy", &|name| self.retries.contains_key(name)),
            circuit_breaker: first("CircuitBreakerPolicy", &|name| {
                self.circuit_breakers.contains_key(name)
            }),
        };
        self.resolve(&names)
    }

    fn check_names(
        &self,
        names: &PolicyNames,
        source: &Path,
        field: &str,
    ) -> Result<(), ResiliencyError> {
        let checks = [
            (
                "timeout",
                &names.timeout,
                self.timeouts.keys().collect::<Vec<_>>(),
            ),
            ("retry", &names.retry, self.retries.keys().collect()),
            (
                "circuitBreaker",
                &names.circuit_breaker,
                self.circuit_breakers.keys().collect(),
            ),
        ];
        for (kind, name, defined) in checks {
            let Some(name) = name else { continue };
            if !defined.contains(&name) {
                let known = if defined.is_empty() {
                    "none are defined".to_string()
                } else {
                    format!(
                        "defined: {}",
                        defined
                            .iter()
                            .map(|n| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                return Err(ResiliencyError::new(
                    &format!("{}: {field}.{kind}", source.display()),
                    format!("no {kind} policy named {name:?} ({known})"),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
