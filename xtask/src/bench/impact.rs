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

use crate::bench::npm::{cache_dir, npm_install};
use crate::bench::server::{Server, free_port, spawn, wait_for};
use crate::bench::verdict::verdict;
use crate::util::{self, target_dir};
use anyhow::{Context, bail};
use serde_json::Value;
use std::fmt::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIGHTHOUSE: &str = "12.8.2";
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
const CHROME_FLAGS: &str = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync";
/// Lighthouse options besides the URL, the CPU rate and where things go.
const LIGHTHOUSE_FLAGS: [&str; 8] = [
    "--only-categories=performance",
    "--preset=desktop",
    "--throttling-method=devtools",
    "--throttling.requestLatencyMs=0",
    "--throttling.downloadThroughputKbps=0",
    "--throttling.uploadThroughputKbps=0",
    "--disable-full-page-screenshot",
    "--quiet",
];
/// A Lighthouse run that takes longer than this is stopped.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
const KEY: &str = "impact";
const MARK: &str = "touchpoint:prompt";

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

/// What one Lighthouse run measured.
struct Sample {
    /// Lighthouse performance score, 0–100.
    score: f64,
    tbt_ms: f64,
    cls: f64,
    lcp_ms: f64,
    /// Long tasks (≥ 50 ms): the URL Lighthouse attributes each to, its duration.
    long_tasks: Vec<(String, f64)>,
    /// Every request: URL, resource type, bytes transferred, end (ms from
    /// navigation start).
    requests: Vec<(String, String, u64, f64)>,
    /// When `touchpoint:prompt` was marked, ms from navigation start.
    mark_ms: Option<f64>,
}

impl Sample {
    fn end_of(&self, url: &str) -> Option<f64> {
        self.requests
            .iter()
            .find(|(u, ..)| u == url)
            .map(|&(.., end)| end)
    }

    fn end_where(&self, f: impl Fn(&str) -> bool) -> Option<f64> {
        self.requests
            .iter()
            .find(|(u, ..)| f(u))
            .map(|&(.., end)| end)
    }
}

