//! Reading client input: JSON bodies, query strings and the text rules every
//! field follows. Syntax errors are 400, well-formed input that breaks a rule
//! is 422 naming the field, a body that is not JSON at all is 415.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::http::{ApiError, MAX_BODY_BYTES, Request};
use crate::time::{parse_timestamp, truncate_to_millis};

/// Parses the request body as JSON into `T` (which should deny unknown fields).
pub fn json_body<T: DeserializeOwned>(request: &Request) -> Result<T, ApiError> {
    let content_type = request.header("content-type").unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        return Err(ApiError::new(
            415,
            "Unsupported Media Type",
            format!(
                "expected content-type application/json, got {:?}",
                truncate(content_type, 100)
            ),
        )
        .header("accept", "application/json".to_string()));
    }
    if request.body.len() > MAX_BODY_BYTES {
        return Err(ApiError::too_large());
    }
    let text = std::str::from_utf8(&request.body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(ApiError::bad_request(
            "the body is empty; expected a JSON object",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        body_error(e.into_inner(), &field)
    })?;
    deserializer.end().map_err(|e| body_error(e, "."))?;
    Ok(value)
}

/// Malformed JSON is 400; JSON of the wrong shape is 422, naming the member
/// (`recurrence.starts_at`, `tag_ids[0]`) unless it is the body as a whole.
fn body_error(error: serde_json::Error, field: &str) -> ApiError {
    use serde_json::error::Category;
    match error.classify() {
        // `.` is the body itself; `[0]` an element of a body that is not an object.
        Category::Data if field == "." || field.starts_with('[') => {
            ApiError::new(422, "Unprocessable Content", error.to_string())
        }
        Category::Data => ApiError::invalid(field, format!("{field}: {error}")),
        _ => ApiError::bad_request(format!("malformed JSON: {error}")),
    }
}

/// The query string as name/value pairs; names outside `allowed` are rejected
/// so that a typo does not silently return everything.
pub fn query_pairs(request: &Request, allowed: &[&str]) -> Result<Vec<(String, String)>, ApiError> {
    let pairs: Vec<(String, String)> = form_urlencoded::parse(request.query.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if let Some((name, _)) = pairs
        .iter()
        .find(|(name, _)| !allowed.contains(&name.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "unknown query parameter {:?}; allowed: {}",
            truncate(name, 60),
            allowed.join(", ")
        )));
    }
    Ok(pairs)
}

fn truncate(text: &str, max_chars: usize) -> String {
    text.chars().take(max_chars).collect()
}

/// A single-line name such as a title: trimmed, 1..=max characters, no
/// control characters.
pub fn line(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(
            field,
            format!("{field} must not be empty"),
        ));
    }
    let count = value.chars().count();
    if count > max_chars {
        return Err(ApiError::invalid(
            field,
            format!("{field} is {count} characters; the limit is {max_chars}"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(value.to_string())
}

/// Free text such as a description: up to max characters; newlines and tabs
/// are fine, other control characters (NUL above all) are not.
pub fn text(field: &str, value: &str, max_chars: usize) -> Result<String, ApiError> {
    let count = value.chars().count();
    if count > max_chars {
        return Err(ApiError::invalid(
            field,
            format!("{field} is {count} characters; the limit is {max_chars}"),
        ));
    }
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ApiError::invalid(
            field,
            format!("{field} must not contain control characters"),
        ));
    }
    Ok(value.to_string())
}

pub fn timestamp(field: &str, value: &str) -> Result<DateTime<Utc>, ApiError> {
    parse_timestamp(value)
        .map(truncate_to_millis)
        .ok_or_else(|| {
            ApiError::invalid(
                field,
                format!("{field} must be an RFC 3339 timestamp such as 2026-12-01T09:00:00Z"),
            )
        })
}

pub fn opt_timestamp(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, ApiError> {
    value.map(|v| timestamp(field, v)).transpose()
}

/// For PATCH-like bodies: absent → `None` (leave alone), `null` → `Some(None)`
/// (clear), a value → `Some(Some(value))`.
pub fn double_option<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

pub fn parse_bool(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::bad_request(format!(
            "{name} must be true or false"
        ))),
    }
}

