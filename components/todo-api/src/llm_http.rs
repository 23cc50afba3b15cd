//! POSTs to the language model with a deadline. Spin's `send` takes no
//! request options, so this uses `wasi:http` directly and waits on the
//! response in place: the instance serves this one request anyway.

use std::time::Duration;

use docket_chat::llm::{Http, HttpFailure};
use serde_json::Value;
use spin_sdk::wit::wasi::http0_2_0::outgoing_handler;
use spin_sdk::wit::wasi::http0_2_0::types::{
    ErrorCode, Fields, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};

/// Largest write `wasi:io` accepts at once.
const WRITE_CHUNK: usize = 4096;

pub struct WasiHttp {
    pub timeout: Duration,
}

impl Http for WasiHttp {
    async fn post_json(
        &self,
        url: &str,
        bearer: &str,
        body: &Value,
    ) -> Result<(u16, Vec<u8>), HttpFailure> {
        post(url, bearer, body.to_string().as_bytes(), self.timeout)
    }
}

fn unreachable(what: impl std::fmt::Debug) -> HttpFailure {
    HttpFailure::Unreachable(format!("{what:?}"))
}

fn failure(code: ErrorCode) -> HttpFailure {
    match code {
        ErrorCode::ConnectionReadTimeout | ErrorCode::ConnectionTimeout => HttpFailure::Timeout,
        other => unreachable(other),
    }
}

fn post(
    url: &str,
    bearer: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, Vec<u8>), HttpFailure> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| unreachable("llm_base_url has no scheme"))?;
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let headers = Fields::from_list(&[
        ("content-type".to_string(), b"application/json".to_vec()),
        (
            "authorization".to_string(),
            format!("Bearer {bearer}").into_bytes(),
        ),
    ])
    .map_err(unreachable)?;
    let request = OutgoingRequest::new(headers);
    let scheme = if scheme.eq_ignore_ascii_case("https") {
        Scheme::Https
    } else {
        Scheme::Http
    };
    request.set_method(&Method::Post).map_err(unreachable)?;
    request.set_scheme(Some(&scheme)).map_err(unreachable)?;
    request
        .set_authority(Some(authority))
        .map_err(unreachable)?;
    request
        .set_path_with_query(Some(path))
        .map_err(unreachable)?;
    let outgoing = request.body().map_err(unreachable)?;

    let nanos = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
    let options = RequestOptions::new();
    options
        .set_first_byte_timeout(Some(nanos))
        .map_err(unreachable)?;
    options
        .set_between_bytes_timeout(Some(nanos))
        .map_err(unreachable)?;
    let pending = outgoing_handler::handle(request, Some(options)).map_err(failure)?;

    let stream = outgoing.write().map_err(unreachable)?;
    for chunk in body.chunks(WRITE_CHUNK) {
        stream
            .blocking_write_and_flush(chunk)
            .map_err(unreachable)?;
    }
    drop(stream);
    OutgoingBody::finish(outgoing, None).map_err(failure)?;

    pending.subscribe().block();
    let response = pending
        .get()
        .ok_or_else(|| unreachable("no response after waiting"))?
        .map_err(|()| unreachable("the response was taken twice"))?
        .map_err(failure)?;
    let status = response.status();
    let incoming = response.consume().map_err(unreachable)?;
    let stream = incoming.stream().map_err(unreachable)?;
    let mut bytes = Vec::new();
    loop {
        match stream.blocking_read(64 * 1024) {
            Ok(chunk) => bytes.extend(chunk),
            Err(wasi::io::streams::StreamError::Closed) => break,
            Err(other) => return Err(unreachable(other)),
        }
    }
    Ok((status, bytes))
}
