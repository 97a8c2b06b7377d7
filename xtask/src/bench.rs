//! `cargo xtask bench`: measures and writes `docs/BENCHMARKS.md`. Every
//! figure comes from this run on this machine.

use crate::dist::{self, LOADER_GOAL, LOADER_LIMIT, WIDGET_GOAL, WIDGET_LIMIT};
use crate::util::{output, root};
use std::fmt::Write as _;

pub fn run() -> anyhow::Result<()> {
    let dist = dist::assets()?;
    dist::release_server()?;
    let ingest = crate::ingest_bench::run()?;
    let scale = crate::scale_bench::run(crate::scale_bench::Options::full())?;
    let mut md = String::from("# Benchmarks\n\n");
    md.push_str("Written by `cargo xtask bench`; every figure below was measured in the run described here. Rerun it to refresh.\n\n");
    writeln!(md, "- Machine: {}", machine())?;
    writeln!(
        md,
        "- Toolchain: {}",
        output("rustc", &["--version"]).unwrap_or_default().trim()
    )?;
    writeln!(md, "- Command: `cargo xtask bench`\n")?;
    md.push_str("## Bytes on the page\n\n");
    md.push_str("What a host page downloads from us. The loader is all a page with no eligible touchpoint pays (plus the config JSON); the widget is fetched only when a touchpoint can fire. Brotli at quality 11, gzip at level 9.\n\n");
    md.push_str("| asset | raw (B) | gzip (B) | brotli (B) |\n|---|---:|---:|---:|\n");
    for a in &dist.files {
        let name = match a.role {
            "loader" => "loader `t.js`",
            "wasm" => "widget wasm",
            _ => "widget glue (JS)",
        };
        writeln!(md, "| {name} | {} | {} | {} |", a.raw, a.gzip, a.brotli)?;
    }
    let loader = dist.brotli(&["loader"]);
    let widget = dist.brotli(&["wasm", "glue"]);
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
    md.push_str(&crate::peers::section(&dist));
    md.push_str("\n\n## Ingest\n\n");
    writeln!(
        md,
        "`POST /v1/events` from a second process on loopback: `{}`. Each request carries 1 or 20 NPS responses with fresh ids, so every one is a real insert. The baseline is a bare axum endpoint (`tests/src/bin/bare-202.rs`) that reads the body and answers 202 without storing anything, measured in the same run. Durability on: SQLite in WAL mode with `synchronous = FULL`, PostgreSQL with `fsync = on`; rate limits off; release build. wrk shares the 2 cores with the server.\n",
        ingest.command
    )?;
    md.push_str("| target | events / request | requests/s | events/s | p50 (ms) | p99 (ms) | non-2xx | ratio to baseline | server RSS idle → peak (MiB) |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for r in &ingest.runs {
        let base = ingest
            .runs
            .iter()
            .find(|b| b.target.starts_with("bare") && b.events == r.events)
            .map_or(f64::NAN, |b| b.requests_per_s);
        writeln!(
            md,
            "| {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {:.1} → {:.1} |",
            r.target,
            r.events,
            r.requests_per_s,
            r.requests_per_s * f64::from(r.events),
            r.p50_ms,
            r.p99_ms,
            r.errors,
            r.requests_per_s / base,
            r.rss_idle_kb as f64 / 1024.0,
            r.rss_peak_kb as f64 / 1024.0,
        )?;
    }
    md.push_str("\nDurability check after the runs: every event wrk saw acknowledged with 202 must be in the database (a few more are stored than counted: requests still in flight when wrk stopped):\n\n| database | acknowledged | stored |\n|---|---:|---:|\n");
    for (db, acked, stored) in &ingest.durability {
        writeln!(md, "| {db} | {acked} | {stored} |")?;
    }
    md.push_str("\nWhat it means: the ratio is the headline (the goal is at least 0.5 of the bare endpoint); group commit folds concurrent requests into one transaction, so one durable commit serves many requests; site configurations come from a 2-second cache.\n");
    md.push_str(&crate::impact_bench::section());
    md.push_str(&crate::scale_bench::section(&scale));
    std::fs::write(root().join("docs/BENCHMARKS.md"), md)?;
    println!("wrote docs/BENCHMARKS.md");
    Ok(())
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
