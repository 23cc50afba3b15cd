//! Embeds the front end's build (web/dist, or DOCKET_WEB_DIST) in the
//! component: see docket-assets-bundle.

use std::path::PathBuf;
use std::process::ExitCode;

use docket_assets_bundle::{BundleError, bundle};

fn main() -> ExitCode {
    println!("cargo:rerun-if-env-changed=DOCKET_WEB_DIST");
    let manifest_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dist = match std::env::var_os("DOCKET_WEB_DIST") {
        Some(dist) => manifest_dir.join(dist),
        None => manifest_dir.join("../../web/dist"),
    };
    // A folder makes cargo look at everything inside it; a missing one is
    // watched for its creation.
    println!("cargo:rerun-if-changed={}", dist.display());
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    match bundle(&dist, &out_dir.join("site")) {
        Ok(site) => match std::fs::write(out_dir.join("site.rs"), site.source) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("failed to write site.rs: {error}");
                ExitCode::FAILURE
            }
        },
        Err(error @ BundleError::NoIndex { .. }) => {
            eprintln!(
                "{error}: the web component embeds the front end's build. Build it first: \
                 `npm ci && npm run build` in web/ (scripts/build-components does this), \
                 or set DOCKET_WEB_DIST to a built folder."
            );
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("failed to embed the front end: {error}");
            ExitCode::FAILURE
        }
    }
}
