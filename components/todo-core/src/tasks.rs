//! Tasks: reading, listing with filters, and every change (each with its
//! event in the same transaction).

use chrono::{DateTime, Utc};
use docket_events::{Priority, Task, TaskEventType, TaskTag};
use serde::Deserialize;

use crate::Context;
use crate::http::{ApiError, Reply, Request, Response};
use crate::input::{self, double_option, json_body};
use crate::outbox::record_task_event;
use crate::sql::{Db, Dialect, Param, Query, Row, insert_tag_links, rows_for_ids, transaction};
use crate::tags::owned_tag_ids;
use crate::users::ensure_user;

pub const MAX_TITLE_CHARS: usize = 500;
pub const MAX_DESCRIPTION_CHARS: usize = 10_000;
pub const MAX_TAGS_PER_TASK: usize = 50;

pub(crate) const TASK_COLUMNS: &str = "t.id, t.user_id, t.title, t.description, t.completed, t.completed_at, \
     t.priority_id, t.due_at, t.remind_at, t.recurring_task_id, t.occurrence_at, t.created_at, \
     t.updated_at, t.version";
/// [`TASK_COLUMNS`] for `RETURNING`, where the table has no alias.
pub(crate) const RETURNED_COLUMNS: &str = "id, user_id, title, description, completed, completed_at, \
     priority_id, due_at, remind_at, recurring_task_id, occurrence_at, created_at, updated_at, version";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTask {
    title: String,
    #[serde(default)]
    description: String,
    priority: Option<String>,
    due_at: Option<String>,
    remind_at: Option<String>,
    #[serde(default)]
    tag_ids: Vec<i64>,
}

/// A partial update: absent fields stay as they are; `null` clears the
/// optional ones.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TaskChanges {
    title: Option<String>,
    description: Option<String>,
    priority: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    due_at: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    remind_at: Option<Option<String>>,
    completed: Option<bool>,
    tag_ids: Option<Vec<i64>>,
}

pub fn parse_priority(value: &str) -> Result<Priority, ApiError> {
    Priority::from_name(value).ok_or_else(|| {
        ApiError::invalid(
            "priority",
            format!(
                "unknown priority {:?}; use Low, Medium, High or Critical",
                value.chars().take(40).collect::<String>()
            ),
        )
    })
}

fn check_reminder(
    due_at: Option<DateTime<Utc>>,
    remind_at: Option<DateTime<Utc>>,
) -> Result<(), ApiError> {
    match (due_at, remind_at) {
        (Some(due), Some(remind)) if remind > due => Err(ApiError::invalid(
            "remind_at",
            "remind_at must not be after due_at",
        )),
        _ => Ok(()),
    }
}

pub(crate) fn task_from_row(row: &Row) -> Result<Task, ApiError> {
    let priority_id = row.int(6)?;
    Ok(Task {
        id: row.int(0)?,
        user_id: row.text(1)?,
        title: row.text(2)?,
        description: row.text(3)?,
        completed: row.bool(4)?,
        completed_at: row.opt_timestamp_text(5)?,
        priority: Priority::from_id(priority_id)
            .ok_or_else(|| ApiError::internal(format!("unknown priority id {priority_id}")))?,
        due_at: row.opt_timestamp_text(7)?,
        remind_at: row.opt_timestamp_text(8)?,
        tags: Vec::new(),
        recurring_task_id: row.opt_int(9)?,
        occurrence_at: row.opt_timestamp_text(10)?,
        created_at: row.opt_timestamp_text(11)?.unwrap_or_default(),
        updated_at: row.opt_timestamp_text(12)?.unwrap_or_default(),
        version: row.int(13)?,
    })
}

/// Fills in the tags of `tasks` with one query.
pub(crate) fn attach_tags(db: &dyn Db, tasks: &mut [Task]) -> Result<(), ApiError> {
    let rows = rows_for_ids(
        db,
        "SELECT tt.task_id, g.id, g.name, g.color FROM task_tags tt JOIN tags g ON g.id = tt.tag_id WHERE tt.task_id IN (",
        tasks.iter().map(|t| t.id),
        ") ORDER BY g.name",
    )?;
    for row in rows {
        let task_id = row.int(0)?;
        if let Some(task) = tasks.iter_mut().find(|t| t.id == task_id) {
            task.tags.push(TaskTag {
                id: row.int(1)?,
                name: row.text(2)?,
                color: row.text(3)?,
            });
        }
    }
    Ok(())
}

