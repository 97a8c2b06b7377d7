//! The ingest benchmark: `POST /v1/events` throughput and latency from a
//! second process (`wrk`), against a bare axum endpoint answering 202 in the
//! same run, on SQLite and on PostgreSQL, durability on (SQLite
//! `synchronous = FULL`, PostgreSQL `fsync = on`), rate limits off.
//!
//! `cargo xtask bench --only ingest [--smoke]` runs this part alone.

use crate::bench::server::{Server, cpu, rss_kb, spawn, ticks_per_second};
use crate::bench::text::{self, fill};
use crate::bench::verdict::verdict;
use crate::util::{self, target_dir};
use anyhow::{Context, bail};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// Concurrent connections wrk keeps open, one run each.
const CONNECTIONS: [u32; 3] = [16, 64, 256];
/// wrk runs so far in this process.
static RUNS: AtomicU32 = AtomicU32::new(0);

/// How long wrk runs.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Seconds of warm-up before each run, not counted.
    pub warm_up: u32,
    /// Seconds of measurement per run.
    pub seconds: u32,
}

impl Options {
    pub fn full() -> Options {
        Options {
            warm_up: 2,
            seconds: 10,
        }
    }

    /// A second each: every target and batch size is still exercised.
    pub fn smoke() -> Options {
        Options {
            warm_up: 1,
            seconds: 1,
        }
    }
}

const SITE: &str = r#"
[site]
name = "Benchmark"
key = "bench"

[[stage]]
id = "evaluate"
label = "Evaluate"
pages = ["/pricing"]

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely?" }
"#;

/// Each request carries `EVENTS` responses with ids unique per wrk run
/// (`RUN`), thread and event: a repeated id would be stored once and make
/// the durability check count a loss.
const SCRIPT: &str = r#"
local n = tonumber(os.getenv("EVENTS") or "1")
local run = tonumber(os.getenv("RUN") or "0")
local site = os.getenv("SITE")
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local counter = 0
request = function()
  local events = {}
  for i = 1, n do
    counter = counter + 1
    local id = string.format("%08x-%04x-4000-8000-%012x", run, tid, counter)
    events[i] = '{"id":"' .. id .. '","kind":"response","touchpoint":"site-nps","page":"https://shop.example/pricing","score":9,"ts":"2026-11-20T10:00:00Z"}'
  end
  local body = '{"site":"' .. site .. '","events":[' .. table.concat(events, ",") .. ']}'
  return wrk.format("POST", "/v1/events", { ["Content-Type"] = "text/plain" }, body)
end
"#;

pub struct Run {
    pub target: String,
    pub connections: u32,
    pub events: u32,
    /// Requests wrk completed in the measured run.
    pub requests: u64,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub errors: u64,
    pub rss_idle_kb: u64,
    pub rss_peak_kb: u64,
    /// CPU per request completed in the measured run, microseconds: the
    /// server process, PostgreSQL's processes (none on SQLite, which runs
    /// in the server), and the whole machine (wrk included).
    pub server_us: f64,
    /// Of the server's, its writer thread's: on SQLite the database's one
    /// writer, through which every group's transaction passes.
    pub writer_us: Option<f64>,
    pub database_us: Option<f64>,
    pub machine_us: f64,
    /// Share of the machine's CPU time left idle during the run, percent.
    pub idle_pct: f64,
}

pub struct Report {
    pub runs: Vec<Run>,
    /// `(database, events acknowledged, events stored)`.
    pub durability: Vec<(String, u64, u64)>,
    pub command: String,
}

fn ensure_wrk() -> anyhow::Result<()> {
    if util::output("wrk", &["--version"]).is_some()
        || Command::new("wrk").arg("--version").output().is_ok()
    {
        return Ok(());
    }
    if util::output("id", &["-u"]).is_some_and(|u| u.trim() == "0") {
        util::run(
            "apt-get",
            &["install", "-y", "-qq", "wrk"],
            &[("DEBIAN_FRONTEND", "noninteractive")],
        )?;
        return Ok(());
    }
    bail!("wrk is missing: apt-get install wrk")
}

