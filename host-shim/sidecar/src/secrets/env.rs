//! `secretstores.local.env`: environment variables as secrets.

use std::collections::BTreeMap;

use async_trait::async_trait;

use super::{Secret, SecretError, SecretStore};

/// Secret name = variable name, after the optional `prefix` (which the app
/// leaves out). `APP_API_TOKEN` and `DAPR_*` (any case, prefix included)
/// are never handed out; they read as not found.
#[derive(Debug, Clone)]
pub struct EnvSecretStore {
    vars: BTreeMap<String, String>,
    prefix: String,
}

impl EnvSecretStore {
    pub fn new(vars: impl IntoIterator<Item = (String, String)>, prefix: Option<&str>) -> Self {
        Self {
            vars: vars.into_iter().collect(),
            prefix: prefix.unwrap_or_default().to_string(),
        }
    }

    /// A snapshot of this process's environment; variables whose name or
    /// value is not UTF-8 are left out.
    pub fn from_env(prefix: Option<&str>) -> Self {
        let vars = std::env::vars_os().filter_map(|(name, value)| {
            Some((name.into_string().ok()?, value.into_string().ok()?))
        });
        Self::new(vars, prefix)
    }

    fn visible_name<'a>(&self, variable: &'a str) -> Option<&'a str> {
        let name = variable.strip_prefix(self.prefix.as_str())?;
        (!name.is_empty() && is_allowed(variable)).then_some(name)
    }
}

fn is_allowed(variable: &str) -> bool {
    let upper = variable.to_ascii_uppercase();
    upper != "APP_API_TOKEN" && !upper.starts_with("DAPR_")
}

#[async_trait]
impl SecretStore for EnvSecretStore {
    async fn get(&self, name: &str) -> Result<Option<Secret>, SecretError> {
        let variable = format!("{}{name}", self.prefix);
        if name.is_empty() || !is_allowed(&variable) {
            return Ok(None);
        }
        Ok(self
            .vars
            .get(&variable)
            .map(|value| Secret::from([(name.to_string(), value.clone())])))
    }

    async fn bulk(&self) -> Result<BTreeMap<String, Secret>, SecretError> {
        Ok(self
            .vars
            .iter()
            .filter_map(|(variable, value)| {
                let name = self.visible_name(variable)?;
                Some((
                    name.to_string(),
                    Secret::from([(name.to_string(), value.clone())]),
                ))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(prefix: Option<&str>) -> EnvSecretStore {
        let vars = [
            ("DB_PASSWORD", "hunter2"),
            ("MYAPP_API_KEY", "k-123"),
            ("MYAPP_", "prefix only"),
            ("APP_API_TOKEN", "app-token"),
            ("DAPR_API_TOKEN", "dapr-token"),
            ("dapr_http_port", "3500"),
            ("MYAPP_DAPR_SECRET", "hidden"),
        ];
        EnvSecretStore::new(vars.map(|(k, v)| (k.to_string(), v.to_string())), prefix)
    }

    fn secret(name: &str, value: &str) -> Secret {
        Secret::from([(name.to_string(), value.to_string())])
    }

    #[tokio::test]
    async fn get_returns_name_and_value() {
        let store = store(None);
        assert_eq!(
            store.get("DB_PASSWORD").await.unwrap(),
            Some(secret("DB_PASSWORD", "hunter2"))
        );
        assert_eq!(store.get("NOT_SET").await.unwrap(), None);
        assert_eq!(
            store.get("db_password").await.unwrap(),
            None,
            "names are case-sensitive"
        );
    }

    #[tokio::test]
    async fn tokens_and_dapr_variables_are_not_found() {
        let store = store(None);
        for name in ["APP_API_TOKEN", "DAPR_API_TOKEN", "dapr_http_port"] {
            assert_eq!(store.get(name).await.unwrap(), None, "{name}");
        }
        let bulk = store.bulk().await.unwrap();
        assert!(!bulk.contains_key("APP_API_TOKEN") && !bulk.contains_key("DAPR_API_TOKEN"));
        assert!(!bulk.contains_key("dapr_http_port"));
    }

    #[tokio::test]
    async fn prefix_is_stripped_and_limits_what_is_visible() {
        let store = store(Some("MYAPP_"));
        assert_eq!(
            store.get("API_KEY").await.unwrap(),
            Some(secret("API_KEY", "k-123"))
        );
        assert_eq!(store.get("MYAPP_API_KEY").await.unwrap(), None);
        assert_eq!(store.get("DB_PASSWORD").await.unwrap(), None);
        assert_eq!(store.get("").await.unwrap(), None);
        // The check is on the whole variable name, MYAPP_DAPR_SECRET, as in daprd.
        assert_eq!(
            store.get("DAPR_SECRET").await.unwrap(),
            Some(secret("DAPR_SECRET", "hidden"))
        );
        let bulk = store.bulk().await.unwrap();
        assert_eq!(
            bulk,
            BTreeMap::from([
                ("API_KEY".to_string(), secret("API_KEY", "k-123")),
                ("DAPR_SECRET".to_string(), secret("DAPR_SECRET", "hidden")),
            ])
        );
    }

    #[tokio::test]
    async fn a_dapr_prefix_hides_everything() {
        let store = store(Some("DAPR_"));
        assert_eq!(store.get("API_TOKEN").await.unwrap(), None);
        assert!(store.bulk().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn bulk_has_the_daprd_shape() {
        let bulk = store(None).bulk().await.unwrap();
        assert_eq!(bulk["DB_PASSWORD"], secret("DB_PASSWORD", "hunter2"));
        assert_eq!(
            serde_json::to_value(&bulk["DB_PASSWORD"]).unwrap(),
            serde_json::json!({"DB_PASSWORD": "hunter2"})
        );
    }

    #[tokio::test]
    async fn from_env_reads_the_process_environment() {
        let store = EnvSecretStore::from_env(None);
        let path = std::env::var("PATH").unwrap();
        assert_eq!(
            store.get("PATH").await.unwrap(),
            Some(secret("PATH", &path))
        );
    }
}
