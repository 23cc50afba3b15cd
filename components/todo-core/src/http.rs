//! The API's HTTP shapes (from `docket-http`), plus what only the API has:
//! replies that carry outbox events, and database errors as problems.

pub use docket_http::{ApiError, MAX_BODY_BYTES, Request, Response};

use crate::outbox::PendingEvent;
use crate::sql::DbError;

/// A handler's result: the response, plus events it wrote to the outbox that
/// should be published once the response is on its way.
#[derive(Debug)]
pub struct Reply {
    pub response: Response,
    pub events: Vec<PendingEvent>,
}

impl From<Response> for Reply {
    fn from(response: Response) -> Self {
        Self {
            response,
            events: Vec::new(),
        }
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        let cause = error.to_string();
        let api_error = match error {
            DbError::Unavailable(_) => {
                Self::new(503, "Service Unavailable", "the database is unavailable")
                    .header("retry-after", "1".to_string())
            }
            DbError::Unique(_) => Self::conflict("that already exists"),
            // The details stay in the logs: they may name tables and values.
            _ => Self::internal("the request could not be completed"),
        };
        api_error.cause(cause)
    }
}
