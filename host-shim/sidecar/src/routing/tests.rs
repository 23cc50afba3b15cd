//! Rule evaluation tables, precedence, parse errors and route selection.

use serde_json::{Value, json};

use super::*;

fn widget_event() -> Value {
    json!({
        "specversion": "1.0",
        "id": "5929aaac-a5e2-4ca1-859c-edfe73f11565",
        "source": "checkout",
        "type": "widget.created",
        "datacontenttype": "application/json",
        "topic": "orders",
        "pubsubname": "pubsub",
        "data": {
            "kind": "widget",
            "count": 3,
            "price": 2.5,
            "urgent": true,
            "note": null,
            "tags": ["red", "blue"],
            "customer": {"name": "O'Brien", "tier": "gold"}
        }
    })
}

fn check(expression: &str) -> bool {
    Rule::parse(expression)
        .unwrap_or_else(|e| panic!("{expression}: {e}"))
        .matches(&widget_event())
}

#[test]
fn expression_table() {
    let cases = [
        (r#"event.type == "widget.created""#, true),
        (r#"event.type == 'widget.created'"#, true),
        (r#"event.type != "widget.created""#, false),
        (r#"event.data.kind == "widget""#, true),
        (r#"event.data.customer.tier == "gold""#, true),
        (r#"event.data.customer.name == "O\'Brien""#, true),
        (r#"event.data.customer.name == 'O\'Brien'"#, true),
        (r#"event.data.customer["tier"] == "gold""#, true),
        (r#"event.data.tags[1] == "blue""#, true),
        (r#"event.data.tags[5] == "blue""#, false),
        ("event.data.count == 3", true),
        ("event.data.count == 3.0", true),
        ("event.data.count == 3u", true),
        ("event.data.count > 2", true),
        ("event.data.count >= 3", true),
        ("event.data.count < 3", false),
        ("event.data.count <= 2", false),
        ("event.data.price > -1", true),
        ("event.data.price < 2.75", true),
        ("event.data.price == 25e-1", true),
        (r#"event.source < "d""#, true),
        (r#"event.source > "checkout""#, false),
        (r#"event.source >= "checkout""#, true),
        ("event.data.urgent", true),
        ("event.data.urgent == true", true),
        ("!event.data.urgent", false),
        ("event.data.note == null", true),
        ("event.data.kind == null", false),
        (r#"event.data.count == "3""#, false),
        (r#"event.type.startsWith("widget.")"#, true),
        (r#"event.type.endsWith(".created")"#, true),
        (r#"event.type.contains("get.cr")"#, true),
        (r#"event.type.contains("gadget")"#, false),
        (r#""widget.created".startsWith(event.data.kind)"#, true),
        ("has(event.data.kind)", true),
        ("has(event.data.note)", true),
        ("has(event.data.missing)", false),
        ("has(event.missing.deeper)", false),
        ("!has(event.data.missing)", true),
        ("event.data.customer == event.data.customer", true),
        ("(event.data.count > 1) && (event.data.count < 5)", true),
        (r#"event.type == "x" || event.data.kind == "widget""#, true),
        ("true", true),
        ("false", false),
        ("", true),
        ("   ", true),
    ];
    for (expression, expected) in cases {
        assert_eq!(check(expression), expected, "{expression}");
    }
}

#[test]
fn missing_fields_are_predictable() {
    let cases = [
        (r#"event.data.missing == "x""#, false),
        (r#"event.data.missing != "x""#, true),
        ("event.data.missing == null", false),
        ("event.data.missing > 1", false),
        ("!(event.data.missing > 1)", true),
        ("event.data.missing <= 1", false),
        (r#"event.data.missing.startsWith("x")"#, false),
        (r#"event.nothing.at.all == "x""#, false),
        ("event.data.kind.deeper == 1", false),
        // A missing field used as a condition is a CEL error: no match, even negated.
        ("event.data.missing", false),
        ("!event.data.missing", false),
        // ...unless `&&`/`||` decide without it, as in CEL.
        ("event.data.missing || true", true),
        ("false && event.data.missing", false),
        ("event.data.missing && true", false),
    ];
    for (expression, expected) in cases {
        assert_eq!(check(expression), expected, "{expression}");
    }
}

#[test]
fn type_errors_do_not_match() {
    let cases = [
        (r#"event.data.count < "5""#, false),
        (r#"!(event.data.count < "5")"#, false),
        ("event.data.kind", false),
        (r#"event.data.count.startsWith("3")"#, false),
        ("null < 1", false),
        ("1", false),
        (r#"event.data.count < "5" || event.data.urgent"#, true),
    ];
    for (expression, expected) in cases {
        assert_eq!(check(expression), expected, "{expression}");
    }
}

#[test]
fn and_binds_tighter_than_or() {
    // Read as `true || (false && false)`; left-to-right would give false.
    assert!(check("true || false && false"));
    assert!(!check("(true || false) && false"));
    assert!(check("false && false || true"));
    assert!(check(
        r#"event.type == "x" && event.data.count == 1 || event.data.kind == "widget""#
    ));
    assert!(!check(
        r#"event.type == "x" && (event.data.count == 1 || event.data.kind == "widget")"#
    ));
}

#[test]
fn not_binds_tighter_than_comparison() {
    // `(!true) == false`, not `!(true == false)`.
    assert!(check("!true == false"));
    assert!(check("!!event.data.urgent"));
}

#[test]
fn string_escapes() {
    let event = json!({"text": "a\"b\\c\nd\u{e9}'"});
    let rule = Rule::parse(r#"event.text == "a\"b\\c\nd\u00e9'""#).unwrap();
    assert!(rule.matches(&event));
    let rule = Rule::parse(r#"event.text == 'a"b\\c\nd\xe9\''"#).unwrap();
    assert!(rule.matches(&event));
    let raw = Rule::parse(r#"event.path == r"C:\dir""#).unwrap();
    assert!(raw.matches(&json!({"path": "C:\\dir"})));
}

#[test]
fn parse_errors_name_the_column() {
    let cases = [
        ("event.type = \"a\"", 12, "use `==`"),
        ("event.type == \"a\" & true", 19, "use `&&`"),
        ("event.type == \"a", 15, "unterminated string"),
        ("event.type ==", 14, "expected a value, found the end"),
        ("(event.type == \"a\"", 19, "expected `)`"),
        ("event.type == \"a\")", 18, "unexpected `)`"),
        ("evnt.type == \"a\"", 1, "unknown name `evnt`"),
        ("size(event.data) > 1", 1, "unsupported function `size`"),
        (
            "event.type.matches(\"a.*\")",
            12,
            "unsupported method `matches`",
        ),
        (
            "event.type.startsWith(\"a\", \"b\")",
            26,
            "takes one argument",
        ),
        ("has(event)", 1, "`has` needs a field"),
        ("event.", 7, "expected a field name"),
        (
            "event.data[true]",
            12,
            "expected a string key or list index",
        ),
        ("\"a\\q\" == event.x", 3, "unsupported escape"),
        ("event.x == 12abc", 14, "unexpected 'a' after number"),
        ("event.x == -event.y", 12, "only supported before a number"),
        ("event.type in [\"a\"]", 12, "unexpected `in`"),
        ("event.x == \"\"\"a\"\"\"", 12, "triple-quoted"),
        ("event.x == 1e999", 12, "out of range"),
        ("event.x == #", 12, "unexpected character '#'"),
    ];
    for (expression, column, message) in cases {
        let error = Rule::parse(expression).expect_err(expression);
        assert_eq!(error.column, column, "{expression}: {error}");
        assert!(error.message.contains(message), "{expression}: {error}");
        assert!(
            error
                .to_string()
                .starts_with(&format!("at column {column}: "))
        );
    }
}

#[test]
fn routes_pick_the_first_matching_rule_then_the_default() {
    let routes = Routes::new(
        vec![
            (
                r#"event.type == "widget.created""#.to_string(),
                "widgets".to_string(),
            ),
            (
                r#"event.data.kind == "widget""#.to_string(),
                "/any-widget".to_string(),
            ),
        ],
        Some("orders".to_string()),
    )
    .unwrap();
    assert_eq!(routes.route(&widget_event()), Some("/widgets"));
    assert_eq!(
        routes.route(&json!({"type": "other", "data": {"kind": "widget"}})),
        Some("/any-widget")
    );
    assert_eq!(routes.route(&json!({"type": "other"})), Some("/orders"));
    assert_eq!(routes.default_path(), Some("/orders"));
    assert_eq!(
        routes.rules().map(|(_, path)| path).collect::<Vec<_>>(),
        ["/widgets", "/any-widget"]
    );
}

#[test]
fn routes_without_a_default_drop_unmatched_events() {
    let routes = Routes::new(
        vec![("event.type == \"a\"".to_string(), "/a".to_string())],
        Some(String::new()),
    )
    .unwrap();
    assert_eq!(routes.route(&json!({"type": "b"})), None);
    assert_eq!(routes.default_path(), None);
    let only_default = Routes::new(Vec::new(), Some("/orders".to_string())).unwrap();
    assert_eq!(only_default.route(&json!({})), Some("/orders"));
}

#[test]
fn an_empty_match_always_routes() {
    let routes = Routes::new(vec![(String::new(), "catch-all".to_string())], None).unwrap();
    assert_eq!(
        routes.route(&json!({"type": "anything"})),
        Some("/catch-all")
    );
}

#[test]
fn routes_report_the_failing_rule() {
    let error = Routes::new(
        vec![
            ("true".to_string(), "/a".to_string()),
            ("event.type ==".to_string(), "/b".to_string()),
        ],
        None,
    )
    .unwrap_err();
    assert_eq!(error.index, 1);
    assert_eq!(
        error.to_string(),
        "routes.rules[1] match \"event.type ==\": at column 14: expected a value, found the end of the rule"
    );
}
