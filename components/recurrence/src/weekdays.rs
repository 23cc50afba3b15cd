//! A set of weekdays, stored as the `recurring_tasks.weekdays` bitmask.

use std::fmt;

use chrono::Weekday;
use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

const SHORT_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const FULL_NAMES: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// A set of weekdays: bit 0 = Monday … bit 6 = Sunday, as in the database.
///
/// In JSON it is an array of lowercase three-letter names
/// (`["mon","thu"]`, Monday first). Input also accepts full names in any
/// case (`"Tuesday"`, `"FRI"`); an unknown name or an empty list is an error,
/// and repeated names are kept once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct WeekdaySet(u8);

impl WeekdaySet {
    /// The set with no day in it. Only a builder's starting point: a rule
    /// never accepts it.
    pub const EMPTY: WeekdaySet = WeekdaySet(0);

    /// The bitmask as the database stores it (1–127 for a non-empty set).
    pub fn bits(self) -> u8 {
        self.0
    }

    /// Reads the database bitmask; `None` when a bit above bit 6 is set.
    pub fn from_bits(bits: u8) -> Option<Self> {
        (bits & 0x80 == 0).then_some(Self(bits))
    }

    /// A set holding only `day`.
    pub fn single(day: Weekday) -> Self {
        Self::EMPTY.with(day)
    }

    /// This set with `day` added.
    #[must_use]
    pub fn with(self, day: Weekday) -> Self {
        Self(self.0 | 1 << day.num_days_from_monday())
    }

    pub fn contains(self, day: Weekday) -> bool {
        self.0 & (1 << day.num_days_from_monday()) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The days in the set, Monday first.
    pub fn iter(self) -> impl Iterator<Item = Weekday> {
        ALL_DAYS.into_iter().filter(move |d| self.contains(*d))
    }

    /// The one day in the set, if it holds exactly one.
    pub fn only_day(self) -> Option<Weekday> {
        if self.len() == 1 {
            self.iter().next()
        } else {
            None
        }
    }

    /// Parses a day name: three-letter or full English name, any case.
    pub fn parse_day(name: &str) -> Option<Weekday> {
        let lower = name.trim().to_ascii_lowercase();
        SHORT_NAMES
            .iter()
            .zip(FULL_NAMES)
            .position(|(short, full)| lower == *short || lower == full)
            .map(|i| ALL_DAYS[i])
    }
}

impl FromIterator<Weekday> for WeekdaySet {
    fn from_iter<I: IntoIterator<Item = Weekday>>(iter: I) -> Self {
        iter.into_iter().fold(Self::EMPTY, Self::with)
    }
}

impl Serialize for WeekdaySet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for day in self.iter() {
            seq.serialize_element(SHORT_NAMES[day.num_days_from_monday() as usize])?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for WeekdaySet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetVisitor;

        impl<'de> Visitor<'de> for SetVisitor {
            type Value = WeekdaySet;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty array of weekday names such as [\"mon\", \"thu\"]")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<WeekdaySet, A::Error> {
                let mut set = WeekdaySet::EMPTY;
                while let Some(name) = seq.next_element::<&str>()? {
                    let day = WeekdaySet::parse_day(name).ok_or_else(|| {
                        de::Error::custom(format!("weekdays: unknown weekday '{name}'"))
                    })?;
                    set = set.with(day);
                }
                if set.is_empty() {
                    return Err(de::Error::custom("weekdays: list must not be empty"));
                }
                Ok(set)
            }
        }

        deserializer.deserialize_seq(SetVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_follow_the_database_layout() {
        let set: WeekdaySet = [Weekday::Mon, Weekday::Sun].into_iter().collect();
        assert_eq!(set.bits(), 0b100_0001);
        assert_eq!(WeekdaySet::from_bits(0b100_0001), Some(set));
        assert_eq!(WeekdaySet::from_bits(0x80), None);
        assert_eq!(set.iter().collect::<Vec<_>>(), [Weekday::Mon, Weekday::Sun]);
    }

    #[test]
    fn serializes_as_short_lowercase_names_monday_first() {
        let set: WeekdaySet = [Weekday::Thu, Weekday::Tue].into_iter().collect();
        assert_eq!(serde_json::to_string(&set).unwrap(), r#"["tue","thu"]"#);
    }

    #[test]
    fn accepts_full_names_in_any_case() {
        let set: WeekdaySet = serde_json::from_str(r#"["Tuesday","FRI","sunday","tue"]"#).unwrap();
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Weekday::Tue, Weekday::Fri, Weekday::Sun]
        );
    }

    #[test]
    fn rejects_unknown_name_and_empty_list() {
        let err = serde_json::from_str::<WeekdaySet>(r#"["mon","funday"]"#).unwrap_err();
        assert!(
            err.to_string().contains("unknown weekday 'funday'"),
            "{err}"
        );
        let err = serde_json::from_str::<WeekdaySet>("[]").unwrap_err();
        assert!(err.to_string().contains("must not be empty"), "{err}");
    }

    #[test]
    fn only_day_needs_exactly_one() {
        assert_eq!(
            WeekdaySet::single(Weekday::Fri).only_day(),
            Some(Weekday::Fri)
        );
        let two: WeekdaySet = [Weekday::Mon, Weekday::Fri].into_iter().collect();
        assert_eq!(two.only_day(), None);
    }
}
