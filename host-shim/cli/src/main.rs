//! The `docket` command: run `spin.toml` locally as Spin would.

mod build;
mod dapr;
mod local_secrets;
mod logging;
mod migrate;
mod outbox_probe;
mod sidecar;
mod signals;
mod token;
mod up;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "docket",
    version,
    about = "Run a Spin app locally, with a Dapr-compatible sidecar"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve every component of the manifest
    Up(up::UpArgs),
    /// Run each component's build command, as `spin build` does
    Build(build::BuildArgs),
    /// Run only the Dapr sidecar in front of an HTTP app, as `daprd` does
    Sidecar(sidecar::SidecarArgs),
    /// Apply the SQL migrations to a SQLite file or a Postgres database
    Migrate(migrate::MigrateArgs),
    /// Print a bearer token (HS256 JWT) for a local user
    Token(token::TokenArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let _log_guard = logging::init();
    let result = match cli.command {
        Command::Up(args) => up::run(args),
        Command::Build(args) => build::run(&args),
        Command::Sidecar(args) => sidecar::run(args),
        Command::Migrate(args) => migrate::run(&args),
        Command::Token(args) => token::run(&args),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