/// The user's task `id`, or 404 (also when it belongs to someone else).
pub fn load_task(db: &dyn Db, user_id: &str, id: i64) -> Result<Task, ApiError> {
    select_task(db, user_id, id, "")
}

/// [`load_task`] inside a transaction that is about to change the task: on
/// Postgres the row stays locked until the transaction ends, so concurrent
/// changes apply one after the other instead of failing the version check.
/// (SQLite's `BEGIN IMMEDIATE` already serialises writers.)
fn lock_task(db: &dyn Db, user_id: &str, id: i64) -> Result<Task, ApiError> {
    let lock = match db.dialect() {
        Dialect::Postgres => " FOR UPDATE OF t",
        Dialect::Sqlite => "",
    };
    select_task(db, user_id, id, lock)
}

fn select_task(db: &dyn Db, user_id: &str, id: i64, suffix: &str) -> Result<Task, ApiError> {
    let select = format!("SELECT {TASK_COLUMNS} FROM tasks t");
    let row = crate::owned::find(db, &select, "t.", "task", user_id, id, suffix)?;
    let mut tasks = vec![task_from_row(&row)?];
    attach_tags(db, &mut tasks)?;
    Ok(tasks.remove(0))
}

fn task_response(status: u16, task: &Task) -> Response {
    Response::versioned(status, task, task.version)
}

/// `If-Match: "3"` (or `3`, or `*`): the version the client last saw.
fn check_if_match(request: &Request, task: &Task) -> Result<(), ApiError> {
    let Some(expected) = request.header("if-match") else {
        return Ok(());
    };
    let expected = expected.trim();
    if expected == "*" {
        return Ok(());
    }
    let expected = expected.trim_start_matches("W/").trim_matches('"');
    if expected.parse::<i64>().ok() == Some(task.version) {
        Ok(())
    } else {
        Err(ApiError::new(
            412,
            "Precondition Failed",
            format!("the task is at version {}, not {expected:?}", task.version),
        )
        .member("version", task.version.into()))
    }
}

fn replace_tags(db: &dyn Db, task_id: i64, tag_ids: &[i64]) -> Result<(), ApiError> {
    db.execute(
        &db.q()
            .sql("DELETE FROM task_tags WHERE task_id = ")
            .bind(Param::Int(task_id)),
    )?;
    insert_tags(db, task_id, tag_ids)
}

pub(crate) fn insert_tags(db: &dyn Db, task_id: i64, tag_ids: &[i64]) -> Result<(), ApiError> {
    Ok(insert_tag_links(
        db,
        "task_tags",
        "task_id",
        task_id,
        tag_ids,
    )?)
}

/// Tag ids without repeats, at most [`MAX_TAGS_PER_TASK`] of them.
pub(crate) fn unique_tag_ids(mut ids: Vec<i64>) -> Result<Vec<i64>, ApiError> {
    ids.sort_unstable();
    ids.dedup();
    if ids.len() > MAX_TAGS_PER_TASK {
        return Err(ApiError::invalid(
            "tag_ids",
            format!("at most {MAX_TAGS_PER_TASK} tags"),
        ));
    }
    Ok(ids)
}

/// The title, description and priority (default Medium) of a new task or
/// template, checked.
pub(crate) fn new_task_basics(
    title: &str,
    description: &str,
    priority: Option<&str>,
) -> Result<(String, String, Priority), ApiError> {
    let title = input::line("title", title, MAX_TITLE_CHARS)?;
    let description = input::text("description", description, MAX_DESCRIPTION_CHARS)?;
    let priority = priority
        .map(parse_priority)
        .transpose()?
        .unwrap_or(Priority::Medium);
    Ok((title, description, priority))
}

