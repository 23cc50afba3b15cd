//! The validated application, as the runtime consumes it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::ManifestError;
use crate::route::RoutePattern;
use crate::template::Template;

/// A validated `spin.toml`.
#[derive(Debug, Clone)]
pub struct App {
    /// The manifest file the app was read from.
    pub path: PathBuf,
    /// The folder relative paths (sources, build workdirs) start from.
    pub base_dir: PathBuf,
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    pub variables: BTreeMap<String, Variable>,
    pub triggers: Vec<HttpTrigger>,
    pub components: BTreeMap<String, Component>,
}

/// An application-level `[variables]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub default: Option<String>,
    pub required: bool,
    pub secret: bool,
}

#[derive(Debug, Clone)]
pub struct HttpTrigger {
    pub route: TriggerRoute,
    pub handler: HttpHandler,
}

impl App {
    /// Keeps only the components `ids` names and the triggers that reach
    /// them (static responses stay), as Spin does for
    /// `SPIN_COMPONENTS_TO_RETAIN`; an empty list keeps everything.
    pub fn retain_components(&mut self, ids: &[String]) -> Result<(), ManifestError> {
        if ids.is_empty() {
            return Ok(());
        }
        if let Some(unknown) = ids.iter().find(|id| !self.components.contains_key(*id)) {
            return Err(ManifestError::Invalid {
                path: self.path.clone(),
                field: "component".into(),
                message: format!(
                    "no component {unknown:?} to keep (the manifest has {})",
                    self.components
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        }
        self.components.retain(|id, _| ids.contains(id));
        self.triggers.retain(|trigger| match &trigger.handler {
            HttpHandler::Component(id) => ids.contains(id),
            HttpHandler::Static(_) => true,
        });
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub enum TriggerRoute {
    Pattern(RoutePattern),
    /// `route = { private = true }`: reachable only from inside the app.
    Private,
}

#[derive(Debug, Clone)]
pub enum HttpHandler {
    Component(String),
    Static(StaticResponse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticResponse {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Component {
    pub id: String,
    pub description: Option<String>,
    /// Absolute path of the `.wasm` file.
    pub source: PathBuf,
    pub allowed_outbound_hosts: Vec<Template>,
    pub key_value_stores: Vec<String>,
    pub sqlite_databases: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub variables: BTreeMap<String, Template>,
    pub build: Option<BuildConfig>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildConfig {
    /// One or more shell commands, run in order.
    pub commands: Vec<String>,
    /// Absolute working directory (the manifest folder unless `workdir` is set).
    pub workdir: PathBuf,
    pub watch: Vec<String>,
}
