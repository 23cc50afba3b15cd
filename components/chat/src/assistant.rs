//! One turn with the built-in understanding: the request's intent becomes a
//! tool call, and its result a short answer in the user's timezone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::{Value, json};

use crate::tools::{self, TaskApi, ToolCall};
use crate::understand::{Intent, ListWindow, TaskRef, understand};

pub const HELP: &str = "I can add, list, change, complete and delete your tasks. Try: \
\"add buy milk tomorrow high priority\", \"what's due this week\", \"done with buy milk\", \
\"move buy milk to friday\", \"delete task 3\".";

/// What one turn produced.
#[derive(Debug, Clone, PartialEq)]
pub struct Turn {
    pub response: String,
    pub tool_calls: Vec<ToolCall>,
}

fn reference(task: &TaskRef) -> Value {
    match task {
        TaskRef::Id(id) => json!({"task_id": id}),
        TaskRef::Title(title) => json!({"title": title}),
    }
}

fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// "Thu 5 Mar 09:00" in `tz`.
fn local(text: &str, tz: Tz) -> String {
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&tz).format("%a %-d %b %H:%M").to_string())
        .unwrap_or_else(|_| text.to_string())
}

/// "“buy milk” (High, due Thu 5 Mar 09:00)".
fn describe(task: &Value, tz: Tz) -> String {
    let mut details = Vec::new();
    if let Some(priority) = task["priority"].as_str()
        && priority != "Medium"
    {
        details.push(priority.to_string());
    }
    if let Some(due) = task["due_at"].as_str() {
        details.push(format!("due {}", local(due, tz)));
    }
    let title = task["title"].as_str().unwrap_or("?");
    if details.is_empty() {
        format!("“{title}”")
    } else {
        format!("“{title}” ({})", details.join(", "))
    }
}

fn window_phrase(window: Option<ListWindow>) -> &'static str {
    match window {
        None => "",
        Some(ListWindow::Today) => " due today",
        Some(ListWindow::Tomorrow) => " due tomorrow",
        Some(ListWindow::ThisWeek) => " due this week",
        Some(ListWindow::NextWeek) => " due next week",
        Some(ListWindow::Overdue) => " overdue",
    }
}

fn list_arguments(intent: &Intent) -> Value {
    let Intent::ListTasks {
        window,
        due_after,
        due_before,
        completed,
        priority,
        tag,
    } = intent
    else {
        return json!({});
    };
    let mut arguments = json!({"sort": "due", "limit": 50});
    arguments["status"] = json!(match completed {
        Some(true) => "completed",
        Some(false) => "pending",
        None => "all",
    });
    if *window == Some(ListWindow::Overdue) {
        arguments["overdue"] = json!(true);
    } else {
        if let Some(after) = due_after {
            arguments["due_after"] = json!(timestamp(*after));
        }
        if let Some(before) = due_before {
            arguments["due_before"] = json!(timestamp(*before));
        }
    }
    if let Some(priority) = priority {
        arguments["priority"] = json!(priority.name());
    }
    if let Some(tag) = tag {
        arguments["tag"] = json!(tag);
    }
    arguments
}

/// The tool call an intent needs, if any.
fn plan(intent: &Intent) -> Option<(&'static str, Value)> {
    Some(match intent {
        Intent::AddTask {
            title,
            due_at,
            priority,
            tags,
        } => {
            let mut arguments = json!({"title": title});
            if let Some(due) = due_at {
                arguments["due_at"] = json!(timestamp(*due));
            }
            if let Some(priority) = priority {
                arguments["priority"] = json!(priority.name());
            }
            if !tags.is_empty() {
                arguments["tags"] = json!(tags);
            }
            ("add_task", arguments)
        }
        Intent::ListTasks { .. } => ("list_tasks", list_arguments(intent)),
        Intent::CompleteTask(task) => ("complete_task", reference(task)),
        Intent::ReopenTask(task) => {
            let mut arguments = reference(task);
            arguments["completed"] = json!(false);
            ("update_task", arguments)
        }
        Intent::DeleteTask(task) => ("delete_task", reference(task)),
        Intent::UpdateTask {
            task,
            title,
            priority,
            due_at,
        } => {
            let mut arguments = reference(task);
            if let Some(title) = title {
                arguments["new_title"] = json!(title);
            }
            if let Some(priority) = priority {
                arguments["priority"] = json!(priority.name());
            }
            if let Some(due) = due_at {
                arguments["due_at"] = json!(timestamp(*due));
            }
            ("update_task", arguments)
        }
        Intent::Help | Intent::Unknown => return None,
    })
}

fn answer(intent: &Intent, call: &ToolCall, tz: Tz) -> String {
    if !call.ok {
        let error = call.result["error"].as_str().unwrap_or("it did not work");
        return format!("I couldn't do that: {error}.");
    }
    let task = &call.result;
    match intent {
        Intent::AddTask { .. } => format!("Added {}.", describe(task, tz)),
        Intent::CompleteTask(_) => format!("Marked {} as done.", describe(task, tz)),
        Intent::ReopenTask(_) => format!("Reopened {}.", describe(task, tz)),
        Intent::DeleteTask(_) => format!("Deleted {}.", describe(&task["deleted"], tz)),
        Intent::UpdateTask { .. } => format!("Updated {}.", describe(task, tz)),
        Intent::ListTasks { window, .. } => {
            let tasks = task.as_array().cloned().unwrap_or_default();
            let phrase = window_phrase(*window);
            if tasks.is_empty() {
                return format!("You have no tasks{phrase}.");
            }
            let lines: Vec<String> = tasks
                .iter()
                .map(|t| {
                    let mark = if t["completed"] == json!(true) {
                        "✓ "
                    } else {
                        ""
                    };
                    format!("- {mark}#{} {}", t["id"], describe(t, tz))
                })
                .collect();
            let count = tasks.len();
            let noun = if count == 1 { "task" } else { "tasks" };
            format!("You have {count} {noun}{phrase}:\n{}", lines.join("\n"))
        }
        Intent::Help | Intent::Unknown => HELP.to_string(),
    }
}

/// Understands `message` at `now` and acts on it through `api`.
pub fn builtin_turn(api: &dyn TaskApi, message: &str, now: DateTime<Tz>) -> Turn {
    let intent = understand(message, now);
    let Some((tool, arguments)) = plan(&intent) else {
        let response = match intent {
            Intent::Help => HELP.to_string(),
            _ => format!("Sorry, I didn't understand that. {HELP}"),
        };
        return Turn {
            response,
            tool_calls: Vec::new(),
        };
    };
    let call = tools::run(api, tool, &arguments);
    Turn {
        response: answer(&intent, &call, now.timezone()),
        tool_calls: vec![call],
    }
}

/// The built-in understanding as the chat's [`Assistant`]; it reads each
/// message on its own.
pub struct Builtin<'a> {
    pub api: &'a dyn TaskApi,
    pub now: DateTime<Tz>,
}

impl crate::service::Assistant for Builtin<'_> {
    async fn reply(
        &self,
        _history: &[crate::history::Message],
        message: &str,
    ) -> Result<Turn, todo_core::http::ApiError> {
        Ok(builtin_turn(self.api, message, self.now))
    }
}