pub fn create(ctx: &Context, user_id: &str, request: &Request) -> Result<Reply, ApiError> {
    let body: NewTask = json_body(request)?;
    let (title, description, priority) =
        new_task_basics(&body.title, &body.description, body.priority.as_deref())?;
    let due_at = input::opt_timestamp("due_at", body.due_at.as_deref())?;
    let remind_at = input::opt_timestamp("remind_at", body.remind_at.as_deref())?;
    check_reminder(due_at, remind_at)?;
    let tag_ids = unique_tag_ids(body.tag_ids)?;
    let now = ctx.now;

    let (task, event) = transaction(ctx.db, |db| {
        ensure_user(db, user_id)?;
        owned_tag_ids(db, user_id, &tag_ids)?;
        let rows = db.query(
            &db.q()
                .sql("INSERT INTO tasks (user_id, title, description, priority_id, due_at, remind_at, created_at, updated_at) VALUES (")
                .bind(Param::from(user_id))
                .sql(", ")
                .bind(Param::from(title.as_str()))
                .sql(", ")
                .bind(Param::from(description.as_str()))
                .sql(", ")
                .bind(Param::Int(priority.id()))
                .sql(", ")
                .bind(due_at.map(Param::Timestamp))
                .sql(", ")
                .bind(remind_at.map(Param::Timestamp))
                .sql(", ")
                .bind(Param::Timestamp(now))
                .sql(", ")
                .bind(Param::Timestamp(now))
                .sql(&format!(") RETURNING {RETURNED_COLUMNS}")),
        )?;
        let row = rows
            .first()
            .ok_or_else(|| ApiError::internal("INSERT ... RETURNING gave no row"))?;
        let mut created = vec![task_from_row(row)?];
        if !tag_ids.is_empty() {
            insert_tags(db, created[0].id, &tag_ids)?;
            attach_tags(db, &mut created)?;
        }
        let task = created.remove(0);
        let event = record_task_event(db, ctx.origin(), TaskEventType::Created, &task, Vec::new())?;
        Ok::<_, ApiError>((task, event))
    })?;
    let location = format!("/api/{user_id}/tasks/{}", task.id);
    Ok(Reply {
        response: task_response(201, &task).with_header("location", location),
        events: vec![event],
    })
}

pub fn get(ctx: &Context, user_id: &str, id: i64) -> Result<Reply, ApiError> {
    let task = load_task(ctx.db, user_id, id)?;
    Ok(task_response(200, &task).into())
}

/// What an update changes, worked out against the current task.
struct Update {
    sets: Vec<(&'static str, Option<Param>)>,
    changed: Vec<String>,
    tag_ids: Option<Vec<i64>>,
    completes: bool,
}

fn plan_update(
    current: &Task,
    changes: TaskChanges,
    now: DateTime<Utc>,
) -> Result<Update, ApiError> {
    let mut update = Update {
        sets: Vec::new(),
        changed: Vec::new(),
        tag_ids: None,
        completes: false,
    };
    let set = |update: &mut Update, column: &'static str, value: Option<Param>| {
        update.sets.push((column, value));
        update.changed.push(column.to_string());
    };
    if let Some(title) = changes.title {
        let title = input::line("title", &title, MAX_TITLE_CHARS)?;
        if title != current.title {
            set(&mut update, "title", Some(Param::Text(title)));
        }
    }
    if let Some(description) = changes.description {
        let description = input::text("description", &description, MAX_DESCRIPTION_CHARS)?;
        if description != current.description {
            set(&mut update, "description", Some(Param::Text(description)));
        }
    }
    if let Some(priority) = changes.priority {
        let priority = parse_priority(&priority)?;
        if priority != current.priority {
            update
                .sets
                .push(("priority_id", Some(Param::Int(priority.id()))));
            update.changed.push("priority".into());
        }
    }
    let current_due = current
        .due_at
        .as_deref()
        .and_then(crate::time::parse_timestamp);
    let current_remind = current
        .remind_at
        .as_deref()
        .and_then(crate::time::parse_timestamp);
    let due_at = match changes.due_at {
        Some(value) => input::opt_timestamp("due_at", value.as_deref())?,
        None => current_due,
    };
    let remind_at = match changes.remind_at {
        Some(value) => input::opt_timestamp("remind_at", value.as_deref())?,
        None => current_remind,
    };
    check_reminder(due_at, remind_at)?;
    if due_at != current_due {
        set(&mut update, "due_at", due_at.map(Param::Timestamp));
    }
    if remind_at != current_remind {
        set(&mut update, "remind_at", remind_at.map(Param::Timestamp));
        // A new reminder time deserves a new reminder.
        update.sets.push(("reminded_at", None));
    }
    if let Some(completed) = changes.completed
        && completed != current.completed
    {
        set(&mut update, "completed", Some(Param::Bool(completed)));
        set(
            &mut update,
            "completed_at",
            completed.then_some(Param::Timestamp(now)),
        );
        update.completes = completed;
    }
    if let Some(tag_ids) = changes.tag_ids {
        let tag_ids = unique_tag_ids(tag_ids)?;
        let mut current_ids: Vec<i64> = current.tags.iter().map(|t| t.id).collect();
        current_ids.sort_unstable();
        if tag_ids != current_ids {
            update.changed.push("tags".into());
            update.tag_ids = Some(tag_ids);
        }
    }
    Ok(update)
}

