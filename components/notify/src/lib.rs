//! Notifications for task events: users' preferences, delivery by email
//! (SendGrid) and push (FCM) or to a local mailbox, delivery records in the
//! state store, and the user-facing API over them.
//!
//! The notification-service component wires Spin to this crate: it hands
//! every delivery of the `task-events` topic to [`Notifier::deliver`] (and of
//! [`DEAD_LETTER_TOPIC`] to [`Notifier::dead_letter`]), answers Dapr with
//! [`Outcome::dapr_body`], serves [`subscriptions`] on `/dapr/subscribe` and
//! passes authenticated API requests to [`api::handle`].

pub mod api;
mod channel;
mod classify;
pub mod event;
mod fcm;
pub mod mailbox;
mod message;
mod notifier;
mod oauth;
pub mod preferences;
mod push;
pub mod record;
mod sendgrid;
mod settings;
mod store;

pub use notifier::{DEAD_LETTER_TOPIC, Notifier, Outcome, subscriptions};
pub use settings::{Settings, SettingsError};
