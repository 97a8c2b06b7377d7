//! Starts the release server and the two demo shops, and takes every
//! Lighthouse sample the section needs.

use super::lighthouse::Runner;
use super::{KEY, LIGHTHOUSE, Measured, Options, path_of, site_file};
use crate::bench::npm::{cache_dir, npm_install};
use crate::bench::server::{Server, free_port, spawn, wait_for};
use crate::util::{self, target_dir};
use anyhow::{Context, bail};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// `/cart` at 1× with and without the tag, then `/pricing` at each CPU rate,
/// without and with the tag interleaved.
pub fn measure(options: &Options) -> anyhow::Result<Measured> {
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

    let mut bench = Runner {
        node: "node".into(),
        cli: modules.join("lighthouse/cli/index.js"),
        chromium: chromium.clone(),
        work: work.path().to_owned(),
        runs: 0,
    };
    let mut failures = Vec::new();
    let once = |bench: &mut Runner, url: String, cpu: u32, failures: &mut Vec<String>| match bench
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

/// A demo shop on a free port, with the tag for `site` or without it.
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

/// The 1-minute load average, for the record.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|l| l.split_whitespace().next().map(str::to_owned))
        .unwrap_or_else(|| "?".into())
}
