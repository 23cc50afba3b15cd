//! Publishing the outbox events a request wrote, after its response.

use todo_core::outbox::{PendingEvent, mark_failed, mark_published};

use crate::database;
use crate::publish::Publisher;

/// Publishes `events` in order, then records each as sent, or releases it
/// for the relay to retry.
pub async fn publish_all(publisher: &Publisher, database_url: &str, events: Vec<PendingEvent>) {
    if events.is_empty() {
        return;
    }
    let mut outcomes = Vec::with_capacity(events.len());
    for event in &events {
        outcomes.push(
            publisher
                .cloud_event(&event.topic, event.envelope.clone().into_bytes())
                .await,
        );
    }
    let db = match database::open(database_url) {
        Ok(db) => db,
        Err(error) => {
            // The claims run out and the relay publishes these again.
            eprintln!("recording publish outcomes: {error}");
            return;
        }
    };
    for (event, outcome) in events.iter().zip(outcomes) {
        let recorded = match &outcome {
            Ok(()) => mark_published(db.as_ref(), event.outbox_id, chrono::Utc::now()),
            Err(error) => {
                eprintln!("publishing event {} failed: {error}", event.event_id);
                mark_failed(db.as_ref(), event.outbox_id, error)
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
