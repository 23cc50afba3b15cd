//! The recurring-task service's work: turning due template occurrences into
//! tasks, and due reminders into `task.due` events, each with its events in
//! the outbox in the same transaction.
//!
//! Work comes in bounded batches, each one transaction, so a huge backlog is
//! worked off over several batches (and calls) and a crash loses at most the
//! batch in flight, which rolls back and is done again. On Postgres a batch
//! claims its rows with `FOR UPDATE SKIP LOCKED`, so replicas running at the
//! same time share the work instead of repeating it; on SQLite the writer
//! lock does the same. The unique key on `(recurring_task_id,
//! occurrence_at)` makes generation idempotent whatever happens.

use chrono::{DateTime, Utc};
use docket_events::{Task, TaskEventType};
use serde::Serialize;

use crate::http::ApiError;
use crate::outbox::{Origin, PendingEvent, record_reminder, record_task_event};
use crate::recurring::{COLUMNS, RecurringTask, fill_tag_ids, parse_recurrence, template_from_row};
use crate::sql::{Db, Dialect, Param, Query, filled_limit, transaction};
use crate::tasks::{RETURNED_COLUMNS, attach_tags, insert_tags, task_from_row};

/// How much one batch takes on.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Templates claimed per batch.
    pub templates: i64,
    /// Occurrences one template may produce per batch; a template further
    /// behind stays due and continues in the next batch.
    pub occurrences_per_template: usize,
    /// Reminders claimed per batch.
    pub reminders: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            templates: 100,
            occurrences_per_template: 100,
            reminders: 500,
        }
    }
}

/// What one batch did.
#[derive(Debug, Default, Serialize)]
pub struct Batch {
    /// Templates or tasks claimed.
    pub claimed: usize,
    /// Tasks generated, or reminders sent.
    pub produced: usize,
    /// True when the batch was full: more may be due.
    pub more: bool,
    #[serde(skip)]
    pub events: Vec<PendingEvent>,
}

/// `FOR UPDATE SKIP LOCKED` where the database has row locks.
fn claim_suffix(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        Dialect::Sqlite => "",
    }
}

/// Generates the due occurrences of up to `limits.templates` templates.
pub fn generate_batch(db: &dyn Db, now: DateTime<Utc>, limits: Limits) -> Result<Batch, ApiError> {
    transaction(db, |db| {
        let templates = claim_due_templates(db, now, limits.templates)?;
        let mut batch = Batch {
            claimed: templates.len(),
            more: filled_limit(templates.len(), limits.templates),
            ..Batch::default()
        };
        for (template, next) in &templates {
            let produced = catch_up(db, now, template, *next, limits, &mut batch.events)?;
            batch.produced += produced;
        }
        Ok(batch)
    })
}

