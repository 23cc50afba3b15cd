//! The `bindings.cron` schedule, parsed and stepped as daprd's robfig/cron fork does.
//!
//! Accepted: 6 fields `sec min hour dom month dow`, classic 5 fields
//! `min hour dom month dow` (second 0), descriptors `@yearly`/`@annually`,
//! `@monthly`, `@weekly`, `@daily`/`@midnight`, `@hourly`, `@every <Go
//! duration>`, each optionally prefixed by `CRON_TZ=<IANA zone> ` (or `TZ=`).
//! As in dapr/kit, `@every` accepts sub-second intervals down to 1 ms
//! (shorter ones are raised to 1 ms, fractions of a millisecond dropped);
//! `@every 0s` is rejected. Day-of-week runs 0–6 (7 is rejected, as in
//! robfig). When both day fields are restricted, a day matching either
//! fires. Without `CRON_TZ` times are UTC. A wall-clock time that a DST
//! change skips does not fire that day; one that occurs twice fires twice.
//! Like robfig, a schedule with no firing within five years has none.

mod fields;

use std::time::Duration;

use chrono::{
    DateTime, Datelike, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeDelta, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;

use self::fields::{DAY_OF_MONTH, DAY_OF_WEEK, Field, HOUR, MINUTE, MONTH, SECOND, parse_field};
use crate::resiliency::parse_go_duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cron schedule {schedule:?}: {message}")]
pub struct ScheduleError {
    pub schedule: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    kind: Kind,
    timezone: Tz,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Calendar(Calendar),
    Every(Duration),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Calendar {
    second: Field,
    minute: Field,
    hour: Field,
    day_of_month: Field,
    month: Field,
    day_of_week: Field,
}

/// How far a DST change can move wall-clock time (real zones: up to 2 h).
const DST_WINDOW: TimeDelta = TimeDelta::hours(3);
const SEARCH_YEARS: i32 = 5;

impl Schedule {
    pub fn parse(text: &str) -> Result<Self, ScheduleError> {
        let fail = |message: String| ScheduleError {
            schedule: text.to_string(),
            message,
        };
        let mut rest = text.trim();
        let mut timezone = Tz::UTC;
        if let Some(prefixed) = rest
            .strip_prefix("CRON_TZ=")
            .or_else(|| rest.strip_prefix("TZ="))
        {
            let Some((zone, schedule)) = prefixed.split_once(char::is_whitespace) else {
                return Err(fail(
                    "the time zone prefix must be followed by a schedule".to_string(),
                ));
            };
            timezone = zone.parse().map_err(|_| {
                fail(format!(
                    "unknown time zone {zone:?} (use an IANA name such as Europe/Berlin)"
                ))
            })?;
            rest = schedule.trim();
        }
        let kind = if rest.is_empty() {
            return Err(fail("the schedule is empty".to_string()));
        } else if rest.starts_with('@') {
            descriptor(rest).map_err(fail)?
        } else {
            Kind::Calendar(calendar(rest).map_err(fail)?)
        };
        Ok(Self { kind, timezone })
    }

    pub fn timezone(&self) -> Tz {
        self.timezone
    }

    /// The first firing strictly after `after`; `@every` counts from `after`.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match &self.kind {
            Kind::Every(interval) => {
                let below_millisecond = i64::from(after.nanosecond() % 1_000_000);
                let interval = TimeDelta::from_std(*interval).ok()?;
                (after - TimeDelta::nanoseconds(below_millisecond)).checked_add_signed(interval)
            }
            Kind::Calendar(calendar) => calendar.next_after(after, self.timezone),
        }
    }
}

fn descriptor(text: &str) -> Result<Kind, String> {
    let at = |second, minute, hour, day_of_month, month, day_of_week| {
        Kind::Calendar(Calendar {
            second,
            minute,
            hour,
            day_of_month,
            month,
            day_of_week,
        })
    };
    let zero = Field::only(0);
    let (any_day, any_month, any_weekday) = (
        Field::every(&DAY_OF_MONTH),
        Field::every(&MONTH),
        Field::every(&DAY_OF_WEEK),
    );
    Ok(match text {
        "@yearly" | "@annually" => at(
            zero,
            zero,
            zero,
            Field::only(1),
            Field::only(1),
            any_weekday,
        ),
        "@monthly" => at(zero, zero, zero, Field::only(1), any_month, any_weekday),
        "@weekly" => at(zero, zero, zero, any_day, any_month, Field::only(0)),
        "@daily" | "@midnight" => at(zero, zero, zero, any_day, any_month, any_weekday),
        "@hourly" => at(
            zero,
            zero,
            Field::every(&HOUR),
            any_day,
            any_month,
            any_weekday,
        ),
        _ => {
            let Some(interval) = text.strip_prefix("@every ") else {
                return Err(format!(
                    "unknown descriptor {text:?} (use @yearly, @annually, @monthly, @weekly, @daily, @midnight, \
                     @hourly or @every <duration>)"
                ));
            };
            let interval =
                parse_go_duration(interval.trim()).map_err(|e| format!("@every: {e}"))?;
            if interval.is_zero() {
                return Err("@every needs an interval above zero".to_string());
            }
            let millis = interval.as_millis().max(1);
            Kind::Every(Duration::from_millis(
                u64::try_from(millis).map_err(|_| "@every: interval too large")?,
            ))
        }
    })
}

