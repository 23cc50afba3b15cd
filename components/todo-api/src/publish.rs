//! Publishing outbox events through the Dapr sidecar, after the response.

use spin_sdk::http::{Method, Request, Response, send};
use todo_core::outbox::{PendingEvent, mark_failed, mark_published};
use todo_core::sql::Db;

use crate::config::Config;

/// Publishes `events` in order; each is marked sent, or released for the
/// relay to retry.
pub async fn all(config: &Config, db: &dyn Db, events: Vec<PendingEvent>) {
    for event in events {
        let outcome = publish(config, &event).await;
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
