//! Why a recurrence spec was refused.

use crate::PatternKind;

/// One variant per problem; every message starts with the field at fault,
/// and [`RecurrenceError::field`] names it for API error bodies.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecurrenceError {
    #[error("pattern: unknown pattern '{0}' (expected daily, weekly, monthly or cron)")]
    UnknownPattern(String),
    #[error("timezone: unknown IANA zone '{0}'")]
    UnknownTimezone(String),
    #[error("cron: invalid expression '{expr}': {reason}")]
    InvalidCron { expr: String, reason: String },
    #[error("cron: expression '{0}' never fires (no occurrence within {years} years)", years = crate::rule::CRON_LOOKAHEAD_YEARS)]
    CronNeverFires(String),
    #[error("cron pattern needs a cron expression")]
    MissingCron,
    #[error("cron is only allowed with pattern cron")]
    CronNotAllowed,
    #[error("every_n must be between 1 and {max}, got {0}", max = crate::rule::MAX_EVERY_N)]
    EveryNOutOfRange(u32),
    #[error("every_n must be 1 with pattern cron, got {0}")]
    EveryNWithCron(u32),
    #[error("weekly needs at least one weekday")]
    WeeklyNeedsWeekday,
    #[error("{field} is not allowed with pattern {pattern}")]
    NotAllowedForPattern {
        field: &'static str,
        pattern: PatternKind,
    },
    #[error("weekdays with pattern monthly need nth_week (e.g. the 2nd tuesday)")]
    WeekdaysWithoutNthWeek,
    #[error("day_of_month must be 1-31, got {0}")]
    DayOfMonthOutOfRange(u8),
    #[error("nth_week must be 1-5 (5 = last), got {0}")]
    NthWeekOutOfRange(u8),
    #[error("nth_week needs exactly one weekday, got {0}")]
    NthWeekNeedsOneWeekday(usize),
    #[error("day_of_month and nth_week cannot both be set")]
    DayOfMonthAndNthWeek,
    #[error("time_of_day must be HH:MM (24h), got '{0}'")]
    InvalidTimeOfDay(String),
    #[error("ends_at must be after starts_at")]
    EndsBeforeStart,
}

impl RecurrenceError {
    /// The spec field that has to change for the spec to pass.
    pub fn field(&self) -> &'static str {
        match self {
            Self::UnknownPattern(_) => "pattern",
            Self::UnknownTimezone(_) => "timezone",
            Self::InvalidCron { .. }
            | Self::CronNeverFires(_)
            | Self::MissingCron
            | Self::CronNotAllowed => "cron",
            Self::EveryNOutOfRange(_) | Self::EveryNWithCron(_) => "every_n",
            Self::WeeklyNeedsWeekday
            | Self::WeekdaysWithoutNthWeek
            | Self::NthWeekNeedsOneWeekday(_) => "weekdays",
            Self::NotAllowedForPattern { field, .. } => field,
            Self::DayOfMonthOutOfRange(_) | Self::DayOfMonthAndNthWeek => "day_of_month",
            Self::NthWeekOutOfRange(_) => "nth_week",
            Self::InvalidTimeOfDay(_) => "time_of_day",
            Self::EndsBeforeStart => "ends_at",
        }
    }
}
