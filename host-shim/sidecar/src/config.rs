//! What the sidecar is told at start: who it serves, where the app listens,
//! where its resources and data live, and its tokens.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Maps a request path on the app to the app-id that serves it. `docket up`
/// hosts one app-id per component behind one address and routes by path.
pub type RouteOwner = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

#[derive(Clone)]
pub struct SidecarConfig {
    /// App-ids served; the first is used when a caller does not say who it is.
    pub app_ids: Vec<String>,
    /// Base URL of the app, e.g. `http://127.0.0.1:3000`.
    pub app_address: String,
    pub listen: SocketAddr,
    pub resources_paths: Vec<PathBuf>,
    pub data_dir: PathBuf,
    /// `DAPR_API_TOKEN`: required on every API call but the health checks.
    pub api_token: Option<String>,
    /// `APP_API_TOKEN`: sent to the app as `dapr-api-token`.
    pub app_token: Option<String>,
    /// Other app-ids reachable by service invocation, with their base URLs.
    pub invoke_targets: BTreeMap<String, String>,
    pub route_owner: Option<RouteOwner>,
    /// Timeout of one call into the app.
    pub app_timeout: Duration,
}

/// The header `docket up` adds to a component's calls to the sidecar so one
/// sidecar can speak for several app-ids; real daprd ignores it.
pub const CALLER_HEADER: &str = "docket-app-id";

impl SidecarConfig {
    pub fn new(
        app_ids: Vec<String>,
        app_address: String,
        listen: SocketAddr,
        data_dir: PathBuf,
    ) -> Self {
        Self {
            app_ids,
            app_address,
            listen,
            resources_paths: Vec::new(),
            data_dir,
            api_token: None,
            app_token: None,
            invoke_targets: BTreeMap::new(),
            route_owner: None,
            app_timeout: Duration::from_secs(60),
        }
    }

    pub fn default_app_id(&self) -> &str {
        self.app_ids.first().map(String::as_str).unwrap_or("docket")
    }

    /// The app-id that owns `path`, or the default one.
    pub fn owner_of(&self, path: &str) -> String {
        self.route_owner
            .as_ref()
            .and_then(|owner| owner(path))
            .filter(|id| self.app_ids.contains(id))
            .unwrap_or_else(|| self.default_app_id().to_string())
    }
}
