//! Turns loaded `Component` resources into running backends: secret stores
//! first (other components' `secretKeyRef`s resolve through them), then
//! state stores, brokers and bindings.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::bindings::cron::Schedule;
use crate::bindings::http::HttpBinding;
use crate::pubsub::Broker;
use crate::pubsub::kafka::KafkaBroker;
use crate::pubsub::kafka::settings::KafkaSettings;
use crate::pubsub::redis::RedisBroker;
use crate::pubsub::sqlite::SqliteBroker;
use crate::resiliency::RetryPolicy;
use crate::resources::{ComponentSpec, Metadata, MetadataValue, ResourceError, Resources};
use crate::secrets::SecretStore;
use crate::secrets::env::EnvSecretStore;
use crate::secrets::file::FileSecretStore;
use crate::state::StateStore;
use crate::state::redis::RedisStateStore;
use crate::state::sqlite::SqliteStateStore;

pub const SUPPORTED_TYPES: [&str; 9] = [
    "state.redis",
    "state.sqlite",
    "pubsub.redis",
    "pubsub.sqlite",
    "pubsub.kafka",
    "bindings.cron",
    "bindings.http",
    "secretstores.local.env",
    "secretstores.local.file",
];

pub struct StateComponent {
    pub store: Arc<dyn StateStore>,
    pub key_prefix: KeyPrefix,
    pub spec: ComponentSpec,
}

pub struct PubSubComponent {
    pub broker: Arc<dyn Broker>,
    pub consumer_id: Option<String>,
    pub processing_timeout: Duration,
    pub redeliver_interval: Duration,
    pub concurrency: usize,
    /// How the broker itself retries a message the app failed (Kafka's `consumeRetryEnabled`).
    pub consume_retry: Option<RetryPolicy>,
    pub allowed_topics: Option<Vec<String>>,
    /// `publishingScopes`: app-id → topics it may publish to.
    pub publishing_scopes: BTreeMap<String, Vec<String>>,
    pub spec: ComponentSpec,
}

pub struct CronBinding {
    pub schedule: Schedule,
    pub route: String,
    /// `direction` includes `input`: skip the OPTIONS probe.
    pub declared_input: bool,
    pub spec: ComponentSpec,
}

pub struct SecretComponent {
    pub store: Arc<dyn SecretStore>,
    pub spec: ComponentSpec,
}

/// How state keys are prefixed (`keyPrefix` metadata).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyPrefix {
    AppId,
    Name,
    Namespace,
    None,
    Custom(String),
}

impl KeyPrefix {
    fn parse(value: Option<&str>) -> Self {
        match value.map(str::to_ascii_lowercase).as_deref() {
            None | Some("appid") => Self::AppId,
            Some("name") => Self::Name,
            Some("namespace") => Self::Namespace,
            Some("none") => Self::None,
            Some(_) => Self::Custom(value.unwrap_or_default().to_string()),
        }
    }

    pub fn apply(&self, app_id: &str, store: &str, key: &str) -> String {
        match self {
            Self::AppId => format!("{app_id}||{key}"),
            Self::Name => format!("{store}||{key}"),
            Self::Namespace => match std::env::var("NAMESPACE").ok().filter(|n| !n.is_empty()) {
                Some(namespace) => format!("{namespace}.{app_id}||{key}"),
                None => format!("{app_id}||{key}"),
            },
            Self::None => key.to_string(),
            Self::Custom(prefix) => format!("{prefix}||{key}"),
        }
    }
}

#[derive(Default)]
pub struct Registry {
    pub state: BTreeMap<String, StateComponent>,
    pub pubsub: BTreeMap<String, PubSubComponent>,
    pub secrets: BTreeMap<String, SecretComponent>,
    pub cron: Vec<Arc<CronBinding>>,
    pub http: BTreeMap<String, (HttpBinding, ComponentSpec)>,
}

