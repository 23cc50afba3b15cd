//! Turns with the built-in understanding, acting through the real todo API
//! on an in-memory SQLite database with the repository's migrations.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{Api, now};
use docket_chat::assistant::builtin_turn;
use docket_chat::tools;
use serde_json::json;

fn say(api: &Api, message: &str) -> docket_chat::assistant::Turn {
    builtin_turn(api, message, now())
}

#[test]
fn a_conversation_adds_lists_completes_and_deletes() {
    let api = Api::new();
    let turn = say(&api, "add buy milk tomorrow high priority #home");
    assert_eq!(
        turn.response,
        "Added “buy milk” (High, due Thu 5 Mar 09:00)."
    );
    assert_eq!(turn.tool_calls.len(), 1);
    assert_eq!(turn.tool_calls[0].name, "add_task");
    assert!(turn.tool_calls[0].ok);
    let task = &turn.tool_calls[0].result;
    assert_eq!(task["due_at"], "2026-03-05T08:00:00.000Z");
    assert_eq!(task["tags"][0]["name"], "home");

    say(&api, "add file taxes next week");
    let turn = say(&api, "what's due this week");
    assert_eq!(
        turn.response,
        format!(
            "You have 1 task due this week:\n- #{} “buy milk” (High, due Thu 5 Mar 09:00)",
            task["id"]
        )
    );

    let turn = say(&api, "done with Buy Milk");
    assert_eq!(
        turn.response,
        "Marked “buy milk” (High, due Thu 5 Mar 09:00) as done."
    );
    assert_eq!(turn.tool_calls[0].result["completed"], true);
    let turn = say(&api, "what's due this week?");
    assert_eq!(turn.response, "You have no tasks due this week.");

    let turn = say(&api, "move file taxes to friday at 5pm");
    assert_eq!(turn.response, "Updated “file taxes” (due Fri 6 Mar 17:00).");
    let turn = say(&api, "delete file taxes");
    assert_eq!(turn.response, "Deleted “file taxes” (due Fri 6 Mar 17:00).");
    let listed = tools::run(&api, "list_tasks", &json!({"status": "all"}));
    assert_eq!(listed.result.as_array().unwrap().len(), 1);
}

#[test]
fn tools_cannot_reach_another_users_tasks() {
    let api = Api::new();
    let turn = say(&api, "add alice's secret");
    let id = turn.tool_calls[0].result["id"].as_i64().unwrap();
    api.as_user("mallory");
    for (tool, arguments) in [
        ("complete_task", json!({"task_id": id})),
        ("delete_task", json!({"task_id": id})),
        ("update_task", json!({"task_id": id, "new_title": "mine"})),
        ("complete_task", json!({"title": "alice's secret"})),
    ] {
        let call = tools::run(&api, tool, &arguments);
        assert!(!call.ok, "{tool} {arguments}");
        assert!(
            !call.result.to_string().contains("secret\""),
            "{}",
            call.result
        );
    }
    let turn = say(&api, &format!("delete task {id}"));
    assert_eq!(
        turn.response,
        format!("I couldn't do that: task {id} does not exist.")
    );
    api.as_user("alice");
    let mine = tools::run(&api, "list_tasks", &json!({}));
    assert_eq!(mine.result[0]["title"], "alice's secret");
    assert_eq!(mine.result[0]["completed"], false);
}

#[test]
fn unclear_references_and_bad_arguments_are_explained() {
    let api = Api::new();
    say(&api, "add call mom");
    say(&api, "add call dad");
    let turn = say(&api, "done with call");
    assert!(
        turn.response.starts_with(
            "I couldn't do that: \"call\" matches several tasks: #1 call mom, #2 call dad"
        ),
        "{}",
        turn.response
    );
    let turn = say(&api, "done with walk the dog");
    assert_eq!(
        turn.response,
        "I couldn't do that: no task matches \"walk the dog\"."
    );
    let call = tools::run(
        &api,
        "add_task",
        &json!({"title": "x", "priority": "Urgent"}),
    );
    assert!(!call.ok);
    assert!(
        call.result["error"]
            .as_str()
            .unwrap()
            .contains("unknown priority")
    );
    let call = tools::run(&api, "add_task", &json!({"title": 7}));
    assert_eq!(call.result["error"], "title must be a string");
    let call = tools::run(&api, "format_disk", &json!({}));
    assert_eq!(
        call.result["error"],
        "there is no tool named \"format_disk\""
    );
    let turn = say(&api, "sing me a song");
    assert!(
        turn.response
            .starts_with("Sorry, I didn't understand that.")
    );
    assert!(turn.tool_calls.is_empty());
}

#[test]
fn every_tool_in_the_catalogue_runs() {
    let api = Api::new();
    let names: Vec<&str> = tools::catalogue().iter().map(|t| t.name).collect();
    let calls = [
        (
            "add_task",
            json!({"title": "water plants", "tags": ["home"]}),
        ),
        ("list_tasks", json!({"tag": "home"})),
        (
            "update_task",
            json!({"title": "water plants", "priority": "Low", "due_at": "2026-03-10T08:00:00Z"}),
        ),
        (
            "tag_task",
            json!({"title": "water plants", "tag": "garden"}),
        ),
        ("list_tags", json!({})),
        ("complete_task", json!({"title": "water plants"})),
        (
            "add_recurring_task",
            json!({"title": "standup", "recurrence": {"pattern": "daily", "time_of_day": "09:00", "timezone": "Europe/Berlin", "starts_at": "2026-03-05T00:00:00Z"}}),
        ),
        ("list_recurring_tasks", json!({})),
        ("delete_task", json!({"title": "water plants"})),
    ];
    assert_eq!(names.len(), calls.len());
    for (name, arguments) in calls {
        assert!(names.contains(&name), "{name} is not in the catalogue");
        let call = tools::run(&api, name, &arguments);
        assert!(call.ok, "{name}: {}", call.result);
    }
}
