//! Subscription routing rules.
