//! `/v1.0/invoke/{app-id}/method/{path}`: to the local app or to another
//! app-id's address, with daprd's caller/callee headers; status, headers and
//! body pass through.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;

use crate::app_channel;
use crate::errors::ApiError;
use crate::shared::Shared;

/// Hop-by-hop headers are the connection's, not the request's.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

pub async fn invoke(
    State(shared): State<Arc<Shared>>,
    Path((app_id, method_path)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    mut headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let caller = shared.caller(&headers);
    let path = match query {
        Some(query) => format!("/{method_path}?{query}"),
        None => format!("/{method_path}"),
    };
    for name in HOP_BY_HOP
        .iter()
        .chain(&["host", "content-length", crate::config::CALLER_HEADER])
    {
        headers.remove(*name);
    }
    if let Ok(value) = HeaderValue::try_from(caller.as_str()) {
        headers.insert("dapr-caller-app-id", value);
    }
    if let Ok(value) = HeaderValue::try_from(app_id.as_str()) {
        headers.insert("dapr-callee-app-id", value);
    }
    let result = if shared.config.app_ids.contains(&app_id) {
        shared.app.send(method, &path, headers, body).await
    } else if let Some(base) = shared.config.invoke_targets.get(&app_id) {
        let url = format!("{}{path}", base.trim_end_matches('/'));
        app_channel::send(&shared.client, method, &url, headers, body, None).await
    } else {
        return Err(ApiError::internal(
            "ERR_DIRECT_INVOKE",
            format!("failed to invoke, id: {app_id}, err: no address is known for app id {app_id}"),
        ));
    };
    let answer = result.map_err(|e| {
        ApiError::internal(
            "ERR_DIRECT_INVOKE",
            format!("failed to invoke, id: {app_id}, err: {e}"),
        )
    })?;
    let mut response = (
        StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY),
        answer.body,
    )
        .into_response();
    for (name, value) in &answer.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) && name != "content-length" {
            response.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(response)
}
