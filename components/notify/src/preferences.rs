//! What a user wants to be told, and where: one JSON value per user under
//! [`key`]. Input is checked member by member so that every rule broken is
//! reported with the field's path (`channels.push`, `device_tokens[2]`).

use docket_state::{StateStore, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::event::Kind;
use crate::record::Channel;
use crate::store;

pub const MAX_EMAIL_BYTES: usize = 254;
pub const MAX_DEVICE_TOKENS: usize = 10;
pub const MAX_DEVICE_TOKEN_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Preferences {
    pub email: Option<String>,
    pub channels: Channels,
    pub events: Events,
    pub device_tokens: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channels {
    pub email: bool,
    pub push: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Events {
    #[serde(rename = "task.created")]
    pub created: bool,
    #[serde(rename = "task.completed")]
    pub completed: bool,
    #[serde(rename = "task.due")]
    pub due: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self {
            email: None,
            channels: Channels {
                email: true,
                push: false,
            },
            events: Events {
                created: true,
                completed: true,
                due: true,
            },
            device_tokens: Vec::new(),
        }
    }
}

/// A rule the input breaks, at `field` (a dotted path; `body` for the whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub detail: String,
}

fn invalid(field: &str, detail: impl Into<String>) -> Invalid {
    Invalid {
        field: if field.is_empty() { "body" } else { field }.to_string(),
        detail: detail.into(),
    }
}

pub fn key(user_id: &str) -> String {
    format!("prefs:{user_id}")
}

/// The user's preferences, or the defaults if they never set any.
pub async fn load(store: &impl StateStore, user_id: &str) -> Result<Preferences, StoreError> {
    Ok(store::load(store, &key(user_id))
        .await?
        .map(|(preferences, _)| preferences)
        .unwrap_or_default())
}

pub async fn save(
    store: &impl StateStore,
    user_id: &str,
    preferences: &Preferences,
) -> Result<(), StoreError> {
    store
        .save(&key(user_id), &store::to_json(preferences), None)
        .await
}

impl Preferences {
    /// Whether `kind` should reach the user on `channel`.
    pub fn wants(&self, kind: Kind, channel: Channel) -> bool {
        let channel_on = match channel {
            Channel::Email => self.channels.email,
            Channel::Push => self.channels.push,
        };
        let kind_on = match kind {
            Kind::Created => self.events.created,
            Kind::Completed => self.events.completed,
            Kind::Due => self.events.due,
        };
        channel_on && kind_on
    }

    /// Whole preferences from a client, every member required.
    pub fn from_json(value: &Value) -> Result<Preferences, Invalid> {
        let members = object(value, "", &["email", "channels", "events", "device_tokens"])?;
        let channels = object(&members["channels"], "channels", &["email", "push"])?;
        let events = object(
            &members["events"],
            "events",
            &["task.created", "task.completed", "task.due"],
        )?;
        Ok(Preferences {
            email: email(&members["email"])?,
            channels: Channels {
                email: flag(channels, "channels", "email")?,
                push: flag(channels, "channels", "push")?,
            },
            events: Events {
                created: flag(events, "events", "task.created")?,
                completed: flag(events, "events", "task.completed")?,
                due: flag(events, "events", "task.due")?,
            },
            device_tokens: device_tokens(&members["device_tokens"])?,
        })
    }
}

fn path(parent: &str, name: &str) -> String {
    if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}.{name}")
    }
}

/// An object with exactly `names` as members.
fn object<'a>(
    value: &'a Value,
    field: &str,
    names: &[&str],
) -> Result<&'a Map<String, Value>, Invalid> {
    let members = value
        .as_object()
        .ok_or_else(|| invalid(field, "must be an object"))?;
    if let Some(unknown) = members.keys().find(|name| !names.contains(&name.as_str())) {
        return Err(invalid(&path(field, unknown), "is not a known member"));
    }
    if let Some(missing) = names.iter().find(|name| !members.contains_key(**name)) {
        return Err(invalid(&path(field, missing), "is required"));
    }
    Ok(members)
}

fn flag(members: &Map<String, Value>, parent: &str, name: &str) -> Result<bool, Invalid> {
    members[name]
        .as_bool()
        .ok_or_else(|| invalid(&path(parent, name), "must be true or false"))
}

fn email(value: &Value) -> Result<Option<String>, Invalid> {
    match value {
        Value::Null => Ok(None),
        Value::String(address) if plausible_email(address) => Ok(Some(address.clone())),
        _ => Err(invalid(
            "email",
            format!("must be null or an email address of at most {MAX_EMAIL_BYTES} bytes"),
        )),
    }
}

fn device_tokens(value: &Value) -> Result<Vec<String>, Invalid> {
    let items = value
        .as_array()
        .ok_or_else(|| invalid("device_tokens", "must be an array of strings"))?;
    if items.len() > MAX_DEVICE_TOKENS {
        return Err(invalid(
            "device_tokens",
            format!("holds at most {MAX_DEVICE_TOKENS} device tokens"),
        ));
    }
    let mut tokens: Vec<String> = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let field = format!("device_tokens[{index}]");
        let token = item
            .as_str()
            .filter(|token| plausible_token(token))
            .ok_or_else(|| {
                invalid(
                    &field,
                    format!(
                        "must be 1 to {MAX_DEVICE_TOKEN_CHARS} printable ASCII characters without spaces"
                    ),
                )
            })?;
        if let Some(first) = tokens.iter().position(|seen| seen == token) {
            return Err(invalid(&field, format!("repeats device_tokens[{first}]")));
        }
        tokens.push(token.to_string());
    }
    Ok(tokens)
}

fn plausible_token(token: &str) -> bool {
    (1..=MAX_DEVICE_TOKEN_CHARS).contains(&token.len())
        && token.bytes().all(|b| b.is_ascii_graphic())
}

/// One `@` between a non-empty local part and a dotted domain, no white
/// space or control characters, at most [`MAX_EMAIL_BYTES`]. Deliverability
/// is the provider's business.
pub fn plausible_email(address: &str) -> bool {
    let Some((local, domain)) = address.split_once('@') else {
        return false;
    };
    address.len() <= MAX_EMAIL_BYTES
        && !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !address.chars().any(|c| c.is_whitespace() || c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plausible_and_implausible_addresses() {
        assert!(plausible_email("ada@example.com"));
        assert!(plausible_email("a.b+tag@mail.example.co.uk"));
        for bad in [
            "",
            "ada",
            "@example.com",
            "ada@",
            "ada@localhost",
            "ada@@example.com",
            "a@b@example.com",
            "ada @example.com",
            "ada@example.com\n",
            "ada@.example.com",
            "ada@example.",
        ] {
            assert!(!plausible_email(bad), "{bad:?} passed");
        }
        let long = format!("{}@example.com", "a".repeat(MAX_EMAIL_BYTES));
        assert!(!plausible_email(&long));
    }
}
