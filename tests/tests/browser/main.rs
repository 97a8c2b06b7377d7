//! The browser tests, one binary: a real headless Chromium over WebDriver,
//! on the demo shop served from one origin with the script tag loading from
//! the API's. Build the widget first: `cargo xtask test` does.
//!
//! - `world`: the server, the demo shop and the site file (the demo's, or a
//!   fixture from `tests/fixtures/`), the visitor's browser tab (browsers are
//!   shared, one per core) and the helpers that read what a visitor sees
//! - `delivery`: what a page loads and sends; answers stored under their page
//!   and stage, kept while the server is away and stored exactly once, and
//!   dropped when consent is withdrawn
//! - `triggers`: when prompts appear: each trigger, journey stages, one
//!   prompt at a time, the contact budget, behavioural signals
//! - `prompts`: every kind of prompt and its follow-up, right to left,
//!   keyboard and focus, the centre modal, inline prompts, the feedback tab,
//!   the site's theme, a hostile page, accessibility (axe-core)
//! - `privacy`: Global Privacy Control and Do-Not-Track, sampling, the
//!   anonymous visitor id's rotation
//! - `spa`: single-page apps: history routes and hash routes
//! - `segments`: `identify` and a touchpoint's audience, outcomes tracked
//!   after an answer
//! - `dashboard`: the marketers' dashboard at `/app`: sign-in, the journey
//!   map against the API's numbers, what changed, a touchpoint's trend
//!
//! Tests never sleep: they poll until a deadline for what must happen, and
//! prove that something does not happen after a positive witness (a later
//! prompt, a timer set in the page, the page gone idle; see `world`).

mod dashboard;
mod dashboard_frustration;
mod dashboard_reports;
mod dashboard_setup;
mod delivery;
mod privacy;
mod prompts;
mod segments;
mod spa;
mod triggers;
mod world;