/// Reads a Lighthouse JSON report.
fn parse(report: &Value) -> anyhow::Result<Sample> {
    if let Some(code) = report["runtimeError"]["code"].as_str() {
        bail!(
            "Lighthouse: {code}: {}",
            report["runtimeError"]["message"].as_str().unwrap_or("")
        );
    }
    let audits = &report["audits"];
    let num = |audit: &str| -> anyhow::Result<f64> {
        audits[audit]["numericValue"]
            .as_f64()
            .with_context(|| format!("the report has no {audit}"))
    };
    let items = |audit: &str| -> Vec<Value> {
        audits[audit]["details"]["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    // Request times count from the first request; marks and long tasks from
    // navigation start. Both origins are trace timestamps (µs).
    let origin_us = audits["metrics"]["details"]["items"][0]["observedTimeOriginTs"]
        .as_f64()
        .context("the report has no time origin")?;
    let network_us = audits["network-requests"]["details"]["debugData"]["networkStartTimeTs"]
        .as_f64()
        .context("the report has no network start")?;
    let shift = (network_us - origin_us) / 1000.0;
    Ok(Sample {
        score: report["categories"]["performance"]["score"]
            .as_f64()
            .context("the report has no performance score")?
            * 100.0,
        tbt_ms: num("total-blocking-time")?,
        cls: num("cumulative-layout-shift")?,
        lcp_ms: num("largest-contentful-paint")?,
        long_tasks: items("long-tasks")
            .iter()
            .map(|t| {
                (
                    t["url"].as_str().unwrap_or("").to_owned(),
                    t["duration"].as_f64().unwrap_or(0.0),
                )
            })
            .collect(),
        requests: items("network-requests")
            .iter()
            .map(|r| {
                (
                    r["url"].as_str().unwrap_or("").to_owned(),
                    r["resourceType"].as_str().unwrap_or("").to_owned(),
                    r["transferSize"].as_u64().unwrap_or(0),
                    r["networkEndTime"].as_f64().unwrap_or(f64::NAN) + shift,
                )
            })
            .collect(),
        mark_ms: items("user-timings")
            .iter()
            .find(|m| m["name"] == MARK)
            .and_then(|m| m["startTime"].as_f64()),
    })
}

/// A process group (Lighthouse and the Chromium it starts), killed whole.
fn kill_group(pid: u32) {
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pid}")])
        .status();
}

struct Bench {
    node: String,
    cli: PathBuf,
    chromium: String,
    work: PathBuf,
    runs: usize,
}

impl Bench {
    /// One Lighthouse run of `url` at `cpu`× in a fresh profile.
    fn run(&mut self, url: &str, cpu: u32) -> anyhow::Result<Sample> {
        self.runs += 1;
        let out = self.work.join(format!("report-{}.json", self.runs));
        let profile = self.work.join(format!("profile-{}", self.runs));
        let started = Instant::now();
        let mut child = Command::new(&self.node)
            .arg(&self.cli)
            .arg(url)
            .args(LIGHTHOUSE_FLAGS)
            .arg(format!("--throttling.cpuSlowdownMultiplier={cpu}"))
            .arg("--output=json")
            .arg(format!("--output-path={}", out.display()))
            .arg(format!(
                "--chrome-flags={CHROME_FLAGS} --user-data-dir={}",
                profile.display()
            ))
            .env("CHROME_PATH", &self.chromium)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .process_group(0)
            .spawn()
            .context("starting node")?;
        let stderr = child.stderr.take();
        let errors = std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut e) = stderr {
                let _ = std::io::Read::read_to_string(&mut e, &mut s);
            }
            s
        });
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if started.elapsed() > RUN_TIMEOUT {
                kill_group(child.id());
                let _ = child.wait();
                bail!("Lighthouse took more than {} s", RUN_TIMEOUT.as_secs());
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let errors = errors.join().unwrap_or_default();
        let _ = std::fs::remove_dir_all(&profile);
        let report: Value = std::fs::read(&out)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .with_context(|| {
                format!(
                    "Lighthouse wrote no report ({status}): {}",
                    errors.lines().last().unwrap_or("").trim()
                )
            })?;
        let sample = parse(&report)?;
        eprintln!(
            "impact: {url} at {cpu}× CPU: {:.1} s, TBT {:.0} ms, CLS {:.3}, {} long task(s), mark {}",
            started.elapsed().as_secs_f64(),
            sample.tbt_ms,
            sample.cls,
            sample.long_tasks.len(),
            sample
                .mark_ms
                .map_or_else(|| "none".into(), |m| format!("{m:.0} ms")),
        );
        Ok(sample)
    }
}

