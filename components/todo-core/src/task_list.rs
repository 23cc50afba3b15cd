//! `GET /api/{user_id}/tasks`: filters, sort, pagination.

use chrono::{DateTime, Utc};
use docket_events::Priority;

use crate::Context;
use crate::http::{ApiError, Reply, Request, Response};
use crate::input::{self, parse_bool, parse_int, query_pairs};
use crate::sql::{Param, Query};
use crate::tasks::{TASK_COLUMNS, attach_tags, parse_priority, task_from_row};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 200;
const MAX_SEARCH_CHARS: usize = 200;

const PARAMETERS: &[&str] = &[
    "status",
    "priority",
    "tag",
    "due_before",
    "due_after",
    "overdue",
    "q",
    "sort",
    "order",
    "limit",
    "offset",
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Status {
    All,
    Pending,
    Completed,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sort {
    Due,
    Priority,
    Created,
    Title,
}

#[derive(Debug)]
struct Filters {
    status: Status,
    priorities: Vec<Priority>,
    tag: Option<i64>,
    due_before: Option<DateTime<Utc>>,
    due_after: Option<DateTime<Utc>>,
    overdue: bool,
    search: Option<String>,
    sort: Sort,
    descending: bool,
    limit: i64,
    offset: i64,
}

fn parse_filters(request: &Request) -> Result<Filters, ApiError> {
    let mut filters = Filters {
        status: Status::All,
        priorities: Vec::new(),
        tag: None,
        due_before: None,
        due_after: None,
        overdue: false,
        search: None,
        sort: Sort::Created,
        descending: true,
        limit: DEFAULT_LIMIT,
        offset: 0,
    };
    let mut order = None;
    for (name, value) in query_pairs(request, PARAMETERS)? {
        match name.as_str() {
            "status" => {
                filters.status = match value.as_str() {
                    "all" => Status::All,
                    "pending" => Status::Pending,
                    "completed" => Status::Completed,
                    _ => return Err(bad_choice("status", "all, pending, completed")),
                }
            }
            "priority" => {
                for name in value.split(',').filter(|n| !n.trim().is_empty()) {
                    filters.priorities.push(
                        parse_priority(name.trim()).map_err(|e| ApiError::bad_request(e.detail))?,
                    );
                }
            }
            "tag" => filters.tag = Some(parse_int("tag", &value, 1, i64::MAX)?),
            "due_before" => filters.due_before = Some(query_timestamp("due_before", &value)?),
            "due_after" => filters.due_after = Some(query_timestamp("due_after", &value)?),
            "overdue" => filters.overdue = parse_bool("overdue", &value)?,
            "q" => {
                if value.chars().count() > MAX_SEARCH_CHARS || value.chars().any(char::is_control) {
                    return Err(ApiError::bad_request(format!(
                        "q is at most {MAX_SEARCH_CHARS} characters without control characters"
                    )));
                }
                let trimmed = value.trim();
                filters.search = (!trimmed.is_empty()).then(|| trimmed.to_lowercase());
            }
            "sort" => {
                filters.sort = match value.as_str() {
                    "due" => Sort::Due,
                    "priority" => Sort::Priority,
                    "created" => Sort::Created,
                    "title" => Sort::Title,
                    _ => return Err(bad_choice("sort", "due, priority, created, title")),
                }
            }
            "order" => {
                order = Some(match value.as_str() {
                    "asc" => false,
                    "desc" => true,
                    _ => return Err(bad_choice("order", "asc, desc")),
                })
            }
            "limit" => filters.limit = parse_int("limit", &value, 1, MAX_LIMIT)?,
            _ => filters.offset = parse_int("offset", &value, 0, i64::MAX / 2)?,
        }
    }
    // Newest first for creation time; soonest, most urgent... first otherwise.
    filters.descending = order.unwrap_or(matches!(filters.sort, Sort::Created | Sort::Priority));
    Ok(filters)
}

fn bad_choice(name: &str, choices: &str) -> ApiError {
    ApiError::bad_request(format!("{name} must be one of: {choices}"))
}

fn query_timestamp(name: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    input::timestamp(name, value).map_err(|e| ApiError::bad_request(e.detail))
}

/// Appends the WHERE clause shared by the page and the count.
fn push_conditions(query: &mut Query, user_id: &str, filters: &Filters, now: DateTime<Utc>) {
    query.push_sql(" WHERE t.user_id = ");
    query.push_bind(Some(Param::from(user_id)));
    match filters.status {
        Status::All => {}
        Status::Pending => query.push_sql(" AND t.completed = false"),
        Status::Completed => query.push_sql(" AND t.completed = true"),
    }
    if !filters.priorities.is_empty() {
        query.push_sql(" AND t.priority_id IN (");
        query.push_list(filters.priorities.iter().map(|p| Param::Int(p.id())));
        query.push_sql(")");
    }
    if let Some(tag) = filters.tag {
        query.push_sql(
            " AND EXISTS (SELECT 1 FROM task_tags tt WHERE tt.task_id = t.id AND tt.tag_id = ",
        );
        query.push_bind(Some(Param::Int(tag)));
        query.push_sql(")");
    }
    if let Some(before) = filters.due_before {
        query.push_sql(" AND t.due_at < ");
        query.push_bind(Some(Param::Timestamp(before)));
    }
    if let Some(after) = filters.due_after {
        query.push_sql(" AND t.due_at >= ");
        query.push_bind(Some(Param::Timestamp(after)));
    }
    if filters.overdue {
        query.push_sql(" AND t.completed = false AND t.due_at < ");
        query.push_bind(Some(Param::Timestamp(now)));
    }
    if let Some(search) = &filters.search {
        let pattern = format!("%{}%", escape_like(search));
        query.push_sql(" AND (lower(t.title) LIKE ");
        query.push_bind(Some(Param::Text(pattern.clone())));
        query.push_sql(" ESCAPE '\\' OR lower(t.description) LIKE ");
        query.push_bind(Some(Param::Text(pattern)));
        query.push_sql(" ESCAPE '\\')");
    }
}

/// `%`, `_` and `\` in a search are literal characters.
fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

fn order_by(filters: &Filters) -> String {
    let direction = if filters.descending { "DESC" } else { "ASC" };
    let key = match filters.sort {
        // Tasks without a due date come last either way.
        Sort::Due => format!("(t.due_at IS NULL), t.due_at {direction}"),
        Sort::Priority => format!("p.weight {direction}, (t.due_at IS NULL), t.due_at ASC"),
        Sort::Created => format!("t.created_at {direction}"),
        Sort::Title => format!("lower(t.title) {direction}"),
    };
    format!(" ORDER BY {key}, t.id {direction}")
}

pub fn list(ctx: &Context, user_id: &str, request: &Request) -> Result<Reply, ApiError> {
    let filters = parse_filters(request)?;
    let db = ctx.db;

    let mut count = db.q().sql("SELECT count(*) FROM tasks t");
    push_conditions(&mut count, user_id, &filters, ctx.now);
    let total = db
        .query(&count)?
        .first()
        .map(|row| row.int(0))
        .transpose()?
        .unwrap_or(0);

    let mut page = db.q().sql(&format!(
        "SELECT {TASK_COLUMNS} FROM tasks t JOIN priorities p ON p.id = t.priority_id"
    ));
    push_conditions(&mut page, user_id, &filters, ctx.now);
    page.push_sql(&order_by(&filters));
    page.push_sql(" LIMIT ");
    page.push_bind(Some(Param::Int(filters.limit)));
    page.push_sql(" OFFSET ");
    page.push_bind(Some(Param::Int(filters.offset)));
    let mut tasks = db
        .query(&page)?
        .iter()
        .map(task_from_row)
        .collect::<Result<Vec<_>, _>>()?;
    attach_tags(db, &mut tasks)?;

    let mut response = Response::json(200, &tasks).with_header("x-total-count", total.to_string());
    if let Some(link) = link_header(request, user_id, &filters, total) {
        response = response.with_header("link", link);
    }
    Ok(response.into())
}

/// RFC 8288 `next`/`prev` links that keep the request's other parameters.
fn link_header(request: &Request, user_id: &str, filters: &Filters, total: i64) -> Option<String> {
    let page_at = |offset: i64| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        for (name, value) in form_urlencoded::parse(request.query.as_bytes()) {
            if name != "offset" && name != "limit" {
                query.append_pair(&name, &value);
            }
        }
        query.append_pair("limit", &filters.limit.to_string());
        query.append_pair("offset", &offset.to_string());
        let user = form_urlencoded::byte_serialize(user_id.as_bytes()).collect::<String>();
        format!("</api/{user}/tasks?{}>", query.finish())
    };
    let mut links = Vec::new();
    if filters.offset + filters.limit < total {
        links.push(format!(
            "{}; rel=\"next\"",
            page_at(filters.offset + filters.limit)
        ));
    }
    if filters.offset > 0 {
        links.push(format!(
            "{}; rel=\"prev\"",
            page_at((filters.offset - filters.limit).max(0))
        ));
    }
    (!links.is_empty()).then(|| links.join(", "))
}
