//! The composition root: from a validated manifest and the operator's
//! config to a listening server, failing fast on anything the app cannot use.

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, bail};
use docket_manifest::outbound::AllowedHosts;
use docket_manifest::route::Router;
use docket_manifest::{App, HttpHandler, TriggerRoute};
use tokio::net::TcpListener;

use crate::capabilities::key_value::KeyValueStores;
use crate::capabilities::postgres::PostgresClients;
use crate::capabilities::sqlite::SqliteDatabases;
use crate::capabilities::variables::{component_variables, resolve_app_variables};
use crate::component;
use crate::config::RuntimeConfig;
use crate::engine::{EpochTicker, build_engine};
use crate::linker::build_linker;
use crate::registry::{ComponentSlot, Components};
use crate::state::{AppServices, ComponentContext};
use crate::trigger::{HttpTrigger, RouteTarget};
use crate::watch::watch_sources;

/// A started app: compiled, linked, bound to its address, not yet serving.
pub struct Runtime {
    trigger: Arc<HttpTrigger>,
    listener: TcpListener,
    local_addr: SocketAddr,
    _ticker: EpochTicker,
    _watcher: Option<notify::RecommendedWatcher>,
}

impl Runtime {
    pub async fn start(app: App, config: RuntimeConfig) -> anyhow::Result<Self> {
        check_sources(&app)?;
        let app_values = resolve_app_variables(&app, &config, |name| std::env::var(name).ok())?;
        let contexts = component_contexts(&app, &app_values)?;

        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("failed to listen on {}", config.listen))?;
        let local_addr = listener.local_addr()?;

        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("failed to create data dir {}", config.data_dir.display()))?;
        let services = Arc::new(AppServices {
            sqlite: SqliteDatabases::open(
                app.components.values().flat_map(|c| &c.sqlite_databases),
                &config.data_dir,
                &config.runtime_config.sqlite_paths,
            )?,
            key_value: KeyValueStores::open(
                app.components.values().flat_map(|c| &c.key_value_stores),
                &config.data_dir,
                &config.runtime_config.key_value_paths,
            )?,
            postgres: PostgresClients::default(),
            listen: local_addr,
            sidecar_port: config.sidecar_port,
            http_client: crate::capabilities::outbound_http::pooled_client(),
            instance_slots: Arc::new(tokio::sync::Semaphore::new(
                config.limits.max_concurrent as usize,
            )),
        });

        let engine = build_engine(&config)?;
        let linker = Arc::new(build_linker(&engine)?);
        let slots = load_components(&app, &engine, &linker, contexts).await?;
        let components = Arc::new(Components::new(engine.clone(), linker, slots));

        let router = build_router(&app, &components);
        let watcher = if config.watch_sources {
            Some(watch_sources(components.clone())?)
        } else {
            None
        };
        let trigger = Arc::new(HttpTrigger {
            app_name: app.name.clone(),
            app_version: app.version.clone(),
            router,
            components,
            services,
            engine: engine.clone(),
            limits: config.limits,
            admin_token: config.admin_token.clone(),
        });
        Ok(Self {
            trigger,
            listener,
            local_addr,
            _ticker: EpochTicker::start(engine),
            _watcher: watcher,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn components(&self) -> Arc<Components> {
        self.trigger.components.clone()
    }

    /// The component that serves a request path, by the app's routes.
    pub fn route_owner(&self) -> impl Fn(&str) -> Option<String> + Send + Sync + 'static {
        let trigger = self.trigger.clone();
        move |path: &str| trigger.component_for(path)
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn serve(self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let Self {
            trigger,
            listener,
            _ticker,
            _watcher,
            ..
        } = self;
        trigger.serve(listener, shutdown).await
    }
}

fn check_sources(app: &App) -> anyhow::Result<()> {
    let missing: Vec<String> = app
        .components
        .values()
        .filter(|c| !c.source.is_file())
        .map(|c| format!("component `{}`: {} not found", c.id, c.source.display()))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: {} (run `docket build` first)",
            app.path.display(),
            missing.join("; ")
        );
    }
    Ok(())
}

fn component_contexts(
    app: &App,
    app_values: &std::collections::BTreeMap<String, String>,
) -> anyhow::Result<HashMap<String, Arc<ComponentContext>>> {
    app.components
        .values()
        .map(|component| {
            let hosts = component
                .allowed_outbound_hosts
                .iter()
                .map(|template| template.resolve(app_values))
                .collect::<Result<Vec<_>, _>>()
                .with_context(|| format!("component `{}`: allowed_outbound_hosts", component.id))?;
            let allowed = AllowedHosts::parse(&hosts)
                .with_context(|| format!("component `{}`: allowed_outbound_hosts", component.id))?;
            let context = ComponentContext {
                id: component.id.as_str().into(),
                variables: component_variables(component, app_values)?,
                allowed_hosts: Arc::new(allowed),
                sqlite_databases: component.sqlite_databases.clone(),
                key_value_stores: component.key_value_stores.clone(),
                environment: component
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            Ok((component.id.clone(), Arc::new(context)))
        })
        .collect()
}

/// Compiles every component in parallel (or loads it from the cache).
async fn load_components(
    app: &App,
    engine: &wasmtime::Engine,
    linker: &Arc<wasmtime::component::Linker<crate::state::HostState>>,
    mut contexts: HashMap<String, Arc<ComponentContext>>,
) -> anyhow::Result<HashMap<String, Arc<ComponentSlot>>> {
    let tasks: Vec<_> = app
        .components
        .values()
        .map(|c| {
            let (engine, linker, id, source) = (
                engine.clone(),
                linker.clone(),
                c.id.clone(),
                c.source.clone(),
            );
            tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let loaded = component::load(&engine, &linker, &id, &source);
                (id, source, loaded, started.elapsed())
            })
        })
        .collect();
    let mut slots = HashMap::new();
    let mut errors = Vec::new();
    for task in tasks {
        let (id, source, loaded, took) = task.await.context("component loader failed")?;
        match loaded {
            Ok(loaded) => {
                tracing::info!(component = %id, digest = %loaded.digest, ms = took.as_millis() as u64, "component ready");
                let context = contexts
                    .remove(&id)
                    .with_context(|| format!("no context for component `{id}`"))?;
                slots.insert(id, Arc::new(ComponentSlot::new(context, source, loaded)));
            }
            Err(e) => errors.push(format!("{e:#}")),
        }
    }
    if !errors.is_empty() {
        bail!("{}", errors.join("\n"));
    }
    Ok(slots)
}

fn build_router(app: &App, components: &Components) -> Router<RouteTarget> {
    let routes = app
        .triggers
        .iter()
        .filter_map(|trigger| {
            let TriggerRoute::Pattern(pattern) = &trigger.route else {
                return None;
            };
            let target = match &trigger.handler {
                HttpHandler::Component(id) => RouteTarget::Component(components.get(id)?.clone()),
                HttpHandler::Static(response) => RouteTarget::Static(response.clone()),
            };
            Some((pattern.clone(), target))
        })
        .collect();
    Router::new(routes)
}
