//! Properties over generated rules, across years and DST changes: the
//! occurrences strictly increase, each matches its rule, none is skipped
//! (each follows from the one before) and windows agree with the stream.

use chrono::{
    DateTime, Datelike, Duration, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike, Utc,
};
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
    fn cron_occurrences_increase_match_and_follow_each_other(
        case in cron_case(),
        zone in prop::sample::select(ZONES),
        starts_at in start(),
    ) {
        let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
        let mut spec = spec(PatternKind::Cron, zone, "2020-01-01T00:00:00Z");
        spec.starts_at = starts_at;
        spec.cron = Some(case.expr());
        let rule = Recurrence::new(&spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let occurrences = rule.occurrences_after(starts_at, 30);
        prop_assert_eq!(occurrences.len(), 30);
        prop_assert!(occurrences[0] >= starts_at);
        for pair in occurrences.windows(2) {
            prop_assert!(pair[0] < pair[1]);
            prop_assert_eq!(rule.next_after(pair[0]), Some(pair[1]));
        }
        for at in &occurrences {
            prop_assert!(case.fires_at(tz, *at), "{} for {}", at.with_timezone(&tz), case.expr());
        }
    }

    /// Around real DST changes, every minute of a 36-hour window is checked
    /// against an independent reading of the documented rule, and searches
    /// start from arbitrary instants (inside gaps and repeated hours too).
    #[test]
    fn cron_near_dst_changes_matches_a_minute_by_minute_model(
        case in cron_case(),
        zone in prop::sample::select(ZONES),
        year in 2020i32..2036,
        which in 0usize..2,
        shift_seconds in -30 * 3600i64..6 * 3600,
        probes in prop::collection::vec(0i64..36 * 3600, 4),
    ) {
        let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
        let anchor = transitions(tz, year)
            .get(which)
            .copied()
            .or_else(|| Utc.with_ymd_and_hms(year, 6, 1, 0, 0, 0).single())
            .unwrap_or_default();
        let from = anchor + Duration::seconds(shift_seconds);
        let until = from + Duration::hours(36);
        let mut spec = spec(PatternKind::Cron, zone, "2019-01-01T00:00:00Z");
        spec.cron = Some(case.expr());
        let rule = Recurrence::new(&spec).map_err(|e| TestCaseError::fail(e.to_string()))?;

        let first_minute = (from.timestamp().div_euclid(60) + 1) * 60;
        let expected: Vec<DateTime<Utc>> = (first_minute..=until.timestamp())
            .step_by(60)
            .filter_map(|s| Utc.timestamp_opt(s, 0).single())
            .filter(|t| case.fires_at(tz, *t))
            .collect();
        let got = rule.occurrences_between(from, until, 10_000);
        prop_assert_eq!(&got, &expected, "{} in {} from {}", case.expr(), zone, from);
        for probe in probes {
            let at = from + Duration::seconds(probe);
            if let Some(want) = expected.iter().find(|t| **t > at) {
                prop_assert_eq!(rule.next_after(at), Some(*want), "from {}", at);
            }
        }
    }
}

