//! Publishing the outbox events a request or a batch wrote, and recording
//! each outcome: published, or released for the relay to retry.

use futures::future::join_all;
use todo_core::outbox::{PendingEvent, mark_failed, mark_published};
use todo_core::sql::Db;

use crate::database;
use crate::publish::Publisher;

/// Publishes `events` one after another, in order, then records each
/// outcome. For a request's events, which may concern one task.
pub async fn publish_all(publisher: &Publisher, database_url: &str, events: Vec<PendingEvent>) {
    if events.is_empty() {
        return;
    }
    let mut outcomes = Vec::with_capacity(events.len());
    for event in &events {
        outcomes.push(publish(publisher, event).await);
    }
    match database::open(database_url) {
        Ok(db) => record(db.as_ref(), &events, outcomes),
        // The claims run out and the relay publishes these again.
        Err(error) => eprintln!("recording publish outcomes: {error}"),
    }
}

/// Publishes `events` up to `concurrency` at a time, recording outcomes as
/// each group finishes. Only for events of distinct tasks: their order
/// relative to each other does not matter.
pub async fn publish_unordered(
    publisher: &Publisher,
    db: &dyn Db,
    events: &[PendingEvent],
    concurrency: usize,
) {
    for group in events.chunks(concurrency.max(1)) {
        let outcomes = join_all(group.iter().map(|event| publish(publisher, event))).await;
        record(db, group, outcomes);
    }
}

/// Publishes `events` one after another, in order, recording each outcome
/// as it comes; answers how many failed.
pub async fn publish_in_order(
    publisher: &Publisher,
    db: &dyn Db,
    events: &[PendingEvent],
) -> usize {
    let mut failed = 0;
    for event in events {
        let outcome = publish(publisher, event).await;
        failed += usize::from(outcome.is_err());
        record(db, std::slice::from_ref(event), vec![outcome]);
    }
    failed
}

async fn publish(publisher: &Publisher, event: &PendingEvent) -> Result<(), String> {
    publisher
        .cloud_event(
            &event.topic,
            event.envelope.clone().into_bytes(),
            event.partition_key(),
        )
        .await
}

fn record(db: &dyn Db, events: &[PendingEvent], outcomes: Vec<Result<(), String>>) {
    for (event, outcome) in events.iter().zip(outcomes) {
        let recorded = match &outcome {
            Ok(()) => mark_published(db, event.outbox_id, chrono::Utc::now()),
            Err(error) => {
                eprintln!("publishing event {} failed: {error}", event.event_id);
                mark_failed(db, event.outbox_id, error)
            }
        };
        if let Err(error) = recorded {
            eprintln!(
                "recording the outcome for event {}: {error}",
                event.event_id
            );
        }
    }
}
