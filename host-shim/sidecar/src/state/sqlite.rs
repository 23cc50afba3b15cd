//! SQLite-backed state store.