fn calendar(text: &str) -> Result<Calendar, String> {
    let mut fields: Vec<&str> = text.split_whitespace().collect();
    match fields.len() {
        5 => fields.insert(0, "0"),
        6 => {}
        count => {
            return Err(format!(
                "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found {count}"
            ));
        }
    }
    Ok(Calendar {
        second: parse_field(fields[0], &SECOND)?,
        minute: parse_field(fields[1], &MINUTE)?,
        hour: parse_field(fields[2], &HOUR)?,
        day_of_month: parse_field(fields[3], &DAY_OF_MONTH)?,
        month: parse_field(fields[4], &MONTH)?,
        day_of_week: parse_field(fields[5], &DAY_OF_WEEK)?,
    })
}

impl Calendar {
    fn day_matches(&self, date: NaiveDate) -> bool {
        let by_month = self.day_of_month.contains(date.day());
        let by_week = self
            .day_of_week
            .contains(date.weekday().num_days_from_sunday());
        if self.day_of_month.star || self.day_of_week.star {
            by_month && by_week
        } else {
            by_month || by_week
        }
    }

    /// The first wall-clock time at or after `from` that the fields allow.
    fn next_wall_time(&self, from: NaiveDateTime, last_year: i32) -> Option<NaiveDateTime> {
        let mut t = from;
        loop {
            if t.year() > last_year {
                return None;
            }
            t = if !self.month.contains(t.month()) {
                let (year, month) = if t.month() == 12 {
                    (t.year() + 1, 1)
                } else {
                    (t.year(), t.month() + 1)
                };
                NaiveDate::from_ymd_opt(year, month, 1)?.and_hms_opt(0, 0, 0)?
            } else if !self.day_matches(t.date()) {
                t.date().succ_opt()?.and_hms_opt(0, 0, 0)?
            } else if !self.hour.contains(t.hour()) {
                t.date().and_hms_opt(t.hour(), 0, 0)? + TimeDelta::hours(1)
            } else if !self.minute.contains(t.minute()) {
                t.date().and_hms_opt(t.hour(), t.minute(), 0)? + TimeDelta::minutes(1)
            } else if !self.second.contains(t.second()) {
                t + TimeDelta::seconds(1)
            } else {
                return Some(t);
            };
        }
    }

    /// Steps through wall-clock candidates in `timezone`. Around a DST
    /// fall-back, wall-clock order and instant order differ, so the search
    /// starts early enough to see a repeated hour and keeps going past the
    /// first hit until no earlier instant is possible.
    fn next_after(&self, after: DateTime<Utc>, timezone: Tz) -> Option<DateTime<Utc>> {
        let first = after
            .with_nanosecond(0)?
            .checked_add_signed(TimeDelta::seconds(1))?;
        let offset = |instant: DateTime<Utc>| {
            i64::from(
                timezone
                    .offset_from_utc_datetime(&instant.naive_utc())
                    .fix()
                    .local_minus_utc(),
            )
        };
        let first_offset = offset(first);
        let repeated = (first_offset - offset(first.checked_add_signed(DST_WINDOW)?)).max(0);
        let local_first = first.with_timezone(&timezone).naive_local();
        let last_year = local_first.year() + SEARCH_YEARS;
        let mut wall = local_first - TimeDelta::seconds(repeated);
        let mut best: Option<DateTime<Utc>> = None;
        let mut scan_before: Option<NaiveDateTime> = None;
        while let Some(candidate) = self.next_wall_time(wall, last_year) {
            if scan_before.is_some_and(|limit| candidate >= limit) {
                break;
            }
            for instant in instants_of(timezone, candidate) {
                if instant >= first && best.is_none_or(|found| instant < found) {
                    best = Some(instant);
                }
            }
            if let (Some(found), None) = (best, scan_before) {
                let earlier_possible = (first_offset - offset(found)).max(0);
                if earlier_possible == 0 {
                    break;
                }
                scan_before = Some(candidate + TimeDelta::seconds(earlier_possible));
            }
            wall = candidate + TimeDelta::seconds(1);
        }
        best
    }
}

/// The instants a wall-clock time denotes: none in a DST gap, two in an overlap.
fn instants_of(timezone: Tz, wall: NaiveDateTime) -> Vec<DateTime<Utc>> {
    match timezone.from_local_datetime(&wall) {
        LocalResult::Single(instant) => vec![instant.with_timezone(&Utc)],
        LocalResult::Ambiguous(earlier, later) => {
            vec![earlier.with_timezone(&Utc), later.with_timezone(&Utc)]
        }
        LocalResult::None => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
