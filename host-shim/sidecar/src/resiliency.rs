//! Resiliency policies.
