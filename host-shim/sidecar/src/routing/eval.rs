//! Evaluating a parsed rule against a CloudEvent.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::parser::{Comparison, Expr, PathStep, StringTest};

/// Where CEL would raise an error (wrong types, a missing field used as a
/// condition); such a rule does not match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Invalid;

/// `Ok(None)` is a field absent from the event.
type Operand<'a> = Result<Option<Cow<'a, Value>>, Invalid>;

pub(super) fn truth(expr: &Expr, event: &Value) -> Result<bool, Invalid> {
    match expr {
        // CEL's `&&` and `||` are commutative over errors: one decisive side wins.
        Expr::And(left, right) => match (truth(left, event), truth(right, event)) {
            (Ok(false), _) | (_, Ok(false)) => Ok(false),
            (Ok(true), Ok(true)) => Ok(true),
            _ => Err(Invalid),
        },
        Expr::Or(left, right) => match (truth(left, event), truth(right, event)) {
            (Ok(true), _) | (_, Ok(true)) => Ok(true),
            (Ok(false), Ok(false)) => Ok(false),
            _ => Err(Invalid),
        },
        Expr::Not(inner) => truth(inner, event).map(|value| !value),
        Expr::Has(path) => Ok(lookup(event, path).is_some()),
        Expr::Compare(comparison, left, right) => {
            compare(*comparison, operand(left, event)?, operand(right, event)?)
        }
        Expr::Test(test, target, argument) => {
            match (
                operand(target, event)?.as_deref(),
                operand(argument, event)?.as_deref(),
            ) {
                (Some(Value::String(text)), Some(Value::String(needle))) => Ok(match test {
                    StringTest::StartsWith => text.starts_with(needle.as_str()),
                    StringTest::EndsWith => text.ends_with(needle.as_str()),
                    StringTest::Contains => text.contains(needle.as_str()),
                }),
                (None, _) | (_, None) => Ok(false),
                _ => Err(Invalid),
            }
        }
        Expr::Literal(Value::Bool(value)) => Ok(*value),
        Expr::Event(path) => match lookup(event, path) {
            Some(Value::Bool(value)) => Ok(*value),
            _ => Err(Invalid),
        },
        Expr::Literal(_) => Err(Invalid),
    }
}

fn operand<'a>(expr: &'a Expr, event: &'a Value) -> Operand<'a> {
    match expr {
        Expr::Literal(value) => Ok(Some(Cow::Borrowed(value))),
        Expr::Event(path) => Ok(lookup(event, path).map(Cow::Borrowed)),
        condition => truth(condition, event).map(|value| Some(Cow::Owned(Value::Bool(value)))),
    }
}

fn lookup<'a>(event: &'a Value, path: &[PathStep]) -> Option<&'a Value> {
    path.iter()
        .try_fold(event, |value, step| match (step, value) {
            (PathStep::Key(key), Value::Object(fields)) => fields.get(key),
            (PathStep::Index(index), Value::Array(items)) => items.get(*index),
            _ => None,
        })
}

fn compare(
    comparison: Comparison,
    left: Option<Cow<'_, Value>>,
    right: Option<Cow<'_, Value>>,
) -> Result<bool, Invalid> {
    let (Some(left), Some(right)) = (left, right) else {
        return Ok(comparison == Comparison::NotEqual);
    };
    let ordering = match comparison {
        Comparison::Equal => return Ok(equal(&left, &right)),
        Comparison::NotEqual => return Ok(!equal(&left, &right)),
        _ => order(&left, &right)?,
    };
    Ok(match comparison {
        Comparison::Less => ordering == Ordering::Less,
        Comparison::LessOrEqual => ordering != Ordering::Greater,
        Comparison::Greater => ordering == Ordering::Greater,
        _ => ordering != Ordering::Less,
    })
}

/// CEL's heterogeneous equality: numbers by value (`1 == 1.0`), other
/// types only equal to their own kind.
fn equal(left: &Value, right: &Value) -> bool {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(x, y)| equal(x, y))
        }
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter()
                    .all(|(key, x)| b.get(key).is_some_and(|y| equal(x, y)))
        }
        (a, b) => a == b,
    }
}

fn order(left: &Value, right: &Value) -> Result<Ordering, Invalid> {
    match (left, right) {
        (Value::Number(a), Value::Number(b)) => a.as_f64().partial_cmp(&b.as_f64()).ok_or(Invalid),
        (Value::String(a), Value::String(b)) => Ok(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => Ok(a.cmp(b)),
        _ => Err(Invalid),
    }
}
