//! The fixed priority levels, with the weight they sort by.

use serde_json::json;

use crate::Context;
use crate::http::{ApiError, Reply, Response};

pub fn list(ctx: &Context) -> Result<Reply, ApiError> {
    let db = ctx.db;
    let rows = db.query(
        &db.q()
            .sql("SELECT id, name, weight FROM priorities ORDER BY weight"),
    )?;
    let priorities = rows
        .iter()
        .map(|row| Ok(json!({ "id": row.int(0)?, "name": row.text(1)?, "weight": row.int(2)? })))
        .collect::<Result<Vec<_>, ApiError>>()?;
    Ok(Response::json(200, &priorities)
        .with_header("cache-control", "public, max-age=3600")
        .into())
}