/// One wrk run; every run numbered apart, so that its event ids are new.
fn wrk(
    addr: &str,
    connections: u32,
    events: u32,
    seconds: u32,
    script: &Path,
) -> anyhow::Result<(f64, f64, f64, u64, u64)> {
    let out = Command::new("wrk")
        .args([
            "-t2",
            &format!("-c{connections}"),
            &format!("-d{seconds}s"),
            "--latency",
            "-s",
        ])
        .arg(script)
        .arg(format!("http://{addr}/v1/events"))
        .env("EVENTS", events.to_string())
        .env("SITE", "bench")
        .env("RUN", RUNS.fetch_add(1, Ordering::Relaxed).to_string())
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let rps = text
        .lines()
        .find_map(|l| l.strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
        .with_context(|| format!("wrk printed no rate:\n{text}"))?;
    let percentile = |p: &str| -> f64 {
        text.lines()
            .find_map(|l| l.trim().strip_prefix(p).map(|v| v.trim().to_owned()))
            .map_or(f64::NAN, |v| duration_ms(&v))
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let errors = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("Non-2xx or 3xx responses:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok((rps, percentile("50%"), percentile("99%"), requests, errors))
}

/// `1.23ms`, `456.00us`, `1.02s` → milliseconds.
fn duration_ms(v: &str) -> f64 {
    let (num, unit) = v.split_at(v.find(|c: char| c.is_alphabetic()).unwrap_or(v.len()));
    let n: f64 = num.parse().unwrap_or(f64::NAN);
    match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => f64::NAN,
    }
}

/// `cargo xtask bench --only ingest [--smoke]`: builds the release server,
/// runs this part and prints its section (docs/BENCHMARKS.md is left as it is).
pub fn only(smoke: bool) -> anyhow::Result<()> {
    crate::dist::release_server()?;
    let options = if smoke {
        Options::smoke()
    } else {
        Options::full()
    };
    let report = run(options)?;
    let md = section(&report);
    println!("{}", md.trim());
    verdict(smoke, &md, report.problems())
}

pub fn run(options: Options) -> anyhow::Result<Report> {
    ensure_wrk()?;
    util::cargo(
        &[
            "build",
            "--release",
            "--package",
            "touchpoint-e2e",
            "--bin",
            "bare-202",
        ],
        &[],
    )?;
    let touchpoint = target_dir().join("release/touchpoint");
    let baseline = target_dir().join("release/bare-202");
    let work = tempfile::tempdir()?;
    let script = work.path().join("ingest.lua");
    std::fs::write(&script, SCRIPT)?;
    let site = work.path().join("site.toml");
    std::fs::write(&site, SITE)?;

    let mut runs = Vec::new();
    let mut durability = Vec::new();
    let cluster = touchpoint_e2e::pg::Cluster::start(true)?;
    let databases = [
        (
            "SQLite",
            format!("sqlite://{}", work.path().join("bench.db").display()),
        ),
        ("PostgreSQL", cluster.admin_url()),
    ];
    let measure = |target: &str,
                   server: &Server,
                   connections: u32,
                   events: u32,
                   runs: &mut Vec<Run>|
     -> anyhow::Result<u64> {
        let pid = server.child.id();
        let rss_idle_kb = rss_kb(pid, "VmRSS:");
        let (_, _, _, warm, _) = wrk(&server.addr, connections, events, options.warm_up, &script)?;
        let before = cpu(pid);
        let (rps, p50, p99, requests, errors) =
            wrk(&server.addr, connections, events, options.seconds, &script)?;
        let after = cpu(pid);
        let per_request = |ticks: u64| ticks as f64 / ticks_per_second() * 1e6 / requests as f64;
        let busy = after.busy - before.busy;
        let idle = after.idle - before.idle;
        eprintln!(
            "{target}, {connections} connections, {events} event(s)/request: {rps:.0} req/s, p50 {p50:.2} ms, p99 {p99:.2} ms, {errors} errors"
        );
        runs.push(Run {
            target: target.to_owned(),
            connections,
            events,
            requests,
            requests_per_s: rps,
            p50_ms: p50,
            p99_ms: p99,
            errors,
            rss_idle_kb,
            rss_peak_kb: rss_kb(pid, "VmHWM:"),
            server_us: per_request(after.process - before.process),
            writer_us: target
                .starts_with("touchpoint")
                .then(|| per_request(after.writer - before.writer)),
            database_us: target
                .ends_with("PostgreSQL")
                .then(|| per_request(after.postgres - before.postgres)),
            machine_us: per_request(busy),
            idle_pct: 100.0 * idle as f64 / (busy + idle).max(1) as f64,
        });
        Ok((warm + requests) * u64::from(events))
    };
    for connections in CONNECTIONS {
        for events in [1, 20] {
            let server = spawn(Command::new(&baseline).arg("127.0.0.1:0"))?;
            measure(
                "bare axum (baseline)",
                &server,
                connections,
                events,
                &mut runs,
            )?;
        }
    }
    for (name, url) in &databases {
        let applied = Command::new(&touchpoint)
            .args(["--database", url, "apply"])
            .arg(&site)
            .output()?;
        if !applied.status.success() {
            bail!(
                "apply on {name} failed: {}",
                String::from_utf8_lossy(&applied.stderr)
            );
        }
        let server = spawn(Command::new(&touchpoint).args([
            "--database",
            url,
            "--json",
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--rate-per-client",
            "0",
            "--rate-per-site",
            "0",
        ]))?;
        let mut sent = 0;
        for connections in CONNECTIONS {
            for events in [1, 20] {
                let target = format!("touchpoint, {name}");
                sent += measure(&target, &server, connections, events, &mut runs)?;
            }
        }
        drop(server);
        let out = Command::new(&touchpoint)
            .args([
                "--database",
                url,
                "export",
                "--site",
                "bench",
                "--format",
                "ndjson",
            ])
            .output()?;
        let stored: u64 = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v["responses"].as_u64())
            .sum();
        let errors: u64 = runs
            .iter()
            .filter(|r| r.target.ends_with(name))
            .map(|r| r.errors * u64::from(r.events))
            .sum();
        durability.push(((*name).to_owned(), sent.saturating_sub(errors), stored));
    }
    Ok(Report {
        runs,
        durability,
        command: format!(
            "wrk -t2 -c{{{}}} -d{}s --latency -s ingest.lua (after a {} s warm-up)",
            CONNECTIONS.map(|c| c.to_string()).join(","),
            options.seconds,
            options.warm_up
        ),
    })
}

impl Report {
    /// What shows this part no longer works, whatever the figures: a run
    /// with no request answered, a figure that is not a number, a database
    /// that stored nothing or less than it acknowledged.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.runs.is_empty() {
            problems.push("ingest: no run".to_owned());
        }
        for r in &self.runs {
            let run = format!(
                "ingest, {}, {} connections, {} event(s)/request",
                r.target, r.connections, r.events
            );
            if r.requests == 0 {
                problems.push(format!("{run}: wrk completed no request"));
            } else if r.errors >= r.requests {
                problems.push(format!("{run}: every request was answered non-2xx"));
            }
            for (name, v) in [
                ("requests/s", r.requests_per_s),
                ("p50", r.p50_ms),
                ("p99", r.p99_ms),
            ] {
                if !v.is_finite() {
                    problems.push(format!("{run}: {name} is {v}"));
                }
            }
        }
        for (db, acked, stored) in &self.durability {
            if *stored == 0 {
                problems.push(format!("ingest, {db}: nothing was stored"));
            } else if stored < acked {
                problems.push(format!(
                    "ingest, {db}: {acked} events acknowledged, only {stored} stored"
                ));
            }
        }
        problems
    }
}

