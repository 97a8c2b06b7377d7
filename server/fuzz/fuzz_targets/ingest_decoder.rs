//! Any bytes posted to `/v1/events`: the decoder and the validation must
//! answer with a value or an error, never panic. Run with `cargo xtask fuzz`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use touchpoint_server::ingest::{decode, validate};
use touchpoint_server::site::{SiteConfig, SiteFile};

fn config() -> &'static SiteConfig {
    static CONFIG: OnceLock<SiteConfig> = OnceLock::new();
    CONFIG.get_or_init(|| SiteFile::parse(include_str!("../../../www/demo/site.toml")).unwrap().config())
}

fuzz_target!(|data: &[u8]| {
    if let Ok(batch) = decode(data) {
        let now = time::OffsetDateTime::now_utc();
        for event in &batch.events {
            let _ = validate(event, config(), now);
        }
    }
});
