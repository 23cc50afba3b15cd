//! SQLite broker.
