//! One push to one device through the FCM HTTP v1 API.

use docket_http::{HttpClient, Outgoing};
use serde_json::{Value, json};

use crate::classify;
use crate::event::Notice;
use crate::message::Message;
use crate::record::Attempt;
use crate::settings::Fcm;

const PROVIDER: &str = "fcm";

/// How a send to one device token ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    Done(Attempt),
    /// The access token was refused: drop it and try again later.
    Unauthorized,
}

pub fn request(
    fcm: &Fcm,
    access_token: &str,
    device_token: &str,
    notice: &Notice,
    message: &Message,
) -> Outgoing {
    let body = json!({
        "message": {
            "token": device_token,
            "notification": { "title": message.subject, "body": message.body },
            // FCM data values must be strings.
            "data": {
                "event_id": notice.event_id,
                "task_id": notice.task_id.to_string(),
                "type": notice.kind.as_str(),
            },
        },
    });
    Outgoing::post(format!(
        "{}/v1/projects/{}/messages:send",
        fcm.base_url, fcm.project_id
    ))
    .with_header("authorization", format!("Bearer {access_token}"))
    .with_json(&body)
}

pub async fn send(http: &impl HttpClient, request: &Outgoing) -> Pushed {
    let response = match http.send(request).await {
        Ok(response) => response,
        Err(failure) => return Pushed::Done(classify::unanswered(PROVIDER, &failure)),
    };
    let body: Value = serde_json::from_slice(&response.body).unwrap_or(Value::Null);
    match response.status {
        200..=299 => Pushed::Done(Attempt::Sent {
            message_id: body.get("name").and_then(Value::as_str).map(str::to_string),
            note: None,
        }),
        401 => Pushed::Unauthorized,
        status => Pushed::Done(classify::refused(PROVIDER, status, error_code(&body))),
    }
}

/// FCM's own code (`UNREGISTERED`, `INVALID_ARGUMENT`, …) where it gives
/// one, else the Google API status.
fn error_code(body: &Value) -> Option<&str> {
    let error = body.get("error")?;
    let fcm_code = error
        .get("details")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .find_map(|detail| detail.get("errorCode").and_then(Value::as_str));
    fcm_code
        .or_else(|| error.get("status").and_then(Value::as_str))
        .and_then(classify::code)
}
