//! Request paths as table keys: percent-decoded, with `.`, `..` and empty
//! segments resolved so that no spelling reaches above the root.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathError {
    /// A `%` not followed by two hex digits.
    BadEscape,
    /// The decoded bytes are not UTF-8, or hold a control character.
    NotText,
}

impl std::fmt::Display for PathError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::BadEscape => "the path has a `%` that is not followed by two hex digits",
            Self::NotText => "the path does not decode to printable UTF-8",
        })
    }
}

/// The normalized, decoded form of a request path: `/` followed by its
/// segments joined with `/` (a trailing slash is kept, `/` stays `/`).
pub fn normalize(raw: &str) -> Result<String, PathError> {
    let decoded =
        String::from_utf8(percent_decode(raw.as_bytes())?).map_err(|_| PathError::NotText)?;
    if decoded.chars().any(char::is_control) {
        return Err(PathError::NotText);
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in decoded.split(['/', '\\']) {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            _ => segments.push(segment),
        }
    }
    let mut path = format!("/{}", segments.join("/"));
    let trailing =
        decoded.ends_with(['/', '\\']) || decoded.ends_with("/.") || decoded.ends_with("/..");
    if trailing && !segments.is_empty() {
        path.push('/');
    }
    Ok(path)
}

/// Whether the last segment names a file (`app.js`, `robots.txt`) rather
/// than one of the app's own routes (`tasks`, `3`).
pub fn has_extension(path: &str) -> bool {
    let last = path.rsplit('/').next().unwrap_or_default();
    last.char_indices()
        .any(|(at, c)| c == '.' && at > 0 && at + 1 < last.len())
        || last.starts_with('.')
}

fn percent_decode(raw: &[u8]) -> Result<Vec<u8>, PathError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&byte) = bytes.next() {
        if byte != b'%' {
            out.push(byte);
            continue;
        }
        let high = bytes.next().and_then(|b| hex(*b));
        let low = bytes.next().and_then(|b| hex(*b));
        match (high, low) {
            (Some(high), Some(low)) => out.push(high << 4 | low),
            _ => return Err(PathError::BadEscape),
        }
    }
    Ok(out)
}

fn hex(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_percent_escapes() {
        assert_eq!(normalize("/assets/a%20b.js").unwrap(), "/assets/a b.js");
        assert_eq!(normalize("/%E2%9C%93").unwrap(), "/✓");
        assert_eq!(normalize("/%61ssets/x").unwrap(), "/assets/x");
    }

    #[test]
    fn resolves_dots_and_empty_segments_without_leaving_the_root() {
        assert_eq!(normalize("/").unwrap(), "/");
        assert_eq!(normalize("").unwrap(), "/");
        assert_eq!(normalize("//assets//./x.js").unwrap(), "/assets/x.js");
        assert_eq!(normalize("/assets/../index.html").unwrap(), "/index.html");
        assert_eq!(normalize("/../../etc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(normalize("/%2e%2e/%2E%2E/secret").unwrap(), "/secret");
        assert_eq!(normalize("/a/%2F..%2F..%2Fb").unwrap(), "/b");
        assert_eq!(normalize("/a\\..\\..\\b").unwrap(), "/b");
        assert_eq!(normalize("/..").unwrap(), "/");
    }

    #[test]
    fn keeps_a_trailing_slash() {
        assert_eq!(normalize("/templates/").unwrap(), "/templates/");
        assert_eq!(normalize("/templates/3/..").unwrap(), "/templates/");
    }

    #[test]
    fn refuses_bad_escapes_and_non_text() {
        assert_eq!(normalize("/%"), Err(PathError::BadEscape));
        assert_eq!(normalize("/%4"), Err(PathError::BadEscape));
        assert_eq!(normalize("/%zz"), Err(PathError::BadEscape));
        assert_eq!(normalize("/%ff%fe"), Err(PathError::NotText));
        assert_eq!(normalize("/a%00.js"), Err(PathError::NotText));
        assert_eq!(normalize("/a%0d%0a"), Err(PathError::NotText));
    }

    #[test]
    fn tells_files_from_app_routes() {
        assert!(has_extension("/assets/app.js"));
        assert!(has_extension("/robots.txt"));
        assert!(has_extension("/.env"));
        assert!(!has_extension("/tasks"));
        assert!(!has_extension("/templates/3"));
        assert!(!has_extension("/"));
        assert!(!has_extension("/templates/"));
        assert!(!has_extension("/v1.2/tasks"));
        assert!(!has_extension("/tasks."));
    }
}
