//! Redis-backed state store (see the module docs of `state`).
