//! A request against the site's table: method, path, fallback, encoding,
//! revalidation, and the headers every answer carries.

use docket_http::{ApiError, Request, Response};

use crate::conditional::none_match;
use crate::encoding::negotiate;
use crate::path::{has_extension, normalize};
use crate::{Asset, Encoding, Site};

/// The methods the site answers.
pub const ALLOW: &str = "GET, HEAD";

/// Scripts, styles and API calls from the site's own origin only. Vite's
/// build loads its module script and stylesheet from `/assets/` and inlines
/// small images and fonts as `data:` URLs; it writes no inline script.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; connect-src 'self'; img-src 'self' data:; font-src 'self' data:; \
     manifest-src 'self'; worker-src 'self'; object-src 'none'; base-uri 'self'; \
     form-action 'self'; frame-ancestors 'none'";

const SECURITY_HEADERS: [(&str, &str); 4] = [
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("x-frame-options", "DENY"),
];

/// The answer to `request`, whatever it is: never a server error.
pub fn serve(site: &Site, request: &Request) -> Response {
    let mut response = answer(site, request).unwrap_or_else(ApiError::into_response);
    for (name, value) in SECURITY_HEADERS {
        response.headers.push((name.into(), value.into()));
    }
    response
}

fn answer(site: &Site, request: &Request) -> Result<Response, ApiError> {
    let path = normalize(&request.path).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let asset = locate(site, &path, accepts_html(request))?;
    let head = match request.method.as_str() {
        "GET" => false,
        "HEAD" => true,
        other => {
            return Err(ApiError::new(
                405,
                "Method Not Allowed",
                format!("{other} is not allowed here; the site is read-only"),
            )
            .header("allow", ALLOW.to_string()));
        }
    };
    let available: Vec<Encoding> = asset.encodings().collect();
    let encoding = negotiate(joined(request, "accept-encoding").as_deref(), &available)
        .ok_or_else(|| {
            ApiError::new(
                406,
                "Not Acceptable",
                "Accept-Encoding refuses every coding this file is available in \
                 (identity, gzip, br)",
            )
            .header("vary", "Accept-Encoding".to_string())
        })?;
    let Some(body) = asset.body(encoding) else {
        return Err(ApiError::internal("the negotiated body is missing"));
    };
    let mut response = Response {
        status: 200,
        headers: vec![
            ("etag".into(), body.etag.into()),
            ("cache-control".into(), asset.cache.header().into()),
            ("vary".into(), "Accept-Encoding".into()),
        ],
        body: Vec::new(),
    };
    if joined(request, "if-none-match").is_some_and(|tags| none_match(&tags, body.etag)) {
        response.status = 304;
        return Ok(response);
    }
    response
        .headers
        .push(("content-type".into(), asset.content_type.into()));
    if let Some(coding) = encoding.header() {
        response
            .headers
            .push(("content-encoding".into(), coding.into()));
    }
    response
        .headers
        .push(("content-length".into(), body.bytes.len().to_string()));
    if !head {
        response.body = body.bytes.to_vec();
    }
    Ok(response)
}

/// The file at `path`; for an app route (no extension) asked for by a page
/// navigation, the index. Other clients (a Dapr sidecar probing `/dapr/config`
/// or an input binding's route) get 404 for a path with no file, as from any
/// app that does not serve it.
fn locate(site: &Site, path: &str, navigation: bool) -> Result<&'static Asset, ApiError> {
    let exact = if path == "/" {
        site.find(site.index)
    } else {
        site.find(path)
    };
    let fallback = || {
        (navigation && !has_extension(path))
            .then(|| site.find(site.index))
            .flatten()
    };
    exact
        .or_else(fallback)
        .ok_or_else(|| ApiError::not_found(format!("no file at {path}")))
}

/// Whether `Accept` names `text/html` with a quality above zero, as a
/// browser's navigation does.
fn accepts_html(request: &Request) -> bool {
    joined(request, "accept").is_some_and(|accept| {
        accept.split(',').any(|range| {
            let mut parts = range.split(';').map(str::trim);
            let media = parts.next().unwrap_or_default();
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            media.eq_ignore_ascii_case("text/html") && !refused
        })
    })
}

