#![allow(clippy::unwrap_used, clippy::expect_used)]

//! The published OpenAPI document describes exactly the routes the
//! dispatcher serves, so neither can drift from the other.

use std::collections::BTreeSet;

use serde_json::Value;
use todo_core::OPENAPI_JSON;
use todo_core::routes::{Access, ROUTES};

fn document() -> Value {
    serde_json::from_str(OPENAPI_JSON).expect("openapi.json is JSON")
}

#[test]
fn documented_operations_are_exactly_the_routes() {
    let doc = document();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "put", "post", "delete", "patch", "options", "head"]
                .contains(&method.as_str())
            {
                documented.insert((path.clone(), method.to_uppercase()));
            }
        }
    }
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|r| (r.pattern.to_string(), r.method.to_string()))
        .collect();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let phantom: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "routes missing from openapi.json: {undocumented:?}"
    );
    assert!(
        phantom.is_empty(),
        "openapi.json documents routes that do not exist: {phantom:?}"
    );
}

#[test]
fn security_matches_each_route_access() {
    let doc = document();
    for route in ROUTES {
        let operation = &doc["paths"][route.pattern][route.method.to_lowercase()];
        let security = &operation["security"];
        match route.access {
            Access::Public => assert_eq!(
                security,
                &serde_json::json!([]),
                "{} {}",
                route.method,
                route.pattern
            ),
            Access::Owner => {
                let requires_bearer = security
                    .as_array()
                    .is_some_and(|s| s.iter().any(|r| r.get("bearerAuth").is_some()))
                    || (security.is_null() && doc["security"][0].get("bearerAuth").is_some());
                assert!(
                    requires_bearer,
                    "{} {} must require bearerAuth",
                    route.method, route.pattern
                );
            }
        }
    }
}

#[test]
fn every_path_parameter_is_declared() {
    let doc = document();
    for route in ROUTES {
        let operation = &doc["paths"][route.pattern][route.method.to_lowercase()];
        let path_item = &doc["paths"][route.pattern];
        let mut declared = BTreeSet::new();
        for parameters in [&path_item["parameters"], &operation["parameters"]] {
            for parameter in parameters.as_array().into_iter().flatten() {
                let parameter = match parameter["$ref"].as_str() {
                    Some(reference) => {
                        let name = reference.rsplit('/').next().unwrap_or_default();
                        doc["components"]["parameters"][name].clone()
                    }
                    None => parameter.clone(),
                };
                if parameter["in"] == "path" {
                    declared.insert(parameter["name"].as_str().unwrap_or_default().to_string());
                }
            }
        }
        let in_pattern: BTreeSet<String> = route
            .pattern
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(str::to_string)
            .collect();
        assert_eq!(declared, in_pattern, "{} {}", route.method, route.pattern);
    }
}
