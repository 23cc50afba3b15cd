//! Calendar rules across daylight-saving changes.

use super::*;

#[test]
fn new_york_spring_forward_moves_gap_time_forward_by_the_gap() {
    let mut s = spec(
        PatternKind::Daily,
        "America/New_York",
        "2025-03-08T00:00:00Z",
    );
    s.time_of_day = Some("02:30".into());
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-03-08T07:30:00Z", // 02:30 EST
            "2025-03-09T07:30:00Z", // 02:30 does not exist: 03:30 EDT
            "2025-03-10T06:30:00Z", // 02:30 EDT
        ]
    );
}

#[test]
fn new_york_fall_back_uses_the_earlier_instant() {
    let mut s = spec(
        PatternKind::Daily,
        "America/New_York",
        "2025-11-01T00:00:00Z",
    );
    s.time_of_day = Some("01:30".into());
    assert_eq!(
        first_n(&s, 3),
        [
            "2025-11-01T05:30:00Z", // EDT
            "2025-11-02T05:30:00Z", // first 01:30 (EDT), not 06:30Z (EST)
            "2025-11-03T06:30:00Z", // EST
        ]
    );
}

#[test]
fn new_york_nine_am_keeps_local_time_across_dst() {
    let s = spec(
        PatternKind::Daily,
        "America/New_York",
        "2025-03-08T00:00:00Z",
    );
    assert_eq!(
        first_n(&s, 2),
        ["2025-03-08T14:00:00Z", "2025-03-09T13:00:00Z"]
    );
}

#[test]
fn london_spring_forward_and_fall_back() {
    let mut s = spec(PatternKind::Weekly, "Europe/London", "2025-03-01T00:00:00Z");
    s.weekdays = days(&[Weekday::Sun]);
    s.time_of_day = Some("01:30".into());
    let r = rule(&s);
    // Sunday 2025-03-30: 01:00 GMT jumps to 02:00 BST, so 01:30 becomes 02:30 BST.
    assert_eq!(
        r.next_after(utc("2025-03-29T00:00:00Z")),
        Some(utc("2025-03-30T01:30:00Z"))
    );
    // Sunday 2025-10-26: 01:30 happens twice; the first is 01:30 BST = 00:30Z.
    assert_eq!(
        r.next_after(utc("2025-10-25T00:00:00Z")),
        Some(utc("2025-10-26T00:30:00Z"))
    );
    // The week after, plain GMT.
    assert_eq!(
        r.next_after(utc("2025-10-27T00:00:00Z")),
        Some(utc("2025-11-02T01:30:00Z"))
    );
}

#[test]
fn a_search_from_inside_the_repeated_hour_does_not_fire_twice() {
    let mut s = spec(
        PatternKind::Daily,
        "America/New_York",
        "2025-11-01T00:00:00Z",
    );
    s.time_of_day = Some("01:30".into());
    let r = rule(&s);
    // Just after the first 01:30, during the repeated hour: next is the following day.
    assert_eq!(
        r.next_after(utc("2025-11-02T05:45:00Z")),
        Some(utc("2025-11-03T06:30:00Z"))
    );
}

#[test]
fn a_skipped_local_day_still_yields_one_occurrence() {
    // Samoa skipped 2011-12-30 entirely (UTC-10 → UTC+14). Its 09:00 moves
    // forward by the 24h gap onto Dec 31 09:00, the same instant as Dec 31's own
    // slot, so the day is merged rather than duplicated.
    let s = spec(PatternKind::Daily, "Pacific/Apia", "2011-12-28T00:00:00Z");
    let got = first_n(&s, 4);
    assert_eq!(
        got,
        [
            "2011-12-28T19:00:00Z", // Dec 28 09:00 -10
            "2011-12-29T19:00:00Z", // Dec 29 09:00 -10
            "2011-12-30T19:00:00Z", // "Dec 30" 09:00 → Dec 31 09:00 +14
            "2011-12-31T19:00:00Z", // Jan 1 09:00 +14
        ]
    );
}
