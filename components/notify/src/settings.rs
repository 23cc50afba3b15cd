//! Provider configuration from the plain strings the component reads from
//! Spin variables or Dapr secrets. Nothing here ever prints a secret: the
//! `Debug` impls are written by hand and errors describe, never quote.

use std::fmt;

use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::traits::PublicKeyParts;
use serde_json::Value;
use sha2::Sha256;

use crate::preferences::plausible_email;

pub const DEFAULT_SENDGRID_BASE_URL: &str = "https://api.sendgrid.com";
pub const DEFAULT_FCM_BASE_URL: &str = "https://fcm.googleapis.com";
pub const DEFAULT_FROM: &str = "Docket <notifications@docket.local>";

/// RS256 keys shorter than this are refused (RFC 7518 §3.3).
const MIN_KEY_BITS: usize = 2048;

/// Which providers are configured, and how to reach them. A channel whose
/// provider is missing delivers to the user's local mailbox instead.
pub struct Settings {
    pub(crate) sendgrid: Option<SendGrid>,
    pub(crate) fcm: Option<Fcm>,
}

pub(crate) struct SendGrid {
    pub api_key: String,
    pub from: Sender,
    pub base_url: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Sender {
    pub email: String,
    pub name: Option<String>,
}

/// A Google service account allowed to send through FCM.
pub(crate) struct Fcm {
    pub project_id: String,
    pub client_email: String,
    pub private_key_id: String,
    pub token_uri: String,
    pub signing_key: SigningKey<Sha256>,
    pub base_url: String,
}

/// A setting that cannot be used; the message names the setting and the
/// problem, never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub setting: &'static str,
    pub problem: String,
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.setting, self.problem)
    }
}

impl std::error::Error for SettingsError {}

fn error(setting: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError {
        setting,
        problem: problem.into(),
    }
}

impl Settings {
    /// An empty `sendgrid_api_key` leaves SendGrid out, an empty
    /// `fcm_service_account_json` FCM; empty base URLs and sender take the
    /// defaults above.
    pub fn new(
        sendgrid_api_key: &str,
        sendgrid_from: &str,
        sendgrid_base_url: &str,
        fcm_service_account_json: &str,
        fcm_base_url: &str,
    ) -> Result<Settings, SettingsError> {
        let api_key = sendgrid_api_key.trim();
        let sendgrid = if api_key.is_empty() {
            None
        } else {
            if api_key.chars().any(|c| !c.is_ascii_graphic()) {
                return Err(error(
                    "sendgrid_api_key",
                    "must be printable ASCII without spaces",
                ));
            }
            Some(SendGrid {
                api_key: api_key.to_string(),
                from: sender(sendgrid_from)?,
                base_url: base_url(
                    "sendgrid_base_url",
                    sendgrid_base_url,
                    DEFAULT_SENDGRID_BASE_URL,
                )?,
            })
        };
        let fcm = if fcm_service_account_json.trim().is_empty() {
            None
        } else {
            let base_url = base_url("fcm_base_url", fcm_base_url, DEFAULT_FCM_BASE_URL)?;
            Some(service_account(fcm_service_account_json, base_url)?)
        };
        Ok(Settings { sendgrid, fcm })
    }

    /// Neither provider: every notice goes to the local mailbox.
    pub fn mailbox_only() -> Settings {
        Settings {
            sendgrid: None,
            fcm: None,
        }
    }

    pub fn sendgrid_configured(&self) -> bool {
        self.sendgrid.is_some()
    }

    pub fn fcm_configured(&self) -> bool {
        self.fcm.is_some()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("sendgrid", &self.sendgrid)
            .field("fcm", &self.fcm)
            .finish()
    }
}

impl fmt::Debug for SendGrid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendGrid")
            .field("from", &self.from)
            .field("base_url", &self.base_url)
            .field("api_key", &"[redacted]")
            .finish()
    }
}

impl fmt::Debug for Fcm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Fcm")
            .field("project_id", &self.project_id)
            .field("client_email", &self.client_email)
            .field("token_uri", &self.token_uri)
            .field("base_url", &self.base_url)
            .field("private_key", &"[redacted]")
            .finish()
    }
}

