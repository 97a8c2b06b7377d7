//! The scale part's run: the imports step by step, then at each size the
//! aggregate requests against a running server and the CSV exports, each
//! command's time and peak memory.

use super::events::{SITE, write_events};
use super::{
    EXPORT_GROUP_BY, Export, FIRST_READ, GROUPINGS, Import, KEY, Latency, Options, READS, Report,
    SLOW_MS, ServeMemory,
};
use crate::bench::server::{Server, rss_kb, spawn};
use crate::util::target_dir;
use anyhow::{Context, bail, ensure};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Imports the steps in `options` on each database and measures at each size.
pub fn run(options: Options) -> anyhow::Result<Report> {
    let started = Instant::now();
    let touchpoint = target_dir().join("release/touchpoint");
    let work = tempfile::Builder::new()
        .prefix("touchpoint-scale-")
        .tempdir()?;
    let site = work.path().join("site.toml");
    std::fs::write(&site, SITE)?;
    let events = work.path().join("events.ndjson");
    let cluster = if options.steps.iter().any(|s| *s <= options.postgres_up_to) {
        Some(touchpoint_e2e::pg::Cluster::start(true)?)
    } else {
        None
    };
    let mut databases: Vec<(&'static str, String)> = vec![(
        "SQLite",
        format!("sqlite://{}", work.path().join("scale.db").display()),
    )];
    if let Some(c) = &cluster {
        databases.push(("PostgreSQL", c.admin_url()));
    }
    let mut tokens = Vec::new();
    for (name, url) in &databases {
        let db = ["--database", url.as_str()];
        command(
            &touchpoint,
            &[&db[..], &["apply", site.to_str().unwrap()]].concat(),
        )
        .with_context(|| format!("apply on {name}"))?;
        let out = command(
            &touchpoint,
            &[
                &db[..],
                &["--json", "token", "add", "--site", KEY, "--role", "viewer"],
            ]
            .concat(),
        )?;
        let token: serde_json::Value = serde_json::from_str(&out)?;
        tokens.push(token["token"].as_str().context("no token")?.to_owned());
    }

    let mut report = Report {
        command: "cargo xtask bench".into(),
        options: options.clone(),
        imports: Vec::new(),
        latencies: Vec::new(),
        exports: Vec::new(),
        serve: Vec::new(),
        seconds: 0.0,
    };
    let mut loaded = 0;
    for &size in &options.steps {
        let generated = Instant::now();
        write_events(&events, loaded, size)?;
        eprintln!(
            "scale: generated events {loaded}..{size} in {:.1} s",
            generated.elapsed().as_secs_f64()
        );
        for ((name, url), token) in databases.iter().zip(&tokens) {
            if *name != "SQLite" && size > options.postgres_up_to {
                continue;
            }
            let import = measured(Command::new(&touchpoint).args([
                "--database",
                url,
                "--json",
                "import",
                "--site",
                KEY,
                events.to_str().unwrap(),
            ]))?;
            let answer: serde_json::Value = serde_json::from_slice(&import.stdout)
                .with_context(|| format!("import on {name}: {}", import.stderr))?;
            ensure!(
                answer["accepted"].as_u64() == Some(size - loaded)
                    && answer["rejected"].as_u64() == Some(0),
                "import on {name} did not store every event: {answer}"
            );
            eprintln!(
                "scale: {name}: imported {} events in {:.1} s ({:.0}/s), peak RSS {} MiB",
                size - loaded,
                import.seconds,
                (size - loaded) as f64 / import.seconds,
                import.peak_kb / 1024
            );
            if *name == "PostgreSQL" {
                settle(url)?;
            }
            report.imports.push(Import {
                database: name,
                from: loaded,
                to: size,
                seconds: import.seconds,
                peak_kb: import.peak_kb,
            });
            aggregates(&touchpoint, name, url, token, size, &options, &mut report)?;
            if size >= options.export_from {
                exports(&touchpoint, name, url, size, &mut report)?;
            }
        }
        loaded = size;
    }
    std::fs::remove_file(&events)?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

