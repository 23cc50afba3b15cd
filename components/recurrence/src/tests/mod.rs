//! Crate-level tests through the public API, with shared helpers.

mod calendar;
mod cron;
mod dst;
mod performance;
mod properties;
mod validation;

use chrono::{DateTime, Utc, Weekday};

use crate::{PatternKind, Recurrence, RecurrenceError, RecurrenceSpec, WeekdaySet};

pub(super) fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("bad test instant {text}: {e}"))
        .with_timezone(&Utc)
}

pub(super) fn spec(pattern: PatternKind, timezone: &str, starts_at: &str) -> RecurrenceSpec {
    RecurrenceSpec {
        pattern,
        every_n: 1,
        weekdays: None,
        day_of_month: None,
        nth_week: None,
        time_of_day: None,
        cron: None,
        timezone: timezone.to_owned(),
        starts_at: utc(starts_at),
        ends_at: None,
    }
}

pub(super) fn days(list: &[Weekday]) -> Option<WeekdaySet> {
    Some(list.iter().copied().collect())
}

pub(super) fn rule(spec: &RecurrenceSpec) -> Recurrence {
    Recurrence::new(spec).unwrap_or_else(|e| panic!("spec refused: {e}"))
}

/// The first `n` occurrences at or after starts_at, as RFC 3339 UTC strings.
pub(super) fn first_n(spec: &RecurrenceSpec, n: usize) -> Vec<String> {
    let rule = rule(spec);
    let before = spec.starts_at - chrono::TimeDelta::seconds(1);
    rule.occurrences_after(before, n)
        .iter()
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .collect()
}

pub(super) fn refused(spec: &RecurrenceSpec) -> RecurrenceError {
    match Recurrence::new(spec) {
        Ok(_) => panic!("spec accepted: {spec:?}"),
        Err(e) => e,
    }
}

pub(super) fn cron_spec(expr: &str, timezone: &str, starts_at: &str) -> RecurrenceSpec {
    let mut s = spec(PatternKind::Cron, timezone, starts_at);
    s.cron = Some(expr.to_owned());
    s
}