/// Replaces Dapr's metadata templates for one app-id.
pub fn expand_template(value: &str, app_id: &str) -> String {
    let namespace = std::env::var("NAMESPACE").unwrap_or_default();
    let pod = std::env::var("POD_NAME").unwrap_or_else(|_| app_id.to_string());
    value
        .replace("{appID}", app_id)
        .replace("{namespace}", &format!("{namespace}.{app_id}"))
        .replace("{podName}", &pod)
        .replace("{uuid}", &uuid::Uuid::new_v4().to_string())
}

impl Registry {
    pub async fn build(
        resources: &Resources,
        app_ids: &[String],
        data_dir: &Path,
    ) -> Result<Self, ResourceError> {
        let mut registry = Registry::default();
        let in_scope: Vec<&ComponentSpec> = resources
            .components
            .iter()
            .filter(|c| app_ids.iter().any(|id| c.in_scope(id)))
            .collect();
        for spec in &in_scope {
            if !SUPPORTED_TYPES.contains(&spec.kind.as_str()) && !spec.ignore_errors {
                return Err(spec.error(
                    "spec.type",
                    format!(
                        "{} is not supported by docket (supported: {})",
                        spec.kind,
                        SUPPORTED_TYPES.join(", ")
                    ),
                ));
            }
        }
        let (secret_specs, other_specs): (Vec<&ComponentSpec>, Vec<&ComponentSpec>) = in_scope
            .into_iter()
            .partition(|c| c.kind.starts_with("secretstores."));
        for spec in secret_specs {
            let metadata = registry.metadata_of(spec).await?;
            let store = secret_store(spec, &metadata)?;
            registry.secrets.insert(
                spec.name.clone(),
                SecretComponent {
                    store,
                    spec: spec.clone(),
                },
            );
        }
        for spec in other_specs {
            let metadata = registry.metadata_of(spec).await?;
            let app_id = app_ids
                .iter()
                .find(|id| spec.in_scope(id))
                .map(String::as_str)
                .unwrap_or_default();
            registry.add(spec, &metadata, data_dir, app_id).await?;
        }
        Ok(registry)
    }

    /// The component's metadata with every `secretKeyRef` looked up in the
    /// secret store its `auth.secretStore` names.
    async fn metadata_of(&self, spec: &ComponentSpec) -> Result<Metadata, ResourceError> {
        let mut values = Vec::new();
        for (name, value) in &spec.metadata {
            let text = match value {
                MetadataValue::Value(text) => text.clone(),
                MetadataValue::SecretRef { name: secret, key } => {
                    self.secret_value(spec, name, secret, key).await?
                }
            };
            values.push((name.clone(), text));
        }
        Ok(Metadata { values })
    }

    async fn secret_value(
        &self,
        spec: &ComponentSpec,
        field_name: &str,
        secret: &str,
        key: &str,
    ) -> Result<String, ResourceError> {
        let store_name = spec.secret_store.as_deref().unwrap_or_default();
        let field = format!("spec.metadata[{field_name}].secretKeyRef");
        let store = self.secrets.get(store_name).ok_or_else(|| {
            spec.error(
                "auth.secretStore",
                format!("no secret store {store_name:?} is loaded"),
            )
        })?;
        let found = store
            .store
            .get(secret)
            .await
            .map_err(|e| spec.error(&field, e))?
            .ok_or_else(|| {
                spec.error(
                    &field,
                    format!("secret {secret:?} not found in {store_name:?}"),
                )
            })?;
        found
            .get(key)
            .cloned()
            .ok_or_else(|| spec.error(&field, format!("secret {secret:?} has no key {key:?}")))
    }