/// Every value of header `name`, comma-joined as RFC 9110 allows for lists.
fn joined(request: &Request, name: &str) -> Option<String> {
    let values: Vec<&str> = request
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Body, Cache};
    use serde_json::Value;

    const INDEX_HTML: &[u8] = b"<!doctype html><title>Docket</title>";
    const APP_JS: &[u8] = b"console.log('docket');console.log('docket');";

    static ASSETS: &[Asset] = &[
        Asset {
            path: "/assets/app-Ab12Cd34.js",
            content_type: "text/javascript; charset=utf-8",
            cache: Cache::Immutable,
            identity: Body {
                bytes: APP_JS,
                etag: "\"js1\"",
            },
            gzip: Some(Body {
                bytes: b"gzip-bytes",
                etag: "\"js1-gzip\"",
            }),
            br: Some(Body {
                bytes: b"br-bytes",
                etag: "\"js1-br\"",
            }),
        },
        Asset {
            path: "/favicon.png",
            content_type: "image/png",
            cache: Cache::Revalidate,
            identity: Body {
                bytes: b"\x89PNG",
                etag: "\"png1\"",
            },
            gzip: None,
            br: None,
        },
        Asset {
            path: "/index.html",
            content_type: "text/html; charset=utf-8",
            cache: Cache::Revalidate,
            identity: Body {
                bytes: INDEX_HTML,
                etag: "\"html1\"",
            },
            gzip: Some(Body {
                bytes: b"gz-html",
                etag: "\"html1-gzip\"",
            }),
            br: None,
        },
    ];

    const SITE: Site = Site {
        assets: ASSETS,
        index: "/index.html",
    };

    fn request(method: &str, path: &str, headers: &[(&str, &str)]) -> Response {
        let request = Request {
            method: method.into(),
            path: path.into(),
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            ..Request::default()
        };
        serve(&SITE, &request)
    }

    fn get(path: &str) -> Response {
        request("GET", path, &[])
    }

    const NAVIGATION: (&str, &str) = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");

    fn navigate(path: &str) -> Response {
        request("GET", path, &[NAVIGATION])
    }

    fn problem(response: &Response) -> Value {
        assert_eq!(
            response.header("content-type"),
            Some("application/problem+json")
        );
        serde_json::from_slice(&response.body).unwrap()
    }

    #[test]
    fn serves_the_index_at_the_root_without_caching() {
        let response = get("/");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, INDEX_HTML);
        assert_eq!(
            response.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(response.header("cache-control"), Some("no-cache"));
        assert_eq!(response.header("etag"), Some("\"html1\""));
        assert_eq!(response.header("content-length"), Some("36"));
        assert_eq!(response.header("content-encoding"), None);
        assert_eq!(get("/index.html").body, INDEX_HTML);
    }

    #[test]
    fn serves_hashed_assets_as_immutable() {
        let response = get("/assets/app-Ab12Cd34.js");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, APP_JS);
        assert_eq!(
            response.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(
            response.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
    }

    #[test]
    fn sends_the_negotiated_encoding_with_its_own_tag() {
        let path = "/assets/app-Ab12Cd34.js";
        let br = request("GET", path, &[("accept-encoding", "gzip, deflate, br")]);
        assert_eq!(br.body, b"br-bytes");
        assert_eq!(br.header("content-encoding"), Some("br"));
        assert_eq!(br.header("etag"), Some("\"js1-br\""));
        assert_eq!(br.header("content-length"), Some("8"));
        assert_eq!(br.header("vary"), Some("Accept-Encoding"));
        let gzip = request("GET", path, &[("accept-encoding", "gzip")]);
        assert_eq!(gzip.body, b"gzip-bytes");
        assert_eq!(gzip.header("content-encoding"), Some("gzip"));
        // Only gzip is kept for the index.
        let html = request("GET", "/", &[("accept-encoding", "br, gzip")]);
        assert_eq!(html.header("content-encoding"), Some("gzip"));
        let png = request("GET", "/favicon.png", &[("accept-encoding", "br, gzip")]);
        assert_eq!(png.header("content-encoding"), None);
        assert_eq!(png.header("vary"), Some("Accept-Encoding"));
    }

    #[test]
    fn reads_every_accept_encoding_header() {
        let response = request(
            "GET",
            "/assets/app-Ab12Cd34.js",
            &[("accept-encoding", "br;q=0"), ("Accept-Encoding", "gzip")],
        );
        assert_eq!(response.header("content-encoding"), Some("gzip"));
    }

    #[test]
    fn answers_406_when_identity_is_refused_and_nothing_else_fits() {
        let response = request(
            "GET",
            "/favicon.png",
            &[("accept-encoding", "identity;q=0")],
        );
        assert_eq!(response.status, 406);
        assert_eq!(problem(&response)["status"], 406);
        let response = request("GET", "/", &[("accept-encoding", "gzip, identity;q=0")]);
        assert_eq!(response.status, 200);
    }

    #[test]
    fn answers_304_for_a_matching_if_none_match() {
        let response = request("GET", "/", &[("if-none-match", "\"html1\"")]);
        assert_eq!(response.status, 304);
        assert!(response.body.is_empty());
        assert_eq!(response.header("etag"), Some("\"html1\""));
        assert_eq!(response.header("cache-control"), Some("no-cache"));
        assert_eq!(response.header("vary"), Some("Accept-Encoding"));
        assert_eq!(response.header("content-length"), None);
        let weak = request("HEAD", "/", &[("if-none-match", "\"x\", W/\"html1\"")]);
        assert_eq!(weak.status, 304);
        let star = request("GET", "/favicon.png", &[("if-none-match", "*")]);
        assert_eq!(star.status, 304);
    }

    #[test]
    fn compares_the_tag_of_the_representation_sent() {
        let path = "/assets/app-Ab12Cd34.js";
        let stale = request(
            "GET",
            path,
            &[("accept-encoding", "br"), ("if-none-match", "\"js1\"")],
        );
        assert_eq!(stale.status, 200);
        assert_eq!(stale.body, b"br-bytes");
        let fresh = request(
            "GET",
            path,
            &[("accept-encoding", "br"), ("if-none-match", "\"js1-br\"")],
        );
        assert_eq!(fresh.status, 304);
    }

    #[test]
    fn falls_back_to_the_index_for_app_routes() {
        for path in [
            "/tasks",
            "/templates/3",
            "/templates/",
            "/tasks?filter=open",
        ] {
            let path = path.split('?').next().unwrap();
            let response = navigate(path);
            assert_eq!(response.status, 200, "{path}");
            assert_eq!(response.body, INDEX_HTML, "{path}");
            assert_eq!(response.header("cache-control"), Some("no-cache"));
        }
        let revalidated = request(
            "GET",
            "/tasks",
            &[NAVIGATION, ("if-none-match", "\"html1\"")],
        );
        assert_eq!(revalidated.status, 304);
    }

    #[test]
    fn answers_404_for_app_routes_outside_a_navigation() {
        for accept in [
            None,
            Some("application/json"),
            Some("*/*"),
            Some("text/html;q=0"),
        ] {
            let headers: Vec<(&str, &str)> = accept.map(|a| ("accept", a)).into_iter().collect();
            for (method, path) in [("GET", "/dapr/config"), ("OPTIONS", "/recurring-cron")] {
                let response = request(method, path, &headers);
                assert_eq!(response.status, 404, "{method} {path} with {accept:?}");
                assert_eq!(problem(&response)["title"], "Not Found");
            }
        }
    }

    #[test]
    fn refuses_other_methods_on_an_app_route_with_405() {
        let response = request("POST", "/tasks", &[NAVIGATION]);
        assert_eq!(response.status, 405);
        assert_eq!(response.header("allow"), Some("GET, HEAD"));
    }

    #[test]
    fn answers_404_for_a_missing_file() {
        for path in [
            "/assets/nope.js",
            "/robots.txt",
            "/.env",
            "/assets/app-Ab12Cd34.js.map",
        ] {
            let response = get(path);
            assert_eq!(response.status, 404, "{path}");
            assert_eq!(problem(&response)["title"], "Not Found");
        }
    }

    #[test]
    fn odd_paths_resolve_inside_the_table_or_fail_cleanly() {
        assert_eq!(get("/assets/../index.html").body, INDEX_HTML);
        assert_eq!(get("/%2e%2e/%2e%2e/index.html").body, INDEX_HTML);
        assert_eq!(get("//assets//app-Ab12Cd34.js").body, APP_JS);
        assert_eq!(navigate("/../../etc/passwd").body, INDEX_HTML);
        assert_eq!(get("/../../etc/shadow.db").status, 404);
        assert_eq!(get("/../../etc/passwd").status, 404);
        assert_eq!(get("/assets/app%2DAb12Cd34.js").body, APP_JS);
        for bad in ["/%zz", "/%ff", "/a%00b"] {
            let response = get(bad);
            assert_eq!(response.status, 400, "{bad}");
            assert_eq!(problem(&response)["status"], 400);
        }
    }

    #[test]
    fn head_has_the_headers_of_get_and_no_body() {
        let get = request(
            "GET",
            "/assets/app-Ab12Cd34.js",
            &[("accept-encoding", "br")],
        );
        let head = request(
            "HEAD",
            "/assets/app-Ab12Cd34.js",
            &[("accept-encoding", "br")],
        );
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(head.headers, get.headers);
    }

    #[test]
    fn refuses_other_methods_with_405_and_allow() {
        for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            let response = request(method, "/", &[]);
            assert_eq!(response.status, 405, "{method}");
            assert_eq!(response.header("allow"), Some("GET, HEAD"));
            assert_eq!(problem(&response)["title"], "Method Not Allowed");
        }
    }

    #[test]
    fn every_answer_carries_the_security_headers() {
        for response in [get("/"), get("/assets/nope.js"), request("POST", "/", &[])] {
            assert_eq!(
                response.header("content-security-policy"),
                Some(CONTENT_SECURITY_POLICY)
            );
            assert_eq!(response.header("x-content-type-options"), Some("nosniff"));
            assert!(response.header("referrer-policy").is_some());
        }
        assert!(CONTENT_SECURITY_POLICY.contains("frame-ancestors 'none'"));
        assert!(CONTENT_SECURITY_POLICY.contains("script-src 'self';"));
    }

    #[test]
    fn a_site_without_its_index_answers_404_for_app_routes() {
        let site = Site {
            assets: &ASSETS[..1],
            index: "/index.html",
        };
        let request = Request {
            method: "GET".into(),
            path: "/tasks".into(),
            headers: vec![(NAVIGATION.0.into(), NAVIGATION.1.into())],
            ..Request::default()
        };
        assert_eq!(serve(&site, &request).status, 404);
    }
}
