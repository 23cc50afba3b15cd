//! Tags: each user's own labels, with a name unique per user and a colour.

use serde::{Deserialize, Serialize};
use serde_json::json;

use docket_events::TaskEventType;

use crate::Context;
use crate::http::{ApiError, Reply, Request, Response};
use crate::input::{self, json_body};
use crate::outbox::record_task_event;
use crate::sql::{Db, DbError, Param, Row, transaction};
use crate::tasks::load_task;
use crate::users::ensure_user;

pub const MAX_TAG_NAME_CHARS: usize = 50;
pub const DEFAULT_COLOR: &str = "#64748b";

#[derive(Debug, Serialize)]
struct Tag {
    id: i64,
    name: String,
    color: String,
    created_at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTag {
    name: String,
    color: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagChanges {
    name: Option<String>,
    color: Option<String>,
}

fn tag_from_row(row: &Row) -> Result<Tag, DbError> {
    Ok(Tag {
        id: row.int(0)?,
        name: row.text(1)?,
        color: row.text(2)?,
        created_at: row.opt_timestamp_text(3)?.unwrap_or_default(),
    })
}

/// `#rrggbb`, stored in lower case.
fn parse_color(value: &str) -> Result<String, ApiError> {
    let hex = value.strip_prefix('#').unwrap_or("");
    if hex.len() == 6 && hex.chars().all(|c| c.is_ascii_hexdigit()) {
        Ok(value.to_ascii_lowercase())
    } else {
        Err(ApiError::invalid("color", "a colour is written #rrggbb"))
    }
}

fn parse_name(value: &str) -> Result<String, ApiError> {
    input::line("name", value, MAX_TAG_NAME_CHARS)
}

fn duplicate_name(name: &str) -> ApiError {
    ApiError::conflict(format!("you already have a tag named {name:?}"))
        .member("field", json!("name"))
}

fn load_tag(db: &dyn Db, user_id: &str, id: i64) -> Result<Tag, ApiError> {
    let select = "SELECT id, name, color, created_at FROM tags";
    let row = crate::owned::find(db, select, "", "tag", user_id, id, "")?;
    Ok(tag_from_row(&row)?)
}

pub fn list(ctx: &Context, user_id: &str) -> Result<Reply, ApiError> {
    let db = ctx.db;
    let rows = db.query(
        &db.q()
            .sql("SELECT id, name, color, created_at FROM tags WHERE user_id = ")
            .bind(Param::from(user_id))
            .sql(" ORDER BY name, id"),
    )?;
    let tags = rows
        .iter()
        .map(tag_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Response::json(200, &tags).into())
}

pub fn create(ctx: &Context, user_id: &str, request: &Request) -> Result<Reply, ApiError> {
    let body: NewTag = json_body(request)?;
    let name = parse_name(&body.name)?;
    let color = match body.color.as_deref() {
        Some(color) => parse_color(color)?,
        None => DEFAULT_COLOR.to_string(),
    };
    let tag = transaction(ctx.db, |db| {
        ensure_user(db, user_id)?;
        let inserted = db.query(
            &db.q()
                .sql("INSERT INTO tags (user_id, name, color, created_at) VALUES (")
                .bind(Param::from(user_id))
                .sql(", ")
                .bind(Param::from(name.as_str()))
                .sql(", ")
                .bind(Param::from(color.as_str()))
                .sql(", ")
                .bind(Param::Timestamp(ctx.now))
                .sql(") ON CONFLICT DO NOTHING RETURNING id"),
        )?;
        let id = inserted
            .first()
            .ok_or_else(|| duplicate_name(&name))?
            .int(0)?;
        load_tag(db, user_id, id)
    })?;
    let location = format!("/api/{user_id}/tags/{}", tag.id);
    Ok(Response::json(201, &tag)
        .with_header("location", location)
        .into())
}

pub fn update(ctx: &Context, user_id: &str, id: i64, request: &Request) -> Result<Reply, ApiError> {
    let body: TagChanges = json_body(request)?;
    let name = body.name.as_deref().map(parse_name).transpose()?;
    let color = body.color.as_deref().map(parse_color).transpose()?;
    let tag = transaction(ctx.db, |db| {
        let current = load_tag(db, user_id, id)?;
        let name = name.unwrap_or(current.name);
        let color = color.unwrap_or(current.color);
        let result = db.execute(
            &db.q()
                .sql("UPDATE tags SET name = ")
                .bind(Param::from(name.as_str()))
                .sql(", color = ")
                .bind(Param::from(color.as_str()))
                .sql(" WHERE id = ")
                .bind(Param::Int(id)),
        );
        match result {
            Err(DbError::Unique(_)) => Err(duplicate_name(&name)),
            other => Ok(other?),
        }?;
        load_tag(db, user_id, id)
    })?;
    Ok(Response::json(200, &tag).into())
}

/// Deletes a tag; each task that carried it changes (a new version) and
/// gets a `task.updated` event naming `tags`.
pub fn delete(ctx: &Context, user_id: &str, id: i64) -> Result<Reply, ApiError> {
    let events = transaction(ctx.db, |db| {
        let tagged: Vec<i64> = db
            .query(
                &db.q()
                    .sql("SELECT tt.task_id FROM task_tags tt JOIN tags g ON g.id = tt.tag_id WHERE g.id = ")
                    .bind(Param::Int(id))
                    .sql(" AND g.user_id = ")
                    .bind(Param::from(user_id))
                    .sql(" ORDER BY tt.task_id"),
            )?
            .iter()
            .map(|row| row.int(0))
            .collect::<Result<_, _>>()?;
        crate::owned::delete(db, "tags", "tag", user_id, id)?;
        let mut events = Vec::with_capacity(tagged.len());
        for task_id in tagged {
            db.execute(
                &db.q()
                    .sql("UPDATE tasks SET version = version + 1, updated_at = ")
                    .bind(Param::Timestamp(ctx.now))
                    .sql(" WHERE id = ")
                    .bind(Param::Int(task_id)),
            )?;
            let task = load_task(db, user_id, task_id)?;
            events.push(record_task_event(
                db,
                ctx.origin(),
                TaskEventType::Updated,
                &task,
                vec!["tags".into()],
            )?);
        }
        Ok::<_, ApiError>(events)
    })?;
    Ok(Reply {
        response: Response::no_content(),
        events,
    })
}

/// Checks that every id in `ids` is one of the user's tags (422 otherwise,
/// without telling whether the tag exists for someone else).
pub fn owned_tag_ids(db: &dyn Db, user_id: &str, ids: &[i64]) -> Result<(), ApiError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut query = db
        .q()
        .sql("SELECT id FROM tags WHERE user_id = ")
        .bind(Param::from(user_id))
        .sql(" AND id IN (");
    query.push_list(ids.iter().map(|id| Param::Int(*id)));
    query.push_sql(")");
    let found = db
        .query(&query)?
        .iter()
        .map(|row| row.int(0))
        .collect::<Result<Vec<_>, _>>()?;
    match ids.iter().find(|id| !found.contains(id)) {
        Some(missing) => Err(ApiError::invalid(
            "tag_ids",
            format!("tag {missing} does not exist"),
        )),
        None => Ok(()),
    }
}
