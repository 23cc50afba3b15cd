//! One attempt to get a notice through one channel: the configured provider,
//! or the local mailbox when there is none.

use chrono::{DateTime, Utc};
use docket_http::HttpClient;
use docket_state::{StateStore, StoreError};

use crate::event::Notice;
use crate::mailbox;
use crate::message::Message;
use crate::preferences::Preferences;
use crate::push;
use crate::record::{Attempt, Channel, DeliveryRecord, Provider};
use crate::sendgrid;
use crate::settings::Settings;

/// A notice on its way to one user.
pub struct Delivery<'a, H, S> {
    pub http: &'a H,
    pub store: &'a S,
    pub settings: &'a Settings,
    pub notice: &'a Notice,
    pub message: &'a Message,
    pub preferences: &'a Preferences,
}

impl<H: HttpClient, S: StateStore> Delivery<'_, H, S> {
    pub fn provider(&self, channel: Channel) -> Provider {
        match channel {
            Channel::Email if self.settings.sendgrid.is_some() => Provider::Sendgrid,
            Channel::Push if self.settings.fcm.is_some() => Provider::Fcm,
            _ => Provider::Mailbox,
        }
    }

    pub async fn attempt(
        &self,
        channel: Channel,
        record: &mut DeliveryRecord,
        now: DateTime<Utc>,
    ) -> Result<Attempt, StoreError> {
        match channel {
            Channel::Email => self.email(now).await,
            Channel::Push => self.push(record, now).await,
        }
    }

    /// The mailbox stands in for any inbox, so it needs no address.
    async fn email(&self, now: DateTime<Utc>) -> Result<Attempt, StoreError> {
        let Some(config) = &self.settings.sendgrid else {
            return self.to_mailbox(Channel::Email, now).await;
        };
        let Some(address) = &self.preferences.email else {
            return Ok(Attempt::Failed("no email address".into()));
        };
        Ok(sendgrid::send(
            self.http,
            config,
            address,
            self.message,
            &self.notice.event_id,
        )
        .await)
    }

    /// The mailbox stands in for the user's devices, so without a device
    /// token there is nothing to stand in for: that fails as it does with FCM.
    async fn push(
        &self,
        record: &mut DeliveryRecord,
        now: DateTime<Utc>,
    ) -> Result<Attempt, StoreError> {
        let tokens = &self.preferences.device_tokens;
        if tokens.is_empty() {
            return Ok(Attempt::Failed("no device token".into()));
        }
        let Some(fcm) = &self.settings.fcm else {
            return self.to_mailbox(Channel::Push, now).await;
        };
        push::send(self, fcm, tokens, record, now).await
    }

    async fn to_mailbox(
        &self,
        channel: Channel,
        now: DateTime<Utc>,
    ) -> Result<Attempt, StoreError> {
        let message_id = mailbox::put(self.store, self.notice, self.message, channel, now).await?;
        Ok(Attempt::Sent {
            message_id: Some(message_id),
            note: None,
        })
    }
}