fn claim_due_templates(
    db: &dyn Db,
    now: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<(RecurringTask, DateTime<Utc>)>, ApiError> {
    let rows = db.query(
        &db.q()
            .sql(&format!(
                "SELECT {COLUMNS} FROM recurring_tasks WHERE enabled AND next_occurrence <= "
            ))
            .bind(Param::Timestamp(now))
            .sql(" ORDER BY next_occurrence, id LIMIT ")
            .bind(Param::Int(limit))
            .sql(claim_suffix(db.dialect())),
    )?;
    let mut templates = Vec::with_capacity(rows.len());
    let mut due = Vec::with_capacity(rows.len());
    for row in &rows {
        templates.push(template_from_row(row)?);
        due.push(row.timestamp(16)?);
    }
    fill_tag_ids(db, &mut templates)?;
    Ok(templates.into_iter().zip(due).collect())
}

/// Creates the template's occurrences from `next` up to `now` (at most
/// `limits.occurrences_per_template`) and moves `next_occurrence` on.
fn catch_up(
    db: &dyn Db,
    now: DateTime<Utc>,
    template: &RecurringTask,
    next: DateTime<Utc>,
    limits: Limits,
    events: &mut Vec<PendingEvent>,
) -> Result<usize, ApiError> {
    let rule = match parse_recurrence(&template.recurrence) {
        Ok(rule) => rule,
        Err(error) => {
            // A stored rule this version cannot read: stop it rather than
            // retry it forever; the owner sees `next_occurrence: null`.
            eprintln!(
                "recurring task {} has an unreadable rule ({}); it is paused",
                template.id, error.detail
            );
            set_next_occurrence(db, template.id, None)?;
            return Ok(0);
        }
    };
    let mut produced = 0;
    let mut at = Some(next);
    let mut generated = 0;
    while let Some(occurrence) = at.filter(|t| *t <= now) {
        if generated == limits.occurrences_per_template {
            break;
        }
        if let Some(task) = insert_occurrence(db, now, template, occurrence)? {
            events.push(record_task_event(
                db,
                Origin::untraced(now),
                TaskEventType::Created,
                &task,
                Vec::new(),
            )?);
            produced += 1;
        }
        generated += 1;
        at = rule.next_after(occurrence);
    }
    set_next_occurrence(db, template.id, at)?;
    Ok(produced)
}

fn set_next_occurrence(db: &dyn Db, id: i64, at: Option<DateTime<Utc>>) -> Result<(), ApiError> {
    db.execute(
        &db.q()
            .sql("UPDATE recurring_tasks SET next_occurrence = ")
            .bind(at.map(Param::Timestamp))
            .sql(" WHERE id = ")
            .bind(Param::Int(id)),
    )?;
    Ok(())
}

/// The task for one occurrence, or `None` when it already exists.
fn insert_occurrence(
    db: &dyn Db,
    now: DateTime<Utc>,
    template: &RecurringTask,
    occurrence: DateTime<Utc>,
) -> Result<Option<Task>, ApiError> {
    let mut insert = db.q().sql(
        "INSERT INTO tasks (user_id, title, description, priority_id, due_at, recurring_task_id, occurrence_at, created_at, updated_at) VALUES (",
    );
    push_values(
        &mut insert,
        [
            Param::from(template.user_id.as_str()),
            Param::from(template.title.as_str()),
            Param::from(template.description.as_str()),
            Param::Int(template.priority.id()),
            Param::Timestamp(occurrence),
            Param::Int(template.id),
            Param::Timestamp(occurrence),
            Param::Timestamp(now),
            Param::Timestamp(now),
        ],
    );
    insert.push_sql(&format!(
        ") ON CONFLICT (recurring_task_id, occurrence_at) DO NOTHING RETURNING {RETURNED_COLUMNS}"
    ));
    let Some(row) = db.query(&insert)?.into_iter().next() else {
        return Ok(None);
    };
    let mut created = vec![task_from_row(&row)?];
    if !template.tag_ids.is_empty() {
        insert_tags(db, created[0].id, &template.tag_ids)?;
        attach_tags(db, &mut created)?;
    }
    Ok(created.pop())
}

fn push_values(query: &mut Query, values: impl IntoIterator<Item = Param>) {
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            query.push_sql(", ");
        }
        query.push_bind(Some(value));
    }
}

/// Sends the `task.due` reminder of up to `limit` open tasks whose
/// `remind_at` has passed and that were not reminded yet; each exactly once,
/// as `reminded_at` is set in the same transaction.
pub fn remind_batch(db: &dyn Db, now: DateTime<Utc>, limit: i64) -> Result<Batch, ApiError> {
    transaction(db, |db| {
        let rows = db.query(
            &db.q()
                .sql(&format!(
                    "SELECT {RETURNED_COLUMNS} FROM tasks WHERE reminded_at IS NULL AND completed = false AND remind_at <= "
                ))
                .bind(Param::Timestamp(now))
                .sql(" ORDER BY remind_at, id LIMIT ")
                .bind(Param::Int(limit))
                .sql(claim_suffix(db.dialect())),
        )?;
        let mut batch = Batch {
            claimed: rows.len(),
            more: filled_limit(rows.len(), limit),
            ..Batch::default()
        };
        for row in &rows {
            let task = task_from_row(row)?;
            let Some(remind_at) = row.opt_timestamp(8)? else {
                continue;
            };
            db.execute(
                &db.q()
                    .sql("UPDATE tasks SET reminded_at = ")
                    .bind(Param::Timestamp(now))
                    .sql(" WHERE id = ")
                    .bind(Param::Int(task.id)),
            )?;
            batch
                .events
                .push(record_reminder(db, now, &task, remind_at)?);
            batch.produced += 1;
        }
        Ok(batch)
    })
}