pub fn parse_int(name: &str, value: &str, min: i64, max: i64) -> Result<i64, ApiError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| {
            ApiError::bad_request(format!("{name} must be an integer from {min} to {max}"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::Value;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
    }

    fn request(content_type: &str, body: &[u8]) -> Request {
        Request {
            method: "POST".into(),
            headers: vec![("content-type".into(), content_type.into())],
            body: body.to_vec(),
            ..Request::default()
        }
    }

    #[test]
    fn body_errors_have_precise_statuses() {
        let status =
            |ct: &str, body: &[u8]| json_body::<Body>(&request(ct, body)).unwrap_err().status;
        assert_eq!(status("text/plain", b"{}"), 415);
        assert_eq!(status("application/json", b"{\"title\":"), 400);
        assert_eq!(status("application/json", b"\xff\xfe"), 400);
        assert_eq!(status("application/json", b""), 400);
        assert_eq!(
            status("application/json", b"{\"title\":\"a\",\"x\":1}"),
            422
        );
        assert_eq!(status("application/json", b"{\"title\":5}"), 422);
        let big = vec![b' '; MAX_BODY_BYTES + 1];
        assert_eq!(status("application/json", &big), 413);
        assert!(
            json_body::<Body>(&request(
                "application/json; charset=utf-8",
                b"{\"title\":\"a\"}"
            ))
            .is_ok()
        );
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Nested {
        when: Inner,
        ids: Vec<i64>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        at: chrono::DateTime<chrono::Utc>,
    }

    fn field_of(body: &str) -> (u16, Option<Value>) {
        let error = json_body::<Nested>(&request("application/json", body.as_bytes())).unwrap_err();
        let field = error.extra.iter().find(|(name, _)| *name == "field");
        (error.status, field.map(|(_, value)| value.clone()))
    }

    #[test]
    fn a_member_of_the_wrong_shape_is_named() {
        let at = |f: &str| (422, Some(Value::String(f.to_string())));
        assert_eq!(
            field_of(r#"{"when": {"at": "'; DROP TABLE tasks; --"}, "ids": []}"#),
            at("when.at")
        );
        assert_eq!(
            field_of(r#"{"when": {"at": "2030-01-01T00:00:00Z"}, "ids": [1, "x"]}"#),
            at("ids[1]")
        );
        assert_eq!(field_of(r#"{"when": 5, "ids": []}"#), at("when"));
        // The body as a whole is not a member.
        assert_eq!(field_of("[1]"), (422, None));
        assert_eq!(
            field_of(r#"{"when": {"at": "2030-01-01T00:00:00Z"}, "ids": []} x"#).0,
            400
        );
    }

    #[test]
    fn lines_are_trimmed_bounded_and_free_of_control_characters() {
        assert_eq!(line("title", "  hi  ", 10).unwrap(), "hi");
        assert_eq!(line("title", "   ", 10).unwrap_err().status, 422);
        assert_eq!(line("title", &"x".repeat(11), 10).unwrap_err().status, 422);
        assert_eq!(line("title", "a\0b", 10).unwrap_err().status, 422);
        assert_eq!(
            line("title", "'; DROP TABLE tasks; --", 100).unwrap(),
            "'; DROP TABLE tasks; --"
        );
        assert!(text("description", "line one\nline two\t", 100).is_ok());
        assert!(text("description", "nul\0", 100).is_err());
    }

    #[test]
    fn unknown_query_parameters_are_rejected() {
        let request = Request {
            query: "status=all&colour=red".into(),
            ..Request::default()
        };
        let error = query_pairs(&request, &["status"]).unwrap_err();
        assert_eq!(error.status, 400);
        assert!(error.detail.contains("colour"));
    }
}
