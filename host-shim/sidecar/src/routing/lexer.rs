//! Tokens of the CEL subset used in subscription rules.

use super::RuleError;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
    Identifier(String),
    Text(String),
    Number(f64),
    Dot,
    Comma,
    OpenParen,
    CloseParen,
    OpenBracket,
    CloseBracket,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    And,
    Or,
    Not,
    Minus,
    End,
}

impl TokenKind {
    pub(super) fn describe(&self) -> String {
        match self {
            TokenKind::Identifier(name) => format!("`{name}`"),
            TokenKind::Text(text) => format!("string {text:?}"),
            TokenKind::Number(number) => format!("number {number}"),
            TokenKind::End => "the end of the rule".to_string(),
            other => format!("`{}`", other.symbol()),
        }
    }

    fn symbol(&self) -> &'static str {
        match self {
            TokenKind::Dot => ".",
            TokenKind::Comma => ",",
            TokenKind::OpenParen => "(",
            TokenKind::CloseParen => ")",
            TokenKind::OpenBracket => "[",
            TokenKind::CloseBracket => "]",
            TokenKind::Equal => "==",
            TokenKind::NotEqual => "!=",
            TokenKind::Less => "<",
            TokenKind::LessOrEqual => "<=",
            TokenKind::Greater => ">",
            TokenKind::GreaterOrEqual => ">=",
            TokenKind::And => "&&",
            TokenKind::Or => "||",
            TokenKind::Not => "!",
            TokenKind::Minus => "-",
            _ => "",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct Token {
    pub kind: TokenKind,
    /// 1-based character column where the token starts.
    pub column: usize,
}

pub(super) fn tokenize(source: &str) -> Result<Vec<Token>, RuleError> {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let c = chars[index];
        let column = index + 1;
        let next = chars.get(index + 1).copied();
        let mut push = |kind: TokenKind, width: usize| {
            tokens.push(Token { kind, column });
            index += width;
        };
        match (c, next) {
            (c, _) if c.is_whitespace() => index += 1,
            ('=', Some('=')) => push(TokenKind::Equal, 2),
            ('!', Some('=')) => push(TokenKind::NotEqual, 2),
            ('<', Some('=')) => push(TokenKind::LessOrEqual, 2),
            ('>', Some('=')) => push(TokenKind::GreaterOrEqual, 2),
            ('&', Some('&')) => push(TokenKind::And, 2),
            ('|', Some('|')) => push(TokenKind::Or, 2),
            ('<', _) => push(TokenKind::Less, 1),
            ('>', _) => push(TokenKind::Greater, 1),
            ('!', _) => push(TokenKind::Not, 1),
            ('-', _) => push(TokenKind::Minus, 1),
            ('.', _) => push(TokenKind::Dot, 1),
            (',', _) => push(TokenKind::Comma, 1),
            ('(', _) => push(TokenKind::OpenParen, 1),
            (')', _) => push(TokenKind::CloseParen, 1),
            ('[', _) => push(TokenKind::OpenBracket, 1),
            (']', _) => push(TokenKind::CloseBracket, 1),
            ('=', _) => return Err(RuleError::new(column, "`=` is not an operator; use `==`")),
            ('&', _) => return Err(RuleError::new(column, "`&` is not an operator; use `&&`")),
            ('|', _) => return Err(RuleError::new(column, "`|` is not an operator; use `||`")),
            ('"' | '\'', _) => {
                let (text, end) = read_string(&chars, index, false)?;
                tokens.push(Token {
                    kind: TokenKind::Text(text),
                    column,
                });
                index = end;
            }
            ('r' | 'R', Some('"' | '\'')) => {
                let (text, end) = read_string(&chars, index + 1, true)?;
                tokens.push(Token {
                    kind: TokenKind::Text(text),
                    column,
                });
                index = end;
            }
            (c, _) if c.is_ascii_digit() => {
                let (number, end) = read_number(&chars, index)?;
                tokens.push(Token {
                    kind: TokenKind::Number(number),
                    column,
                });
                index = end;
            }
            (c, _) if c.is_ascii_alphabetic() || c == '_' => {
                let end = index
                    + chars[index..]
                        .iter()
                        .take_while(|c| c.is_ascii_alphanumeric() || **c == '_')
                        .count();
                tokens.push(Token {
                    kind: TokenKind::Identifier(chars[index..end].iter().collect()),
                    column,
                });
                index = end;
            }
            (other, _) => {
                return Err(RuleError::new(
                    column,
                    format!("unexpected character {other:?}"),
                ));
            }
        }
    }
    tokens.push(Token {
        kind: TokenKind::End,
        column: chars.len() + 1,
    });
    Ok(tokens)
}

/// Reads a quoted string starting at the quote `chars[start]`; returns the
/// text and the index after the closing quote.
fn read_string(chars: &[char], start: usize, raw: bool) -> Result<(String, usize), RuleError> {
    let quote = chars[start];
    if chars.get(start + 1) == Some(&quote) && chars.get(start + 2) == Some(&quote) {
        return Err(RuleError::new(
            start + 1,
            "triple-quoted strings are not supported",
        ));
    }
    let mut text = String::new();
    let mut index = start + 1;
    loop {
        let Some(&c) = chars.get(index) else {
            return Err(RuleError::new(start + 1, "unterminated string"));
        };
        match c {
            c if c == quote => return Ok((text, index + 1)),
            '\n' | '\r' => return Err(RuleError::new(start + 1, "unterminated string")),
            '\\' if !raw => {
                let (decoded, width) = read_escape(chars, index)?;
                text.push(decoded);
                index += width;
            }
            c => {
                text.push(c);
                index += 1;
            }
        }
    }
}

/// Decodes the escape sequence starting at the backslash `chars[start]`;
/// returns the character and the sequence's width.
fn read_escape(chars: &[char], start: usize) -> Result<(char, usize), RuleError> {
    let column = start + 1;
    let simple = |c: char| (c, 2);
    match chars.get(start + 1) {
        Some('\\') => Ok(simple('\\')),
        Some('"') => Ok(simple('"')),
        Some('\'') => Ok(simple('\'')),
        Some('`') => Ok(simple('`')),
        Some('?') => Ok(simple('?')),
        Some('n') => Ok(simple('\n')),
        Some('r') => Ok(simple('\r')),
        Some('t') => Ok(simple('\t')),
        Some('a') => Ok(simple('\u{7}')),
        Some('b') => Ok(simple('\u{8}')),
        Some('f') => Ok(simple('\u{c}')),
        Some('v') => Ok(simple('\u{b}')),
        Some(kind @ ('x' | 'u' | 'U')) => {
            let digits = match kind {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            let hex: String = chars.iter().skip(start + 2).take(digits).collect();
            let code = (hex.len() == digits)
                .then(|| u32::from_str_radix(&hex, 16).ok())
                .flatten()
                .ok_or_else(|| {
                    RuleError::new(column, format!("`\\{kind}` needs {digits} hex digits"))
                })?;
            let decoded = char::from_u32(code).ok_or_else(|| {
                RuleError::new(column, format!("`\\{kind}{hex}` is not a character"))
            })?;
            Ok((decoded, 2 + digits))
        }
        Some(other) => Err(RuleError::new(
            column,
            format!("unsupported escape `\\{other}`"),
        )),
        None => Err(RuleError::new(column, "unterminated string")),
    }
}

/// Reads `123`, `1.5`, `2e3` or `7u` starting at `chars[start]`.
fn read_number(chars: &[char], start: usize) -> Result<(f64, usize), RuleError> {
    let digits_from = |from: usize| {
        chars[from..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count()
    };
    let mut end = start + digits_from(start);
    if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
        end += 1 + digits_from(end + 1);
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(end + 1), Some('+' | '-')));
        let exponent_digits = digits_from(end + 1 + sign);
        if exponent_digits == 0 {
            return Err(RuleError::new(start + 1, "exponent needs digits"));
        }
        end += 1 + sign + exponent_digits;
    }
    let text: String = chars[start..end].iter().collect();
    let number: f64 = text
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite())
        .ok_or_else(|| RuleError::new(start + 1, format!("number {text} is out of range")))?;
    // CEL's unsigned suffix; all numbers compare as doubles here.
    if matches!(chars.get(end), Some('u' | 'U')) {
        end += 1;
    }
    if chars
        .get(end)
        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == '_')
    {
        return Err(RuleError::new(
            end + 1,
            format!("unexpected {:?} after number {text}", chars[end]),
        ));
    }
    Ok((number, end))
}
