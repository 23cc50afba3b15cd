//! Spin manifest (v2) model, validation, HTTP routing and outbound-host rules.

mod error;
mod load;
mod model;
pub mod outbound;
pub mod route;
pub mod template;

pub use error::ManifestError;
pub use load::{load, parse};
pub use model::{
    App, BuildConfig, Component, HttpHandler, HttpTrigger, StaticResponse, TriggerRoute, Variable,
};
