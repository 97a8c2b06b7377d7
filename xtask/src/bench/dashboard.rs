//! The dashboard's first screen: how long from navigation to the journey
//! map drawn, in headless Chromium on loopback against the release server
//! with the demo's five weeks of answers, and the bytes it costs. Each run
//! loads `/app/sites/KEY` in a signed-in tab; a script installed before the
//! page's own records `performance.now()` when the first journey cell
//! appears. The first run has an empty cache; the others reload with the
//! content-hashed assets cached, as on a Monday's second visit.

use super::server::spawn;
use crate::dist::{DASHBOARD_LIMIT, Dist};
use crate::util::target_dir;
use anyhow::{Context, bail};
use serde_json::json;
use std::process::Command;
use std::time::Duration;
use touchpoint_e2e::{Browser, poll};

pub struct Options {
    /// Loads after the first (cached assets).
    pub warm_runs: usize,
}

impl Options {
    pub fn full() -> Options {
        Options { warm_runs: 9 }
    }

    pub fn smoke() -> Options {
        Options { warm_runs: 2 }
    }
}

pub struct Report {
    /// The dashboard's wasm and glue, brotli bytes; its style sheet.
    pub code_brotli: usize,
    pub css_brotli: usize,
    /// Events the demo's story imported.
    pub events: usize,
    /// Navigation → first journey cell, ms: the first load, then the others.
    pub cold_ms: f64,
    pub warm_ms: Vec<f64>,
}

impl Report {
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        // NaN is not a time either.
        let timed = |ms: f64| ms.partial_cmp(&0.0) == Some(std::cmp::Ordering::Greater);
        if !timed(self.cold_ms) || !self.warm_ms.iter().all(|m| timed(*m)) {
            out.push("dashboard: a first screen was not timed".to_owned());
        }
        out
    }

    fn median(&self) -> f64 {
        let mut v = self.warm_ms.clone();
        v.sort_by(f64::total_cmp);
        v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
    }
}

/// Records when the first journey cell is in the page, before any of the
/// page's own scripts run.
const FIRST_CELL: &str = "new MutationObserver((_, o) => { \
       if (document.querySelector('.cells li')) { window.firstScreen = performance.now(); o.disconnect(); } \
     }).observe(document, { childList: true, subtree: true });";

pub fn run(dist: &Dist, options: &Options) -> anyhow::Result<Report> {
    let touchpoint = target_dir().join("release/touchpoint");
    let work = tempfile::tempdir()?;
    let url = format!("sqlite://{}", work.path().join("dash.db").display());
    let cli = |args: &[&str]| -> anyhow::Result<String> {
        let out = Command::new(&touchpoint)
            .arg("--database")
            .arg(&url)
            .args(args)
            .output()?;
        if !out.status.success() {
            bail!("{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    };
    let site = crate::util::root().join("www/demo/site.toml");
    let applied: serde_json::Value =
        serde_json::from_str(&cli(&["apply", site.to_str().unwrap(), "--json"])?)?;
    let key = applied["sites"][0]["key"]
        .as_str()
        .context("apply printed no key")?
        .to_owned();
    let story = crate::story::events("http://shop.example");
    let events = story.lines().count();
    let file = work.path().join("story.ndjson");
    std::fs::write(&file, story)?;
    cli(&["import", "--site", &key, file.to_str().unwrap(), "--json"])?;
    let password = "bench-password";
    cli(&[
        "user",
        "add",
        "--email",
        "bench@example.com",
        "--site",
        &key,
        "--role",
        "viewer",
        "--password",
        password,
        "--json",
    ])?;
    let server = spawn(Command::new(&touchpoint).args([
        "--database",
        &url,
        "--json",
        "serve",
        "--addr",
        "127.0.0.1:0",
    ]))?;
    let origin = format!("http://{}", server.addr);
    let browser = Browser::start(1280, 900)?;
    // Sign in once; the cookie stays for every run.
    browser.goto(&format!("{origin}/app"))?;
    poll(Duration::from_secs(20), "the sign-in form", || {
        Ok(browser
            .eval(
                "return document.getElementById('email') ? true : null;",
                vec![],
            )?
            .as_bool())
    })?;
    browser.eval(
        "document.getElementById('email').value = arguments[0]; \
         document.getElementById('password').value = arguments[1]; \
         document.querySelector('form').requestSubmit();",
        vec![json!("bench@example.com"), json!(password)],
    )?;
    poll(Duration::from_secs(20), "the sites list", || {
        Ok(browser
            .eval(
                "return document.querySelector('.sites') ? true : null;",
                vec![],
            )?
            .as_bool())
    })?;
    browser.on_new_document(FIRST_CELL)?;
    let journey = format!("{origin}/app/sites/{key}");
    let time_once = |clear: bool| -> anyhow::Result<f64> {
        if clear {
            browser.cdp("Network.clearBrowserCache", json!({}))?;
        }
        browser.goto(&journey)?;
        poll(Duration::from_secs(30), "the journey map", || {
            Ok(browser
                .eval("return window.firstScreen || null;", vec![])?
                .as_f64())
        })
    };
    let cold_ms = time_once(true)?;
    let warm_ms = (0..options.warm_runs)
        .map(|_| time_once(false))
        .collect::<anyhow::Result<Vec<_>>>()?;
    drop(server);
    let brotli = |roles: &[&str]| -> usize {
        dist.dashboard
            .iter()
            .filter(|a| roles.contains(&a.role))
            .map(|a| a.brotli)
            .sum()
    };
    Ok(Report {
        code_brotli: brotli(&["dashboard wasm", "dashboard glue"]),
        css_brotli: brotli(&["dashboard css"]),
        events,
        cold_ms,
        warm_ms,
    })
}

pub fn section(report: &Report) -> String {
    super::text::fill(
        super::text::DASHBOARD,
        &[
            ("code", &report.code_brotli),
            ("limit", &DASHBOARD_LIMIT),
            ("css", &report.css_brotli),
            ("events", &report.events),
            ("cold", &format!("{:.0}", report.cold_ms)),
            ("warm", &format!("{:.0}", report.median())),
            ("runs", &report.warm_ms.len()),
            (
                "all",
                &report
                    .warm_ms
                    .iter()
                    .map(|m| format!("{m:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ],
    )
}

/// `cargo xtask bench --only dashboard`: this part alone, printed.
pub fn only(smoke: bool) -> anyhow::Result<()> {
    let dist = crate::dist::assets()?;
    crate::dist::release_server()?;
    let options = if smoke {
        Options::smoke()
    } else {
        Options::full()
    };
    let report = run(&dist, &options)?;
    let md = section(&report);
    println!("{}", md.trim());
    super::verdict::verdict(smoke, &md, report.problems())
}
