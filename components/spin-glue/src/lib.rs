//! What Docket's components share on the Spin side: reading requests and
//! writing responses, variables, bearer-token keys, and the Dapr sidecar's
//! state and publish APIs; with the `database` feature, the todo database
//! and its outbox.

pub mod auth;
pub mod io;
pub mod outbound;
pub mod publish;
pub mod state;
pub mod vars;

#[cfg(feature = "database")]
pub mod database;
#[cfg(feature = "database")]
pub mod outbox;
