//! Application variables: `fermyon:spin/variables@2.0.0` and `wasi:config/store`.
//!
//! Values are resolved once at startup, in this order of precedence:
//! `--variable` flags, environment (`SPIN_VARIABLE_<NAME>`), the runtime
//! config's dotenv files, the manifest default. A required variable without a
//! value stops startup.

use std::collections::BTreeMap;

use anyhow::bail;
use docket_manifest::template::check_variable_name;
use docket_manifest::{App, Component};

use crate::bindings::fermyon::spin::variables;
use crate::bindings::wasi::config::store as config_store;
use crate::config::RuntimeConfig;
use crate::state::HostState;

/// Resolves every application variable or reports the ones without a value.
pub fn resolve_app_variables(
    app: &App,
    config: &RuntimeConfig,
    env: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    let mut values = BTreeMap::new();
    let mut missing = Vec::new();
    for (name, declared) in &app.variables {
        let env_name = format!(
            "{}{}",
            config.variable_env_prefix,
            name.to_ascii_uppercase()
        );
        let value = config
            .variable_overrides
            .get(name)
            .cloned()
            .or_else(|| env(&env_name))
            .or_else(|| config.runtime_config.dotenv_values.get(&env_name).cloned())
            .or_else(|| declared.default.clone());
        match value {
            Some(value) => {
                values.insert(name.clone(), value);
            }
            None => missing.push(format!("`{name}` (set {env_name})")),
        }
    }
    if !missing.is_empty() {
        bail!(
            "{}: required variable(s) without a value: {}",
            app.path.display(),
            missing.join(", ")
        );
    }
    Ok(values)
}

/// The variables one component can read, with templates expanded.
pub fn component_variables(
    component: &Component,
    app_values: &BTreeMap<String, String>,
) -> anyhow::Result<BTreeMap<String, String>> {
    component
        .variables
        .iter()
        .map(|(name, template)| {
            let value = template.resolve(app_values).map_err(|e| {
                anyhow::anyhow!("component `{}` variable `{name}`: {e}", component.id)
            })?;
            Ok((name.clone(), value))
        })
        .collect()
}

impl variables::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        if check_variable_name(&name).is_err() {
            return Ok(Err(variables::Error::InvalidName(name)));
        }
        Ok(self
            .component
            .variables
            .get(&name)
            .cloned()
            .ok_or_else(|| variables::Error::Undefined(format!("no variable for {name:?}"))))
    }
}

impl config_store::Host for HostState {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config_store::Error>> {
        Ok(Ok(self.component.variables.get(&key).cloned()))
    }

    async fn get_all(
        &mut self,
    ) -> wasmtime::Result<Result<Vec<(String, String)>, config_store::Error>> {
        Ok(Ok(self
            .component
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn app() -> App {
        docket_manifest::parse(
            Path::new("/x/spin.toml"),
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
             [variables]\nfrom_default = { default = \"d\" }\nfrom_env = { default = \"d\" }\n\
             from_flag = { required = true }\nfrom_dotenv = { required = true }\n\
             [component.c]\nsource = \"c.wasm\"\n[component.c.variables]\nurl = \"{{ from_env }}/{{ from_flag }}\"\n",
        )
        .unwrap()
    }

    fn config() -> RuntimeConfig {
        let mut config = RuntimeConfig::new("127.0.0.1:0".parse().unwrap(), "/tmp".into());
        config
            .variable_overrides
            .insert("from_flag".into(), "flag".into());
        config
            .runtime_config
            .dotenv_values
            .insert("SPIN_VARIABLE_FROM_DOTENV".into(), "dotenv".into());
        config
    }

    #[test]
    fn resolves_every_source_in_order() {
        let env = |name: &str| {
            (name == "SPIN_VARIABLE_FROM_ENV" || name == "SPIN_VARIABLE_FROM_FLAG")
                .then(|| "env".to_string())
        };
        let values = resolve_app_variables(&app(), &config(), env).unwrap();
        assert_eq!(values["from_default"], "d");
        assert_eq!(values["from_env"], "env");
        assert_eq!(values["from_flag"], "flag");
        assert_eq!(values["from_dotenv"], "dotenv");
        let app = app();
        let component = component_variables(&app.components["c"], &values).unwrap();
        assert_eq!(component["url"], "env/flag");
    }

    #[test]
    fn names_every_missing_required_variable() {
        let mut config = config();
        config.variable_overrides.clear();
        config.runtime_config.dotenv_values.clear();
        let err = resolve_app_variables(&app(), &config, |_| None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`from_flag` (set SPIN_VARIABLE_FROM_FLAG)"),
            "{err}"
        );
        assert!(err.contains("`from_dotenv`"), "{err}");
    }
}
