//! Publishing CloudEvents through the Dapr sidecar.

use spin_sdk::http::{Method, Request, Response, send};

/// A pub/sub component behind the sidecar.
pub struct Publisher {
    /// E.g. `http://localhost:3500`.
    pub dapr_url: String,
    /// The pub/sub component's name.
    pub pubsub: String,
}

impl Publisher {
    /// Publishes a structured CloudEvent (`envelope`) on `topic`. Dapr keeps
    /// its `id`, so a retried publish carries the same id and subscribers
    /// can drop the duplicate. Events with the same `partition_key` stay in
    /// order on a partitioned broker (Kafka's record key).
    pub async fn cloud_event(
        &self,
        topic: &str,
        envelope: Vec<u8>,
        partition_key: Option<i64>,
    ) -> Result<(), String> {
        let mut url = format!("{}/v1.0/publish/{}/{topic}", self.dapr_url, self.pubsub);
        if let Some(key) = partition_key {
            url.push_str(&format!("?metadata.partitionKey={key}"));
        }
        let request = Request::builder()
            .method(Method::Post)
            .uri(url)
            .header("content-type", "application/cloudevents+json")
            .body(envelope)
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
}
