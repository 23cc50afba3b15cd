//! HTTP route patterns with Spin's matching rules: exact paths, `:name`
//! segments, a trailing `/...` wildcard, and the most specific match winning.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
}

/// One `route = "..."` value from a `[[trigger.http]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutePattern {
    raw: String,
    segments: Vec<Segment>,
    wildcard: bool,
    /// Specificity rank, computed once: routing compares it on every request.
    rank: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("route {route:?}: {reason}")]
    Invalid { route: String, reason: &'static str },
}

/// The outcome of matching a request path against a pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteMatch {
    /// `:name` captures in route order.
    pub params: Vec<(String, String)>,
    /// The part of the path covered by a trailing wildcard (`/items/3`), empty for exact routes.
    pub path_info: String,
}

impl RoutePattern {
    pub fn parse(raw: &str) -> Result<Self, RouteError> {
        let invalid = |reason| RouteError::Invalid {
            route: raw.to_string(),
            reason,
        };
        if raw.contains(['?', '#']) {
            return Err(invalid("a route must not contain a query or fragment"));
        }
        let absolute = raw.strip_prefix('/').unwrap_or(raw);
        let absolute = absolute.strip_suffix('/').unwrap_or(absolute);
        let (body, wildcard) = match absolute.strip_suffix("...") {
            Some(prefix) if prefix.is_empty() || prefix.ends_with('/') => {
                (prefix.trim_end_matches('/'), true)
            }
            Some(_) => return Err(invalid("`...` must be a whole final segment")),
            None => (absolute, false),
        };
        let mut segments = Vec::new();
        if !body.is_empty() {
            for part in body.split('/') {
                segments.push(match part {
                    "" => return Err(invalid("empty path segment")),
                    "..." => return Err(invalid("`...` is only allowed at the end")),
                    _ if part.starts_with(':') => {
                        let name = &part[1..];
                        if name.is_empty() {
                            return Err(invalid("a `:` segment needs a name"));
                        }
                        Segment::Param(name.to_string())
                    }
                    _ => Segment::Literal(part.to_string()),
                });
            }
        }
        let rank = specificity(&segments, wildcard);
        Ok(Self {
            raw: raw.to_string(),
            segments,
            wildcard,
            rank,
        })
    }

    /// The route as written in the manifest (`spin-matched-route`).
    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The route without its trailing wildcard (`spin-component-route`).
    pub fn without_wildcard(&self) -> &str {
        self.raw
            .strip_suffix("/...")
            .or_else(|| self.raw.strip_suffix("..."))
            .unwrap_or(&self.raw)
    }

    /// Two patterns clash when they match exactly the same paths.
    pub fn shape(&self) -> String {
        let mut shape: String = self
            .segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(text) => format!("/{text}"),
                Segment::Param(_) => "/:".to_string(),
            })
            .collect();
        if self.wildcard {
            shape.push_str("/...");
        }
        shape
    }

    /// Matches a request path (without the query string).
    pub fn matches(&self, path: &str) -> Option<RouteMatch> {
        // `rest` is always empty or starts with `/`.
        let mut rest = path;
        let mut params = Vec::new();
        for segment in &self.segments {
            let after_slash = rest.strip_prefix('/')?;
            let end = after_slash.find('/').unwrap_or(after_slash.len());
            let part = &after_slash[..end];
            match segment {
                Segment::Literal(text) if text == part => {}
                Segment::Param(name) if !part.is_empty() => {
                    params.push((name.clone(), part.to_string()));
                }
                _ => return None,
            }
            rest = &after_slash[end..];
        }
        if self.wildcard {
            return Some(RouteMatch {
                params,
                path_info: rest.to_string(),
            });
        }
        // An exact route also answers its path with one trailing slash.
        (rest.is_empty() || rest == "/").then_some(RouteMatch {
            params,
            path_info: String::new(),
        })
    }
}

/// Higher is more specific, compared segment by segment: a literal beats a
/// parameter, which beats the end of a wildcard route; an exact end beats
/// a wildcard end.
fn specificity(segments: &[Segment], wildcard: bool) -> Vec<u8> {
    let mut rank: Vec<u8> = segments
        .iter()
        .map(|segment| match segment {
            Segment::Literal(_) => 3,
            Segment::Param(_) => 2,
        })
        .collect();
    rank.push(if wildcard { 0 } else { 1 });
    rank
}

