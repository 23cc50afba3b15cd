//! `bundle` on a folder shaped like a Vite build.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;
use std::path::PathBuf;

use docket_assets_bundle::{BundleError, bundle};

/// A folder of the test's own under the system's temporary folder, removed
/// when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "docket-assets-bundle-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        Self(path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const INDEX: &str =
    "<!doctype html><script type=\"module\" src=\"/assets/index-CUx_zxLk.js\"></script>";

fn script() -> String {
    "export function docket(task) { return task.title + ' is due'; }\n".repeat(50)
}

fn vite_dist(root: &Scratch) -> PathBuf {
    let dist = root.0.join("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(dist.join("index.html"), INDEX).unwrap();
    std::fs::write(dist.join("assets/index-CUx_zxLk.js"), script()).unwrap();
    // Random-looking bytes do not compress.
    let noise: Vec<u8> = (0u32..64)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dist.join("favicon.png"), noise).unwrap();
    dist
}

/// The `include_bytes!` path and entity tag of the variant after `label`
/// in the entry for `path`.
fn variant(source: &str, path: &str, label: &str) -> Option<(String, String)> {
    let entry = source.split(&format!("path: {path:?}")).nth(1)?;
    let entry = entry.split("docket_assets::Asset {").next()?;
    let after = entry.split(&format!("{label}: ")).nth(1)?;
    if after.starts_with("None") {
        return None;
    }
    let file = after.split("include_bytes!(\"").nth(1)?.split('"').next()?;
    let etag = after.split("etag: \"\\\"").nth(1)?.split("\\\"").next()?;
    Some((file.to_string(), etag.to_string()))
}

#[test]
fn embeds_every_file_sorted_with_its_type_and_caching() {
    let root = Scratch::new("sorted");
    let dist = vite_dist(&root);
    let bundle = bundle(&dist, &root.0.join("out")).unwrap();
    assert_eq!(
        bundle.paths,
        ["/assets/index-CUx_zxLk.js", "/favicon.png", "/index.html"]
    );
    let source = &bundle.source;
    assert!(source.starts_with("/// The files"));
    assert!(source.contains("pub static SITE: docket_assets::Site"));
    assert!(source.contains("index: \"/index.html\""));
    let js = source
        .split("\"/assets/index-CUx_zxLk.js\"")
        .nth(1)
        .unwrap();
    assert!(js.contains("content_type: \"text/javascript; charset=utf-8\""));
    assert!(js.contains("cache: docket_assets::Cache::Immutable"));
    let html = source.split("\"/index.html\"").nth(1).unwrap();
    assert!(html.contains("cache: docket_assets::Cache::Revalidate"));
}

#[test]
fn stores_compressed_bodies_only_when_smaller() {
    let root = Scratch::new("smaller");
    let dist = vite_dist(&root);
    let source = bundle(&dist, &root.0.join("out")).unwrap().source;

    let (raw, tag) = variant(&source, "/assets/index-CUx_zxLk.js", "identity").unwrap();
    assert_eq!(std::fs::read(raw).unwrap(), script().as_bytes());
    assert_eq!(tag.len(), 32);

    let (gzip, gzip_tag) = variant(&source, "/assets/index-CUx_zxLk.js", "gzip").unwrap();
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&std::fs::read(&gzip).unwrap()[..])
        .read_to_string(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, script());
    assert_eq!(gzip_tag, format!("{tag}-gzip"));

    let (br, br_tag) = variant(&source, "/assets/index-CUx_zxLk.js", "br").unwrap();
    let mut unbrotlied = String::new();
    brotli::Decompressor::new(&std::fs::read(&br).unwrap()[..], 4096)
        .read_to_string(&mut unbrotlied)
        .unwrap();
    assert_eq!(unbrotlied, script());
    assert_eq!(br_tag, format!("{tag}-br"));
    assert!(std::fs::metadata(&br).unwrap().len() < std::fs::metadata(&gzip).unwrap().len());

    assert!(variant(&source, "/favicon.png", "identity").is_some());
    assert_eq!(variant(&source, "/favicon.png", "gzip"), None);
    assert_eq!(variant(&source, "/favicon.png", "br"), None);
}

#[test]
fn the_tag_follows_the_content() {
    let root = Scratch::new("tags");
    let dist = vite_dist(&root);
    let tag = |dist: &PathBuf| {
        let source = bundle(dist, &root.0.join("out")).unwrap().source;
        variant(&source, "/index.html", "identity").unwrap().1
    };
    let first = tag(&dist);
    assert_eq!(tag(&dist), first);
    std::fs::write(dist.join("index.html"), "<!doctype html><p>changed").unwrap();
    assert_ne!(tag(&dist), first);
}

#[test]
fn a_folder_without_index_is_refused() {
    let root = Scratch::new("missing");
    let error = bundle(&root.0.join("dist"), &root.0.join("out")).unwrap_err();
    assert!(matches!(error, BundleError::NoIndex { .. }));
    assert!(error.to_string().ends_with("dist has no index.html"));
}
