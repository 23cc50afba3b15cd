//! [`HttpClient`] over `wasi:http` with a deadline. Spin's `send` takes no
//! request options, so this uses `wasi:http` directly and waits on the
//! response in place: the instance serves this one request anyway.

use std::time::Duration;

use docket_http::{HttpClient, HttpFailure, Outgoing, Response};

use crate::io::header_pairs;
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

/// Largest write `wasi:io` accepts at once.
const WRITE_CHUNK: usize = 4096;

/// Waits at most `timeout` for the first byte, and as long between bytes.
pub struct WasiHttp {
    pub timeout: Duration,
}

impl HttpClient for WasiHttp {
    async fn send(&self, request: &Outgoing) -> Result<Response, HttpFailure> {
        send(request, self.timeout)
    }
}

fn unreachable(what: impl std::fmt::Debug) -> HttpFailure {
    HttpFailure::Unreachable(format!("{what:?}"))
}

fn failure(code: ErrorCode) -> HttpFailure {
    match code {
        ErrorCode::ConnectionReadTimeout | ErrorCode::ConnectionTimeout => HttpFailure::Timeout,
        ErrorCode::HttpRequestDenied => HttpFailure::NotAllowed,
        other => unreachable(other),
    }
}

fn method(name: &str) -> Method {
    match name.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "HEAD" => Method::Head,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_string()),
    }
}

fn outgoing_request(request: &Outgoing) -> Result<OutgoingRequest, HttpFailure> {
    let (scheme, rest) = request
        .url
        .split_once("://")
        .ok_or_else(|| unreachable("the URL has no scheme"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let mut headers: Vec<(String, Vec<u8>)> = request
        .headers
        .iter()
        .map(|(name, value)| (name.clone(), value.clone().into_bytes()))
        .collect();
    // A declared length rather than chunked encoding, which not every
    // server (or proxy in front of one) accepts.
    if request.header("content-length").is_none() {
        headers.push((
            "content-length".to_string(),
            request.body.len().to_string().into_bytes(),
        ));
    }
    let fields = Fields::from_list(&headers).map_err(unreachable)?;
    let outgoing = OutgoingRequest::new(fields);
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else {
        Scheme::Http
    };
    outgoing
        .set_method(&method(&request.method))
        .map_err(unreachable)?;
    outgoing.set_scheme(Some(&scheme)).map_err(unreachable)?;
    outgoing
        .set_authority(Some(authority))
        .map_err(unreachable)?;
    outgoing
        .set_path_with_query(Some(path))
        .map_err(unreachable)?;
    Ok(outgoing)
}

fn options(timeout: Duration) -> Result<RequestOptions, HttpFailure> {
    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    let options = RequestOptions::new();
    options
        .set_first_byte_timeout(Some(nanos))
        .map_err(unreachable)?;
    options
        .set_between_bytes_timeout(Some(nanos))
        .map_err(unreachable)?;
    Ok(options)
}

fn write_body(outgoing: OutgoingBody, body: &[u8]) -> Result<(), HttpFailure> {
    let stream = outgoing.write().map_err(unreachable)?;
    for chunk in body.chunks(WRITE_CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(unreachable)?;
    }
    drop(stream);
    OutgoingBody::finish(outgoing, None).map_err(failure)
}

/// Sends `request` and reads the whole response.
pub fn send(request: &Outgoing, timeout: Duration) -> Result<Response, HttpFailure> {
    let outgoing_request = outgoing_request(request)?;
    let outgoing = outgoing_request.body().map_err(unreachable)?;
    let pending =
        outgoing_handler::handle(outgoing_request, Some(options(timeout)?)).map_err(failure)?;

    let written = write_body(outgoing, &request.body);

    pending.subscribe().block();
    // A request the host refused (a host not in allowed_outbound_hosts) has
    // its body dropped, so the write fails too: the response says why.
    let response = pending
        .get()
        .ok_or_else(|| unreachable("no response after waiting"))?
        .map_err(|()| unreachable("the response was taken twice"))?
        .map_err(failure)?;
    written?;
    let status = response.status();
    let headers = header_pairs(response.headers().entries());
    let incoming = response.consume().map_err(unreachable)?;
    let stream = incoming.stream().map_err(unreachable)?;
    let mut body = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => body.extend(chunk),
            Err(wasi::io::streams::StreamError::Closed) => break,
            Err(other) => return Err(unreachable(other)),
        }
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}
