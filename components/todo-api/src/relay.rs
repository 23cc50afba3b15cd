//! `POST /api/internal/outbox-relay`, called by the `outbox-relay` cron
//! binding: publishes pending outbox events oldest first, batch after
//! batch, until none is left, one fails, or the time budget is spent.

use std::time::{Duration, Instant};

use docket_spin::outbox::publish_in_order;
use docket_spin::publish::Publisher;
use serde_json::json;
use todo_core::http::{Request, Response};
use todo_core::outbox::RELAY_BATCH;
use todo_core::sql::filled_limit;
use todo_core::{Context, handle as handle_api};

/// Well inside the host's 30 s deadline.
const TIME_BUDGET: Duration = Duration::from_secs(20);

pub async fn drain(ctx: &Context<'_>, request: &Request, publisher: &Publisher) -> Response {
    let started = Instant::now();
    let (mut published, mut failed) = (0, 0);
    while started.elapsed() < TIME_BUDGET {
        // Each call claims the next batch, as the route does for any host.
        let reply = handle_api(ctx, request);
        if reply.response.status != 200 {
            return reply.response;
        }
        let claimed = reply.events.len();
        let failures = publish_in_order(publisher, ctx.db, &reply.events).await;
        published += claimed - failures;
        failed += failures;
        // A failure means the broker is in trouble: the next tick retries.
        if failures > 0 || !filled_limit(claimed, RELAY_BATCH) {
            break;
        }
    }
    Response::json(200, &json!({ "published": published, "failed": failed }))
}
