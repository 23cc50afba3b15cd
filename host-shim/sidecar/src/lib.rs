//! A Dapr-compatible sidecar: the Dapr HTTP API with durable embedded and Redis backends.

pub mod bindings;
pub mod errors;
pub mod pubsub;
pub mod resiliency;
pub mod routing;
pub mod secrets;
pub mod state;
