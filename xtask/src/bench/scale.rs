//! The scale benchmark: how imports, aggregates and exports behave as a
//! site's stored events grow. A demo-like shop's synthetic events are
//! deterministic (each is a function of its index and one seed), written as
//! NDJSON and loaded with `touchpoint import` in steps (100 k, then 900 k
//! more, then 9 M more). At each size a running `touchpoint serve` answers
//! `GET /v1/sites/{key}/aggregates` for every grouping with a viewer token;
//! from 1 M on, `touchpoint export` writes raw responses and aggregates as
//! CSV while its peak memory (`VmHWM`) is sampled. SQLite at every size,
//! PostgreSQL (a throw-away cluster, fsync on) up to 1 M.
//!
//! `cargo xtask bench --only scale [--max 1M] [--smoke]` runs this part alone.

use crate::bench::server::{Server, rss_kb, spawn};
use crate::bench::verdict::verdict;
use crate::util::target_dir;
use anyhow::{Context, bail, ensure};
use std::fmt::Write as _;
use std::io::{BufWriter, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SEED: u64 = 0x5ca1_e0f7_0c4e_5eed;
const KEY: &str = "bench-scale";
/// Days the events are spread over, from 2026-08-01.
const DAYS: u64 = 91;
/// Events of one visit (one visitor, one session, minutes apart).
const EVENTS_PER_VISIT: u64 = 4;
/// Share of visits by a returning visitor, in percent.
const RETURNING: u64 = 30;
/// Product pages (`/product/1` …) and help topics (`/help/…`).
const PRODUCTS: u64 = 200;
const HELP_TOPICS: [&str; 8] = [
    "shipping",
    "returns",
    "payment",
    "sizes",
    "account",
    "orders",
    "gift-cards",
    "contact-us",
];
/// Every grouping the aggregates offer, and none.
const GROUPINGS: [&str; 7] = ["", "page", "stage", "touchpoint", "day", "device", "locale"];
/// A request slower than this is not repeated: at 10 M events one takes
/// seconds, and its variation is small beside that.
const SLOW_MS: f64 = 2000.0;
/// What the aggregate export groups by.
const EXPORT_GROUP_BY: &str = "page,stage,touchpoint";

/// The demo shop's stages, and a touchpoint for every metric.
const SITE: &str = r#"
[site]
name = "Scale benchmark shop"
key = "bench-scale"
retention_days = 36500

[[stage]]
id = "discover"
label = "Discover"
pages = ["/", "/blog/**"]

[[stage]]
id = "evaluate"
label = "Evaluate"
pages = ["/pricing", "/product/*"]

[[stage]]
id = "purchase"
label = "Purchase"
pages = ["/cart", "/checkout/**"]

[[stage]]
id = "support"
label = "Support"
pages = ["/help/**", "/contact"]

[[touchpoint]]
id = "site-nps"
metric = "nps"
question = { en = "How likely are you to recommend us?" }
follow_up = { question = { en = "What is the one thing we should improve?" }, max = 6 }

[[touchpoint]]
id = "home-helpful"
metric = "thumbs"
pages = ["/"]
question = { en = "Did you find what you were looking for?" }

[[touchpoint]]
id = "product-idea"
metric = "text"
pages = ["/product/*"]
question = { en = "What would you like to know about this product?" }

[[touchpoint]]
id = "cart-matters"
metric = "choice"
multiple = true
pages = ["/cart"]
question = { en = "What matters most to you?" }
options = [
  { id = "price", label = { en = "Price" } },
  { id = "speed", label = { en = "Delivery speed" } },
  { id = "returns", label = { en = "Free returns" } },
]

[[touchpoint]]
id = "checkout-csat"
metric = "csat"
pages = ["/checkout"]
question = { en = "How satisfied are you with checkout?" }

[[touchpoint]]
id = "checkout-ces"
metric = "ces"
pages = ["/checkout/done"]
question = { en = "How easy was it to place your order?" }

[[touchpoint]]
id = "help-emoji"
metric = "emoji"
pages = ["/help/**"]
question = { en = "Was this article helpful?" }
"#;

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
            postgres_up_to: 1_000_000,
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
    /// `raw` or `aggregates`.
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
                if latencies.len() != GROUPINGS.len() {
                    problems.push(format!(
                        "{at}: {} of {} groupings measured",
                        latencies.len(),
                        GROUPINGS.len()
                    ));
                }
                for l in latencies.iter().filter(|l| l.rows == 0) {
                    problems.push(format!("{at}: group_by={} answered no rows", l.grouping));
                }
                if size >= self.options.export_from
                    && self
                        .exports
                        .iter()
                        .filter(|e| e.database == db && e.size == size)
                        .count()
                        != 2
                {
                    problems.push(format!(
                        "{at}: the raw and aggregate exports were not both measured"
                    ));
                }
            }
        }
        problems
    }
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
    get_aggregates(&server, "", token)?;
    for grouping in GROUPINGS {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..options.runs {
            let (ms, n) = get_aggregates(&server, grouping, token)?;
            times.push(ms);
            rows = n;
            if ms > SLOW_MS {
                break;
            }
        }
        times.sort_by(f64::total_cmp);
        let median_ms = times[times.len() / 2];
        eprintln!(
            "scale: {database}, {size} events, group_by={grouping}: {median_ms:.1} ms, {rows} rows"
        );
        report.latencies.push(Latency {
            database,
            size,
            grouping,
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

/// One `GET /v1/sites/{key}/aggregates` over a fresh connection: the
/// milliseconds until the whole answer is read, and its row count.
fn get_aggregates(server: &Server, grouping: &str, token: &str) -> anyhow::Result<(f64, usize)> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(&server.addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(600)))?;
    write!(
        stream,
        "GET /v1/sites/{KEY}/aggregates?group_by={grouping} HTTP/1.1\r\nHost: {}\r\n\
         Authorization: Bearer {token}\r\nConnection: close\r\n\r\n",
        server.addr
    )?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer)?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    let text = String::from_utf8_lossy(&answer);
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    ensure!(
        head.starts_with("HTTP/1.1 200"),
        "aggregates?group_by={grouping}: {head}\n{body}"
    );
    let rows = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v["rows"].as_array().map(Vec::len))
        .context("the aggregates answer has no rows")?;
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
    let base = [
        "--database",
        url,
        "export",
        "--site",
        KEY,
        "--format",
        "csv",
    ];
    for (what, extra) in [
        ("raw", ["--raw"].as_slice()),
        ("aggregates", ["--group-by", EXPORT_GROUP_BY].as_slice()),
    ] {
        let run = measured(Command::new(touchpoint).args(base).args(extra))?;
        ensure!(run.lines > 1, "export {what} on {database} wrote no rows");
        let rows = run.lines - 1;
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

/// Writes events `from..to` as NDJSON, in time order over the whole
/// range of days (give or take a few minutes), as an export from another
/// tool would come.
fn write_events(path: &Path, from: u64, to: u64) -> anyhow::Result<()> {
    let generator = Generator::new();
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let mut line = String::with_capacity(512);
    for n in from..to {
        line.clear();
        let at = (n - from) as f64 / (to - from) as f64;
        generator.event(n, at, &mut line);
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    out.flush()?;
    Ok(())
}

/// splitmix64: small, fast, and good enough to draw a benchmark's events.
struct Rng(u64);

impl Rng {
    /// The generator of event `n`: every event is drawn from its own
    /// stream, so a range of events is the same whichever run writes it.
    fn for_event(n: u64) -> Rng {
        Rng(SEED ^ n.wrapping_mul(0xd134_2543_de82_ef95))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// An index drawn by weight.
    fn weighted(&mut self, weights: &[u64]) -> usize {
        let mut roll = self.below(weights.iter().sum());
        for (i, w) in weights.iter().enumerate() {
            if roll < *w {
                return i;
            }
            roll -= w;
        }
        weights.len() - 1
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

const LOCALES: [&str; 9] = [
    "en-US", "en-GB", "de-DE", "fr-FR", "es-ES", "id-ID", "ja-JP", "pt-BR", "ru-RU",
];
const LOCALE_WEIGHTS: [u64; 9] = [35, 15, 10, 10, 8, 7, 5, 5, 5];
const DEVICES: [&str; 3] = ["desktop", "mobile", "tablet"];
const DEVICE_WEIGHTS: [u64; 3] = [55, 40, 5];
const COMPLAINTS: [&str; 8] = [
    "Checkout was slow",
    "Could not find the size guide",
    "Delivery took too long",
    "The coupon did not work",
    "Too many pop-ups",
    "Shipping costs came as a surprise at the end",
    "Please write to me at jo@example.com",
    "Call me back on 0612345678",
];
const PRAISE: [&str; 4] = [
    "Great prices",
    "Love the new design",
    "Support answered fast",
    "Easy to find what I needed",
];
const CHOICES: [&str; 6] = [
    r#"["price"]"#,
    r#"["speed"]"#,
    r#"["returns"]"#,
    r#"["price","speed"]"#,
    r#"["price","returns"]"#,
    r#"["speed","returns"]"#,
];

struct Generator {
    /// `2026-08-01` … for each day of the range.
    days: Vec<String>,
}

impl Generator {
    fn new() -> Generator {
        let months = [(8, 31), (9, 30), (10, 31), (11, 30)];
        let days = months
            .iter()
            .flat_map(|(m, len)| (1..=*len).map(move |d| format!("2026-{m:02}-{d:02}")))
            .take(DAYS as usize)
            .collect();
        Generator { days }
    }

    /// Event `n`, at `at` (0 to 1) of the range of days, as one JSON line:
    /// a page of the shop, one of its touchpoints, an impression (55 %),
    /// response (30 %), dismissal (10 %) or behavioural signal (5 %), with
    /// skewed scores, some comments, the visitor's locale and device.
    fn event(&self, n: u64, at: f64, out: &mut String) {
        let mut rng = Rng::for_event(n);
        let (a, b) = (rng.next(), rng.next());
        let id = format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        );
        let (path, specific, share) = match rng.weighted(&[20, 10, 35, 10, 5, 3, 7, 2, 8]) {
            0 => ("/".to_owned(), Some("home-helpful"), 50),
            1 => ("/pricing".to_owned(), None, 0),
            2 => (
                format!("/product/{}", 1 + rng.below(PRODUCTS)),
                Some("product-idea"),
                20,
            ),
            3 => ("/cart".to_owned(), Some("cart-matters"), 60),
            4 => ("/checkout".to_owned(), Some("checkout-csat"), 60),
            5 => ("/checkout/done".to_owned(), Some("checkout-ces"), 80),
            6 => (
                format!(
                    "/help/{}",
                    HELP_TOPICS[rng.below(HELP_TOPICS.len() as u64) as usize]
                ),
                Some("help-emoji"),
                60,
            ),
            7 => ("/contact".to_owned(), None, 0),
            _ => (format!("/blog/post-{}", 1 + rng.below(50)), None, 0),
        };
        let touchpoint = match specific {
            Some(t) if rng.chance(share) => t,
            _ => "site-nps",
        };
        let metric = match touchpoint {
            "home-helpful" => "thumbs",
            "product-idea" => "text",
            "cart-matters" => "choice",
            "checkout-csat" => "csat",
            "checkout-ces" => "ces",
            "help-emoji" => "emoji",
            _ => "nps",
        };
        let kind = ["impression", "response", "dismiss", "signal"][rng.weighted(&[55, 30, 10, 5])];
        // Up to 5 minutes late, as a queued event is.
        let total = DAYS * 86_400 - 1;
        let secs = ((at * total as f64) as u64 + rng.below(300)).min(total);
        let (day, secs) = (&self.days[(secs / 86_400) as usize], secs % 86_400);
        let query = if rng.chance(10) {
            "?utm_source=newsletter"
        } else {
            ""
        };
        let _ = write!(
            out,
            r#"{{"id":"{id}","kind":"{kind}","page":"https://shop.example{path}{query}","ts":"{day}T{:02}:{:02}:{:02}.{:03}Z""#,
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            rng.below(1000)
        );
        // A visit's events share its visitor, session, locale and device;
        // some visits are a visitor coming back.
        let visit = n / EVENTS_PER_VISIT;
        let mut v = Rng::for_event(visit ^ 0x7615_1700_0000_0000);
        let session = v.next() >> 24;
        let first_visit = if visit > 0 && v.chance(RETURNING) {
            visit - 1 - v.below(visit.min(1_000_000))
        } else {
            visit
        };
        let mut r = Rng::for_event(first_visit ^ 0x0015_1702_0000_0000);
        let visitor = r.next() >> 24;
        let _ = write!(
            out,
            r#","visitor":"v{visitor:x}","session":"s{session:x}","locale":"{}","device":"{}""#,
            LOCALES[r.weighted(&LOCALE_WEIGHTS)],
            DEVICES[r.weighted(&DEVICE_WEIGHTS)]
        );
        if kind == "signal" {
            let signal = ["rage_click", "dead_click", "error"][rng.weighted(&[50, 30, 20])];
            let _ = write!(out, r#","signal":"{signal}"}}"#);
            return;
        }
        let _ = write!(out, r#","touchpoint":"{touchpoint}","metric":"{metric}""#);
        if kind == "response" {
            let (score, unhappy) = match metric {
                "nps" => {
                    let s = rng.weighted(&[2, 1, 1, 2, 2, 4, 6, 10, 18, 24, 30]) as u64;
                    (Some(s), s <= 6)
                }
                "csat" | "emoji" => {
                    let s = 1 + rng.weighted(&[5, 7, 13, 35, 40]) as u64;
                    (Some(s), s <= 2)
                }
                "ces" => {
                    let s = 1 + rng.weighted(&[3, 4, 6, 10, 20, 27, 30]) as u64;
                    (Some(s), s <= 3)
                }
                "thumbs" => (Some(u64::from(rng.chance(72))), false),
                _ => (None, false),
            };
            if let Some(s) = score {
                let _ = write!(out, r#","score":{s}"#);
            }
            let comment = if metric == "text" || (unhappy && rng.chance(35)) {
                Some(COMPLAINTS[rng.below(COMPLAINTS.len() as u64) as usize])
            } else if rng.chance(3) && metric != "choice" {
                Some(PRAISE[rng.below(PRAISE.len() as u64) as usize])
            } else {
                None
            };
            if let Some(c) = comment {
                let _ = write!(out, r#","comment":"{c}""#);
            }
            if metric == "choice" {
                let picked = CHOICES[rng.weighted(&[30, 20, 15, 15, 10, 10])];
                let _ = write!(out, r#","choices":{picked}"#);
            }
        }
        out.push('}');
    }
}

/// The "Scale" and "Memory" sections of docs/BENCHMARKS.md.
pub fn section(r: &Report) -> String {
    let mut md = String::new();
    let largest = r.options.steps.last().copied().unwrap_or(0);
    let _ = writeln!(
        md,
        "\n\n## Scale\n\n\
         A demo-like shop (`{KEY}`: 4 stages, {} pages, 7 touchpoints, one for each metric) with synthetic events drawn from a seeded generator, so every run stores the same events: 55 % impressions, 30 % responses, 10 % dismissals, 5 % behavioural signals; scores skewed as real answers are (NPS mostly 7–10), comments on about a third of unhappy answers (some with an e-mail address or phone number to mask), {DAYS} days, visits of {EVENTS_PER_VISIT} events by one visitor ({RETURNING} % of them returning), 9 locales, 3 devices, one page view in ten with a query string. \
         They are written as NDJSON and loaded with `touchpoint import --site {KEY} events.ndjson` in steps ({}), each import on top of the previous one. \
         SQLite is the default file database (WAL, `synchronous = FULL`); PostgreSQL is a throw-away local cluster with `fsync = on`. Release build. Measured by `{}`, which took {:.0} s.\n",
        6 + PRODUCTS + HELP_TOPICS.len() as u64 + 50,
        r.options
            .steps
            .iter()
            .map(|s| count(*s))
            .collect::<Vec<_>>()
            .join(" → "),
        r.command,
        r.seconds
    );
    md.push_str("### Import\n\n| database | events imported | stored after | seconds | events/s |\n|---|---:|---:|---:|---:|\n");
    for i in &r.imports {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} | {:.0} |",
            i.database,
            count(i.to - i.from),
            count(i.to),
            i.seconds,
            (i.to - i.from) as f64 / i.seconds
        );
    }
    md.push_str("\nWhat it means: every line goes through the ingest's own validation (page normalisation, stage resolution, masking) and into the same idempotent insert, 10 000 events per transaction; the rate includes reading and checking each line. It falls as the table grows: event ids are random, so each event dirties a page of the id index that is rarely the one before, and SQLite writes every dirty page twice (WAL, then checkpoint). There is no budget for imports; the 10 M step is most of this part's time.\n");

    let _ = writeln!(
        md,
        "\n### Aggregates\n\n`GET /v1/sites/{KEY}/aggregates?group_by=…` with a viewer token (`touchpoint token add`) against a running `touchpoint serve`, one request at a time over a fresh loopback connection; the median of {} runs (one run when a request takes over {:.0} s), milliseconds until the whole answer is read. In brackets: rows in the answer.\n",
        r.options.runs,
        SLOW_MS / 1000.0
    );
    let columns: Vec<(&str, u64)> = r.imports.iter().map(|i| (i.database, i.to)).collect();
    md.push_str("| group_by |");
    for (db, size) in &columns {
        let _ = write!(md, " {db}, {} |", count(*size));
    }
    md.push_str("\n|---|");
    md.push_str(&"---:|".repeat(columns.len()));
    md.push('\n');
    for grouping in GROUPINGS {
        let name = if grouping.is_empty() {
            "(none)"
        } else {
            grouping
        };
        let _ = write!(md, "| {name} |");
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
        md.push('\n');
    }
    let worst = r
        .latencies
        .iter()
        .filter(|l| l.database == "SQLite" && l.size == largest)
        .map(|l| l.median_ms)
        .fold(0.0, f64::max);
    let _ = writeln!(
        md,
        "\nWhat it means: every aggregate is computed from the raw events on each request (two grouped scans: counts per score, and picked options), so the time grows in step with the stored events, whatever the grouping: on SQLite about {:.1} s per million events at {}. The goal for {} stored events is 50 ms or less, which needs rollups (counts kept per group as events arrive); there are none yet, and the slowest grouping at {} on SQLite took {}: {}.",
        worst / 1000.0 / (largest as f64 / 1e6),
        count(largest),
        count(10_000_000),
        count(largest),
        ms(worst),
        if worst <= 50.0 && largest >= 10_000_000 {
            "within the goal"
        } else if largest < 10_000_000 {
            "this run stopped short of 10 M"
        } else {
            "far from the goal"
        }
    );

    if !r.exports.is_empty() {
        let _ = writeln!(
            md,
            "\n### Exports\n\n`touchpoint export --site {KEY} --format csv --raw` (one row per response, read in `(ts, id)` pages of 5000) and `touchpoint export --site {KEY} --format csv --group-by {EXPORT_GROUP_BY}` (aggregate rows), written to a pipe; seconds include the process start. For aggregates, the rate is of stored events scanned.\n"
        );
        md.push_str("| database | stored events | export | rows | MiB | seconds | rows/s | events scanned/s |\n|---|---:|---|---:|---:|---:|---:|---:|\n");
        for e in &r.exports {
            let (rows_per_s, scanned) = if e.what == "raw" {
                (format!("{:.0}", e.rows as f64 / e.seconds), "–".to_owned())
            } else {
                ("–".to_owned(), format!("{:.0}", e.size as f64 / e.seconds))
            };
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {:.1} | {:.1} | {rows_per_s} | {scanned} |",
                e.database,
                count(e.size),
                e.what,
                e.rows,
                e.bytes as f64 / 1_048_576.0,
                e.seconds
            );
        }
        let best_raw = r
            .exports
            .iter()
            .filter(|e| e.what == "raw")
            .map(|e| e.rows as f64 / e.seconds)
            .fold(0.0, f64::max);
        let _ = writeln!(
            md,
            "\nWhat it means: the CSV budget is 1 M rows/s or more; raw exports reached {:.0} rows/s at best, {}.",
            best_raw,
            if best_raw >= 1_000_000.0 {
                "within it"
            } else {
                "below it on both databases: every value goes through sqlx's `Any` driver one by one (and on SQLite every row through the driver's worker thread), which costs more than reading and writing it. Memory is flat in the row count (see Memory below)"
            }
        );
    }

    md.push_str("\n## Memory\n\nPeak resident memory (`VmHWM`, sampled every 5 ms until the process exits) of each command of the scale runs above. The server's memory idle and under ingest load is in the ingest table.\n\n");
    md.push_str("| database | stored events | process | peak RSS (MiB) |\n|---|---:|---|---:|\n");
    for i in &r.imports {
        let _ = writeln!(
            md,
            "| {} | {} | `touchpoint import` ({} lines) | {:.1} |",
            i.database,
            count(i.to),
            count(i.to - i.from),
            i.peak_kb as f64 / 1024.0
        );
    }
    for s in &r.serve {
        let _ = writeln!(
            md,
            "| {} | {} | `touchpoint serve` after the aggregate requests (now {:.1} MiB) | {:.1} |",
            s.database,
            count(s.size),
            s.rss_kb as f64 / 1024.0,
            s.peak_kb as f64 / 1024.0
        );
    }
    for e in &r.exports {
        let _ = writeln!(
            md,
            "| {} | {} | `touchpoint export` {} ({} rows) | {:.1} |",
            e.database,
            count(e.size),
            e.what,
            e.rows,
            e.peak_kb as f64 / 1024.0
        );
    }
    let flat = |what: &str| -> Option<(f64, f64)> {
        let mut sizes = r
            .exports
            .iter()
            .filter(|e| e.database == "SQLite" && e.what == what);
        let first = sizes.next()?;
        let last = sizes.next_back()?;
        Some((first.peak_kb as f64 / 1024.0, last.peak_kb as f64 / 1024.0))
    };
    md.push_str("\nWhat it means: ");
    match flat("raw") {
        Some((small, large)) => {
            let _ = write!(
                md,
                "a raw export's memory does not follow the row count ({small:.1} MiB at the smaller size, {large:.1} MiB at the larger): rows are read a page at a time and written as they come. "
            );
        }
        None => md.push_str("exports were measured at one size only in this run. "),
    }
    md.push_str("An import holds at most three batches of 10 000 events and, on SQLite, a page cache of at most 128 MiB for the bulk load, whatever the file's size: its peak grows with the database until that cache is full, then stays. An aggregate's memory follows the number of groups, not of events.\n");
    md
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

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_deterministic_json_of_the_contract_shape() {
        let g = Generator::new();
        let (mut a, mut b) = (String::new(), String::new());
        for (n, at) in [(0, 0.0), (1, 0.1), (99_999, 0.5), (9_999_999, 1.0)] {
            a.clear();
            b.clear();
            g.event(n, at, &mut a);
            g.event(n, at, &mut b);
            assert_eq!(a, b);
            let v: serde_json::Value = serde_json::from_str(&a).unwrap();
            assert_eq!(v["id"].as_str().unwrap().len(), 36, "{a}");
            assert!(
                v["page"]
                    .as_str()
                    .unwrap()
                    .starts_with("https://shop.example/")
            );
        }
        assert_eq!(g.days.len(), DAYS as usize);
        assert_eq!(g.days.last().unwrap(), "2026-10-30");
    }

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