/// Vacuums and analyses PostgreSQL's events table after a bulk load, as
/// autovacuum would in its own time: the first reads of freshly loaded rows
/// set their hint bits, and a vacuum started by the load would run beside
/// the measurements that follow.
fn settle(url: &str) -> anyhow::Result<()> {
    let vacuumdb = touchpoint_e2e::pg::bin_dir()
        .context("PostgreSQL's binaries")?
        .join("vacuumdb");
    let out = Command::new(vacuumdb)
        .args(["--analyze", "--quiet", "--table=events", "--dbname", url])
        .output()?;
    ensure!(
        out.status.success(),
        "vacuumdb: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// Aggregate latency per grouping from a running server, and its memory after.
fn aggregates(
    touchpoint: &Path,
    database: &'static str,
    url: &str,
    token: &str,
    size: u64,
    options: &Options,
    report: &mut Report,
) -> anyhow::Result<()> {
    let server = spawn(Command::new(touchpoint).args([
        "--database",
        url,
        "--json",
        "serve",
        "--addr",
        "127.0.0.1:0",
    ]))?;
    // One request first, not counted: right after an import the pages of a
    // fresh process are cold, and the first grouping would pay for all.
    get(&server, "aggregates", token)?;
    let groupings = GROUPINGS
        .iter()
        .map(|g| (*g, format!("aggregates?group_by={g}")));
    let reads = READS
        .iter()
        .map(|(label, path)| (*label, (*path).to_owned()));
    for (label, path) in groupings.chain(reads) {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..options.runs {
            let (ms, n) = get(&server, &path, token)?;
            times.push(ms);
            rows = n;
            if ms > SLOW_MS {
                break;
            }
        }
        times.sort_by(f64::total_cmp);
        let median_ms = times[times.len() / 2];
        eprintln!("scale: {database}, {size} events, {path}: {median_ms:.1} ms, {rows} rows");
        report.latencies.push(Latency {
            database,
            size,
            grouping: label,
            median_ms,
            rows,
        });
    }
    let pid = server.child.id();
    report.serve.push(ServeMemory {
        database,
        size,
        rss_kb: rss_kb(pid, "VmRSS:"),
        peak_kb: rss_kb(pid, "VmHWM:"),
    });
    Ok(())
}

/// One `GET /v1/sites/{key}/{path}` over a fresh connection: the
/// milliseconds until the whole answer is read, and how many rows it holds
/// (aggregate rows, journey cells, trend points).
fn get(server: &Server, path: &str, token: &str) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&server.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    write!(
        stream,
        "GET /v1/sites/{KEY}/{path} HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        server.addr
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    ensure!(head.starts_with("HTTP/1.1 200"), "{path}: {head}\n{body}");
    let v: serde_json::Value =
        serde_json::from_str(body).with_context(|| format!("{path}: not JSON: {body}"))?;
    let rows = if let Some(rows) = v["rows"].as_array() {
        rows.len()
    } else if let Some(points) = v["points"].as_array() {
        points.len()
    } else if let Some(stages) = v["stages"].as_array() {
        stages
            .iter()
            .filter_map(|s| s["touchpoints"].as_array())
            .map(Vec::len)
            .sum()
    } else {
        bail!("{path}: an answer without rows, points or stages: {body}")
    };
    Ok((ms, rows))
}

/// Raw and aggregate CSV exports: time, rows, peak memory.
fn exports(
    touchpoint: &Path,
    database: &'static str,
    url: &str,
    size: u64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let base = ["--database", url, "export", "--site", KEY];
    let mut raw_rows = 0;
    for (what, extra) in [
        // Not counted: right after a bulk import the first read of the
        // table pays for bringing its pages into the file cache (and, on
        // PostgreSQL, its shared buffers), which a server reading its
        // database every day does not; the figures after it are for a
        // warm table.
        (FIRST_READ, ["--raw", "--format", "csv"].as_slice()),
        ("raw", ["--raw", "--format", "csv"].as_slice()),
        ("raw NDJSON", ["--raw", "--format", "ndjson"].as_slice()),
        ("raw XLSX", ["--raw", "--format", "xlsx"].as_slice()),
        (
            "aggregates",
            ["--format", "csv", "--group-by", EXPORT_GROUP_BY].as_slice(),
        ),
    ] {
        let run = measured(Command::new(touchpoint).args(base).args(extra))?;
        // CSV has a header line; NDJSON has none; an XLSX file's rows are
        // the CSV's (its lines mean nothing).
        let rows = match what {
            "raw NDJSON" => run.lines,
            "raw XLSX" => raw_rows,
            _ => run.lines.saturating_sub(1),
        };
        ensure!(
            rows > 0 && run.bytes > 0,
            "export {what} on {database} wrote no rows"
        );
        if what == "raw" {
            raw_rows = rows;
        }
        eprintln!(
            "scale: {database}, {size} events, export {what}: {rows} rows in {:.1} s ({:.0} rows/s), peak RSS {} MiB",
            run.seconds,
            rows as f64 / run.seconds,
            run.peak_kb / 1024
        );
        report.exports.push(Export {
            database,
            size,
            what,
            rows,
            bytes: run.bytes,
            seconds: run.seconds,
            peak_kb: run.peak_kb,
        });
    }
    Ok(())
}

/// Runs a command to its end and fails with its stderr if it fails.
fn command(program: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new(program).args(args).output()?;
    if !out.status.success() {
        bail!(
            "touchpoint {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

struct Measured {
    seconds: f64,
    /// Peak resident memory (`VmHWM`), sampled every 5 ms until exit.
    peak_kb: u64,
    /// Standard output when it is small (the first 64 KiB), its lines and bytes.
    stdout: Vec<u8>,
    lines: u64,
    bytes: u64,
    stderr: String,
}

/// Runs a command to its end, counting its output and sampling its peak
/// memory; fails if it fails.
fn measured(cmd: &mut Command) -> anyhow::Result<Measured> {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env("RUST_LOG", "warn")
        .spawn()?;
    let pid = child.id();
    let mut stdout = child.stdout.take().context("no stdout")?;
    let reader = std::thread::spawn(move || -> std::io::Result<(Vec<u8>, u64, u64)> {
        let (mut kept, mut lines, mut bytes) = (Vec::new(), 0u64, 0u64);
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = stdout.read(&mut buf)?;
            if n == 0 {
                return Ok((kept, lines, bytes));
            }
            bytes += n as u64;
            lines += buf[..n].iter().filter(|b| **b == b'\n').count() as u64;
            if kept.len() < 1 << 16 {
                kept.extend_from_slice(&buf[..n]);
            }
        }
    });
    let mut stderr = child.stderr.take().context("no stderr")?;
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut peak_kb = 0;
    let status = loop {
        peak_kb = peak_kb.max(rss_kb(pid, "VmHWM:"));
        if let Some(status) = child.try_wait()? {
            break status;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let seconds = started.elapsed().as_secs_f64();
    let (stdout, lines, bytes) = reader.join().expect("stdout reader")?;
    let stderr = errors.join().expect("stderr reader");
    ensure!(status.success(), "{cmd:?} failed ({status}): {stderr}");
    Ok(Measured {
        seconds,
        peak_kb,
        stdout,
        lines,
        bytes,
        stderr,
    })
}