impl fmt::Display for RoutePattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Routes requests to handlers; the most specific matching pattern wins.
#[derive(Debug, Clone)]
pub struct Router<T> {
    routes: Vec<(RoutePattern, T)>,
}

impl<T> Router<T> {
    /// Builds a router; callers are expected to have rejected clashing
    /// shapes already (see [`RoutePattern::shape`]).
    pub fn new(routes: Vec<(RoutePattern, T)>) -> Self {
        Self { routes }
    }

    pub fn route(&self, path: &str) -> Option<(&RoutePattern, &T, RouteMatch)> {
        self.routes
            .iter()
            .filter_map(|(pattern, handler)| {
                pattern.matches(path).map(|found| (pattern, handler, found))
            })
            .max_by(|a, b| a.0.rank.cmp(&b.0.rank))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[&str]) -> Router<String> {
        Router::new(
            routes
                .iter()
                .map(|r| (RoutePattern::parse(r).unwrap(), r.to_string()))
                .collect(),
        )
    }

    fn winner(router: &Router<String>, path: &str) -> Option<String> {
        router.route(path).map(|(_, handler, _)| handler.clone())
    }

    #[test]
    fn exact_beats_wildcard_and_longest_wildcard_wins() {
        let r = router(&["/...", "/one", "/one/...", "/one/two/..."]);
        assert_eq!(winner(&r, "/one").as_deref(), Some("/one"));
        assert_eq!(winner(&r, "/one/").as_deref(), Some("/one"));
        assert_eq!(winner(&r, "/one/x").as_deref(), Some("/one/..."));
        assert_eq!(
            winner(&r, "/one/two/three").as_deref(),
            Some("/one/two/...")
        );
        assert_eq!(winner(&r, "/other").as_deref(), Some("/..."));
        assert_eq!(winner(&r, "/").as_deref(), Some("/..."));
    }

    #[test]
    fn literal_beats_parameter_beats_wildcard() {
        let r = router(&["/users/...", "/users/:id", "/users/me"]);
        assert_eq!(winner(&r, "/users/me").as_deref(), Some("/users/me"));
        assert_eq!(winner(&r, "/users/7").as_deref(), Some("/users/:id"));
        assert_eq!(winner(&r, "/users/7/cart").as_deref(), Some("/users/..."));
        assert_eq!(winner(&r, "/users").as_deref(), Some("/users/..."));
    }

    #[test]
    fn no_match_without_catch_all() {
        let r = router(&["/api/...", "/health"]);
        assert_eq!(winner(&r, "/apix"), None);
        assert_eq!(winner(&r, "/health/x"), None);
        assert_eq!(winner(&r, "/"), None);
    }

    #[test]
    fn captures_params_and_path_info() {
        let pattern = RoutePattern::parse("/users/:userid/cart/...").unwrap();
        let found = pattern.matches("/users/1/cart/items/3/edit").unwrap();
        assert_eq!(found.params, vec![("userid".to_string(), "1".to_string())]);
        assert_eq!(found.path_info, "/items/3/edit");
        assert_eq!(pattern.without_wildcard(), "/users/:userid/cart");
        assert_eq!(pattern.matches("/users/1/cart").unwrap().path_info, "");
        assert_eq!(pattern.matches("/users/1/cart/").unwrap().path_info, "/");
        assert_eq!(pattern.matches("/users//cart"), None);
    }

    #[test]
    fn catch_all_keeps_whole_path_as_info() {
        let pattern = RoutePattern::parse("/...").unwrap();
        assert_eq!(pattern.matches("/a/b").unwrap().path_info, "/a/b");
        assert_eq!(pattern.matches("/").unwrap().path_info, "/");
        assert_eq!(pattern.without_wildcard(), "");
    }

    #[test]
    fn shapes_ignore_parameter_names() {
        let a = RoutePattern::parse("/a/:x").unwrap();
        let b = RoutePattern::parse("/a/:y/").unwrap();
        assert_eq!(a.shape(), b.shape());
        assert_ne!(a.shape(), RoutePattern::parse("/a/...").unwrap().shape());
    }

    #[test]
    fn rejects_malformed_routes() {
        for bad in ["/a/.../b", "/a...", "/a//b", "/:", "/a?x=1"] {
            assert!(
                RoutePattern::parse(bad).is_err(),
                "{bad} should be rejected"
            );
        }
    }
}
