//! The todo API component: adapts Spin's HTTP, database and variables to
//! `todo-core`, answers, and only then publishes the events the request
//! produced (so a slow or absent broker never slows a response).

mod chat;
mod config;
mod relay;

use docket_spin::io::{read_request, send_response};
use docket_spin::publish::Publisher;
use docket_spin::{auth, database, outbox};
use spin_sdk::http::{IncomingRequest, ResponseOutparam};
use spin_sdk::http_component;
use todo_core::http::ApiError;
use todo_core::routes::{self, Endpoint, Match};
use todo_core::sql::DbError;
use todo_core::{Context, handle as handle_api};

use crate::config::Config;

#[http_component]
async fn handle(incoming: IncomingRequest, out: ResponseOutparam) {
    let request = match read_request(incoming).await {
        Ok(request) => request,
        Err(error) => return send_response(out, error.into_response()).await,
    };
    let config = match Config::load() {
        Ok(config) => config,
        Err(error) => return send_response(out, error.into_response()).await,
    };
    let db = match database::open(&config.database_url) {
        Ok(db) => db,
        Err(error) => return send_response(out, database_error(error).into_response()).await,
    };
    let authenticator = auth::for_request(&config.jwt_secret, &config.jwks_url, &request).await;
    let ctx = Context {
        db: db.as_ref(),
        now: chrono::Utc::now(),
        auth: &authenticator,
        signing_secret: config.jwt_secret.as_bytes(),
        traceparent: request.header("traceparent"),
    };
    let endpoint = match routes::find(&request.method, &request.path) {
        Match::Found(route, _) => Some(route.endpoint),
        _ => None,
    };
    let publisher = Publisher {
        dapr_url: config.dapr_url.clone(),
        pubsub: config.pubsub_name.clone(),
    };
    if endpoint == Some(Endpoint::OutboxRelay) {
        let response = relay::drain(&ctx, &request, &publisher).await;
        drop(db);
        return send_response(out, response).await;
    }
    let (response, events) = if endpoint.is_some_and(Endpoint::is_chat) {
        chat::handle(&config, &ctx, &request).await
    } else {
        let reply = handle_api(&ctx, &request);
        (reply.response, reply.events)
    };
    // The connection goes back to the pool before the broker is called.
    drop(db);
    send_response(out, response).await;
    outbox::publish_all(&publisher, &config.database_url, events).await;
}

fn database_error(error: DbError) -> ApiError {
    eprintln!("opening the database: {error}");
    ApiError::from(error)
}
