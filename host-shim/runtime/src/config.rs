//! What the operator chose: limits, data folder, and the Spin runtime-config file.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;

/// Everything the runtime needs besides the manifest.
#[derive(Debug, Clone)]
pub struct RuntimeConfig {
    pub listen: SocketAddr,
    /// Durable state: SQLite databases, key-value stores, the compile cache.
    pub data_dir: PathBuf,
    pub limits: RequestLimits,
    /// `--variable name=value` pairs; they win over every other source.
    pub variable_overrides: BTreeMap<String, String>,
    /// Prefix of environment variables that set application variables.
    pub variable_env_prefix: String,
    pub runtime_config: RuntimeConfigFile,
    /// Recompile and swap a component when its `.wasm` changes on disk.
    pub watch_sources: bool,
    /// Token for `POST /.well-known/docket/components/{id}/reload`.
    pub admin_token: Option<String>,
    /// Port of the local Dapr sidecar; components' calls to it on loopback
    /// carry their component id (see `CALLER_HEADER`).
    pub sidecar_port: Option<u16>,
}

/// Header naming the calling component on requests to the local sidecar.
pub const CALLER_HEADER: &str = "docket-app-id";

#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// Largest linear memory one request's instance may grow to.
    pub memory_bytes: usize,
    /// Wall-clock budget for a request to produce its response head.
    pub timeout: Duration,
    /// Instances that may run at once; further requests wait for one to
    /// finish until `timeout`, then get 503.
    pub max_concurrent: u32,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            memory_bytes: 256 << 20,
            timeout: Duration::from_secs(30),
            max_concurrent: 128,
        }
    }
}

impl RuntimeConfig {
    pub fn new(listen: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            listen,
            data_dir,
            limits: RequestLimits::default(),
            variable_overrides: BTreeMap::new(),
            variable_env_prefix: "SPIN_VARIABLE_".to_string(),
            runtime_config: RuntimeConfigFile::default(),
            watch_sources: true,
            admin_token: None,
            sidecar_port: None,
        }
    }

    pub fn cache_dir(&self) -> PathBuf {
        self.data_dir.join("cache")
    }
}

/// The subset of Spin's `runtime-config.toml` docket honours. Unknown
/// sections and unsupported provider types are errors, not silently ignored.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfigFile {
    /// Values read from `dotenv_path` files of `env` providers.
    pub dotenv_values: BTreeMap<String, String>,
    pub sqlite_paths: BTreeMap<String, PathBuf>,
    pub key_value_paths: BTreeMap<String, PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRuntimeConfig {
    #[serde(default)]
    config_provider: Vec<RawProvider>,
    #[serde(default)]
    sqlite_database: BTreeMap<String, RawStore>,
    #[serde(default)]
    key_value_store: BTreeMap<String, RawStore>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProvider {
    #[serde(rename = "type")]
    kind: String,
    prefix: Option<String>,
    dotenv_path: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStore {
    #[serde(rename = "type")]
    kind: String,
    path: Option<PathBuf>,
}

impl RuntimeConfigFile {
    /// Reads a runtime-config file; relative paths inside it are relative to its folder.
    /// Returns the file's settings and the env prefix it sets, if any.
    pub fn load(path: &Path) -> anyhow::Result<(Self, Option<String>)> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read runtime config {}", path.display()))?;
        let raw: RawRuntimeConfig = toml::from_str(&text)
            .with_context(|| format!("failed to parse runtime config {}", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut config = Self::default();
        let mut prefix = None;
        for provider in raw.config_provider {
            if provider.kind != "env" {
                bail!(
                    "{}: config_provider type {:?} is not supported (only \"env\")",
                    path.display(),
                    provider.kind
                );
            }
            prefix = provider.prefix.or(prefix);
            if let Some(dotenv) = provider.dotenv_path {
                let dotenv = base.join(dotenv);
                config.dotenv_values.extend(read_dotenv(&dotenv)?);
            }
        }
        config.sqlite_paths = store_paths(path, base, "sqlite_database", raw.sqlite_database)?;
        config.key_value_paths = store_paths(path, base, "key_value_store", raw.key_value_store)?;
        Ok((config, prefix))
    }
}

fn store_paths(
    file: &Path,
    base: &Path,
    section: &str,
    stores: BTreeMap<String, RawStore>,
) -> anyhow::Result<BTreeMap<String, PathBuf>> {
    stores
        .into_iter()
        .map(|(label, store)| {
            if store.kind != "spin" {
                bail!(
                    "{}: {section}.{label}: type {:?} is not supported (only \"spin\")",
                    file.display(),
                    store.kind
                );
            }
            let path = store.path.with_context(|| {
                format!("{}: {section}.{label}: `path` is required", file.display())
            })?;
            Ok((label, base.join(path)))
        })
        .collect()
}

/// `KEY=value` lines; `#` comments and blank lines skipped; values may be quoted.
fn read_dotenv(path: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read dotenv file {}", path.display()))?;
    let mut values = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.strip_prefix("export ").unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            bail!("{}:{}: expected KEY=value", path.display(), number + 1);
        };
        let value = value.trim();
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .or_else(|| value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
            .unwrap_or(value);
        values.insert(key.trim().to_string(), value.to_string());
    }
    Ok(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_env_provider_and_store_paths() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("vars.env"),
            "# comment\nAPP_GREETING=\"hi there\"\nexport APP_COUNT=3\n",
        )
        .unwrap();
        let file = dir.path().join("runtime-config.toml");
        std::fs::write(
            &file,
            "[[config_provider]]\ntype = \"env\"\nprefix = \"APP_\"\ndotenv_path = \"vars.env\"\n\
             [sqlite_database.default]\ntype = \"spin\"\npath = \"db/main.db\"\n\
             [key_value_store.cache]\ntype = \"spin\"\npath = \"kv.db\"\n",
        )
        .unwrap();
        let (config, prefix) = RuntimeConfigFile::load(&file).unwrap();
        assert_eq!(prefix.as_deref(), Some("APP_"));
        assert_eq!(config.dotenv_values["APP_GREETING"], "hi there");
        assert_eq!(config.dotenv_values["APP_COUNT"], "3");
        assert_eq!(
            config.sqlite_paths["default"],
            dir.path().join("db/main.db")
        );
        assert_eq!(config.key_value_paths["cache"], dir.path().join("kv.db"));
    }

    #[test]
    fn rejects_unsupported_sections_and_types() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rc.toml");
        for (text, expected) in [
            (
                "[outbound_http]\nconnection_pooling = true\n",
                "outbound_http",
            ),
            ("[[config_provider]]\ntype = \"vault\"\n", "vault"),
            (
                "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\n",
                "url",
            ),
            ("[sqlite_database.default]\ntype = \"libsql\"\n", "libsql"),
        ] {
            std::fs::write(&file, text).unwrap();
            let err = format!("{:#}", RuntimeConfigFile::load(&file).unwrap_err());
            assert!(err.contains(expected), "expected {expected:?} in {err}");
        }
    }
}