/// Everything measured: `/pricing` per CPU rate without and with the tag,
/// and `/cart` at 1× without and with it.
struct Measured {
    api: String,
    widget: String,
    pricing: Vec<(u32, Vec<Sample>, Vec<Sample>)>,
    cart: (Sample, Sample),
    /// Runs per cell.
    runs: usize,
    /// The wasm the page fetched was the one in the dist directory.
    widget_is_dist: bool,
    failures: Vec<String>,
    chromium: String,
    node: String,
    load: (String, String),
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

/// The "Page impact" section of `docs/BENCHMARKS.md`, as Markdown (starting
/// with blank lines, ending with a newline). Never fails; what shows the
/// part no longer works is added to `problems`.
pub fn section(options: &Options, problems: &mut Vec<String>) -> String {
    let mut md = String::from("\n\n## Page impact\n\n");
    match measure(options) {
        Ok(m) => {
            problems.extend(measured_problems(&m));
            write_tables(&mut md, &m);
        }
        Err(err) => {
            eprintln!("impact: {err:#}");
            problems.push(format!("page impact: {err:#}"));
            let _ = writeln!(
                md,
                "Not measured in this run: {err:#}. The section needs Chromium, Node.js and npm (for Lighthouse {LIGHTHOUSE}) and the widget built by `cargo xtask dist --assets-only`."
            );
        }
    }
    md
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}

fn shop(bin: &Path, api: &str, site: Option<&str>) -> anyhow::Result<Server> {
    let addr = format!("127.0.0.1:{}", free_port()?);
    let mut cmd = Command::new(bin);
    cmd.args(["--addr", &addr, "--api", api]);
    match site {
        Some(key) => cmd.args(["--site", key]),
        None => cmd.arg("--no-script"),
    };
    let child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let server = Server { child, addr };
    wait_for(&server.addr)?;
    Ok(server)
}

/// The URL path of a request, for the tables.
fn path_of(url: &str) -> &str {
    url.find("://")
        .and_then(|i| url[i + 3..].find('/').map(|j| &url[i + 3 + j..]))
        .unwrap_or(url)
}

/// What shows this part no longer works, whatever the figures: a run that
/// failed, a cell without a run, a prompt never shown, a widget not fetched
/// or not the one built.
fn measured_problems(m: &Measured) -> Vec<String> {
    let mut problems: Vec<String> = m
        .failures
        .iter()
        .map(|f| format!("page impact: {f}"))
        .collect();
    for (cpu, without, with) in &m.pricing {
        if without.is_empty() || with.is_empty() {
            problems.push(format!(
                "page impact: `/pricing` at {cpu}× CPU has a cell without a run"
            ));
        }
        if with
            .iter()
            .any(|s| s.end_of(&format!("{}/t.js", m.api)).is_none())
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
    if !m.widget_is_dist {
        problems.push(format!("page impact: widget served: {}", m.widget));
    }
    problems
}

fn measure(options: &Options) -> anyhow::Result<Measured> {
    let chromium =
        std::env::var("TOUCHPOINT_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    if !Path::new(&chromium).exists() {
        bail!(
            "{chromium} is missing (Debian: apt-get install chromium; or set TOUCHPOINT_CHROMIUM)"
        );
    }
    let chromium_version = util::output(&chromium, &["--version"])
        .map(|v| v.split(" built on").next().unwrap_or(&v).trim().to_owned())
        .unwrap_or_else(|| "Chromium (version unknown)".into());
    let node = util::output("node", &["--version"])
        .map(|v| v.trim().to_owned())
        .context("node is missing (Debian: apt-get install nodejs npm)")?;
    let dist = std::env::var_os("TOUCHPOINT_DIST")
        .map_or_else(|| target_dir().join("dist"), PathBuf::from);
    let manifest: Value = std::fs::read(dist.join("manifest.json"))
        .ok()
        .and_then(|m| serde_json::from_slice(&m).ok())
        .with_context(|| {
            format!(
                "no built widget in {}: run `cargo xtask dist --assets-only` first",
                dist.display()
            )
        })?;
    let modules = npm_install(
        &cache_dir("TOUCHPOINT_BENCH_TOOLS", "bench-tools")?,
        &[("lighthouse", LIGHTHOUSE)],
    )?;
    // The release server embeds the dist directory when it is built.
    util::cargo(
        &[
            "build",
            "--release",
            "--package",
            "touchpoint-server",
            "--package",
            "touchpoint-demo",
        ],
        &[(
            "TOUCHPOINT_DIST",
            dist.to_str().context("dist dir is not UTF-8")?,
        )],
    )?;
    let started = Instant::now();
    let load_start = loadavg();
    let work = tempfile::tempdir()?;
    // Copies: another build may replace the binaries while they run.
    let touchpoint = work.path().join("touchpoint");
    let demo = work.path().join("touchpoint-demo");
    std::fs::copy(target_dir().join("release/touchpoint"), &touchpoint)?;
    std::fs::copy(target_dir().join("release/touchpoint-demo"), &demo)?;

    let database = format!("sqlite://{}", work.path().join("impact.db").display());
    let api = spawn(Command::new(&touchpoint).args([
        "--database",
        &database,
        "--json",
        "serve",
        "--addr",
        "127.0.0.1:0",
    ]))?;
    let api_origin = format!("http://{}", api.addr);
    let with_tag = shop(&demo, &api_origin, Some(KEY))?;
    let without = shop(&demo, &api_origin, None)?;
    let site = work.path().join("impact.toml");
    std::fs::write(&site, site_file(&format!("http://{}", with_tag.addr)))?;
    let applied = Command::new(&touchpoint)
        .args(["--database", &database, "apply"])
        .arg(&site)
        .output()?;
    if !applied.status.success() {
        bail!(
            "touchpoint apply failed: {}",
            String::from_utf8_lossy(&applied.stderr).trim()
        );
    }
    // The widget the server serves should be the one in the dist directory.
    let wasm = manifest["widget"]
        .as_array()
        .and_then(|w| {
            w.iter()
                .filter_map(Value::as_str)
                .find(|n| n.ends_with(".wasm"))
        })
        .context("manifest.json: widget")?
        .to_owned();

    let mut bench = Bench {
        node: "node".into(),
        cli: modules.join("lighthouse/cli/index.js"),
        chromium: chromium.clone(),
        work: work.path().to_owned(),
        runs: 0,
    };
    let mut failures = Vec::new();
    let once = |bench: &mut Bench, url: String, cpu: u32, failures: &mut Vec<String>| match bench
        .run(&url, cpu)
    {
        Ok(s) => Some(s),
        Err(err) => {
            eprintln!("impact: {url} at {cpu}×: {err:#}");
            failures.push(format!("{} at {cpu}× CPU: {err:#}", path_of(&url)));
            None
        }
    };
    // `/cart` first: it also warms the server and the disk cache up.
    let cart_with = once(
        &mut bench,
        format!("http://{}/cart", with_tag.addr),
        1,
        &mut failures,
    );
    let cart_without = once(
        &mut bench,
        format!("http://{}/cart", without.addr),
        1,
        &mut failures,
    );
    let mut pricing = Vec::new();
    for &cpu in &options.cpu {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        // Interleaved, so that whatever else the machine does falls on both.
        for _ in 0..options.runs {
            a.extend(once(
                &mut bench,
                format!("http://{}/pricing", without.addr),
                cpu,
                &mut failures,
            ));
            b.extend(once(
                &mut bench,
                format!("http://{}/pricing", with_tag.addr),
                cpu,
                &mut failures,
            ));
        }
        pricing.push((cpu, a, b));
    }
    let (Some(cart_with), Some(cart_without)) = (cart_with, cart_without) else {
        bail!(
            "Lighthouse could not measure `/cart`: {}",
            failures.join("; ")
        );
    };
    let served = pricing
        .iter()
        .flat_map(|(_, _, b)| b)
        .chain([&cart_with])
        .flat_map(|s| &s.requests)
        .find(|(u, ..)| u.starts_with(&api_origin) && u.ends_with(".wasm"))
        .map(|(u, ..)| path_of(u).trim_start_matches("/widget/").to_owned());
    let widget_is_dist = served.as_ref() == Some(&wasm);
    let widget = match served {
        Some(name) if name == wasm => format!("`{name}`, the build in the dist directory"),
        Some(name) => format!(
            "`{name}`, NOT the build in the dist directory (`{wasm}`): the release server was built with another"
        ),
        None => format!("none fetched (the dist directory holds `{wasm}`)"),
    };
    drop((with_tag, without, api));
    Ok(Measured {
        api: api_origin,
        widget,
        pricing,
        cart: (cart_without, cart_with),
        runs: options.runs,
        widget_is_dist,
        failures,
        chromium: chromium_version,
        node,
        load: (load_start, loadavg()),
        seconds: started.elapsed().as_secs_f64(),
    })
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        f64::midpoint(v[n / 2 - 1], v[n / 2])
    }
}

/// A metric over the runs: median, min and max.
#[derive(Clone, Copy)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

fn stat(samples: &[Sample], f: impl Fn(&Sample) -> Option<f64>) -> Stat {
    let v: Vec<f64> = samples.iter().filter_map(&f).collect();
    Stat {
        median: median(v.clone()),
        min: v.iter().copied().fold(f64::NAN, f64::min),
        max: v.iter().copied().fold(f64::NAN, f64::max),
    }
}

/// `124 (118–130)` with `digits` decimals; `—` when nothing was measured.
fn cell(s: Stat, digits: usize) -> String {
    // `+ 0.0` turns an empty sum's −0 into 0.
    let s = Stat {
        median: s.median + 0.0,
        min: s.min + 0.0,
        max: s.max + 0.0,
    };
    if s.median.is_nan() {
        return "—".into();
    }
    if (s.max - s.min).abs() < 0.5 * 10f64.powi(-(digits as i32)) {
        return format!("{:.digits$}", s.median);
    }
    format!(
        "{:.digits$} ({:.digits$}–{:.digits$})",
        s.median, s.min, s.max
    )
}

fn diff(with: Stat, without: Stat, digits: usize) -> String {
    let d = with.median - without.median + 0.0;
    if d.is_nan() {
        return "—".into();
    }
    let s = format!("{:+.digits$}", d);
    s.replace('-', "−")
}

/// `1 run`, `3 runs`.
fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn write_tables(md: &mut String, m: &Measured) {
    let ours = |u: &str| u.starts_with(&m.api);
    let prompt = |s: &Sample| {
        let start = s.end_of(&format!("{}/t.js", m.api))?;
        Some(s.mark_ms? - start)
    };
    let tasks_all = |s: &Sample| Some(s.long_tasks.len() as f64);
    let tasks_all_ms = |s: &Sample| Some(s.long_tasks.iter().map(|t| t.1).sum());
    let tasks_ours = |s: &Sample| Some(s.long_tasks.iter().filter(|t| ours(&t.0)).count() as f64);
    let tasks_ours_ms = |s: &Sample| {
        Some(
            s.long_tasks
                .iter()
                .filter(|t| ours(&t.0))
                .map(|t| t.1)
                .sum(),
        )
    };
    let runs = |v: &[Sample]| plural(v.len(), "run");
    let cpus: Vec<String> = m.pricing.iter().map(|(cpu, ..)| cpu.to_string()).collect();
    let slowed = match cpus.as_slice() {
        [one] => format!("the CPU slowed {one}×"),
        [rest @ .., last] => format!("the CPU slowed {}× and {last}×", rest.join("×, ")),
        [] => "no CPU rate".to_owned(),
    };

    let _ = writeln!(
        md,
        "What the script tag costs the page it is pasted in. The demo shop's `/pricing` page, with a bench site whose one NPS touchpoint there is shown on load (no delay), is loaded with the tag and without it (the baseline: the same page from `touchpoint-demo --no-script`, which drops the tag and keeps the one-line command queue stub). Lighthouse {LIGHTHOUSE} drives headless {} (Node.js {}) with devtools throttling: {slowed}, no network throttling, desktop screen; every run in a fresh profile; {} per cell, with and without the tag interleaved; the median, with min–max in brackets. The release server (SQLite, a throw-away file) and the shops are on two loopback origins, as on a real site. The 2 cores are shared by the browser, Lighthouse and both servers (load average {} at the start, {} at the end). Widget served: {}. The measurements took {:.0} s (building excluded).\n",
        m.chromium,
        m.node,
        plural(m.runs, "run"),
        m.load.0,
        m.load.1,
        m.widget,
        m.seconds
    );
    md.push_str("```sh\n");
    md.push_str("touchpoint --database sqlite://$TMP/impact.db --json serve --addr 127.0.0.1:0   # prints the API address\n");
    md.push_str("touchpoint-demo --addr 127.0.0.1:$SHOP --api http://$API --site impact          # with the tag\n");
    md.push_str("touchpoint-demo --addr 127.0.0.1:$BASE --api http://$API --no-script            # baseline\n");
    md.push_str("touchpoint --database sqlite://$TMP/impact.db apply impact.toml                  # the site file below\n");
    let _ = writeln!(
        md,
        "CHROME_PATH=/usr/bin/chromium lighthouse $URL {} --throttling.cpuSlowdownMultiplier={} --output=json --chrome-flags=\"{CHROME_FLAGS} --user-data-dir=$FRESH\"\n```\n",
        LIGHTHOUSE_FLAGS.join(" "),
        cpus.join("|")
    );
    let _ = writeln!(md, "```toml\n{}```\n", site_file("http://127.0.0.1:$SHOP"));

    // Table 1: the prompt page.
    let mut head = String::from("| `/pricing` | ");
    let mut rule = String::from("|---|");
    for (cpu, a, b) in &m.pricing {
        let _ = write!(
            head,
            "{cpu}× CPU, without the tag ({}) | {cpu}× CPU, with it ({}) | difference | ",
            runs(a),
            runs(b)
        );
        rule.push_str("---:|---:|---:|");
    }
    md.push_str(head.trim_end());
    md.push('\n');
    md.push_str(&rule);
    md.push('\n');
    type Metric<'a> = (
        &'a str,
        Box<dyn Fn(&Sample) -> Option<f64> + 'a>,
        usize,
        bool,
    );
    let rows: Vec<Metric> = vec![
        (
            "script start (`t.js` received) → prompt visible (`touchpoint:prompt` mark), ms",
            Box::new(prompt),
            0,
            false,
        ),
        (
            "long tasks ≥ 50 ms, all: count",
            Box::new(tasks_all),
            0,
            true,
        ),
        (
            "long tasks ≥ 50 ms, all: total ms",
            Box::new(tasks_all_ms),
            0,
            true,
        ),
        (
            "long tasks ≥ 50 ms attributed to our origin (`t.js`, widget glue or wasm): count",
            Box::new(tasks_ours),
            0,
            true,
        ),
        (
            "long tasks ≥ 50 ms attributed to our origin: total ms",
            Box::new(tasks_ours_ms),
            0,
            true,
        ),
        (
            "total blocking time, ms",
            Box::new(|s: &Sample| Some(s.tbt_ms)),
            0,
            true,
        ),
        (
            "cumulative layout shift",
            Box::new(|s: &Sample| Some(s.cls)),
            3,
            true,
        ),
        (
            "largest contentful paint, ms",
            Box::new(|s: &Sample| Some(s.lcp_ms)),
            0,
            true,
        ),
        (
            "Lighthouse performance score (0–100)",
            Box::new(|s: &Sample| Some(s.score)),
            0,
            true,
        ),
    ];
    for (name, f, digits, baseline) in &rows {
        let _ = write!(md, "| {name} |");
        for (_, a, b) in &m.pricing {
            let without = stat(a, |s| f(s));
            let with = stat(b, |s| f(s));
            if *baseline {
                let _ = write!(
                    md,
                    " {} | {} | {} |",
                    cell(without, *digits),
                    cell(with, *digits),
                    diff(with, without, *digits)
                );
            } else {
                let _ = write!(md, " — | {} | — |", cell(with, *digits));
            }
        }
        md.push('\n');
    }
    md.push('\n');
    // Where the time goes, with the tag.
    let api = m.api.clone();
    let milestones: Vec<Metric> = vec![
        (
            "page (HTML) received",
            Box::new(|s: &Sample| s.requests.first().map(|r| r.3)),
            0,
            true,
        ),
        (
            "`t.js` received (script start)",
            Box::new(|s: &Sample| s.end_of(&format!("{api}/t.js"))),
            0,
            true,
        ),
        (
            "config received",
            Box::new(|s: &Sample| s.end_where(|u| u.starts_with(&api) && u.ends_with("/config"))),
            0,
            true,
        ),
        (
            "widget glue received",
            Box::new(|s: &Sample| {
                s.end_where(|u| u.starts_with(&api) && u.contains("/widget/") && u.ends_with(".js"))
            }),
            0,
            true,
        ),
        (
            "widget wasm received",
            Box::new(|s: &Sample| s.end_where(|u| u.starts_with(&api) && u.ends_with(".wasm"))),
            0,
            true,
        ),
        (
            "prompt visible (`touchpoint:prompt` mark)",
            Box::new(|s: &Sample| s.mark_ms),
            0,
            true,
        ),
    ];
    md.push_str("Where the time goes with the tag, ms from navigation start (each row is its own median over the runs, so rows do not subtract exactly into the figure above):\n\n| milestone |");
    for (cpu, ..) in &m.pricing {
        let _ = write!(md, " {cpu}× CPU |");
    }
    md.push_str("\n|---|");
    for _ in &m.pricing {
        md.push_str("---:|");
    }
    md.push('\n');
    for (name, f, digits, _) in &milestones {
        let _ = write!(md, "| {name} |");
        for (_, _, b) in &m.pricing {
            let _ = write!(md, " {} |", cell(stat(b, |s| f(s)), *digits));
        }
        md.push('\n');
    }
    md.push('\n');
    // Long tasks seen with the tag, by attribution.
    md.push_str(
        "Long tasks (≥ 50 ms) in the runs with the tag, as Lighthouse attributes them:\n\n",
    );
    for (cpu, _, b) in &m.pricing {
        let runs: Vec<String> = b
            .iter()
            .enumerate()
            .filter(|(_, s)| !s.long_tasks.is_empty())
            .map(|(i, s)| {
                let tasks: Vec<String> = s
                    .long_tasks
                    .iter()
                    .map(|(u, d)| {
                        let who = if u.starts_with(&m.api) {
                            format!("`{}`", path_of(u))
                        } else if u.starts_with("http") {
                            format!("`{}` (the page)", path_of(u))
                        } else {
                            u.to_lowercase()
                        };
                        format!("{d:.0} ms {who}")
                    })
                    .collect();
                format!("run {}: {}", i + 1, tasks.join(", "))
            })
            .collect();
        let _ = writeln!(
            md,
            "- {cpu}× CPU: {}",
            if runs.is_empty() {
                "none".into()
            } else {
                runs.join("; ")
            }
        );
    }
    md.push_str("\nA task Lighthouse calls unattributable ran no script it could name (style, layout, paint, or compiling WebAssembly, for instance).\n\n");