/// How many requests per second the costs measured at 64 connections
/// allow at most, whatever the waiting: every core busy at the machine's
/// CPU per request, and on SQLite the writer thread busy all the time at
/// its own (SQLite lets one connection write at a time, so no second
/// writer can share its work); each beside the bare endpoint's rate.
fn ceilings(ingest: &Report) -> String {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let cells: Vec<String> = ingest
        .runs
        .iter()
        .filter(|r| r.connections == 64 && r.target.starts_with("touchpoint"))
        .filter_map(|r| {
            let bare = ingest.runs.iter().find(|b| {
                b.target.starts_with("bare") && b.events == r.events && b.connections == 64
            })?;
            let machine = cores * 1e6 / r.machine_us;
            let writer = r
                .writer_us
                .filter(|_| r.target.ends_with("SQLite"))
                .map(|us| 1e6 / us);
            let most = writer.map_or(machine, |w| w.min(machine));
            let writer = writer.map_or(String::new(), |w| {
                format!(", the writer thread {w:.0} ({:.2})", w / bare.requests_per_s)
            });
            Some(format!(
                "{}, {} event(s) per request: the machine {machine:.0} ({:.2}){writer}; at most {:.2} of the bare endpoint",
                r.target.trim_start_matches("touchpoint, "),
                r.events,
                machine / bare.requests_per_s,
                most / bare.requests_per_s,
            ))
        })
        .collect();
    if cells.is_empty() {
        return String::new();
    }
    format!(
        "Ceilings at 64 connections, in requests per second (and as a share of the bare endpoint's rate at the same events per request), from the costs measured in these runs: all {cores} cores busy at the machine's CPU per request, and on SQLite the writer thread busy all the time at its CPU per request (SQLite lets one connection write at a time: every group's transaction, its inserts, rollup upserts and commit, runs on that one thread). {}. Where a ceiling is below 0.5, the goal cannot be met at these costs by arranging the waiting differently: only by storing each event for less CPU.",
        cells.join("; ")
    )
}

