//! A validated recurrence rule and its occurrence search.

use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeDelta, TimeZone, Utc, Weekday,
};
use chrono_tz::Tz;

use crate::cron_expr::CronExpr;
use crate::{DEFAULT_TIME_OF_DAY, PatternKind, RecurrenceError, RecurrenceSpec, WeekdaySet};

/// Largest accepted `every_n`; keeps period arithmetic far from overflow.
pub const MAX_EVERY_N: u32 = 1000;

/// How far past `starts_at` a cron expression must fire at least once.
/// Nine years covers "Feb 29" across a skipped leap year (2096 → 2104).
pub const CRON_LOOKAHEAD_YEARS: i64 = 9;

/// Periods tried per search. The search starts two local days before the
/// bound (a zone that skips a whole day can push a day's slot onto the
/// next), so the answer lies within the first few aligned periods.
const MAX_PERIODS_PER_SEARCH: usize = 8;

/// Wall clock matches one cron search looks at, at most. Away from a DST
/// change one or two decide; near one, the matches of up to a day (Samoa
/// skipped one) may need sorting by instant.
const MAX_CRON_CANDIDATES: usize = 100_000;

/// Further than any DST change moves the wall clock (Samoa skipped a day):
/// offset changes within this distance of an instant are looked for.
const OFFSET_WINDOW: TimeDelta = TimeDelta::hours(25);

/// A validated recurrence rule.
///
/// Semantics shared by every pattern:
/// - An occurrence is an instant; [`Recurrence::next_after`] returns the
///   first one strictly after `after`, never before `starts_at`, never after
///   `ends_at` (both bounds inclusive).
/// - Calendar patterns fire at `time_of_day` local time in `timezone`. A
///   local time inside a spring-forward gap moves forward by the gap's length
///   (02:30 → 03:30 in New York); an ambiguous fall-back time uses the
///   earlier instant (the first 01:30).
/// - Cron expressions (standard 5-field Unix syntax, or 6 with leading
///   seconds, or `@daily` and the like; no `L`, `W`, `#` or year field)
///   match the local wall clock in `timezone`. Day of week 0 and 7 are
///   Sunday; names (`mon-fri`, `JAN`) are 3 letters, in any case. When both
///   day of month and day of week are restricted (neither starts with `*`),
///   a day matching either fires, as in Vixie cron: `0 9 1,15 * 5` is the
///   1st, the 15th and every Friday. Day 31 fires only in months that have
///   it (the monthly pattern clamps instead).
/// - Across DST changes cron tells jobs apart as Vixie cron does. A
///   *fixed-time* job (none of its minute, hour and seconds fields starts
///   with `*`, e.g. `30 2 * * *`) fires once per matching wall clock time,
///   resolved like a calendar time: in a spring-forward gap it moves forward
///   by the gap's length (02:30 → 03:30 EDT; Vixie would run it at 03:00),
///   in a fall-back overlap it fires once, at the earlier instant. A
///   *wildcard* job (`*/15 * * * *`, `0 * * * *`, `@hourly`) fires at every
///   instant whose local time matches: not in the skipped hour, and in both
///   passes of a repeated hour, so it keeps its real-time rhythm.
/// - Periods count from `starts_at`'s *local* day, week (Monday-based) or
///   month, even when that period's slot lies before `starts_at`: a rule
///   "every 3 days at 09:00" that starts Jan 1 at 10:00 first fires Jan 4.
#[derive(Debug, Clone)]
pub struct Recurrence {
    spec: RecurrenceSpec,
    tz: Tz,
    schedule: Schedule,
}

#[derive(Debug, Clone)]
enum Schedule {
    Calendar {
        time: NaiveTime,
        every: i64,
        calendar: Calendar,
    },
    Cron(CronExpr),
}

#[derive(Debug, Clone, Copy)]
enum Calendar {
    /// Every n-th day counting from `anchor` (starts_at's local date).
    Daily { anchor: NaiveDate },
    /// Every n-th week counting from the Monday of starts_at's local week;
    /// in each such week, every day of `days`.
    Weekly {
        anchor_monday: NaiveDate,
        days: WeekdaySet,
    },
    /// Every n-th month counting from starts_at's local month, on `day`
    /// clamped to the month's length.
    MonthlyDay { anchor_month: i64, day: u32 },
    /// Every n-th month, on the `nth` (1–4, or 5 = last) `weekday`.
    MonthlyNth {
        anchor_month: i64,
        nth: u8,
        weekday: Weekday,
    },
}

