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

/// Per-request hooks: the component's allow-list and where `http://self` points.
pub struct OutboundHttp {
    pub component: Arc<str>,
    pub allowed: Arc<AllowedHosts>,
    pub self_addr: SocketAddr,
    pub sidecar_port: Option<u16>,
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
