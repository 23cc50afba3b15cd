//! Timestamps: the API speaks RFC 3339; storage (SQLite text) uses one fixed
//! UTC form with milliseconds so that text order is time order.

use chrono::{DateTime, SecondsFormat, Utc};

pub fn format_timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses an RFC 3339 timestamp with any offset, as UTC.
pub fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Drops precision below a millisecond, which storage does not keep.
pub fn truncate_to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_normalised_to_utc_with_millis() {
        let at = parse_timestamp("2026-03-01T10:00:00+02:00").unwrap();
        assert_eq!(format_timestamp(at), "2026-03-01T08:00:00.000Z");
        assert!(parse_timestamp("2026-03-01 10:00").is_none());
        assert!(parse_timestamp("tomorrow").is_none());
    }
}
