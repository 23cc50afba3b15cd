//! `docket build`: each component's `build.command`, run in its workdir.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, bail};
use clap::Args;

#[derive(Args)]
pub struct BuildArgs {
    /// The Spin manifest
    #[arg(
        short = 'f',
        long = "from",
        env = "DOCKET_MANIFEST",
        default_value = "spin.toml"
    )]
    pub manifest: PathBuf,
    /// Build only these components (default: all)
    #[arg(short = 'c', long = "component-id")]
    pub components: Vec<String>,
}

pub fn run(args: &BuildArgs) -> anyhow::Result<()> {
    let app = docket_manifest::load(&args.manifest)?;
    for id in &args.components {
        if !app.components.contains_key(id) {
            bail!("{}: no component `{id}`", app.path.display());
        }
    }
    for component in app.components.values() {
        if !args.components.is_empty() && !args.components.contains(&component.id) {
            continue;
        }
        let Some(build) = &component.build else {
            tracing::info!(component = %component.id, "no build command; skipped");
            continue;
        };
        for command in &build.commands {
            tracing::info!(component = %component.id, command = %command, "building");
            let status = Command::new("sh")
                .arg("-c")
                .arg(command)
                .current_dir(&build.workdir)
                .status()
                .with_context(|| {
                    format!("component `{}`: failed to run {command:?}", component.id)
                })?;
            if !status.success() {
                bail!(
                    "component `{}`: build command {command:?} failed ({status})",
                    component.id
                );
            }
        }
    }
    Ok(())
}
