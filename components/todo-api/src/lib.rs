//! The todo API component: adapts Spin's HTTP, database and variables to
//! `todo-core`, answers, and only then publishes the events the request
//! produced (so a slow or absent broker never slows a response).

mod auth;
mod chat;
mod config;
mod database;
mod llm_http;
mod publish;

use futures::{SinkExt, StreamExt};
use spin_sdk::http::{Fields, IncomingRequest, OutgoingResponse, ResponseOutparam};
use spin_sdk::http_component;
use todo_core::http::{ApiError, MAX_BODY_BYTES, Request, Response};
use todo_core::input::too_large;
use todo_core::routes::{self, Match};
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
    let db = match database::open(&config) {
        Ok(db) => db,
        Err(error) => return send_response(out, database_error(error).into_response()).await,
    };
    let authenticator = auth::for_request(&config, &request).await;
    let ctx = Context {
        db: db.as_ref(),
        now: chrono::Utc::now(),
        auth: &authenticator,
        signing_secret: config.jwt_secret.as_bytes(),
    };
    let is_chat = matches!(
        routes::find(&request.method, &request.path),
        Match::Found(route, _) if route.endpoint.is_chat()
    );
    let (response, events) = if is_chat {
        chat::handle(&config, &ctx, &request).await
    } else {
        let reply = handle_api(&ctx, &request);
        (reply.response, reply.events)
    };
    // The connection goes back to the pool before the broker is called.
    drop(db);
    send_response(out, response).await;
    publish::all(&config, events).await;
}

fn database_error(error: DbError) -> ApiError {
    eprintln!("opening the database: {error}");
    ApiError::from(error)
}

/// Reads the request, refusing bodies over [`MAX_BODY_BYTES`] without
/// buffering them.
async fn read_request(incoming: IncomingRequest) -> Result<Request, ApiError> {
    let method = incoming.method().to_string();
    let path_and_query = incoming.path_with_query().unwrap_or_default();
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path.to_string(), query.to_string()),
        None => (path_and_query, String::new()),
    };
    let headers = incoming
        .headers()
        .entries()
        .into_iter()
        .map(|(name, value)| {
            (
                name.to_ascii_lowercase(),
                String::from_utf8_lossy(&value).into_owned(),
            )
        })
        .collect::<Vec<_>>();
    let declared_length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.trim().parse::<usize>().ok());
    if declared_length.is_some_and(|length| length > MAX_BODY_BYTES) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    let mut stream = incoming.into_body_stream();
    while let Some(chunk) = stream.next().await {
        let chunk =
            chunk.map_err(|_| ApiError::bad_request("the request body could not be read"))?;
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
        }
        body.extend(chunk);
    }
    Ok(Request {
        method,
        path,
        query,
        headers,
        body,
    })
}

async fn send_response(out: ResponseOutparam, response: Response) {
    let headers: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .collect();
    let Ok(fields) = Fields::from_list(&headers) else {
        eprintln!("a response header was invalid; answering 500");
        let outgoing = OutgoingResponse::new(Fields::new());
        let _ = outgoing.set_status_code(500);
        out.set(outgoing);
        return;
    };
    let outgoing = OutgoingResponse::new(fields);
    let _ = outgoing.set_status_code(response.status);
    let mut body = outgoing.take_body();
    out.set(outgoing);
    if !response.body.is_empty() && body.send(response.body).await.is_err() {
        eprintln!("the client went away before the response was written");
    }
    // Dropping the sink finishes the body, and with it the response.
    drop(body);
}
