//! The assistant's tools. Each runs the todo API's own routes on the
//! user's behalf (the same validation, events and isolation as REST), so a
//! tool can never reach another user's data. The same catalogue is offered
//! to a language model and served over MCP.

use serde::Serialize;
use serde_json::{Value, json};

/// The user's API, under `/api/{user_id}/`.
pub trait TaskApi {
    /// `path` is relative to the user (`tasks`, `tasks/3/complete`), `query`
    /// is already encoded.
    fn call(&self, method: &str, path: &str, query: &str, body: Option<&Value>) -> Answer;
}

#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

impl Answer {
    fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The problem's detail, for an error answer.
    fn detail(&self) -> String {
        self.body["detail"]
            .as_str()
            .unwrap_or("the request failed")
            .to_string()
    }
}

/// A tool as a model or an MCP client sees it.
#[derive(Debug, Clone, Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

/// One call the assistant made, as the chat response reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ToolCall {
    pub name: String,
    pub arguments: Value,
    pub result: Value,
    pub ok: bool,
}

fn task_reference() -> Value {
    json!({
        "task_id": {"type": "integer", "description": "The task's id"},
        "title": {"type": "string", "description": "The task's title, when the id is not known"}
    })
}

fn object(mut properties: Value, required: &[&str], extra: Value) -> Value {
    if let (Some(map), Some(more)) = (properties.as_object_mut(), extra.as_object()) {
        map.extend(more.clone());
    }
    json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
}

pub fn catalogue() -> Vec<ToolSpec> {
    let priority = json!({"type": "string", "enum": ["Low", "Medium", "High", "Critical"]});
    let timestamp = json!({"type": "string", "format": "date-time", "description": "RFC 3339"});
    vec![
        ToolSpec {
            name: "add_task",
            description: "Create a task. Tags are given by name and created when missing.",
            parameters: object(
                json!({
                    "title": {"type": "string"},
                    "description": {"type": "string"},
                    "priority": priority,
                    "due_at": timestamp,
                    "remind_at": timestamp,
                    "tags": {"type": "array", "items": {"type": "string"}}
                }),
                &["title"],
                json!({}),
            ),
        },
        ToolSpec {
            name: "list_tasks",
            description: "List the user's tasks, filtered and sorted.",
            parameters: object(
                json!({
                    "status": {"type": "string", "enum": ["all", "pending", "completed"]},
                    "priority": priority,
                    "tag": {"type": "string", "description": "A tag name"},
                    "due_after": timestamp,
                    "due_before": timestamp,
                    "overdue": {"type": "boolean"},
                    "q": {"type": "string", "description": "Text in the title or description"},
                    "sort": {"type": "string", "enum": ["due", "priority", "created", "title"]},
                    "limit": {"type": "integer", "minimum": 1, "maximum": 200}
                }),
                &[],
                json!({}),
            ),
        },
        ToolSpec {
            name: "complete_task",
            description: "Mark a task as done.",
            parameters: object(task_reference(), &[], json!({})),
        },
        ToolSpec {
            name: "delete_task",
            description: "Delete a task.",
            parameters: object(task_reference(), &[], json!({})),
        },
        ToolSpec {
            name: "update_task",
            description: "Change a task: title, description, priority, due date (null clears it), reminder, completed.",
            parameters: object(
                task_reference(),
                &[],
                json!({
                    "new_title": {"type": "string"},
                    "description": {"type": "string"},
                    "priority": priority,
                    "due_at": {"type": ["string", "null"], "format": "date-time"},
                    "remind_at": {"type": ["string", "null"], "format": "date-time"},
                    "completed": {"type": "boolean"}
                }),
            ),
        },
        ToolSpec {
            name: "tag_task",
            description: "Put a tag (by name, created when missing) on a task, or take it off.",
            parameters: object(
                task_reference(),
                &["tag"],
                json!({"tag": {"type": "string"}, "remove": {"type": "boolean"}}),
            ),
        },
        ToolSpec {
            name: "list_tags",
            description: "List the user's tags.",
            parameters: object(json!({}), &[], json!({})),
        },
        ToolSpec {
            name: "add_recurring_task",
            description: "Create a recurring template that turns into tasks on schedule.",
            parameters: object(
                json!({
                    "title": {"type": "string"},
                    "priority": priority,
                    "recurrence": {
                        "type": "object",
                        "description": "pattern daily|weekly|monthly|cron, every_n, weekdays [mon..sun], day_of_month, nth_week, time_of_day HH:MM, cron, timezone (IANA), starts_at, ends_at"
                    }
                }),
                &["title", "recurrence"],
                json!({}),
            ),
        },
        ToolSpec {
            name: "list_recurring_tasks",
            description: "List the user's recurring templates.",
            parameters: object(json!({}), &[], json!({})),
        },
    ]
}

