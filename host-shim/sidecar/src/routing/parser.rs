//! Parsing rule text into an expression tree, with CEL's precedence.

use serde_json::{Number, Value};

use super::RuleError;
use super::lexer::{Token, TokenKind, tokenize};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum PathStep {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StringTest {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Literal(Value),
    /// `event` followed by field and index steps.
    Event(Vec<PathStep>),
    Has(Vec<PathStep>),
    Not(Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Compare(Comparison, Box<Expr>, Box<Expr>),
    Test(StringTest, Box<Expr>, Box<Expr>),
}

pub(super) fn parse(source: &str) -> Result<Expr, RuleError> {
    let mut parser = Parser {
        tokens: tokenize(source)?,
        position: 0,
    };
    let expr = parser.or()?;
    let token = parser.peek();
    if token.kind != TokenKind::End {
        return Err(RuleError::new(
            token.column,
            format!(
                "unexpected {} after a complete expression",
                token.kind.describe()
            ),
        ));
    }
    Ok(expr)
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        // The token list always ends with `End`, which is never consumed.
        &self.tokens[self.position.min(self.tokens.len() - 1)]
    }

    fn advance(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::End {
            self.position += 1;
        }
        token
    }

    fn eat(&mut self, kind: &TokenKind) -> bool {
        let matched = &self.peek().kind == kind;
        if matched {
            self.advance();
        }
        matched
    }

    fn expect(&mut self, kind: &TokenKind, what: &str) -> Result<Token, RuleError> {
        let token = self.advance();
        if &token.kind == kind {
            Ok(token)
        } else {
            Err(RuleError::new(
                token.column,
                format!("expected {what}, found {}", token.kind.describe()),
            ))
        }
    }

    fn or(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.and()?;
        while self.eat(&TokenKind::Or) {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.relation()?;
        while self.eat(&TokenKind::And) {
            left = Expr::And(Box::new(left), Box::new(self.relation()?));
        }
        Ok(left)
    }

    fn relation(&mut self) -> Result<Expr, RuleError> {
        let mut left = self.unary()?;
        loop {
            let comparison = match self.peek().kind {
                TokenKind::Equal => Comparison::Equal,
                TokenKind::NotEqual => Comparison::NotEqual,
                TokenKind::Less => Comparison::Less,
                TokenKind::LessOrEqual => Comparison::LessOrEqual,
                TokenKind::Greater => Comparison::Greater,
                TokenKind::GreaterOrEqual => Comparison::GreaterOrEqual,
                _ => return Ok(left),
            };
            self.advance();
            left = Expr::Compare(comparison, Box::new(left), Box::new(self.unary()?));
        }
    }

    /// In CEL `!` and `-` bind tighter than comparisons: `!a == b` is `(!a) == b`.
    fn unary(&mut self) -> Result<Expr, RuleError> {
        let token = self.peek().clone();
        match token.kind {
            TokenKind::Not => {
                self.advance();
                Ok(Expr::Not(Box::new(self.unary()?)))
            }
            TokenKind::Minus => {
                self.advance();
                match self.unary()? {
                    Expr::Literal(Value::Number(number)) => {
                        let negated = number.as_f64().map(|n| -n).and_then(Number::from_f64);
                        negated
                            .map(|n| Expr::Literal(Value::Number(n)))
                            .ok_or_else(|| RuleError::new(token.column, "number out of range"))
                    }
                    _ => Err(RuleError::new(
                        token.column,
                        "`-` is only supported before a number",
                    )),
                }
            }
            _ => self.member(),
        }
    }

    fn member(&mut self) -> Result<Expr, RuleError> {
        let mut expr = self.primary()?;
        loop {
            let token = self.peek().clone();
            match token.kind {
                TokenKind::Dot => {
                    self.advance();
                    let name_token = self.advance();
                    let TokenKind::Identifier(name) = name_token.kind else {
                        return Err(RuleError::new(
                            name_token.column,
                            format!(
                                "expected a field name after `.`, found {}",
                                name_token.kind.describe()
                            ),
                        ));
                    };
                    if self.peek().kind == TokenKind::OpenParen {
                        expr = self.method_call(expr, &name, name_token.column)?;
                    } else {
                        expr = extend_path(expr, PathStep::Key(name), token.column)?;
                    }
                }
                TokenKind::OpenBracket => {
                    self.advance();
                    let index = self.advance();
                    let step = match index.kind {
                        TokenKind::Text(key) => PathStep::Key(key),
                        TokenKind::Number(n)
                            if n >= 0.0 && n.fract() == 0.0 && n <= usize::MAX as f64 =>
                        {
                            PathStep::Index(n as usize)
                        }
                        other => {
                            return Err(RuleError::new(
                                index.column,
                                format!(
                                    "expected a string key or list index, found {}",
                                    other.describe()
                                ),
                            ));
                        }
                    };
                    self.expect(&TokenKind::CloseBracket, "`]`")?;
                    expr = extend_path(expr, step, token.column)?;
                }
                _ => return Ok(expr),
            }
        }
    }

    fn method_call(&mut self, target: Expr, name: &str, column: usize) -> Result<Expr, RuleError> {
        let test = match name {
            "startsWith" => StringTest::StartsWith,
            "endsWith" => StringTest::EndsWith,
            "contains" => StringTest::Contains,
            other => {
                return Err(RuleError::new(
                    column,
                    format!(
                        "unsupported method `{other}` (supported: startsWith, endsWith, contains)"
                    ),
                ));
            }
        };
        if !matches!(target, Expr::Event(_) | Expr::Literal(Value::String(_))) {
            return Err(RuleError::new(
                column,
                format!("`{name}` applies to a string field or string literal"),
            ));
        }
        self.expect(&TokenKind::OpenParen, "`(`")?;
        let argument = self.or()?;
        if self.peek().kind == TokenKind::Comma {
            return Err(RuleError::new(
                self.peek().column,
                format!("`{name}` takes one argument"),
            ));
        }
        self.expect(&TokenKind::CloseParen, "`)`")?;
        Ok(Expr::Test(test, Box::new(target), Box::new(argument)))
    }

    fn primary(&mut self) -> Result<Expr, RuleError> {
        let token = self.advance();
        match token.kind {
            TokenKind::Text(text) => Ok(Expr::Literal(Value::String(text))),
            TokenKind::Number(number) => Number::from_f64(number)
                .map(|n| Expr::Literal(Value::Number(n)))
                .ok_or_else(|| RuleError::new(token.column, "number out of range")),
            TokenKind::OpenParen => {
                let inner = self.or()?;
                self.expect(&TokenKind::CloseParen, "`)`")?;
                Ok(inner)
            }
            TokenKind::Identifier(name) => match name.as_str() {
                "event" => Ok(Expr::Event(Vec::new())),
                "true" => Ok(Expr::Literal(Value::Bool(true))),
                "false" => Ok(Expr::Literal(Value::Bool(false))),
                "null" => Ok(Expr::Literal(Value::Null)),
                "has" => self.has(token.column),
                other if self.peek().kind == TokenKind::OpenParen => Err(RuleError::new(
                    token.column,
                    format!("unsupported function `{other}` (supported: has)"),
                )),
                other => Err(RuleError::new(
                    token.column,
                    format!("unknown name `{other}`; rules read the CloudEvent as `event`"),
                )),
            },
            other => Err(RuleError::new(
                token.column,
                format!("expected a value, found {}", other.describe()),
            )),
        }
    }

    fn has(&mut self, column: usize) -> Result<Expr, RuleError> {
        self.expect(&TokenKind::OpenParen, "`(` after `has`")?;
        let argument = self.member()?;
        self.expect(&TokenKind::CloseParen, "`)`")?;
        match argument {
            Expr::Event(path) if !path.is_empty() => Ok(Expr::Has(path)),
            _ => Err(RuleError::new(
                column,
                "`has` needs a field of the event, such as has(event.data.id)",
            )),
        }
    }
}

fn extend_path(expr: Expr, step: PathStep, column: usize) -> Result<Expr, RuleError> {
    match expr {
        Expr::Event(mut path) => {
            path.push(step);
            Ok(Expr::Event(path))
        }
        _ => Err(RuleError::new(
            column,
            "fields can only be read from `event`",
        )),
    }
}
