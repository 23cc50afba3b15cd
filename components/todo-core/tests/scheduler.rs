//! The recurring-task service's batches over a real SQLite database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, Duration, Utc};
use serde_json::{Value, json};
use support::Api;
use todo_core::scheduler::{Limits, generate_batch, remind_batch};

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn template(api: &Api, user: &str, body: Value) -> Value {
    let answer = api.call(
        Some(user),
        "POST",
        &format!("/api/{user}/recurring"),
        Some(body),
    );
    assert_eq!(answer.status, 201, "{}", answer.body);
    answer.body
}

fn daily_at_nine(starts_at: &str) -> Value {
    json!({"pattern": "daily", "time_of_day": "09:00", "timezone": "UTC", "starts_at": starts_at})
}

fn generated(api: &Api, template_id: i64) -> Vec<String> {
    let rows = api.db.strings(&format!(
        "SELECT occurrence_at FROM tasks WHERE recurring_task_id = {template_id} ORDER BY occurrence_at"
    ));
    rows.into_iter().map(|t| t.replace(".000Z", "Z")).collect()
}

fn run_until_done(api: &Api, now: DateTime<Utc>, limits: Limits) -> (usize, usize) {
    let (mut batches, mut produced) = (0, 0);
    loop {
        let batch = generate_batch(&api.db, now, limits).unwrap();
        batches += 1;
        produced += batch.produced;
        assert_eq!(batch.events.len(), batch.produced);
        if !batch.more {
            return (batches, produced);
        }
        assert!(batches < 1000, "the backlog never ends");
    }
}

#[test]
fn a_scheduler_down_for_two_days_creates_exactly_the_missed_tasks() {
    let api = Api::new(); // 2026-03-02T08:00Z
    let tag = api.call(
        Some("ann"),
        "POST",
        "/api/ann/tags",
        Some(json!({"name": "standup"})),
    );
    let body = template(
        &api,
        "ann",
        json!({"title": "Daily standup", "priority": "High", "tag_ids": [tag.body["id"]],
               "recurrence": daily_at_nine("2026-03-01T00:00:00Z")}),
    );
    assert_eq!(body["next_occurrence"], "2026-03-02T09:00:00.000Z");
    let id = body["id"].as_i64().unwrap();

    let now = at("2026-03-04T10:00:00Z");
    let batch = generate_batch(&api.db, now, Limits::default()).unwrap();
    assert_eq!((batch.claimed, batch.produced), (1, 3));
    assert_eq!(
        generated(&api, id),
        [
            "2026-03-02T09:00:00Z",
            "2026-03-03T09:00:00Z",
            "2026-03-04T09:00:00Z"
        ]
    );
    let events: Vec<Value> = batch
        .events
        .iter()
        .map(|e| serde_json::from_str(&e.envelope).unwrap())
        .collect();
    for (event, due) in events.iter().zip(generated(&api, id)) {
        assert_eq!(event["type"], "task.created");
        let task = &event["data"]["task_data"];
        assert_eq!(task["title"], "Daily standup");
        assert_eq!(task["priority"], "High");
        assert_eq!(task["tags"][0]["name"], "standup");
        assert_eq!(task["due_at"].as_str().unwrap().replace(".000Z", "Z"), due);
        assert_eq!(task["recurring_task_id"], id);
    }
    let after = api.call(
        Some("ann"),
        "GET",
        &format!("/api/ann/recurring/{id}"),
        None,
    );
    assert_eq!(after.body["next_occurrence"], "2026-03-05T09:00:00.000Z");

    // A second run at the same moment finds nothing due.
    let again = generate_batch(&api.db, now, Limits::default()).unwrap();
    assert_eq!((again.claimed, again.produced), (0, 0));
    assert_eq!(
        api.db
            .scalar("SELECT count(*) FROM event_outbox WHERE event_type = 'task.created'"),
        3
    );
}

#[test]
fn an_occurrence_that_already_exists_is_not_created_again() {
    let api = Api::new();
    let body = template(
        &api,
        "ann",
        json!({"title": "Water plants", "recurrence": daily_at_nine("2026-03-01T00:00:00Z")}),
    );
    let id = body["id"].as_i64().unwrap();
    let now = at("2026-03-03T10:00:00Z");
    generate_batch(&api.db, now, Limits::default()).unwrap();
    // As if a crash had left next_occurrence behind the tasks already made.
    api.db.run(&format!(
        "UPDATE recurring_tasks SET next_occurrence = '2026-03-02T09:00:00.000Z' WHERE id = {id}"
    ));
    let replay = generate_batch(&api.db, now, Limits::default()).unwrap();
    assert_eq!((replay.claimed, replay.produced), (1, 0));
    assert!(replay.events.is_empty());
    assert_eq!(generated(&api, id).len(), 2);
}

