//! `GET /v1.0/secrets/{store}/{key}` and `/bulk`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::errors::ApiError;
use crate::registry::SecretComponent;
use crate::shared::Shared;

fn store<'a>(
    shared: &'a Shared,
    headers: &HeaderMap,
    name: &str,
) -> Result<&'a SecretComponent, ApiError> {
    if shared.registry.secrets.is_empty() {
        return Err(ApiError::internal(
            "ERR_SECRET_STORES_NOT_CONFIGURED",
            "secret store is not configured",
        ));
    }
    let caller = shared.caller(headers);
    shared
        .registry
        .secrets
        .get(name)
        .filter(|c| c.spec.in_scope(&caller))
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "ERR_SECRET_STORE_NOT_FOUND",
                format!("failed finding secret store with key {name}"),
            )
        })
}

pub async fn get(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path((name, key)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let store = store(&shared, &headers, &name)?;
    match store.store.get(&key).await {
        Ok(Some(values)) if values.is_empty() => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(Some(values)) => Ok(Json(values).into_response()),
        Ok(None) => Err(ApiError::internal(
            "ERR_SECRET_GET",
            format!(
                "failed getting secret with key {key} from secret store {name}: secret {key} not found"
            ),
        )),
        Err(e) => Err(ApiError::internal(
            "ERR_SECRET_GET",
            format!("failed getting secret with key {key} from secret store {name}: {e}"),
        )),
    }
}

pub async fn bulk(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let store = store(&shared, &headers, &name)?;
    match store.store.bulk().await {
        Ok(all) if all.is_empty() => Ok(StatusCode::NO_CONTENT.into_response()),
        Ok(all) => Ok(Json(all).into_response()),
        Err(e) => Err(ApiError::internal(
            "ERR_SECRET_GET",
            format!("failed getting secrets from secret store {name}: {e}"),
        )),
    }
}
