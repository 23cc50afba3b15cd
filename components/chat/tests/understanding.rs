//! The built-in understanding on a table of phrasings, at a fixed moment:
//! Wednesday 4 March 2026, 10:00 in Berlin (09:00 UTC).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;
use docket_chat::{Intent, ListWindow, TaskRef, understand};
use docket_events::Priority;

fn now() -> DateTime<Tz> {
    chrono_tz::Europe::Berlin
        .with_ymd_and_hms(2026, 3, 4, 10, 0, 0)
        .unwrap()
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn add(title: &str, due: Option<&str>, priority: Option<Priority>, tags: &[&str]) -> Intent {
    Intent::AddTask {
        title: title.to_string(),
        due_at: due.map(utc),
        priority,
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

fn title(text: &str) -> TaskRef {
    TaskRef::Title(text.to_string())
}

#[test]
fn adding_tasks() {
    let cases = [
        (
            "add buy milk tomorrow high priority",
            add(
                "buy milk",
                Some("2026-03-05T08:00:00Z"),
                Some(Priority::High),
                &[],
            ),
        ),
        ("Add Buy milk", add("Buy milk", None, None, &[])),
        (
            "please add walk the dog",
            add("walk the dog", None, None, &[]),
        ),
        (
            "remind me to call mom at 5pm",
            add("call mom", Some("2026-03-04T16:00:00Z"), None, &[]),
        ),
        (
            "add pay rent next monday #home",
            add("pay rent", Some("2026-03-09T08:00:00Z"), None, &["home"]),
        ),
        (
            "add submit report in 3 days urgent",
            add(
                "submit report",
                Some("2026-03-07T08:00:00Z"),
                Some(Priority::Critical),
                &[],
            ),
        ),
        (
            "add call the bank in 2 hours",
            add("call the bank", Some("2026-03-04T11:00:00Z"), None, &[]),
        ),
        (
            "create task water plants on friday at 18:30",
            add("water plants", Some("2026-03-06T17:30:00Z"), None, &[]),
        ),
        (
            "add dentist day after tomorrow at 9:30am",
            add("dentist", Some("2026-03-06T08:30:00Z"), None, &[]),
        ),
        // 9 AM has passed today, so it is tomorrow's.
        (
            "add book flights at 9am",
            add("book flights", Some("2026-03-05T08:00:00Z"), None, &[]),
        ),
        (
            "add tax return with low priority due on friday #admin #money",
            add(
                "tax return",
                Some("2026-03-06T08:00:00Z"),
                Some(Priority::Low),
                &["admin", "money"],
            ),
        ),
        ("add buy sun cream", add("buy sun cream", None, None, &[])),
        (
            "add read chapter 5 in a week",
            add("read chapter 5", Some("2026-03-11T08:00:00Z"), None, &[]),
        ),
        (
            "i need to renew my passport next week",
            add("renew my passport", Some("2026-03-09T08:00:00Z"), None, &[]),
        ),
        (
            "add team lunch tonight",
            add("team lunch", Some("2026-03-04T19:00:00Z"), None, &[]),
        ),
        (
            "todo: clean the garage this weekend",
            add("clean the garage", Some("2026-03-07T08:00:00Z"), None, &[]),
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(understand(message, now()), expected, "{message}");
    }
}

#[test]
fn listing_tasks() {
    let list = |window, after: Option<&str>, before: Option<&str>, completed, priority| {
        Intent::ListTasks {
            window,
            due_after: after.map(utc),
            due_before: before.map(utc),
            completed,
            priority,
            tag: None,
        }
    };
    let cases = [
        (
            "what's due this week",
            list(
                Some(ListWindow::ThisWeek),
                Some("2026-03-01T23:00:00Z"),
                Some("2026-03-08T23:00:00Z"),
                Some(false),
                None,
            ),
        ),
        (
            "What's overdue?",
            list(
                Some(ListWindow::Overdue),
                None,
                Some("2026-03-04T09:00:00Z"),
                Some(false),
                None,
            ),
        ),
        (
            "what do I have tomorrow",
            list(
                Some(ListWindow::Tomorrow),
                Some("2026-03-04T23:00:00Z"),
                Some("2026-03-05T23:00:00Z"),
                Some(false),
                None,
            ),
        ),
        (
            "anything due today?",
            list(
                Some(ListWindow::Today),
                Some("2026-03-03T23:00:00Z"),
                Some("2026-03-04T23:00:00Z"),
                Some(false),
                None,
            ),
        ),
        (
            "what's on next week",
            list(
                Some(ListWindow::NextWeek),
                Some("2026-03-08T23:00:00Z"),
                Some("2026-03-15T23:00:00Z"),
                Some(false),
                None,
            ),
        ),
        ("show my tasks", list(None, None, None, None, None)),
        (
            "show completed tasks",
            list(None, None, None, Some(true), None),
        ),
        (
            "list high priority tasks",
            list(None, None, None, None, Some(Priority::High)),
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(understand(message, now()), expected, "{message}");
    }
    let Intent::ListTasks { tag, .. } = understand("show tasks tagged #work", now()) else {
        panic!("not a listing");
    };
    assert_eq!(tag.as_deref(), Some("work"));
}

#[test]
fn completing_reopening_and_deleting() {
    let cases = [
        (
            "done with buy milk",
            Intent::CompleteTask(title("buy milk")),
        ),
        (
            "I'm done with the report",
            Intent::CompleteTask(title("report")),
        ),
        (
            "mark buy milk as done",
            Intent::CompleteTask(title("buy milk")),
        ),
        ("complete task 3", Intent::CompleteTask(TaskRef::Id(3))),
        ("finished #4", Intent::CompleteTask(TaskRef::Id(4))),
        ("buy milk is done", Intent::CompleteTask(title("buy milk"))),
        ("reopen buy milk", Intent::ReopenTask(title("buy milk"))),
        (
            "delete the dentist task",
            Intent::DeleteTask(title("dentist")),
        ),
        ("remove task 7", Intent::DeleteTask(TaskRef::Id(7))),
        (
            "cancel team lunch please",
            Intent::DeleteTask(title("team lunch")),
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(understand(message, now()), expected, "{message}");
    }
}

#[test]
fn changing_tasks() {
    let update = |task, new_title: Option<&str>, priority, due: Option<&str>| Intent::UpdateTask {
        task,
        title: new_title.map(str::to_string),
        priority,
        due_at: due.map(utc),
    };
    let cases = [
        (
            "make buy milk high priority",
            update(title("buy milk"), None, Some(Priority::High), None),
        ),
        (
            "mark pay rent as urgent",
            update(title("pay rent"), None, Some(Priority::Critical), None),
        ),
        (
            "set task 2 to low priority",
            update(TaskRef::Id(2), None, Some(Priority::Low), None),
        ),
        (
            "move pay rent to friday",
            update(title("pay rent"), None, None, Some("2026-03-06T08:00:00Z")),
        ),
        (
            "postpone the report to next monday at 2pm",
            update(title("report"), None, None, Some("2026-03-09T13:00:00Z")),
        ),
        (
            "rename buy milk to buy oat milk",
            update(title("buy milk"), Some("buy oat milk"), None, None),
        ),
    ];
    for (message, expected) in cases {
        assert_eq!(understand(message, now()), expected, "{message}");
    }
}

#[test]
fn help_and_what_is_not_understood() {
    assert_eq!(understand("help", now()), Intent::Help);
    assert_eq!(understand("What can you do?", now()), Intent::Help);
    for message in [
        "",
        "   ",
        "blah blah",
        "add",
        "delete",
        "move pay rent",
        "rename x",
    ] {
        assert_eq!(understand(message, now()), Intent::Unknown, "{message:?}");
    }
}

#[test]
fn a_time_that_a_dst_change_skips_moves_forward() {
    // Clocks in New York jump from 02:00 to 03:00 on Sunday 8 March 2026.
    let saturday = chrono_tz::America::New_York
        .with_ymd_and_hms(2026, 3, 7, 12, 0, 0)
        .unwrap();
    let intent = understand("add water plants tomorrow at 2:30am", saturday);
    assert_eq!(
        intent,
        add("water plants", Some("2026-03-08T07:30:00Z"), None, &[])
    );
    // 9 AM stays 9 AM local on either side of the change.
    let intent = understand("add standup tomorrow", saturday);
    assert_eq!(
        intent,
        add("standup", Some("2026-03-08T13:00:00Z"), None, &[])
    );
}
