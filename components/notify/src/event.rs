//! Reading a pub/sub delivery: a CloudEvents 1.0 envelope (structured mode,
//! unknown attributes such as Dapr's `topic` ignored; the trace id of its
//! `traceparent` kept for the log) around a [`TaskEvent`] or [`ReminderEvent`].

use docket_events::trace::trace_id;
use docket_events::{Priority, REMINDER_EVENT_TYPE, ReminderEvent, TaskEvent, TaskEventType};
use serde::Deserialize;
use serde_json::Value;

/// Longest event id accepted; it becomes part of state-store keys.
const MAX_EVENT_ID_BYTES: usize = 200;

/// The kinds of event users are notified of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Created,
    Completed,
    Due,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Created => "task.created",
            Kind::Completed => "task.completed",
            Kind::Due => REMINDER_EVENT_TYPE,
        }
    }
}

/// What a user is told about, from either payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub event_id: String,
    pub kind: Kind,
    pub user_id: String,
    pub task_id: i64,
    pub title: String,
    pub description: String,
    pub priority: Option<Priority>,
    pub due_at: Option<String>,
    pub completed_at: Option<String>,
    /// The W3C trace id the event arrived under, if it carried a valid one.
    pub trace_id: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    specversion: String,
    id: String,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    data: Value,
    #[serde(default)]
    traceparent: Option<String>,
}

/// A delivery whose envelope is sound; its payload is read by [`Self::notice`].
#[derive(Debug, Clone)]
pub(crate) struct Event {
    /// The payload's `event_id` where it has one, else the CloudEvent `id`.
    pub event_id: String,
    pub event_type: String,
    pub trace_id: Option<String>,
    data: Value,
}

/// Why a delivery can never be handled.
pub(crate) type Unusable = String;

pub(crate) fn parse(body: &[u8]) -> Result<Event, Unusable> {
    let envelope: Envelope = serde_json::from_slice(body)
        .map_err(|e| format!("not a CloudEvents envelope: {}", short(&e.to_string())))?;
    if envelope.specversion != "1.0" {
        return Err("not a CloudEvents 1.0 envelope".into());
    }
    // Publishers that do not send JSON as JSON leave it in a string.
    let data = match envelope.data {
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        data => data,
    };
    let event_id = data
        .get("event_id")
        .and_then(Value::as_str)
        .unwrap_or(&envelope.id)
        .to_string();
    if event_id.is_empty() || event_id.len() > MAX_EVENT_ID_BYTES {
        return Err(format!(
            "the event id must be 1 to {MAX_EVENT_ID_BYTES} bytes"
        ));
    }
    Ok(Event {
        event_id,
        event_type: envelope.event_type,
        trace_id: envelope
            .traceparent
            .as_deref()
            .and_then(trace_id)
            .map(str::to_string),
        data,
    })
}

impl Event {
    /// The notice, or `None` for kinds nobody is notified of (their payload
    /// is not looked at).
    pub fn notice(&self) -> Result<Option<Notice>, Unusable> {
        let notice = match self.event_type.as_str() {
            "task.created" => self.task_notice(Kind::Created, TaskEventType::Created)?,
            "task.completed" => self.task_notice(Kind::Completed, TaskEventType::Completed)?,
            REMINDER_EVENT_TYPE => self.reminder_notice()?,
            _ => return Ok(None),
        };
        if notice.user_id.is_empty() {
            return Err("the event names no user".into());
        }
        Ok(Some(notice))
    }

    fn payload<T: serde::de::DeserializeOwned>(&self) -> Result<T, Unusable> {
        T::deserialize(&self.data).map_err(|e| {
            format!(
                "the {} payload is unreadable: {}",
                self.event_type,
                short(&e.to_string())
            )
        })
    }

    fn task_notice(&self, kind: Kind, expected: TaskEventType) -> Result<Notice, Unusable> {
        let event: TaskEvent = self.payload()?;
        if event.event_type != expected {
            return Err(format!(
                "a {} envelope holds a {} payload",
                self.event_type,
                event.event_type.as_str()
            ));
        }
        let task = event.task_data;
        Ok(Notice {
            event_id: self.event_id.clone(),
            kind,
            user_id: event.user_id,
            task_id: event.task_id,
            title: task.title,
            description: task.description,
            priority: Some(task.priority),
            due_at: task.due_at,
            completed_at: task.completed_at,
            trace_id: self.trace_id.clone(),
        })
    }

    fn reminder_notice(&self) -> Result<Notice, Unusable> {
        let event: ReminderEvent = self.payload()?;
        Ok(Notice {
            event_id: self.event_id.clone(),
            kind: Kind::Due,
            user_id: event.user_id,
            task_id: event.task_id,
            title: event.title,
            description: String::new(),
            priority: None,
            due_at: event.due_at,
            completed_at: None,
            trace_id: self.trace_id.clone(),
        })
    }
}

/// Parser messages can quote the input; a bounded prefix is enough to log.
fn short(text: &str) -> String {
    text.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(traceparent: &str) -> Vec<u8> {
        serde_json::json!({
            "specversion": "1.0",
            "id": "e1",
            "type": "task.deleted",
            "data": {},
            "traceparent": traceparent,
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn keeps_the_trace_id_of_a_valid_traceparent_only() {
        let traced = parse(&envelope(
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ))
        .unwrap();
        assert_eq!(
            traced.trace_id.as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
        assert_eq!(parse(&envelope("not-a-trace")).unwrap().trace_id, None);
    }
}