impl Recurrence {
    /// Validates `spec`. Defaults are filled in on the copy [`Self::spec`]
    /// returns: `time_of_day` "09:00" (calendar patterns), weekly `weekdays`
    /// = starts_at's local weekday, monthly `day_of_month` = starts_at's local
    /// day when neither it nor `nth_week` is given.
    ///
    /// Refuses: an unknown zone; `ends_at <= starts_at`; a `time_of_day` not
    /// exactly "HH:MM" 24h (checked for cron too, though cron ignores it);
    /// `every_n` outside 1–1000, or not 1 for cron; `cron` on other patterns;
    /// `weekdays` / `day_of_month` / `nth_week` on patterns that don't use
    /// them (monthly takes `weekdays` only as nth_week's single day); both
    /// `day_of_month` and `nth_week`; values out of range; a cron expression
    /// that doesn't parse or doesn't fire within [`CRON_LOOKAHEAD_YEARS`].
    pub fn new(spec: &RecurrenceSpec) -> Result<Self, RecurrenceError> {
        let tz = Tz::from_str(&spec.timezone)
            .map_err(|_| RecurrenceError::UnknownTimezone(spec.timezone.clone()))?;
        if spec.ends_at.is_some_and(|end| end <= spec.starts_at) {
            return Err(RecurrenceError::EndsBeforeStart);
        }
        let time = parse_time_of_day(spec.time_of_day.as_deref().unwrap_or(DEFAULT_TIME_OF_DAY))?;
        if spec.pattern == PatternKind::Cron {
            return Self::new_cron(spec, tz);
        }
        if !(1..=MAX_EVERY_N).contains(&spec.every_n) {
            return Err(RecurrenceError::EveryNOutOfRange(spec.every_n));
        }
        if spec.cron.is_some() {
            return Err(RecurrenceError::CronNotAllowed);
        }

        let mut spec = spec.clone();
        spec.time_of_day
            .get_or_insert_with(|| DEFAULT_TIME_OF_DAY.to_owned());
        let start_local = local_date(&tz, spec.starts_at);
        let calendar = match spec.pattern {
            PatternKind::Daily => {
                reject_present(
                    PatternKind::Daily,
                    &[
                        ("weekdays", spec.weekdays.is_some()),
                        ("day_of_month", spec.day_of_month.is_some()),
                        ("nth_week", spec.nth_week.is_some()),
                    ],
                )?;
                Calendar::Daily {
                    anchor: start_local,
                }
            }
            PatternKind::Weekly => {
                reject_present(
                    PatternKind::Weekly,
                    &[
                        ("day_of_month", spec.day_of_month.is_some()),
                        ("nth_week", spec.nth_week.is_some()),
                    ],
                )?;
                let days = *spec
                    .weekdays
                    .get_or_insert_with(|| WeekdaySet::single(start_local.weekday()));
                if days.is_empty() {
                    return Err(RecurrenceError::WeeklyNeedsWeekday);
                }
                Calendar::Weekly {
                    anchor_monday: monday_of(start_local),
                    days,
                }
            }
            PatternKind::Monthly => monthly_calendar(&mut spec, start_local)?,
            PatternKind::Cron => return Self::new_cron(&spec, tz),
        };
        let every = i64::from(spec.every_n);
        Ok(Self {
            spec,
            tz,
            schedule: Schedule::Calendar {
                time,
                every,
                calendar,
            },
        })
    }

