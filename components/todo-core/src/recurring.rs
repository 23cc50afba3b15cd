//! Recurring templates: what each generated task looks like and when the
//! next one is due. The recurring-task service turns them into tasks; this
//! module owns their lifecycle and previews.

use chrono::{DateTime, NaiveTime, Utc};
use docket_events::Priority;
use docket_recurrence::{PatternKind, Recurrence, RecurrenceSpec, WeekdaySet};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::Context;
use crate::http::{ApiError, Reply, Request, Response};
use crate::input::{self, double_option, json_body, parse_int, query_pairs};
use crate::sql::{Db, DbError, Param, Row, insert_tag_links, rows_for_ids, transaction};
use crate::tags::owned_tag_ids;
use crate::tasks::{
    MAX_DESCRIPTION_CHARS, MAX_TITLE_CHARS, new_task_basics, parse_priority, unique_tag_ids,
};
use crate::time::format_timestamp;
use crate::users::ensure_user;

pub const DEFAULT_PREVIEW: i64 = 5;
pub const MAX_PREVIEW: i64 = 100;

pub(crate) const COLUMNS: &str = "id, user_id, title, description, priority_id, pattern, every_n, weekdays, \
     day_of_month, nth_week, time_of_day, cron, timezone, starts_at, ends_at, enabled, \
     next_occurrence, created_at, updated_at, version";

