//! Cron rules, evaluated in the template's zone.

use std::time::Instant;

use super::*;

#[test]
fn cron_is_evaluated_in_the_template_zone() {
    // Weekdays 09:00 in Tokyo = 00:00 UTC. 2025-01-03 is a Friday.
    let s = cron_spec("0 9 * * 1-5", "Asia/Tokyo", "2025-01-02T12:00:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-01-03T00:00:00Z",
            "2025-01-06T00:00:00Z",
            "2025-01-07T00:00:00Z"
        ]
    );
}

#[test]
fn cron_follows_dst_in_new_york() {
    let s = cron_spec("0 9 * * *", "America/New_York", "2025-03-08T00:00:00Z");
    assert_eq!(
        first_n(&s, 2),
        ["2025-03-08T14:00:00Z", "2025-03-09T13:00:00Z"]
    );
}

#[test]
fn cron_accepts_a_leading_seconds_field() {
    let s = cron_spec("30 0 12 * * *", "UTC", "2025-01-01T00:00:00Z");
    assert_eq!(first_n(&s, 1), ["2025-01-01T12:00:30Z"]);
}

#[test]
fn cron_respects_starts_at_and_ends_at() {
    let mut s = cron_spec("*/15 * * * *", "UTC", "2025-01-01T10:07:30Z");
    s.ends_at = Some(utc("2025-01-01T11:00:00Z"));
    assert_eq!(
        first_n(&s, 10),
        [
            "2025-01-01T10:15:00Z",
            "2025-01-01T10:30:00Z",
            "2025-01-01T10:45:00Z",
            "2025-01-01T11:00:00Z",
        ]
    );
}

#[test]
fn cron_sub_second_starts_at_never_yields_an_earlier_instant() {
    let s = cron_spec("0 9 * * *", "UTC", "2025-01-01T09:00:00.5Z");
    assert_eq!(first_n(&s, 1), ["2025-01-02T09:00:00Z"]);
}

#[test]
fn cron_rejects_invalid_expressions() {
    for expr in ["not a cron", "61 * * * *", "* * * *", "0 0 0 0 0 0 0 0", ""] {
        let err = refused(&cron_spec(expr, "UTC", "2025-01-01T00:00:00Z"));
        assert_eq!(err.field(), "cron", "{expr}: {err}");
        assert!(err.to_string().starts_with("cron"), "{err}");
    }
}

#[test]
fn cron_that_never_fires_is_refused_quickly() {
    let started = Instant::now();
    let err = refused(&cron_spec("0 0 30 2 *", "UTC", "2025-01-01T00:00:00Z"));
    assert!(matches!(err, RecurrenceError::CronNeverFires(_)), "{err}");
    assert_eq!(err.field(), "cron");
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn cron_on_february_29_is_accepted_even_across_2100() {
    let s = cron_spec("0 0 29 2 *", "UTC", "2096-03-01T00:00:00Z");
    assert_eq!(first_n(&s, 1), ["2104-02-29T00:00:00Z"]);
}

#[test]
fn cron_fixed_time_in_a_gap_moves_forward_by_the_gap() {
    // Like the calendar patterns (croner fired at the gap's end, 03:00 EDT):
    // 02:30 on spring-forward day → 03:30 EDT.
    let s = cron_spec("30 2 * * *", "America/New_York", "2025-03-08T00:00:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-03-08T07:30:00Z",
            "2025-03-09T07:30:00Z",
            "2025-03-10T06:30:00Z"
        ]
    );
    // Fall back: a fixed-time job fires once, at the earlier 01:30.
    let s = cron_spec("30 1 * * *", "America/New_York", "2025-11-01T12:00:00Z");
    assert_eq!(
        first_n(&s, 2),
        ["2025-11-02T05:30:00Z", "2025-11-03T06:30:00Z"]
    );
}

/// The first `n` occurrences' local dates ("2025-01-06 Mon").
fn local_days(expr: &str, zone: &str, starts_at: &str, n: usize) -> Vec<String> {
    let s = cron_spec(expr, zone, starts_at);
    let tz = rule(&s).timezone();
    rule(&s)
        .occurrences_after(s.starts_at - chrono::TimeDelta::seconds(1), n)
        .iter()
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %a").to_string())
        .collect()
}