    fn new_cron(spec: &RecurrenceSpec, tz: Tz) -> Result<Self, RecurrenceError> {
        if spec.every_n != 1 {
            return Err(RecurrenceError::EveryNWithCron(spec.every_n));
        }
        reject_present(
            PatternKind::Cron,
            &[
                ("weekdays", spec.weekdays.is_some()),
                ("day_of_month", spec.day_of_month.is_some()),
                ("nth_week", spec.nth_week.is_some()),
            ],
        )?;
        let expr = spec.cron.as_deref().ok_or(RecurrenceError::MissingCron)?;
        let cron = CronExpr::parse(expr).map_err(|reason| RecurrenceError::InvalidCron {
            expr: expr.to_owned(),
            reason,
        })?;
        let horizon = spec
            .starts_at
            .checked_add_signed(TimeDelta::days(366 * CRON_LOOKAHEAD_YEARS))
            .unwrap_or(DateTime::<Utc>::MAX_UTC);
        match next_cron(&tz, &cron, spec.starts_at, true) {
            Some(first) if first <= horizon => {}
            _ => return Err(RecurrenceError::CronNeverFires(expr.to_owned())),
        }
        Ok(Self {
            spec: spec.clone(),
            tz,
            schedule: Schedule::Cron(cron),
        })
    }

    /// The validated spec with defaults filled in.
    pub fn spec(&self) -> &RecurrenceSpec {
        &self.spec
    }

    pub fn timezone(&self) -> Tz {
        self.tz
    }

    /// The first occurrence of the rule (at or after `starts_at`).
    pub fn first(&self) -> Option<DateTime<Utc>> {
        self.search(self.spec.starts_at, true)
    }

    /// First occurrence strictly after `after` (and >= starts_at, <= ends_at),
    /// or `None` when the rule has ended.
    pub fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if after < self.spec.starts_at {
            self.search(self.spec.starts_at, true)
        } else {
            self.search(after, false)
        }
    }

    /// Up to `n` occurrences strictly after `after`, in order.
    pub fn occurrences_after(&self, after: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        self.collect(after, None, n)
    }

    /// All occurrences in `(after, until]`, at most `limit` of them (the
    /// earliest ones) — for catching up after downtime.
    pub fn occurrences_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        self.collect(after, Some(until), limit)
    }

    fn collect(
        &self,
        mut after: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        limit: usize,
    ) -> Vec<DateTime<Utc>> {
        // `limit` comes from callers; don't let it size an allocation.
        let mut out = Vec::with_capacity(limit.min(256));
        while out.len() < limit {
            match self.next_after(after) {
                Some(next) if until.is_none_or(|u| next <= u) => {
                    out.push(next);
                    after = next;
                }
                _ => break,
            }
        }
        out
    }

    /// First occurrence at or after `from` (`inclusive`) or strictly after it.
    fn search(&self, from: DateTime<Utc>, inclusive: bool) -> Option<DateTime<Utc>> {
        let found = match &self.schedule {
            Schedule::Calendar {
                time,
                every,
                calendar,
            } => self.search_calendar(*time, *every, calendar, from, inclusive),
            Schedule::Cron(cron) => next_cron(&self.tz, cron, from, inclusive),
        }?;
        match self.spec.ends_at {
            Some(end) if found > end => None,
            _ => Some(found),
        }
    }

    fn search_calendar(
        &self,
        time: NaiveTime,
        every: i64,
        calendar: &Calendar,
        from: DateTime<Utc>,
        inclusive: bool,
    ) -> Option<DateTime<Utc>> {
        let passes = |t: DateTime<Utc>| if inclusive { t >= from } else { t > from };
        let from_local = local_date(&self.tz, from);
        let probe = from_local
            .checked_sub_signed(TimeDelta::days(2))
            .unwrap_or(from_local);
        let elapsed = calendar.period_of(probe);
        let mut period = if elapsed <= 0 {
            0
        } else {
            elapsed.checked_add(every - 1)? / every * every
        };
        let mut dates = Vec::with_capacity(7);
        for _ in 0..MAX_PERIODS_PER_SEARCH {
            dates.clear();
            calendar.dates_in_period(period, &mut dates)?;
            for date in &dates {
                let at = resolve_local(&self.tz, date.and_time(time))?;
                if passes(at) {
                    return Some(at);
                }
            }
            period = period.checked_add(every)?;
        }
        None
    }
}

