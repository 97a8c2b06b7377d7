//! The JSON contract of Touchpoint, serde only: events the widget sends, the
//! configuration it reads, the site file, the answers and errors of the API,
//! and the aggregate rows marketers read. The widget and the server import
//! these types, so a renamed field is a compile error or a snapshot diff,
//! never a silent break.
//!
//! - [`event`]: `Event`, `EventBatch`, `Accepted`.
//! - [`config`]: the site file (`SiteDocument`) and the widget's
//!   configuration (`WidgetConfig`), with the keys the widget reads.
//! - [`api`]: errors, sign-in, site changes, a visitor's data.
//! - [`report`]: aggregate rows, the journey map, trends, priorities, drivers.
//! - [`page`]: the contract's page rules (path normalisation, globs, stage
//!   resolution), which the widget and the server must agree on.
//! - [`alert`]: alert destinations, the messages they receive, the delivery log.

pub mod alert;
pub mod api;
pub mod config;
pub mod event;
pub mod page;
pub mod report;

pub use alert::*;
pub use api::*;
pub use config::*;
pub use event::*;
pub use report::*;

#[cfg(test)]
mod tests;
