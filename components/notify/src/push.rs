//! A push to each of the user's device tokens, each at most once per event:
//! the record keeps every token's outcome (by fingerprint, so the tokens
//! themselves are not copied into records), and a retry only tries those
//! still pending.

use chrono::{DateTime, Utc};
use docket_http::HttpClient;
use docket_state::{StateStore, StoreError};
use sha2::{Digest, Sha256};

use crate::channel::Delivery;
use crate::fcm::{self, Pushed};
use crate::oauth;
use crate::record::{Attempt, DeliveryRecord, Status, Target};
use crate::settings::Fcm;

/// Pushes to each of `tokens` still pending in `record`.
pub async fn send<H: HttpClient, S: StateStore>(
    delivery: &Delivery<'_, H, S>,
    fcm: &Fcm,
    tokens: &[String],
    record: &mut DeliveryRecord,
    now: DateTime<Utc>,
) -> Result<Attempt, StoreError> {
    let open: Vec<&String> = tokens
        .iter()
        .filter(|token| target(record, token).status == Status::Pending)
        .collect();
    if !open.is_empty() {
        let access_token =
            match oauth::access_token(delivery.http, delivery.store, fcm, now).await? {
                Ok(access_token) => access_token,
                Err(attempt) => return Ok(attempt),
            };
        for token in open {
            let request =
                fcm::request(fcm, &access_token, token, delivery.notice, delivery.message);
            let pushed = fcm::send(delivery.http, &request).await;
            let target = target(record, token);
            match pushed {
                Pushed::Done(attempt) => target.settle(attempt),
                Pushed::Unauthorized => {
                    target.last_error = Some("fcm: HTTP 401 (access token refused)".into());
                    oauth::forget(delivery.store).await?;
                    break;
                }
            }
        }
    }
    Ok(summary(record, tokens))
}

fn fingerprint(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .take(16)
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The record's entry for `token`, added if it has none.
fn target<'r>(record: &'r mut DeliveryRecord, token: &str) -> &'r mut Target {
    let token_sha256 = fingerprint(token);
    let at = match record
        .targets
        .iter()
        .position(|t| t.token_sha256 == token_sha256)
    {
        Some(at) => at,
        None => {
            record.targets.push(Target {
                token_sha256,
                status: Status::Pending,
                provider_message_id: None,
                last_error: None,
            });
            record.targets.len() - 1
        }
    };
    &mut record.targets[at]
}

impl Target {
    fn settle(&mut self, attempt: Attempt) {
        (self.status, self.provider_message_id, self.last_error) = attempt.into_parts();
    }
}

/// The channel's state from its current tokens': pending while any is,
/// sent if any device got it, failed if none can.
fn summary(record: &mut DeliveryRecord, tokens: &[String]) -> Attempt {
    let targets: Vec<Target> = tokens.iter().map(|t| target(record, t).clone()).collect();
    let first_error = |status: Status| {
        targets
            .iter()
            .filter(|t| t.status == status)
            .find_map(|t| t.last_error.clone())
    };
    let failed = targets
        .iter()
        .filter(|t| t.status == Status::Failed)
        .count();
    if targets.iter().any(|t| t.status == Status::Pending) {
        return Attempt::Retry(
            first_error(Status::Pending).unwrap_or_else(|| "fcm: not tried yet".into()),
        );
    }
    match targets.iter().find(|t| t.status == Status::Sent) {
        Some(sent) => Attempt::Sent {
            message_id: sent.provider_message_id.clone(),
            note: first_error(Status::Failed)
                .map(|why| format!("{failed} of {} device tokens failed: {why}", targets.len())),
        },
        None => Attempt::Failed(
            first_error(Status::Failed).unwrap_or_else(|| "fcm: every device token failed".into()),
        ),
    }
}
