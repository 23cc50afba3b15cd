//! The files of a build: which there are, what type each is, and which
//! names carry a content hash.

use std::path::{Path, PathBuf};

use crate::BundleError;

/// Every file under `dist` as (path relative to it with `/` separators,
/// full path), sorted by the relative path. Symbolic links are followed.
pub fn list(dist: &Path) -> Result<Vec<(String, PathBuf)>, BundleError> {
    let mut found = Vec::new();
    let mut folders = vec![dist.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let read = |source| BundleError::Read {
            path: folder.clone(),
            source,
        };
        for entry in std::fs::read_dir(&folder).map_err(read)? {
            let path = entry.map_err(read)?.path();
            if path.is_dir() {
                folders.push(path);
            } else if path.is_file() {
                let relative = relative(dist, &path)?;
                found.push((relative, path));
            }
        }
    }
    found.sort();
    Ok(found)
}

fn relative(dist: &Path, path: &Path) -> Result<String, BundleError> {
    let not_utf8 = || BundleError::NotUtf8 {
        path: path.to_path_buf(),
    };
    let parts: Option<Vec<&str>> = path
        .strip_prefix(dist)
        .map_err(|_| not_utf8())?
        .components()
        .map(|part| part.as_os_str().to_str())
        .collect();
    Ok(parts.ok_or_else(not_utf8)?.join("/"))
}

/// The `Content-Type` for a file name, by its extension.
pub fn content_type(name: &str) -> &'static str {
    let extension = name
        .rsplit_once('.')
        .map(|(_, extension)| extension.to_ascii_lowercase())
        .unwrap_or_default();
    match extension.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        // RFC 9239.
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "txt" => "text/plain; charset=utf-8",
        "xml" => "application/xml",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "otf" => "font/otf",
        "wasm" => "application/wasm",
        _ => "application/octet-stream",
    }
}

/// Length of the hash Vite (Rollup and Rolldown alike) puts in the names it
/// emits under `assets/`: `<name>-<hash>.<ext>`.
const HASH_LENGTH: usize = 8;

/// Whether `relative` is a build output whose name changes with its content:
/// under `assets/`, ending in `-` and a hash of URL-safe base64 characters.
/// A hash of lower-case letters only is taken for a word (`app-settings.js`
/// copied from `public/`): such a file is revalidated, which costs a request,
/// where taking a word for a hash would serve stale content for a year.
pub fn is_hashed(relative: &str) -> bool {
    let Some(name) = relative.strip_prefix("assets/") else {
        return false;
    };
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
    let Some(split) = stem.len().checked_sub(HASH_LENGTH + 1) else {
        return false;
    };
    let (before, hash) = stem.split_at(split);
    let hash = &hash[1..];
    !before.is_empty()
        && stem.as_bytes()[split] == b'-'
        && hash
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && hash.bytes().any(|b| !b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_types_a_vite_build_writes() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(
            content_type("assets/a-1.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("assets/a-1.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("logo.svg"), "image/svg+xml");
        assert_eq!(content_type("icon.png"), "image/png");
        assert_eq!(content_type("favicon.ico"), "image/x-icon");
        assert_eq!(
            content_type("site.webmanifest"),
            "application/manifest+json"
        );
        assert_eq!(content_type("assets/inter-Ab12Cd34.woff2"), "font/woff2");
        assert_eq!(content_type("data.json"), "application/json");
        assert_eq!(content_type("robots.txt"), "text/plain; charset=utf-8");
        assert_eq!(content_type("LICENSE"), "application/octet-stream");
    }

    #[test]
    fn recognises_vite_hashed_names() {
        assert!(is_hashed("assets/index-CUx_zxLk.js"));
        assert!(is_hashed("assets/index-B-3xYz_a.css"));
        assert!(is_hashed("assets/inter-latin-Ab12Cd34.woff2"));
        assert!(is_hashed("assets/fonts/inter-0a1b2c3d.woff2"));
        assert!(is_hashed("assets/vendor-D4e5F6g7.js.map"));
    }

    #[test]
    fn other_names_are_not_hashed() {
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("favicon-CUx_zxLk.ico"));
        assert!(!is_hashed("assets/logo.svg"));
        assert!(!is_hashed("assets/app-settings.js"));
        assert!(!is_hashed("assets/-CUx_zxLk.js"));
        assert!(!is_hashed("assets/index-CUx_zx.js"));
        assert!(!is_hashed("assets/index-CUx.zxLk.js"));
        assert!(!is_hashed("assets/index_CUx_zxLk.js"));
    }
}
