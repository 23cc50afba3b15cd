//! The `Component` resource: type, version, metadata (values or
//! `secretKeyRef`s), `auth.secretStore` and `scopes`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::ResourceError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MetadataValue {
    Value(String),
    SecretRef { name: String, key: String },
}

#[derive(Debug, Clone)]
pub struct ComponentSpec {
    pub file: PathBuf,
    pub name: String,
    pub kind: String,
    pub version: String,
    pub metadata: Vec<(String, MetadataValue)>,
    pub secret_store: Option<String>,
    pub scopes: Vec<String>,
    pub init_timeout: Option<String>,
    pub ignore_errors: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    #[serde(rename = "apiVersion")]
    _api_version: String,
    #[serde(rename = "kind")]
    _kind: String,
    metadata: RawObjectMeta,
    spec: RawSpec,
    #[serde(default)]
    auth: Option<RawAuth>,
    #[serde(default)]
    scopes: Vec<String>,
}

#[derive(Deserialize)]
struct RawObjectMeta {
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSpec {
    #[serde(rename = "type")]
    kind: String,
    version: String,
    #[serde(default)]
    metadata: Vec<RawMetadataItem>,
    init_timeout: Option<String>,
    #[serde(default)]
    ignore_errors: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawMetadataItem {
    name: String,
    value: Option<serde_yaml_ng::Value>,
    secret_key_ref: Option<RawSecretKeyRef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSecretKeyRef {
    name: String,
    key: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawAuth {
    secret_store: String,
}

fn scalar_text(value: &serde_yaml_ng::Value) -> Option<String> {
    match value {
        serde_yaml_ng::Value::String(s) => Some(s.clone()),
        serde_yaml_ng::Value::Number(n) => Some(n.to_string()),
        serde_yaml_ng::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

impl ComponentSpec {
    pub fn from_yaml(path: &Path, value: serde_yaml_ng::Value) -> Result<Self, ResourceError> {
        let raw: RawComponent = serde_yaml_ng::from_value(value)
            .map_err(|e| ResourceError::new(path, format!("Component: {e}")))?;
        let name = raw.metadata.name;
        let err = |field: &str, message: String| {
            ResourceError::new(path, format!("Component {name:?}: `{field}`: {message}"))
        };
        if name.is_empty() {
            return Err(ResourceError::new(
                path,
                "Component: `metadata.name` must not be empty",
            ));
        }
        let mut metadata = Vec::new();
        for item in raw.spec.metadata {
            let field = format!("spec.metadata[{}]", item.name);
            let value = match (item.value, item.secret_key_ref) {
                (Some(value), None) => {
                    MetadataValue::Value(scalar_text(&value).ok_or_else(|| {
                        err(&field, "value must be a string, number or boolean".into())
                    })?)
                }
                (None, Some(reference)) => MetadataValue::SecretRef {
                    key: reference.key.unwrap_or_else(|| reference.name.clone()),
                    name: reference.name,
                },
                (None, None) => MetadataValue::Value(String::new()),
                (Some(_), Some(_)) => {
                    return Err(err(
                        &field,
                        "set either `value` or `secretKeyRef`, not both".into(),
                    ));
                }
            };
            metadata.push((item.name, value));
        }
        let secret_store = raw.auth.map(|auth| auth.secret_store);
        if secret_store.is_none()
            && metadata
                .iter()
                .any(|(_, v)| matches!(v, MetadataValue::SecretRef { .. }))
        {
            return Err(err(
                "auth.secretStore",
                "required when metadata uses secretKeyRef".into(),
            ));
        }
        if raw.spec.version.is_empty() {
            return Err(err("spec.version", "must not be empty (use v1)".into()));
        }
        Ok(Self {
            file: path.to_path_buf(),
            name,
            kind: raw.spec.kind,
            version: raw.spec.version,
            metadata,
            secret_store,
            scopes: raw.scopes,
            init_timeout: raw.spec.init_timeout,
            ignore_errors: raw.spec.ignore_errors,
        })
    }

    /// Whether `app_id` may use this component (no scopes = every app).
    pub fn in_scope(&self, app_id: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|s| s == app_id)
    }

    pub fn error(&self, field: &str, message: impl std::fmt::Display) -> ResourceError {
        ResourceError::new(
            &self.file,
            format!("Component {:?}: `{field}`: {message}", self.name),
        )
    }
}

/// Resolved metadata of one component: plain strings, secrets already looked up.
#[derive(Debug, Clone, Default)]
pub struct Metadata {
    pub values: Vec<(String, String)>,
}

impl Metadata {
    /// Metadata names are case-insensitive in Dapr.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub fn require(&self, spec: &ComponentSpec, name: &str) -> Result<&str, ResourceError> {
        self.get(name)
            .ok_or_else(|| spec.error(&format!("spec.metadata[{name}]"), "is required"))
    }

    pub fn bool(
        &self,
        spec: &ComponentSpec,
        name: &str,
        default: bool,
    ) -> Result<bool, ResourceError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" => Ok(true),
                "false" | "0" | "no" => Ok(false),
                _ => Err(spec.error(
                    &format!("spec.metadata[{name}]"),
                    format!("{v:?} is not a boolean"),
                )),
            },
        }
    }

    pub fn duration(
        &self,
        spec: &ComponentSpec,
        name: &str,
    ) -> Result<Option<Duration>, ResourceError> {
        self.get(name)
            .map(|v| {
                crate::resiliency::parse_go_duration(v)
                    .or_else(|_| {
                        v.parse::<u64>()
                            .map(Duration::from_secs)
                            .map_err(|e| e.to_string())
                    })
                    .map_err(|e| {
                        spec.error(&format!("spec.metadata[{name}]"), format!("{v:?}: {e}"))
                    })
            })
            .transpose()
    }

    pub fn number<T: std::str::FromStr>(
        &self,
        spec: &ComponentSpec,
        name: &str,
    ) -> Result<Option<T>, ResourceError> {
        self.get(name)
            .map(|v| {
                v.parse::<T>().map_err(|_| {
                    spec.error(
                        &format!("spec.metadata[{name}]"),
                        format!("{v:?} is not a number"),
                    )
                })
            })
            .transpose()
    }
}