/// A failed tool call's result.
fn failure(message: impl Into<String>) -> Value {
    json!({"error": message.into()})
}

/// Runs the tool `name`; a bad argument or a refused request is a failed
/// call with a message, never a panic.
pub fn run(api: &dyn TaskApi, name: &str, arguments: &Value) -> ToolCall {
    let result = match name {
        "add_task" => add_task(api, arguments),
        "list_tasks" => list_tasks(api, arguments),
        "complete_task" => change_task(api, arguments, json!({"completed": true})),
        "update_task" => update_task(api, arguments),
        "delete_task" => delete_task(api, arguments),
        "tag_task" => tag_task(api, arguments),
        "list_tags" => answer(api.call("GET", "tags", "", None)),
        "add_recurring_task" => add_recurring(api, arguments),
        "list_recurring_tasks" => answer(api.call("GET", "recurring", "", None)),
        other => Err(format!("there is no tool named {other:?}")),
    };
    let (result, ok) = match result {
        Ok(value) => (value, true),
        Err(message) => (failure(message), false),
    };
    ToolCall {
        name: name.to_string(),
        arguments: arguments.clone(),
        result,
        ok,
    }
}

fn answer(answer: Answer) -> Result<Value, String> {
    if answer.ok() {
        Ok(answer.body)
    } else {
        Err(answer.detail())
    }
}

fn text<'a>(arguments: &'a Value, name: &str) -> Result<Option<&'a str>, String> {
    match &arguments[name] {
        Value::Null => Ok(None),
        Value::String(text) => Ok(Some(text)),
        _ => Err(format!("{name} must be a string")),
    }
}

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// The id of the tag `name`, created when missing.
fn tag_id(api: &dyn TaskApi, name: &str) -> Result<i64, String> {
    let tags = answer(api.call("GET", "tags", "", None))?;
    let existing = tags.as_array().into_iter().flatten().find(|t| {
        t["name"]
            .as_str()
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    });
    if let Some(tag) = existing {
        return tag["id"]
            .as_i64()
            .ok_or_else(|| "a tag without an id".to_string());
    }
    let created = answer(api.call("POST", "tags", "", Some(&json!({"name": name}))))?;
    created["id"]
        .as_i64()
        .ok_or_else(|| "a tag without an id".to_string())
}

fn add_task(api: &dyn TaskApi, arguments: &Value) -> Result<Value, String> {
    let mut body = json!({"title": text(arguments, "title")?.ok_or("title is required")?});
    for field in ["description", "priority", "due_at", "remind_at"] {
        if let Some(value) = text(arguments, field)? {
            body[field] = json!(value);
        }
    }
    let mut tag_ids = Vec::new();
    for tag in arguments["tags"].as_array().into_iter().flatten() {
        let name = tag.as_str().ok_or("tags are names")?;
        tag_ids.push(tag_id(api, name)?);
    }
    if !tag_ids.is_empty() {
        body["tag_ids"] = json!(tag_ids);
    }
    answer(api.call("POST", "tasks", "", Some(&body)))
}

