//! `docket sidecar`: the Dapr sidecar alone, in front of any HTTP app, as
//! `daprd --app-id ID --app-port N --resources-path DIR` runs.

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use docket_sidecar::Sidecar;

use crate::dapr::DaprArgs;
use crate::signals::Shutdown;

#[derive(Args)]
pub struct SidecarArgs {
    /// The app's Dapr app-id
    #[arg(long, env = "APP_ID")]
    app_id: String,
    /// Port the app listens on (on 127.0.0.1)
    #[arg(long, env = "APP_PORT")]
    app_port: u16,
    /// Durable state of the embedded backends
    #[arg(long, env = "DOCKET_DATA_DIR", default_value = ".docket")]
    data_dir: PathBuf,
    #[command(flatten)]
    dapr: DaprArgs,
}

pub fn run(args: SidecarArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("failed to start the async runtime")?;
    runtime.block_on(async move {
        let cwd = std::env::current_dir().context("no current directory")?;
        let data_dir = std::path::absolute(&args.data_dir)?;
        let config = args.dapr.sidecar_config(
            vec![args.app_id.clone()],
            format!("http://127.0.0.1:{}", args.app_port),
            args.dapr.listen(),
            data_dir,
            &cwd,
        )?;
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("failed to listen on {}", config.listen))?;
        let sidecar = Sidecar::start(config, listener).await?;
        tracing::info!(listen = %sidecar.local_addr(), app_id = %args.app_id, "Dapr API on http://{}", sidecar.local_addr());
        let shutdown = Shutdown::listen();
        sidecar.run(shutdown.clone().wait()).await?;
        shutdown.wait().await;
        Ok(())
    })
}
