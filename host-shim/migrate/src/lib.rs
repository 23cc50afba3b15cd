//! Forward-only SQL migrations for SQLite and Postgres, recorded and checksummed.
//!
//! Files are `NNNN_name.sql` in one folder per database kind. Each runs in
//! its own transaction and is recorded in `schema_migrations` with its
//! SHA-256; a recorded file that was edited afterwards, or a recorded
//! version whose file is gone, stops the run before anything is applied.

mod plan;
mod postgres;
mod sqlite;

use std::path::{Path, PathBuf};

pub use plan::{Applied, plan};
pub use postgres::migrate_postgres;
pub use sqlite::migrate_sqlite;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error("failed to read migrations from {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{name}: migration files are named NNNN_description.sql")]
    BadName { name: String },
    #[error("{first} and {second} have the same version number")]
    DuplicateVersion { first: String, second: String },
    #[error(
        "{name} was edited after it was applied (recorded sha256 {recorded}, file sha256 {actual}); add a new migration instead"
    )]
    Edited {
        name: String,
        recorded: String,
        actual: String,
    },
    #[error(
        "the database has migration {version} ({name}) which is not in the migrations folder; it is newer than these files"
    )]
    Unknown { version: u32, name: String },
    #[error("{name}: {message}")]
    Sql { name: String, message: String },
    #[error("database: {0}")]
    Database(String),
}

/// One migration file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    pub version: u32,
    pub name: String,
    pub sql: String,
    pub checksum: String,
}

impl Migration {
    pub fn new(name: &str, sql: String) -> Result<Self, MigrateError> {
        let bad = || MigrateError::BadName {
            name: name.to_string(),
        };
        let stem = name.strip_suffix(".sql").ok_or_else(bad)?;
        let (number, description) = stem.split_once('_').ok_or_else(bad)?;
        if number.len() != 4 || description.is_empty() {
            return Err(bad());
        }
        let version = number.parse().map_err(|_| bad())?;
        let checksum = sha256_hex(sql.as_bytes());
        Ok(Self {
            version,
            name: name.to_string(),
            sql,
            checksum,
        })
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Reads every `.sql` file of `dir`, ordered by version.
pub fn read_dir(dir: &Path) -> Result<Vec<Migration>, MigrateError> {
    let read = |source| MigrateError::Read {
        path: dir.to_path_buf(),
        source,
    };
    let mut migrations = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read)? {
        let path = entry.map_err(read)?.path();
        if path.extension().is_none_or(|ext| ext != "sql") {
            continue;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let sql = std::fs::read_to_string(&path).map_err(|source| MigrateError::Read {
            path: path.clone(),
            source,
        })?;
        migrations.push(Migration::new(&name, sql)?);
    }
    migrations.sort_by_key(|m| m.version);
    for pair in migrations.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(MigrateError::DuplicateVersion {
                first: pair[0].name.clone(),
                second: pair[1].name.clone(),
            });
        }
    }
    Ok(migrations)
}

/// Where to apply migrations: `sqlite:PATH` (or a path ending in `.db`) or a `postgres://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Target {
    pub fn parse(text: &str) -> Option<Self> {
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Some(Self::Postgres(text.to_string()));
        }
        let path = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"));
        match path {
            Some(path) if !path.is_empty() => Some(Self::Sqlite(PathBuf::from(path))),
            None if text.ends_with(".db") || text.ends_with(".sqlite") => {
                Some(Self::Sqlite(PathBuf::from(text)))
            }
            _ => None,
        }
    }

    /// The migrations subfolder for this kind of database.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_names_and_targets() {
        let m = Migration::new("0002_add_tags.sql", "SELECT 1;".into()).unwrap();
        assert_eq!((m.version, m.checksum.len()), (2, 64));
        for bad in [
            "2_x.sql",
            "0002.sql",
            "0002_.sql",
            "abcd_x.sql",
            "0002_x.txt",
        ] {
            assert!(Migration::new(bad, String::new()).is_err(), "{bad}");
        }
        assert_eq!(
            Target::parse("postgres://u@h/db"),
            Some(Target::Postgres("postgres://u@h/db".into()))
        );
        assert_eq!(
            Target::parse("sqlite:data/app.db"),
            Some(Target::Sqlite("data/app.db".into()))
        );
        assert_eq!(Target::parse("x.db"), Some(Target::Sqlite("x.db".into())));
        assert_eq!(Target::parse("mysql://x"), None);
    }
}
