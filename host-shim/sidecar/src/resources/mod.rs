//! Dapr resource files (`Component`, `Subscription`, `Resiliency`,
//! `Configuration`) read from one or more folders, as daprd reads
//! `--resources-path`. Problems stop startup naming the file and the field.

mod component;
mod subscription;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use component::{ComponentSpec, Metadata, MetadataValue};
pub use subscription::{
    RawRoutes, SubscriptionRoutes, SubscriptionSpec, routes_of as subscription_routes,
};

use crate::resiliency::ResiliencySpec;

#[derive(Debug, thiserror::Error)]
#[error("{}: {message}", path.display())]
pub struct ResourceError {
    pub path: PathBuf,
    pub message: String,
}

impl ResourceError {
    pub fn new(path: &Path, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

/// Everything read from the resource folders.
#[derive(Debug, Default)]
pub struct Resources {
    pub components: Vec<ComponentSpec>,
    pub subscriptions: Vec<SubscriptionSpec>,
    pub resiliency: Vec<(PathBuf, ResiliencySpec)>,
    /// Names of `Configuration` resources seen (accepted; tracing and
    /// feature flags are not interpreted).
    pub configurations: Vec<String>,
}

#[derive(Deserialize)]
struct Header {
    #[serde(rename = "apiVersion")]
    api_version: Option<String>,
    kind: Option<String>,
}

impl Resources {
    /// Reads every `.yaml`/`.yml` file directly inside each folder, in name order.
    pub fn load(folders: &[PathBuf]) -> Result<Self, ResourceError> {
        let mut resources = Resources::default();
        for folder in folders {
            let mut files: Vec<PathBuf> = std::fs::read_dir(folder)
                .map_err(|e| {
                    ResourceError::new(folder, format!("cannot read resources folder: {e}"))
                })?
                .filter_map(|entry| entry.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|ext| ext == "yaml" || ext == "yml")
                })
                .collect();
            files.sort();
            for file in files {
                resources.load_file(&file)?;
            }
        }
        resources.check_unique_names()?;
        Ok(resources)
    }

    fn load_file(&mut self, path: &Path) -> Result<(), ResourceError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| ResourceError::new(path, e.to_string()))?;
        for (index, document) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
            let value = serde_yaml_ng::Value::deserialize(document)
                .map_err(|e| ResourceError::new(path, format!("document {}: {e}", index + 1)))?;
            if value.is_null() {
                continue;
            }
            self.load_document(path, value)?;
        }
        Ok(())
    }

    fn load_document(
        &mut self,
        path: &Path,
        value: serde_yaml_ng::Value,
    ) -> Result<(), ResourceError> {
        let header: Header = serde_yaml_ng::from_value(value.clone())
            .map_err(|e| ResourceError::new(path, e.to_string()))?;
        let api_version = header
            .api_version
            .ok_or_else(|| ResourceError::new(path, "`apiVersion` is required"))?;
        let kind = header
            .kind
            .ok_or_else(|| ResourceError::new(path, "`kind` is required"))?;
        let expect_version = |allowed: &[&str]| {
            if allowed.contains(&api_version.as_str()) {
                Ok(())
            } else {
                Err(ResourceError::new(
                    path,
                    format!("`apiVersion`: {kind} must be one of {allowed:?}, not {api_version:?}"),
                ))
            }
        };
        match kind.as_str() {
            "Component" => {
                expect_version(&["dapr.io/v1alpha1"])?;
                self.components.push(ComponentSpec::from_yaml(path, value)?);
            }
            "Subscription" => {
                expect_version(&["dapr.io/v2alpha1", "dapr.io/v1alpha1"])?;
                self.subscriptions
                    .push(SubscriptionSpec::from_yaml(path, value)?);
            }
            "Resiliency" => {
                expect_version(&["dapr.io/v1alpha1"])?;
                let spec =
                    ResiliencySpec::from_yaml(value).map_err(|e| ResourceError::new(path, e))?;
                self.resiliency.push((path.to_path_buf(), spec));
            }
            "Configuration" => {
                expect_version(&["dapr.io/v1alpha1"])?;
                let name = value
                    .get("metadata")
                    .and_then(|m| m.get("name"))
                    .and_then(|n| n.as_str())
                    .unwrap_or_default()
                    .to_string();
                self.configurations.push(name);
            }
            // The Kustomize index that lets `kubectl` apply the same folder;
            // daprd's loader skips what is not a Dapr kind as well.
            "Kustomization" if api_version.starts_with("kustomize.config.k8s.io/") => {}
            other => {
                return Err(ResourceError::new(
                    path,
                    format!(
                        "`kind`: {other:?} is not a Dapr resource docket reads (Component, Subscription, Resiliency, Configuration)"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_unique_names(&self) -> Result<(), ResourceError> {
        let mut seen: std::collections::HashMap<&str, &Path> = std::collections::HashMap::new();
        for component in &self.components {
            if let Some(first) = seen.insert(&component.name, &component.file) {
                return Err(ResourceError::new(
                    &component.file,
                    format!(
                        "`metadata.name`: component {:?} is also defined in {}",
                        component.name,
                        first.display()
                    ),
                ));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).expect("write");
        }
        dir
    }

    const CRON: &str = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: tick\nspec:\n  type: bindings.cron\n  version: v1\n  metadata:\n    - name: schedule\n      value: \"@every 1s\"\n";

    #[test]
    fn a_kustomization_beside_the_resources_is_skipped() {
        let dir = folder(&[
            ("tick.yaml", CRON),
            (
                "kustomization.yaml",
                "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - tick.yaml\n",
            ),
        ]);
        let resources = Resources::load(&[dir.path().to_path_buf()]).expect("loads");
        assert_eq!(resources.components.len(), 1);
    }

    #[test]
    fn other_kinds_are_refused_by_name() {
        let dir = folder(&[(
            "deployment.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: x\n",
        )]);
        let Err(error) = Resources::load(&[dir.path().to_path_buf()]) else {
            panic!("a Deployment is not a Dapr resource");
        };
        assert!(
            error
                .to_string()
                .contains("\"Deployment\" is not a Dapr resource"),
            "{error}"
        );
    }
}
