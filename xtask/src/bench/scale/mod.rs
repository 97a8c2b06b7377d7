//! The scale benchmark: how imports, aggregates and exports behave as a
//! site's stored events grow. A demo-like shop's synthetic events are
//! deterministic (each is a function of its index and one seed), written as
//! NDJSON and loaded with `touchpoint import` in steps (100 k, then 900 k
//! more, then 9 M more; on PostgreSQL each import is followed by a vacuum
//! waited for, so what follows is measured on a settled table). At each
//! size a running `touchpoint serve` answers
//! `GET /v1/sites/{key}/aggregates` for every grouping, the journey map and
//! trends, with a viewer token;
//! from 1 M on, `touchpoint export` writes raw responses and aggregates as
//! CSV while its peak memory (`VmHWM`) is sampled. SQLite at every size,
//! PostgreSQL (a throw-away cluster, fsync on) up to 1 M.
//!
//! `cargo xtask bench --only scale [--max 1M] [--smoke]` runs this part alone.
//!
//! `events` draws the shop's events, `measure` imports them and times the
//! requests and exports, `report` writes the sections.

mod events;
mod measure;
mod report;

pub use measure::run;
pub use report::section;

use crate::bench::verdict::verdict;
use anyhow::{Context, ensure};

/// The shop's site key, as in [`events::SITE`].
const KEY: &str = "bench-scale";
/// Every grouping the aggregates offer, and none.
const GROUPINGS: [&str; 7] = ["", "page", "stage", "touchpoint", "day", "device", "locale"];
/// The read requests measured beside the aggregates: what a row calls it,
/// and the path after `/v1/sites/{key}/`.
const READS: [(&str, &str); 3] = [
    ("journey", "journey"),
    (
        "trends, daily NPS",
        "trends?touchpoint=site-nps&interval=day",
    ),
    (
        "trends, weekly CSAT",
        "trends?touchpoint=checkout-csat&interval=week",
    ),
];
/// A request slower than this is not repeated: at 10 M events one takes
/// seconds, and its variation is small beside that.
const SLOW_MS: f64 = 2000.0;
/// The uncounted raw CSV export run first at each size.
pub const FIRST_READ: &str = "raw, first read after the import (not counted)";
/// What the aggregate export groups by.
const EXPORT_GROUP_BY: &str = "page,stage,touchpoint";

/// Sizes and repetitions of a run.
#[derive(Clone, Debug)]
pub struct Options {
    /// Stored events after each import step, ascending.
    pub steps: Vec<u64>,
    /// Exports are measured from this size on.
    pub export_from: u64,
    /// PostgreSQL is measured up to this size.
    pub postgres_up_to: u64,
    /// Requests per grouping; the median is reported.
    pub runs: usize,
}

impl Options {
    pub fn full() -> Options {
        Options {
            steps: vec![100_000, 1_000_000, 10_000_000],
            export_from: 1_000_000,
            postgres_up_to: 10_000_000,
            runs: 3,
        }
    }

    /// Tiny sizes that exercise every step in seconds.
    pub fn smoke() -> Options {
        Options {
            steps: vec![2_000, 20_000],
            export_from: 20_000,
            postgres_up_to: 20_000,
            runs: 1,
        }
    }

    /// `--smoke` and `--max N` (`1000000`, `1M`, `100k`) from the bench arguments.
    pub fn from_args(args: &[String]) -> anyhow::Result<Options> {
        let mut opts = if args.iter().any(|a| a == "--smoke") {
            Options::smoke()
        } else {
            Options::full()
        };
        if let Some(i) = args.iter().position(|a| a == "--max") {
            let max = args
                .get(i + 1)
                .and_then(|v| parse_count(v))
                .context("--max N: a number of events such as 1000000, 1M or 100k")?;
            opts.steps.retain(|s| *s <= max);
            ensure!(
                !opts.steps.is_empty(),
                "--max {max}: the smallest step is larger"
            );
        }
        Ok(opts)
    }
}

fn parse_count(v: &str) -> Option<u64> {
    let v = v.trim().to_ascii_lowercase();
    let (digits, factor) = match v.strip_suffix('m') {
        Some(d) => (d, 1_000_000),
        None => match v.strip_suffix('k') {
            Some(d) => (d, 1_000),
            None => (v.as_str(), 1),
        },
    };
    digits.parse::<u64>().ok().map(|n| n * factor)
}

