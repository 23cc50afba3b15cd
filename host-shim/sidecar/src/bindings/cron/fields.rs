//! One cron field (`*/5`, `1-10/2`, `MON-FRI`, `JAN,JUL`) parsed into a bit set.

/// The value range and names of one field position.
pub(super) struct FieldKind {
    pub name: &'static str,
    min: u32,
    max: u32,
    names: &'static [&'static str],
    hint: &'static str,
}

pub(super) const SECOND: FieldKind = FieldKind {
    name: "second",
    min: 0,
    max: 59,
    names: &[],
    hint: "",
};
pub(super) const MINUTE: FieldKind = FieldKind {
    name: "minute",
    ..SECOND
};
pub(super) const HOUR: FieldKind = FieldKind {
    name: "hour",
    max: 23,
    ..SECOND
};
pub(super) const DAY_OF_MONTH: FieldKind = FieldKind {
    name: "day-of-month",
    min: 1,
    max: 31,
    ..SECOND
};
pub(super) const MONTH: FieldKind = FieldKind {
    name: "month",
    min: 1,
    max: 12,
    names: &[
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    hint: "",
};
pub(super) const DAY_OF_WEEK: FieldKind = FieldKind {
    name: "day-of-week",
    min: 0,
    max: 6,
    names: &["sun", "mon", "tue", "wed", "thu", "fri", "sat"],
    hint: " (Sunday is 0 or SUN)",
};

/// The values a field allows; `star` records a `*`/`?` without a step,
/// which changes how day-of-month and day-of-week combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Field {
    bits: u64,
    pub star: bool,
}

impl Field {
    pub fn contains(self, value: u32) -> bool {
        value < 64 && self.bits & (1 << value) != 0
    }

    pub fn only(value: u32) -> Self {
        Self {
            bits: 1 << value,
            star: false,
        }
    }

    pub fn every(kind: &FieldKind) -> Self {
        Self {
            bits: bits(kind.min, kind.max, 1),
            star: true,
        }
    }
}

/// Parses a comma-separated list of `*`, `?`, `N`, `A-B`, each optionally
/// followed by `/step`; `N/step` means `N-max/step`, as in robfig/cron.
pub(super) fn parse_field(text: &str, kind: &FieldKind) -> Result<Field, String> {
    let fail = |reason: String| format!("{} field {text:?}: {reason}", kind.name);
    let mut field = Field {
        bits: 0,
        star: false,
    };
    for item in text.split(',') {
        if item.is_empty() {
            return Err(fail("empty list item".to_string()));
        }
        let (range, step_text) = match item.split_once('/') {
            Some((range, step)) => (range, Some(step)),
            None => (item, None),
        };
        let step = match step_text {
            None => 1,
            Some(step) => match step.parse::<u32>() {
                Ok(0) => return Err(fail(format!("step in {item:?} must be positive"))),
                Ok(step) => step,
                Err(_) => return Err(fail(format!("step {step:?} in {item:?} is not a number"))),
            },
        };
        let (start, end, star) = if range == "*" || range == "?" {
            (kind.min, kind.max, step == 1)
        } else {
            let (start, end) = match range.split_once('-') {
                Some((low, high)) => (
                    value(low, kind).map_err(fail)?,
                    value(high, kind).map_err(fail)?,
                ),
                None if step_text.is_some() => (value(range, kind).map_err(fail)?, kind.max),
                None => {
                    let single = value(range, kind).map_err(fail)?;
                    (single, single)
                }
            };
            (start, end, false)
        };
        if start < kind.min {
            return Err(fail(format!(
                "{start} is below the minimum {}{}",
                kind.min, kind.hint
            )));
        }
        if end > kind.max {
            return Err(fail(format!(
                "{end} is above the maximum {}{}",
                kind.max, kind.hint
            )));
        }
        if start > end {
            return Err(fail(format!("range {item:?} starts after it ends")));
        }
        field.bits |= bits(start, end, step);
        field.star |= star;
    }
    Ok(field)
}

fn value(text: &str, kind: &FieldKind) -> Result<u32, String> {
    let lower = text.to_ascii_lowercase();
    if let Some(index) = kind.names.iter().position(|name| *name == lower) {
        return Ok(kind.min + index as u32);
    }
    text.parse::<u32>().map_err(|_| {
        if kind.names.is_empty() {
            format!("{text:?} is not a number")
        } else {
            format!(
                "{text:?} is not a number or a name such as {}",
                kind.names[1].to_ascii_uppercase()
            )
        }
    })
}

fn bits(start: u32, end: u32, step: u32) -> u64 {
    (start..=end.min(63))
        .step_by(step as usize)
        .fold(0, |bits, value| bits | (1 << value))
}
