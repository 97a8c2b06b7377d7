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
//! [`peers`], [`ingest`], [`impact`], [`scale`]. They share only the helpers
//! below, which import no part: [`server`] (server processes, their
//! memory), [`npm`] (pinned packages in a cache) and [`verdict`] (whether a
//! run worked). No part imports another.

pub mod impact;
pub mod ingest;
pub mod peers;
pub mod scale;

mod npm;
mod server;
mod verdict;

use crate::dist::{self, LOADER_GOAL, LOADER_LIMIT, WIDGET_GOAL, WIDGET_LIMIT};
use crate::util::{output, root, target_dir};
use std::fmt::Write as _;

pub fn run(smoke: bool) -> anyhow::Result<()> {
    with_assets(&dist::assets()?, smoke)
}

/// The run for assets already built (`cargo xtask test` has them).
pub fn with_assets(assets: &dist::Dist, smoke: bool) -> anyhow::Result<()> {
    dist::release_server()?;
    let (ingest, scale, impact) = if smoke {
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
    let ingest = ingest::run(ingest)?;
    let mut scale = scale::run(scale)?;
    scale.command = command.into();
    let mut problems = ingest.problems();
    problems.extend(scale.problems());
    let mut md = String::from("# Benchmarks\n\n");
    if smoke {
        md.push_str("Smoke run: tiny sizes, figures are not measurements. Written by `cargo xtask bench --smoke`, which runs every part of `cargo xtask bench` at tiny sizes and durations to check that each still works; `cargo xtask bench` measures and writes `docs/BENCHMARKS.md`.\n\n");
    } else {
        md.push_str("Written by `cargo xtask bench`; every figure below was measured in the run described here. Rerun it to refresh.\n\n");
    }
    writeln!(md, "- Machine: {}", machine())?;
    writeln!(
        md,
        "- Toolchain: {}",
        output("rustc", &["--version"]).unwrap_or_default().trim()
    )?;
    writeln!(md, "- Command: `{command}`\n")?;
    md.push_str("## Bytes on the page\n\n");
    md.push_str("What a host page downloads from us. The loader is all a page with no eligible touchpoint pays (plus the config JSON); the widget is fetched only when a touchpoint can fire. Brotli at quality 11, gzip at level 9.\n\n");
    md.push_str("| asset | raw (B) | gzip (B) | brotli (B) |\n|---|---:|---:|---:|\n");
    for a in &assets.files {
        let name = match a.role {
            "loader" => "loader `t.js`",
            "wasm" => "widget wasm",
            _ => "widget glue (JS)",
        };
        writeln!(md, "| {name} | {} | {} | {} |", a.raw, a.gzip, a.brotli)?;
    }
    let loader = assets.brotli(&["loader"]);
    let widget = assets.brotli(&["wasm", "glue"]);
    md.push_str("\n| budget | measured (brotli) | goal | hard limit |\n|---|---:|---:|---:|\n");
    writeln!(
        md,
        "| loader | {loader} B | {LOADER_GOAL} B | {LOADER_LIMIT} B |"
    )?;
    writeln!(
        md,
        "| widget: wasm + glue (styles are inside the wasm) | {widget} B | {WIDGET_GOAL} B | {WIDGET_LIMIT} B |"
    )?;
    md.push_str("\nWhat it means: the hard limits hold (`cargo xtask dist` fails above them). ");
    if widget > WIDGET_GOAL {
        md.push_str("The widget is still above its 40 KB goal.");
    } else {
        md.push_str("The widget is within its 40 KB goal.");
    }
    md.push_str(&peers::section(assets, &mut problems));
    md.push_str(&ingest::section(&ingest));
    md.push_str(&impact::section(&impact, &mut problems));
    md.push_str(&scale::section(&scale));
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

fn machine() -> String {
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
