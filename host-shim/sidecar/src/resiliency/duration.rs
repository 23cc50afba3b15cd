//! Go duration strings (`"5s"`, `"1m30s"`, `"500ms"`) as Dapr resources write them.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}")]
pub struct DurationError {
    pub input: String,
    pub reason: String,
}

impl DurationError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        Self {
            input: input.to_string(),
            reason: reason.into(),
        }
    }
}

/// Parses a duration the way Go's `time.ParseDuration` does: one or more
/// `<number><unit>` terms (units `ns`, `us`/`µs`, `ms`, `s`, `m`, `h`;
/// fractions allowed, as in `1.5h`), or a bare `0`. Negative durations are
/// rejected because nothing in a resource can use them.
pub fn parse_go_duration(text: &str) -> Result<Duration, DurationError> {
    let body = match text.strip_prefix('+') {
        Some(rest) => rest,
        None if text.starts_with('-') => {
            return Err(DurationError::new(
                text,
                "negative durations are not allowed",
            ));
        }
        None => text,
    };
    if body == "0" {
        return Ok(Duration::ZERO);
    }
    if body.is_empty() {
        return Err(DurationError::new(
            text,
            "expected a number with a unit, such as 5s or 1m30s",
        ));
    }
    let mut total_nanos: u128 = 0;
    let mut rest = body;
    while !rest.is_empty() {
        let (nanos, remaining) =
            parse_term(rest).map_err(|reason| DurationError::new(text, reason))?;
        total_nanos += nanos;
        rest = remaining;
    }
    let nanos = u64::try_from(total_nanos).map_err(|_| DurationError::new(text, "too large"))?;
    Ok(Duration::from_nanos(nanos))
}

/// Durations in policies: a bare integer is milliseconds (as daprd reads
/// resiliency timeouts), anything else a Go duration.
pub fn parse_policy_duration(text: &str) -> Result<Duration, DurationError> {
    let trimmed = text.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let millis = trimmed
            .parse::<u64>()
            .map_err(|_| DurationError::new(text, "too large"))?;
        return Ok(Duration::from_millis(millis));
    }
    parse_go_duration(trimmed)
}

/// One `<number><unit>` term; returns its nanoseconds and the unparsed rest.
fn parse_term(text: &str) -> Result<(u128, &str), String> {
    let whole_len = text.bytes().take_while(u8::is_ascii_digit).count();
    let (whole, after_whole) = text.split_at(whole_len);
    let (fraction, after_number) = match after_whole.strip_prefix('.') {
        Some(after_dot) => {
            let fraction_len = after_dot.bytes().take_while(u8::is_ascii_digit).count();
            after_dot.split_at(fraction_len)
        }
        None => ("", after_whole),
    };
    if whole.is_empty() && fraction.is_empty() {
        return Err(format!("expected a number at {text:?}"));
    }
    let unit_len = after_number
        .char_indices()
        .find(|(_, c)| c.is_ascii_digit() || *c == '.')
        .map_or(after_number.len(), |(index, _)| index);
    let (unit, rest) = after_number.split_at(unit_len);
    let unit_nanos = unit_in_nanos(unit).ok_or_else(|| match unit {
        "" => format!(
            "missing unit after {}",
            &text[..text.len() - after_number.len()]
        ),
        other => format!("unknown unit {other:?} (use ns, us, ms, s, m or h)"),
    })?;
    let too_large = || "too large".to_string();
    let whole_value: u128 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let mut nanos = whole_value.checked_mul(unit_nanos).ok_or_else(too_large)?;
    // Digits past 18 cannot change a nanosecond count below u64::MAX.
    let fraction = &fraction[..fraction.len().min(18)];
    if !fraction.is_empty() {
        let numerator: u128 = fraction.parse().map_err(|_| too_large())?;
        let denominator = 10u128.pow(fraction.len() as u32);
        nanos += numerator * unit_nanos / denominator;
    }
    Ok((nanos, rest))
}

fn unit_in_nanos(unit: &str) -> Option<u128> {
    Some(match unit {
        "ns" => 1,
        "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
        "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" => 60 * 1_000_000_000,
        "h" => 3_600 * 1_000_000_000,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("0", Duration::ZERO),
            ("5s", Duration::from_secs(5)),
            ("+5s", Duration::from_secs(5)),
            ("500ms", Duration::from_millis(500)),
            ("1m30s", Duration::from_secs(90)),
            ("1h", Duration::from_secs(3600)),
            ("2h45m10s", Duration::from_secs(2 * 3600 + 45 * 60 + 10)),
            ("1.5h", Duration::from_secs(5400)),
            (".5s", Duration::from_millis(500)),
            ("5.s", Duration::from_secs(5)),
            ("10us", Duration::from_micros(10)),
            ("10µs", Duration::from_micros(10)),
            ("7ns", Duration::from_nanos(7)),
            ("1s500ms", Duration::from_millis(1500)),
            ("0s", Duration::ZERO),
        ];
        for (text, expected) in cases {
            assert_eq!(parse_go_duration(text), Ok(expected), "{text}");
        }
    }

    #[test]
    fn rejects_garbage_with_the_reason() {
        let cases = [
            ("", "expected a number"),
            ("5", "missing unit"),
            ("5x", "unknown unit \"x\""),
            ("s", "expected a number"),
            ("1h 30m", "unknown unit \"h \""),
            ("-5s", "negative"),
            ("five seconds", "expected a number"),
            (".s", "expected a number"),
            ("99999999999999999999h", "too large"),
        ];
        for (text, reason) in cases {
            let error = parse_go_duration(text).expect_err(text);
            assert!(error.to_string().contains(reason), "{text}: {error}");
            assert!(error.to_string().contains(&format!("{text:?}")), "{error}");
        }
    }

    #[test]
    fn policy_durations_read_bare_integers_as_milliseconds() {
        assert_eq!(parse_policy_duration("250"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_policy_duration("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_policy_duration("2 seconds").is_err());
    }
}
