//! `cargo xtask bench`: measures and writes `docs/BENCHMARKS.md`. Every
//! figure comes from this run on this machine.
//!
//! `cargo xtask bench --smoke` runs every part the same way at tiny sizes and
//! durations and writes the same document to
//! `$CARGO_TARGET_DIR/bench-smoke/BENCHMARKS.md`: its figures mean nothing,
//! but it fails when a part breaks or measures nothing, so `cargo xtask test`
//! keeps the benchmark working. It never judges a figure.
//!
//! The parts, each also run alone by `cargo xtask bench --only PART`:
//! [`peers`], [`ingest`], [`impact`], [`scale`], [`dashboard`]. Each measures into its own
//! structs, then writes its section from them; they share only the helpers
//! below, which import no part: [`server`] (server processes, their
//! memory), [`npm`] (pinned packages in a cache), [`text`] (the document's
//! prose, as templates) and [`verdict`] (whether a run worked). No part
//! imports another.

pub mod dashboard;
pub mod impact;
pub mod ingest;
pub mod peers;
pub mod scale;

mod npm;
mod server;
mod text;
mod verdict;

use crate::dist::{self, LOADER_GOAL, LOADER_LIMIT, WIDGET_GOAL, WIDGET_LIMIT};
use crate::util::{output, root, target_dir};
use text::fill;

pub fn run(smoke: bool) -> anyhow::Result<()> {
    with_assets(&dist::assets()?, smoke)
}

/// The run for assets already built (`cargo xtask test` has them).
pub fn with_assets(assets: &dist::Dist, smoke: bool) -> anyhow::Result<()> {
    dist::release_server()?;
    let (ingest_options, scale_options, impact_options) = if smoke {
        (
            ingest::Options::smoke(),
            scale::Options::smoke(),
            impact::Options::smoke(),
        )
    } else {
        (
            ingest::Options::full(),
            scale::Options::full(),
            impact::Options::full(),
        )
    };
    let command = if smoke {
        "cargo xtask bench --smoke"
    } else {
        "cargo xtask bench"
    };
    let dashboard_options = if smoke {
        dashboard::Options::smoke()
    } else {
        dashboard::Options::full()
    };
    let ingest_report = ingest::run(ingest_options)?;
    let dashboard_report = dashboard::run(assets, &dashboard_options)?;
    let mut scale_report = scale::run(scale_options)?;
    scale_report.command = command.into();
    let mut problems = ingest_report.problems();
    problems.extend(scale_report.problems());
    problems.extend(dashboard_report.problems());
    let mut md = head(assets, smoke, command);
    // Peers and page impact measure as their sections are written.
    for section in [
        peers::section(assets, &mut problems),
        ingest::section(&ingest_report),
        impact::section(&impact_options, &mut problems),
        scale::section(&scale_report),
        dashboard::section(&dashboard_report),
    ] {
        md.push_str("\n\n");
        md.push_str(&section);
    }
    let path = if smoke {
        target_dir().join("bench-smoke/BENCHMARKS.md")
    } else {
        root().join("docs/BENCHMARKS.md")
    };
    std::fs::create_dir_all(path.parent().unwrap())?;
    std::fs::write(&path, &md)?;
    println!("wrote {}", path.display());
    verdict::verdict(smoke, &md, problems)
}

/// The title, the run's machine and command, and "Bytes on the page" (up
/// to the peers), ending without a newline.
fn head(assets: &dist::Dist, smoke: bool, command: &str) -> String {
    let files: Vec<String> = assets
        .files
        .iter()
        .map(|a| {
            let name = match a.role {
                "loader" => "loader `t.js`",
                "wasm" => "widget wasm",
                _ => "widget glue (JS)",
            };
            format!("| {name} | {} | {} | {} |", a.raw, a.gzip, a.brotli)
        })
        .collect();
    let widget = assets.brotli(&["wasm", "glue"]);
    let intro = if smoke {
        text::INTRO_SMOKE
    } else {
        text::INTRO_FULL
    };
    let md = fill(
        text::DOCUMENT,
        &[
            ("intro", &intro.trim_end()),
            ("machine", &machine()),
            (
                "toolchain",
                &output("rustc", &["--version"]).unwrap_or_default().trim(),
            ),
            ("command", &command),
            ("assets", &files.join("\n")),
            ("loader", &assets.brotli(&["loader"])),
            ("loader_goal", &LOADER_GOAL),
            ("loader_limit", &LOADER_LIMIT),
            ("widget", &widget),
            ("widget_goal", &WIDGET_GOAL),
            ("widget_limit", &WIDGET_LIMIT),
            (
                "widget_verdict",
                &if widget > WIDGET_GOAL {
                    "still above"
                } else {
                    "within"
                },
            ),
        ],
    );
    md.trim_end().to_owned()
}

pub fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or_else(String::new, |kb| format!(", {} GiB RAM", kb / 1024 / 1024));
    let os = std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|s| {
            s.lines().find_map(|l| {
                l.strip_prefix("PRETTY_NAME=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .unwrap_or_default();
    format!("{cpu}, {cores} cores{mem}, {os}")
}
