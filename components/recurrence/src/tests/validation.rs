//! Spec validation and its JSON form.

use super::*;

#[test]
fn validation_refuses_each_problem_naming_the_field() {
    let base = spec(PatternKind::Daily, "UTC", "2025-01-01T00:00:00Z");
    let case = |edit: &dyn Fn(&mut RecurrenceSpec)| {
        let mut s = base.clone();
        edit(&mut s);
        refused(&s)
    };
    let cases: Vec<(RecurrenceError, &str, &str)> = vec![
        (
            case(&|s| s.timezone = "Mars/Base".into()),
            "timezone",
            "timezone: unknown IANA zone 'Mars/Base'",
        ),
        (
            case(&|s| s.every_n = 0),
            "every_n",
            "every_n must be between 1 and 1000, got 0",
        ),
        (
            case(&|s| s.every_n = 1001),
            "every_n",
            "every_n must be between 1 and 1000, got 1001",
        ),
        (
            case(&|s| s.time_of_day = Some("25:00".into())),
            "time_of_day",
            "time_of_day must be HH:MM (24h), got '25:00'",
        ),
        (
            case(&|s| s.time_of_day = Some("9am".into())),
            "time_of_day",
            "time_of_day must be HH:MM (24h), got '9am'",
        ),
        (
            case(&|s| s.time_of_day = Some("09:60".into())),
            "time_of_day",
            "time_of_day must be HH:MM (24h), got '09:60'",
        ),
        (
            case(&|s| s.time_of_day = Some("9:00".into())),
            "time_of_day",
            "time_of_day must be HH:MM (24h), got '9:00'",
        ),
        (
            case(&|s| s.ends_at = Some(s.starts_at)),
            "ends_at",
            "ends_at must be after starts_at",
        ),
        (
            case(&|s| s.cron = Some("0 9 * * *".into())),
            "cron",
            "cron is only allowed with pattern cron",
        ),
        (
            case(&|s| s.weekdays = days(&[Weekday::Mon])),
            "weekdays",
            "weekdays is not allowed with pattern daily",
        ),
        (
            case(&|s| s.day_of_month = Some(3)),
            "day_of_month",
            "day_of_month is not allowed with pattern daily",
        ),
        (
            case(&|s| s.nth_week = Some(1)),
            "nth_week",
            "nth_week is not allowed with pattern daily",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Weekly;
                s.day_of_month = Some(3)
            }),
            "day_of_month",
            "day_of_month is not allowed with pattern weekly",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Weekly;
                s.nth_week = Some(2)
            }),
            "nth_week",
            "nth_week is not allowed with pattern weekly",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.day_of_month = Some(0)
            }),
            "day_of_month",
            "day_of_month must be 1-31, got 0",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.day_of_month = Some(32)
            }),
            "day_of_month",
            "day_of_month must be 1-31, got 32",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.nth_week = Some(6);
                s.weekdays = days(&[Weekday::Fri])
            }),
            "nth_week",
            "nth_week must be 1-5 (5 = last), got 6",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.nth_week = Some(0);
                s.weekdays = days(&[Weekday::Fri])
            }),
            "nth_week",
            "nth_week must be 1-5 (5 = last), got 0",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.nth_week = Some(2)
            }),
            "weekdays",
            "nth_week needs exactly one weekday, got 0",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.nth_week = Some(2);
                s.weekdays = days(&[Weekday::Mon, Weekday::Fri])
            }),
            "weekdays",
            "nth_week needs exactly one weekday, got 2",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.day_of_month = Some(2);
                s.nth_week = Some(2);
                s.weekdays = days(&[Weekday::Fri])
            }),
            "day_of_month",
            "day_of_month and nth_week cannot both be set",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Monthly;
                s.weekdays = days(&[Weekday::Fri])
            }),
            "weekdays",
            "weekdays with pattern monthly need nth_week (e.g. the 2nd tuesday)",
        ),
        (
            case(&|s| s.pattern = PatternKind::Cron),
            "cron",
            "cron pattern needs a cron expression",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Cron;
                s.cron = Some("0 9 * * *".into());
                s.every_n = 2
            }),
            "every_n",
            "every_n must be 1 with pattern cron, got 2",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Cron;
                s.cron = Some("0 9 * * *".into());
                s.weekdays = days(&[Weekday::Mon])
            }),
            "weekdays",
            "weekdays is not allowed with pattern cron",
        ),
        (
            case(&|s| {
                s.pattern = PatternKind::Cron;
                s.cron = Some("0 9 * * *".into());
                s.day_of_month = Some(1)
            }),
            "day_of_month",
            "day_of_month is not allowed with pattern cron",
        ),
    ];
    for (err, field, message) in cases {
        assert_eq!(err.field(), field, "{err}");
        assert_eq!(err.to_string(), message);
    }
}