    // The verdict line for table 1.
    let (_, a1, b1) = &m.pricing[0];
    let p1 = stat(b1, prompt);
    let p1_runs: Vec<f64> = b1.iter().filter_map(prompt).collect();
    let above = p1_runs.iter().filter(|&&p| p > 100.0).count();
    let p1_verdict = if p1.median <= 100.0 {
        if above == 0 {
            "met".to_owned()
        } else {
            format!("met by the median, {above} of {} runs above", p1_runs.len())
        }
    } else if above < p1_runs.len() {
        format!(
            "missed by {:.0} ms at the median, {} of {} runs within",
            p1.median - 100.0,
            p1_runs.len() - above,
            p1_runs.len()
        )
    } else {
        format!("missed by {:.0} ms at the median", p1.median - 100.0)
    };
    let ours1 = stat(b1, tasks_ours);
    let cls_d = stat(b1, |s| Some(s.cls)).median - stat(a1, |s| Some(s.cls)).median;
    let tbt_d = stat(b1, |s| Some(s.tbt_ms)).median - stat(a1, |s| Some(s.tbt_ms)).median;
    let _ = write!(
        md,
        "What it means: at 1× CPU the prompt is visible {:.0} ms after the script arrives (goal ≤ 100 ms: {}); the tag adds {:.0} ms of total blocking time, {} long task(s) attributed to it and {} layout shift",
        p1.median,
        p1_verdict,
        tbt_d,
        ours1.median,
        if cls_d.abs() < 0.0005 {
            "no".to_owned()
        } else {
            format!("{cls_d:.3}")
        },
    );
    if let Some((cpu, _, b)) = m.pricing.get(1) {
        let _ = write!(
            md,
            "; at {cpu}× the prompt takes {:.0} ms and the tag brings {} long task(s) of its own",
            stat(b, prompt).median,
            stat(b, tasks_ours).median
        );
    }
    md.push_str(".\n\n");