#[test]
fn hand_checked_dates() {
    let cases: &[(&str, &[&str])] = &[
        // Every Monday 09:00.
        (
            "0 9 * * 1",
            &[
                "2025-01-06T09:00:00Z",
                "2025-01-13T09:00:00Z",
                "2025-01-20T09:00:00Z",
            ],
        ),
        // 0 and 7 are both Sunday.
        (
            "0 9 * * 0",
            &[
                "2025-01-05T09:00:00Z",
                "2025-01-12T09:00:00Z",
                "2025-01-19T09:00:00Z",
            ],
        ),
        (
            "0 9 * * 7",
            &[
                "2025-01-05T09:00:00Z",
                "2025-01-12T09:00:00Z",
                "2025-01-19T09:00:00Z",
            ],
        ),
        // Cron's 31st is only in months that have one; the monthly calendar
        // pattern clamps to the month's last day instead.
        (
            "0 9 31 * *",
            &[
                "2025-01-31T09:00:00Z",
                "2025-03-31T09:00:00Z",
                "2025-05-31T09:00:00Z",
                "2025-07-31T09:00:00Z",
                "2025-08-31T09:00:00Z",
                "2025-10-31T09:00:00Z",
                "2025-12-31T09:00:00Z",
                "2026-01-31T09:00:00Z",
            ],
        ),
        // Both day fields restricted: the 1st, the 15th OR a Friday.
        (
            "0 9 1,15 * 5",
            &[
                "2025-01-01T09:00:00Z", // Wed the 1st
                "2025-01-03T09:00:00Z", // Fri
                "2025-01-10T09:00:00Z", // Fri
                "2025-01-15T09:00:00Z", // Wed the 15th
                "2025-01-17T09:00:00Z",
                "2025-01-24T09:00:00Z",
                "2025-01-31T09:00:00Z",
                "2025-02-01T09:00:00Z", // Sat the 1st
                "2025-02-07T09:00:00Z",
            ],
        ),
        (
            "*/20 * * * *",
            &[
                "2025-01-01T00:00:00Z",
                "2025-01-01T00:20:00Z",
                "2025-01-01T00:40:00Z",
                "2025-01-01T01:00:00Z",
            ],
        ),
    ];
    for (expr, expected) in cases {
        let s = cron_spec(expr, "UTC", "2025-01-01T00:00:00Z");
        assert_eq!(first_n(&s, expected.len()), *expected, "{expr}");
    }
}

#[test]
fn weekday_midnights_across_dst_changes() {
    let s = cron_spec("0 0 * * 1-5", "America/New_York", "2025-03-06T00:00:00Z");
    assert_eq!(
        first_n(&s, 4),
        [
            "2025-03-06T05:00:00Z", // Thu, EST
            "2025-03-07T05:00:00Z", // Fri
            "2025-03-10T04:00:00Z", // Mon, EDT since Sunday
            "2025-03-11T04:00:00Z",
        ]
    );
    let s = cron_spec("0 0 * * 1-5", "America/New_York", "2025-10-30T12:00:00Z");
    assert_eq!(
        first_n(&s, 2),
        ["2025-10-31T04:00:00Z", "2025-11-03T05:00:00Z"]
    );
    // Egypt skipped Friday 2024-04-26 00:00–01:00: that midnight moves
    // forward by the gap, to 01:00 EEST.
    let s = cron_spec("0 0 * * 1-5", "Africa/Cairo", "2024-04-24T12:00:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2024-04-24T22:00:00Z", // Thu 00:00 EET
            "2024-04-25T22:00:00Z", // Fri 01:00 EEST
            "2024-04-28T21:00:00Z", // Mon 00:00 EEST
        ]
    );
}

