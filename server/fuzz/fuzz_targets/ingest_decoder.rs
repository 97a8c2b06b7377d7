//! Any bytes posted to `/v1/events`: the decoder and the validation must
//! answer with a value or an error, never panic. Run with `cargo xtask fuzz`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use touchpoint_server::site_file;
use touchpoint_server::store::{SiteConfig, sites::config_of};
use touchpoint_server::validate::{Window, decode, validate};

fn config() -> &'static SiteConfig {
    static CONFIG: OnceLock<SiteConfig> = OnceLock::new();
    CONFIG.get_or_init(|| config_of(&site_file::parse(include_str!("../../fixtures/shop.toml")).unwrap()))
}

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = decode(data) {
        let window = Window::now(365);
        for event in &batch.events {
            let _ = validate(event, config(), window);
        }
    }
});