pub struct Import {
    pub database: &'static str,
    pub from: u64,
    pub to: u64,
    pub seconds: f64,
    pub peak_kb: u64,
}

pub struct Latency {
    pub database: &'static str,
    pub size: u64,
    pub grouping: &'static str,
    pub median_ms: f64,
    pub rows: usize,
}

pub struct Export {
    pub database: &'static str,
    pub size: u64,
    /// `raw` (CSV), `raw NDJSON`, `raw XLSX`, `aggregates`, or
    /// [`FIRST_READ`] (the raw CSV export that warms the cache, not counted).
    pub what: &'static str,
    /// Data rows written (the header not counted).
    pub rows: u64,
    pub bytes: u64,
    pub seconds: f64,
    pub peak_kb: u64,
}

pub struct ServeMemory {
    pub database: &'static str,
    pub size: u64,
    pub rss_kb: u64,
    pub peak_kb: u64,
}

pub struct Report {
    /// The command that ran it, for the record.
    pub command: String,
    pub options: Options,
    pub imports: Vec<Import>,
    pub latencies: Vec<Latency>,
    pub exports: Vec<Export>,
    pub serve: Vec<ServeMemory>,
    pub seconds: f64,
}

/// `cargo xtask bench --only scale`: builds the release server, runs this
/// part and prints its sections (docs/BENCHMARKS.md is left as it is).
pub fn only(args: &[String]) -> anyhow::Result<()> {
    crate::dist::release_server()?;
    let mut report = run(Options::from_args(args)?)?;
    report.command = format!("cargo xtask {}", args.join(" "));
    let md = section(&report);
    println!("{}", md.trim());
    verdict(args.iter().any(|a| a == "--smoke"), &md, report.problems())
}

impl Report {
    /// What shows this part no longer works, whatever the figures: a size
    /// or a database with nothing measured, an aggregate without rows. (A
    /// failed import, request or export already ended the run.)
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for &size in &self.options.steps {
            for db in ["SQLite", "PostgreSQL"] {
                if db == "PostgreSQL" && size > self.options.postgres_up_to {
                    continue;
                }
                let at = format!("scale, {db}, {} events", count(size));
                if !self
                    .imports
                    .iter()
                    .any(|i| i.database == db && i.to == size)
                {
                    problems.push(format!("{at}: no import measured"));
                }
                let latencies: Vec<&Latency> = self
                    .latencies
                    .iter()
                    .filter(|l| l.database == db && l.size == size)
                    .collect();
                if latencies.len() != GROUPINGS.len() + READS.len() {
                    problems.push(format!(
                        "{at}: {} of {} requests measured",
                        latencies.len(),
                        GROUPINGS.len() + READS.len()
                    ));
                }
                for l in latencies.iter().filter(|l| l.rows == 0) {
                    problems.push(format!("{at}: {} answered no rows", l.grouping));
                }
                if size >= self.options.export_from
                    && self
                        .exports
                        .iter()
                        .filter(|e| e.database == db && e.size == size && e.what != FIRST_READ)
                        .count()
                        != 4
                {
                    problems.push(format!(
                        "{at}: the raw (CSV, NDJSON, XLSX) and aggregate exports were not all measured"
                    ));
                }
            }
        }
        problems
    }
}

/// `100 k`, `1 M`, `10 M`, or the number.
fn count(n: u64) -> String {
    if n >= 1_000_000 && n.is_multiple_of(1_000_000) {
        format!("{} M", n / 1_000_000)
    } else if n >= 1_000 && n.is_multiple_of(1_000) {
        format!("{} k", n / 1_000)
    } else {
        n.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::{count, parse_count};

    #[test]
    fn counts_parse() {
        assert_eq!(parse_count("1M"), Some(1_000_000));
        assert_eq!(parse_count("100k"), Some(100_000));
        assert_eq!(parse_count("2500"), Some(2500));
        assert_eq!(parse_count("lots"), None);
        assert_eq!(count(10_000_000), "10 M");
        assert_eq!(count(100_000), "100 k");
    }
}
