//! One Lighthouse run: started with the page's URL and a CPU rate in a
//! fresh Chromium profile, stopped when it takes too long, its JSON report
//! read into a [`Sample`].

use super::MARK;
use anyhow::{Context, bail};
use serde_json::Value;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

pub const CHROME_FLAGS: &str = "--headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking --disable-component-update --disable-sync";
/// Lighthouse options besides the URL, the CPU rate and where things go.
pub const LIGHTHOUSE_FLAGS: [&str; 8] = [
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
/// What one Lighthouse run measured.
pub struct Sample {
    /// Lighthouse performance score, 0–100.
    pub score: f64,
    pub tbt_ms: f64,
    pub cls: f64,
    pub lcp_ms: f64,
    /// Long tasks (≥ 50 ms): the URL Lighthouse attributes each to, its duration.
    pub long_tasks: Vec<(String, f64)>,
    /// Every request: URL, resource type, bytes transferred, end (ms from
    /// navigation start).
    pub requests: Vec<(String, String, u64, f64)>,
    /// When `touchpoint:prompt` was marked, ms from navigation start.
    pub mark_ms: Option<f64>,
}

impl Sample {
    pub fn end_of(&self, url: &str) -> Option<f64> {
        self.requests
            .iter()
            .find(|(u, ..)| u == url)
            .map(|&(.., end)| end)
    }

    pub fn end_where(&self, f: impl Fn(&str) -> bool) -> Option<f64> {
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

pub struct Runner {
    pub node: String,
    pub cli: PathBuf,
    pub chromium: String,
    pub work: PathBuf,
    pub runs: usize,
}

impl Runner {
    /// One Lighthouse run of `url` at `cpu`× in a fresh profile.
    pub fn run(&mut self, url: &str, cpu: u32) -> anyhow::Result<Sample> {
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
