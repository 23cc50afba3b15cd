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
fn cron_fixed_time_in_a_gap_fires_at_the_end_of_the_gap() {
    // croner's rule (documented on Recurrence): 02:30 on spring-forward day → 03:00 EDT.
    let s = cron_spec("30 2 * * *", "America/New_York", "2025-03-08T00:00:00Z");
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-03-08T07:30:00Z",
            "2025-03-09T07:00:00Z",
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
