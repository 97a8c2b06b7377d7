//! The dashboard at `/app`: marketers sign in, pick a site and read its
//! journey map, what changed in plain words and each touchpoint's trend.
//! A leptos (client-side) application built by `cargo xtask dist` and
//! embedded in the server; every number it shows is one the API returns.
//!
//! `format`, `words` and `route` are plain Rust (tested natively); the
//! screens in `ui` exist only in the browser.

pub mod format;
pub mod route;
pub mod words;

#[cfg(target_arch = "wasm32")]
mod api;
#[cfg(target_arch = "wasm32")]
mod de;
#[cfg(target_arch = "wasm32")]
mod ui;

/// Mounts the dashboard when the module is instantiated.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen(start)]
pub fn start() {
    leptos::mount::mount_to_body(ui::App);
}
