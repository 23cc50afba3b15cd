//! Serves a static site from a table compiled into the component: content
//! negotiation of precompressed bodies, entity tags, caching and security
//! headers, and the single-page app's fallback to its index.

pub mod conditional;
pub mod encoding;
pub mod path;
mod serve;

pub use encoding::Encoding;
pub use serve::{ALLOW, CONTENT_SECURITY_POLICY, serve};

/// One representation of a file: its bytes and their strong entity tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Body {
    pub bytes: &'static [u8],
    /// Quoted, as sent in `ETag`.
    pub etag: &'static str,
}

/// How long clients may keep a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cache {
    /// The name carries a hash of the content: it never changes.
    Immutable,
    /// The name stays when the content changes: revalidate every time.
    Revalidate,
}

impl Cache {
    pub fn header(self) -> &'static str {
        match self {
            Self::Immutable => "public, max-age=31536000, immutable",
            Self::Revalidate => "no-cache",
        }
    }
}

/// A file of the site, with the compressed bodies that came out smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Asset {
    /// The URL path, starting with `/`.
    pub path: &'static str,
    pub content_type: &'static str,
    pub cache: Cache,
    pub identity: Body,
    pub gzip: Option<Body>,
    pub br: Option<Body>,
}

impl Asset {
    /// The body for `encoding`, if there is one.
    pub fn body(&self, encoding: Encoding) -> Option<Body> {
        match encoding {
            Encoding::Identity => Some(self.identity),
            Encoding::Gzip => self.gzip,
            Encoding::Br => self.br,
        }
    }

    /// The encodings this file is available in.
    pub fn encodings(&self) -> impl Iterator<Item = Encoding> + '_ {
        Encoding::ALL
            .into_iter()
            .filter(|encoding| self.body(*encoding).is_some())
    }
}

/// The site: its files sorted by path, and the one that answers for the
/// app's own routes.
#[derive(Debug, Clone, Copy)]
pub struct Site {
    pub assets: &'static [Asset],
    pub index: &'static str,
}

impl Site {
    pub fn find(&self, path: &str) -> Option<&'static Asset> {
        self.assets
            .binary_search_by(|asset| asset.path.cmp(path))
            .ok()
            .map(|found| &self.assets[found])
    }
}
