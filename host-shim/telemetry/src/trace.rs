//! W3C Trace Context at docket's edges: each request or event hop gets a
//! `traceparent` continuing the caller's trace, or starting one.

use docket_events::trace::TraceParent;

/// A fresh trace, sampled.
pub fn new_traceparent() -> String {
    let trace_id = uuid::Uuid::new_v4().simple().to_string();
    format!("00-{trace_id}-{}-01", new_span_id())
}

/// The `traceparent` for the next hop: the incoming trace (when valid)
/// continued under a new span id, otherwise a new trace.
pub fn next_hop(incoming: Option<&str>) -> String {
    match incoming.and_then(TraceParent::parse) {
        Some(parent) => parent.with_parent(&new_span_id()),
        None => new_traceparent(),
    }
}

/// The trace id of a `traceparent` docket made or checked; `-` otherwise.
pub fn trace_id(traceparent: &str) -> &str {
    TraceParent::parse(traceparent).map_or("-", |t| t.trace_id)
}

fn new_span_id() -> String {
    let mut span = uuid::Uuid::new_v4().simple().to_string();
    span.truncate(16);
    span
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_trace_is_valid_and_unique() {
        let (a, b) = (new_traceparent(), new_traceparent());
        assert!(TraceParent::parse(&a).is_some(), "{a}");
        assert_ne!(trace_id(&a), trace_id(&b));
    }

    #[test]
    fn the_next_hop_keeps_a_valid_trace_under_a_new_span() {
        let incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let next = next_hop(Some(incoming));
        let parsed = TraceParent::parse(&next).unwrap();
        assert_eq!(parsed.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(parsed.parent_id, "00f067aa0ba902b7");
        assert_eq!(parsed.flags, "01");
    }

    #[test]
    fn an_invalid_or_missing_trace_starts_a_new_one() {
        for incoming in [None, Some("00-zz-01"), Some("")] {
            let next = next_hop(incoming);
            assert!(TraceParent::parse(&next).is_some(), "{next}");
        }
        assert_eq!(trace_id("junk"), "-");
    }
}
