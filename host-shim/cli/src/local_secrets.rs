//! Local secrets: a random value per required secret variable that no source
//! sets, kept in `<data-dir>/secrets/<name>` so every later run (and `docket
//! token`) agrees on it. Makes `docket up` work on a bare machine.

use std::io::Write as _;
use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use docket_manifest::App;
use docket_manifest::template::check_variable_name;
use docket_runtime::RuntimeConfig;

/// 32 bytes: the HMAC-SHA256 key size, and enough for any other secret.
const SECRET_BYTES: usize = 32;

/// Sets every required secret variable that no source gives a value to its
/// local secret, generating the secret on first use.
///
/// Does nothing when a non-secret required variable is also missing: the
/// runtime then refuses to start, naming every missing variable, and a start
/// that fails leaves no new secret behind.
pub fn fill_missing(app: &App, config: &mut RuntimeConfig) -> anyhow::Result<()> {
    let unset: Vec<(&String, bool)> = app
        .variables
        .iter()
        .filter(|(name, declared)| declared.default.is_none() && !has_value(name, config))
        .map(|(name, declared)| (name, declared.secret && declared.required))
        .collect();
    if unset.iter().any(|(_, local)| !local) {
        return Ok(());
    }
    for (name, _) in unset {
        let (value, path) = load_or_create(&config.data_dir, name)?;
        tracing::info!(variable = %name, path = %path.display(), "using local secret");
        config.variable_overrides.insert(name.clone(), value);
    }
    Ok(())
}

/// Whether a flag, the environment or a dotenv file sets `name` (the sources
/// the runtime consults before the manifest default).
fn has_value(name: &str, config: &RuntimeConfig) -> bool {
    let env_name = format!(
        "{}{}",
        config.variable_env_prefix,
        name.to_ascii_uppercase()
    );
    config.variable_overrides.contains_key(name)
        || std::env::var_os(&env_name).is_some()
        || config.runtime_config.dotenv_values.contains_key(&env_name)
}

/// Reads the local secret `name` from `data_dir`, creating it if missing.
/// Returns the value and the file it lives in.
pub fn load_or_create(data_dir: &Path, name: &str) -> anyhow::Result<(String, PathBuf)> {
    check_variable_name(name).map_err(|e| anyhow::anyhow!("invalid secret name: {e}"))?;
    let dir = data_dir.join("secrets");
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("failed to create {}", dir.display()))?;
    // `mode` applies only to folders it creates; tighten one made by hand.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
        .with_context(|| format!("failed to restrict {}", dir.display()))?;
    let path = dir.join(name);
    if !path.exists() {
        create(&path)?;
    }
    let value = read(&path)?;
    Ok((value, path))
}

fn read(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("failed to read {}", path.display()))?;
    let value = text.trim();
    if value.is_empty() {
        bail!(
            "{} is empty; delete it to generate a new secret",
            path.display()
        );
    }
    Ok(value.to_string())
}

/// Writes a fresh secret to a private temporary file, then links it into place:
/// readers never see a half-written file, and when two processes race, the
/// first link wins and both read the same value.
fn create(path: &Path) -> anyhow::Result<()> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("failed to generate a secret: {e}"))?;
    let value: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    let written = write_new(&tmp, &value).and_then(|()| match std::fs::hard_link(&tmp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e).with_context(|| format!("failed to create {}", path.display())),
    });
    let _ = std::fs::remove_file(&tmp);
    written
}

fn write_new(path: &Path, value: &str) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("failed to create {}", path.display()))?;
    writeln!(file, "{value}")
        .and_then(|()| file.sync_all())
        .with_context(|| format!("failed to write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_a_private_secret_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let (first, path) = load_or_create(dir.path(), "jwt_secret").unwrap();
        assert_eq!(first.len(), 2 * SECRET_BYTES);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(path, dir.path().join("secrets/jwt_secret"));
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&dir.path().join("secrets")), 0o700);
        let (second, _) = load_or_create(dir.path(), "jwt_secret").unwrap();
        assert_eq!(first, second);
        let entries = std::fs::read_dir(dir.path().join("secrets"))
            .unwrap()
            .count();
        assert_eq!(entries, 1, "temporary file left behind");
    }

    fn app(variables: &str) -> App {
        let text = format!(
            "spin_manifest_version = 2\n[application]\nname = \"t\"\n[variables]\n{variables}\n\
             [component.c]\nsource = \"c.wasm\"\n"
        );
        docket_manifest::parse(Path::new("/x/spin.toml"), &text).unwrap()
    }

    fn config(data_dir: &Path) -> RuntimeConfig {
        RuntimeConfig::new("127.0.0.1:0".parse().unwrap(), data_dir.to_path_buf())
    }

    #[test]
    fn fills_only_required_secrets_without_a_value() {
        let dir = tempfile::tempdir().unwrap();
        let app = app("lsec_gen = { required = true, secret = true }\n\
             lsec_flag = { required = true, secret = true }\n\
             lsec_plain = { default = \"d\" }\n\
             lsec_dflt = { default = \"d\", secret = true }");
        let mut config = config(dir.path());
        config
            .variable_overrides
            .insert("lsec_flag".into(), "from-flag".into());
        fill_missing(&app, &mut config).unwrap();
        let stored = std::fs::read_to_string(dir.path().join("secrets/lsec_gen")).unwrap();
        assert_eq!(config.variable_overrides["lsec_gen"], stored.trim());
        assert_eq!(config.variable_overrides["lsec_flag"], "from-flag");
        assert_eq!(config.variable_overrides.len(), 2);
        let files = std::fs::read_dir(dir.path().join("secrets"))
            .unwrap()
            .count();
        assert_eq!(files, 1);
    }

    #[test]
    fn leaves_no_secret_behind_when_startup_will_fail() {
        let dir = tempfile::tempdir().unwrap();
        let app = app("lsec_gen = { required = true, secret = true }\n\
             lsec_needed = { required = true }");
        let mut config = config(dir.path());
        fill_missing(&app, &mut config).unwrap();
        assert!(config.variable_overrides.is_empty());
        assert!(!dir.path().join("secrets").exists());
    }

    #[test]
    fn refuses_names_that_are_not_variable_names() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["", "../x", "a/b", "Upper"] {
            assert!(load_or_create(dir.path(), name).is_err(), "{name}");
        }
    }

    #[test]
    fn refuses_an_empty_secret_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("secrets")).unwrap();
        std::fs::write(dir.path().join("secrets/k"), "\n").unwrap();
        let err = load_or_create(dir.path(), "k").unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
    }
}