#[test]
fn day_of_week_forms_translate_to_the_same_days() {
    // The week from Sunday 2025-01-05.
    let cases: &[(&str, &[&str])] = &[
        ("1-5", &["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("mon-fri", &["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("MON-Fri", &["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0,6", &["Sun", "Sat"]),
        ("sat,SUN", &["Sun", "Sat"]),
        ("6,7", &["Sun", "Sat"]),
        ("5-7", &["Sun", "Fri", "Sat"]),
        ("5-0", &["Sun", "Fri", "Sat"]),
        ("fri-sun", &["Sun", "Fri", "Sat"]),
        ("*/2", &["Sun", "Tue", "Thu", "Sat"]),
        ("1-5/2", &["Mon", "Wed", "Fri"]),
        ("mon-fri/2", &["Mon", "Wed", "Fri"]),
        ("1/2", &["Sun", "Mon", "Wed", "Fri"]),
        ("0-7", &["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
        ("?", &["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
        ("2,4-5", &["Tue", "Thu", "Fri"]),
    ];
    for (dow, expected) in cases {
        let expr = format!("0 9 * * {dow}");
        let days: Vec<String> = local_days(&expr, "UTC", "2025-01-05T00:00:00Z", 7)
            .into_iter()
            .filter(|d| d.as_str() < "2025-01-12")
            .map(|d| d[11..].to_owned())
            .collect();
        assert_eq!(days, *expected, "{expr}");
    }
}

#[test]
fn month_names_and_macros() {
    let s = cron_spec("0 9 1 jan,JUL *", "UTC", "2025-01-02T00:00:00Z");
    assert_eq!(
        first_n(&s, 2),
        ["2025-07-01T09:00:00Z", "2026-01-01T09:00:00Z"]
    );
    let cases: &[(&str, &[&str])] = &[
        ("@yearly", &["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"]),
        (
            "@annually",
            &["2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"],
        ),
        (
            "@monthly",
            &["2025-02-01T00:00:00Z", "2025-03-01T00:00:00Z"],
        ),
        ("@weekly", &["2025-01-05T00:00:00Z", "2025-01-12T00:00:00Z"]),
        ("@daily", &["2025-01-03T00:00:00Z", "2025-01-04T00:00:00Z"]),
        (
            "@MIDNIGHT",
            &["2025-01-03T00:00:00Z", "2025-01-04T00:00:00Z"],
        ),
        ("@hourly", &["2025-01-02T13:00:00Z", "2025-01-02T14:00:00Z"]),
    ];
    for (expr, expected) in cases {
        let s = cron_spec(expr, "UTC", "2025-01-02T12:30:00Z");
        assert_eq!(first_n(&s, 2), *expected, "{expr}");
    }
}

#[test]
fn invalid_expressions_name_the_field_and_value() {
    let cases = [
        (
            "0 9 * * 8",
            "day-of-week field '8': 8 is out of range 0-7 (0 and 7 are Sunday)",
        ),
        ("60 * * * *", "minute field '60': 60 is out of range 0-59"),
        (
            "0 9 32 * *",
            "day-of-month field '32': 32 is out of range 1-31",
        ),
        (
            "0 9 * *",
            "expected 5 fields (minute hour day-of-month month day-of-week) \
             or 6 with a leading seconds field, got 4",
        ),
        (
            "0 0 9 * * * 2030",
            "expected 5 fields (minute hour day-of-month month day-of-week) \
             or 6 with a leading seconds field, got 7",
        ),
        ("0 24 * * *", "hour field '24': 24 is out of range 0-23"),
        (
            "0 9 0 * *",
            "day-of-month field '0': 0 is out of range 1-31",
        ),
        ("0 9 * 13 *", "month field '13': 13 is out of range 1-12"),
        (
            "0 9 * foo *",
            "month field 'foo': 'foo' is not a number or a name jan-dec",
        ),
        (
            "0 9 * * sun-sat,funday",
            "day-of-week field 'sun-sat,funday': 'funday' is not a number or a name sun-sat",
        ),
        ("60 0 9 * * *", "second field '60': 60 is out of range 0-59"),
        (
            "0 9 * * 5-2",
            "day-of-week field '5-2': range 5-2 runs backwards (write it as two ranges)",
        ),
        (
            "0 9 20-10 * *",
            "day-of-month field '20-10': range 20-10 runs backwards (write it as two ranges)",
        ),
        (
            "*/0 * * * *",
            "minute field '*/0': step '0' is not a number 1-59",
        ),
        (
            "0 */x * * *",
            "hour field '*/x': step 'x' is not a number 1-23",
        ),
        (
            "0 9 1,,15 * *",
            "day-of-month field '1,,15': a value is missing",
        ),
        (
            "0 9 * * 5#2",
            "day-of-week field '5#2': '5#2' uses the L, W or # extension, \
             which standard cron doesn't have",
        ),
        (
            "0 9 L * *",
            "day-of-month field 'L': 'L' uses the L, W or # extension, \
             which standard cron doesn't have",
        ),
        ("0 ? * * *", "hour field '?': '?' is not a number"),
        (
            "@reboot",
            "unknown macro '@reboot' (expected @yearly, @annually, @monthly, \
             @weekly, @daily, @midnight or @hourly)",
        ),
    ];
    for (expr, reason) in cases {
        let err = refused(&cron_spec(expr, "UTC", "2025-01-01T00:00:00Z"));
        assert_eq!(
            err,
            RecurrenceError::InvalidCron {
                expr: expr.to_owned(),
                reason: reason.to_owned()
            },
            "{expr}"
        );
        assert_eq!(err.field(), "cron");
        assert_eq!(
            err.to_string(),
            format!("cron: invalid expression '{expr}': {reason}")
        );
    }
}

#[test]
fn cron_wildcard_jobs_keep_real_time_across_fall_back() {
    // A wildcard job fires at every instant whose local time matches: both
    // 01:00s and both 01:30s of 2025-11-02.
    let s = cron_spec("*/30 * * * *", "America/New_York", "2025-11-02T04:45:00Z");
    assert_eq!(
        first_n(&s, 5),
        [
            "2025-11-02T05:00:00Z", // 01:00 EDT
            "2025-11-02T05:30:00Z", // 01:30 EDT
            "2025-11-02T06:00:00Z", // 01:00 EST
            "2025-11-02T06:30:00Z", // 01:30 EST
            "2025-11-02T07:00:00Z", // 02:00 EST
        ]
    );
    let r = rule(&s);
    // From inside the first pass, the next is still in the first pass…
    assert_eq!(
        r.next_after(utc("2025-11-02T05:10:00Z")),
        Some(utc("2025-11-02T05:30:00Z"))
    );
    // …and from its end, the second pass's 01:00.
    assert_eq!(
        r.next_after(utc("2025-11-02T05:40:00Z")),
        Some(utc("2025-11-02T06:00:00Z"))
    );
    let hourly = rule(&cron_spec(
        "@hourly",
        "America/New_York",
        "2025-11-01T00:00:00Z",
    ));
    assert_eq!(
        hourly.occurrences_after(utc("2025-11-02T04:30:00Z"), 3),
        [
            utc("2025-11-02T05:00:00Z"),
            utc("2025-11-02T06:00:00Z"),
            utc("2025-11-02T07:00:00Z")
        ]
    );
}

#[test]
fn cron_fixed_time_jobs_fire_once_in_a_repeated_hour() {
    let s = cron_spec("0,30 1 * * *", "America/New_York", "2025-11-02T00:00:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-11-02T05:00:00Z", // 01:00 EDT
            "2025-11-02T05:30:00Z", // 01:30 EDT
            "2025-11-03T06:00:00Z", // 01:00 EST the next day
        ]
    );
    // A search from the second pass finds nothing more that day.
    assert_eq!(
        rule(&s).next_after(utc("2025-11-02T06:15:00Z")),
        Some(utc("2025-11-03T06:00:00Z"))
    );
}

#[test]
fn cron_skipped_hour_fires_fixed_times_late_and_wildcards_not_at_all() {
    // Fixed: both gap times move forward by the hour the clocks skip.
    let s = cron_spec("0,30 2 * * *", "America/New_York", "2025-03-09T00:00:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-03-09T07:00:00Z", // "02:00" = 03:00 EDT
            "2025-03-09T07:30:00Z", // "02:30" = 03:30 EDT
            "2025-03-10T06:00:00Z", // 02:00 EDT
        ]
    );
    // Found from after the gap's end, too (the wall clock then reads 03:10).
    assert_eq!(
        rule(&s).next_after(utc("2025-03-09T07:10:00Z")),
        Some(utc("2025-03-09T07:30:00Z"))
    );
    // Wildcard: the skipped times simply don't happen.
    let s = cron_spec("*/30 * * * *", "America/New_York", "2025-03-09T06:15:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-03-09T06:30:00Z", // 01:30 EST
            "2025-03-09T07:00:00Z", // 03:00 EDT
            "2025-03-09T07:30:00Z", // 03:30 EDT
        ]
    );
    let s = cron_spec("0 */2 * * *", "America/New_York", "2025-03-09T04:30:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-03-09T05:00:00Z", // 00:00 EST
            "2025-03-09T08:00:00Z", // 04:00 EDT; 02:00 never happened
            "2025-03-09T10:00:00Z", // 06:00 EDT
        ]
    );
}

#[test]
fn cron_fixed_times_agree_with_the_daily_pattern() {
    // Same zone, same wall clock time: same instants, DST or not.
    for (zone, time, start) in [
        ("America/New_York", "02:30", "2025-03-07T00:00:00Z"),
        ("America/New_York", "01:30", "2025-10-31T00:00:00Z"),
        ("Europe/London", "01:15", "2025-03-28T00:00:00Z"),
        ("Europe/London", "01:15", "2025-10-24T00:00:00Z"),
        ("Australia/Sydney", "02:45", "2025-10-03T00:00:00Z"),
        ("Pacific/Chatham", "02:45", "2025-09-26T00:00:00Z"),
        ("Pacific/Apia", "09:00", "2011-12-28T00:00:00Z"),
    ] {
        let mut daily = spec(PatternKind::Daily, zone, start);
        daily.time_of_day = Some(time.to_owned());
        let expr = format!("{} {} * * *", &time[3..], &time[..2]);
        let cron = cron_spec(&expr, zone, start);
        assert_eq!(first_n(&cron, 6), first_n(&daily, 6), "{zone} {expr}");
    }
}

#[test]
fn cron_works_outside_the_cron_crates_years() {
    // The `cron` crate knows only 1970–2100; other years use a stand-in year
    // with the same calendar.
    assert_eq!(
        local_days("0 9 * * 1", "UTC", "2150-01-01T00:00:00Z", 2),
        ["2150-01-05 Mon", "2150-01-12 Mon"]
    );
    assert_eq!(
        local_days("0 9 * * 1", "UTC", "1960-01-01T00:00:00Z", 2),
        ["1960-01-04 Mon", "1960-01-11 Mon"]
    );
    // Across the crate's end, and across a stand-in's year end.
    assert_eq!(
        local_days("0 9 31 12 *", "UTC", "2099-06-01T00:00:00Z", 3),
        ["2099-12-31 Thu", "2100-12-31 Fri", "2101-12-31 Sat"]
    );
    // The 13th or a Friday (both day fields restricted); the days that are
    // both fall where the calendar puts them.
    let fridays: Vec<String> = local_days("0 9 13 * fri", "UTC", "2101-01-01T00:00:00Z", 150)
        .into_iter()
        .filter(|d| d.ends_with("Fri") && &d[8..10] == "13")
        .take(3)
        .collect();
    assert_eq!(
        fridays,
        ["2101-05-13 Fri", "2102-01-13 Fri", "2102-10-13 Fri"]
    );
}

#[test]
fn cron_rare_dates_are_found_decades_apart() {
    // 29 February on a Sunday (day of week starts with `*`, so AND):
    // 28 years apart, or 40 across 2100.
    let s = cron_spec("0 0 29 2 */7", "UTC", "2087-01-01T00:00:00Z");
    let dates: Vec<String> = first_n(&s, 3).iter().map(|t| t[..10].to_owned()).collect();
    assert_eq!(dates, ["2088-02-29", "2128-02-29", "2156-02-29"]);
}
