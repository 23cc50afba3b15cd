//! The `spin-*` request headers Spin sets for a component.

use std::net::SocketAddr;

use docket_manifest::route::{RouteMatch, RoutePattern};
use http::{HeaderMap, HeaderName, HeaderValue};

const PATH_MATCH_PREFIX: &str = "spin-path-match-";

/// Replaces any client-sent `spin-*` headers with the host's own.
pub fn set_spin_headers(
    headers: &mut HeaderMap,
    pattern: &RoutePattern,
    found: &RouteMatch,
    path_and_query: &str,
    client: SocketAddr,
    listen: SocketAddr,
) {
    let spoofed: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("spin-"))
        .cloned()
        .collect();
    for name in spoofed {
        headers.remove(name);
    }
    let host = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_string)
        .unwrap_or_else(|| listen.to_string());
    let mut set = |name: &str, value: &str| {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    };
    set("spin-full-url", &format!("http://{host}{path_and_query}"));
    set("spin-path-info", &found.path_info);
    set("spin-matched-route", pattern.raw());
    set("spin-raw-component-route", pattern.raw());
    set("spin-component-route", pattern.without_wildcard());
    set("spin-base-path", "/");
    set("spin-client-addr", &client.to_string());
    for (name, value) in &found.params {
        set(
            &format!("{PATH_MATCH_PREFIX}{}", name.to_ascii_lowercase()),
            value,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sets_every_header_and_drops_spoofed_ones() {
        let pattern = RoutePattern::parse("/users/:userid/cart/...").unwrap();
        let found = pattern.matches("/users/1/cart/items/3").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("host", "example.com:8080".parse().unwrap());
        headers.insert("spin-client-addr", "6.6.6.6:6".parse().unwrap());
        headers.insert("spin-path-match-admin", "true".parse().unwrap());
        set_spin_headers(
            &mut headers,
            &pattern,
            &found,
            "/users/1/cart/items/3?theme=pink",
            "10.0.0.1:5555".parse().unwrap(),
            "127.0.0.1:3000".parse().unwrap(),
        );
        let get = |name: &str| headers.get(name).map(|v| v.to_str().unwrap().to_string());
        assert_eq!(
            get("spin-full-url").unwrap(),
            "http://example.com:8080/users/1/cart/items/3?theme=pink"
        );
        assert_eq!(get("spin-path-info").unwrap(), "/items/3");
        assert_eq!(
            get("spin-matched-route").unwrap(),
            "/users/:userid/cart/..."
        );
        assert_eq!(
            get("spin-raw-component-route").unwrap(),
            "/users/:userid/cart/..."
        );
        assert_eq!(get("spin-component-route").unwrap(), "/users/:userid/cart");
        assert_eq!(get("spin-base-path").unwrap(), "/");
        assert_eq!(get("spin-client-addr").unwrap(), "10.0.0.1:5555");
        assert_eq!(get("spin-path-match-userid").unwrap(), "1");
        assert_eq!(get("spin-path-match-admin"), None);
    }
}