/// The "Ingest" section of docs/BENCHMARKS.md.
pub fn section(ingest: &Report) -> String {
    let runs: Vec<String> = ingest
        .runs
        .iter()
        .map(|r| {
            let base = ingest
                .runs
                .iter()
                .find(|b| {
                    b.target.starts_with("bare")
                        && b.events == r.events
                        && b.connections == r.connections
                })
                .map_or(f64::NAN, |b| b.requests_per_s);
            format!(
                "| {} | {} | {} | {:.0} | {:.0} | {:.2} | {:.2} | {} | {:.2} | {:.1} → {:.1} | {:.0} | {} | {} | {:.0} | {:.0} |",
                r.target,
                r.connections,
                r.events,
                r.requests_per_s,
                r.requests_per_s * f64::from(r.events),
                r.p50_ms,
                r.p99_ms,
                r.errors,
                r.requests_per_s / base,
                r.rss_idle_kb as f64 / 1024.0,
                r.rss_peak_kb as f64 / 1024.0,
                r.server_us,
                r.writer_us.map_or("–".to_owned(), |us| format!("{us:.0}")),
                r.database_us.map_or("–".to_owned(), |us| format!("{us:.0}")),
                r.machine_us,
                r.idle_pct,
            )
        })
        .collect();
    let durability: Vec<String> = ingest
        .durability
        .iter()
        .map(|(db, acked, stored)| format!("| {db} | {acked} | {stored} |"))
        .collect();
    let verdict = ingest
        .runs
        .iter()
        .filter(|r| r.connections == 64 && r.target.starts_with("touchpoint"))
        .map(|r| {
            let base = ingest
                .runs
                .iter()
                .find(|b| {
                    b.target.starts_with("bare") && b.events == r.events && b.connections == 64
                })
                .map_or(f64::NAN, |b| b.requests_per_s);
            let ratio = r.requests_per_s / base;
            let verdict = if ratio >= 0.5 {
                "reached"
            } else {
                "not reached"
            };
            format!(
                "{}, {} event(s) per request: {ratio:.2}, {verdict}",
                r.target.trim_start_matches("touchpoint, "),
                r.events
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let verdict = format!("at 64 connections: {verdict}.");
    // Where the time goes at 64 connections, 1 event per request.
    let at = |prefix: &str| {
        ingest
            .runs
            .iter()
            .find(|r| r.target.starts_with(prefix) && r.connections == 64 && r.events == 1)
    };
    let cpu = match (
        at("bare"),
        at("touchpoint, SQLite"),
        at("touchpoint, PostgreSQL"),
    ) {
        (Some(bare), Some(lite), Some(pg)) => {
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
            // Requests per second with every core busy at the cost measured.
            let most = |r: &Run| cores * 1e6 / r.machine_us;
            format!(
                "At 64 connections and 1 event per request the machine was {:.0} % idle with the bare endpoint, {:.0} % with SQLite and {:.0} % with PostgreSQL. Per request, the whole machine (wrk, the server, the database) spent {:.0} µs of CPU with the bare endpoint, {:.0} µs with SQLite and {:.0} µs with PostgreSQL ({:.0} µs of it in PostgreSQL's processes). With all {cores} cores busy, requests that cost that much come to at most {:.0} per second on SQLite and {:.0} on PostgreSQL: {:.2} and {:.2} of the bare endpoint's rate in this run, however the waiting is arranged. A 202 that means durable costs the storing itself: the events' rows and indexes, the rollups counted with them, the log written and flushed.",
                bare.idle_pct,
                lite.idle_pct,
                pg.idle_pct,
                bare.machine_us,
                lite.machine_us,
                pg.machine_us,
                pg.database_us.unwrap_or(f64::NAN),
                most(lite),
                most(pg),
                most(lite) / bare.requests_per_s,
                most(pg) / bare.requests_per_s,
            )
        }
        _ => String::new(),
    };
    let ceilings = ceilings(ingest);
    let cpu = format!("{cpu}\n\n{ceilings}");
    fill(
        text::INGEST,
        &[
            ("verdict", &verdict),
            ("command", &ingest.command),
            ("runs", &runs.join("\n")),
            ("durability", &durability.join("\n")),
            ("cpu", &cpu),
        ],
    )
}
