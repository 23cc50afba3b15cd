//! Rows that belong to one user, addressed by id.

use crate::http::{ApiError, Reply, Response};
use crate::sql::{Db, Param, Row};

/// Deletes row `id` of `table` if it is `user_id`'s: 204, else 404 (also
/// when the row is someone else's). `what` names the row in the message.
pub fn delete(
    db: &dyn Db,
    table: &'static str,
    what: &str,
    user_id: &str,
    id: i64,
) -> Result<Reply, ApiError> {
    let deleted = db.execute(
        &db.q()
            .sql(&format!("DELETE FROM {table} WHERE id = "))
            .bind(Param::Int(id))
            .sql(" AND user_id = ")
            .bind(Param::from(user_id)),
    )?;
    if deleted == 0 {
        return Err(ApiError::not_found(format!("{what} {id} does not exist")));
    }
    Ok(Response::no_content().into())
}

/// The row `id` of `select` (`SELECT ... FROM table [alias]`, columns
/// qualified with `qualifier` such as `t.`) if it is `user_id`'s, else 404.
pub fn find(
    db: &dyn Db,
    select: &str,
    qualifier: &str,
    what: &str,
    user_id: &str,
    id: i64,
    suffix: &str,
) -> Result<Row, ApiError> {
    let rows = db.query(
        &db.q()
            .sql(&format!("{select} WHERE {qualifier}id = "))
            .bind(Param::Int(id))
            .sql(&format!(" AND {qualifier}user_id = "))
            .bind(Param::from(user_id))
            .sql(suffix),
    )?;
    rows.into_iter()
        .next()
        .ok_or_else(|| ApiError::not_found(format!("{what} {id} does not exist")))
}
