//! Unix cron expressions, evaluated on a wall clock with the `cron` crate.
//!
//! Users write the standard 5-field form `minute hour day-of-month month
//! day-of-week` (6 fields with a leading seconds field, or an `@daily`-style
//! macro). The `cron` crate reads `sec min hour dom month dow [year]`, numbers
//! the days Sunday = 1 … Saturday = 7, ANDs day of month with day of week and
//! knows only the years 1970–2100. So this module parses the Unix form itself
//! (errors name the field and the value), hands the crate explicit value
//! lists, keeps Vixie cron's "day of month OR day of week" rule by asking two
//! schedules, and maps years outside the crate's range onto a stand-in year
//! with the same calendar.

use std::ops::RangeInclusive;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate, NaiveDateTime, TimeDelta, Weekday};
use cron::Schedule;

/// A validated cron expression: which local wall clock times it matches.
#[derive(Debug, Clone)]
pub(crate) struct CronExpr {
    /// One schedule, or two (either may match) when both day of month and
    /// day of week are restricted.
    schedules: Vec<Schedule>,
    fixed_time: bool,
}

impl CronExpr {
    /// Parses a Unix cron expression; the error says which field and value
    /// are wrong.
    pub(crate) fn parse(expr: &str) -> Result<Self, String> {
        let trimmed = expr.trim();
        let unix = if trimmed.starts_with('@') {
            expand_macro(trimmed)?
        } else {
            trimmed
        };
        let parts: Vec<&str> = unix.split_whitespace().collect();
        let (second, [minute, hour, dom, month, dow]) = match parts.as_slice() {
            [m, h, dom, mon, dow] => ("0", [m, h, dom, mon, dow]),
            [s, m, h, dom, mon, dow] => (*s, [m, h, dom, mon, dow]),
            _ => {
                return Err(format!(
                    "expected 5 fields (minute hour day-of-month month day-of-week) \
                     or 6 with a leading seconds field, got {}",
                    parts.len()
                ));
            }
        };
        let second = parse_field(second, &SECOND)?;
        let minute = parse_field(minute, &MINUTE)?;
        let hour = parse_field(hour, &HOUR)?;
        let dom = parse_field(dom, &DAY_OF_MONTH)?;
        let month = parse_field(month, &MONTH)?;
        let dow = parse_field(dow, &DAY_OF_WEEK)?;

        let head = [(&second, &SECOND), (&minute, &MINUTE), (&hour, &HOUR)]
            .map(|(field, spec)| field.crate_list(spec))
            .join(" ");
        let month_list = month.crate_list(&MONTH);
        let dom_list = dom.crate_list(&DAY_OF_MONTH);
        let dow_list = crate_weekdays(dow.values);
        let text = |dom: &str, dow: &str| format!("{head} {dom} {month_list} {dow}");
        // crontab(5): "If both fields are restricted (i.e., don't start with
        // *), the command will be run when either field matches".
        let texts = if dom.starred || dow.starred {
            vec![text(&dom_list, &dow_list)]
        } else {
            vec![text(&dom_list, "*"), text("*", &dow_list)]
        };
        let schedules = texts
            .iter()
            .map(|text| {
                Schedule::from_str(text)
                    .map_err(|e| format!("the cron crate refused '{text}': {e}"))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self {
            schedules,
            fixed_time: !(second.starred || minute.starred || hour.starred),
        })
    }

    /// Vixie cron's "fixed-time" job: none of the seconds, minute and hour
    /// fields starts with `*` (`30 2 * * *`, not `*/15 * * * *` or
    /// `@hourly`). DST changes treat the two kinds differently (see
    /// `Recurrence`).
    pub(crate) fn fixed_time(&self) -> bool {
        self.fixed_time
    }

    /// The first wall clock time strictly after `after` that matches, or
    /// `None` when none does within a full 400-year Gregorian cycle (then
    /// none ever will) or chrono's range ends first.
    pub(crate) fn next_after(&self, after: NaiveDateTime) -> Option<NaiveDateTime> {
        // Matches are whole seconds: strictly after `after` is at or after `from`.
        let mut from = after.checked_add_signed(TimeDelta::nanoseconds(1))?;
        for _ in 0..=GREGORIAN_CYCLE_YEARS {
            let year = from.year();
            let stand_in = stand_in_year(year)?;
            match self.crate_at_or_after(from.with_year(stand_in)?) {
                Some(found) if stand_in == year => return Some(found),
                Some(found) if found.year() == stand_in => return found.with_year(year),
                // A stand-in year's successor need not match the real one's.
                _ => {}
            }
            let next_year = if stand_in == year {
                CRATE_YEARS.end() + 1
            } else {
                year.checked_add(1)?
            };
            from = NaiveDate::from_ymd_opt(next_year, 1, 1)?.and_hms_opt(0, 0, 0)?;
        }
        None
    }

    /// The crate's answer, for `from` within [`CRATE_YEARS`].
    fn crate_at_or_after(&self, from: NaiveDateTime) -> Option<NaiveDateTime> {
        let after = from
            .checked_sub_signed(TimeDelta::nanoseconds(1))?
            .and_utc();
        self.schedules
            .iter()
            .filter_map(|schedule| schedule.after(&after).next())
            .map(|found| found.naive_utc())
            .min()
    }
}

/// The calendar (weekdays included) repeats every 400 years.
const GREGORIAN_CYCLE_YEARS: usize = 400;

/// The years the `cron` crate searches, even when the expression names none.
const CRATE_YEARS: RangeInclusive<i32> = 1970..=2100;

/// `year` itself when the crate knows it, else a year it knows with the same
/// calendar: same weekday on January 1, same leap-ness. 2072–2099 holds all
/// fourteen such kinds and lies close to the crate's end, so a search that
/// runs on past the stand-in year stops soon.
fn stand_in_year(year: i32) -> Option<i32> {
    if CRATE_YEARS.contains(&year) {
        return Some(year);
    }
    let kind = year_kind(year)?;
    (2072..=2099).rev().find(|y| year_kind(*y) == Some(kind))
}

fn year_kind(year: i32) -> Option<(bool, Weekday)> {
    let new_year = NaiveDate::from_ymd_opt(year, 1, 1)?;
    Some((new_year.leap_year(), new_year.weekday()))
}

/// What one of the (5 or 6) fields accepts.
struct FieldSpec {
    name: &'static str,
    min: u32,
    max: u32,
    /// Names for `min`, `min + 1`, …; matched ignoring case.
    names: &'static [&'static str],
    /// A range may end at `min` meaning `max`: day of week `fri-sun` (5-0)
    /// is 5-7.
    wraps: bool,
    /// Accepts `?` ("no specific value", from Quartz) for `*`.
    question_mark: bool,
}