    async fn add(
        &mut self,
        spec: &ComponentSpec,
        metadata: &Metadata,
        data_dir: &Path,
        app_id: &str,
    ) -> Result<(), ResourceError> {
        let spec_owned = spec.clone();
        let backend_error = |e: anyhow::Error| spec.error("spec.metadata", format!("{e:#}"));
        match spec.kind.as_str() {
            "state.redis" | "state.sqlite" => {
                let ttl = metadata
                    .number::<u64>(spec, "ttlInSeconds")?
                    .map(Duration::from_secs);
                let store: Arc<dyn StateStore> = if spec.kind == "state.redis" {
                    Arc::new(
                        RedisStateStore::connect(&redis_url(spec, metadata)?, ttl)
                            .await
                            .map_err(backend_error)?,
                    )
                } else {
                    let path = sqlite_path(metadata, data_dir, "state", &spec.name)
                        .map_err(backend_error)?;
                    Arc::new(
                        SqliteStateStore::open(&path)
                            .map_err(backend_error)?
                            .with_default_ttl(ttl),
                    )
                };
                let key_prefix = KeyPrefix::parse(metadata.get("keyPrefix"));
                if matches!(&key_prefix, KeyPrefix::Custom(p) if p.contains("||")) {
                    return Err(spec.error("spec.metadata[keyPrefix]", "must not contain `||`"));
                }
                self.state.insert(
                    spec.name.clone(),
                    StateComponent {
                        store,
                        key_prefix,
                        spec: spec_owned,
                    },
                );
            }
            "pubsub.redis" | "pubsub.sqlite" | "pubsub.kafka" => {
                let mut consumer_id = metadata.get("consumerID").map(str::to_string);
                let mut consume_retry = None;
                let broker: Arc<dyn Broker> = match spec.kind.as_str() {
                    "pubsub.redis" => {
                        let max_len = metadata.number::<usize>(spec, "maxLenApprox")?;
                        Arc::new(
                            RedisBroker::connect(&redis_url(spec, metadata)?, max_len)
                                .await
                                .map_err(backend_error)?,
                        )
                    }
                    "pubsub.kafka" => {
                        let settings = KafkaSettings::parse(spec, metadata, app_id)?;
                        consumer_id = settings.consumer_group.clone();
                        consume_retry = settings.consume_retry.clone();
                        Arc::new(
                            KafkaBroker::connect(&spec.name, settings)
                                .await
                                .map_err(backend_error)?,
                        )
                    }
                    _ => {
                        let path = sqlite_path(metadata, data_dir, "pubsub", &spec.name)
                            .map_err(backend_error)?;
                        Arc::new(SqliteBroker::open(&path).map_err(backend_error)?)
                    }
                };
                let default_sweep = if spec.kind == "pubsub.redis" { 60 } else { 5 };
                self.pubsub.insert(
                    spec.name.clone(),
                    PubSubComponent {
                        broker,
                        consumer_id,
                        processing_timeout: metadata
                            .duration(spec, "processingTimeout")?
                            .unwrap_or(Duration::from_secs(15)),
                        redeliver_interval: metadata
                            .duration(spec, "redeliverInterval")?
                            .unwrap_or(Duration::from_secs(default_sweep)),
                        concurrency: metadata.number::<usize>(spec, "concurrency")?.unwrap_or(10),
                        consume_retry,
                        allowed_topics: metadata.get("allowedTopics").map(split_list),
                        publishing_scopes: parse_scopes(metadata.get("publishingScopes")),
                        spec: spec_owned,
                    },
                );
            }
            "bindings.cron" => {
                let text = metadata.require(spec, "schedule")?;
                let schedule =
                    Schedule::parse(text).map_err(|e| spec.error("spec.metadata[schedule]", e))?;
                let direction = metadata
                    .get("direction")
                    .unwrap_or_default()
                    .to_ascii_lowercase();
                self.cron.push(Arc::new(CronBinding {
                    schedule,
                    route: route_path(metadata.get("route").unwrap_or(&spec.name)),
                    declared_input: direction.split(',').any(|d| d.trim() == "input"),
                    spec: spec_owned,
                }));
            }
            "bindings.http" => {
                let binding = HttpBinding::from_metadata(metadata)
                    .map_err(|e| spec.error("spec.metadata", e))?;
                self.http.insert(spec.name.clone(), (binding, spec_owned));
            }
            _ => {}
        }
        Ok(())
    }