    // Table 2: bytes on a page with no eligible touchpoint.
    let (cart_without, cart_with) = &m.cart;
    md.push_str("### Bytes on a page with no eligible touchpoint\n\n");
    md.push_str("`/cart` (the bench site has no touchpoint there), one run at 1× CPU with the tag and one without. Transfer sizes as Chromium reports them (headers included, compressed as served).\n\n");
    md.push_str("| request to our origin, `/cart` with the tag | type | transferred (B) |\n|---|---|---:|\n");
    let mine: Vec<&(String, String, u64, f64)> =
        cart_with.requests.iter().filter(|r| ours(&r.0)).collect();
    for (u, kind, size, _) in &mine {
        let _ = writeln!(md, "| `{}` | {kind} | {size} |", path_of(u));
    }
    let ours_total: u64 = mine.iter().map(|r| r.2).sum();
    let _ = writeln!(md, "| total | | {ours_total} |");
    let page = |s: &Sample| -> u64 { s.requests.iter().map(|r| r.2).sum() };
    let _ = writeln!(
        md,
        "\n| whole `/cart` page, every origin | without the tag | with it | difference |\n|---|---:|---:|---:|\n| requests | {} | {} | {:+} |\n| transferred (B) | {} | {} | {:+} |",
        cart_without.requests.len(),
        cart_with.requests.len(),
        cart_with.requests.len() as i64 - cart_without.requests.len() as i64,
        page(cart_without),
        page(cart_with),
        page(cart_with) as i64 - page(cart_without) as i64,
    );
    let only_loader = mine.len() == 2
        && mine.iter().any(|r| path_of(&r.0) == "/t.js")
        && mine.iter().any(|r| r.0.ends_with("/config"));
    let _ = writeln!(
        md,
        "\nWhat it means: {}",
        if only_loader {
            format!(
                "a page with no eligible touchpoint fetched the loader and the config and nothing else from us, {ours_total} B over the wire."
            )
        } else {
            format!(
                "a page with no eligible touchpoint fetched more than the loader and the config from us ({} requests, {ours_total} B): the budget is missed.",
                mine.len()
            )
        }
    );

