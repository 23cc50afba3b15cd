//! Deciding what to apply from what the database has recorded.

use crate::{MigrateError, Migration};

/// A migration the database says it has applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub version: u32,
    pub name: String,
    pub checksum: String,
}

/// The migrations still to apply, in order; refuses edited and unknown ones.
pub fn plan<'a>(
    applied: &[Applied],
    migrations: &'a [Migration],
) -> Result<Vec<&'a Migration>, MigrateError> {
    for record in applied {
        match migrations.iter().find(|m| m.version == record.version) {
            None => {
                return Err(MigrateError::Unknown {
                    version: record.version,
                    name: record.name.clone(),
                });
            }
            Some(file) if file.checksum != record.checksum => {
                return Err(MigrateError::Edited {
                    name: file.name.clone(),
                    recorded: record.checksum.clone(),
                    actual: file.checksum.clone(),
                });
            }
            Some(_) => {}
        }
    }
    Ok(migrations
        .iter()
        .filter(|m| !applied.iter().any(|a| a.version == m.version))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(name: &str, sql: &str) -> Migration {
        Migration::new(name, sql.to_string()).unwrap()
    }

    fn applied(m: &Migration) -> Applied {
        Applied {
            version: m.version,
            name: m.name.clone(),
            checksum: m.checksum.clone(),
        }
    }

    #[test]
    fn applies_only_what_is_missing() {
        let files = vec![migration("0001_a.sql", "A"), migration("0002_b.sql", "B")];
        let pending = plan(&[applied(&files[0])], &files).unwrap();
        assert_eq!(pending.iter().map(|m| m.version).collect::<Vec<_>>(), [2]);
        assert!(
            plan(&[applied(&files[0]), applied(&files[1])], &files)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn refuses_edited_and_unknown_migrations() {
        let original = migration("0001_a.sql", "A");
        let edited = vec![migration("0001_a.sql", "A changed")];
        assert!(matches!(
            plan(&[applied(&original)], &edited),
            Err(MigrateError::Edited { .. })
        ));
        let newer = Applied {
            version: 9,
            name: "0009_future.sql".into(),
            checksum: "x".into(),
        };
        assert!(matches!(
            plan(&[newer], &edited),
            Err(MigrateError::Unknown { version: 9, .. })
        ));
    }
}
