//! Outgoing `wasi:http` requests, restricted by `allowed_outbound_hosts`.
//! A denied request fails with `HttpRequestDenied`, as Spin fails it.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use docket_manifest::outbound::{AllowedHosts, default_port};

use crate::config::CALLER_HEADER;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), HttpError>> + Send>,
                ),
                HttpError,
            >,
        > + Send,
>;

/// Plain-HTTP requests share one pool of keep-alive connections (most of
/// them go to the Dapr sidecar on loopback); HTTPS goes through
/// wasmtime-wasi-http's own sender, which handles TLS.
pub type PooledClient = hyper_util::client::legacy::Client<
    hyper_util::client::legacy::connect::HttpConnector,
    WasiBody,
>;

pub fn pooled_client() -> PooledClient {
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .pool_idle_timeout(std::time::Duration::from_secs(30))
        .build(connector)
}

/// Per-request hooks: the component's allow-list and where `http://self` points.
pub struct OutboundHttp {
    pub component: Arc<str>,
    pub allowed: Arc<AllowedHosts>,
    pub self_addr: SocketAddr,
    pub sidecar_port: Option<u16>,
    pub client: PooledClient,
}

impl OutboundHttp {
    fn permit(&self, uri: &http::Uri) -> bool {
        let scheme = uri.scheme_str().unwrap_or("https");
        let Some(host) = uri.host() else {
            return false;
        };
        let port = uri.port_u16().or_else(|| default_port(scheme));
        port.is_some_and(|port| self.allowed.allows(scheme, host, port))
    }

    /// `http://self/...` addresses the app itself, on the address it listens on.
    fn resolve_self(&self, request: &mut http::Request<WasiBody>) {
        if request.uri().host() != Some("self") {
            return;
        }
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".to_string());
        if let Ok(uri) = format!("http://{}{path}", self.self_addr).parse() {
            *request.uri_mut() = uri;
        }
    }
}

impl OutboundHttp {
    /// Tells the local sidecar which component (app-id) is calling.
    fn name_caller(&self, request: &mut http::Request<WasiBody>) {
        let uri = request.uri();
        let to_sidecar = self.sidecar_port.is_some()
            && uri.port_u16() == self.sidecar_port
            && matches!(
                uri.host(),
                Some("localhost" | "127.0.0.1" | "[::1]" | "::1")
            );
        if to_sidecar && let Ok(value) = http::HeaderValue::try_from(&*self.component) {
            request.headers_mut().insert(CALLER_HEADER, value);
        }
    }
}

impl WasiHttpHooks for OutboundHttp {
    fn send_request(
        &mut self,
        mut request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> SendFuture {
        drop(fut);
        if !self.permit(request.uri()) {
            tracing::warn!(
                component = &*self.component,
                uri = %request.uri(),
                "outbound request denied: add the host to the component's allowed_outbound_hosts"
            );
            return Box::new(async { Err(HttpError::HttpRequestDenied) });
        }
        self.resolve_self(&mut request);
        self.name_caller(&mut request);
        if request.uri().scheme_str() == Some("http") {
            return Box::new(send_pooled(self.client.clone(), request, options));
        }
        Box::new(async move {
            use http_body_util::BodyExt;
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = _> + Send>,
            ))
        })
    }
}

/// Sends over the shared pool, honouring the guest's first-byte timeout.
async fn send_pooled(
    client: PooledClient,
    request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
) -> Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ),
    HttpError,
> {
    use http_body_util::BodyExt;
    let timeout = options
        .and_then(|o| o.first_byte_timeout)
        .unwrap_or(std::time::Duration::from_secs(600));
    let response = match tokio::time::timeout(timeout, client.request(request)).await {
        Err(_) => return Err(HttpError::ConnectionReadTimeout),
        Ok(Err(e)) if e.is_connect() => return Err(HttpError::ConnectionRefused),
        Ok(Err(e)) => return Err(HttpError::InternalError(Some(e.to_string()))),
        Ok(Ok(response)) => response,
    };
    let response = response.map(|body| body.map_err(HttpError::from).boxed_unsync());
    Ok((
        response,
        Box::new(async { Ok(()) }) as Box<dyn Future<Output = _> + Send>,
    ))
}
