//! Which provider failures are worth retrying, and what `last_error` says
//! about them. The text is built from our own words, status codes and the
//! provider's error *codes* only, never from request or response bodies at
//! large, so that no credential can end up in it.

use docket_http::HttpFailure;

use crate::record::Attempt;

/// Longest host error text kept.
const MAX_DETAIL_CHARS: usize = 120;

/// Timeouts, 429 and 5xx may pass; other refusals will not.
pub fn transient(status: u16) -> bool {
    status == 408 || status == 429 || status >= 500
}

/// No answer: worth another try, unless the host refused to make the call,
/// which no retry changes.
pub fn unanswered(provider: &str, failure: &HttpFailure) -> Attempt {
    let text = failure.to_string();
    let text: String = text.chars().take(MAX_DETAIL_CHARS).collect();
    let text = format!("{provider}: {text}");
    match failure {
        HttpFailure::NotAllowed => Attempt::Failed(text),
        HttpFailure::Timeout | HttpFailure::Unreachable(_) => Attempt::Retry(text),
    }
}

/// An answer other than success, with the provider's error code if any.
pub fn refused(provider: &str, status: u16, code: Option<&str>) -> Attempt {
    let text = match code {
        Some(code) => format!("{provider}: HTTP {status} {code}"),
        None => format!("{provider}: HTTP {status}"),
    };
    if transient(status) {
        Attempt::Retry(text)
    } else {
        Attempt::Failed(text)
    }
}

/// `text` if it looks like an error code (`UNREGISTERED`, `invalid_grant`),
/// not free text that might quote anything.
pub fn code(text: &str) -> Option<&str> {
    let plausible = (1..=64).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    plausible.then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification() {
        for status in [408, 429, 500, 502, 503, 504] {
            assert!(matches!(refused("p", status, None), Attempt::Retry(_)));
        }
        for status in [400, 401, 403, 404, 413] {
            assert!(matches!(refused("p", status, None), Attempt::Failed(_)));
        }
        assert_eq!(
            unanswered("sendgrid", &HttpFailure::Timeout),
            Attempt::Retry("sendgrid: no answer in time".into())
        );
        assert_eq!(
            unanswered("fcm", &HttpFailure::NotAllowed),
            Attempt::Failed("fcm: the host is not in allowed_outbound_hosts".into())
        );
    }

    #[test]
    fn only_code_like_text_is_kept() {
        assert_eq!(code("UNREGISTERED"), Some("UNREGISTERED"));
        assert_eq!(code("invalid_grant"), Some("invalid_grant"));
        assert_eq!(code("Bearer abc"), None);
        assert_eq!(code(""), None);
    }
}
