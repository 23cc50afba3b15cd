//! State shared by the API handlers and the background workers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, RwLock};

use http::HeaderMap;

use crate::app_channel::AppChannel;
use crate::config::{CALLER_HEADER, SidecarConfig};
use crate::registry::Registry;
use crate::resiliency::Resiliency;
use crate::resources::SubscriptionSpec;

/// A subscription as reported by the metadata API.
#[derive(Debug, Clone)]
pub struct ActiveSubscription {
    pub spec: SubscriptionSpec,
    pub app_id: String,
    pub programmatic: bool,
}

pub struct Shared {
    pub config: SidecarConfig,
    pub registry: Registry,
    pub resiliency: Resiliency,
    pub app: AppChannel,
    /// Outbound calls (HTTP binding, invocation of other app-ids).
    pub client: reqwest::Client,
    pub ready: AtomicBool,
    pub subscriptions: RwLock<Vec<ActiveSubscription>>,
    pub extended: Mutex<BTreeMap<String, String>>,
}

impl Shared {
    /// Which app-id a call speaks for: the `docket up` caller header if it
    /// names an app-id this sidecar serves, else the default one.
    pub fn caller(&self, headers: &HeaderMap) -> String {
        headers
            .get(CALLER_HEADER)
            .and_then(|v| v.to_str().ok())
            .filter(|id| self.config.app_ids.iter().any(|known| known == id))
            .map(str::to_string)
            .unwrap_or_else(|| self.config.default_app_id().to_string())
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }
}
