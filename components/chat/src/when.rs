//! Dates and times in plain words, read in the user's timezone: "today",
//! "tonight", "tomorrow", "day after tomorrow", "monday", "next friday",
//! "next week", "this weekend", "in 3 days", "in 2 hours", "at 5pm",
//! "at 17:30", "noon". A day without a time means 09:00; a time without a
//! day means its next occurrence.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use chrono_tz::Tz;

use crate::words::Word;

/// The time a day without a time of day refers to.
pub const DEFAULT_TIME: (u32, u32) = (9, 0);

/// Words that only introduce a date or time ("due on friday").
const CONNECTORS: &[&str] = &["on", "by", "at", "due", "for", "before"];

/// The day or the instant a phrase names.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Moment {
    Day(NaiveDate),
    /// "tonight": a day with its own time.
    DayAt(NaiveDate, NaiveTime),
    Instant(DateTime<Utc>),
}

fn weekday(key: &str) -> Option<Weekday> {
    Some(match key {
        "monday" => Weekday::Mon,
        "tuesday" => Weekday::Tue,
        "wednesday" => Weekday::Wed,
        "thursday" => Weekday::Thu,
        "friday" => Weekday::Fri,
        "saturday" => Weekday::Sat,
        "sunday" => Weekday::Sun,
        _ => return None,
    })
}

/// Short names, only after "next" or "this" ("buy sun cream" is no date).
fn weekday_or_short(key: &str) -> Option<Weekday> {
    weekday(key).or(match key {
        "mon" => Some(Weekday::Mon),
        "tue" | "tues" => Some(Weekday::Tue),
        "wed" => Some(Weekday::Wed),
        "thu" | "thurs" => Some(Weekday::Thu),
        "fri" => Some(Weekday::Fri),
        "sat" => Some(Weekday::Sat),
        "sun" => Some(Weekday::Sun),
        _ => None,
    })
}

pub fn number(key: &str) -> Option<i64> {
    key.parse().ok().or_else(|| {
        let words = [
            "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve",
        ];
        words
            .iter()
            .position(|w| *w == key)
            .map(|n| n as i64)
            .or((key == "a" || key == "an").then_some(1))
    })
}

/// The first day strictly after `today` that is a `day`.
fn next_weekday(today: NaiveDate, day: Weekday) -> NaiveDate {
    let ahead =
        (7 + day.num_days_from_monday() as i64 - today.weekday().num_days_from_monday() as i64 - 1)
            % 7
            + 1;
    today + Duration::days(ahead)
}

/// The Monday of the week after `today`'s.
pub fn next_monday(today: NaiveDate) -> NaiveDate {
    next_weekday(today, Weekday::Mon)
}

/// The Monday that starts `today`'s week.
pub fn week_start(today: NaiveDate) -> NaiveDate {
    today - Duration::days(i64::from(today.weekday().num_days_from_monday()))
}

/// A day phrase at the start of `keys`: what it names and how many words it took.
fn day_phrase(keys: &[&str], now: DateTime<Tz>) -> Option<(Moment, usize)> {
    let today = now.date_naive();
    let first = *keys.first()?;
    let second = keys.get(1).copied().unwrap_or("");
    let third = keys.get(2).copied().unwrap_or("");
    Some(match (first, second, third) {
        ("day", "after", "tomorrow") => (Moment::Day(today + Duration::days(2)), 3),
        ("today", ..) => (Moment::Day(today), 1),
        ("tonight", ..) => (Moment::DayAt(today, NaiveTime::from_hms_opt(20, 0, 0)?), 1),
        ("tomorrow", ..) | ("tmrw", ..) => (Moment::Day(today + Duration::days(1)), 1),
        ("next", "week", _) => (Moment::Day(next_monday(today)), 2),
        ("this", "weekend", _) | ("the", "weekend", _) => (
            Moment::Day(next_weekday(today - Duration::days(1), Weekday::Sat)),
            2,
        ),
        ("next", day, _) | ("this", day, _) if weekday_or_short(day).is_some() => {
            (Moment::Day(next_weekday(today, weekday_or_short(day)?)), 2)
        }
        (day, ..) if weekday(day).is_some() => (Moment::Day(next_weekday(today, weekday(day)?)), 1),
        ("in", amount, unit) => {
            let n = number(amount)?;
            let unit = unit.trim_end_matches('s');
            let moment = match unit {
                "minute" | "min" => Moment::Instant(now.with_timezone(&Utc) + Duration::minutes(n)),
                "hour" | "hr" => Moment::Instant(now.with_timezone(&Utc) + Duration::hours(n)),
                "day" => Moment::Day(today + Duration::days(n)),
                "week" => Moment::Day(today + Duration::weeks(n)),
                "month" => Moment::Day(
                    today.checked_add_months(chrono::Months::new(u32::try_from(n).ok()?))?,
                ),
                _ => return None,
            };
            (moment, 3)
        }
        _ => return None,
    })
}