/// The first instant at or after `from` (`inclusive`) or strictly after it
/// at which `cron` fires in `tz`, by the DST rules documented on
/// [`Recurrence`].
///
/// The `cron` crate answers on a clock without DST (wall clock times read as
/// UTC): its own zone handling skips gap times and reports both instants of
/// an ambiguous one, for every kind of job. Wall clock matches are mapped to
/// instants here; as that mapping is not monotonic next to a DST change, the
/// matches are read from the lowest wall clock time that can still map past
/// `from` until none can beat the best instant found.
fn next_cron(
    tz: &Tz,
    cron: &CronExpr,
    from: DateTime<Utc>,
    inclusive: bool,
) -> Option<DateTime<Utc>> {
    let passes = |t: DateTime<Utc>| if inclusive { t >= from } else { t > from };
    let mut wall = from
        .naive_utc()
        .checked_add_offset(lowest_offset_reaching(tz, from)?)?
        .checked_sub_signed(TimeDelta::nanoseconds(1))?;
    let mut best: Option<(DateTime<Utc>, NaiveDateTime)> = None;
    for _ in 0..MAX_CRON_CANDIDATES {
        // Matches are whole seconds, so the next one is at least a second on.
        let Some(soonest_next) = wall.checked_add_signed(TimeDelta::seconds(1)) else {
            break;
        };
        if best.is_some_and(|(_, stop)| soonest_next >= stop) {
            break;
        }
        let Some(next) = cron.next_after(wall) else {
            break;
        };
        wall = next;
        for at in wall_instants(tz, wall, cron.fixed_time())
            .into_iter()
            .flatten()
        {
            if passes(at) && best.is_none_or(|(b, _)| at < b) {
                let Some(stop) = no_earlier_wall(tz, at) else {
                    return Some(at);
                };
                best = Some((at, stop));
            }
        }
    }
    best.map(|(at, _)| at)
}

/// The instants at which a cron job matching local `wall` fires: a fixed-time
/// job once, resolved like calendar times; a wildcard job at each instant
/// that reads `wall` (none in a gap, two in an overlap).
fn wall_instants(tz: &Tz, wall: NaiveDateTime, fixed_time: bool) -> [Option<DateTime<Utc>>; 2] {
    if fixed_time {
        return [resolve_local(tz, wall), None];
    }
    match tz.from_local_datetime(&wall) {
        LocalResult::Single(at) => [Some(at.with_timezone(&Utc)), None],
        LocalResult::Ambiguous(a, b) => [
            Some(a.min(b).with_timezone(&Utc)),
            Some(a.max(b).with_timezone(&Utc)),
        ],
        LocalResult::None => [None, None],
    }
}

/// A wall clock time from which on no cron match maps to an instant before
/// `at`: `at` read with the largest offset in force just before it.
fn no_earlier_wall(tz: &Tz, at: DateTime<Utc>) -> Option<NaiveDateTime> {
    let highest = [Some(offset_at(tz, at)), nearby_offset(tz, at, false)]
        .into_iter()
        .flatten()
        .max_by_key(FixedOffset::local_minus_utc)?;
    at.naive_utc().checked_add_offset(highest)
}

/// The smallest offset a wall clock reading can have been made with and
/// still map past `from`: the one in force, or the one before a gap that
/// ended less than its length ago, or after an overlap starting within its
/// length.
fn lowest_offset_reaching(tz: &Tz, from: DateTime<Utc>) -> Option<FixedOffset> {
    [
        Some(offset_at(tz, from)),
        nearby_offset(tz, from, false),
        nearby_offset(tz, from, true),
    ]
    .into_iter()
    .flatten()
    .min_by_key(FixedOffset::local_minus_utc)
}

/// The offset on one side of `at` (`ahead` or behind) when it changes there
/// by some Δ within Δ of `at`: only then can wall clock readings made with
/// it and with `at`'s cross. Zones don't change offset twice in a day.
fn nearby_offset(tz: &Tz, at: DateTime<Utc>, ahead: bool) -> Option<FixedOffset> {
    let step = |by: TimeDelta| {
        if ahead {
            at.checked_add_signed(by)
        } else {
            at.checked_sub_signed(by)
        }
    };
    let here = offset_at(tz, at);
    let far = offset_at(tz, step(OFFSET_WINDOW)?);
    let change = (here.local_minus_utc() - far.local_minus_utc()).abs();
    let near = offset_at(tz, step(TimeDelta::seconds(i64::from(change)))?);
    (near != here).then_some(near)
}

