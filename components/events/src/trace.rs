//! W3C Trace Context (`traceparent`): the id that follows a task from the
//! API request through its events to the notification it causes.

/// A valid `traceparent` value, split into its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent<'a> {
    pub version: &'a str,
    pub trace_id: &'a str,
    pub parent_id: &'a str,
    pub flags: &'a str,
}

impl<'a> TraceParent<'a> {
    /// Parses `version-traceid-parentid-flags`. Version `ff`, all-zero ids,
    /// upper-case hex and (for version `00`) trailing fields are invalid.
    pub fn parse(value: &'a str) -> Option<TraceParent<'a>> {
        let value = value.trim();
        let mut fields = value.splitn(5, '-');
        let parsed = TraceParent {
            version: fields.next()?,
            trace_id: fields.next()?,
            parent_id: fields.next()?,
            flags: fields.next()?,
        };
        let rest = fields.next();
        let well_formed = lower_hex(parsed.version, 2)
            && parsed.version != "ff"
            && lower_hex(parsed.trace_id, 32)
            && lower_hex(parsed.parent_id, 16)
            && lower_hex(parsed.flags, 2)
            && !all_zero(parsed.trace_id)
            && !all_zero(parsed.parent_id)
            && (rest.is_none() || parsed.version != "00");
        well_formed.then_some(parsed)
    }

    /// The same trace continued from the span `parent_id` (16 hex digits).
    pub fn with_parent(&self, parent_id: &str) -> String {
        format!("00-{}-{parent_id}-{}", self.trace_id, self.flags)
    }
}

/// The trace id of a `traceparent`, if it is a valid one.
pub fn trace_id(traceparent: &str) -> Option<&str> {
    TraceParent::parse(traceparent).map(|t| t.trace_id)
}

fn lower_hex(field: &str, len: usize) -> bool {
    field.len() == len
        && field
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn all_zero(field: &str) -> bool {
    field.bytes().all(|b| b == b'0')
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn parses_the_specification_example() {
        let parsed = TraceParent::parse(VALID).unwrap();
        assert_eq!(parsed.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(parsed.parent_id, "00f067aa0ba902b7");
        assert_eq!(parsed.flags, "01");
    }

    #[test]
    fn rejects_malformed_values() {
        for bad in [
            "",
            "garbage",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "0x-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert_eq!(TraceParent::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_later_version_may_carry_more_fields() {
        let value = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future";
        assert_eq!(trace_id(value), Some("4bf92f3577b34da6a3ce929d0e0e4736"));
    }

    #[test]
    fn continuing_keeps_the_trace_and_flags() {
        let parsed = TraceParent::parse(VALID).unwrap();
        assert_eq!(
            parsed.with_parent("b7ad6b7169203331"),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-b7ad6b7169203331-01"
        );
    }
}
