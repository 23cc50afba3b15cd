//! Email through SendGrid's v3 mail send API.

use docket_http::{HttpClient, Outgoing};
use serde_json::{Value, json};

use crate::classify;
use crate::message::Message;
use crate::record::Attempt;
use crate::settings::SendGrid;

const PROVIDER: &str = "sendgrid";

pub fn request(config: &SendGrid, to: &str, message: &Message, event_id: &str) -> Outgoing {
    let mut from = json!({ "email": config.from.email });
    if let Some(name) = &config.from.name {
        from["name"] = Value::String(name.clone());
    }
    let body = json!({
        "personalizations": [{ "to": [{ "email": to }] }],
        "from": from,
        "subject": message.subject,
        "content": [{ "type": "text/plain", "value": message.body }],
        "custom_args": { "event_id": event_id },
    });
    Outgoing::post(format!("{}/v3/mail/send", config.base_url))
        .with_header("authorization", format!("Bearer {}", config.api_key))
        .with_json(&body)
}

pub async fn send(
    http: &impl HttpClient,
    config: &SendGrid,
    to: &str,
    message: &Message,
    event_id: &str,
) -> Attempt {
    match http.send(&request(config, to, message, event_id)).await {
        Ok(response) if (200..300).contains(&response.status) => Attempt::Sent {
            message_id: response.header("x-message-id").map(str::to_string),
            note: None,
        },
        Ok(response) => classify::refused(PROVIDER, response.status, None),
        Err(failure) => classify::unanswered(PROVIDER, &failure),
    }
}
