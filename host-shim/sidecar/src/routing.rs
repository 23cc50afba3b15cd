//! Subscription routing rules: the CEL subset people write in `routes.rules[].match`.
//!
//! Supported: `event.a.b` paths into the CloudEvent (`event.data.x`, also
//! `event["key"]` and `event.items[0]`), string (`"…"`, `'…'`, `r"…"`),
//! number, `true`/`false`/`null` literals, `==` `!=` `<` `<=` `>` `>=`,
//! `&&`, `||`, `!`, parentheses, `has(event.x.y)` and the string methods
//! `startsWith`, `endsWith`, `contains`. Precedence is CEL's: `||` < `&&` <
//! comparisons < `!`/`-` < member access, so `!a == b` is `(!a) == b`.
//!
//! Missing fields never raise errors; they behave predictably instead:
//! `==` with a missing field is false, `!=` is true, `<` `<=` `>` `>=` and
//! the string methods are false, `has` is false. Where CEL would raise an
//! error that no such rule avoids — comparing a string with a number using
//! `<`, a method on a number, a missing or non-boolean field used as a
//! condition on its own — the rule does not match. `&&`/`||` absorb such
//! errors as CEL does (`false && <error>` is false, `true || <error>` true).
//! Numbers compare as doubles, as daprd decodes event JSON that way.

mod eval;
mod lexer;
mod parser;

use serde_json::Value;

/// A rule that failed to parse; `column` is 1-based, in characters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct RuleError {
    pub column: usize,
    pub message: String,
}

impl RuleError {
    fn new(column: usize, message: impl Into<String>) -> Self {
        Self {
            column,
            message: message.into(),
        }
    }
}

/// A parsed `match` expression; parse once, evaluate per event.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    source: String,
    /// `None` for an empty expression, which daprd treats as always matching.
    expr: Option<parser::Expr>,
}

impl Rule {
    pub fn parse(source: &str) -> Result<Self, RuleError> {
        let expr = if source.trim().is_empty() {
            None
        } else {
            Some(parser::parse(source)?)
        };
        Ok(Self {
            source: source.to_string(),
            expr,
        })
    }

    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether the CloudEvent (its whole JSON object) satisfies the rule.
    pub fn matches(&self, event: &Value) -> bool {
        match &self.expr {
            None => true,
            Some(expr) => eval::truth(expr, event) == Ok(true),
        }
    }
}

/// A rule that failed to parse, with its place in the list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("routes.rules[{index}] match {expression:?}: {error}")]
pub struct RoutesError {
    pub index: usize,
    pub expression: String,
    pub error: RuleError,
}

/// A subscription's routes: rules in order, then the default path.
#[derive(Debug, Clone, PartialEq)]
pub struct Routes {
    rules: Vec<(Rule, String)>,
    default: Option<String>,
}

impl Routes {
    /// From `(match, path)` pairs and the default path; paths get a leading
    /// `/` if they lack one, and an empty default counts as none.
    pub fn new(
        rules: impl IntoIterator<Item = (String, String)>,
        default: Option<String>,
    ) -> Result<Self, RoutesError> {
        let rules = rules
            .into_iter()
            .enumerate()
            .map(
                |(index, (expression, path))| match Rule::parse(&expression) {
                    Ok(rule) => Ok((rule, normalize_path(&path))),
                    Err(error) => Err(RoutesError {
                        index,
                        expression,
                        error,
                    }),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        let default = default
            .filter(|path| !path.is_empty())
            .map(|path| normalize_path(&path));
        Ok(Self { rules, default })
    }

    /// The path of the first matching rule, else the default path, else
    /// `None` (daprd then acknowledges and drops the event).
    pub fn route(&self, event: &Value) -> Option<&str> {
        self.rules
            .iter()
            .find(|(rule, _)| rule.matches(event))
            .map(|(_, path)| path.as_str())
            .or(self.default.as_deref())
    }

    pub fn default_path(&self) -> Option<&str> {
        self.default.as_deref()
    }

    pub fn rules(&self) -> impl Iterator<Item = (&Rule, &str)> {
        self.rules.iter().map(|(rule, path)| (rule, path.as_str()))
    }
}

fn normalize_path(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

#[cfg(test)]
mod tests;
