//! Redis Streams broker.
