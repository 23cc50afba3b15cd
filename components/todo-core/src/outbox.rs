//! The event outbox: events are written in the transaction that makes the
//! change, published right after the response, and re-published by the relay
//! if that did not work. A claim (`claimed_until`) keeps the immediate
//! publisher and any number of relays from sending the same row at once.

use chrono::{DateTime, Duration, Utc};
use docket_events::{
    REMINDER_EVENT_TYPE, ReminderEvent, SCHEMA_VERSION, TASK_EVENTS_TOPIC, Task, TaskEvent,
    TaskEventType, cloud_event, trace::TraceParent,
};
use serde::Serialize;

use crate::ids::new_event_id;
use crate::sql::{Db, DbError, Param};
use crate::time::format_timestamp;

/// How long a claimed row is left to its claimant before a relay may take it.
pub const CLAIM: Duration = Duration::seconds(30);

/// The CloudEvent `source` of everything written to the outbox (by the API
/// and by the recurring-task service alike).
pub const SOURCE: &str = "docket";

/// An outbox row to publish.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingEvent {
    pub outbox_id: i64,
    pub event_id: String,
    pub topic: String,
    /// The CloudEvent, serialised; published as is so its `id` survives retries.
    pub envelope: String,
}

impl PendingEvent {
    /// The task the event concerns, read from the envelope: published as
    /// the partition key (`metadata.partitionKey`), so a broker that
    /// partitions (Kafka) keeps one task's events in order.
    pub fn partition_key(&self) -> Option<i64> {
        let envelope: serde_json::Value = serde_json::from_str(&self.envelope).ok()?;
        envelope["data"]["task_id"].as_i64()
    }
}

/// When an event happened and, if a request caused it, the request's W3C
/// `traceparent`, which the event carries on so the trace follows it.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub at: DateTime<Utc>,
    pub traceparent: Option<&'a str>,
}

impl Origin<'_> {
    /// An event no request caused (the scheduler's).
    pub fn untraced(at: DateTime<Utc>) -> Origin<'static> {
        Origin {
            at,
            traceparent: None,
        }
    }
}

/// Writes a task event to the outbox, claimed for the caller to publish.
pub fn record_task_event(
    db: &dyn Db,
    origin: Origin,
    event_type: TaskEventType,
    task: &Task,
    changed_fields: Vec<String>,
) -> Result<PendingEvent, DbError> {
    let event = TaskEvent {
        version: SCHEMA_VERSION,
        event_id: new_event_id(),
        event_type,
        task_id: task.id,
        task_data: task.clone(),
        user_id: task.user_id.clone(),
        timestamp: format_timestamp(origin.at),
        changed_fields,
    };
    enqueue(db, origin, &event.event_id, event_type.as_str(), &event)
}

/// Writes a reminder for `task` to the outbox, claimed for the caller.
pub fn record_reminder(
    db: &dyn Db,
    now: DateTime<Utc>,
    task: &Task,
    remind_at: DateTime<Utc>,
) -> Result<PendingEvent, DbError> {
    let event = ReminderEvent {
        version: SCHEMA_VERSION,
        event_id: new_event_id(),
        task_id: task.id,
        title: task.title.clone(),
        due_at: task.due_at.clone(),
        remind_at: format_timestamp(remind_at),
        user_id: task.user_id.clone(),
        timestamp: format_timestamp(now),
    };
    enqueue(
        db,
        Origin::untraced(now),
        &event.event_id,
        REMINDER_EVENT_TYPE,
        &event,
    )
}

/// One outbox row holding `data` as a CloudEvent on [`TASK_EVENTS_TOPIC`].
fn enqueue(
    db: &dyn Db,
    origin: Origin,
    event_id: &str,
    event_type: &str,
    data: &impl Serialize,
) -> Result<PendingEvent, DbError> {
    let now = origin.at;
    let timestamp = format_timestamp(now);
    let mut envelope = cloud_event(event_id, event_type, SOURCE, &timestamp, data);
    // A valid one only: the broker starts a fresh trace for the rest.
    if let Some(traceparent) = origin
        .traceparent
        .filter(|t| TraceParent::parse(t).is_some())
    {
        envelope["traceparent"] = traceparent.into();
    }
    let envelope = envelope.to_string();
    let rows = db.query(
        &db.q()
            .sql("INSERT INTO event_outbox (event_id, topic, event_type, payload, created_at, claimed_until) VALUES (")
            .bind(Param::from(event_id))
            .sql(", ")
            .bind(Param::from(TASK_EVENTS_TOPIC))
            .sql(", ")
            .bind(Param::from(event_type))
            .sql(", ")
            .bind(Param::from(envelope.as_str()))
            .sql(", ")
            .bind(Param::Timestamp(now))
            .sql(", ")
            .bind(Param::Timestamp(now + CLAIM))
            .sql(") RETURNING id"),
    )?;
    let outbox_id = rows
        .first()
        .ok_or_else(|| DbError::Decode("INSERT ... RETURNING gave no row".into()))?
        .int(0)?;
    Ok(PendingEvent {
        outbox_id,
        event_id: event_id.to_string(),
        topic: TASK_EVENTS_TOPIC.to_string(),
        envelope,
    })
}

