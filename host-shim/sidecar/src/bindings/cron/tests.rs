//! Schedules of every form, calendar edge cases, DST in `CRON_TZ` zones, and errors.

use chrono::SecondsFormat;

use super::*;

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The next `count` firings after `from`, as RFC 3339 UTC strings.
fn firings(schedule: &str, from: &str, count: usize) -> Vec<String> {
    let schedule = Schedule::parse(schedule).unwrap_or_else(|e| panic!("{e}"));
    let mut t = at(from);
    let mut found = Vec::new();
    for _ in 0..count {
        t = schedule
            .next_after(t)
            .unwrap_or_else(|| panic!("no firing after {t}"));
        found.push(t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    }
    found
}

fn next(schedule: &str, from: &str) -> Option<String> {
    Schedule::parse(schedule)
        .unwrap()
        .next_after(at(from))
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

#[test]
fn six_and_five_field_forms() {
    assert_eq!(
        firings("*/15 * * * * *", "2024-06-01T10:00:07Z", 3),
        [
            "2024-06-01T10:00:15Z",
            "2024-06-01T10:00:30Z",
            "2024-06-01T10:00:45Z"
        ]
    );
    assert_eq!(
        firings("*/5 * * * *", "2024-06-01T10:03:20Z", 2),
        ["2024-06-01T10:05:00Z", "2024-06-01T10:10:00Z"]
    );
    assert_eq!(
        firings("0 30 9 * * MON-FRI", "2024-06-01T00:00:00Z", 2),
        ["2024-06-03T09:30:00Z", "2024-06-04T09:30:00Z"]
    );
    assert_eq!(
        firings("0 1-10/3 * * * *", "2024-06-01T10:00:00Z", 4),
        [
            "2024-06-01T10:01:00Z",
            "2024-06-01T10:04:00Z",
            "2024-06-01T10:07:00Z",
            "2024-06-01T10:10:00Z"
        ]
    );
    assert_eq!(
        firings("0 50/5 * * * *", "2024-06-01T10:00:00Z", 3),
        [
            "2024-06-01T10:50:00Z",
            "2024-06-01T10:55:00Z",
            "2024-06-01T11:50:00Z"
        ]
    );
    assert_eq!(
        firings("0 0 0 1 JAN,jul *", "2024-03-01T00:00:00Z", 2),
        ["2024-07-01T00:00:00Z", "2025-01-01T00:00:00Z"]
    );
    assert_eq!(
        next("0 0 12 ? * SUN", "2024-06-01T13:00:00Z").as_deref(),
        Some("2024-06-02T12:00:00Z")
    );
}

#[test]
fn next_is_strictly_after() {
    assert_eq!(
        next("0 0 12 * * *", "2024-06-01T12:00:00Z").as_deref(),
        Some("2024-06-02T12:00:00Z")
    );
    assert_eq!(
        next("0 0 12 * * *", "2024-06-01T11:59:59.999Z").as_deref(),
        Some("2024-06-01T12:00:00Z")
    );
    assert_eq!(
        next("* * * * * *", "2024-06-01T12:00:00.5Z").as_deref(),
        Some("2024-06-01T12:00:01Z")
    );
}

#[test]
fn descriptors() {
    let from = "2024-05-15T10:20:30Z";
    assert_eq!(
        next("@hourly", from).as_deref(),
        Some("2024-05-15T11:00:00Z")
    );
    assert_eq!(
        next("@daily", from).as_deref(),
        Some("2024-05-16T00:00:00Z")
    );
    assert_eq!(
        next("@midnight", from).as_deref(),
        Some("2024-05-16T00:00:00Z")
    );
    assert_eq!(
        next("@weekly", from).as_deref(),
        Some("2024-05-19T00:00:00Z"),
        "the next Sunday"
    );
    assert_eq!(
        next("@monthly", from).as_deref(),
        Some("2024-06-01T00:00:00Z")
    );
    assert_eq!(
        next("@yearly", from).as_deref(),
        Some("2025-01-01T00:00:00Z")
    );
    assert_eq!(
        next("@annually", from).as_deref(),
        Some("2025-01-01T00:00:00Z")
    );
}

#[test]
fn every_counts_from_the_given_time() {
    assert_eq!(
        firings("@every 5m", "2024-06-01T10:00:00.250Z", 2),
        ["2024-06-01T10:05:00.250Z", "2024-06-01T10:10:00.250Z"]
    );
    assert_eq!(
        next("@every 1h30m", "2024-06-01T23:00:00Z").as_deref(),
        Some("2024-06-02T00:30:00Z")
    );
    // Sub-millisecond parts of the start are dropped, as in dapr/kit.
    assert_eq!(
        next("@every 500ms", "2024-06-01T10:00:00.123456789Z").as_deref(),
        Some("2024-06-01T10:00:00.623Z")
    );
    assert_eq!(
        next("@every 10us", "2024-06-01T10:00:00Z").as_deref(),
        Some("2024-06-01T10:00:00.001Z")
    );
    assert_eq!(
        next("CRON_TZ=Asia/Tokyo @every 1s", "2024-06-01T10:00:00Z").as_deref(),
        Some("2024-06-01T10:00:01Z")
    );
}

#[test]
fn month_ends_and_leap_years() {
    assert_eq!(
        firings("0 0 0 31 * *", "2024-04-15T00:00:00Z", 2),
        ["2024-05-31T00:00:00Z", "2024-07-31T00:00:00Z"]
    );
    assert_eq!(
        next("0 0 0 30 * *", "2024-02-01T00:00:00Z").as_deref(),
        Some("2024-03-30T00:00:00Z")
    );
    assert_eq!(
        next("0 0 12 29 2 *", "2024-03-01T00:00:00Z").as_deref(),
        Some("2028-02-29T12:00:00Z")
    );
    assert_eq!(
        next("0 0 12 29 FEB *", "2024-02-28T13:00:00Z").as_deref(),
        Some("2024-02-29T12:00:00Z")
    );
    // 2100 is not a leap year.
    assert_eq!(
        next("0 0 0 29 2 *", "2099-01-01T00:00:00Z").as_deref(),
        Some("2104-02-29T00:00:00Z")
    );
    assert_eq!(
        next("0 0 0 29 2 *", "2096-03-01T00:00:00Z"),
        None,
        "nothing within five years"
    );
    assert_eq!(next("0 0 0 30 2 *", "2024-01-01T00:00:00Z"), None);
    assert_eq!(next("0 0 0 31 4 *", "2024-01-01T00:00:00Z"), None);
    assert_eq!(
        next("59 59 23 31 12 *", "2024-12-31T23:59:59Z").as_deref(),
        Some("2025-12-31T23:59:59Z")
    );
}

#[test]
fn restricted_day_of_month_and_week_combine_with_or() {
    // The 13th, or any Friday: the Friday 7 June comes first.
    assert_eq!(
        firings("0 0 0 13 * FRI", "2024-06-01T00:00:00Z", 3),
        [
            "2024-06-07T00:00:00Z",
            "2024-06-13T00:00:00Z",
            "2024-06-14T00:00:00Z"
        ]
    );
    assert_eq!(
        next("0 0 0 13 * *", "2024-06-01T00:00:00Z").as_deref(),
        Some("2024-06-13T00:00:00Z")
    );
    assert_eq!(
        next("0 0 0 * * FRI", "2024-06-01T00:00:00Z").as_deref(),
        Some("2024-06-07T00:00:00Z")
    );
    assert_eq!(
        next("0 0 0 ? * FRI", "2024-06-01T00:00:00Z").as_deref(),
        Some("2024-06-07T00:00:00Z")
    );
    // A stepped star is a restriction: day 1, 3, 5… or a Friday.
    assert_eq!(
        next("0 0 0 */2 * FRI", "2024-06-01T12:00:00Z").as_deref(),
        Some("2024-06-03T00:00:00Z")
    );
}

#[test]
fn cron_tz_schedules_use_local_wall_time() {
    let schedule = Schedule::parse("CRON_TZ=Europe/Berlin 0 0 9 * * *").unwrap();
    assert_eq!(schedule.timezone(), chrono_tz::Europe::Berlin);
    assert_eq!(
        next("CRON_TZ=Europe/Berlin 0 0 9 * * *", "2024-06-01T00:00:00Z").as_deref(),
        Some("2024-06-01T07:00:00Z")
    );
    assert_eq!(
        next("CRON_TZ=Europe/Berlin 0 9 * * *", "2024-01-10T00:00:00Z").as_deref(),
        Some("2024-01-10T08:00:00Z")
    );
    assert_eq!(
        next("TZ=Asia/Tokyo @daily", "2024-06-01T16:00:00Z").as_deref(),
        Some("2024-06-02T15:00:00Z")
    );
    assert_eq!(Schedule::parse("@daily").unwrap().timezone(), Tz::UTC);
}

#[test]
fn dst_gap_skips_the_missing_wall_time() {
    // New York springs forward at 02:00 on 10 March 2024: 02:30 does not exist.
    let schedule = "CRON_TZ=America/New_York 0 30 2 * * *";
    assert_eq!(
        firings(schedule, "2024-03-09T08:00:00Z", 2),
        ["2024-03-11T06:30:00Z", "2024-03-12T06:30:00Z"]
    );
    // Hourly: 01:00 EST, then 03:00 EDT.
    assert_eq!(
        firings(
            "CRON_TZ=America/New_York 0 0 * * * *",
            "2024-03-10T05:30:00Z",
            2
        ),
        ["2024-03-10T06:00:00Z", "2024-03-10T07:00:00Z"]
    );
}

#[test]
fn dst_overlap_fires_for_both_occurrences() {
    // New York falls back at 02:00 EDT on 3 November 2024: 01:00–01:59 happen twice.
    let daily = "CRON_TZ=America/New_York 0 30 1 * * *";
    assert_eq!(
        firings(daily, "2024-11-03T04:00:00Z", 3),
        [
            "2024-11-03T05:30:00Z",
            "2024-11-03T06:30:00Z",
            "2024-11-04T06:30:00Z"
        ]
    );
    assert_eq!(
        next(daily, "2024-11-03T05:45:00Z").as_deref(),
        Some("2024-11-03T06:30:00Z")
    );
    // Wall-clock order and instant order differ inside the repeated hour.
    assert_eq!(
        firings(
            "CRON_TZ=America/New_York 0 10,40 * * * *",
            "2024-11-03T05:20:00Z",
            4
        ),
        [
            "2024-11-03T05:40:00Z",
            "2024-11-03T06:10:00Z",
            "2024-11-03T06:40:00Z",
            "2024-11-03T07:10:00Z"
        ]
    );
    assert_eq!(
        firings(
            "CRON_TZ=America/New_York 0 0 * * * *",
            "2024-11-03T04:30:00Z",
            3
        ),
        [
            "2024-11-03T05:00:00Z",
            "2024-11-03T06:00:00Z",
            "2024-11-03T07:00:00Z"
        ]
    );
}

#[test]
fn invalid_schedules_name_the_problem() {
    let cases = [
        ("", "the schedule is empty"),
        (
            "* * * *",
            "expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 4",
        ),
        ("* * * * * * *", "found 7"),
        (
            "60 * * * * *",
            "second field \"60\": 60 is above the maximum 59",
        ),
        (
            "* 60 * * *",
            "hour field \"60\": 60 is above the maximum 23",
        ),
        (
            "0 0 32 * *",
            "day-of-month field \"32\": 32 is above the maximum 31",
        ),
        (
            "0 0 0 0 * *",
            "day-of-month field \"0\": 0 is below the minimum 1",
        ),
        ("0 0 0 * 13 *", "month field \"13\""),
        (
            "0 0 * FOO *",
            "month field \"FOO\": \"FOO\" is not a number or a name such as FEB",
        ),
        (
            "0 0 * * 7",
            "day-of-week field \"7\": 7 is above the maximum 6 (Sunday is 0 or SUN)",
        ),
        (
            "0 0 * * MON-SUN",
            "day-of-week field \"MON-SUN\": range \"MON-SUN\" starts after it ends",
        ),
        (
            "*/0 * * * *",
            "minute field \"*/0\": step in \"*/0\" must be positive",
        ),
        ("*/x * * * *", "minute field \"*/x\": step \"x\""),
        ("1,,2 * * * *", "minute field \"1,,2\": empty list item"),
        ("-5 * * * *", "minute field \"-5\""),
        ("@fortnightly", "unknown descriptor \"@fortnightly\""),
        ("@Daily", "unknown descriptor"),
        ("@every", "unknown descriptor"),
        ("@every 5 minutes", "@every: invalid duration"),
        ("@every 0s", "@every needs an interval above zero"),
        (
            "CRON_TZ=Mars/Olympus 0 0 * * *",
            "unknown time zone \"Mars/Olympus\"",
        ),
        ("CRON_TZ=Europe/Berlin", "must be followed by a schedule"),
    ];
    for (text, expected) in cases {
        let error = Schedule::parse(text).expect_err(text);
        assert!(error.to_string().contains(expected), "{text:?}: {error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("invalid cron schedule {text:?}: ")),
            "{error}"
        );
    }
}
