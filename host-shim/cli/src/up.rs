//! `docket up`: build (optionally), load the manifest, serve it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use std::sync::Arc;

use anyhow::{Context, bail};
use clap::Args;
use docket_manifest::App;
use docket_runtime::capabilities::variables::resolve_app_variables;
use docket_runtime::{RequestLimits, Runtime, RuntimeConfig, RuntimeConfigFile};
use docket_sidecar::Sidecar;
use tokio::net::TcpListener;

use crate::build::{self, BuildArgs};
use crate::dapr::DaprArgs;
use crate::outbox_probe::{self, OutboxProbe};
use crate::signals::Shutdown;

/// The application variable through which components find the Dapr API.
const DAPR_URL_VARIABLE: &str = "dapr_url";

#[derive(Args)]
pub struct UpArgs {
    /// The Spin manifest
    #[arg(
        short = 'f',
        long = "from",
        env = "DOCKET_MANIFEST",
        default_value = "spin.toml"
    )]
    manifest: PathBuf,
    /// Address to serve the app on
    #[arg(long, env = "DOCKET_LISTEN", default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Durable state: sqlite databases, key-value stores, compile cache
    #[arg(long, env = "DOCKET_DATA_DIR", default_value = ".docket")]
    data_dir: PathBuf,
    /// Run `docket build` first
    #[arg(long)]
    build: bool,
    /// Set an application variable (`name=value`); wins over every other source
    #[arg(long = "variable", value_name = "NAME=VALUE")]
    variables: Vec<String>,
    /// A Spin runtime-config file (variables providers, sqlite and key-value paths)
    #[arg(long, env = "DOCKET_RUNTIME_CONFIG_FILE")]
    runtime_config_file: Option<PathBuf>,
    /// Memory cap for one request's instance, in MiB
    #[arg(long, env = "DOCKET_MAX_MEMORY_MB", default_value_t = 256)]
    max_memory_mb: usize,
    /// Time a request may take to produce its response head, in seconds
    #[arg(long, env = "DOCKET_REQUEST_TIMEOUT_SECS", default_value_t = 30.0)]
    request_timeout_secs: f64,
    /// Requests (instances) running at once; more wait for a slot until the
    /// request timeout, then get 503. More instances than this only contend
    /// for the CPU and the SQLite writer
    #[arg(long, env = "DOCKET_MAX_CONCURRENT", default_value_t = 128)]
    max_concurrent: u32,
    /// Do not swap components when their .wasm changes on disk
    #[arg(long)]
    no_watch: bool,
    /// Token for POST /.well-known/docket/components/{id}/reload (generated if unset)
    #[arg(long, env = "DOCKET_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Serve the components only; a real `dapr run` provides the Dapr API on --dapr-http-port
    #[arg(long)]
    no_sidecar: bool,
    /// Serve only these components (repeatable or comma-separated), as one
    /// service of a deployment; by default all
    #[arg(
        long = "component",
        env = "SPIN_COMPONENTS_TO_RETAIN",
        value_delimiter = ','
    )]
    components: Vec<String>,
    #[command(flatten)]
    dapr: DaprArgs,
}

pub fn run(args: UpArgs) -> anyhow::Result<()> {
    if args.build {
        build::run(&BuildArgs {
            manifest: args.manifest.clone(),
            components: Vec::new(),
        })?;
    }
    let mut config = runtime_config(&args)?;
    let mut app = docket_manifest::load(&args.manifest)?;
    app.retain_components(&args.components)?;
    crate::local_secrets::fill_missing(&app, &mut config)?;
    let embedded_db = config
        .runtime_config
        .sqlite_paths
        .get("default")
        .cloned()
        .unwrap_or_else(|| config.data_dir.join("sqlite/default.db"));
    crate::migrate::migrate_embedded(&app, &embedded_db)?;
    watch_outbox(&app, &config, embedded_db)?;
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    tokio.block_on(async move {
        let started = std::time::Instant::now();
        let shutdown = Shutdown::listen();
        let dapr_listener = if args.no_sidecar {
            None
        } else {
            let listen = args.dapr.listen();
            let listener = TcpListener::bind(listen).await.with_context(|| {
                format!("failed to listen on {listen} for the Dapr API (use --dapr-http-port)")
            })?;
            Some(listener)
        };
        let dapr_port = match &dapr_listener {
            Some(listener) => listener.local_addr()?.port(),
            None => args.dapr.dapr_http_port,
        };
        point_components_at_dapr(&app, &mut config, dapr_port);
        let base_dir = app.base_dir.clone();
        let app_ids: Vec<String> = app.components.keys().cloned().collect();
        let data_dir = config.data_dir.clone();
        let runtime = Runtime::start(app, config).await?;
        let addr = runtime.local_addr();
        if let Some(listener) = dapr_listener {
            let mut sidecar_config = args.dapr.sidecar_config(
                app_ids,
                format!("http://{addr}"),
                listener.local_addr()?,
                data_dir,
                &base_dir,
            )?;
            if args.dapr.resources_paths.is_empty() {
                sidecar_config.resources_paths.retain(|p| p.is_dir());
            }
            sidecar_config.route_owner = Some(Arc::new(runtime.route_owner()));
            let sidecar = Sidecar::start(sidecar_config, listener).await?;
            let handle = sidecar.run(shutdown.clone().wait()).await?;
            let mut swaps = runtime.components().subscribe_swaps();
            tokio::spawn(async move {
                while swaps.recv().await.is_ok() {
                    handle.refresh_subscriptions();
                }
            });
        }
        tracing::info!(
            listen = %addr,
            dapr = %format!("127.0.0.1:{dapr_port}"),
            startup_ms = started.elapsed().as_millis() as u64,
            "serving on http://{addr}"
        );
        runtime.serve(shutdown.wait()).await
    })
}