/// A cron field for the generators: its text and the values it matches.
type FieldChoice = (&'static str, fn(u32) -> bool);

const MINUTES: &[FieldChoice] = &[
    ("0", |m| m == 0),
    ("30", |m| m == 30),
    ("45", |m| m == 45),
    ("5,35", |m| m == 5 || m == 35),
    ("*/15", |m| m % 15 == 0),
    ("*/20", |m| m % 20 == 0),
];
const HOURS: &[FieldChoice] = &[
    ("*", |_| true),
    ("1", |h| h == 1),
    ("2", |h| h == 2),
    ("3", |h| h == 3),
    ("9", |h| h == 9),
    ("1-3", |h| (1..=3).contains(&h)),
    ("0,2", |h| h == 0 || h == 2),
    ("*/2", |h| h % 2 == 0),
    ("*/5", |h| h % 5 == 0),
];
const DAYS_OF_MONTH: &[FieldChoice] = &[
    ("*", |_| true),
    ("*", |_| true),
    ("*/2", |d| d % 2 == 1),
    ("1-15", |d| d <= 15),
    ("5-9,26-28", |d| {
        (5..=9).contains(&d) || (26..=28).contains(&d)
    }),
];
/// Values are days from Sunday (0–6).
const DAYS_OF_WEEK: &[FieldChoice] = &[
    ("*", |_| true),
    ("*", |_| true),
    ("1-5", |d| (1..=5).contains(&d)),
    ("0,6", |d| d == 0 || d == 6),
    ("MON", |d| d == 1),
    ("sun,Sat", |d| d == 0 || d == 6),
    ("5-0", |d| d == 0 || d >= 5),
    ("*/2", |d| d % 2 == 0),
];

/// A generated cron expression with its own reading of the rule documented
/// on `Recurrence`, written independently of the search.
#[derive(Clone)]
struct CronCase {
    minute: FieldChoice,
    hour: FieldChoice,
    dom: FieldChoice,
    dow: FieldChoice,
}

fn cron_case() -> impl Strategy<Value = CronCase> {
    (
        prop::sample::select(MINUTES),
        prop::sample::select(HOURS),
        prop::sample::select(DAYS_OF_MONTH),
        prop::sample::select(DAYS_OF_WEEK),
    )
        .prop_map(|(minute, hour, dom, dow)| CronCase {
            minute,
            hour,
            dom,
            dow,
        })
}

impl std::fmt::Debug for CronCase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", self.expr())
    }
}

impl CronCase {
    fn expr(&self) -> String {
        format!(
            "{} {} {} * {}",
            self.minute.0, self.hour.0, self.dom.0, self.dow.0
        )
    }

    fn fixed_time(&self) -> bool {
        !self.minute.0.starts_with('*') && !self.hour.0.starts_with('*')
    }

    fn matches(&self, wall: NaiveDateTime) -> bool {
        let day = (self.dom.1)(wall.day());
        let weekday = (self.dow.1)(wall.weekday().num_days_from_sunday());
        let either = !self.dom.0.starts_with('*') && !self.dow.0.starts_with('*');
        let date = if either {
            day || weekday
        } else {
            day && weekday
        };
        wall.second() == 0 && (self.minute.1)(wall.minute()) && (self.hour.1)(wall.hour()) && date
    }

    /// Wildcard jobs fire whenever the local time matches. Fixed-time jobs
    /// fire at the earlier instant of a matching local time, or, for a
    /// matching local time a spring-forward gap skips, at that time read with
    /// the offset before the gap.
    fn fires_at(&self, tz: Tz, at: DateTime<Utc>) -> bool {
        let wall = at.with_timezone(&tz).naive_local();
        if !self.fixed_time() {
            return self.matches(wall);
        }
        if self.matches(wall)
            && tz.from_local_datetime(&wall).earliest() == Some(at.with_timezone(&tz))
        {
            return true;
        }
        let before = tz
            .offset_from_utc_datetime(&(at - Duration::days(1)).naive_utc())
            .fix();
        let skipped = at.naive_utc() + before;
        tz.from_local_datetime(&skipped).earliest().is_none() && self.matches(skipped)
    }
}

/// Instants (to the minute) at which `tz` changes its UTC offset in `year`.
fn transitions(tz: Tz, year: i32) -> Vec<DateTime<Utc>> {
    let offset = |t: DateTime<Utc>| tz.offset_from_utc_datetime(&t.naive_utc()).fix();
    let Some(new_year) = Utc.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single() else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for day in 0..366 {
        let (mut low, mut high) = (
            new_year + Duration::days(day),
            new_year + Duration::days(day + 1),
        );
        if offset(low) == offset(high) {
            continue;
        }
        let before = offset(low);
        while high - low > Duration::minutes(1) {
            let mid = low + (high - low) / 2;
            if offset(mid) == before {
                low = mid;
            } else {
                high = mid;
            }
        }
        found.push(high);
    }
    found
}