fn offset_at(tz: &Tz, at: DateTime<Utc>) -> FixedOffset {
    tz.offset_from_utc_datetime(&at.naive_utc()).fix()
}

impl Calendar {
    /// How many days / weeks / months `date` lies past the anchor period.
    fn period_of(&self, date: NaiveDate) -> i64 {
        match *self {
            Calendar::Daily { anchor } => (date - anchor).num_days(),
            Calendar::Weekly { anchor_monday, .. } => {
                (monday_of(date) - anchor_monday).num_days() / 7
            }
            Calendar::MonthlyDay { anchor_month, .. }
            | Calendar::MonthlyNth { anchor_month, .. } => month_index(date) - anchor_month,
        }
    }

    /// The local dates the rule fires on in period `period`, in order.
    /// `None` only when the date arithmetic leaves chrono's range.
    fn dates_in_period(&self, period: i64, out: &mut Vec<NaiveDate>) -> Option<()> {
        match *self {
            Calendar::Daily { anchor } => {
                out.push(anchor.checked_add_signed(TimeDelta::try_days(period)?)?);
            }
            Calendar::Weekly {
                anchor_monday,
                days,
            } => {
                let monday = anchor_monday.checked_add_signed(TimeDelta::try_weeks(period)?)?;
                for day in days.iter() {
                    out.push(monday.checked_add_signed(TimeDelta::days(i64::from(
                        day.num_days_from_monday(),
                    )))?);
                }
            }
            Calendar::MonthlyDay { anchor_month, day } => {
                let (year, month) = year_month(anchor_month.checked_add(period)?)?;
                let day = day.min(days_in_month(year, month)?);
                out.push(NaiveDate::from_ymd_opt(year, month, day)?);
            }
            Calendar::MonthlyNth {
                anchor_month,
                nth,
                weekday,
            } => {
                let (year, month) = year_month(anchor_month.checked_add(period)?)?;
                out.push(nth_weekday(year, month, nth, weekday)?);
            }
        }
        Some(())
    }
}

fn monthly_calendar(
    spec: &mut RecurrenceSpec,
    start_local: NaiveDate,
) -> Result<Calendar, RecurrenceError> {
    let anchor_month = month_index(start_local);
    match (spec.day_of_month, spec.nth_week) {
        (Some(_), Some(_)) => Err(RecurrenceError::DayOfMonthAndNthWeek),
        (Some(day), None) => {
            if spec.weekdays.is_some() {
                return Err(RecurrenceError::WeekdaysWithoutNthWeek);
            }
            if !(1..=31).contains(&day) {
                return Err(RecurrenceError::DayOfMonthOutOfRange(day));
            }
            Ok(Calendar::MonthlyDay {
                anchor_month,
                day: u32::from(day),
            })
        }
        (None, Some(nth)) => {
            if !(1..=5).contains(&nth) {
                return Err(RecurrenceError::NthWeekOutOfRange(nth));
            }
            let days = spec.weekdays.unwrap_or(WeekdaySet::EMPTY);
            let weekday = days
                .only_day()
                .ok_or(RecurrenceError::NthWeekNeedsOneWeekday(days.len()))?;
            Ok(Calendar::MonthlyNth {
                anchor_month,
                nth,
                weekday,
            })
        }
        (None, None) => {
            if spec.weekdays.is_some() {
                return Err(RecurrenceError::WeekdaysWithoutNthWeek);
            }
            let day = start_local.day();
            // A local day of month is always 1-31.
            spec.day_of_month = u8::try_from(day).ok();
            Ok(Calendar::MonthlyDay { anchor_month, day })
        }
    }
}

