//! Occurrence search cost.

use std::time::Instant;

use super::*;

#[test]
fn a_hundred_occurrences_are_cheap() {
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
        let r = rule(&s);
        let started = Instant::now();
        let got = r.occurrences_after(s.starts_at, 100);
        let took = started.elapsed();
        assert_eq!(got.len(), 100);
        assert!(got.windows(2).all(|w| w[0] < w[1]));
        // Debug builds are ~10x slower than release; still far below this.
        assert!(took.as_millis() < 50, "{:?} took {took:?}", s.pattern);
    }
}