#[test]
fn valid_edge_values_are_accepted() {
    let mut s = spec(PatternKind::Daily, "UTC", "2025-01-01T00:00:00Z");
    s.every_n = 1000;
    s.time_of_day = Some("23:59".into());
    assert!(Recurrence::new(&s).is_ok());
    s.time_of_day = Some("00:00".into());
    assert!(Recurrence::new(&s).is_ok());
    // time_of_day is ignored (but still well-formed) for cron.
    let mut c = cron_spec("0 9 * * *", "UTC", "2025-01-01T00:00:00Z");
    c.time_of_day = Some("09:00".into());
    assert!(Recurrence::new(&c).is_ok());
}

#[test]
fn spec_round_trips_through_json_with_weekday_names() {
    let json = r#"{"pattern":"weekly","every_n":2,"weekdays":["Tuesday","THU"],"time_of_day":"08:45","timezone":"Europe/London","starts_at":"2025-01-06T00:00:00Z","ends_at":"2026-01-01T00:00:00Z"}"#;
    let parsed: RecurrenceSpec = serde_json::from_str(json).unwrap();
    assert_eq!(parsed.pattern, PatternKind::Weekly);
    assert_eq!(parsed.weekdays.map(WeekdaySet::bits), Some(0b000_1010));
    let written = serde_json::to_string(&parsed).unwrap();
    assert_eq!(
        written,
        r#"{"pattern":"weekly","every_n":2,"weekdays":["tue","thu"],"time_of_day":"08:45","timezone":"Europe/London","starts_at":"2025-01-06T00:00:00Z","ends_at":"2026-01-01T00:00:00Z"}"#
    );
    let again: RecurrenceSpec = serde_json::from_str(&written).unwrap();
    assert_eq!(again, parsed);
}

#[test]
fn spec_fills_defaults_for_absent_fields() {
    let json = r#"{"pattern":"cron","cron":"0 9 * * 1-5","timezone":"Asia/Tokyo","starts_at":"2025-01-01T00:00:00Z"}"#;
    let parsed: RecurrenceSpec = serde_json::from_str(json).unwrap();
    assert_eq!(parsed.every_n, 1);
    assert_eq!(parsed.weekdays, None);
    assert_eq!(parsed.ends_at, None);
    assert!(Recurrence::new(&parsed).is_ok());
}

#[test]
fn spec_denies_unknown_fields_and_patterns() {
    let unknown =
        r#"{"pattern":"daily","timezone":"UTC","starts_at":"2025-01-01T00:00:00Z","colour":"red"}"#;
    let err = serde_json::from_str::<RecurrenceSpec>(unknown).unwrap_err();
    assert!(err.to_string().contains("unknown field `colour`"), "{err}");
    let pattern = r#"{"pattern":"yearly","timezone":"UTC","starts_at":"2025-01-01T00:00:00Z"}"#;
    assert!(serde_json::from_str::<RecurrenceSpec>(pattern).is_err());
    let day = r#"{"pattern":"weekly","weekdays":["mon","noday"],"timezone":"UTC","starts_at":"2025-01-01T00:00:00Z"}"#;
    assert!(serde_json::from_str::<RecurrenceSpec>(day).is_err());
}

#[test]
fn pattern_kind_matches_the_database_text() {
    for kind in [
        PatternKind::Daily,
        PatternKind::Weekly,
        PatternKind::Monthly,
        PatternKind::Cron,
    ] {
        assert_eq!(kind.as_str().parse::<PatternKind>(), Ok(kind));
        assert_eq!(serde_json::to_string(&kind).unwrap(), format!("\"{kind}\""));
    }
    let err = "yearly".parse::<PatternKind>().unwrap_err();
    assert_eq!(err.field(), "pattern");
}
