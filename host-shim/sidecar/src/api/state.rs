//! The state API: get, save (bulk), delete, bulk get, transactions, with
//! daprd's key prefix, ETags and status codes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{query_metadata, url_pairs};
use crate::errors::ApiError;
use crate::registry::StateComponent;
use crate::shared::Shared;
use crate::state::{Concurrency, DeleteRequest, Operation, SetRequest, StateError};

#[derive(Deserialize)]
struct SaveItem {
    key: String,
    #[serde(default)]
    value: Value,
    etag: Option<String>,
    #[serde(default)]
    metadata: BTreeMap<String, String>,
    #[serde(default)]
    options: Options,
}

#[derive(Deserialize, Default)]
struct Options {
    concurrency: Option<String>,
    #[allow(dead_code)]
    consistency: Option<String>,
}

#[derive(Deserialize)]
struct BulkRequest {
    keys: Vec<String>,
    #[allow(dead_code)]
    parallelism: Option<u32>,
}

#[derive(Deserialize)]
struct TransactionRequest {
    operations: Vec<TransactionOperation>,
}

#[derive(Deserialize)]
struct TransactionOperation {
    operation: String,
    request: SaveItem,
}

struct Store<'a> {
    component: &'a StateComponent,
    name: String,
    app_id: String,
}

impl Store<'_> {
    fn key(&self, key: &str) -> Result<String, ApiError> {
        if key.contains("||") {
            return Err(ApiError::malformed(format!(
                "input key/keyPrefix '{key}' can't contain '||'"
            )));
        }
        Ok(self
            .component
            .key_prefix
            .apply(&self.app_id, &self.name, key))
    }
}

fn store<'a>(shared: &'a Shared, headers: &HeaderMap, name: &str) -> Result<Store<'a>, ApiError> {
    if shared.registry.state.is_empty() {
        return Err(ApiError::internal(
            "ERR_STATE_STORE_NOT_CONFIGURED",
            "state store is not configured",
        ));
    }
    let app_id = shared.caller(headers);
    let component = shared
        .registry
        .state
        .get(name)
        .filter(|c| c.spec.in_scope(&app_id))
        .ok_or_else(|| {
            ApiError::bad_request(
                "ERR_STATE_STORE_NOT_FOUND",
                format!("state store {name} is not found"),
            )
        })?;
    Ok(Store {
        component,
        name: name.to_string(),
        app_id,
    })
}

fn concurrency(value: Option<&str>) -> Result<Concurrency, ApiError> {
    match value {
        None | Some("") => Ok(Concurrency::Unset),
        Some("first-write") => Ok(Concurrency::FirstWrite),
        Some("last-write") => Ok(Concurrency::LastWrite),
        Some(other) => Err(ApiError::malformed(format!(
            "unknown concurrency {other:?} (first-write or last-write)"
        ))),
    }
}

/// `ttlInSeconds`: absent keeps the store default, -1 never expires.
fn ttl(metadata: &BTreeMap<String, String>) -> Result<Option<Option<Duration>>, ApiError> {
    match metadata.get("ttlInSeconds") {
        None => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(-1) => Ok(Some(None)),
            Ok(secs) if secs > 0 => Ok(Some(Some(Duration::from_secs(secs as u64)))),
            _ => Err(ApiError::malformed(format!(
                "ttlInSeconds {text:?} must be a positive integer or -1"
            ))),
        },
    }
}

fn set_request(
    store: &Store<'_>,
    item: SaveItem,
    query: &BTreeMap<String, String>,
) -> Result<SetRequest, ApiError> {
    if item.key.is_empty() {
        return Err(ApiError::malformed("state key is empty"));
    }
    let mut metadata = query.clone();
    metadata.extend(item.metadata);
    Ok(SetRequest {
        key: store.key(&item.key)?,
        value: serde_json::to_vec(&item.value).map_err(|e| ApiError::malformed(e.to_string()))?,
        etag: item.etag.filter(|e| !e.is_empty()),
        concurrency: concurrency(item.options.concurrency.as_deref())?,
        ttl: ttl(&metadata)?,
    })
}

