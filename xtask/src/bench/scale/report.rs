//! The "Scale" and "Memory" sections from a [`Report`]: the prose is in
//! `text/scale.md` and `text/scale-exports.md`; this fills in the tables,
//! figures and verdicts.

use super::events::{DAYS, EVENTS_PER_VISIT, HELP_TOPICS, PRODUCTS, RETURNING};
use super::{EXPORT_GROUP_BY, GROUPINGS, KEY, Report, SLOW_MS, count};
use crate::bench::text::{self, fill};
use std::fmt::Write as _;

/// The "Scale" and "Memory" sections of docs/BENCHMARKS.md.
pub fn section(r: &Report) -> String {
    let largest = r.options.steps.last().copied().unwrap_or(0);
    let imports: Vec<String> = r
        .imports
        .iter()
        .map(|i| {
            format!(
                "| {} | {} | {} | {:.1} | {:.0} |",
                i.database,
                count(i.to - i.from),
                count(i.to),
                i.seconds,
                (i.to - i.from) as f64 / i.seconds
            )
        })
        .collect();
    let worst = r
        .latencies
        .iter()
        .filter(|l| l.database == "SQLite" && l.size == largest)
        .map(|l| l.median_ms)
        .fold(0.0, f64::max);
    let worst_verdict = if worst <= 50.0 && largest >= 10_000_000 {
        "within the goal"
    } else if largest < 10_000_000 {
        "this run stopped short of 10 M"
    } else {
        "far from the goal"
    };
    let exports = if r.exports.is_empty() {
        String::new()
    } else {
        format!("\n{}", exports(r))
    };
    fill(
        text::SCALE,
        &[
            ("key", &KEY),
            ("pages", &(6 + PRODUCTS + HELP_TOPICS.len() as u64 + 50)),
            ("days", &DAYS),
            ("events_per_visit", &EVENTS_PER_VISIT),
            ("returning", &RETURNING),
            (
                "steps",
                &r.options
                    .steps
                    .iter()
                    .map(|s| count(*s))
                    .collect::<Vec<_>>()
                    .join(" → "),
            ),
            ("command", &r.command),
            ("seconds", &format!("{:.0}", r.seconds)),
            ("imports", &imports.join("\n")),
            ("runs", &r.options.runs),
            ("slow", &format!("{:.0}", SLOW_MS / 1000.0)),
            ("aggregates", &aggregates(r)),
            (
                "per_million",
                &format!("{:.1}", worst / 1000.0 / (largest as f64 / 1e6)),
            ),
            ("largest", &count(largest)),
            ("ten_million", &count(10_000_000)),
            ("worst", &ms(worst)),
            ("worst_verdict", &worst_verdict),
            ("exports", &exports),
            ("memory", &memory(r).join("\n")),
            ("memory_verdict", &memory_verdict(r)),
        ],
    )
}

/// The latency table: a row per grouping, a column per database and size.
fn aggregates(r: &Report) -> String {
    let columns: Vec<(&str, u64)> = r.imports.iter().map(|i| (i.database, i.to)).collect();
    let mut md = String::from("| group_by |");
    for (db, size) in &columns {
        let _ = write!(md, " {db}, {} |", count(*size));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(columns.len()));
    for grouping in GROUPINGS {
        let name = if grouping.is_empty() {
            "(none)"
        } else {
            grouping
        };
        let _ = write!(md, "\n| {name} |");
        for (db, size) in &columns {
            match r
                .latencies
                .iter()
                .find(|l| l.database == *db && l.size == *size && l.grouping == grouping)
            {
                Some(l) => {
                    let _ = write!(md, " {} ({}) |", ms(l.median_ms), l.rows);
                }
                None => md.push_str(" – |"),
            }
        }
    }
    md
}

/// The "Exports" part of "Scale".
fn exports(r: &Report) -> String {
    let rows: Vec<String> = r
        .exports
        .iter()
        .map(|e| {
            let (rows_per_s, scanned) = if e.what == "raw" {
                (format!("{:.0}", e.rows as f64 / e.seconds), "–".to_owned())
            } else {
                ("–".to_owned(), format!("{:.0}", e.size as f64 / e.seconds))
            };
            format!(
                "| {} | {} | {} | {} | {:.1} | {:.1} | {rows_per_s} | {scanned} |",
                e.database,
                count(e.size),
                e.what,
                e.rows,
                e.bytes as f64 / 1_048_576.0,
                e.seconds
            )
        })
        .collect();
    let best_raw = r
        .exports
        .iter()
        .filter(|e| e.what == "raw")
        .map(|e| e.rows as f64 / e.seconds)
        .fold(0.0, f64::max);
    let verdict = if best_raw >= 1_000_000.0 {
        "within it"
    } else {
        "below it on both databases: every value goes through sqlx's `Any` driver one by one (and on SQLite every row through the driver's worker thread), which costs more than reading and writing it. Memory is flat in the row count (see Memory below)"
    };
    fill(
        text::SCALE_EXPORTS,
        &[
            ("key", &KEY),
            ("group_by", &EXPORT_GROUP_BY),
            ("rows", &rows.join("\n")),
            ("best", &format!("{best_raw:.0}")),
            ("verdict", &verdict),
        ],
    )
}

/// The memory table's rows: each import, server and export.
fn memory(r: &Report) -> Vec<String> {
    let imports = r.imports.iter().map(|i| {
        format!(
            "| {} | {} | `touchpoint import` ({} lines) | {:.1} |",
            i.database,
            count(i.to),
            count(i.to - i.from),
            i.peak_kb as f64 / 1024.0
        )
    });
    let serve = r.serve.iter().map(|s| {
        format!(
            "| {} | {} | `touchpoint serve` after the aggregate requests (now {:.1} MiB) | {:.1} |",
            s.database,
            count(s.size),
            s.rss_kb as f64 / 1024.0,
            s.peak_kb as f64 / 1024.0
        )
    });
    let exports = r.exports.iter().map(|e| {
        format!(
            "| {} | {} | `touchpoint export` {} ({} rows) | {:.1} |",
            e.database,
            count(e.size),
            e.what,
            e.rows,
            e.peak_kb as f64 / 1024.0
        )
    });
    imports.chain(serve).chain(exports).collect()
}

/// Whether a raw export's memory followed its row count on SQLite.
fn memory_verdict(r: &Report) -> String {
    let mut sizes = r
        .exports
        .iter()
        .filter(|e| e.database == "SQLite" && e.what == "raw");
    let (Some(first), Some(last)) = (sizes.next(), sizes.next_back()) else {
        return "exports were measured at one size only in this run. ".to_owned();
    };
    let (small, large) = (first.peak_kb as f64 / 1024.0, last.peak_kb as f64 / 1024.0);
    format!(
        "a raw export's memory does not follow the row count ({small:.1} MiB at the smaller size, {large:.1} MiB at the larger): rows are read a page at a time and written as they come. "
    )
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}