const SECOND: FieldSpec = FieldSpec::numeric("second", 0, 59);
const MINUTE: FieldSpec = FieldSpec::numeric("minute", 0, 59);
const HOUR: FieldSpec = FieldSpec::numeric("hour", 0, 23);
const DAY_OF_MONTH: FieldSpec = FieldSpec {
    question_mark: true,
    ..FieldSpec::numeric("day-of-month", 1, 31)
};
const MONTH: FieldSpec = FieldSpec {
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    ..FieldSpec::numeric("month", 1, 12)
};
/// 0 and 7 are both Sunday.
const DAY_OF_WEEK: FieldSpec = FieldSpec {
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    wraps: true,
    question_mark: true,
    ..FieldSpec::numeric("day-of-week", 0, 7)
};

impl FieldSpec {
    const fn numeric(name: &'static str, min: u32, max: u32) -> Self {
        Self {
            name,
            min,
            max,
            names: &[],
            wraps: false,
            question_mark: false,
        }
    }

    fn all(&self) -> u64 {
        span(self.min, self.max, 1)
    }
}

/// A parsed field: bit `v` set when value `v` matches.
struct Field {
    values: u64,
    /// Starts with `*` (or `?`): Vixie cron's test for "unrestricted".
    starred: bool,
}

impl Field {
    /// The values as the crate reads them: `*` or an explicit list.
    fn crate_list(&self, spec: &FieldSpec) -> String {
        if self.values == spec.all() {
            return "*".to_owned();
        }
        let values: Vec<String> = (spec.min..=spec.max)
            .filter(|v| self.values & (1 << v) != 0)
            .map(|v| v.to_string())
            .collect();
        values.join(",")
    }
}

