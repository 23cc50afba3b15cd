//! Turns a built front end (a Vite `dist` folder) into Rust source for a
//! `docket_assets::Site`: every file with its content type, caching, strong
//! entity tag and the gzip and brotli bodies that come out smaller. Run from
//! a component's build script.

mod compress;
mod files;

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use files::{content_type, is_hashed};

/// The file the site answers with for the app's own routes.
pub const INDEX: &str = "index.html";

#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    #[error("{} has no index.html", dist.display())]
    NoIndex { dist: PathBuf },
    #[error("failed to read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("failed to write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
    #[error("{} is not a UTF-8 path", path.display())]
    NotUtf8 { path: PathBuf },
}

/// What [`bundle`] made.
#[derive(Debug)]
pub struct Bundle {
    /// Defines `pub static SITE: docket_assets::Site`.
    pub source: String,
    /// URL paths, sorted.
    pub paths: Vec<String>,
}

/// Reads `dist`, writes each body under `out_dir` (which it owns) and returns
/// the source that embeds them with `include_bytes!`.
pub fn bundle(dist: &Path, out_dir: &Path) -> Result<Bundle, BundleError> {
    if !dist.join(INDEX).is_file() {
        return Err(BundleError::NoIndex {
            dist: dist.to_path_buf(),
        });
    }
    let files = files::list(dist)?;
    if out_dir.exists() {
        std::fs::remove_dir_all(out_dir).map_err(|source| write_error(out_dir, source))?;
    }
    std::fs::create_dir_all(out_dir).map_err(|source| write_error(out_dir, source))?;
    let mut entries = String::new();
    let mut paths = Vec::new();
    for (number, (relative, file)) in files.iter().enumerate() {
        let bytes = std::fs::read(file).map_err(|source| BundleError::Read {
            path: file.clone(),
            source,
        })?;
        let hash = hex(&Sha256::digest(&bytes)[..16]);
        let stored = |suffix: &str, body: &[u8]| -> Result<String, BundleError> {
            let path = out_dir.join(format!("{number}.{suffix}"));
            std::fs::write(&path, body).map_err(|source| write_error(&path, source))?;
            path.to_str()
                .map(str::to_string)
                .ok_or(BundleError::NotUtf8 { path })
        };
        let body = |suffix: &str, body: &[u8], etag: String| -> Result<String, BundleError> {
            Ok(format!(
                "docket_assets::Body {{ bytes: include_bytes!({:?}), etag: {:?} }}",
                stored(suffix, body)?,
                etag
            ))
        };
        let variant = |suffix: &str, compressed: Option<Vec<u8>>| -> Result<String, BundleError> {
            match compressed {
                Some(compressed) => Ok(format!(
                    "Some({})",
                    body(suffix, &compressed, format!("\"{hash}-{suffix}\""))?
                )),
                None => Ok("None".to_string()),
            }
        };
        let path = format!("/{relative}");
        let cache = if is_hashed(relative) {
            "Immutable"
        } else {
            "Revalidate"
        };
        let _ = writeln!(
            entries,
            "        docket_assets::Asset {{\n            path: {path:?},\n            \
             content_type: {:?},\n            cache: docket_assets::Cache::{cache},\n            \
             identity: {},\n            gzip: {},\n            br: {},\n        }},",
            content_type(relative),
            body("raw", &bytes, format!("\"{hash}\""))?,
            variant(
                "gzip",
                compress::gzip(&bytes).filter(|c| c.len() < bytes.len())
            )?,
            variant(
                "br",
                compress::brotli(&bytes).filter(|c| c.len() < bytes.len())
            )?,
        );
        paths.push(path);
    }
    let source = format!(
        "/// The files of the front end's build, sorted by path.\n\
         pub static SITE: docket_assets::Site = docket_assets::Site {{\n    \
         assets: &[\n{entries}    ],\n    index: {:?},\n}};\n",
        format!("/{INDEX}")
    );
    Ok(Bundle { source, paths })
}

fn write_error(path: &Path, source: io::Error) -> BundleError {
    BundleError::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}
