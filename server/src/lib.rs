//! Touchpoint's server: ingests the widget's events, stores them durably,
//! derives aggregates from them, exports them, and serves the loader and the
//! widget. `main.rs` only wires [`cli`] to a process; everything here is
//! tested without one through [`app`].
//!
//! Reading order: [`store`] (schema in `migrations/`), [`site_file`],
//! [`validate`], [`routes`] (from [`routes::ingest`] on), [`aggregate`],
//! [`insights`], [`priorities`], [`drivers`], [`frustration`], [`outcomes`], [`export`], [`import`],
//! [`auth`], [`cli`].
//!
//! Modules import downward only: nothing imports this file back. The
//! layers, lowest first: [`error`], [`time`], [`zone`], [`stats`],
//! [`privacy`], [`emotion`], [`extract`] → [`store`] → [`site_file`], [`validate`],
//! [`filters`], [`aggregate`], [`insights`], [`export`], [`priorities`],
//! [`drivers`], [`frustration`], [`outcomes`], [`import`], [`limits`], [`cache`], [`commit`], [`metrics`], [`auth`] → [`alerts`] →
//! [`state`] → [`routes`], [`serve`] → [`cli`].

// The OpenAPI document is one `json!` literal, deeper than the default allows.
#![recursion_limit = "256"]

pub mod aggregate;
pub mod alerts;
pub mod assets;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod commit;
pub mod drivers;
pub mod emotion;
pub mod error;
pub mod export;
pub mod extract;
pub mod filters;
pub mod frustration;
pub mod import;
pub mod insights;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod outcomes;
pub mod priorities;
pub mod privacy;
pub mod routes;
pub mod serve;
pub mod site_file;
pub mod state;
pub mod stats;
pub mod store;
pub mod time;
pub mod validate;
pub mod zone;

pub use routes::app;
pub use serve::serve;
pub use state::{AppState, Settings};
