//! Per-app, per-component and per-request host state.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use docket_manifest::outbound::AllowedHosts;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::capabilities::key_value::KeyValueStores;
use crate::capabilities::outbound_http::OutboundHttp;
use crate::capabilities::postgres::PostgresClients;
use crate::capabilities::sqlite::SqliteDatabases;
use crate::config::RequestLimits;
use crate::guest_log::{GuestLog, GuestStream};
use crate::limiter::MemoryLimiter;

/// Backends shared by all components of the app.
pub struct AppServices {
    pub sqlite: SqliteDatabases,
    pub key_value: KeyValueStores,
    pub postgres: PostgresClients,
    pub listen: SocketAddr,
    pub sidecar_port: Option<u16>,
    pub http_client: crate::capabilities::outbound_http::PooledClient,
    /// One permit per instance the pooling allocator can hold: a request
    /// waits here (first come, first served) instead of failing when every
    /// slot is busy, including with instances still working after their
    /// response went out.
    pub instance_slots: Arc<tokio::sync::Semaphore>,
}

/// What one component is allowed and given, fixed at startup.
pub struct ComponentContext {
    pub id: Arc<str>,
    pub variables: BTreeMap<String, String>,
    pub allowed_hosts: Arc<AllowedHosts>,
    pub sqlite_databases: Vec<String>,
    pub key_value_stores: Vec<String>,
    pub environment: Vec<(String, String)>,
}

/// The `T` of every request's `Store<T>`.
pub struct HostState {
    pub(crate) component: Arc<ComponentContext>,
    pub(crate) services: Arc<AppServices>,
    pub(crate) table: ResourceTable,
    wasi: WasiCtx,
    http: WasiHttpCtx,
    outbound: OutboundHttp,
    pub(crate) limiter: MemoryLimiter,
}

impl HostState {
    pub fn new(
        component: Arc<ComponentContext>,
        services: Arc<AppServices>,
        limits: &RequestLimits,
    ) -> Self {
        let wasi = WasiCtxBuilder::new()
            .envs(&component.environment)
            .stdout(GuestLog::new(component.id.clone(), GuestStream::Stdout))
            .stderr(GuestLog::new(component.id.clone(), GuestStream::Stderr))
            .build();
        let outbound = OutboundHttp {
            component: component.id.clone(),
            allowed: component.allowed_hosts.clone(),
            self_addr: services.listen,
            sidecar_port: services.sidecar_port,
            client: services.http_client.clone(),
        };
        Self {
            component,
            services,
            table: ResourceTable::new(),
            wasi,
            http: WasiHttpCtx::new(),
            outbound,
            limiter: MemoryLimiter::new(limits.memory_bytes),
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}
