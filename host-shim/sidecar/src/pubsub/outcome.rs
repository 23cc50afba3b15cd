//! How daprd reads an app's answer to a delivery (the SUCCESS / RETRY / DROP
//! contract, empty 2xx, 404 and errors).

use docket_telemetry::metrics::DeliveryResult;
use serde_json::Value;

use crate::app_channel::AppResponse;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    /// Acknowledge without processing (`DROP`, or 404): dead-lettered if configured.
    Drop,
    /// Try again under the retry policy; `status` is the HTTP status, if any.
    Retry {
        status: Option<u16>,
    },
}

impl Outcome {
    pub fn metric(&self) -> DeliveryResult {
        match self {
            Outcome::Success => DeliveryResult::Success,
            Outcome::Drop => DeliveryResult::Drop,
            Outcome::Retry { .. } => DeliveryResult::Retry,
        }
    }
}

pub fn classify(result: &Result<AppResponse, reqwest::Error>) -> Outcome {
    let response = match result {
        Ok(response) => response,
        Err(_) => return Outcome::Retry { status: None },
    };
    match response.status {
        404 => Outcome::Drop,
        200..=299 => match serde_json::from_slice::<Value>(&response.body) {
            Ok(Value::Object(body)) => match body.get("status").and_then(Value::as_str) {
                None | Some("") | Some("SUCCESS") => Outcome::Success,
                Some("DROP") => Outcome::Drop,
                // daprd's error for RETRY carries no status code, so a
                // policy's `matching.httpStatusCodes` does not filter it.
                Some(_) => Outcome::Retry { status: None },
            },
            _ => Outcome::Success,
        },
        status => Outcome::Retry {
            status: Some(status),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Outcome {
        classify(&Ok(AppResponse {
            status,
            headers: Default::default(),
            body: body.as_bytes().to_vec().into(),
        }))
    }

    #[test]
    fn reads_answers_as_daprd_does() {
        assert_eq!(answer(200, ""), Outcome::Success);
        assert_eq!(answer(204, ""), Outcome::Success);
        assert_eq!(answer(200, "ok, not json"), Outcome::Success);
        assert_eq!(answer(200, r#"{"status":"SUCCESS"}"#), Outcome::Success);
        assert_eq!(answer(200, r#"{"other":1}"#), Outcome::Success);
        assert_eq!(answer(200, r#"{"status":""}"#), Outcome::Success);
        assert_eq!(answer(200, r#"{"status":"DROP"}"#), Outcome::Drop);
        assert_eq!(
            answer(200, r#"{"status":"RETRY"}"#),
            Outcome::Retry { status: None }
        );
        assert_eq!(
            answer(200, r#"{"status":"retry"}"#),
            Outcome::Retry { status: None }
        );
        assert_eq!(answer(404, ""), Outcome::Drop);
        assert_eq!(answer(500, ""), Outcome::Retry { status: Some(500) });
        assert_eq!(answer(409, ""), Outcome::Retry { status: Some(409) });
        assert_eq!(answer(400, ""), Outcome::Retry { status: Some(400) });
    }
}