#[test]
fn a_disabled_template_produces_nothing_and_resumes_from_now() {
    let api = Api::new();
    let body = template(
        &api,
        "ann",
        json!({"title": "Gym", "recurrence": daily_at_nine("2026-03-01T00:00:00Z")}),
    );
    let id = body["id"].as_i64().unwrap();
    let disabled = api.call(
        Some("ann"),
        "POST",
        &format!("/api/ann/recurring/{id}/disable"),
        None,
    );
    assert_eq!(disabled.status, 200, "{}", disabled.body);

    let batch = generate_batch(&api.db, at("2026-03-06T10:00:00Z"), Limits::default()).unwrap();
    assert_eq!(batch.produced, 0);
    assert!(generated(&api, id).is_empty());

    api.advance(Duration::days(4)); // 2026-03-06T08:00Z
    let enabled = api.call(
        Some("ann"),
        "POST",
        &format!("/api/ann/recurring/{id}/enable"),
        None,
    );
    assert_eq!(enabled.body["next_occurrence"], "2026-03-06T09:00:00.000Z");
    let batch = generate_batch(&api.db, at("2026-03-06T10:00:00Z"), Limits::default()).unwrap();
    assert_eq!(batch.produced, 1);
    assert_eq!(generated(&api, id), ["2026-03-06T09:00:00Z"]);
}

#[test]
fn a_large_backlog_is_worked_off_in_bounded_batches() {
    let api = Api::new();
    let mut ids = Vec::new();
    for n in 0..7 {
        let body = template(
            &api,
            "ann",
            json!({"title": format!("Template {n}"), "recurrence": daily_at_nine("2026-03-01T00:00:00Z")}),
        );
        ids.push(body["id"].as_i64().unwrap());
    }
    let limits = Limits {
        templates: 3,
        occurrences_per_template: 4,
        reminders: 10,
    };
    // Ten days behind: 10 occurrences each, 70 tasks.
    let now = at("2026-03-11T10:00:00Z");
    let first = generate_batch(&api.db, now, limits).unwrap();
    assert_eq!((first.claimed, first.produced, first.more), (3, 12, true));
    let (_, rest) = run_until_done(&api, now, limits);
    assert_eq!(12 + rest, 70);
    for id in ids {
        let dates = generated(&api, id);
        assert_eq!(dates.len(), 10);
        assert_eq!(dates.first().unwrap(), "2026-03-02T09:00:00Z");
        assert_eq!(dates.last().unwrap(), "2026-03-11T09:00:00Z");
    }
}

#[test]
fn a_template_that_ended_stops() {
    let api = Api::new();
    let mut rule = daily_at_nine("2026-03-01T00:00:00Z");
    rule["ends_at"] = json!("2026-03-03T12:00:00Z");
    let body = template(&api, "ann", json!({"title": "Short", "recurrence": rule}));
    let id = body["id"].as_i64().unwrap();
    let batch = generate_batch(&api.db, at("2026-03-10T10:00:00Z"), Limits::default()).unwrap();
    assert_eq!(batch.produced, 2);
    let after = api.call(
        Some("ann"),
        "GET",
        &format!("/api/ann/recurring/{id}"),
        None,
    );
    assert_eq!(after.body["next_occurrence"], Value::Null);
}

#[test]
fn each_passed_reminder_is_sent_exactly_once() {
    let api = Api::new(); // 08:00
    let create = |title: &str, remind_at: &str| {
        let answer = api.call(
            Some("ann"),
            "POST",
            "/api/ann/tasks",
            Some(json!({"title": title, "due_at": "2026-03-02T12:00:00Z", "remind_at": remind_at})),
        );
        assert_eq!(answer.status, 201, "{}", answer.body);
        answer.body["id"].as_i64().unwrap()
    };
    let soon = create("Call the bank", "2026-03-02T09:00:00Z");
    let later = create("Pick up parcel", "2026-03-02T11:00:00Z");
    let done = create("Already done", "2026-03-02T09:00:00Z");
    let completed = api.call(
        Some("ann"),
        "PATCH",
        &format!("/api/ann/tasks/{done}/complete"),
        None,
    );
    assert_eq!(completed.status, 200, "{}", completed.body);

    let batch = remind_batch(&api.db, at("2026-03-02T09:30:00Z"), 100).unwrap();
    assert_eq!(batch.produced, 1);
    let event: Value = serde_json::from_str(&batch.events[0].envelope).unwrap();
    assert_eq!(event["type"], "task.due");
    assert_eq!(event["data"]["task_id"], soon);
    assert_eq!(event["data"]["title"], "Call the bank");
    assert_eq!(event["data"]["remind_at"], "2026-03-02T09:00:00.000Z");

    let again = remind_batch(&api.db, at("2026-03-02T09:31:00Z"), 100).unwrap();
    assert_eq!(again.produced, 0);
    let later_batch = remind_batch(&api.db, at("2026-03-02T11:00:00Z"), 100).unwrap();
    assert_eq!(later_batch.produced, 1);
    assert_eq!(
        serde_json::from_str::<Value>(&later_batch.events[0].envelope).unwrap()["data"]["task_id"],
        later
    );

    // Moving the reminder arms it again.
    let moved = api.call(
        Some("ann"),
        "PUT",
        &format!("/api/ann/tasks/{soon}"),
        Some(json!({"remind_at": "2026-03-02T11:30:00Z"})),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    let rearmed = remind_batch(&api.db, at("2026-03-02T11:45:00Z"), 100).unwrap();
    assert_eq!(rearmed.produced, 1);
}
