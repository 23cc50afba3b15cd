//! Spin's incoming request and outgoing response, as `docket-http` shapes.

use docket_http::{ApiError, MAX_BODY_BYTES, Request, Response};
use futures::{SinkExt, StreamExt};
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};

/// Header entries as lower-case names and (lossily) UTF-8 values.
pub fn header_pairs(entries: Vec<(String, Vec<u8>)>) -> Vec<(String, String)> {
    entries
        .into_iter()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect()
}

/// Reads the request, refusing bodies over [`MAX_BODY_BYTES`] without
/// buffering them.
pub async fn read_request(incoming: IncomingRequest) -> Result<Request, ApiError> {
    let method = incoming.method().to_string();
    let path_and_query = incoming.path_with_query().unwrap_or_default();
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (path_and_query, String::new()),
    };
    let headers = header_pairs(incoming.headers().entries());
    let declared_length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(ApiError::too_large());
    }
    let mut body = Vec::new();
    let mut stream = incoming.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(ApiError::too_large());
        }
        body.extend(chunk);
    }
    Ok(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

pub async fn send_response(out: ResponseOutparam, response: Response) {
    let headers: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    let Ok(fields) = Fields::from_list(&headers) else {
        eprintln!("a response header was invalid; answering 500");
        let outgoing = OutgoingResponse::new(Fields::new());
        let _ = outgoing.set_status_code(500);
        out.set(outgoing);
        return;
    };
    let outgoing = OutgoingResponse::new(fields);
    let _ = outgoing.set_status_code(response.status);
    let mut body = outgoing.take_body();
    out.set(outgoing);
    if !response.body.is_empty() && body.send(response.body).await.is_err() {
        eprintln!("the client went away before the response was written");
    }
    // Dropping the sink finishes the body, and with it the response.
    drop(body);
}
