//! The "Scale" and "Memory" sections from a [`Report`]: the prose is in
//! `text/scale.md` and `text/scale-exports.md`; this fills in the tables,
//! figures and verdicts.

use super::events::{DAYS, EVENTS_PER_VISIT, HELP_TOPICS, PRODUCTS, RETURNING};
use super::{EXPORT_GROUP_BY, FIRST_READ, GROUPINGS, KEY, READS, Report, SLOW_MS, count};
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
    // The slowest request at the largest size on any database, and how
    // much slower each request got from the smallest size to the largest.
    let smallest = r.options.steps.first().copied().unwrap_or(0);
    let worst = r
        .latencies
        .iter()
        .filter(|l| l.size == largest)
        .map(|l| l.median_ms)
        .fold(0.0, f64::max);
    let growth = r
        .latencies
        .iter()
        .filter(|l| l.size == largest)
        .filter_map(|l| {
            let small = r.latencies.iter().find(|s| {
                s.size == smallest && s.database == l.database && s.grouping == l.grouping
            })?;
            Some(l.median_ms / small.median_ms)
        })
        .fold(0.0, f64::max);
    let worst_verdict = if largest < 10_000_000 {
        "this run stopped short of 10 M".to_owned()
    } else {
        format!(
            "{} the 50 ms goal; the slowest request grew {growth:.1}× from {} to {} events ({} the 3× bound)",
            if worst <= 50.0 { "within" } else { "above" },
            count(smallest),
            count(largest),
            if growth <= 3.0 { "within" } else { "beyond" }
        )
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
    let mut md = String::from("| request |");
    for (db, size) in &columns {
        let _ = write!(md, " {db}, {} |", count(*size));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(columns.len()));
    let requests = GROUPINGS
        .iter()
        .map(|g| (*g, format!("aggregates, group_by={g}")))
        .chain(READS.iter().map(|(label, _)| (*label, (*label).to_owned())));
    for (grouping, name) in requests {
        let name = if grouping.is_empty() {
            "aggregates, no grouping".to_owned()
        } else {
            name
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
            let (rows_per_s, scanned) = if e.what.starts_with("raw") {
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
    // Per database, its raw export at the largest size it reached.
    let mut verdicts = Vec::new();
    for db in ["SQLite", "PostgreSQL"] {
        let Some(e) = r
            .exports
            .iter()
            .filter(|e| e.what == "raw" && e.database == db)
            .max_by_key(|e| e.size)
        else {
            continue;
        };
        let rate = e.rows as f64 / e.seconds;
        let first = r
            .exports
            .iter()
            .find(|f| f.what == FIRST_READ && f.database == db && f.size == e.size)
            .map_or(String::new(), |f| {
                format!(
                    ", the first read after the import {:.0} rows/s",
                    f.rows as f64 / f.seconds
                )
            });
        verdicts.push(format!(
            "{db} {rate:.0} rows/s at {} stored events ({} it{first})",
            count(e.size),
            if rate >= 1_000_000.0 {
                "within"
            } else {
                "below"
            }
        ));
    }
    let verdict = format!(
        "{}. Memory is flat in the row count (see Memory below)",
        verdicts.join("; ")
    );
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
        "a raw export's peak RSS on SQLite was {small:.1} MiB at the smaller size and {large:.1} MiB at the larger. Up to 256 MiB of it is the database file mapped for reading (`mmap_size`, 128 MiB for each of the two readers): pages shared with the system's file cache, which RSS counts as they are touched, and which the kernel takes back under pressure; the mapping is capped, so past that size nothing grows with the row count: rows are read a page at a time and written as they come. "
    )
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}
