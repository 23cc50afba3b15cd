//! The recurring-task service: on each call of its cron binding
//! (`POST /recurring-cron`) it turns passed reminders into `task.due` events
//! and due template occurrences into tasks, batch by batch, publishing each
//! batch's events as soon as it is committed. A backlog larger than one
//! call's time budget continues in a new call the service asks its sidecar
//! for, so catching up never waits for the next tick.

use std::time::{Duration, Instant};

use docket_http::{ApiError, Request, Response};
use docket_spin::database;
use docket_spin::io::{read_request, send_response};
use docket_spin::outbox::publish_unordered;
use docket_spin::publish::Publisher;
use docket_spin::vars::{dapr_url, optional};
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Method, Request as OutboundRequest, ResponseOutparam, send};
use spin_sdk::http_component;
use todo_core::scheduler::{Limits, generate_batch, remind_batch};

/// The route the cron binding calls (the binding's name).
const CRON_ROUTE: &str = "/recurring-cron";

/// Work per call; well inside the host's 30 s and daprd's deadlines.
const TIME_BUDGET: Duration = Duration::from_secs(20);

/// Publishes in flight at once. A batch's events each concern another task.
const PUBLISH_CONCURRENCY: usize = 32;

struct Config {
    database_url: String,
    publisher: Publisher,
    /// This service's Dapr app-id, for continuing a backlog.
    app_id: String,
}

impl Config {
    fn load() -> Self {
        let dapr_url = dapr_url();
        Self {
            database_url: optional("database_url", ""),
            publisher: Publisher {
                dapr_url: dapr_url.clone(),
                pubsub: optional("pubsub_name", "pubsub"),
            },
            app_id: optional("app_id", "recurring-task-service"),
        }
    }
}

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let request = match read_request(incoming).await {
        Ok(request) => request,
        Err(error) => return send_response(out, error.into_response()).await,
    };
    if let Err(error) = check_route(&request) {
        return send_response(out, error.into_response()).await;
    }
    let config = Config::load();
    let (response, more) = match run(&config).await {
        Ok(outcome) => (Response::json(200, &outcome.summary()), outcome.more),
        Err(error) => (error.into_logged_response(&request), false),
    };
    send_response(out, response).await;
    if more {
        continue_backlog(&config).await;
    }
}

fn check_route(request: &Request) -> Result<(), ApiError> {
    if request.path != CRON_ROUTE {
        return Err(ApiError::not_found("no such route"));
    }
    // daprd's OPTIONS probe of an input binding accepts 405 as "subscribed".
    match request.method.as_str() {
        "POST" => Ok(()),
        _ => Err(ApiError::new(405, "Method Not Allowed", "use POST")
            .header("allow", "POST".to_string())),
    }
}

/// What one call did.
#[derive(Default)]
struct Outcome {
    templates: usize,
    tasks: usize,
    reminders: usize,
    more: bool,
    elapsed: Duration,
}

impl Outcome {
    fn summary(&self) -> serde_json::Value {
        json!({
            "templates": self.templates,
            "tasks": self.tasks,
            "reminders": self.reminders,
            "more": self.more,
            "elapsed_ms": u64::try_from(self.elapsed.as_millis()).unwrap_or(u64::MAX),
        })
    }
}

/// Runs batches of reminders, then of templates, until nothing is due or
/// the time budget is spent. What a batch could not publish stays in the
/// outbox for the relay.
async fn run(config: &Config) -> Result<Outcome, ApiError> {
    let started = Instant::now();
    let db = database::open(&config.database_url)?;
    let limits = Limits::default();
    let mut outcome = Outcome::default();
    let mut reminders_left = true;
    let mut templates_left = true;
    while (reminders_left || templates_left) && started.elapsed() < TIME_BUDGET {
        let now = chrono::Utc::now();
        let batch = if reminders_left {
            let batch = remind_batch(db.as_ref(), now, limits.reminders)?;
            reminders_left = batch.more;
            outcome.reminders += batch.produced;
            batch
        } else {
            let batch = generate_batch(db.as_ref(), now, limits)?;
            templates_left = batch.more;
            outcome.templates += batch.claimed;
            outcome.tasks += batch.produced;
            batch
        };
        publish_unordered(
            &config.publisher,
            db.as_ref(),
            &batch.events,
            PUBLISH_CONCURRENCY,
        )
        .await;
    }
    outcome.more = reminders_left || templates_left;
    outcome.elapsed = started.elapsed();
    Ok(outcome)
}

/// Asks the sidecar to call this service again, for the rest of a backlog.
async fn continue_backlog(config: &Config) {
    let url = format!(
        "{}/v1.0/invoke/{}/method{CRON_ROUTE}",
        config.publisher.dapr_url, config.app_id
    );
    let request = OutboundRequest::builder()
        .method(Method::Post)
        .uri(url)
        .build();
    match send::<_, spin_sdk::http::Response>(request).await {
        Ok(response) if (200..300).contains(response.status()) => {}
        Ok(response) => eprintln!(
            "continuing the backlog: the sidecar answered {}",
            response.status()
        ),
        Err(error) => eprintln!("continuing the backlog: {error:?}"),
    }
}
