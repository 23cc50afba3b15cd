//! The recurring-task service under `docket up`: catch-up after downtime,
//! concurrent scheduler calls, and reminders driven by its cron binding.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use chrono::{DateTime, Duration, SecondsFormat, Timelike, Utc};
use serde_json::{Value, json};
use support::redis::wait_until;
use support::todo::{Backend, Setup, TodoApp, default_resources, recurring_cron};

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A daily template at `at`'s time of day, started ten days before it.
fn daily_template(app: &TodoApp, user: &str, title: &str, at: DateTime<Utc>) -> i64 {
    let body = json!({
        "title": title,
        "priority": "High",
        "recurrence": {
            "pattern": "daily",
            "time_of_day": format!("{:02}:{:02}", at.hour(), at.minute()),
            "timezone": "UTC",
            "starts_at": stamp(at - Duration::days(10)),
        }
    });
    let reply = app.call(
        Some(user),
        "POST",
        &format!("/api/{user}/recurring"),
        Some(&body),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

fn tick(app: &TodoApp) -> Value {
    let reply = app.docket.request("POST", "/recurring-cron", &[], "");
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

fn set_next_occurrence(app: &TodoApp, id: i64, at: DateTime<Utc>) {
    // Through the database, as if the scheduler had been down since `at`.
    let update = format!(
        "UPDATE recurring_tasks SET next_occurrence = '{}' WHERE id = {id} RETURNING id",
        stamp(at)
    );
    let sql = match app.backend {
        Backend::Sqlite => update,
        // psql would print the command tag after the row.
        Backend::Postgres => format!("WITH changed AS ({update}) SELECT id FROM changed"),
    };
    assert_eq!(app.scalar(&sql), id);
}

fn missed_occurrences_are_created_exactly_once(backend: Backend) {
    let app = TodoApp::start_with(backend, "recurring", Setup::default());
    // Two days and a bit behind: the occurrences at -2d, -1d and today.
    let time = (Utc::now() - Duration::hours(1))
        .with_second(0)
        .unwrap()
        .with_nanosecond(0)
        .unwrap();
    let ids: Vec<i64> = (0..12)
        .map(|n| {
            let id = daily_template(&app, "rita", &format!("Standup {n}"), time);
            set_next_occurrence(&app, id, time - Duration::days(2));
            id
        })
        .collect();

    // Two scheduler calls at once, as two replicas' cron ticks would be.
    let (first, second) = std::thread::scope(|scope| {
        let a = scope.spawn(|| tick(&app));
        let b = scope.spawn(|| tick(&app));
        (a.join().unwrap(), b.join().unwrap())
    });
    let made = first["tasks"].as_u64().unwrap() + second["tasks"].as_u64().unwrap();
    assert_eq!(made, 36, "{first} {second}");
    assert_eq!(tick(&app)["tasks"], 0);

    for id in &ids {
        let count = app.scalar(&format!(
            "SELECT count(*) FROM tasks WHERE recurring_task_id = {id}"
        ));
        assert_eq!(count, 3, "template {id}");
    }
    let listed = app
        .call(Some("rita"), "GET", "/api/rita/tasks?limit=100", None)
        .json();
    assert_eq!(listed.as_array().map(Vec::len), Some(36));
    let task = &listed[0];
    assert_eq!(task["priority"], "High");
    assert!(task["title"].as_str().unwrap().starts_with("Standup "));
    let template = app.call(
        Some("rita"),
        "GET",
        &format!("/api/rita/recurring/{}", ids[0]),
        None,
    );
    assert_eq!(
        template.json()["next_occurrence"],
        stamp(time + Duration::days(1))
    );

    assert_eq!(
        app.scalar(
            "SELECT count(DISTINCT event_id) FROM event_outbox WHERE event_type = 'task.created'"
        ),
        36
    );
    wait_until("every task.created event is published", || {
        app.scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0
    });
}

fn a_disabled_template_produces_nothing(backend: Backend) {
    let app = TodoApp::start_with(backend, "recurring_off", Setup::default());
    let time = Utc::now() - Duration::hours(1);
    let id = daily_template(&app, "rita", "Paused", time);
    set_next_occurrence(&app, id, time - Duration::days(2));
    let disabled = app.call(
        Some("rita"),
        "POST",
        &format!("/api/rita/recurring/{id}/disable"),
        None,
    );
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    assert_eq!(tick(&app)["tasks"], 0);
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) FROM tasks WHERE recurring_task_id = {id}"
        )),
        0
    );
}

fn the_cron_binding_sends_each_reminder_once(backend: Backend) {
    let mut resources = default_resources();
    resources.push(("recurring-cron.yaml", recurring_cron("1s")));
    let app = TodoApp::start_with(
        backend,
        "reminders",
        Setup {
            resources,
            ..Setup::default()
        },
    );
    let remind_at = Utc::now() + Duration::seconds(1);
    let task = app.create_task(
        "rita",
        &json!({"title": "Call mom", "due_at": stamp(remind_at + Duration::hours(1)), "remind_at": stamp(remind_at)}),
    );
    let id = task["id"].as_i64().unwrap();
    let reminders = || {
        app.scalar(&format!(
            "SELECT count(*) FROM event_outbox WHERE event_type = 'task.due' AND payload LIKE '%\"task_id\":{id},%'"
        ))
    };
    wait_until("the reminder is sent", || reminders() == 1);
    // More ticks pass; the reminder is not sent again.
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert_eq!(reminders(), 1);
    let payload: Value = serde_json::from_str(&app.text(&format!(
        "SELECT payload FROM event_outbox WHERE event_type = 'task.due' AND payload LIKE '%\"task_id\":{id},%'"
    )))
    .unwrap();
    assert_eq!(payload["type"], "task.due");
    assert_eq!(payload["data"]["title"], "Call mom");
    assert_eq!(payload["data"]["user_id"], "rita");
}

on_both_backends!(
    missed_occurrences_are_created_exactly_once,
    a_disabled_template_produces_nothing,
    the_cron_binding_sends_each_reminder_once,
);