/// "5pm", "5 pm", "17:30", "9:30am", "noon", "midnight" at the start of `keys`.
fn time_phrase(keys: &[&str]) -> Option<(NaiveTime, usize)> {
    let first = *keys.first()?;
    match first {
        "noon" | "midday" => return Some((NaiveTime::from_hms_opt(12, 0, 0)?, 1)),
        "midnight" => return Some((NaiveTime::from_hms_opt(0, 0, 0)?, 1)),
        _ => {}
    }
    let (clock, meridiem, used) = match keys.get(1).copied() {
        Some(m @ ("am" | "pm" | "a.m" | "p.m")) => (first, Some(m.starts_with('p')), 2),
        _ if first.ends_with("am") => (first.trim_end_matches("am"), Some(false), 1),
        _ if first.ends_with("pm") => (first.trim_end_matches("pm"), Some(true), 1),
        _ => (first, None, 1),
    };
    let (hour, minute) = match clock.split_once(':') {
        Some((h, m)) => (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?),
        // A bare number is a time only with am/pm ("at 5" is too vague).
        None if meridiem.is_some() => (clock.parse::<u32>().ok()?, 0),
        None => return None,
    };
    let hour = match meridiem {
        Some(_) if !(1..=12).contains(&hour) => return None,
        Some(true) if hour != 12 => hour + 12,
        Some(false) if hour == 12 => 0,
        _ => hour,
    };
    Some((NaiveTime::from_hms_opt(hour, minute, 0)?, used))
}

/// Removes `count` words at `start`, and a connector word just before them.
fn remove(words: &mut Vec<Word>, start: usize, count: usize) {
    words.drain(start..start + count);
    if start > 0 && CONNECTORS.contains(&words[start - 1].key.as_str()) {
        words.remove(start - 1);
        // "due on friday"
        if start > 1 && words[start - 2].key == "due" {
            words.remove(start - 2);
        }
    }
}

/// Finds the first phrase `read` recognises, removes it, and returns what it read.
fn take<T>(words: &mut Vec<Word>, read: impl Fn(&[&str]) -> Option<(T, usize)>) -> Option<T> {
    for start in 0..words.len() {
        let keys: Vec<&str> = words[start..].iter().map(|w| w.key.as_str()).collect();
        if let Some((found, count)) = read(&keys) {
            remove(words, start, count);
            return Some(found);
        }
    }
    None
}

/// Converts a local date and time in `tz` to UTC; a time skipped by a DST
/// change moves forward by the gap, a repeated one takes the first.
pub fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> Option<DateTime<Utc>> {
    let naive = date.and_time(time);
    tz.from_local_datetime(&naive)
        .earliest()
        .or_else(|| {
            tz.from_local_datetime(&(naive + Duration::hours(1)))
                .earliest()
        })
        .map(|at| at.with_timezone(&Utc))
}

/// Takes the date and time named in `words` (removing them), as an instant.
pub fn take_moment(words: &mut Vec<Word>, now: DateTime<Tz>) -> Option<DateTime<Utc>> {
    let day = take(words, |keys| day_phrase(keys, now));
    let time = take(words, time_phrase);
    let tz = now.timezone();
    let default_time = NaiveTime::from_hms_opt(DEFAULT_TIME.0, DEFAULT_TIME.1, 0)?;
    match (day, time) {
        (Some(Moment::Instant(at)), _) => Some(at),
        (Some(Moment::DayAt(date, own)), time) => local_to_utc(tz, date, time.unwrap_or(own)),
        (Some(Moment::Day(date)), time) => local_to_utc(tz, date, time.unwrap_or(default_time)),
        (None, Some(time)) => {
            let today = now.date_naive();
            let at = local_to_utc(tz, today, time)?;
            if at > now.with_timezone(&Utc) {
                Some(at)
            } else {
                local_to_utc(tz, today + Duration::days(1), time)
            }
        }
        (None, None) => None,
    }
}
