//! Flags shared by `docket up` and `docket sidecar` for the Dapr side.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::bail;
use clap::Args;
use docket_sidecar::SidecarConfig;

#[derive(Args, Clone)]
pub struct DaprArgs {
    /// Port of the Dapr HTTP API (the sidecar's, or an external daprd's with --no-sidecar)
    #[arg(long, env = "DAPR_HTTP_PORT", default_value_t = 3500)]
    pub dapr_http_port: u16,
    /// Folders of Dapr resource YAML (Component, Subscription, Resiliency); repeatable
    #[arg(
        long = "resources-path",
        env = "DOCKET_RESOURCES_PATH",
        value_delimiter = ','
    )]
    pub resources_paths: Vec<PathBuf>,
    /// Require this `dapr-api-token` on API calls
    #[arg(long, env = "DAPR_API_TOKEN", hide_env_values = true)]
    pub dapr_api_token: Option<String>,
    /// Send this `dapr-api-token` on calls into the app
    #[arg(long, env = "APP_API_TOKEN", hide_env_values = true)]
    pub app_api_token: Option<String>,
    /// Another app-id reachable by service invocation: `ID=http://host:port`; repeatable
    #[arg(long = "invoke", value_name = "ID=URL")]
    pub invoke_targets: Vec<String>,
}

impl DaprArgs {
    pub fn listen(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.dapr_http_port))
    }

    /// The sidecar config; relative resource folders are taken from `base`
    /// (the manifest's folder for `up`), defaulting to `dapr/components/local`.
    pub fn sidecar_config(
        &self,
        app_ids: Vec<String>,
        app_address: String,
        listen: SocketAddr,
        data_dir: PathBuf,
        base: &Path,
    ) -> anyhow::Result<SidecarConfig> {
        let mut config = SidecarConfig::new(app_ids, app_address, listen, data_dir.join("dapr"));
        let paths = if self.resources_paths.is_empty() {
            vec![PathBuf::from("dapr/components/local")]
        } else {
            self.resources_paths.clone()
        };
        config.resources_paths = paths
            .into_iter()
            .map(|p| if p.is_absolute() { p } else { base.join(p) })
            .collect();
        config.api_token = self.dapr_api_token.clone();
        config.app_token = self.app_api_token.clone();
        config.invoke_targets = parse_targets(&self.invoke_targets)?;
        Ok(config)
    }
}

fn parse_targets(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((id, url))
                if !id.is_empty()
                    && (url.starts_with("http://") || url.starts_with("https://")) =>
            {
                Ok((id.to_string(), url.to_string()))
            }
            _ => bail!("--invoke expects ID=http://host:port, got {pair:?}"),
        })
        .collect()
}
