//! `docket migrate`: apply `migrations/<kind>/` to a SQLite file or a
//! Postgres database; and the embedded migration `docket up` runs itself.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use docket_manifest::App;
use docket_migrate::{Target, migrate_postgres, migrate_sqlite, read_dir};

#[derive(Args)]
pub struct MigrateArgs {
    /// `sqlite:PATH` or a `postgres://` URL
    #[arg(long, env = "DOCKET_DATABASE_URL", hide_env_values = true)]
    database: String,
    /// Folder of migration files (default: migrations/sqlite or migrations/postgres)
    #[arg(long)]
    dir: Option<PathBuf>,
}

pub fn run(args: &MigrateArgs) -> anyhow::Result<()> {
    // The URL may hold a password: it is never echoed back.
    let target = Target::parse(&args.database)
        .context("--database must be sqlite:PATH or a postgres:// URL")?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| Path::new("migrations").join(target.kind()));
    let migrations = read_dir(&dir)?;
    let applied = match &target {
        Target::Sqlite(path) => migrate_sqlite(path, &migrations)?,
        Target::Postgres(url) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .context("failed to start the async runtime")?
            .block_on(migrate_postgres(url, &migrations))?,
    };
    for name in &applied {
        println!("applied {name}");
    }
    println!(
        "{} migration(s) applied, {} already in place",
        applied.len(),
        migrations.len() - applied.len()
    );
    Ok(())
}

/// Before serving, brings the embedded database (the `default` SQLite label)
/// up to date with `migrations/sqlite` next to the manifest, when a
/// component uses that database and the folder exists.
pub fn migrate_embedded(app: &App, database: &Path) -> anyhow::Result<()> {
    let dir = app.base_dir.join("migrations/sqlite");
    let used = app
        .components
        .values()
        .any(|c| c.sqlite_databases.iter().any(|label| label == "default"));
    if !used || !dir.is_dir() {
        return Ok(());
    }
    let migrations = read_dir(&dir)?;
    let applied = migrate_sqlite(database, &migrations)
        .with_context(|| format!("failed to migrate {}", database.display()))?;
    tracing::info!(database = %database.display(), applied = applied.len(), "embedded database migrated");
    Ok(())
}