/// Reports the outbox backlog of applications that have one (they declare
/// the `database_url` variable) in the metrics.
fn watch_outbox(app: &App, config: &RuntimeConfig, embedded_db: PathBuf) -> anyhow::Result<()> {
    if !app.variables.contains_key(outbox_probe::DATABASE_VARIABLE) {
        return Ok(());
    }
    let values = resolve_app_variables(app, config, |name| std::env::var(name).ok())?;
    let url = values
        .get(outbox_probe::DATABASE_VARIABLE)
        .map(String::as_str)
        .unwrap_or_default();
    docket_telemetry::global().add_probe(Arc::new(OutboxProbe::for_database(url, embedded_db)));
    Ok(())
}

/// Components reach Dapr through the `dapr_url` variable (when the manifest
/// declares it); point it at this sidecar unless the operator set it.
fn point_components_at_dapr(app: &App, config: &mut RuntimeConfig, dapr_port: u16) {
    config.sidecar_port = Some(dapr_port);
    let env_name = format!(
        "{}{}",
        config.variable_env_prefix,
        DAPR_URL_VARIABLE.to_ascii_uppercase()
    );
    let operator_set = config.variable_overrides.contains_key(DAPR_URL_VARIABLE)
        || std::env::var_os(&env_name).is_some()
        || config.runtime_config.dotenv_values.contains_key(&env_name);
    if app.variables.contains_key(DAPR_URL_VARIABLE) && !operator_set {
        config.variable_overrides.insert(
            DAPR_URL_VARIABLE.to_string(),
            format!("http://127.0.0.1:{dapr_port}"),
        );
    }
}

fn runtime_config(args: &UpArgs) -> anyhow::Result<RuntimeConfig> {
    let data_dir = std::path::absolute(&args.data_dir)
        .with_context(|| format!("invalid data dir {}", args.data_dir.display()))?;
    let mut config = RuntimeConfig::new(args.listen, data_dir.clone());
    config.limits = RequestLimits {
        memory_bytes: args.max_memory_mb << 20,
        timeout: Duration::try_from_secs_f64(args.request_timeout_secs)
            .context("--request-timeout-secs must be a positive number")?,
        max_concurrent: args.max_concurrent,
    };
    config.variable_overrides = parse_variables(&args.variables)?;
    if let Some(path) = &args.runtime_config_file {
        let (file, prefix) = RuntimeConfigFile::load(path)?;
        config.runtime_config = file;
        if let Some(prefix) = prefix {
            config.variable_env_prefix = prefix;
        }
    }
    config.watch_sources = !args.no_watch;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("failed to create {}", data_dir.display()))?;
    let token = match &args.admin_token {
        Some(token) => token.clone(),
        None => generate_token()?,
    };
    write_private(&data_dir.join("admin-token"), &token)?;
    config.admin_token = Some(token);
    Ok(config)
}

fn parse_variables(pairs: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|pair| match pair.split_once('=') {
            Some((name, value)) if !name.is_empty() => Ok((name.to_string(), value.to_string())),
            _ => bail!("--variable expects NAME=VALUE, got {pair:?}"),
        })
        .collect()
}

fn generate_token() -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("failed to generate a token: {e}"))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Writes a file only its owner can read (the admin token).
fn write_private(path: &Path, contents: &str) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("failed to write {}", path.display()))?;
    file.write_all(contents.as_bytes())
        .with_context(|| format!("failed to write {}", path.display()))
}