fn state_error(code: &'static str, key: &str, err: StateError) -> ApiError {
    let status = match err {
        StateError::EtagMismatch(_) => StatusCode::CONFLICT,
        StateError::EtagInvalid(_) => StatusCode::BAD_REQUEST,
        StateError::Backend(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let verb = if code == "ERR_STATE_DELETE" {
        "deleting"
    } else {
        "saving"
    };
    ApiError::new(
        status,
        code,
        format!("failed {verb} state with key {key}: {err}"),
    )
}

fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::malformed(format!("failed to parse request body: {e}")))
}

pub async fn save(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let store = store(&shared, &headers, &name)?;
    let items: Vec<SaveItem> = parse_json(&body)?;
    let query = query_metadata(query.as_deref());
    let requests = items
        .into_iter()
        .map(|item| set_request(&store, item, &query))
        .collect::<Result<Vec<_>, _>>()?;
    for request in requests {
        let key = request.key.clone();
        store
            .component
            .store
            .set(request)
            .await
            .map_err(|e| state_error("ERR_STATE_SAVE", &key, e))?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn get(
    State(shared): State<Arc<Shared>>,
    Path((name, key)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let store = store(&shared, &headers, &name)?;
    let stored = store
        .component
        .store
        .get(&store.key(&key)?)
        .await
        .map_err(|e| {
            ApiError::internal(
                "ERR_STATE_GET",
                format!("fail to get {key} from state store {name}: {e}"),
            )
        })?;
    let Some(stored) = stored else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    let mut response = (StatusCode::OK, stored.value).into_response();
    let response_headers = response.headers_mut();
    response_headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(etag) = HeaderValue::try_from(stored.etag) {
        response_headers.insert(http::header::ETAG, etag);
    }
    Ok(response)
}

pub async fn delete(
    State(shared): State<Arc<Shared>>,
    Path((name, key)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    let store = store(&shared, &headers, &name)?;
    let query_pairs = url_pairs(query.as_deref().unwrap_or_default());
    let concurrency_param = query_pairs
        .iter()
        .find(|(k, _)| k == "concurrency")
        .map(|(_, v)| v.as_str());
    let request = DeleteRequest {
        key: store.key(&key)?,
        etag: headers
            .get(http::header::IF_MATCH)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim_matches('"').to_string())
            .filter(|v| !v.is_empty()),
        concurrency: concurrency(concurrency_param)?,
    };
    store
        .component
        .store
        .delete(request)
        .await
        .map_err(|e| state_error("ERR_STATE_DELETE", &key, e))?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn bulk_get(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Vec<Value>>, ApiError> {
    let store = store(&shared, &headers, &name)?;
    let request: BulkRequest = parse_json(&body)?;
    let mut items = Vec::with_capacity(request.keys.len());
    for key in request.keys {
        let item = match store.key(&key) {
            Err(e) => json!({"key": key, "error": e.message}),
            Ok(full_key) => match store.component.store.get(&full_key).await {
                Ok(Some(stored)) => {
                    let data =
                        serde_json::from_slice::<Value>(&stored.value).unwrap_or_else(|_| {
                            Value::String(String::from_utf8_lossy(&stored.value).into_owned())
                        });
                    json!({"key": key, "data": data, "etag": stored.etag})
                }
                Ok(None) => json!({"key": key}),
                Err(e) => json!({"key": key, "error": e.to_string()}),
            },
        };
        items.push(item);
    }
    Ok(Json(items))
}

pub async fn transaction(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let store = store(&shared, &headers, &name)?;
    let request: TransactionRequest = parse_json(&body)?;
    let no_query = BTreeMap::new();
    let mut operations = Vec::with_capacity(request.operations.len());
    for op in request.operations {
        operations.push(match op.operation.as_str() {
            "upsert" => Operation::Upsert(set_request(&store, op.request, &no_query)?),
            "delete" => Operation::Delete(DeleteRequest {
                key: store.key(&op.request.key)?,
                etag: op.request.etag.filter(|e| !e.is_empty()),
                concurrency: concurrency(op.request.options.concurrency.as_deref())?,
            }),
            other => {
                return Err(ApiError::bad_request(
                    "ERR_NOT_SUPPORTED_STATE_OPERATION",
                    format!("operation type {other} not supported"),
                ));
            }
        });
    }
    store
        .component
        .store
        .transact(operations)
        .await
        .map_err(|e| {
            ApiError::internal(
                "ERR_STATE_TRANSACTION",
                format!("error while executing state transaction: {e}"),
            )
        })?;
    Ok(StatusCode::NO_CONTENT)
}
