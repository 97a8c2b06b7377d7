//! Page impact: what the script tag costs the page it is pasted in,
//! measured in headless Chromium by Lighthouse (devtools throttling, the CPU
//! slowed 1× and 4×, no network throttling) on the demo shop, with the tag
//! and without it (the baseline) in the same run.
//!
//! A release `touchpoint serve` on a free loopback port, with a throw-away
//! SQLite file, serves a bench site: one NPS touchpoint on `/pricing` shown
//! on load, none on `/cart`. Two release demo shops point at it, one with the
//! tag and one without (`touchpoint-demo --no-script`). Lighthouse, pinned,
//! is installed with npm into a cache outside the repository
//! (`$TOUCHPOINT_BENCH_TOOLS`, else `$HOME/.cache/touchpoint/bench-tools`).
//! A benchmark reports and never fails: when something is missing, the
//! section says so and why (and a smoke run fails).
//!
//! `cargo xtask bench --only impact [--smoke]` runs this part alone.
//!
//! `lighthouse` runs Lighthouse once and reads its report into a sample,
//! `measure` starts the servers and takes every sample, `report` turns
//! them into the section (with `stats` for medians and ranges).

mod lighthouse;
mod measure;
mod report;
mod stats;

use crate::bench::text::{self, fill};
use crate::bench::verdict::verdict;
use lighthouse::Sample;

/// Lighthouse, pinned.
const LIGHTHOUSE: &str = "12.8.2";
/// The bench site's key.
const KEY: &str = "impact";
/// The user-timing mark the widget sets when its prompt is visible.
const MARK: &str = "touchpoint:prompt";

/// How many Lighthouse runs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Runs per page, CPU rate and variant; the tables show the median.
    pub runs: usize,
    /// CPU slowdowns `/pricing` is measured at; the first is 1×.
    pub cpu: Vec<u32>,
}

impl Options {
    pub fn full() -> Options {
        Options {
            runs: 3,
            cpu: vec![1, 4],
        }
    }

    /// One run per cell at 1×: every page, variant and table still comes out.
    pub fn smoke() -> Options {
        Options {
            runs: 1,
            cpu: vec![1],
        }
    }
}

/// The bench site: a prompt on load on `/pricing`, nothing on `/cart`.
fn site_file(shop: &str) -> String {
    format!(
        r#"[site]
name = "Page impact"
key = "{KEY}"
origins = ["{shop}"]

[[stage]]
id = "evaluate"
label = "Evaluate"
pages = ["/pricing"]

[[touchpoint]]
id = "pricing-nps"
metric = "nps"
pages = ["/pricing"]
trigger = {{ on = "load" }}
sample = 1.0
question = {{ en = "How likely are you to recommend Demo Shop to a friend or colleague?" }}
"#
    )
}

/// Everything measured: `/pricing` per CPU rate without and with the tag,
/// and `/cart` at 1× without and with it.
struct Measured {
    /// Our API's origin, `http://127.0.0.1:PORT`.
    api: String,
    /// Which widget the page fetched, as the section says it.
    widget: String,
    pricing: Vec<(u32, Vec<Sample>, Vec<Sample>)>,
    cart: (Sample, Sample),
    /// Runs per cell.
    runs: usize,
    /// The wasm the page fetched was the one in the dist directory.
    widget_is_dist: bool,
    failures: Vec<String>,
    /// Browser and Node.js versions.
    chromium: String,
    node: String,
    /// Load average at the start and at the end.
    load: (String, String),
    /// How long the measurements took.
    seconds: f64,
}

/// `cargo xtask bench --only impact [--smoke]`: builds the release server
/// and demo shop (with the widget already in the dist directory) and prints
/// the section.
pub fn only(smoke: bool) -> anyhow::Result<()> {
    let options = if smoke {
        Options::smoke()
    } else {
        Options::full()
    };
    let mut problems = Vec::new();
    let md = section(&options, &mut problems);
    println!("{}", md.trim());
    verdict(smoke, &md, problems)
}

/// The "Page impact" section of `docs/BENCHMARKS.md`, as Markdown (ending
/// with a newline). Never fails; what shows the part no longer works is
/// added to `problems`.
pub fn section(options: &Options, problems: &mut Vec<String>) -> String {
    match measure::measure(options) {
        Ok(m) => {
            problems.extend(m.problems());
            report::section(&m)
        }
        Err(err) => {
            eprintln!("impact: {err:#}");
            problems.push(format!("page impact: {err:#}"));
            fill(
                text::IMPACT_NOT_MEASURED,
                &[("error", &format!("{err:#}")), ("lighthouse", &LIGHTHOUSE)],
            )
        }
    }
}

impl Measured {
    /// What shows this part no longer works, whatever the figures: a run that
    /// failed, a cell without a run, a prompt never shown, a widget not fetched
    /// or not the one built.
    fn problems(&self) -> Vec<String> {
        let mut problems: Vec<String> = self
            .failures
            .iter()
            .map(|f| format!("page impact: {f}"))
            .collect();
        for (cpu, without, with) in &self.pricing {
            if without.is_empty() || with.is_empty() {
                problems.push(format!(
                    "page impact: `/pricing` at {cpu}× CPU has a cell without a run"
                ));
            }
            if with
                .iter()
                .any(|s| s.end_of(&format!("{}/t.js", self.api)).is_none())
            {
                problems.push(format!(
                    "page impact: `/pricing` at {cpu}× CPU: `t.js` was not fetched"
                ));
            }
            if with.iter().any(|s| s.mark_ms.is_none()) {
                problems.push(format!(
                    "page impact: `/pricing` at {cpu}× CPU: the prompt was never shown (no `{MARK}` mark)"
                ));
            }
        }
        if !self.widget_is_dist {
            problems.push(format!("page impact: widget served: {}", self.widget));
        }
        problems
    }
}

/// The URL path of a request, for the tables.
fn path_of(url: &str) -> &str {
    url.find("://")
        .and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]))
        .unwrap_or(url)
}
