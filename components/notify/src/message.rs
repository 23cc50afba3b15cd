//! What a notice says: a one-line subject (email subject, push title) and a
//! plain-text body. User text stays verbatim; it is never HTML.

use chrono::{DateTime, Utc};

use crate::event::{Kind, Notice};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub body: String,
}

pub fn compose(notice: &Notice) -> Message {
    let subject = match notice.kind {
        Kind::Created => "New task",
        Kind::Completed => "Completed",
        Kind::Due => "Reminder",
    };
    // A subject is a header line: line breaks in a title would end it.
    let title: String = notice
        .title
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let subject = format!("{subject}: {title}");
    let mut lines = vec![subject.clone()];
    if notice.kind == Kind::Created
        && let Some(priority) = notice.priority
    {
        lines.push(format!("Priority: {}", priority.name()));
    }
    if notice.kind != Kind::Completed
        && let Some(due_at) = &notice.due_at
    {
        lines.push(format!("Due: {}", when(due_at)));
    }
    if notice.kind == Kind::Completed
        && let Some(completed_at) = &notice.completed_at
    {
        lines.push(format!("Completed at: {}", when(completed_at)));
    }
    if notice.kind == Kind::Created && !notice.description.is_empty() {
        lines.push(String::new());
        lines.push(notice.description.clone());
    }
    Message {
        subject,
        body: lines.join("\n"),
    }
}

/// `2026-03-05 17:00 UTC`; anything unparsable as it came.
fn when(timestamp: &str) -> String {
    DateTime::parse_from_rfc3339(timestamp)
        .map(|at| {
            at.with_timezone(&Utc)
                .format("%Y-%m-%d %H:%M UTC")
                .to_string()
        })
        .unwrap_or_else(|_| timestamp.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use docket_events::Priority;

    fn notice(kind: Kind) -> Notice {
        Notice {
            event_id: "e1".into(),
            kind,
            user_id: "u1".into(),
            task_id: 7,
            title: "Pay <rent>\n& bills".into(),
            description: "Line one\n<b>not html</b>".into(),
            priority: Some(Priority::High),
            due_at: Some("2026-03-05T18:00:00+01:00".into()),
            completed_at: Some("2026-03-04T09:30:00.000Z".into()),
            trace_id: None,
        }
    }

    #[test]
    fn created_has_priority_due_date_and_description_verbatim() {
        let message = compose(&notice(Kind::Created));
        assert_eq!(message.subject, "New task: Pay <rent> & bills");
        assert_eq!(
            message.body,
            "New task: Pay <rent> & bills\nPriority: High\nDue: 2026-03-05 17:00 UTC\n\nLine one\n<b>not html</b>"
        );
    }

    #[test]
    fn completed_and_due() {
        let completed = compose(&notice(Kind::Completed));
        assert_eq!(completed.subject, "Completed: Pay <rent> & bills");
        assert!(
            completed
                .body
                .ends_with("\nCompleted at: 2026-03-04 09:30 UTC")
        );
        let due = compose(&Notice {
            due_at: Some("soon".into()),
            ..notice(Kind::Due)
        });
        assert_eq!(due.body, "Reminder: Pay <rent> & bills\nDue: soon");
    }
}
