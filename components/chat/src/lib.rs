//! The task assistant's logic: built-in understanding of plain requests
//! ("add buy milk tomorrow high priority", "what's due this week", "done
//! with buy milk"), independent of any host.

pub mod assistant;
pub mod history;
pub mod llm;
pub mod mcp;
pub mod service;
pub use docket_state as store;
pub mod tools;
pub mod understand;
pub mod when;
mod words;

pub use understand::{Intent, ListWindow, TaskRef, understand};