#[derive(Debug, Clone, Serialize)]
pub struct RecurringTask {
    pub id: i64,
    pub user_id: String,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub tag_ids: Vec<i64>,
    pub recurrence: RecurrenceSpec,
    pub enabled: bool,
    pub next_occurrence: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewTemplate {
    title: String,
    #[serde(default)]
    description: String,
    priority: Option<String>,
    #[serde(default)]
    tag_ids: Vec<i64>,
    recurrence: RecurrenceSpec,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TemplateChanges {
    title: Option<String>,
    description: Option<String>,
    priority: Option<String>,
    tag_ids: Option<Vec<i64>>,
    recurrence: Option<RecurrenceSpec>,
    enabled: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PreviewRequest {
    recurrence: RecurrenceSpec,
    #[serde(default, deserialize_with = "double_option")]
    count: Option<Option<i64>>,
}

/// Validates a spec into the rule it describes (422 naming the field).
pub fn parse_recurrence(spec: &RecurrenceSpec) -> Result<Recurrence, ApiError> {
    Recurrence::new(spec)
        .map_err(|e| ApiError::invalid(&format!("recurrence.{}", e.field()), e.to_string()))
}

fn spec_from_row(row: &Row) -> Result<RecurrenceSpec, ApiError> {
    let pattern = match row.text(5)?.as_str() {
        "daily" => PatternKind::Daily,
        "weekly" => PatternKind::Weekly,
        "monthly" => PatternKind::Monthly,
        "cron" => PatternKind::Cron,
        other => {
            return Err(
                ApiError::internal("unknown pattern in the database").cause(other.to_string())
            );
        }
    };
    let small = |index: usize| -> Result<Option<u8>, DbError> {
        Ok(row.opt_int(index)?.and_then(|v| u8::try_from(v).ok()))
    };
    Ok(RecurrenceSpec {
        pattern,
        every_n: u32::try_from(row.int(6)?).unwrap_or(1),
        weekdays: small(7)?.and_then(WeekdaySet::from_bits),
        day_of_month: small(8)?,
        nth_week: small(9)?,
        time_of_day: (pattern != PatternKind::Cron)
            .then(|| row.time(10).map(|t| t.format("%H:%M").to_string()))
            .transpose()?,
        cron: row.opt_text(11)?,
        timezone: row.text(12)?,
        starts_at: row.timestamp(13)?,
        ends_at: row.opt_timestamp(14)?,
    })
}

pub(crate) fn template_from_row(row: &Row) -> Result<RecurringTask, ApiError> {
    let priority_id = row.int(4)?;
    Ok(RecurringTask {
        id: row.int(0)?,
        user_id: row.text(1)?,
        title: row.text(2)?,
        description: row.text(3)?,
        priority: Priority::from_id(priority_id)
            .ok_or_else(|| ApiError::internal("unknown priority in the database"))?,
        tag_ids: Vec::new(),
        recurrence: spec_from_row(row)?,
        enabled: row.bool(15)?,
        next_occurrence: row.opt_timestamp_text(16)?,
        created_at: row.opt_timestamp_text(17)?.unwrap_or_default(),
        updated_at: row.opt_timestamp_text(18)?.unwrap_or_default(),
        version: row.int(19)?,
    })
}

pub(crate) fn fill_tag_ids(db: &dyn Db, templates: &mut [RecurringTask]) -> Result<(), ApiError> {
    let rows = rows_for_ids(
        db,
        "SELECT recurring_task_id, tag_id FROM recurring_task_tags WHERE recurring_task_id IN (",
        templates.iter().map(|t| t.id),
        ") ORDER BY tag_id",
    )?;
    for row in rows {
        let template_id = row.int(0)?;
        if let Some(template) = templates.iter_mut().find(|t| t.id == template_id) {
            template.tag_ids.push(row.int(1)?);
        }
    }
    Ok(())
}

pub fn load(db: &dyn Db, user_id: &str, id: i64) -> Result<RecurringTask, ApiError> {
    let select = format!("SELECT {COLUMNS} FROM recurring_tasks");
    let row = crate::owned::find(db, &select, "", "recurring task", user_id, id, "")?;
    let mut templates = vec![template_from_row(&row)?];
    fill_tag_ids(db, &mut templates)?;
    Ok(templates.remove(0))
}

fn template_response(status: u16, template: &RecurringTask) -> Response {
    Response::versioned(status, template, template.version)
}

fn replace_tag_ids(db: &dyn Db, template_id: i64, tag_ids: &[i64]) -> Result<(), DbError> {
    db.execute(
        &db.q()
            .sql("DELETE FROM recurring_task_tags WHERE recurring_task_id = ")
            .bind(Param::Int(template_id)),
    )?;
    insert_tag_links(
        db,
        "recurring_task_tags",
        "recurring_task_id",
        template_id,
        tag_ids,
    )
}

/// The spec's columns, in the order of [`SPEC_COLUMNS`].
const SPEC_COLUMNS: [&str; 10] = [
    "pattern",
    "every_n",
    "weekdays",
    "day_of_month",
    "nth_week",
    "time_of_day",
    "cron",
    "timezone",
    "starts_at",
    "ends_at",
];

fn spec_params(rule: &Recurrence) -> Result<[Option<Param>; 10], ApiError> {
    let spec = rule.spec();
    let time_of_day = match &spec.time_of_day {
        Some(text) => Some(
            NaiveTime::parse_from_str(text, "%H:%M")
                .map_err(|_| ApiError::invalid("recurrence.time_of_day", "time_of_day is HH:MM"))?,
        ),
        // Cron carries its own time; the column still wants one.
        None => NaiveTime::from_hms_opt(0, 0, 0),
    };
    Ok([
        Some(Param::from(spec.pattern.as_str())),
        Some(Param::Int(i64::from(spec.every_n))),
        spec.weekdays.map(|w| Param::Int(i64::from(w.bits()))),
        spec.day_of_month.map(|d| Param::Int(i64::from(d))),
        spec.nth_week.map(|n| Param::Int(i64::from(n))),
        time_of_day.map(Param::Time),
        spec.cron.clone().map(Param::Text),
        Some(Param::from(spec.timezone.as_str())),
        Some(Param::Timestamp(spec.starts_at)),
        spec.ends_at.map(Param::Timestamp),
    ])
}

/// The next occurrence from now, for an enabled template.
fn next_from_now(rule: &Recurrence, enabled: bool, now: DateTime<Utc>) -> Option<Param> {
    enabled
        .then(|| rule.next_after(now))
        .flatten()
        .map(Param::Timestamp)
}

pub fn list(ctx: &Context, user_id: &str) -> Result<Reply, ApiError> {
    let db = ctx.db;
    let rows = db.query(
        &db.q()
            .sql(&format!(
                "SELECT {COLUMNS} FROM recurring_tasks WHERE user_id = "
            ))
            .bind(Param::from(user_id))
            .sql(" ORDER BY id"),
    )?;
    let mut templates = rows
        .iter()
        .map(template_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    fill_tag_ids(db, &mut templates)?;
    Ok(Response::json(200, &templates).into())
}

pub fn get(ctx: &Context, user_id: &str, id: i64) -> Result<Reply, ApiError> {
    Ok(template_response(200, &load(ctx.db, user_id, id)?).into())
}

pub fn create(ctx: &Context, user_id: &str, request: &Request) -> Result<Reply, ApiError> {
    let body: NewTemplate = json_body(request)?;
    let (title, description, priority) =
        new_task_basics(&body.title, &body.description, body.priority.as_deref())?;
    let tag_ids = unique_tag_ids(body.tag_ids)?;
    let rule = parse_recurrence(&body.recurrence)?;
    let enabled = body.enabled.unwrap_or(true);
    let spec = spec_params(&rule)?;

    let template = transaction(ctx.db, |db| {
        ensure_user(db, user_id)?;
        owned_tag_ids(db, user_id, &tag_ids)?;
        let mut insert = db.q().sql(&format!(
            "INSERT INTO recurring_tasks (user_id, title, description, priority_id, {}, enabled, next_occurrence, created_at, updated_at) VALUES (",
            SPEC_COLUMNS.join(", ")
        ));
        insert.push_bind(Some(Param::from(user_id)));
        for value in [
            Some(Param::from(title.as_str())),
            Some(Param::from(description.as_str())),
            Some(Param::Int(priority.id())),
        ]
        .into_iter()
        .chain(spec.iter().cloned())
        .chain([
            Some(Param::Bool(enabled)),
            next_from_now(&rule, enabled, ctx.now),
            Some(Param::Timestamp(ctx.now)),
            Some(Param::Timestamp(ctx.now)),
        ]) {
            insert.push_sql(", ");
            insert.push_bind(value);
        }
        insert.push_sql(") RETURNING id");
        let id = db
            .query(&insert)?
            .first()
            .ok_or_else(|| ApiError::internal("INSERT ... RETURNING gave no row"))?
            .int(0)?;
        replace_tag_ids(db, id, &tag_ids)?;
        load(db, user_id, id)
    })?;
    let location = format!("/api/{user_id}/recurring/{}", template.id);
    Ok(template_response(201, &template)
        .with_header("location", location)
        .into())
}

pub fn update(ctx: &Context, user_id: &str, id: i64, request: &Request) -> Result<Reply, ApiError> {
    let changes: TemplateChanges = json_body(request)?;
    let title = changes
        .title
        .as_deref()
        .map(|t| input::line("title", t, MAX_TITLE_CHARS))
        .transpose()?;
    let description = changes
        .description
        .as_deref()
        .map(|d| input::text("description", d, MAX_DESCRIPTION_CHARS))
        .transpose()?;
    let priority = changes
        .priority
        .as_deref()
        .map(parse_priority)
        .transpose()?;
    let tag_ids = changes.tag_ids.map(unique_tag_ids).transpose()?;
    let new_rule = changes
        .recurrence
        .as_ref()
        .map(parse_recurrence)
        .transpose()?;

    let template = transaction(ctx.db, |db| {
        let current = load(db, user_id, id)?;
        let rule = match new_rule {
            Some(rule) => rule,
            None => parse_recurrence(&current.recurrence)?,
        };
        let enabled = changes.enabled.unwrap_or(current.enabled);
        let mut update = db.q().sql("UPDATE recurring_tasks SET title = ");
        update.push_bind(Some(Param::from(title.unwrap_or(current.title))));
        update.push_sql(", description = ");
        update.push_bind(Some(Param::from(
            description.unwrap_or(current.description),
        )));
        update.push_sql(", priority_id = ");
        update.push_bind(Some(Param::Int(priority.unwrap_or(current.priority).id())));
        for (column, value) in SPEC_COLUMNS.iter().zip(spec_params(&rule)?) {
            update.push_sql(&format!(", {column} = "));
            update.push_bind(value);
        }
        update.push_sql(", enabled = ");
        update.push_bind(Some(Param::Bool(enabled)));
        // A new schedule or a re-enabled template starts from now; otherwise
        // the generator's position is kept.
        let reschedule = changes.recurrence.is_some() || !current.enabled || !enabled;
        if reschedule {
            update.push_sql(", next_occurrence = ");
            update.push_bind(next_from_now(&rule, enabled, ctx.now));
        }
        update.push_sql(", updated_at = ");
        update.push_bind(Some(Param::Timestamp(ctx.now)));
        update.push_sql(", version = version + 1 WHERE id = ");
        update.push_bind(Some(Param::Int(id)));
        db.execute(&update)?;
        if let Some(tag_ids) = &tag_ids {
            owned_tag_ids(db, user_id, tag_ids)?;
            replace_tag_ids(db, id, tag_ids)?;
        }
        load(db, user_id, id)
    })?;
    Ok(template_response(200, &template).into())
}

pub fn set_enabled(
    ctx: &Context,
    user_id: &str,
    id: i64,
    enabled: bool,
) -> Result<Reply, ApiError> {
    let template = transaction(ctx.db, |db| {
        let current = load(db, user_id, id)?;
        if current.enabled == enabled {
            return Ok(current);
        }
        let rule = parse_recurrence(&current.recurrence)?;
        db.execute(
            &db.q()
                .sql("UPDATE recurring_tasks SET enabled = ")
                .bind(Param::Bool(enabled))
                .sql(", next_occurrence = ")
                .bind(next_from_now(&rule, enabled, ctx.now))
                .sql(", updated_at = ")
                .bind(Param::Timestamp(ctx.now))
                .sql(", version = version + 1 WHERE id = ")
                .bind(Param::Int(id)),
        )?;
        load(db, user_id, id)
    })?;
    Ok(template_response(200, &template).into())
}

pub fn delete(ctx: &Context, user_id: &str, id: i64) -> Result<Reply, ApiError> {
    crate::owned::delete(ctx.db, "recurring_tasks", "recurring task", user_id, id)
}

fn occurrences_response(rule: &Recurrence, after: DateTime<Utc>, count: i64) -> Reply {
    let occurrences: Vec<String> = rule
        .occurrences_after(after, usize::try_from(count).unwrap_or(0))
        .into_iter()
        .map(format_timestamp)
        .collect();
    Response::json(200, &json!({ "occurrences": occurrences })).into()
}

/// `GET .../recurring/{id}/preview?count=N`: the next N occurrences from now.
pub fn preview(
    ctx: &Context,
    user_id: &str,
    id: i64,
    request: &Request,
) -> Result<Reply, ApiError> {
    let mut count = DEFAULT_PREVIEW;
    for (_, value) in query_pairs(request, &["count"])? {
        count = parse_int("count", &value, 1, MAX_PREVIEW)?;
    }
    let template = load(ctx.db, user_id, id)?;
    let rule = parse_recurrence(&template.recurrence)?;
    Ok(occurrences_response(&rule, ctx.now, count))
}

/// `POST .../recurring/preview`: occurrences of a spec that is not saved.
pub fn preview_spec(ctx: &Context, request: &Request) -> Result<Reply, ApiError> {
    let body: PreviewRequest = json_body(request)?;
    let count = body.count.flatten().unwrap_or(DEFAULT_PREVIEW);
    if !(1..=MAX_PREVIEW).contains(&count) {
        return Err(ApiError::invalid(
            "count",
            format!("count is 1 to {MAX_PREVIEW}"),
        ));
    }
    let rule = parse_recurrence(&body.recurrence)?;
    Ok(occurrences_response(&rule, ctx.now, count))
}