    /// Every component, for the metadata API: name, type, version, capabilities.
    pub fn describe(&self) -> Vec<(String, String, String, Vec<&'static str>)> {
        let mut all = Vec::new();
        for c in self.state.values() {
            all.push((&c.spec, vec!["ETAG", "TRANSACTIONAL", "TTL"]));
        }
        for c in self.pubsub.values() {
            all.push((&c.spec, vec![]));
        }
        for c in &self.cron {
            all.push((&c.spec, vec!["INPUT_BINDING"]));
        }
        for (_, spec) in self.http.values() {
            all.push((spec, vec!["OUTPUT_BINDING"]));
        }
        for c in self.secrets.values() {
            all.push((&c.spec, vec![]));
        }
        all.into_iter()
            .map(|(spec, caps)| {
                (
                    spec.name.clone(),
                    spec.kind.clone(),
                    spec.version.clone(),
                    caps,
                )
            })
            .collect()
    }
}

fn secret_store(
    spec: &ComponentSpec,
    plain: &Metadata,
) -> Result<Arc<dyn SecretStore>, ResourceError> {
    Ok(match spec.kind.as_str() {
        "secretstores.local.env" => Arc::new(EnvSecretStore::from_env(plain.get("prefix"))),
        _ => {
            let file = plain.require(spec, "secretsFile")?;
            let path = resolve_relative(spec, file);
            let separator = plain.get("nestedSeparator").unwrap_or(":");
            let multi = plain.bool(spec, "multiValued", false)?;
            Arc::new(
                FileSecretStore::load(&path, separator, multi)
                    .map_err(|e| spec.error("spec.metadata[secretsFile]", e))?,
            )
        }
    })
}

/// A relative file name in a resource is taken relative to the resource's folder.
fn resolve_relative(spec: &ComponentSpec, file: &str) -> PathBuf {
    let path = PathBuf::from(file);
    if path.is_absolute() {
        return path;
    }
    spec.file
        .parent()
        .map(|dir| dir.join(&path))
        .unwrap_or(path)
}

fn redis_url(spec: &ComponentSpec, metadata: &Metadata) -> Result<String, ResourceError> {
    let host = metadata.require(spec, "redisHost")?;
    let scheme = if metadata.bool(spec, "enableTLS", false)? {
        "rediss"
    } else {
        "redis"
    };
    let user = metadata.get("redisUsername").unwrap_or_default();
    let auth = match metadata.get("redisPassword") {
        Some(password) => format!("{}:{}@", encode(user), encode(password)),
        None => String::new(),
    };
    let db = metadata.number::<u32>(spec, "redisDB")?.unwrap_or(0);
    Ok(format!("{scheme}://{auth}{host}/{db}"))
}

/// Percent-encodes userinfo so passwords with `@` or `:` survive the URL.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// `connectionString` (a file path, optionally `file:`-prefixed) or a file
/// named after the component under the data dir; its folder is created.
fn sqlite_path(
    metadata: &Metadata,
    data_dir: &Path,
    kind: &str,
    name: &str,
) -> anyhow::Result<PathBuf> {
    let path = sqlite_file(metadata, data_dir, kind, name);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| anyhow::anyhow!("failed to create {}: {e}", dir.display()))?;
    }
    Ok(path)
}

fn sqlite_file(metadata: &Metadata, data_dir: &Path, kind: &str, name: &str) -> PathBuf {
    match metadata.get("connectionString") {
        Some(connection) => {
            let file = connection.strip_prefix("file:").unwrap_or(connection);
            let file = file.split('?').next().unwrap_or(file);
            let path = PathBuf::from(file);
            if path.is_absolute() {
                path
            } else {
                data_dir.join(path)
            }
        }
        None => data_dir.join(kind).join(format!("{name}.db")),
    }
}

fn route_path(route: &str) -> String {
    if route.starts_with('/') {
        route.to_string()
    } else {
        format!("/{route}")
    }
}

fn split_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty())
        .collect()
}

