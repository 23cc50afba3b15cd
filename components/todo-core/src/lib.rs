//! The todo API's logic, independent of the host: requests in, responses and
//! events to publish out. The component supplies the database connection, the
//! clock and token verification.

pub mod http;
pub mod ids;
pub mod input;
pub mod outbox;
mod owned;
pub mod priorities;
pub mod recurring;
pub mod routes;
pub mod scheduler;
pub mod sql;
pub mod tags;
mod task_list;
pub mod tasks;
#[cfg(feature = "testing")]
pub mod testing;
pub mod time;
pub mod users;

use chrono::{DateTime, Utc};

use crate::http::{ApiError, Reply, Request, Response};
use crate::routes::{Access, Endpoint, Match, PathParams};
use crate::sql::Db;

/// The OpenAPI 3.1 description of [`routes::ROUTES`].
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

pub use docket_http::Authenticator;

/// Everything a request is handled with.
pub struct Context<'a> {
    pub db: &'a dyn Db,
    pub now: DateTime<Utc>,
    pub auth: &'a dyn Authenticator,
    /// The HS256 secret the signup and login endpoints sign tokens with.
    pub signing_secret: &'a [u8],
    /// The request's W3C `traceparent`, carried on by the events it causes.
    pub traceparent: Option<&'a str>,
}

impl Context<'_> {
    /// Where the events this request writes come from.
    pub fn origin(&self) -> outbox::Origin<'_> {
        outbox::Origin {
            at: self.now,
            traceparent: self.traceparent,
        }
    }
}

/// Who is calling.
#[derive(Debug, Clone, Copy)]
enum Caller<'a> {
    /// Whoever the request's bearer token names.
    Bearer,
    /// A user the caller has already authenticated (the assistant's tools).
    User(&'a str),
}

/// Handles one request; errors become problem+json responses.
pub fn handle(ctx: &Context, request: &Request) -> Reply {
    respond(ctx, request, Caller::Bearer)
}

/// Handles a request on behalf of `user_id`, who is already authenticated:
/// the same routes and rules, without a token.
pub fn handle_as(ctx: &Context, user_id: &str, request: &Request) -> Reply {
    respond(ctx, request, Caller::User(user_id))
}

fn respond(ctx: &Context, request: &Request, caller: Caller) -> Reply {
    match dispatch(ctx, request, caller) {
        Ok(reply) => reply,
        Err(error) => error.into_logged_response(request).into(),
    }
}

