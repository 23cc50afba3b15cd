//! `docket token`: print an HS256 bearer token for a local user, signed with
//! the secret `docket up` gives the app's `jwt_secret` variable.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use clap::Args;
use docket_auth::Claims;

use crate::local_secrets;

/// The application variable holding the HS256 secret.
const SECRET_VARIABLE: &str = "jwt_secret";
/// What `docket up` reads for it before the local secret (default env prefix).
const SECRET_ENV: &str = "SPIN_VARIABLE_JWT_SECRET";
/// docket-auth refuses longer subjects.
const MAX_USER_CHARS: usize = 255;

#[derive(Args)]
pub struct TokenArgs {
    /// The user the token speaks for (its `sub` claim)
    #[arg(long, value_parser = parse_user)]
    user: String,
    /// How long the token stays valid: a whole number with s, m, h or d
    #[arg(long, default_value = "24h", value_parser = parse_ttl)]
    ttl: u64,
    /// Durable state, as for `docket up`; holds the local secret
    #[arg(long, env = "DOCKET_DATA_DIR", default_value = ".docket")]
    data_dir: PathBuf,
    /// The Spin manifest; checked to declare `jwt_secret` as a required secret
    #[arg(
        short = 'f',
        long = "manifest",
        visible_alias = "from",
        env = "DOCKET_MANIFEST",
        default_value = "spin.toml"
    )]
    manifest: PathBuf,
}

pub fn run(args: &TokenArgs) -> anyhow::Result<()> {
    warn_unless_declared(&args.manifest);
    let secret = match std::env::var_os(SECRET_ENV) {
        Some(value) => {
            let value = value
                .into_string()
                .map_err(|_| anyhow::anyhow!("{SECRET_ENV} is not valid UTF-8"))?;
            if value.is_empty() {
                bail!("{SECRET_ENV} is set but empty");
            }
            value
        }
        None => {
            let data_dir = std::path::absolute(&args.data_dir)
                .with_context(|| format!("invalid data dir {}", args.data_dir.display()))?;
            local_secrets::load_or_create(&data_dir, SECRET_VARIABLE)?.0
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .context("the system clock is before 1970")?
        .as_secs();
    let now = i64::try_from(now).context("the system clock is out of range")?;
    let ttl = i64::try_from(args.ttl).context("--ttl is too long")?;
    let claims = Claims::new(args.user.clone(), now, ttl);
    println!("{}", docket_auth::sign_hs256(secret.as_bytes(), &claims));
    Ok(())
}

/// `docket up` uses the local secret only for a required secret variable;
/// anything else means the token would not match what the app verifies with.
fn warn_unless_declared(manifest: &std::path::Path) {
    match docket_manifest::load(manifest) {
        Ok(app) => match app.variables.get(SECRET_VARIABLE) {
            Some(v) if v.required && v.secret => {}
            _ => tracing::warn!(
                manifest = %manifest.display(),
                variable = SECRET_VARIABLE,
                "the manifest does not declare this as a required secret variable"
            ),
        },
        Err(e) => tracing::warn!(
            manifest = %manifest.display(),
            error = %format!("{e:#}"),
            "could not read the manifest to check its variables"
        ),
    }
}

fn parse_user(user: &str) -> Result<String, String> {
    if user.trim().is_empty() {
        return Err("the user must not be empty".into());
    }
    if user.chars().count() > MAX_USER_CHARS {
        return Err(format!(
            "the user must be at most {MAX_USER_CHARS} characters"
        ));
    }
    if user.chars().any(char::is_control) {
        return Err("the user must not contain control characters".into());
    }
    Ok(user.to_string())
}

/// `30s`, `15m`, `24h`, `7d` → seconds.
fn parse_ttl(ttl: &str) -> Result<u64, String> {
    let error = || format!("expected a whole number with s, m, h or d (like 24h), got {ttl:?}");
    let split = ttl.len().checked_sub(1).ok_or_else(error)?;
    let (number, unit) = ttl.split_at_checked(split).ok_or_else(error)?;
    let unit_secs: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(error()),
    };
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(error());
    }
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(unit_secs))
        .filter(|&secs| i64::try_from(secs).is_ok())
        .ok_or_else(|| format!("--ttl {ttl} is too long"))?;
    if secs == 0 {
        return Err("--ttl must be longer than zero".into());
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ttls_with_a_unit() {
        for (ttl, secs) in [("30s", 30), ("15m", 900), ("24h", 86_400), ("7d", 604_800)] {
            assert_eq!(parse_ttl(ttl), Ok(secs), "{ttl}");
        }
    }

    #[test]
    fn refuses_bad_ttls() {
        for ttl in [
            "",
            "h",
            "24",
            "24x",
            "-1h",
            "+1h",
            "1.5h",
            "0s",
            "1 h",
            "é",
            "99999999999999999999d",
        ] {
            assert!(parse_ttl(ttl).is_err(), "{ttl:?}");
        }
    }

    #[test]
    fn refuses_empty_long_or_control_users() {
        assert!(parse_user("").is_err());
        assert!(parse_user("  ").is_err());
        assert!(parse_user(&"a".repeat(256)).is_err());
        assert!(parse_user("a\nb").is_err());
        assert_eq!(parse_user("alice").as_deref(), Ok("alice"));
    }
}
