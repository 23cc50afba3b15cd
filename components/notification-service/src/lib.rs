//! The notification service: Dapr delivers `task-events` (and its
//! dead-letter topic) here; users read and set their notification
//! preferences and see their deliveries and local mailbox under
//! `/api/notifications`. The decisions live in `docket-notify`.

mod config;

use docket_http::{ApiError, Request, Response, bearer_subject};
use docket_notify::{Notifier, Outcome, api, subscriptions};
use docket_spin::auth;
use docket_spin::io::{read_request, send_response};
use docket_spin::outbound::WasiHttp;
use docket_spin::state::DaprStateStore;
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;

use crate::config::Config;

/// Where Dapr delivers `task-events`.
const EVENTS_ROUTE: &str = "/events/task-events";
/// Where Dapr delivers what exhausted its retries.
const DEAD_LETTER_ROUTE: &str = "/events/task-events-dlq";

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let response = match read_request(incoming).await {
        Ok(request) => serve(&request)
            .await
            .unwrap_or_else(|error| error.into_logged_response(&request)),
        Err(error) => error.into_response(),
    };
    send_response(out, response).await;
}

async fn serve(request: &Request) -> Result<Response, ApiError> {
    let config = Config::load()?;
    let store = DaprStateStore {
        dapr_url: config.dapr_url.clone(),
        store: config.statestore_name.clone(),
    };
    let now = chrono::Utc::now();
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/dapr/subscribe") => Ok(Response::json(
            200,
            &subscriptions(&config.pubsub_name, EVENTS_ROUTE, DEAD_LETTER_ROUTE),
        )),
        ("POST", EVENTS_ROUTE | DEAD_LETTER_ROUTE) => {
            let settings = match config.settings().await {
                Ok(settings) => settings,
                // Misconfiguration may be fixed; keep the event for later.
                Err(error) => {
                    let outcome = Outcome::Retry(error.detail.clone());
                    eprintln!("{}: {}", error.detail, error.cause.unwrap_or_default());
                    return Ok(Response::json(200, &outcome.dapr_body()));
                }
            };
            let http = WasiHttp {
                timeout: config.provider_timeout,
            };
            let notifier = Notifier {
                http: &http,
                store: &store,
                settings: &settings,
            };
            let outcome = if request.path == EVENTS_ROUTE {
                notifier.deliver(&request.body, now).await
            } else {
                notifier.dead_letter(&request.body, now).await
            };
            log_outcome(&outcome);
            Ok(Response::json(200, &outcome.dapr_body()))
        }
        (_, path) if path.starts_with("/api/notifications") => {
            let keys = auth::for_request(&config.jwt_secret, &config.jwks_url, request).await;
            let user_id = bearer_subject(&keys, request, now.timestamp())?;
            api::handle(&store, &user_id, request, now).await
        }
        (_, "/dapr/subscribe") => Err(wrong_method("GET")),
        (_, EVENTS_ROUTE | DEAD_LETTER_ROUTE) => Err(wrong_method("POST")),
        _ => Err(ApiError::not_found("no such route")),
    }
}

fn wrong_method(allowed: &str) -> ApiError {
    ApiError::new(405, "Method Not Allowed", format!("use {allowed}"))
        .header("allow", allowed.to_string())
}

fn log_outcome(outcome: &Outcome) {
    match outcome {
        Outcome::Success => {}
        Outcome::Retry(why) => eprintln!("delivery to be retried: {why}"),
        Outcome::Drop(why) => eprintln!("delivery dropped: {why}"),
    }
}