/// `Name <address>`, `"Name" <address>` or a bare address.
fn sender(text: &str) -> Result<Sender, SettingsError> {
    let text = match text.trim() {
        "" => DEFAULT_FROM,
        text => text,
    };
    let (name, email) = match text.strip_suffix('>').and_then(|t| t.rsplit_once('<')) {
        Some((name, email)) => (name.trim().trim_matches('"').trim(), email.trim()),
        None => ("", text),
    };
    if !plausible_email(email) || name.chars().any(char::is_control) {
        return Err(error(
            "sendgrid_from",
            "must be `Name <address>` or a plain email address",
        ));
    }
    Ok(Sender {
        email: email.to_string(),
        name: (!name.is_empty()).then(|| name.to_string()),
    })
}

/// An `http(s)://host[/path]` URL without a trailing slash.
fn base_url(setting: &'static str, text: &str, default: &str) -> Result<String, SettingsError> {
    let url = match text.trim() {
        "" => default,
        text => text,
    };
    if http_url(url) {
        Ok(url.trim_end_matches('/').to_string())
    } else {
        // The URL is not echoed: it could carry credentials.
        Err(error(setting, "must be an http:// or https:// URL"))
    }
}

fn http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        !rest.starts_with('/') && !rest.is_empty() && !url.chars().any(|c| !c.is_ascii_graphic())
    })
}

/// Google's service-account key file.
fn service_account(json: &str, base_url: String) -> Result<Fcm, SettingsError> {
    const SETTING: &str = "fcm_service_account_json";
    // serde_json's messages can quote the input, so only the position is kept.
    let value: Value = serde_json::from_str(json).map_err(|e| {
        error(
            SETTING,
            format!(
                "is not valid JSON (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let member = |name: &str| {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|text| !text.is_empty())
            .ok_or_else(|| error(SETTING, format!("`{name}` is missing or not a string")))
    };
    if member("type")? != "service_account" {
        return Err(error(SETTING, "`type` must be \"service_account\""));
    }
    let project_id = member("project_id")?;
    if !project_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | ':' | '.'))
    {
        return Err(error(
            SETTING,
            "`project_id` is not a Google Cloud project id",
        ));
    }
    let token_uri = member("token_uri")?;
    if !http_url(token_uri) {
        return Err(error(
            SETTING,
            "`token_uri` must be an http:// or https:// URL",
        ));
    }
    let key = RsaPrivateKey::from_pkcs8_pem(member("private_key")?).map_err(|_| {
        error(
            SETTING,
            "`private_key` is not an RSA private key in PKCS#8 PEM",
        )
    })?;
    if key.size() * 8 < MIN_KEY_BITS {
        return Err(error(
            SETTING,
            format!("`private_key` is shorter than {MIN_KEY_BITS} bits"),
        ));
    }
    Ok(Fcm {
        project_id: project_id.to_string(),
        client_email: member("client_email")?.to_string(),
        private_key_id: member("private_key_id")?.to_string(),
        token_uri: token_uri.to_string(),
        signing_key: SigningKey::new(key),
        base_url,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn empty_strings_configure_nothing() {
        let settings = Settings::new("", "", "", "", "").unwrap();
        assert!(!settings.sendgrid_configured());
        assert!(!settings.fcm_configured());
    }

    #[test]
    fn senders_with_and_without_a_name() {
        let named = |text| sender(text).ok();
        assert_eq!(
            named("  \"Docket Bot\" <bot@docket.example> "),
            Some(Sender {
                email: "bot@docket.example".into(),
                name: Some("Docket Bot".into()),
            })
        );
        assert_eq!(
            named("bot@docket.example"),
            Some(Sender {
                email: "bot@docket.example".into(),
                name: None,
            })
        );
        assert_eq!(
            named("").map(|s| s.email),
            Some("notifications@docket.local".into())
        );
        assert_eq!(named("Docket <not an address>"), None);
    }

    #[test]
    fn base_urls_default_and_lose_their_trailing_slash() {
        assert_eq!(
            base_url("x", " ", DEFAULT_FCM_BASE_URL).ok().as_deref(),
            Some("https://fcm.googleapis.com")
        );
        assert_eq!(
            base_url("x", "http://localhost:8080/", "").ok().as_deref(),
            Some("http://localhost:8080")
        );
        assert!(base_url("x", "ftp://example.com", "").is_err());
        assert!(base_url("x", "https:///path", "").is_err());
    }
}
