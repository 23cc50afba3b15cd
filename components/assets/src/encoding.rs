//! `Accept-Encoding` negotiation (RFC 9110, section 12.5.3) among the
//! content codings a file is stored in.

/// A content coding a body can be stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Br,
}

impl Encoding {
    /// Most preferred first: on equal quality the smaller body wins.
    pub const ALL: [Self; 3] = [Self::Br, Self::Gzip, Self::Identity];

    /// The `Content-Encoding` value; none for identity.
    pub fn header(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Br => Some("br"),
        }
    }

    fn names(self) -> &'static [&'static str] {
        match self {
            Self::Identity => &["identity"],
            // RFC 9110: x-gzip is to be taken as gzip.
            Self::Gzip => &["gzip", "x-gzip"],
            Self::Br => &["br"],
        }
    }
}

/// Quality in thousandths, as RFC 9110's `qvalue` allows three decimals.
type Quality = u16;

const FULL: Quality = 1000;
/// Identity when the header does not name it: acceptable (RFC 9110), but
/// not preferred to a coding the client asked for, at whatever quality.
const LAST_RESORT: Quality = 1;

/// The encoding to send, among `available`, for an `Accept-Encoding` value
/// (`None`: the request had no such header). `None` when the client accepts
/// none of them, identity included.
pub fn negotiate(accept: Option<&str>, available: &[Encoding]) -> Option<Encoding> {
    let Some(accept) = accept else {
        // No preference stated: any coding would do, and identity is what
        // every client can read.
        return available
            .contains(&Encoding::Identity)
            .then_some(Encoding::Identity);
    };
    let entries: Vec<(&str, Quality)> = accept.split(',').filter_map(entry).collect();
    let mut best: Option<(Encoding, Quality)> = None;
    for encoding in Encoding::ALL {
        if !available.contains(&encoding) {
            continue;
        }
        let quality = quality(&entries, encoding);
        // ALL is in preference order, so only a strictly higher quality
        // displaces an earlier choice.
        if quality > 0 && best.is_none_or(|(_, q)| quality > q) {
            best = Some((encoding, quality));
        }
    }
    best.map(|(encoding, _)| encoding)
}

/// What the client said about `encoding`: its own entry, else `*`, else
/// (identity only) acceptable, below anything the client named.
fn quality(entries: &[(&str, Quality)], encoding: Encoding) -> Quality {
    let named = |wanted: &str| {
        entries
            .iter()
            .filter(|(name, _)| name.eq_ignore_ascii_case(wanted))
            .map(|(_, q)| *q)
            .max()
    };
    encoding
        .names()
        .iter()
        .filter_map(|name| named(name))
        .max()
        .or_else(|| named("*"))
        .unwrap_or(if encoding == Encoding::Identity {
            LAST_RESORT
        } else {
            0
        })
}

/// One `coding;q=...` element; `None` for an empty or malformed one.
fn entry(element: &str) -> Option<(&str, Quality)> {
    let mut parts = element.split(';');
    let name = parts.next()?.trim();
    if name.is_empty() {
        return None;
    }
    let mut quality = FULL;
    for parameter in parts {
        let (key, value) = parameter.split_once('=')?;
        if key.trim().eq_ignore_ascii_case("q") {
            quality = qvalue(value.trim())?;
        }
    }
    Some((name, quality))
}

/// `0`, `0.5`, `1.000`: at most three decimals, 0 to 1.
fn qvalue(text: &str) -> Option<Quality> {
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: Quality = match whole {
        "0" => 0,
        "1" => 1,
        _ => return None,
    };
    let mut thousandths: Quality = 0;
    for (position, digit) in fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .enumerate()
    {
        let scale = [100, 10, 1][position];
        thousandths += Quality::from(digit - b'0') * scale;
    }
    let quality = whole * FULL + thousandths;
    (quality <= FULL).then_some(quality)
}

#[cfg(test)]
mod tests {
    use super::Encoding::{Br, Gzip, Identity};
    use super::*;

    const ALL: &[Encoding] = &[Br, Gzip, Identity];

    #[test]
    fn sends_identity_without_the_header() {
        assert_eq!(negotiate(None, ALL), Some(Identity));
    }

    #[test]
    fn prefers_br_then_gzip_when_both_are_equally_welcome() {
        assert_eq!(negotiate(Some("gzip, deflate, br, zstd"), ALL), Some(Br));
        assert_eq!(negotiate(Some("gzip, deflate"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("gzip, br"), &[Gzip, Identity]), Some(Gzip));
        assert_eq!(negotiate(Some("br"), &[Identity]), Some(Identity));
    }

    #[test]
    fn honours_quality_values() {
        assert_eq!(negotiate(Some("br;q=0.5, gzip;q=0.8"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("br;q=0.5, gzip"), ALL), Some(Gzip));
        assert_eq!(
            negotiate(Some("gzip;q=0.2, identity;q=0.5"), ALL),
            Some(Identity)
        );
        assert_eq!(negotiate(Some("br;q=0, gzip;q=0"), ALL), Some(Identity));
        assert_eq!(negotiate(Some("br;q=0.001"), ALL), Some(Br));
        assert_eq!(negotiate(Some("gzip;q=0.1"), &[Identity]), Some(Identity));
    }

    #[test]
    fn takes_the_wildcard_for_codings_not_named() {
        assert_eq!(negotiate(Some("*"), ALL), Some(Br));
        assert_eq!(negotiate(Some("br;q=0, *"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("*;q=0.5, identity"), ALL), Some(Identity));
    }

    #[test]
    fn respects_identity_being_refused() {
        assert_eq!(negotiate(Some("identity;q=0"), ALL), None);
        assert_eq!(negotiate(Some("gzip, identity;q=0"), &[Identity]), None);
        assert_eq!(negotiate(Some("*;q=0"), ALL), None);
        assert_eq!(negotiate(Some("gzip, identity;q=0"), ALL), Some(Gzip));
        assert_eq!(
            negotiate(Some("*;q=0, identity"), &[Identity]),
            Some(Identity)
        );
    }

    #[test]
    fn an_empty_header_means_identity_only() {
        assert_eq!(negotiate(Some(""), ALL), Some(Identity));
        assert_eq!(negotiate(Some(" , "), ALL), Some(Identity));
    }

    #[test]
    fn reads_names_case_insensitively_and_x_gzip_as_gzip() {
        assert_eq!(negotiate(Some("GZIP"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("x-gzip"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("Br ; Q=1"), ALL), Some(Br));
    }

    #[test]
    fn ignores_malformed_entries() {
        assert_eq!(negotiate(Some("br;q=2, gzip"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("br;q=0.0001, gzip"), ALL), Some(Gzip));
        assert_eq!(negotiate(Some("br;q=abc, gzip;q"), ALL), Some(Identity));
        assert_eq!(negotiate(Some(";q=1, br;q=-1"), ALL), Some(Identity));
    }

    #[test]
    fn parses_quality_values_to_thousandths() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("1.001"), None);
        assert_eq!(qvalue("0.25"), Some(250));
        assert_eq!(qvalue("0."), Some(0));
        assert_eq!(qvalue(".5"), None);
        assert_eq!(qvalue(""), None);
    }
}
