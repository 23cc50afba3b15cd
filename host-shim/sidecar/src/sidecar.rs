//! The composition root: resources → backends → API server, then, once the
//! app answers, subscriptions and input bindings.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::task::JoinSet;

use crate::app_channel::AppChannel;
use crate::bindings::input::run_cron;
use crate::config::SidecarConfig;
use crate::registry::Registry;
use crate::resiliency::Resiliency;
use crate::resources::{Resources, SubscriptionSpec};
use crate::shared::Shared;
use crate::subscriptions;

/// How often the app's port is tried while waiting for it to come up.
const APP_POLL: Duration = Duration::from_millis(100);

pub struct Sidecar {
    shared: Arc<Shared>,
    declarative: Vec<SubscriptionSpec>,
    listener: TcpListener,
    local_addr: SocketAddr,
}

/// Lets the host ask for `/dapr/subscribe` again after a hot swap.
#[derive(Clone)]
pub struct SidecarHandle {
    refresh: tokio::sync::mpsc::UnboundedSender<()>,
}

impl SidecarHandle {
    pub fn refresh_subscriptions(&self) {
        let _ = self.refresh.send(());
    }
}

impl Sidecar {
    /// Loads resources and connects backends; fails (naming the file and
    /// field) on anything daprd would refuse.
    pub async fn start(config: SidecarConfig, listener: TcpListener) -> anyhow::Result<Self> {
        let resources = Resources::load(&config.resources_paths)?;
        let resiliency = Resiliency::from_specs(
            resources
                .resiliency
                .iter()
                .filter(|(_, spec)| config.app_ids.iter().any(|id| spec.applies_to(id)))
                .map(|(path, spec)| (path.as_path(), spec)),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let registry = Registry::build(&resources, &config.app_ids, &config.data_dir).await?;
        let app = AppChannel::new(
            &config.app_address,
            config.app_token.clone(),
            config.app_timeout,
        )?;
        let local_addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            client: reqwest::Client::builder().build()?,
            config,
            registry,
            resiliency,
            app,
            ready: AtomicBool::new(false),
            subscriptions: RwLock::new(Vec::new()),
            extended: Mutex::new(Default::default()),
        });
        Ok(Self {
            shared,
            declarative: resources.subscriptions,
            listener,
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves the API and runs the workers until `shutdown` resolves.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<SidecarHandle> {
        let (refresh, refresh_rx) = tokio::sync::mpsc::unbounded_channel();
        let handle = SidecarHandle { refresh };
        let router = crate::api::router(self.shared.clone());
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        });
        let mut server_stop = stop_rx.clone();
        let listener = self.listener;
        tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async move { stopped(&mut server_stop).await })
                .await;
            if let Err(e) = served {
                tracing::error!(error = %e, "Dapr API server failed");
            }
        });
        tokio::spawn(workers(self.shared, self.declarative, refresh_rx, stop_rx));
        Ok(handle)
    }
}

async fn wait_for_app(shared: &Shared) {
    let address = shared
        .app
        .base()
        .trim_start_matches("http://")
        .trim_start_matches("https://")
        .to_string();
    let mut attempts: u32 = 0;
    while tokio::net::TcpStream::connect(&address).await.is_err() {
        attempts += 1;
        if attempts.is_multiple_of(100) {
            tracing::info!(app = %address, "waiting for the app to listen");
        }
        tokio::time::sleep(APP_POLL).await;
    }
}

/// Background work: subscriptions (restarted on refresh) and input bindings.
async fn workers(
    shared: Arc<Shared>,
    declarative: Vec<SubscriptionSpec>,
    mut refresh: tokio::sync::mpsc::UnboundedReceiver<()>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    wait_for_app(&shared).await;
    let consumer = format!(
        "{}-{}",
        shared.config.default_app_id(),
        uuid::Uuid::new_v4().simple()
    );
    let mut bindings = JoinSet::new();
    for binding in &shared.registry.cron {
        let owner = shared.config.owner_of(&binding.route);
        if !binding.spec.in_scope(&owner) {
            continue;
        }
        let retry = shared.resiliency.binding_inbound_retry(&binding.spec.name);
        bindings.spawn(run_cron(binding.clone(), shared.app.clone(), retry));
    }
    let mut current = subscriptions::programmatic(&shared).await;
    let mut running = restart(&shared, &declarative, &current, &consumer, Vec::new());
    shared.set_ready();
    tracing::info!("Dapr sidecar ready");
    loop {
        tokio::select! {
            Some(()) = refresh.recv() => {
                let latest = subscriptions::programmatic(&shared).await;
                if latest_differs(&current, &latest) {
                    tracing::info!("the app's subscriptions changed; restarting deliveries");
                    current = latest;
                    running = restart(&shared, &declarative, &current, &consumer, running);
                }
            }
            () = stopped(&mut stop) => break,
        }
    }
    drop(running);
    bindings.abort_all();
}

async fn stopped(stop: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

fn latest_differs(a: &[SubscriptionSpec], b: &[SubscriptionSpec]) -> bool {
    let key = |s: &SubscriptionSpec| {
        format!(
            "{}|{}|{:?}|{:?}|{:?}",
            s.pubsub, s.topic, s.routes, s.dead_letter_topic, s.metadata
        )
    };
    a.len() != b.len() || a.iter().zip(b).any(|(x, y)| key(x) != key(y))
}

fn restart(
    shared: &Arc<Shared>,
    declarative: &[SubscriptionSpec],
    programmatic: &[SubscriptionSpec],
    consumer: &str,
    old: Vec<JoinSet<()>>,
) -> Vec<JoinSet<()>> {
    drop(old);
    let specs = declarative
        .iter()
        .cloned()
        .map(|s| (s, false))
        .chain(programmatic.iter().cloned().map(|s| (s, true)))
        .collect();
    let (active, tasks) = subscriptions::start(shared, specs, consumer);
    if let Ok(mut list) = shared.subscriptions.write() {
        *list = active;
    }
    tasks
}
