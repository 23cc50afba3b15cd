//! `If-None-Match` (RFC 9110, section 13.1.2).

/// Whether an `If-None-Match` value matches `etag` (quoted), which makes a
/// GET or HEAD answer 304. Comparison is weak, as the RFC asks for this
/// header; a malformed list matches nothing.
pub fn none_match(header: &str, etag: &str) -> bool {
    if header.trim() == "*" {
        return true;
    }
    let wanted = opaque(etag);
    tags(header).is_some_and(|tags| tags.contains(&wanted))
}

/// The quoted part of an entity tag, without any `W/`.
fn opaque(tag: &str) -> &str {
    tag.strip_prefix("W/").unwrap_or(tag)
}

/// The entity tags of a comma-separated list, each as `"..."`.
fn tags(list: &str) -> Option<Vec<&str>> {
    let mut found = Vec::new();
    let mut rest = list;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return Some(found);
        }
        let quoted = rest.strip_prefix("W/").unwrap_or(rest);
        let inner = quoted.strip_prefix('"')?;
        // Entity tag characters exclude `"`, so the next one closes it.
        let end = inner.find('"')?;
        found.push(&quoted[..end + 2]);
        rest = &inner[end + 1..];
        if !rest.is_empty() && !rest.starts_with([' ', '\t', ',']) {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "\"a1b2\"";

    #[test]
    fn matches_its_own_tag_in_a_list() {
        assert!(none_match("\"a1b2\"", TAG));
        assert!(none_match("\"x\", \"a1b2\"", TAG));
        assert!(none_match("\"x\",\"a1b2\",\"y\"", TAG));
    }

    #[test]
    fn compares_weakly() {
        assert!(none_match("W/\"a1b2\"", TAG));
        assert!(none_match("\"a1b2\"", "W/\"a1b2\""));
    }

    #[test]
    fn star_matches_anything() {
        assert!(none_match("*", TAG));
        assert!(none_match(" * ", TAG));
    }

    #[test]
    fn other_tags_do_not_match() {
        assert!(!none_match("\"a1b2-br\"", TAG));
        assert!(!none_match("\"a1b\"", TAG));
        assert!(!none_match("", TAG));
    }

    #[test]
    fn a_malformed_list_matches_nothing() {
        assert!(!none_match("a1b2", TAG));
        assert!(!none_match("\"a1b2", TAG));
        assert!(!none_match("\"a1b2\"x", TAG));
        assert!(!none_match("\"a1b2\", junk", TAG));
        assert!(!none_match("W/", TAG));
    }

    #[test]
    fn commas_inside_a_tag_are_part_of_it() {
        assert!(none_match("\"a,b\"", "\"a,b\""));
        assert!(!none_match("\"a,b\"", "\"a\""));
    }
}
