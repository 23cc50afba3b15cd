//! The HTTP trigger: accept connections, route each request as Spin does,
//! and hand it to a component, a static response, or the host endpoints.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use docket_manifest::StaticResponse;
use docket_manifest::route::Router;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use wasmtime::Engine;
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::admin::{self, AdminContext};
use crate::config::RequestLimits;
use crate::headers::set_spin_headers;
use crate::invoke::{Failure, invoke};
use crate::registry::{ComponentSlot, Components};
use crate::responses::{body, text};
use crate::state::AppServices;

/// How long in-flight requests get to finish after a shutdown signal.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

pub enum RouteTarget {
    Component(Arc<ComponentSlot>),
    Static(StaticResponse),
}

pub struct HttpTrigger {
    pub app_name: String,
    pub app_version: Option<String>,
    pub router: Router<RouteTarget>,
    pub components: Arc<Components>,
    pub services: Arc<AppServices>,
    pub engine: Engine,
    pub limits: RequestLimits,
    pub admin_token: Option<String>,
}

impl HttpTrigger {
    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn serve(
        self: Arc<Self>,
        listener: TcpListener,
        shutdown: impl Future<Output = ()>,
    ) -> anyhow::Result<()> {
        let graceful = GracefulShutdown::new();
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let (stream, client) = match accepted {
                        Ok(accepted) => accepted,
                        Err(e) => {
                            tracing::warn!(error = %e, "accept failed");
                            continue;
                        }
                    };
                    let _ = stream.set_nodelay(true);
                    let trigger = self.clone();
                    let service = service_fn(move |request| {
                        let trigger = trigger.clone();
                        async move { Ok::<_, Infallible>(trigger.handle(request, client).await) }
                    });
                    let connection = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::debug!(error = %e, "connection ended with an error");
                        }
                    });
                }
                () = &mut shutdown => break,
            }
        }
        drop(listener);
        tracing::info!("shutting down: draining in-flight requests");
        if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some requests did not finish within {DRAIN_TIMEOUT:?}");
        }
        Ok(())
    }

    pub fn component_for(&self, path: &str) -> Option<String> {
        match self.router.route(path)? {
            (_, RouteTarget::Component(slot), _) => Some(slot.context.id.to_string()),
            _ => None,
        }
    }

    async fn handle(
        &self,
        mut request: Request<Incoming>,
        client: SocketAddr,
    ) -> Response<HyperOutgoingBody> {
        let started = Instant::now();
        let path = request.uri().path().to_string();
        if path.starts_with(admin::SPIN_PREFIX) || path.starts_with(admin::DOCKET_PREFIX) {
            let ctx = AdminContext {
                app_name: &self.app_name,
                app_version: self.app_version.as_deref(),
                components: &self.components,
                token: self.admin_token.as_deref(),
            };
            let authorization = request
                .headers()
                .get(http::header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok());
            return admin::handle(ctx, request.method(), &path, authorization, client).await;
        }
        let Some((pattern, target, found)) = self.router.route(&path) else {
            log_request(
                "-",
                "-",
                request.method(),
                &path,
                StatusCode::NOT_FOUND,
                started,
            );
            return text(StatusCode::NOT_FOUND, "Not Found");
        };
        match target {
            RouteTarget::Static(response) => {
                let response = static_response(response);
                log_request(
                    "-",
                    pattern.raw(),
                    request.method(),
                    &path,
                    response.status(),
                    started,
                );
                response
            }
            RouteTarget::Component(slot) => {
                let path_and_query = request
                    .uri()
                    .path_and_query()
                    .map(|p| p.as_str().to_string())
                    .unwrap_or_else(|| path.clone());
                set_spin_headers(
                    request.headers_mut(),
                    pattern,
                    &found,
                    &path_and_query,
                    client,
                    self.services.listen,
                );
                let method = request.method().clone();
                let id = slot.context.id.clone();
                let result =
                    invoke(&self.engine, slot, &self.services, &self.limits, request).await;
                let response = match result {
                    Ok(response) => response,
                    Err(failure) => failure_response(&id, failure),
                };
                log_request(
                    &id,
                    pattern.raw(),
                    &method,
                    &path,
                    response.status(),
                    started,
                );
                response
            }
        }
    }
}

fn log_request(
    component: &str,
    route: &str,
    method: &http::Method,
    path: &str,
    status: StatusCode,
    started: Instant,
) {
    tracing::info!(
        target: "docket::request",
        component,
        route,
        method = %method,
        path = %path,
        status = status.as_u16(),
        duration_ms = started.elapsed().as_secs_f64() * 1000.0,
    );
}

fn static_response(config: &StaticResponse) -> Response<HyperOutgoingBody> {
    let mut response = Response::new(body(config.body.clone().unwrap_or_default()));
    *response.status_mut() = StatusCode::from_u16(config.status).unwrap_or(StatusCode::OK);
    for (name, value) in &config.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().insert(name, value);
        }
    }
    response
}

fn failure_response(component: &str, failure: Failure) -> Response<HyperOutgoingBody> {
    match failure {
        Failure::BadRequest(reason) => {
            text(StatusCode::BAD_REQUEST, format!("Bad Request: {reason}"))
        }
        Failure::Timeout => {
            tracing::error!(component, "request timed out; the instance was stopped");
            text(
                StatusCode::GATEWAY_TIMEOUT,
                "Gateway Timeout: the component did not answer in time",
            )
        }
        Failure::OutOfMemory => {
            tracing::error!(
                component,
                "request ran out of memory; the instance was stopped"
            );
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error: the component ran out of memory",
            )
        }
        Failure::AtCapacity => {
            tracing::warn!(component, "no free instance slot");
            let mut response = text(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable: too many requests in flight",
            );
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
            response
        }
        Failure::Trap(detail) => {
            tracing::error!(component, error = %detail, "component trapped");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error: the component failed",
            )
        }
        Failure::NoResponse(detail) => {
            tracing::error!(component, error = %detail, "component gave no response");
            text(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error: the component gave no response",
            )
        }
    }
}
