//! What `docket` tells operators about itself: Prometheus metrics (HTTP
//! requests per component and route, pub/sub publishes and deliveries, the
//! outbox backlog) and W3C trace context for the requests it serves.

pub mod metrics;
pub mod trace;

pub use metrics::{Metrics, Probe, global};
