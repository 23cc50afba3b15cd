//! `/v1.0/healthz` (ready once the app channel and subscriptions are up) and
//! `/v1.0/healthz/outbound` (ready once components are).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::url_pairs;
use crate::errors::ApiError;
use crate::shared::Shared;

pub async fn healthz(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let asked = url_pairs(query.as_deref().unwrap_or_default())
        .into_iter()
        .find(|(k, _)| k == "appid")
        .map(|(_, v)| v);
    if let Some(app_id) = asked
        && !shared.config.app_ids.contains(&app_id)
    {
        return ApiError::internal("ERR_HEALTH_APPID_NOT_MATCH", "dapr app-id does not match")
            .into_response();
    }
    if shared.is_ready() {
        StatusCode::NO_CONTENT.into_response()
    } else {
        ApiError::internal("ERR_HEALTH_NOT_READY", "dapr is not ready").into_response()
    }
}

pub async fn outbound() -> StatusCode {
    StatusCode::NO_CONTENT
}
