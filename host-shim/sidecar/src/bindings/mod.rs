//! Input and output bindings.
