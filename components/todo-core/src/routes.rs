//! The API's routes, in one table: the dispatcher matches requests against
//! it and the OpenAPI test checks the published document against it.

/// What a matched route does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    OpenApi,
    Priorities,
    Signup,
    Login,
    OutboxRelay,
    ListTasks,
    CreateTask,
    GetTask,
    UpdateTask,
    DeleteTask,
    ToggleComplete,
    AttachTag,
    DetachTag,
    ListTags,
    CreateTag,
    UpdateTag,
    DeleteTag,
    ListRecurring,
    CreateRecurring,
    PreviewSpec,
    GetRecurring,
    UpdateRecurring,
    DeleteRecurring,
    EnableRecurring,
    DisableRecurring,
    PreviewRecurring,
    Chat,
    ReadConversation,
    ForgetConversation,
    Mcp,
}

impl Endpoint {
    /// Served by the assistant (`docket-chat`): the chat, its history and
    /// the MCP server.
    pub fn is_chat(self) -> bool {
        matches!(
            self,
            Self::Chat | Self::ReadConversation | Self::ForgetConversation | Self::Mcp
        )
    }
}

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// A bearer token whose subject is the path's `{user_id}`.
    Owner,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    pub method: &'static str,
    /// Segments in braces are parameters: `{user_id}`, `{id}`, `{tag_id}`.
    pub pattern: &'static str,
    pub endpoint: Endpoint,
    pub access: Access,
}

const fn route(
    method: &'static str,
    pattern: &'static str,
    endpoint: Endpoint,
    access: Access,
) -> Route {
    Route {
        method,
        pattern,
        endpoint,
        access,
    }
}

use Access::{Owner, Public};
use Endpoint as E;

#[rustfmt::skip]
pub const ROUTES: &[Route] = &[
    route("GET", "/api/openapi.json", E::OpenApi, Public),
    route("GET", "/api/priorities", E::Priorities, Public),
    route("POST", "/api/auth/signup", E::Signup, Public),
    route("POST", "/api/auth/login", E::Login, Public),
    // Driven by the Dapr cron binding; it only publishes what is already due.
    route("POST", "/api/internal/outbox-relay", E::OutboxRelay, Public),
    route("GET", "/api/{user_id}/tasks", E::ListTasks, Owner),
    route("POST", "/api/{user_id}/tasks", E::CreateTask, Owner),
    route("GET", "/api/{user_id}/tasks/{id}", E::GetTask, Owner),
    route("PUT", "/api/{user_id}/tasks/{id}", E::UpdateTask, Owner),
    route("DELETE", "/api/{user_id}/tasks/{id}", E::DeleteTask, Owner),
    route("PATCH", "/api/{user_id}/tasks/{id}/complete", E::ToggleComplete, Owner),
    route("PUT", "/api/{user_id}/tasks/{id}/tags/{tag_id}", E::AttachTag, Owner),
    route("DELETE", "/api/{user_id}/tasks/{id}/tags/{tag_id}", E::DetachTag, Owner),
    route("GET", "/api/{user_id}/tags", E::ListTags, Owner),
    route("POST", "/api/{user_id}/tags", E::CreateTag, Owner),
    route("PATCH", "/api/{user_id}/tags/{id}", E::UpdateTag, Owner),
    route("DELETE", "/api/{user_id}/tags/{id}", E::DeleteTag, Owner),
    route("GET", "/api/{user_id}/recurring", E::ListRecurring, Owner),
    route("POST", "/api/{user_id}/recurring", E::CreateRecurring, Owner),
    route("POST", "/api/{user_id}/recurring/preview", E::PreviewSpec, Owner),
    route("GET", "/api/{user_id}/recurring/{id}", E::GetRecurring, Owner),
    route("PATCH", "/api/{user_id}/recurring/{id}", E::UpdateRecurring, Owner),
    route("DELETE", "/api/{user_id}/recurring/{id}", E::DeleteRecurring, Owner),
    route("POST", "/api/{user_id}/recurring/{id}/enable", E::EnableRecurring, Owner),
    route("POST", "/api/{user_id}/recurring/{id}/disable", E::DisableRecurring, Owner),
    route("GET", "/api/{user_id}/recurring/{id}/preview", E::PreviewRecurring, Owner),
    route("POST", "/api/{user_id}/chat", E::Chat, Owner),
    route("GET", "/api/{user_id}/chat/{conversation_id}", E::ReadConversation, Owner),
    route("DELETE", "/api/{user_id}/chat/{conversation_id}", E::ForgetConversation, Owner),
    // The assistant's tools for MCP clients (Streamable HTTP, JSON responses).
    route("POST", "/api/{user_id}/mcp", E::Mcp, Owner),
];