/// Refuses the first field in `fields` that is present: each is a name and
/// whether the spec sets it.
fn reject_present(
    pattern: PatternKind,
    fields: &[(&'static str, bool)],
) -> Result<(), RecurrenceError> {
    match fields.iter().find(|(_, present)| *present) {
        Some(&(field, _)) => Err(RecurrenceError::NotAllowedForPattern { field, pattern }),
        None => Ok(()),
    }
}

/// Parses exactly "HH:MM", 24-hour, two digits each.
fn parse_time_of_day(text: &str) -> Result<NaiveTime, RecurrenceError> {
    let bad = || RecurrenceError::InvalidTimeOfDay(text.to_owned());
    let bytes = text.as_bytes();
    if bytes.len() != 5 || bytes[2] != b':' {
        return Err(bad());
    }
    let two_digits = |s: &[u8]| -> Option<u32> {
        match s {
            [a @ b'0'..=b'9', b @ b'0'..=b'9'] => {
                Some(u32::from(a - b'0') * 10 + u32::from(b - b'0'))
            }
            _ => None,
        }
    };
    let hour = two_digits(&bytes[..2]).ok_or_else(bad)?;
    let minute = two_digits(&bytes[3..]).ok_or_else(bad)?;
    NaiveTime::from_hms_opt(hour, minute, 0).ok_or_else(bad)
}

/// Turns a local wall clock time into an instant: a time in a DST gap is
/// read with the offset in force before the gap, which moves it forward by
/// the gap's length; an ambiguous time takes the earlier instant.
fn resolve_local(tz: &Tz, local: NaiveDateTime) -> Option<DateTime<Utc>> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(at) => Some(at.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, later) => Some(earlier.min(later).with_timezone(&Utc)),
        LocalResult::None => {
            // A day before is safely before the transition (zones don't
            // change offset twice in a day).
            let before = local.checked_sub_signed(TimeDelta::days(1))?;
            let offset = tz.offset_from_utc_datetime(&before).fix();
            let utc = local
                .checked_sub_signed(TimeDelta::seconds(i64::from(offset.local_minus_utc())))?;
            Some(Utc.from_utc_datetime(&utc))
        }
    }
}

/// The local wall clock reading of `at`, or `None` past chrono's range.
fn local_naive(tz: &Tz, at: DateTime<Utc>) -> Option<NaiveDateTime> {
    let offset = tz.offset_from_utc_datetime(&at.naive_utc()).fix();
    at.naive_utc().checked_add_offset(offset)
}

/// The local date of `at`; the UTC date at the very ends of chrono's range,
/// where the local one can't be represented.
fn local_date(tz: &Tz, at: DateTime<Utc>) -> NaiveDate {
    local_naive(tz, at).unwrap_or(at.naive_utc()).date()
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    // num_days_from_monday is 0-6, and dates near chrono's minimum are
    // unreachable from a DateTime<Utc> in a real zone.
    date.checked_sub_signed(TimeDelta::days(i64::from(
        date.weekday().num_days_from_monday(),
    )))
    .unwrap_or(date)
}

fn month_index(date: NaiveDate) -> i64 {
    i64::from(date.year()) * 12 + i64::from(date.month0())
}

fn year_month(index: i64) -> Option<(i32, u32)> {
    let year = i32::try_from(index.div_euclid(12)).ok()?;
    let month = u32::try_from(index.rem_euclid(12)).ok()? + 1;
    Some((year, month))
}

fn days_in_month(year: i32, month: u32) -> Option<u32> {
    let first = NaiveDate::from_ymd_opt(year, month, 1)?;
    let next = first.checked_add_months(chrono::Months::new(1))?;
    u32::try_from((next - first).num_days()).ok()
}

/// The `nth` (1–4) or last (5) `weekday` of the month.
fn nth_weekday(year: i32, month: u32, nth: u8, weekday: Weekday) -> Option<NaiveDate> {
    let target = weekday.num_days_from_monday();
    if nth == 5 {
        let last_day = days_in_month(year, month)?;
        let last = NaiveDate::from_ymd_opt(year, month, last_day)?;
        let back = (last.weekday().num_days_from_monday() + 7 - target) % 7;
        NaiveDate::from_ymd_opt(year, month, last_day - back)
    } else {
        let first = NaiveDate::from_ymd_opt(year, month, 1)?;
        let ahead = (target + 7 - first.weekday().num_days_from_monday()) % 7;
        NaiveDate::from_ymd_opt(year, month, 1 + ahead + 7 * (u32::from(nth) - 1))
    }
}
