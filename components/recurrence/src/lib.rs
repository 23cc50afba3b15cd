//! Recurrence rules for recurring task templates: validation and next occurrences.
//!
//! A [`RecurrenceSpec`] is what the API receives and the `recurring_tasks`
//! table stores; [`Recurrence::new`] validates it into a rule that answers
//! "when next?" for a caller-supplied instant. Nothing here reads the clock.
//!
//! ```
//! use docket_recurrence::{Recurrence, RecurrenceSpec};
//!
//! let spec: RecurrenceSpec = serde_json::from_str(r#"{
//!     "pattern": "weekly", "every_n": 2, "weekdays": ["tue", "thu"],
//!     "time_of_day": "09:30", "timezone": "Europe/Berlin",
//!     "starts_at": "2025-01-06T00:00:00Z"
//! }"#).unwrap();
//! let rule = Recurrence::new(&spec).unwrap();
//! let next = rule.occurrences_after(spec.starts_at, 3);
//! let shown: Vec<String> = next.iter().map(|t| t.to_rfc3339()).collect();
//! assert_eq!(shown, [
//!     "2025-01-07T08:30:00+00:00",
//!     "2025-01-09T08:30:00+00:00",
//!     "2025-01-21T08:30:00+00:00",
//! ]);
//! ```

mod cron_expr;
mod error;
mod rule;
mod weekdays;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use error::RecurrenceError;
pub use rule::{CRON_LOOKAHEAD_YEARS, MAX_EVERY_N, Recurrence};
pub use weekdays::WeekdaySet;

/// How a template repeats; the `recurring_tasks.pattern` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PatternKind {
    Daily,
    Weekly,
    Monthly,
    Cron,
}

impl PatternKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Daily => "daily",
            Self::Weekly => "weekly",
            Self::Monthly => "monthly",
            Self::Cron => "cron",
        }
    }
}

impl fmt::Display for PatternKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PatternKind {
    type Err = RecurrenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "daily" => Ok(Self::Daily),
            "weekly" => Ok(Self::Weekly),
            "monthly" => Ok(Self::Monthly),
            "cron" => Ok(Self::Cron),
            other => Err(RecurrenceError::UnknownPattern(other.to_owned())),
        }
    }
}

/// What the API receives and the database stores, one field per
/// `recurring_tasks` column. Unknown JSON fields are refused; absent
/// optional fields take their defaults. Nothing is checked until
/// [`Recurrence::new`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecurrenceSpec {
    pub pattern: PatternKind,
    /// Every n-th day / week / month, 1–1000; must be 1 for cron.
    #[serde(default = "default_every_n")]
    pub every_n: u32,
    /// Weekly: the days to fire on (default: starts_at's local weekday).
    /// Monthly: the single weekday that goes with `nth_week`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekdays: Option<WeekdaySet>,
    /// Monthly: day 1–31, clamped to the month's last day.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day_of_month: Option<u8>,
    /// Monthly: 1–4 = first…fourth, 5 = last `weekdays` day of the month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth_week: Option<u8>,
    /// Local wall clock time "HH:MM" (24h), default "09:00"; ignored for cron.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_of_day: Option<String>,
    /// Cron expression (5 fields, 6 with leading seconds, or an `@` macro
    /// such as `@daily`); cron only. Semantics on [`Recurrence`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cron: Option<String>,
    /// IANA zone name the rule is evaluated in, e.g. "America/New_York".
    pub timezone: String,
    /// No occurrence happens before this instant.
    pub starts_at: DateTime<Utc>,
    /// No occurrence happens after this instant (inclusive bound).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ends_at: Option<DateTime<Utc>>,
}

fn default_every_n() -> u32 {
    1
}

/// `time_of_day` when the spec leaves it out.
pub const DEFAULT_TIME_OF_DAY: &str = "09:00";

#[cfg(test)]
mod tests;
