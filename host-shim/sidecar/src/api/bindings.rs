//! `POST /v1.0/bindings/{name}`: output bindings.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use crate::bindings::http::{BindingError, BindingResponse};
use crate::errors::ApiError;
use crate::shared::Shared;

#[derive(Deserialize)]
struct InvokeRequest {
    #[serde(default)]
    operation: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
}

fn failed(name: &str, reason: impl std::fmt::Display) -> ApiError {
    ApiError::internal(
        "ERR_INVOKE_OUTPUT_BINDING",
        format!("error invoking output binding {name}: {reason}"),
    )
}

fn with_metadata(mut response: Response, metadata: &[(String, String)]) -> Response {
    for (key, value) in metadata {
        if let (Ok(name), Ok(value)) = (
            HeaderName::try_from(format!("metadata.{key}")),
            HeaderValue::try_from(value.as_str()),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

pub async fn invoke(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request: InvokeRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::malformed(format!("failed to parse request body: {e}")))?;
    let caller = shared.caller(&headers);
    let Some((binding, _)) = shared
        .registry
        .http
        .get(&name)
        .filter(|(_, spec)| spec.in_scope(&caller))
    else {
        return Err(failed(&name, "couldn't find output binding"));
    };
    if request.operation.is_empty() {
        return Err(failed(&name, "operation field is missing from request"));
    }
    let data = match &request.data {
        Value::Null => Bytes::new(),
        other => Bytes::from(serde_json::to_vec(other).map_err(|e| failed(&name, e))?),
    };
    match binding
        .invoke(&shared.client, &request.operation, data, &request.metadata)
        .await
    {
        Ok(BindingResponse { body, metadata }) if body.is_empty() => Ok(with_metadata(
            StatusCode::NO_CONTENT.into_response(),
            &metadata,
        )),
        Ok(BindingResponse { body, metadata }) => {
            let mut response = (StatusCode::OK, body).into_response();
            response.headers_mut().insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            Ok(with_metadata(response, &metadata))
        }
        Err(BindingError::Status { status, response }) => {
            let error = failed(&name, format!("received status code {status}"));
            Ok(with_metadata(error.into_response(), &response.metadata))
        }
        Err(e) => Err(failed(&name, e)),
    }
}
