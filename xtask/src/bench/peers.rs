//! Peers on the page: what other feedback and survey tools make a page
//! download for a survey, measured from their published npm packages beside
//! our own assets, with the same compression (gzip -9, brotli q11).
//!
//! The packages are installed with npm into a cache outside the repository
//! (`$TOUCHPOINT_PEERS`, else `$HOME/.cache/touchpoint/peers`). A benchmark
//! reports and never fails: when the packages cannot be had, the section says
//! so and why. A smoke run fails only when installed packages cannot be
//! measured: the install depends on the network, the measuring on us.

use crate::bench::npm::{cache_dir, npm_install};
use crate::bench::text::{self, fill};
use crate::bench::verdict::verdict;
use crate::dist::{Asset, Dist};
use crate::util::{brotli, gzip, target_dir};
use anyhow::{Context, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The peers' npm packages, pinned, and esbuild, which bundles the one peer
/// that ships no browser bundle of its own (Sentry).
const PACKAGES: [(&str, &str); 6] = [
    ("@formbricks/js", "5.1.0"),
    ("@formbricks/surveys", "1.99.0"),
    ("posthog-js", "1.449.2"),
    ("@sentry/browser", "11.12.0"),
    ("@hotjar/browser", "1.0.9"),
    ("esbuild", "0.28.2"),
];

/// What a page using Sentry's user feedback runs: the SDK and the feedback
/// integration (its form included), bundled and minified as an app would.
const SENTRY_ENTRY: &str = "\
import { init, feedbackIntegration } from \"@sentry/browser\";
init({ dsn: \"https://public@example.invalid/1\", integrations: [feedbackIntegration()] });
";

/// One row of the table: a set of files a page downloads, with their sizes.
struct Row {
    name: String,
    files: String,
    raw: usize,
    gzip: usize,
    brotli: usize,
    /// The figure leaves out code the peer fetches from elsewhere at run time.
    partial: bool,
}

/// What this part measured: our assets as the table shows them, and each
/// peer's row or why it could not be measured.
struct Measured {
    /// Ours on a page with no eligible touchpoint: the loader alone.
    loader: Row,
    /// Ours on a page with a prompt: loader, widget wasm and glue.
    widget: Row,
    /// Each peer, measured or not; `Err` when the packages could not be
    /// installed at all.
    peers: anyhow::Result<Vec<(&'static str, anyhow::Result<Row>)>>,
}

/// The "beside peers" part of the "Bytes on the page" section, as Markdown
/// (ending without a newline). Never fails; a peer that could not be
/// measured once installed is added to `problems`.
pub fn section(dist: &Dist, problems: &mut Vec<String>) -> String {
    let measured = measure_all(dist);
    problems.extend(measured.problems());
    report(&measured)
}

/// `cargo xtask bench --only peers [--smoke]`: the peers table for the
/// assets already in the dist directory, printed to stdout (nothing is
/// built or written). There is nothing to make smaller: `--smoke` only
/// makes a peer that cannot be measured fail it.
pub fn only(smoke: bool) -> anyhow::Result<()> {
    let dist = existing_dist()?;
    let mut problems = Vec::new();
    let md = section(&dist, &mut problems);
    println!("{}", md.trim());
    verdict(smoke, &md, problems)
}

/// Installs the peers' packages and measures them beside our assets.
fn measure_all(dist: &Dist) -> Measured {
    let peers = install().map(|modules| measure(&modules));
    match &peers {
        Err(err) => eprintln!("peers: {err:#}"),
        Ok(peers) => {
            for (name, row) in peers {
                if let Err(err) = row {
                    eprintln!("peers: {name}: {err:#}");
                }
            }
        }
    }
    let ours = |roles: &[&str]| -> Row {
        let files: Vec<&Asset> = dist
            .files
            .iter()
            .filter(|a| roles.contains(&a.role))
            .collect();
        Row {
            name: String::new(),
            files: files
                .iter()
                .map(|a| format!("`{}`", a.path.file_name().unwrap().to_string_lossy()))
                .collect::<Vec<_>>()
                .join(" + "),
            raw: files.iter().map(|a| a.raw).sum(),
            gzip: files.iter().map(|a| a.gzip).sum(),
            brotli: files.iter().map(|a| a.brotli).sum(),
            partial: false,
        }
    };
    Measured {
        loader: Row {
            name: "Touchpoint: loader alone (a page with no eligible touchpoint)".into(),
            ..ours(&["loader"])
        },
        widget: Row {
            name: "Touchpoint: loader + widget wasm + glue (a page with a prompt)".into(),
            ..ours(&["loader", "wasm", "glue"])
        },
        peers,
    }
}

impl Measured {
    /// A peer that could not be measured once its package was installed:
    /// the install depends on the network, the measuring on us.
    fn problems(&self) -> Vec<String> {
        let Ok(peers) = &self.peers else {
            return Vec::new();
        };
        peers
            .iter()
            .filter_map(|(name, row)| {
                row.as_ref()
                    .err()
                    .map(|err| format!("peers, {name}: {err:#}"))
            })
            .collect()
    }
}

/// The assets a previous `cargo xtask dist` left in the dist directory.
fn existing_dist() -> anyhow::Result<Dist> {
    let dir = std::env::var_os("TOUCHPOINT_DIST")
        .map_or_else(|| target_dir().join("dist"), PathBuf::from);
    let manifest: serde_json::Value = std::fs::read(dir.join("manifest.json"))
        .ok()
        .and_then(|m| serde_json::from_slice(&m).ok())
        .with_context(|| {
            format!(
                "no built assets in {}: run `cargo xtask dist --assets-only` first",
                dir.display()
            )
        })?;
    let loader = manifest["loader"]
        .as_str()
        .context("manifest.json: loader")?;
    let mut files = vec![("loader", dir.join(loader))];
    for w in manifest["widget"]
        .as_array()
        .context("manifest.json: widget")?
    {
        let name = w.as_str().context("manifest.json: widget")?;
        let role = if name.ends_with(".wasm") {
            "wasm"
        } else {
            "glue"
        };
        files.push((role, dir.join("widget").join(name)));
    }
    let files = files
        .into_iter()
        .map(|(role, path)| {
            let (raw, gzip, brotli) = sizes(&[&path])?;
            Ok(Asset {
                role,
                path,
                raw,
                gzip,
                brotli,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Dist {
        dir,
        files,
        dashboard: Vec::new(),
    })
}

/// Raw, gzip -9 and brotli q11 sizes of files, each compressed on its own
/// (as a browser fetches them) and summed.
fn sizes(paths: &[&Path]) -> anyhow::Result<(usize, usize, usize)> {
    let mut total = (0, 0, 0);
    for path in paths {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        total.0 += bytes.len();
        total.1 += gzip(&bytes).len();
        total.2 += brotli(&bytes).len();
    }
    Ok(total)
}

fn version(package: &str) -> &'static str {
    PACKAGES
        .iter()
        .find(|(n, _)| *n == package)
        .map_or("?", |(_, v)| v)
}

/// Measures each peer; a peer that cannot be measured gets its reason.
fn measure(modules: &Path) -> Vec<(&'static str, anyhow::Result<Row>)> {
    let files = |peer: &str, files: &[&str], note: &str, partial: bool| -> anyhow::Result<Row> {
        let paths: Vec<PathBuf> = files.iter().map(|f| modules.join(f)).collect();
        let (raw, gzip, brotli) = sizes(&paths.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
        Ok(Row {
            name: peer.into(),
            files: files
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(" + ")
                + note,
            raw,
            gzip,
            brotli,
            partial,
        })
    };
    vec![
        (
            "Formbricks",
            files(
                &format!(
                    "Formbricks (`@formbricks/js` {}, `@formbricks/surveys` {})",
                    version("@formbricks/js"),
                    version("@formbricks/surveys")
                ),
                &[
                    "@formbricks/js/dist/index.js",
                    "@formbricks/surveys/dist/index.umd.js",
                ],
                " (the loader and the survey UI; not the SDK the loader fetches from the Formbricks server, which is not on npm)",
                false,
            ),
        ),
        (
            "PostHog",
            files(
                &format!("PostHog (`posthog-js` {})", version("posthog-js")),
                &["posthog-js/dist/array.js", "posthog-js/dist/surveys.js"],
                " (the core and the surveys it loads)",
                false,
            ),
        ),
        ("Sentry", sentry(modules)),
        (
            "Hotjar",
            files(
                &format!("Hotjar (`@hotjar/browser` {})", version("@hotjar/browser")),
                &["@hotjar/browser/dist/index.esm.js"],
                " (only the npm part: it loads Hotjar's remote script at run time, which is not on npm and not counted)",
                true,
            ),
        ),
    ]
}

/// Sentry with its feedback integration, bundled from [`SENTRY_ENTRY`] by
/// esbuild into a minified browser script.
fn sentry(modules: &Path) -> anyhow::Result<Row> {
    let dir = modules.parent().unwrap();
    let entry = dir.join("sentry-feedback.js");
    let out = dir.join("sentry-feedback.min.js");
    std::fs::write(&entry, SENTRY_ENTRY)?;
    let esbuild = modules.join(".bin/esbuild");
    let result = Command::new(&esbuild)
        .arg(&entry)
        .args([
            "--bundle",
            "--minify",
            "--format=iife",
            "--platform=browser",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", out.display()))
        .output()
        .with_context(|| format!("starting {}", esbuild.display()))?;
    if !result.status.success() {
        bail!(
            "esbuild failed ({}): {}",
            result.status,
            String::from_utf8_lossy(&result.stderr).trim()
        );
    }
    let (raw, gzip, brotli) = sizes(&[&out])?;
    Ok(Row {
        name: format!(
            "Sentry feedback (`@sentry/browser` {}, esbuild {})",
            version("@sentry/browser"),
            version("esbuild")
        ),
        files: "`init` + `feedbackIntegration` from `@sentry/browser`, bundled and minified by esbuild (browser, iife)".into(),
        raw,
        gzip,
        brotli,
        partial: false,
    })
}

/// Installs [`PACKAGES`] once into `$TOUCHPOINT_PEERS`, else
/// `$HOME/.cache/touchpoint/peers` (never inside the repository); returns
/// its `node_modules`.
fn install() -> anyhow::Result<PathBuf> {
    npm_install(&cache_dir("TOUCHPOINT_PEERS", "peers")?, &PACKAGES)
}

/// The Markdown for what was measured.
fn report(m: &Measured) -> String {
    let peers = match &m.peers {
        Ok(peers) => peers,
        Err(err) => {
            let md = fill(text::PEERS_NOT_MEASURED, &[("error", &format!("{err:#}"))]);
            return md.trim_end().to_owned();
        }
    };
    let base = m.widget.brotli as f64;
    let line = |r: &Row| {
        format!(
            "| {} | {} | {} | {} | {} | {:.2} |",
            r.name,
            r.files,
            r.raw,
            r.gzip,
            r.brotli,
            r.brotli as f64 / base
        )
    };
    let mut rows = vec![line(&m.loader), line(&m.widget)];
    for (name, row) in peers {
        rows.push(match row {
            Ok(r) => line(r),
            Err(err) => format!("| {name} | not measured: {err:#} | | | | |"),
        });
    }
    let (comparison, notes) = meaning(&m.widget, peers);
    let md = fill(
        text::PEERS,
        &[
            ("rows", &rows.join("\n")),
            ("loader", &kb(m.loader.brotli)),
            ("widget", &kb(m.widget.brotli)),
            ("comparison", &comparison),
            ("notes", &notes),
        ],
    );
    md.trim_end().to_owned()
}

fn kb(b: usize) -> String {
    format!("{:.1} KB", b as f64 / 1024.0)
}

/// How ours with a prompt compares with the peers (the end of the "What it
/// means" sentence), and the notes on figures that leave code out.
fn meaning(widget: &Row, peers: &[(&str, anyhow::Result<Row>)]) -> (String, String) {
    let measured: Vec<&Row> = peers.iter().filter_map(|(_, r)| r.as_ref().ok()).collect();
    let (heavier, lighter): (Vec<&Row>, Vec<&Row>) = measured
        .iter()
        .filter(|r| !r.partial)
        .partition(|r| r.brotli > widget.brotli);
    let list = |rows: &[&Row]| {
        let mut names: Vec<String> = rows
            .iter()
            .map(|r| format!("{} ({})", short(&r.name), kb(r.brotli)))
            .collect();
        let last = names.pop().unwrap_or_default();
        if names.is_empty() {
            last
        } else {
            format!("{} and {last}", names.join(", "))
        }
    };
    let comparison = match (heavier.is_empty(), lighter.is_empty()) {
        (false, false) => format!(
            "; that is less than {} and more than {}.",
            list(&heavier),
            list(&lighter)
        ),
        (false, true) => format!("; that is less than {}.", list(&heavier)),
        (true, false) => format!("; that is more than {}.", list(&lighter)),
        (true, true) => ".".to_owned(),
    };
    let mut notes = String::new();
    let partial: Vec<&Row> = measured.iter().copied().filter(|r| r.partial).collect();
    if !partial.is_empty() {
        let _ = write!(
            notes,
            " {} counts only what is on npm: the script it loads at run time is not in the figure, so it is not compared.",
            list(&partial)
        );
    }
    if measured.iter().any(|r| short(&r.name) == "Formbricks") {
        notes.push_str(" Formbricks' figure leaves out the SDK its loader fetches from the Formbricks server (not on npm), so its real cost is higher.");
    }
    (comparison, notes)
}

/// The tool's name: a row's name up to the first space.
fn short(name: &str) -> &str {
    name.split(' ').next().unwrap_or(name)
}