/// `"app1=t1,t2;app2="` → app1: [t1, t2], app2: [].
fn parse_scopes(text: Option<&str>) -> BTreeMap<String, Vec<String>> {
    text.unwrap_or_default()
        .split(';')
        .filter_map(|entry| entry.split_once('='))
        .map(|(app, topics)| (app.trim().to_string(), split_list(topics)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_keys_like_daprd() {
        assert_eq!(
            KeyPrefix::parse(None).apply("todo-api", "statestore", "k"),
            "todo-api||k"
        );
        assert_eq!(
            KeyPrefix::parse(Some("name")).apply("a", "statestore", "k"),
            "statestore||k"
        );
        assert_eq!(KeyPrefix::parse(Some("none")).apply("a", "s", "k"), "k");
        assert_eq!(
            KeyPrefix::parse(Some("shared")).apply("a", "s", "k"),
            "shared||k"
        );
    }

    #[test]
    fn parses_publishing_scopes_and_templates() {
        let scopes = parse_scopes(Some("app1=t1,t2;app2="));
        assert_eq!(scopes["app1"], ["t1", "t2"]);
        assert!(scopes["app2"].is_empty());
        assert_eq!(expand_template("{appID}-group", "notify"), "notify-group");
    }

    #[test]
    fn encodes_passwords_in_urls() {
        assert_eq!(encode("p@ss:w/rd"), "p%40ss%3Aw%2Frd");
    }

    const SECRET_STORE: &str = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: vault\nspec:\n  type: secretstores.local.file\n  version: v1\n  metadata:\n    - name: secretsFile\n      value: secrets.json\n    - name: multiValued\n      value: \"true\"\n";

    fn kafka_component(password_key: &str) -> String {
        format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: events\nspec:\n  type: pubsub.kafka\n  version: v1\n  metadata:\n    - name: brokers\n      value: kafka:9093\n    - name: authType\n      value: password\n    - name: saslMechanism\n      value: SHA-256\n    - name: saslUsername\n      secretKeyRef:\n        name: redpanda\n        key: username\n    - name: saslPassword\n      secretKeyRef:\n        name: redpanda\n        key: {password_key}\nauth:\n  secretStore: vault\n"
        )
    }

    /// The Kafka component's metadata with its secrets looked up, as
    /// `Registry::build` resolves it (without connecting to a broker).
    async fn kafka_metadata(
        password_key: &str,
    ) -> (ComponentSpec, Result<Metadata, ResourceError>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let files = [
            ("vault.yaml", SECRET_STORE.to_string()),
            ("events.yaml", kafka_component(password_key)),
            (
                "secrets.json",
                r#"{"redpanda": {"username": "docket", "password": "s3cret"}}"#.to_string(),
            ),
        ];
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        let resources = Resources::load(&[dir.path().to_path_buf()]).expect("resources");
        let mut registry = Registry::default();
        let (stores, others): (Vec<_>, Vec<_>) = resources
            .components
            .iter()
            .partition(|c| c.kind.starts_with("secretstores."));
        for spec in stores {
            let metadata = registry.metadata_of(spec).await.expect("store metadata");
            let store = secret_store(spec, &metadata).expect("store");
            registry.secrets.insert(
                spec.name.clone(),
                SecretComponent {
                    store,
                    spec: spec.clone(),
                },
            );
        }
        (others[0].clone(), registry.metadata_of(others[0]).await)
    }

    #[tokio::test]
    async fn kafka_credentials_come_through_secret_key_refs() {
        use crate::pubsub::kafka::settings::{Auth, Mechanism, Secret};
        let (spec, metadata) = kafka_metadata("password").await;
        let metadata = metadata.expect("metadata");
        let settings = KafkaSettings::parse(&spec, &metadata, "notify").expect("settings");
        assert_eq!(
            settings.auth,
            Auth::Password {
                username: "docket".into(),
                password: Secret("s3cret".into()),
                mechanism: Mechanism::ScramSha256,
            }
        );
        let missing = kafka_metadata("passphrase")
            .await
            .1
            .expect_err("no such key");
        let message = missing.to_string();
        assert!(
            message.contains("spec.metadata[saslPassword].secretKeyRef")
                && message.contains("no key \"passphrase\""),
            "{message}"
        );
    }
}