    // Table 3: against the budgets.
    let cls_ok = cls_d.abs() < 0.0005;
    md.push_str("\n### Against the budgets\n\n| budget (DESIGN.md) | goal | measured in this run | |\n|---|---|---|---|\n");
    let _ = writeln!(
        md,
        "| script start → prompt visible, loopback, 1× CPU | ≤ 100 ms | {} ms (median; script start = `t.js` received) | {} |",
        cell(p1, 0),
        p1_verdict
    );
    let _ = writeln!(
        md,
        "| long tasks ≥ 50 ms caused by the widget, 1× CPU | none | {} attributed to our origin (median over {}; total blocking time {:+.0} ms against the baseline) | {} |",
        cell(ours1, 0),
        runs(b1),
        tbt_d,
        if stat(b1, tasks_ours).max == 0.0 {
            "met"
        } else {
            "missed"
        }
    );
    let _ = writeln!(
        md,
        "| layout shift caused by the widget | 0 | CLS {:.3} with the tag, {:.3} without | {} |",
        stat(b1, |s| Some(s.cls)).median,
        stat(a1, |s| Some(s.cls)).median,
        if cls_ok { "met" } else { "missed" }
    );
    let _ = writeln!(
        md,
        "| bytes on a page with no eligible touchpoint | loader + config only | {} | {} |",
        mine.iter()
            .map(|r| format!("`{}` {} B", path_of(&r.0), r.2))
            .collect::<Vec<_>>()
            .join(" + "),
        if only_loader { "met" } else { "missed" }
    );
    let _ = writeln!(
        md,
        "\nWhat it means: {}",
        budgets_meaning(
            p1.median,
            stat(b1, tasks_ours).max == 0.0,
            cls_ok,
            only_loader
        )
    );
    if !m.failures.is_empty() {
        let _ = writeln!(
            md,
            "\nRuns that failed and are left out of the medians: {}.",
            m.failures.join("; ")
        );
    }
}

fn budgets_meaning(prompt: f64, no_long_tasks: bool, no_shift: bool, only_loader: bool) -> String {
    let (held, missed): (Vec<_>, Vec<_>) = [
        (
            prompt <= 100.0,
            "prompt visible within 100 ms at the median",
        ),
        (no_long_tasks, "no long task from the widget at 1×"),
        (no_shift, "no layout shift"),
        (
            only_loader,
            "loader + config only on a page with no eligible touchpoint",
        ),
    ]
    .into_iter()
    .partition(|(ok, _)| *ok);
    let names = |v: Vec<(bool, &str)>| v.into_iter().map(|(_, n)| n).collect::<Vec<_>>().join(", ");
    let mut s = match (held.is_empty(), missed.is_empty()) {
        (_, true) => "every page-impact budget held in this run".to_owned(),
        (true, _) => "every page-impact budget was missed in this run".to_owned(),
        _ => format!(
            "held in this run: {}; missed: {}",
            names(held),
            names(missed)
        ),
    };
    s.push_str(". Timings vary from run to run on this shared 2-core machine: read the min–max beside each median.");
    s
}