fn dispatch(ctx: &Context, request: &Request, caller: Caller) -> Result<Reply, ApiError> {
    let (route, params) = match routes::find(&request.method, &request.path) {
        Match::Found(route, params) => (route, params),
        // Answers CORS preflights and Dapr's probe of the binding route.
        Match::WrongMethod(methods) if request.method == "OPTIONS" => {
            return Ok(Response::no_content()
                .with_header("allow", allow_header(&methods))
                .into());
        }
        Match::WrongMethod(methods) => {
            return Err(ApiError::new(
                405,
                "Method Not Allowed",
                format!("{} is not allowed here", request.method),
            )
            .header("allow", allow_header(&methods)));
        }
        Match::NotFound => {
            return Err(ApiError::not_found(format!(
                "no route for {}",
                request.path
            )));
        }
    };
    let user_id = match route.access {
        Access::Public => String::new(),
        Access::Owner => authorize(ctx, request, &params, caller)?,
    };
    let user = user_id.as_str();
    let id = || path_id(params.id.as_deref());
    let tag_id = || path_id(params.tag_id.as_deref());
    match route.endpoint {
        Endpoint::OpenApi => Ok(Response {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: OPENAPI_JSON.as_bytes().to_vec(),
        }
        .into()),
        Endpoint::Priorities => priorities::list(ctx),
        Endpoint::Signup => users::signup(ctx, request),
        Endpoint::Login => users::login(ctx, request),
        Endpoint::OutboxRelay => outbox::relay(ctx),
        Endpoint::ListTasks => tasks::list(ctx, user, request),
        Endpoint::CreateTask => tasks::create(ctx, user, request),
        Endpoint::GetTask => tasks::get(ctx, user, id()?),
        Endpoint::UpdateTask => tasks::update(ctx, user, id()?, request),
        Endpoint::DeleteTask => tasks::delete(ctx, user, id()?, request),
        Endpoint::ToggleComplete => tasks::toggle_complete(ctx, user, id()?, request),
        Endpoint::AttachTag => tasks::set_tag(ctx, user, id()?, tag_id()?, true, request),
        Endpoint::DetachTag => tasks::set_tag(ctx, user, id()?, tag_id()?, false, request),
        Endpoint::ListTags => tags::list(ctx, user),
        Endpoint::CreateTag => tags::create(ctx, user, request),
        Endpoint::UpdateTag => tags::update(ctx, user, id()?, request),
        Endpoint::DeleteTag => tags::delete(ctx, user, id()?),
        Endpoint::ListRecurring => recurring::list(ctx, user),
        Endpoint::CreateRecurring => recurring::create(ctx, user, request),
        Endpoint::PreviewSpec => recurring::preview_spec(ctx, request),
        Endpoint::GetRecurring => recurring::get(ctx, user, id()?),
        Endpoint::UpdateRecurring => recurring::update(ctx, user, id()?, request),
        Endpoint::DeleteRecurring => recurring::delete(ctx, user, id()?),
        Endpoint::EnableRecurring => recurring::set_enabled(ctx, user, id()?, true),
        Endpoint::DisableRecurring => recurring::set_enabled(ctx, user, id()?, false),
        Endpoint::PreviewRecurring => recurring::preview(ctx, user, id()?, request),
        // The component routes these to the chat before calling here.
        Endpoint::Chat
        | Endpoint::ReadConversation
        | Endpoint::ForgetConversation
        | Endpoint::Mcp => Err(ApiError::new(
            501,
            "Not Implemented",
            "the chat is not served by this handler",
        )),
    }
}

/// Where a request goes and for whom: the route, its parameters and the
/// authorised user (empty for public routes).
pub fn route_of(
    ctx: &Context,
    request: &Request,
) -> Result<(&'static routes::Route, PathParams, String), ApiError> {
    match routes::find(&request.method, &request.path) {
        Match::Found(route, params) => {
            let user = match route.access {
                Access::Public => String::new(),
                Access::Owner => authorize(ctx, request, &params, Caller::Bearer)?,
            };
            Ok((route, params, user))
        }
        _ => Err(ApiError::not_found(format!(
            "no route for {}",
            request.path
        ))),
    }
}

fn allow_header(methods: &[&str]) -> String {
    let mut methods = methods.to_vec();
    methods.push("OPTIONS");
    methods.join(", ")
}

/// The caller's user, which must be the path's `{user_id}`.
fn authorize(
    ctx: &Context,
    request: &Request,
    params: &PathParams,
    caller: Caller,
) -> Result<String, ApiError> {
    let subject = match caller {
        Caller::User(user_id) => user_id.to_string(),
        Caller::Bearer => bearer_subject(ctx, request)?,
    };
    let user_id = params.user_id.clone().unwrap_or_default();
    if subject != user_id {
        return Err(ApiError::forbidden("the token belongs to another user"));
    }
    Ok(user_id)
}

/// The subject of the request's valid bearer token.
pub fn bearer_subject(ctx: &Context, request: &Request) -> Result<String, ApiError> {
    docket_http::bearer_subject(ctx.auth, request, ctx.now.timestamp())
}

/// A resource id from the path; one that cannot exist is simply not found.
fn path_id(segment: Option<&str>) -> Result<i64, ApiError> {
    segment
        .and_then(|s| s.parse::<i64>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiError::not_found("ids are positive integers; no such resource"))
}