fn list_tasks(api: &dyn TaskApi, arguments: &Value) -> Result<Value, String> {
    let mut query = Vec::new();
    for field in ["status", "priority", "due_after", "due_before", "q", "sort"] {
        if let Some(value) = text(arguments, field)? {
            query.push(format!("{field}={}", encode(value)));
        }
    }
    if let Some(overdue) = arguments["overdue"].as_bool() {
        query.push(format!("overdue={overdue}"));
    }
    if let Some(limit) = arguments["limit"].as_i64() {
        query.push(format!("limit={limit}"));
    }
    if let Some(tag) = text(arguments, "tag")? {
        let tags = answer(api.call("GET", "tags", "", None))?;
        let Some(id) = tags
            .as_array()
            .into_iter()
            .flatten()
            .find(|t| {
                t["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(tag))
            })
            .and_then(|t| t["id"].as_i64())
        else {
            return Ok(json!([]));
        };
        query.push(format!("tag={id}"));
    }
    answer(api.call("GET", "tasks", &query.join("&"), None))
}

/// The task an argument set names: `task_id`, or a `title` that matches one
/// task (exactly, ignoring case, or as the only search hit).
pub fn find_task(api: &dyn TaskApi, arguments: &Value) -> Result<Value, String> {
    if let Some(id) = arguments["task_id"].as_i64() {
        return answer(api.call("GET", &format!("tasks/{id}"), "", None));
    }
    let title = text(arguments, "title")?.ok_or("name the task by task_id or title")?;
    let hits = answer(api.call(
        "GET",
        "tasks",
        &format!("q={}&limit=50&sort=created&order=asc", encode(title)),
        None,
    ))?;
    let hits = hits.as_array().cloned().unwrap_or_default();
    let exact: Vec<&Value> = hits
        .iter()
        .filter(|t| {
            t["title"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(title))
        })
        .collect();
    match (exact.as_slice(), hits.as_slice()) {
        ([one], _) => Ok((*one).clone()),
        ([], [one]) => Ok(one.clone()),
        ([], []) => Err(format!("no task matches {title:?}")),
        _ => {
            let names: Vec<String> = hits
                .iter()
                .take(5)
                .map(|t| format!("#{} {}", t["id"], t["title"].as_str().unwrap_or("")))
                .collect();
            Err(format!(
                "{title:?} matches several tasks: {}",
                names.join(", ")
            ))
        }
    }
}

fn task_path(task: &Value) -> Result<String, String> {
    task["id"]
        .as_i64()
        .map(|id| format!("tasks/{id}"))
        .ok_or_else(|| "a task without an id".to_string())
}

fn change_task(api: &dyn TaskApi, arguments: &Value, changes: Value) -> Result<Value, String> {
    let task = find_task(api, arguments)?;
    answer(api.call("PUT", &task_path(&task)?, "", Some(&changes)))
}

fn update_task(api: &dyn TaskApi, arguments: &Value) -> Result<Value, String> {
    let mut changes = json!({});
    if let Some(title) = text(arguments, "new_title")? {
        changes["title"] = json!(title);
    }
    for field in ["description", "priority"] {
        if let Some(value) = text(arguments, field)? {
            changes[field] = json!(value);
        }
    }
    for field in ["due_at", "remind_at"] {
        if let Some(value) = arguments.get(field) {
            changes[field] = value.clone();
        }
    }
    if let Some(completed) = arguments.get("completed") {
        changes["completed"] = completed.clone();
    }
    if changes.as_object().is_some_and(|c| c.is_empty()) {
        return Err("say what to change".into());
    }
    change_task(api, arguments, changes)
}

fn delete_task(api: &dyn TaskApi, arguments: &Value) -> Result<Value, String> {
    let task = find_task(api, arguments)?;
    answer(api.call("DELETE", &task_path(&task)?, "", None))?;
    Ok(json!({"deleted": task}))
}

fn tag_task(api: &dyn TaskApi, arguments: &Value) -> Result<Value, String> {
    let task = find_task(api, arguments)?;
    let tag = text(arguments, "tag")?.ok_or("tag is required")?;
    let id = tag_id(api, tag)?;
    let method = if arguments["remove"].as_bool() == Some(true) {
        "DELETE"
    } else {
        "PUT"
    };
    answer(api.call(
        method,
        &format!("{}/tags/{id}", task_path(&task)?),
        "",
        None,
    ))
}

fn add_recurring(api: &dyn TaskApi, arguments: &Value) -> Result<Value, String> {
    let mut body = json!({
        "title": text(arguments, "title")?.ok_or("title is required")?,
        "recurrence": arguments["recurrence"].clone(),
    });
    if let Some(priority) = text(arguments, "priority")? {
        body["priority"] = json!(priority);
    }
    answer(api.call("POST", "recurring", "", Some(&body)))
}