/// Claims up to `limit` unpublished rows, oldest first, that nobody holds.
pub fn claim_pending(
    db: &dyn Db,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<PendingEvent>, DbError> {
    let candidates = db.query(
        &db.q()
            .sql("SELECT id, event_id, topic, payload FROM event_outbox WHERE published_at IS NULL AND (claimed_until IS NULL OR claimed_until < ")
            .bind(Param::Timestamp(now))
            .sql(") ORDER BY id LIMIT ")
            .bind(Param::Int(limit)),
    )?;
    let mut claimed = Vec::with_capacity(candidates.len());
    for row in candidates {
        let outbox_id = row.int(0)?;
        // Another relay may have claimed the row since the SELECT; only the
        // claimant whose UPDATE matched publishes it.
        let taken = db.execute(
            &db.q()
                .sql("UPDATE event_outbox SET claimed_until = ")
                .bind(Param::Timestamp(now + CLAIM))
                .sql(" WHERE id = ")
                .bind(Param::Int(outbox_id))
                .sql(" AND published_at IS NULL AND (claimed_until IS NULL OR claimed_until < ")
                .bind(Param::Timestamp(now))
                .sql(")"),
        )?;
        if taken == 1 {
            claimed.push(PendingEvent {
                outbox_id,
                event_id: row.text(1)?,
                topic: row.text(2)?,
                envelope: row.text(3)?,
            });
        }
    }
    Ok(claimed)
}

pub fn mark_published(db: &dyn Db, outbox_id: i64, now: DateTime<Utc>) -> Result<(), DbError> {
    db.execute(
        &db.q()
            .sql("UPDATE event_outbox SET published_at = ")
            .bind(Param::Timestamp(now))
            .sql(", attempts = attempts + 1, last_error = NULL WHERE id = ")
            .bind(Param::Int(outbox_id)),
    )?;
    Ok(())
}

/// Records a failed attempt and releases the claim, so the next relay run
/// picks the row up.
pub fn mark_failed(db: &dyn Db, outbox_id: i64, error: &str) -> Result<(), DbError> {
    let error: String = error.chars().take(500).collect();
    db.execute(
        &db.q()
            .sql("UPDATE event_outbox SET attempts = attempts + 1, claimed_until = NULL, last_error = ")
            .bind(Param::from(error))
            .sql(" WHERE id = ")
            .bind(Param::Int(outbox_id)),
    )?;
    Ok(())
}

/// How many pending events one relay call takes on.
pub const RELAY_BATCH: i64 = 200;

/// `POST /api/internal/outbox-relay`: claims what is still pending, oldest
/// first; the component publishes the batch and marks each row.
pub fn relay(ctx: &crate::Context) -> Result<crate::http::Reply, crate::http::ApiError> {
    let events = claim_pending(ctx.db, ctx.now, RELAY_BATCH)?;
    let body = serde_json::json!({ "claimed": events.len() });
    Ok(crate::http::Reply {
        response: crate::http::Response::json(200, &body),
        events,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(envelope: &str) -> PendingEvent {
        PendingEvent {
            outbox_id: 1,
            event_id: "e1".into(),
            topic: TASK_EVENTS_TOPIC.into(),
            envelope: envelope.into(),
        }
    }

    #[test]
    fn the_partition_key_is_the_events_task() {
        let reminder = cloud_event(
            "e1",
            REMINDER_EVENT_TYPE,
            SOURCE,
            "2026-11-29T10:00:00Z",
            &serde_json::json!({"task_id": 42, "title": "call mom"}),
        );
        assert_eq!(pending(&reminder.to_string()).partition_key(), Some(42));
        assert_eq!(pending("not json").partition_key(), None);
        assert_eq!(pending(r#"{"data":{"task_id":"7"}}"#).partition_key(), None);
    }
}
