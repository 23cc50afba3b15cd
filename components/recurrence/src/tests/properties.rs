//! Properties over generated rules, across years and DST changes: the
//! occurrences strictly increase, each matches its rule, none is skipped
//! (each follows from the one before) and windows agree with the stream.

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::spec;
use crate::{PatternKind, Recurrence, RecurrenceSpec, WeekdaySet};

/// Zones with and without DST, on both hemispheres, with odd offsets.
const ZONES: &[&str] = &[
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",
    "Asia/Kolkata",
    "America/Sao_Paulo",
    "Pacific/Chatham",
];

fn start() -> impl Strategy<Value = DateTime<Utc>> {
    // 2020-01-01 .. 2035-01-01
    (1_577_836_800i64..2_051_222_400)
        .prop_map(|s| Utc.timestamp_opt(s, 0).single().unwrap_or_default())
}

fn time_of_day() -> impl Strategy<Value = NaiveTime> {
    // Includes 02:00–03:00, which DST changes skip or repeat.
    (0u32..24, prop::sample::select(vec![0u32, 15, 30, 45]))
        .prop_map(|(h, m)| NaiveTime::from_hms_opt(h, m, 0).unwrap_or_default())
}

#[derive(Debug, Clone)]
enum Shape {
    Daily,
    Weekly(u8),
    MonthDay(u8),
    NthWeekday(u8, u8),
}

fn shape() -> impl Strategy<Value = Shape> {
    prop_oneof![
        Just(Shape::Daily),
        (1u8..128).prop_map(Shape::Weekly),
        (1u8..=31).prop_map(Shape::MonthDay),
        (1u8..=5, 0u8..7).prop_map(|(n, d)| Shape::NthWeekday(n, d)),
    ]
}

fn build(
    shape: &Shape,
    every_n: u32,
    tod: NaiveTime,
    zone: &str,
    starts_at: DateTime<Utc>,
) -> RecurrenceSpec {
    let pattern = match shape {
        Shape::Daily => PatternKind::Daily,
        Shape::Weekly(_) => PatternKind::Weekly,
        Shape::MonthDay(_) | Shape::NthWeekday(..) => PatternKind::Monthly,
    };
    let mut s = spec(pattern, zone, "2020-01-01T00:00:00Z");
    s.starts_at = starts_at;
    s.every_n = every_n;
    s.time_of_day = Some(tod.format("%H:%M").to_string());
    match shape {
        Shape::Weekly(bits) => s.weekdays = WeekdaySet::from_bits(*bits),
        Shape::MonthDay(day) => s.day_of_month = Some(*day),
        Shape::NthWeekday(n, day) => {
            s.nth_week = Some(*n);
            s.weekdays = WeekdaySet::from_bits(1 << day);
        }
        Shape::Daily => {}
    }
    s
}

/// The local wall time an occurrence shows: the rule's time, or, when a DST
/// change skipped that time, the time pushed forward by the gap.
fn shows_rule_time(at: DateTime<Tz>, tod: NaiveTime) -> bool {
    let local = at.time();
    if local == tod {
        return true;
    }
    let shifted = local - Duration::hours(1);
    let skipped = at
        .timezone()
        .from_local_datetime(&at.date_naive().and_time(tod))
        .earliest()
        .is_none();
    skipped && (shifted == tod || local.minute() == tod.minute())
}

fn matches(shape: &Shape, at: DateTime<Tz>) -> bool {
    let date = at.date_naive();
    match shape {
        Shape::Daily => true,
        Shape::Weekly(bits) => {
            WeekdaySet::from_bits(*bits).is_some_and(|w| w.contains(date.weekday()))
        }
        Shape::MonthDay(day) => {
            let last = (28..=31)
                .rev()
                .find(|d| date.with_day(*d).is_some())
                .unwrap_or(28);
            date.day() == u32::from(*day).min(last)
        }
        Shape::NthWeekday(n, day) => {
            let weekday_ok = date.weekday().num_days_from_monday() == u32::from(*day);
            let nth = (date.day() - 1) / 7 + 1;
            let is_last = date.with_day(date.day() + 7).is_none();
            weekday_ok && (u32::from(*n) == nth || (*n == 5 && is_last))
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn occurrences_increase_match_the_rule_and_follow_each_other(
        shape in shape(),
        every_n in 1u32..4,
        tod in time_of_day(),
        zone in prop::sample::select(ZONES),
        starts_at in start(),
    ) {
        let spec = build(&shape, every_n, tod, zone, starts_at);
        let rule = Recurrence::new(&spec).map_err(|e| TestCaseError::fail(format!("{e}: {spec:?}")))?;
        let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
        let occurrences = rule.occurrences_after(starts_at - Duration::seconds(1), 40);
        prop_assert!(!occurrences.is_empty(), "no occurrence for {spec:?}");
        prop_assert!(occurrences[0] >= starts_at);
        for pair in occurrences.windows(2) {
            prop_assert!(pair[0] < pair[1], "not increasing: {pair:?}");
            // None skipped: each occurrence is the next one after the previous.
            prop_assert_eq!(rule.next_after(pair[0]), Some(pair[1]));
        }
        for at in &occurrences {
            let local = at.with_timezone(&tz);
            prop_assert!(matches(&shape, local), "{local} does not match {shape:?}");
            prop_assert!(shows_rule_time(local, tod), "{local} is not at {tod} for {spec:?}");
        }
        if every_n == 1 && matches!(shape, Shape::Daily) {
            for pair in occurrences.windows(2) {
                let days = (pair[1].with_timezone(&tz).date_naive() - pair[0].with_timezone(&tz).date_naive()).num_days();
                prop_assert_eq!(days, 1, "daily skipped or doubled a day: {:?}", pair);
            }
        }
        // A window holds exactly the stream's occurrences inside it.
        let until = occurrences[occurrences.len() / 2];
        let window = rule.occurrences_between(starts_at - Duration::seconds(1), until, 1000);
        prop_assert_eq!(&window[..], &occurrences[..=occurrences.len() / 2]);
    }

    #[test]
    fn cron_occurrences_increase_and_follow_each_other(
        minute in 0u32..60,
        hour in prop::sample::select(vec!["*".to_string(), "2".to_string(), "9".to_string(), "*/5".to_string()]),
        dow in prop::sample::select(vec!["*", "1-5", "0,6", "MON"]),
        zone in prop::sample::select(ZONES),
        starts_at in start(),
    ) {
        let mut spec = spec(PatternKind::Cron, zone, "2020-01-01T00:00:00Z");
        spec.starts_at = starts_at;
        spec.cron = Some(format!("{minute} {hour} * * {dow}"));
        let rule = Recurrence::new(&spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let occurrences = rule.occurrences_after(starts_at, 30);
        prop_assert_eq!(occurrences.len(), 30);
        for pair in occurrences.windows(2) {
            prop_assert!(pair[0] < pair[1]);
            prop_assert_eq!(rule.next_after(pair[0]), Some(pair[1]));
            let local = pair[1].with_timezone(&zone.parse::<Tz>().unwrap_or(Tz::UTC));
            // A time a DST change skips fires when the gap ends (see search_cron).
            let after_gap = local
                .timezone()
                .from_local_datetime(&(local.naive_local() - Duration::minutes(1)))
                .single()
                .is_none();
            prop_assert!(local.minute() == minute || after_gap, "{local} for minute {minute}");
        }
    }
}