/// Unix days of week (0–7, 0 and 7 Sunday) in the crate's numbering
/// (1–7, 1 = Sunday).
fn crate_weekdays(unix: u64) -> String {
    const MONDAY_TO_SATURDAY: u64 = 0b0111_1110;
    let sunday = unix & (1 | 1 << 7) != 0;
    // Bit d (0–6) = d days after Sunday; the crate's number is d + 1.
    let days = (unix & MONDAY_TO_SATURDAY) | u64::from(sunday);
    if days == MONDAY_TO_SATURDAY | 1 {
        return "*".to_owned();
    }
    let list: Vec<String> = (0..7)
        .filter(|d| days & (1 << d) != 0)
        .map(|d| (d + 1).to_string())
        .collect();
    list.join(",")
}

fn parse_field(text: &str, spec: &FieldSpec) -> Result<Field, String> {
    let mut values = 0;
    for item in text.split(',') {
        values |= parse_item(item, spec)
            .map_err(|problem| format!("{} field '{text}': {problem}", spec.name))?;
    }
    Ok(Field {
        values,
        starred: text.starts_with(['*', '?']),
    })
}

/// One list item: `*`, `v`, `a-b`, each optionally `/step` (`v/step` runs
/// from `v` to the field's maximum).
fn parse_item(item: &str, spec: &FieldSpec) -> Result<u64, String> {
    let (range, step) = match item.split_once('/') {
        Some((range, step)) => (range, Some(parse_step(step, spec)?)),
        None => (item, None),
    };
    let any = range == "*" || (range == "?" && spec.question_mark);
    let (first, last) = if any {
        (spec.min, spec.max)
    } else if let Some((a, b)) = range.split_once('-') {
        let (first, mut last) = (parse_value(a, spec)?, parse_value(b, spec)?);
        if spec.wraps && last == spec.min && first > last {
            last = spec.max;
        }
        if first > last {
            return Err(format!(
                "range {range} runs backwards (write it as two ranges)"
            ));
        }
        (first, last)
    } else {
        let value = parse_value(range, spec)?;
        (value, if step.is_some() { spec.max } else { value })
    };
    Ok(span(first, last, step.unwrap_or(1)))
}

fn parse_step(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    match text.parse::<u32>() {
        Ok(step) if is_digits(text) && (1..=spec.max).contains(&step) => Ok(step),
        _ => Err(format!("step '{text}' is not a number 1-{}", spec.max)),
    }
}

fn parse_value(text: &str, spec: &FieldSpec) -> Result<u32, String> {
    if text.is_empty() {
        return Err("a value is missing".to_owned());
    }
    if is_digits(text) {
        return match text.parse::<u32>() {
            Ok(value) if (spec.min..=spec.max).contains(&value) => Ok(value),
            _ => Err(out_of_range(text, spec)),
        };
    }
    if let Some(index) = spec
        .names
        .iter()
        .position(|name| name.eq_ignore_ascii_case(text))
    {
        // Name lists have at most 12 entries.
        return Ok(spec.min + index as u32);
    }
    if text.contains(['L', 'W', '#']) {
        return Err(format!(
            "'{text}' uses the L, W or # extension, which standard cron doesn't have"
        ));
    }
    Err(match (spec.names.first(), spec.names.last()) {
        (Some(first), Some(last)) => format!("'{text}' is not a number or a name {first}-{last}"),
        _ => format!("'{text}' is not a number"),
    })
}

fn out_of_range(text: &str, spec: &FieldSpec) -> String {
    let sunday = if spec.wraps {
        " (0 and 7 are Sunday)"
    } else {
        ""
    };
    format!("{text} is out of range {}-{}{sunday}", spec.min, spec.max)
}

fn is_digits(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

/// Bits `first`, `first + step`, … up to `last`.
fn span(first: u32, last: u32, step: u32) -> u64 {
    (first..=last)
        .step_by(step as usize)
        .fold(0, |bits, v| bits | 1 << v)
}

/// The standard macros, as 5-field expressions.
fn expand_macro(text: &str) -> Result<&'static str, String> {
    const MACROS: [(&str, &str); 7] = [
        ("@yearly", "0 0 1 1 *"),
        ("@annually", "0 0 1 1 *"),
        ("@monthly", "0 0 1 * *"),
        ("@weekly", "0 0 * * 0"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@hourly", "0 * * * *"),
    ];
    MACROS
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(text))
        .map(|(_, expr)| *expr)
        .ok_or_else(|| {
            format!(
                "unknown macro '{text}' (expected @yearly, @annually, @monthly, @weekly, \
                 @daily, @midnight or @hourly)"
            )
        })
}
