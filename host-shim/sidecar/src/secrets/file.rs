//! `secretstores.local.file`: secrets from a JSON file, read once at start.

use std::collections::BTreeMap;
use std::path::Path;

use async_trait::async_trait;
use serde_json::{Map, Value};

use super::{Secret, SecretError, SecretStore};

pub const DEFAULT_NESTED_SEPARATOR: &str = ":";

/// Without `multiValued`, nested objects are flattened into single-valued
/// secrets named by their path (`db:password`); arrays use indexes
/// (`hosts:0`). With `multiValued`, each top-level key is one secret whose
/// keys are its nested values flattened the same way. Numbers and booleans
/// become their JSON text, `null` an empty string.
#[derive(Debug, Clone)]
pub struct FileSecretStore {
    secrets: BTreeMap<String, Secret>,
}

impl FileSecretStore {
    /// Reads `secretsFile`; an empty separator means the default `:`.
    pub fn load(
        path: &Path,
        nested_separator: &str,
        multi_valued: bool,
    ) -> Result<Self, SecretError> {
        let fail = |message: String| SecretError::File {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let json: Value =
            serde_json::from_str(&text).map_err(|e| fail(format!("not valid JSON: {e}")))?;
        Self::from_json(&json, nested_separator, multi_valued).map_err(fail)
    }

    pub fn from_json(
        json: &Value,
        nested_separator: &str,
        multi_valued: bool,
    ) -> Result<Self, String> {
        let Value::Object(top) = json else {
            return Err("the top level must be a JSON object".to_string());
        };
        let separator = if nested_separator.is_empty() {
            DEFAULT_NESTED_SEPARATOR
        } else {
            nested_separator
        };
        let mut secrets = BTreeMap::new();
        if multi_valued {
            for (name, value) in top {
                let secret = match value {
                    Value::Object(_) | Value::Array(_) => {
                        let mut keys = BTreeMap::new();
                        flatten(value, "", separator, &mut keys)?;
                        keys
                    }
                    leaf => Secret::from([(name.clone(), leaf_text(leaf))]),
                };
                secrets.insert(name.clone(), secret);
            }
        } else {
            let mut flat = BTreeMap::new();
            flatten_object(top, "", separator, &mut flat)?;
            for (name, value) in flat {
                secrets.insert(name.clone(), Secret::from([(name, value)]));
            }
        }
        Ok(Self { secrets })
    }
}

fn flatten(
    value: &Value,
    path: &str,
    separator: &str,
    into: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    match value {
        Value::Object(fields) => flatten_object(fields, path, separator, into),
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                flatten(
                    item,
                    &join(path, &index.to_string(), separator),
                    separator,
                    into,
                )?;
            }
            Ok(())
        }
        leaf => match into.insert(path.to_string(), leaf_text(leaf)) {
            // `{"a:b": 1, "a": {"b": 2}}` names one secret twice.
            Some(_) => Err(format!(
                "the key {path:?} appears twice once nested keys are joined with {separator:?}"
            )),
            None => Ok(()),
        },
    }
}

fn flatten_object(
    fields: &Map<String, Value>,
    path: &str,
    separator: &str,
    into: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for (key, value) in fields {
        flatten(value, &join(path, key, separator), separator, into)?;
    }
    Ok(())
}

fn join(path: &str, key: &str, separator: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}{separator}{key}")
    }
}

fn leaf_text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

