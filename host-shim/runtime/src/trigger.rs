//! The HTTP trigger: accept connections, route each request as Spin does,
//! and hand it to a component, a static response, or the host endpoints.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use docket_manifest::StaticResponse;
use docket_manifest::route::Router;
use docket_telemetry::trace;
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

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

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
        let traceparent = continue_trace(&mut request);
        let served = Served {
            method: request.method().clone(),
            path: &path,
            traceparent: &traceparent,
            started,
        };
        let Some((pattern, target, found)) = self.router.route(&path) else {
            served.log("-", "-", StatusCode::NOT_FOUND);
            return text(StatusCode::NOT_FOUND, "Not Found");
        };
        match target {
            RouteTarget::Static(response) => {
                let response = static_response(response);
                served.log("-", pattern.raw(), response.status());
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
                let id = slot.context.id.clone();
                let result =
                    invoke(&self.engine, slot, &self.services, &self.limits, request).await;
                let error_kind = match &result {
                    Ok(response) if response.status().is_server_error() => Some("5xx"),
                    Ok(_) => None,
                    Err(failure) => Some(failure.kind()),
                };
                if let Some(kind) = error_kind {
                    docket_telemetry::global().request_error(&id, pattern.raw(), kind);
                }
                let response = result.unwrap_or_else(|failure| failure_response(&id, failure));
                served.log(&id, pattern.raw(), response.status());
                response
            }
        }
    }
}

/// Gives the request the `traceparent` of this hop (the caller's trace
/// continued, or a new one) and answers it.
fn continue_trace(request: &mut Request<Incoming>) -> String {
    let incoming = request
        .headers()
        .get(TRACEPARENT)
        .and_then(|v| v.to_str().ok());
    let traceparent = trace::next_hop(incoming);
    if let Ok(value) = HeaderValue::try_from(traceparent.as_str()) {
        request.headers_mut().insert(TRACEPARENT, value);
    }
    traceparent
}

/// One request, as logged and counted once answered.
struct Served<'a> {
    method: http::Method,
    path: &'a str,
    traceparent: &'a str,
    started: Instant,
}

impl Served<'_> {
    fn log(&self, component: &str, route: &str, status: StatusCode) {
        let elapsed = self.started.elapsed();
        let metrics = docket_telemetry::global();
        metrics.request(
            component,
            route,
            self.method.as_str(),
            status.as_u16(),
            elapsed,
        );
        tracing::info!(
            target: "docket::request",
            component,
            route,
            method = %self.method,
            path = %self.path,
            status = status.as_u16(),
            duration_ms = elapsed.as_secs_f64() * 1000.0,
            trace_id = trace::trace_id(self.traceparent),
        );
    }
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