/// Applies `update` to `current` (version-checked) and records its event.
fn apply_update(
    ctx: &Context,
    db: &dyn Db,
    current: &Task,
    update: Update,
) -> Result<(Task, Option<crate::outbox::PendingEvent>), ApiError> {
    if update.changed.is_empty() {
        return Ok((current.clone(), None));
    }
    if let Some(tag_ids) = &update.tag_ids {
        owned_tag_ids(db, &current.user_id, tag_ids)?;
        replace_tags(db, current.id, tag_ids)?;
    }
    let mut query: Query = db.q().sql("UPDATE tasks SET ");
    for (column, value) in update.sets {
        query.push_sql(column);
        query.push_sql(" = ");
        query.push_bind(value);
        query.push_sql(", ");
    }
    query.push_sql("updated_at = ");
    query.push_bind(Some(Param::Timestamp(ctx.now)));
    query.push_sql(", version = version + 1 WHERE id = ");
    query.push_bind(Some(Param::Int(current.id)));
    query.push_sql(" AND version = ");
    query.push_bind(Some(Param::Int(current.version)));
    if db.execute(&query)? != 1 {
        return Err(ApiError::conflict(
            "the task changed while this update ran; reload and retry",
        ));
    }
    let task = load_task(db, &current.user_id, current.id)?;
    let (event_type, changed) = if update.completes {
        (TaskEventType::Completed, Vec::new())
    } else {
        (TaskEventType::Updated, update.changed)
    };
    let event = record_task_event(db, ctx.origin(), event_type, &task, changed)?;
    Ok((task, Some(event)))
}

pub fn update(ctx: &Context, user_id: &str, id: i64, request: &Request) -> Result<Reply, ApiError> {
    let changes: TaskChanges = json_body(request)?;
    change_task(ctx, user_id, id, request, |current| {
        plan_update(current, changes, ctx.now)
    })
}

/// PATCH .../complete: completed ↔ pending.
pub fn toggle_complete(
    ctx: &Context,
    user_id: &str,
    id: i64,
    request: &Request,
) -> Result<Reply, ApiError> {
    change_task(ctx, user_id, id, request, |current| {
        let changes = TaskChanges {
            completed: Some(!current.completed),
            ..TaskChanges::default()
        };
        plan_update(current, changes, ctx.now)
    })
}

/// Loads the task, checks `If-Match`, plans and applies a change, all in one
/// transaction.
fn change_task(
    ctx: &Context,
    user_id: &str,
    id: i64,
    request: &Request,
    plan: impl FnOnce(&Task) -> Result<Update, ApiError>,
) -> Result<Reply, ApiError> {
    let (task, event) = transaction(ctx.db, |db| {
        let current = lock_task(db, user_id, id)?;
        check_if_match(request, &current)?;
        let update = plan(&current)?;
        apply_update(ctx, db, &current, update)
    })?;
    Ok(Reply {
        response: task_response(200, &task),
        events: event.into_iter().collect(),
    })
}

pub fn set_tag(
    ctx: &Context,
    user_id: &str,
    id: i64,
    tag_id: i64,
    attach: bool,
    request: &Request,
) -> Result<Reply, ApiError> {
    change_task(ctx, user_id, id, request, |current| {
        let mut tag_ids: Vec<i64> = current.tags.iter().map(|t| t.id).collect();
        if attach {
            tag_ids.push(tag_id);
        } else if !tag_ids.contains(&tag_id) {
            return Err(ApiError::not_found(format!(
                "tag {tag_id} is not on task {id}"
            )));
        } else {
            tag_ids.retain(|t| *t != tag_id);
        }
        let changes = TaskChanges {
            tag_ids: Some(tag_ids),
            ..TaskChanges::default()
        };
        plan_update(current, changes, ctx.now)
    })
}

pub fn delete(ctx: &Context, user_id: &str, id: i64, request: &Request) -> Result<Reply, ApiError> {
    let event = transaction(ctx.db, |db| {
        let task = lock_task(db, user_id, id)?;
        check_if_match(request, &task)?;
        db.execute(
            &db.q()
                .sql("DELETE FROM tasks WHERE id = ")
                .bind(Param::Int(id)),
        )?;
        Ok::<_, ApiError>(record_task_event(
            db,
            ctx.origin(),
            TaskEventType::Deleted,
            &task,
            Vec::new(),
        )?)
    })?;
    Ok(Reply {
        response: Response::no_content(),
        events: vec![event],
    })
}

pub use crate::task_list::list;
