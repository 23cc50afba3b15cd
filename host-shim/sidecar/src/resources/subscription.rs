//! The declarative `Subscription` resource (v2alpha1, and v1alpha1's `route`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::ResourceError;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubscriptionRoutes {
    pub rules: Vec<(String, String)>,
    pub default: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SubscriptionSpec {
    pub file: Option<PathBuf>,
    pub name: String,
    pub pubsub: String,
    pub topic: String,
    pub routes: SubscriptionRoutes,
    pub dead_letter_topic: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub scopes: Vec<String>,
}

#[derive(Deserialize)]
struct RawSubscription {
    metadata: RawMeta,
    spec: RawSpec,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Deserialize)]
struct RawMeta {
    name: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSpec {
    pubsubname: String,
    topic: String,
    routes: Option<RawRoutes>,
    route: Option<String>,
    dead_letter_topic: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

#[derive(Deserialize)]
pub struct RawRoutes {
    #[serde(default)]
    pub rules: Vec<RawRule>,
    pub default: Option<String>,
}

#[derive(Deserialize)]
pub struct RawRule {
    #[serde(rename = "match")]
    pub condition: String,
    pub path: String,
}

impl SubscriptionSpec {
    pub fn from_yaml(path: &Path, value: serde_yaml_ng::Value) -> Result<Self, ResourceError> {
        let raw: RawSubscription = serde_yaml_ng::from_value(value)
            .map_err(|e| ResourceError::new(path, format!("Subscription: {e}")))?;
        let name = raw.metadata.name;
        let routes = routes_of(raw.spec.routes, raw.spec.route);
        let spec = Self {
            file: Some(path.to_path_buf()),
            name: name.clone(),
            pubsub: raw.spec.pubsubname,
            topic: raw.spec.topic,
            routes,
            dead_letter_topic: raw.spec.dead_letter_topic.filter(|t| !t.is_empty()),
            metadata: raw.spec.metadata,
            scopes: raw.scopes,
        };
        spec.validate().map_err(|message| {
            ResourceError::new(path, format!("Subscription {name:?}: {message}"))
        })?;
        Ok(spec)
    }

    pub fn validate(&self) -> Result<(), String> {
        if self.pubsub.is_empty() {
            return Err("`spec.pubsubname` is required".into());
        }
        if self.topic.is_empty() {
            return Err("`spec.topic` is required".into());
        }
        if self.routes.default.is_none() && self.routes.rules.is_empty() {
            return Err("`spec.routes` needs rules or a default route".into());
        }
        for (condition, _) in &self.routes.rules {
            crate::routing::Rule::parse(condition)
                .map_err(|e| format!("rule {condition:?}: {e}"))?;
        }
        Ok(())
    }
}

/// v2 `routes` wins; a v1 `route` is the default otherwise.
pub fn routes_of(routes: Option<RawRoutes>, route: Option<String>) -> SubscriptionRoutes {
    let (rules, default) = match routes {
        Some(routes) => (
            routes
                .rules
                .into_iter()
                .map(|r| (r.condition, r.path))
                .collect(),
            routes.default.filter(|d| !d.is_empty()).or(route),
        ),
        None => (Vec::new(), route),
    };
    SubscriptionRoutes {
        rules,
        default: default.filter(|d| !d.is_empty()),
    }
}
