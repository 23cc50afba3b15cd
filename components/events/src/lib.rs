//! The events Docket's services exchange over Dapr pub/sub, as CloudEvents 1.0
//! on topic [`TASK_EVENTS_TOPIC`]. Each payload type carries a `version` and has
//! a JSON Schema, kept in `schemas/` and checked against the types by the tests.
//!
//! Timestamps are RFC 3339 strings in UTC.

pub mod trace;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The topic every task and reminder event is published on.
pub const TASK_EVENTS_TOPIC: &str = "task-events";

/// The payload version this crate writes. Readers accept any version up to it;
/// a new version only ever adds optional fields.
pub const SCHEMA_VERSION: u32 = 1;

/// One of Low, Medium, High, Critical.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
pub enum Priority {
    Low,
    Medium,
    High,
    Critical,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Self::Low, Self::Medium, Self::High, Self::Critical];

    /// The key in the `priorities` table.
    pub fn id(self) -> i64 {
        match self {
            Self::Low => 1,
            Self::Medium => 2,
            Self::High => 3,
            Self::Critical => 4,
        }
    }

    pub fn from_id(id: i64) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.id() == id)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Low => "Low",
            Self::Medium => "Medium",
            Self::High => "High",
            Self::Critical => "Critical",
        }
    }

    /// Case-insensitive lookup by name ("high", "High", "HIGH").
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }
}

/// A tag as it appears on a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskTag {
    pub id: i64,
    pub name: String,
    /// `#rrggbb`.
    pub color: String,
}

/// A task, whole: what the API returns and what every task event carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Task {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: String,
    pub completed: bool,
    pub completed_at: Option<String>,
    pub priority: Priority,
    pub due_at: Option<String>,
    pub remind_at: Option<String>,
    pub tags: Vec<TaskTag>,
    /// The recurring template this task was generated from.
    pub recurring_task_id: Option<i64>,
    /// The template occurrence this task was generated for.
    pub occurrence_at: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// Bumped by every change; a write may require it (`If-Match`).
    pub version: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TaskEventType {
    #[serde(rename = "task.created")]
    Created,
    #[serde(rename = "task.updated")]
    Updated,
    #[serde(rename = "task.completed")]
    Completed,
    #[serde(rename = "task.deleted")]
    Deleted,
}

impl TaskEventType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "task.created",
            Self::Updated => "task.updated",
            Self::Completed => "task.completed",
            Self::Deleted => "task.deleted",
        }
    }
}

/// Something happened to a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TaskEvent {
    pub version: u32,
    /// Unique per event; consumers use it to ignore redeliveries. It is also the
    /// CloudEvent `id`.
    pub event_id: String,
    pub event_type: TaskEventType,
    pub task_id: i64,
    /// The task after the change (before it, for `task.deleted`).
    pub task_data: Task,
    pub user_id: String,
    pub timestamp: String,
    /// For `task.updated`: the names of the fields that changed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changed_fields: Vec<String>,
}

/// A task's reminder time has come.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ReminderEvent {
    pub version: u32,
    pub event_id: String,
    pub task_id: i64,
    pub title: String,
    pub due_at: Option<String>,
    pub remind_at: String,
    pub user_id: String,
    pub timestamp: String,
}

/// The CloudEvent `type` of a reminder.
pub const REMINDER_EVENT_TYPE: &str = "task.due";

/// The JSON Schema of [`TaskEvent`].
pub fn task_event_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(TaskEvent)).unwrap_or_default()
}

/// The JSON Schema of [`ReminderEvent`].
pub fn reminder_event_schema() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(ReminderEvent)).unwrap_or_default()
}

/// A CloudEvents 1.0 envelope (structured mode) around `data`, ready to publish
/// with content type `application/cloudevents+json` so that Dapr keeps its `id`.
pub fn cloud_event(
    id: &str,
    event_type: &str,
    source: &str,
    time: &str,
    data: &impl Serialize,
) -> serde_json::Value {
    serde_json::json!({
        "specversion": "1.0",
        "id": id,
        "type": event_type,
        "source": source,
        "time": time,
        "datacontenttype": "application/json",
        "data": data,
    })
}

#[cfg(test)]
mod tests;
