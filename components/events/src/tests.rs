use super::*;
use serde_json::json;
use std::path::PathBuf;

fn sample_task() -> Task {
    Task {
        id: 7,
        user_id: "alice".into(),
        title: "Write the report".into(),
        description: String::new(),
        completed: false,
        completed_at: None,
        priority: Priority::High,
        due_at: Some("2026-12-01T09:00:00.000Z".into()),
        remind_at: None,
        tags: vec![TaskTag {
            id: 1,
            name: "work".into(),
            color: "#ff0000".into(),
        }],
        recurring_task_id: None,
        occurrence_at: None,
        created_at: "2026-11-28T10:00:00.000Z".into(),
        updated_at: "2026-11-28T10:00:00.000Z".into(),
        version: 1,
    }
}

fn sample_event() -> TaskEvent {
    TaskEvent {
        version: SCHEMA_VERSION,
        event_id: "0f8e6a8e-1d7c-4d5b-9a53-7d1c8b2f4e11".into(),
        event_type: TaskEventType::Updated,
        task_id: 7,
        task_data: sample_task(),
        user_id: "alice".into(),
        timestamp: "2026-11-28T10:00:01.000Z".into(),
        changed_fields: vec!["title".into()],
    }
}

fn schema_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("schemas")
        .join(name)
}

/// The committed schema must equal the generated one; `UPDATE_SCHEMAS=1`
/// rewrites the files instead.
fn check_committed(name: &str, generated: &serde_json::Value) {
    let path = schema_file(name);
    let pretty = serde_json::to_string_pretty(generated).unwrap() + "\n";
    if std::env::var_os("UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &pretty).unwrap();
    }
    // Compared as JSON, not text: key order depends on serde_json features
    // that differ between the guest and host builds of this crate.
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        &committed, generated,
        "{name} is stale: rerun with UPDATE_SCHEMAS=1"
    );
}

#[test]
fn committed_schemas_match_the_types() {
    check_committed("task-event.schema.json", &task_event_schema());
    check_committed("reminder-event.schema.json", &reminder_event_schema());
}

#[test]
fn a_task_event_validates_against_its_schema() {
    let schema = jsonschema::validator_for(&task_event_schema()).unwrap();
    let event = serde_json::to_value(sample_event()).unwrap();
    assert!(schema.is_valid(&event), "{:?}", schema.validate(&event));
    assert_eq!(event["event_type"], "task.updated");
    assert_eq!(event["task_data"]["priority"], "High");
}

#[test]
fn the_schema_rejects_a_task_event_without_task_id_or_with_an_unknown_type() {
    let schema = jsonschema::validator_for(&task_event_schema()).unwrap();
    let mut event = serde_json::to_value(sample_event()).unwrap();
    event.as_object_mut().unwrap().remove("task_id");
    assert!(!schema.is_valid(&event));
    let mut event = serde_json::to_value(sample_event()).unwrap();
    event["event_type"] = json!("task.exploded");
    assert!(!schema.is_valid(&event));
}

#[test]
fn a_reminder_event_validates_and_round_trips() {
    let reminder = ReminderEvent {
        version: SCHEMA_VERSION,
        event_id: "r-1".into(),
        task_id: 7,
        title: "Write the report".into(),
        due_at: Some("2026-12-01T09:00:00.000Z".into()),
        remind_at: "2026-12-01T08:30:00.000Z".into(),
        user_id: "alice".into(),
        timestamp: "2026-12-01T08:30:00.120Z".into(),
    };
    let value = serde_json::to_value(&reminder).unwrap();
    let schema = jsonschema::validator_for(&reminder_event_schema()).unwrap();
    assert!(schema.is_valid(&value));
    let back: ReminderEvent = serde_json::from_value(value).unwrap();
    assert_eq!(back, reminder);
}

#[test]
fn priorities_map_to_ids_and_names_both_ways() {
    for priority in Priority::ALL {
        assert_eq!(Priority::from_id(priority.id()), Some(priority));
        assert_eq!(
            Priority::from_name(&priority.name().to_uppercase()),
            Some(priority)
        );
    }
    assert_eq!(Priority::from_name("urgent"), None);
    assert_eq!(Priority::from_id(0), None);
}

#[test]
fn cloud_event_keeps_the_event_id() {
    let event = sample_event();
    let envelope = cloud_event(
        &event.event_id,
        event.event_type.as_str(),
        "todo-api",
        &event.timestamp,
        &event,
    );
    assert_eq!(envelope["id"], json!(event.event_id));
    assert_eq!(envelope["specversion"], "1.0");
    assert_eq!(envelope["data"]["task_id"], 7);
}
