//! Occurrence searches through the costly cases (DST changes, OR-ed day
//! fields, stand-in years past 2100) give complete, ordered results. Their
//! cost depends on the machine, so it is not asserted here.

use super::*;

#[test]
fn a_hundred_occurrences_of_each_pattern() {
    let mut weekly = spec(
        PatternKind::Weekly,
        "America/New_York",
        "2025-01-01T00:00:00Z",
    );
    weekly.every_n = 2;
    weekly.weekdays = days(&[Weekday::Tue, Weekday::Thu]);
    let mut monthly = spec(
        PatternKind::Monthly,
        "Europe/London",
        "2025-01-01T00:00:00Z",
    );
    monthly.nth_week = Some(5);
    monthly.weekdays = days(&[Weekday::Fri]);
    let daily = spec(PatternKind::Daily, "Asia/Tokyo", "2025-01-01T00:00:00Z");
    let cron = cron_spec("0 9 * * 1-5", "Asia/Tokyo", "2025-01-01T00:00:00Z");
    for s in [weekly, monthly, daily, cron] {
        let got = rule(&s).occurrences_after(s.starts_at, 100);
        assert_eq!(got.len(), 100);
        assert!(got.windows(2).all(|w| w[0] < w[1]));
    }
}

#[test]
fn cron_searches_near_dst_changes_and_past_2100() {
    let cases = [
        // Every minute through a repeated hour: each search near the change
        // reads the matches of up to an hour.
        ("* * * * *", "America/New_York", "2025-11-02T04:00:00Z", 240),
        // Fixed times moved through a skipped hour.
        (
            "0-59 2 * * *",
            "America/New_York",
            "2025-03-09T06:00:00Z",
            120,
        ),
        // Day of month OR day of week: two schedules per search.
        ("0 9 1,15 * 5", "Europe/Berlin", "2025-01-01T00:00:00Z", 100),
        // Past the `cron` crate's last year: stand-in years.
        ("0 9 * * 1-5", "Asia/Tokyo", "2101-01-01T00:00:00Z", 100),
        ("0 0 29 2 *", "UTC", "2090-01-01T00:00:00Z", 10),
    ];
    for (expr, zone, start, n) in cases {
        let s = cron_spec(expr, zone, start);
        let got = rule(&s).occurrences_after(s.starts_at, n);
        assert_eq!(got.len(), n, "{expr}");
        assert!(got.windows(2).all(|w| w[0] < w[1]), "{expr}");
    }
}