#[async_trait]
impl SecretStore for FileSecretStore {
    async fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        Ok(self.secrets.get(name).cloned())
    }

    async fn bulk(&self) -> Result<BTreeMap<String, Secret>, SecretError> {
        Ok(self.secrets.clone())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn example() -> Value {
        json!({
            "redisPassword": "hunter2",
            "port": 6379,
            "tls": true,
            "empty": null,
            "db": {"user": "app", "password": "s3cret", "pool": {"max": 10}},
            "hosts": ["a.example", "b.example"]
        })
    }

    async fn as_json(store: &FileSecretStore, name: &str) -> Value {
        serde_json::to_value(store.get(name).await.unwrap()).unwrap()
    }

    #[tokio::test]
    async fn single_valued_flattens_nested_keys() {
        let store = FileSecretStore::from_json(&example(), ":", false).unwrap();
        assert_eq!(
            as_json(&store, "redisPassword").await,
            json!({"redisPassword": "hunter2"})
        );
        assert_eq!(
            as_json(&store, "db:password").await,
            json!({"db:password": "s3cret"})
        );
        assert_eq!(
            as_json(&store, "db:pool:max").await,
            json!({"db:pool:max": "10"})
        );
        assert_eq!(
            as_json(&store, "hosts:1").await,
            json!({"hosts:1": "b.example"})
        );
        assert_eq!(as_json(&store, "port").await, json!({"port": "6379"}));
        assert_eq!(as_json(&store, "tls").await, json!({"tls": "true"}));
        assert_eq!(as_json(&store, "empty").await, json!({"empty": ""}));
        assert_eq!(store.get("db").await.unwrap(), None);
        assert_eq!(store.get("missing").await.unwrap(), None);
    }

    #[tokio::test]
    async fn custom_separator() {
        let store = FileSecretStore::from_json(&example(), ".", false).unwrap();
        assert_eq!(as_json(&store, "db.user").await, json!({"db.user": "app"}));
        let default = FileSecretStore::from_json(&example(), "", false).unwrap();
        assert!(default.get("db:user").await.unwrap().is_some());
    }

    #[tokio::test]
    async fn multi_valued_keeps_one_level_as_the_secret() {
        let store = FileSecretStore::from_json(&example(), ":", true).unwrap();
        assert_eq!(
            as_json(&store, "db").await,
            json!({"user": "app", "password": "s3cret", "pool:max": "10"})
        );
        assert_eq!(
            as_json(&store, "redisPassword").await,
            json!({"redisPassword": "hunter2"})
        );
        assert_eq!(as_json(&store, "port").await, json!({"port": "6379"}));
        assert_eq!(
            as_json(&store, "hosts").await,
            json!({"0": "a.example", "1": "b.example"})
        );
        assert_eq!(store.get("db:user").await.unwrap(), None);
    }

    #[tokio::test]
    async fn bulk_has_the_daprd_shape() {
        let single =
            FileSecretStore::from_json(&json!({"a": "1", "n": {"b": "2"}}), ":", false).unwrap();
        assert_eq!(
            serde_json::to_value(single.bulk().await.unwrap()).unwrap(),
            json!({"a": {"a": "1"}, "n:b": {"n:b": "2"}})
        );
        let multi =
            FileSecretStore::from_json(&json!({"a": "1", "n": {"b": "2", "c": "3"}}), ":", true)
                .unwrap();
        assert_eq!(
            serde_json::to_value(multi.bulk().await.unwrap()).unwrap(),
            json!({"a": {"a": "1"}, "n": {"b": "2", "c": "3"}})
        );
    }

    #[test]
    fn keys_that_collide_after_flattening_are_rejected() {
        let error = FileSecretStore::from_json(&json!({"a:b": "1", "a": {"b": "2"}}), ":", false)
            .unwrap_err();
        assert!(error.contains("\"a:b\" appears twice"), "{error}");
    }

    #[tokio::test]
    async fn load_reads_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.json");
        std::fs::write(&path, r#"{"token": "abc", "nested": {"key": "v"}}"#).unwrap();
        let store = FileSecretStore::load(&path, ":", false).unwrap();
        assert_eq!(
            as_json(&store, "nested:key").await,
            json!({"nested:key": "v"})
        );
        assert_eq!(as_json(&store, "token").await, json!({"token": "abc"}));
    }

    #[test]
    fn load_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.json");
        let error = FileSecretStore::load(&missing, ":", false)
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with(&format!("secrets file {}: ", missing.display())),
            "{error}"
        );

        let cases = [
            ("broken.json", "{not json", "not valid JSON"),
            ("list.json", "[1, 2]", "must be a JSON object"),
        ];
        for (name, content, expected) in cases {
            let path = dir.path().join(name);
            std::fs::write(&path, content).unwrap();
            let error = FileSecretStore::load(&path, ":", false)
                .unwrap_err()
                .to_string();
            assert!(
                error.contains(&path.display().to_string()) && error.contains(expected),
                "{error}"
            );
        }
    }
}