/// The parameters a path matched with.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PathParams {
    pub user_id: Option<String>,
    pub id: Option<String>,
    pub tag_id: Option<String>,
    pub conversation_id: Option<String>,
}

/// How a request matched the table.
#[derive(Debug, PartialEq, Eq)]
pub enum Match {
    Found(&'static Route, PathParams),
    /// The path exists, but not for this method; the methods it has.
    WrongMethod(Vec<&'static str>),
    NotFound,
}

/// Matches `path` against the table. A literal segment beats a parameter, so
/// `/api/auth/login` is never read as user `auth`.
pub fn find(method: &str, path: &str) -> Match {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let mut best: Option<(usize, &'static Route, PathParams)> = None;
    let mut methods = Vec::new();
    for route in ROUTES {
        let Some((literals, params)) = match_pattern(route.pattern, &segments) else {
            continue;
        };
        if route.method != method {
            if !methods.contains(&route.method) {
                methods.push(route.method);
            }
            continue;
        }
        if best.as_ref().is_none_or(|(score, ..)| literals > *score) {
            best = Some((literals, route, params));
        }
    }
    match best {
        Some((_, route, params)) => Match::Found(route, params),
        None if methods.is_empty() => Match::NotFound,
        None => Match::WrongMethod(methods),
    }
}

/// The number of literal segments matched and the parameters, or `None`.
fn match_pattern(pattern: &str, segments: &[&str]) -> Option<(usize, PathParams)> {
    let parts: Vec<&str> = pattern.split('/').collect();
    if parts.len() != segments.len() {
        return None;
    }
    let mut params = PathParams::default();
    let mut literals = 0;
    for (part, segment) in parts.iter().zip(segments) {
        match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            Some(name) => {
                if segment.is_empty() {
                    return None;
                }
                let value = Some(percent_decode(segment)?);
                match name {
                    "user_id" => params.user_id = value,
                    "id" => params.id = value,
                    "conversation_id" => params.conversation_id = value,
                    _ => params.tag_id = value,
                }
            }
            None if part == segment => literals += 1,
            None => return None,
        }
    }
    Some((literals, params))
}

fn percent_decode(segment: &str) -> Option<String> {
    let bytes: Vec<u8> =
        form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned().into_bytes())?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_over_parameters() {
        let Match::Found(route, params) = find("POST", "/api/auth/login") else {
            panic!("no match");
        };
        assert_eq!(route.endpoint, Endpoint::Login);
        assert_eq!(params, PathParams::default());
        let Match::Found(route, _) = find("POST", "/api/alice/recurring/preview") else {
            panic!("no match");
        };
        assert_eq!(route.endpoint, Endpoint::PreviewSpec);
    }

    #[test]
    fn parameters_are_captured_and_decoded() {
        let Match::Found(route, params) = find("DELETE", "/api/al%20ice/tasks/7/tags/3") else {
            panic!("no match");
        };
        assert_eq!(route.endpoint, Endpoint::DetachTag);
        assert_eq!(params.user_id.as_deref(), Some("al ice"));
        assert_eq!(params.id.as_deref(), Some("7"));
        assert_eq!(params.tag_id.as_deref(), Some("3"));
    }

    #[test]
    fn wrong_methods_and_unknown_paths_are_told_apart() {
        assert_eq!(
            find("POST", "/api/alice/tasks/1"),
            Match::WrongMethod(vec!["GET", "PUT", "DELETE"])
        );
        assert_eq!(find("GET", "/api/alice/nothing"), Match::NotFound);
        assert_eq!(find("GET", "/api//tasks"), Match::NotFound);
    }
}
