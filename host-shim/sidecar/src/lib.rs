//! A Dapr-compatible sidecar: the Dapr HTTP API with durable embedded and Redis backends.

mod api;
mod app_channel;
pub mod bindings;
pub mod config;
pub mod errors;
pub mod pubsub;
mod registry;
pub mod resiliency;
pub mod resources;
pub mod routing;
pub mod secrets;
mod shared;
mod sidecar;
pub mod state;
mod subscriptions;

pub use config::{CALLER_HEADER, RouteOwner, SidecarConfig};
pub use sidecar::{Sidecar, SidecarHandle};
