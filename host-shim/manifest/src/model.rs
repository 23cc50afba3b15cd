//! The validated application, as the runtime consumes it.

use std::collections::BTreeMap;
use std::path::PathBuf;

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
