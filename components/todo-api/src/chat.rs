//! The chat routes: the assistant's turn and the conversation history,
//! kept in the Dapr state store.

use std::cell::RefCell;
use std::time::Duration;

use chrono_tz::Tz;
use docket_chat::assistant::Builtin;
use docket_chat::llm::{Llm, LlmConfig};
use docket_chat::service;
use docket_chat::tools::{Answer, TaskApi};
use docket_spin::outbound::WasiHttp;
use docket_spin::state::DaprStateStore;
use serde_json::Value;
use todo_core::http::{ApiError, Request, Response};
use todo_core::outbox::PendingEvent;
use todo_core::routes::Endpoint;
use todo_core::{Context, handle_as, route_of};

use crate::config::Config;

/// The todo API as the assistant's tools call it, for one user; the events
/// its changes produce are kept for publishing after the response.
struct ToolApi<'a> {
    ctx: &'a Context<'a>,
    user_id: &'a str,
    events: RefCell<Vec<PendingEvent>>,
}

impl TaskApi for ToolApi<'_> {
    fn call(&self, method: &str, path: &str, query: &str, body: Option<&Value>) -> Answer {
        let request = Request {
            method: method.to_string(),
            path: format!("/api/{}/{path}", self.user_id),
            query: query.to_string(),
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.map(|b| b.to_string().into_bytes()).unwrap_or_default(),
        };
        let reply = handle_as(self.ctx, self.user_id, &request);
        self.events.borrow_mut().extend(reply.events);
        Answer {
            status: reply.response.status,
            body: serde_json::from_slice(&reply.response.body).unwrap_or(Value::Null),
        }
    }
}

fn timezone(name: Option<&str>) -> Result<Tz, ApiError> {
    match name {
        None => Ok(Tz::UTC),
        Some(name) => name.parse().map_err(|_| {
            ApiError::invalid("timezone", format!("{name:?} is not an IANA timezone"))
        }),
    }
}

/// `POST /api/{user_id}/mcp`: JSON only, answered as JSON (or 202).
fn mcp(api: &ToolApi, request: &Request) -> Result<Response, ApiError> {
    let content_type = request.header("content-type").unwrap_or_default();
    if !content_type
        .to_ascii_lowercase()
        .starts_with("application/json")
    {
        return Err(ApiError::new(
            415,
            "Unsupported Media Type",
            "MCP messages are application/json",
        ));
    }
    let reply = docket_chat::mcp::handle(api, env!("CARGO_PKG_VERSION"), &request.body);
    Ok(match reply.body {
        Some(body) => Response::json(reply.status, &body),
        None => Response {
            status: reply.status,
            headers: Vec::new(),
            body: Vec::new(),
        },
    })
}

/// Serves a chat route; returns the response and the events to publish.
pub async fn handle(
    config: &Config,
    ctx: &Context<'_>,
    request: &Request,
) -> (Response, Vec<PendingEvent>) {
    match serve(config, ctx, request).await {
        Ok(outcome) => outcome,
        Err(error) => (error.into_logged_response(request), Vec::new()),
    }
}

async fn serve(
    config: &Config,
    ctx: &Context<'_>,
    request: &Request,
) -> Result<(Response, Vec<PendingEvent>), ApiError> {
    let (route, params, user_id) = route_of(ctx, request)?;
    let store = DaprStateStore {
        dapr_url: config.dapr_url.clone(),
        store: config.statestore_name.clone(),
    };
    let conversation = params.conversation_id.as_deref().unwrap_or_default();
    match route.endpoint {
        Endpoint::Mcp => {
            let api = ToolApi {
                ctx,
                user_id: &user_id,
                events: RefCell::new(Vec::new()),
            };
            Ok((mcp(&api, request)?, api.events.into_inner()))
        }
        Endpoint::ReadConversation => Ok((
            service::read(&store, &user_id, conversation).await?,
            Vec::new(),
        )),
        Endpoint::ForgetConversation => Ok((
            service::forget(&store, &user_id, conversation).await?,
            Vec::new(),
        )),
        _ => {
            let chat = service::parse(request)?;
            let tz = timezone(chat.timezone.as_deref())?;
            let api = ToolApi {
                ctx,
                user_id: &user_id,
                events: RefCell::new(Vec::new()),
            };
            let now = ctx.now.with_timezone(&tz);
            let new_id = todo_core::ids::new_event_id();
            let answer = if config.llm_base_url.is_empty() {
                let assistant = Builtin { api: &api, now };
                service::turn(&store, &assistant, &user_id, chat, new_id, ctx.now).await
            } else {
                let llm_config = LlmConfig {
                    base_url: config.llm_base_url.clone(),
                    api_key: config.llm_api_key.clone(),
                    model: config.llm_model.clone(),
                };
                let http = WasiHttp {
                    timeout: Duration::from_secs(config.llm_timeout_secs),
                };
                let assistant = Llm {
                    http: &http,
                    config: &llm_config,
                    api: &api,
                    now,
                };
                service::turn(&store, &assistant, &user_id, chat, new_id, ctx.now).await
            };
            let events = api.events.into_inner();
            match answer {
                Ok(answer) => Ok((Response::json(200, &answer), events)),
                // Tool changes already committed still get their events out.
                Err(error) => Ok((error.into_response(), events)),
            }
        }
    }
}
