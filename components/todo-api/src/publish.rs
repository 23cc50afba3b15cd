//! Publishing outbox events through the Dapr sidecar, after the response.

use crate::config::Config;
use crate::database;
use spin_sdk::http::{Method, Request, Response, send};
use todo_core::outbox::{PendingEvent, mark_failed, mark_published};

/// Publishes `events` in order, then records each as sent, or releases it
/// for the relay to retry.
pub async fn all(config: &Config, events: Vec<PendingEvent>) {
    if events.is_empty() {
        return;
    }
    let mut outcomes = Vec::with_capacity(events.len());
    for event in &events {
        outcomes.push(publish(config, event).await);
    }
    let db = match database::open(config) {
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

async fn publish(config: &Config, event: &PendingEvent) -> Result<(), String> {
    let url = format!(
        "{}/v1.0/publish/{}/{}",
        config.dapr_url, config.pubsub_name, event.topic
    );
    let request = Request::builder()
        .method(Method::Post)
        .uri(url)
        // Structured CloudEvent: Dapr keeps our `id`, so a retried publish
        // carries the same id and subscribers can drop the duplicate.
        .header("content-type", "application/cloudevents+json")
        .body(event.envelope.clone())
        .build();
    let response: Response = send(request).await.map_err(|e| format!("{e:?}"))?;
    match *response.status() {
        200..=299 => Ok(()),
        status => Err(format!(
            "the sidecar answered {status}: {}",
            String::from_utf8_lossy(response.body())
                .chars()
                .take(200)
                .collect::<String>()
        )),
    }
}
