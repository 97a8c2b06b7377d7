//! `cargo xtask dist`: installs what the wasm build needs, builds the widget,
//! writes content-hashed assets to `target/dist`, checks the size budgets and
//! builds the release server with the assets embedded.

use crate::util::{self, brotli, gzip, output, root, target_dir};
use anyhow::{Context, bail};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Hard limits from DESIGN.md (brotli bytes): CI fails above them.
pub const LOADER_LIMIT: usize = 1536;
pub const WIDGET_LIMIT: usize = 64 * 1024;
/// Goals from DESIGN.md (brotli bytes): reported, not enforced.
pub const LOADER_GOAL: usize = 1024;
pub const WIDGET_GOAL: usize = 40 * 1024;

pub struct Dist {
    pub dir: PathBuf,
    pub files: Vec<Asset>,
}

pub struct Asset {
    /// `loader`, `wasm` or `glue`.
    pub role: &'static str,
    pub path: PathBuf,
    pub raw: usize,
    pub gzip: usize,
    pub brotli: usize,
}

impl Dist {
    pub fn brotli(&self, roles: &[&str]) -> usize {
        self.files
            .iter()
            .filter(|a| roles.contains(&a.role))
            .map(|a| a.brotli)
            .sum()
    }
}

/// Builds the loader and the widget into `target/dist` and prints their sizes.
pub fn assets() -> anyhow::Result<Dist> {
    ensure_wasm_target()?;
    let wasm_bindgen = ensure_wasm_bindgen()?;
    let wasm_opt = ensure_wasm_opt()?;
    util::cargo(
        &[
            "build",
            "--package",
            "touchpoint-widget",
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
            // The standard library rebuilt for the widget, so that a panic
            // aborts on the spot: no panic messages, locations or
            // formatting machinery in the wasm.
            "-Zbuild-std=std,panic_abort",
        ],
        // Panic messages and locations (source paths) and `Debug`
        // formatting are dead weight in the widget: nothing in a visitor's
        // browser prints them. These flags are unstable; `RUSTC_BOOTSTRAP`
        // lets the stable compiler accept them for this build only, as for
        // the fuzz build. Rebuilding the standard library needs `rust-src`.
        &[
            ("RUSTC_BOOTSTRAP", "1"),
            (
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort",
            ),
        ],
    )?;
    let dir = std::env::var_os("TOUCHPOINT_DIST")
        .map_or_else(|| target_dir().join("dist"), PathBuf::from);
    let tmp = dir.join("tmp");
    let widget_dir = dir.join("widget");
    for d in [&tmp, &widget_dir] {
        if d.exists() {
            std::fs::remove_dir_all(d)?;
        }
        std::fs::create_dir_all(d)?;
    }
    let built = target_dir().join("wasm32-unknown-unknown/wasm-release/touchpoint_widget.wasm");
    util::run(
        &wasm_bindgen,
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-dir",
            tmp.to_str().unwrap(),
            built.to_str().unwrap(),
        ],
        &[],
    )?;
    let mut bg = tmp.join("touchpoint_widget_bg.wasm");
    let glue_js = tmp.join("touchpoint_widget.js");
    if let Some(glue) = strip_streams(&std::fs::read_to_string(&glue_js)?) {
        bg = strip_stream_exports(&wasm_opt, &bg)?;
        std::fs::write(&glue_js, glue)?;
    }
    let opt = tmp.join("opt.wasm");
    util::run(
        &wasm_opt,
        &[
            "-Oz",
            "--strip-debug",
            "--strip-producers",
            bg.to_str().unwrap(),
            "-o",
            opt.to_str().unwrap(),
        ],
        &[],
    )?;
    let wasm = std::fs::read(&opt)?;
    // The glue is an ES module: minified with its exports kept.
    let glue_min = tmp.join("glue.min.js");
    minify(&glue_js, &glue_min, true)?;
    let glue = std::fs::read(&glue_min)?;
    let hash = {
        let mut h = Sha256::new();
        h.update(&wasm);
        h.update(&glue);
        h.finalize()
            .iter()
            .take(5)
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let wasm_path = widget_dir.join(format!("touchpoint-{hash}.wasm"));
    let glue_path = widget_dir.join(format!("touchpoint-{hash}.js"));
    std::fs::write(&wasm_path, &wasm)?;
    std::fs::write(&glue_path, &glue)?;
    let loader_path = dir.join("t.js");
    minify(&root().join("widget/loader.js"), &loader_path, false)?;
    std::fs::remove_dir_all(&tmp)?;

    let files = [
        ("loader", loader_path),
        ("wasm", wasm_path),
        ("glue", glue_path),
    ]
    .into_iter()
    .map(|(role, path)| {
        let bytes = std::fs::read(&path)?;
        Ok(Asset {
            role,
            raw: bytes.len(),
            gzip: gzip(&bytes).len(),
            brotli: brotli(&bytes).len(),
            path,
        })
    })
    .collect::<anyhow::Result<Vec<_>>>()?;
    // Pre-compressed siblings, served to browsers that accept them.
    for a in &files {
        let bytes = std::fs::read(&a.path)?;
        let mut br = a.path.clone().into_os_string();
        br.push(".br");
        std::fs::write(br, brotli(&bytes))?;
        let mut gz = a.path.clone().into_os_string();
        gz.push(".gz");
        std::fs::write(gz, gzip(&bytes))?;
    }
    // Written last: the server's build script watches it.
    let manifest = serde_json::json!({
        "loader": "t.js",
        "widget": files.iter().filter(|a| a.role != "loader").map(|a| a.path.file_name().unwrap().to_string_lossy()).collect::<Vec<_>>(),
    });
    std::fs::write(
        dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?,
    )?;
    let dist = Dist { dir, files };
    print_sizes(&dist);
    Ok(dist)
}

pub fn print_sizes(dist: &Dist) {
    println!("{:<28} {:>9} {:>9} {:>9}", "asset", "raw", "gzip", "brotli");
    for a in &dist.files {
        let name = a.path.file_name().unwrap().to_string_lossy();
        println!("{:<28} {:>9} {:>9} {:>9}", name, a.raw, a.gzip, a.brotli);
    }
    println!(
        "loader: {} B brotli (goal {LOADER_GOAL}, limit {LOADER_LIMIT}); widget wasm+glue: {} B brotli (goal {WIDGET_GOAL}, limit {WIDGET_LIMIT})",
        dist.brotli(&["loader"]),
        dist.brotli(&["wasm", "glue"])
    );
}

pub fn check_budgets(dist: &Dist) -> anyhow::Result<()> {
    let loader = dist.brotli(&["loader"]);
    let widget = dist.brotli(&["wasm", "glue"]);
    if loader > LOADER_LIMIT {
        bail!("size budget: the loader is {loader} B brotli, above the {LOADER_LIMIT} B limit");
    }
    if widget > WIDGET_LIMIT {
        bail!("size budget: the widget is {widget} B brotli, above the {WIDGET_LIMIT} B limit");
    }
    Ok(())
}

/// Builds `target/release/touchpoint` with the assets embedded.
pub fn release_server() -> anyhow::Result<()> {
    let dir = std::env::var_os("TOUCHPOINT_DIST")
        .map_or_else(|| target_dir().join("dist"), PathBuf::from);
    util::cargo(
        &["build", "--release", "--package", "touchpoint-server"],
        &[("TOUCHPOINT_DIST", dir.to_str().unwrap())],
    )?;
    println!(
        "server: {}",
        target_dir().join("release/touchpoint").display()
    );
    Ok(())
}

/// Minifies the loader with terser (compress and mangle; property names,
/// which the page and the tests use, are kept).
/// leptos depends on `server_fn`, which brings `wasm-streams`, whose
/// `#[wasm_bindgen]` classes (`IntoUnderlyingSource`, `…Sink`,
/// `…ByteSource`) are exported whether used or not. The widget never uses
/// them: this drops their classes from the glue, or returns `None` when the
/// glue does not have the expected shape (then nothing is stripped).
fn strip_streams(glue: &str) -> Option<String> {
    if !glue.contains("export class IntoUnderlying") {
        return None;
    }
    let mut out = String::with_capacity(glue.len());
    let mut skipping = None::<&str>;
    for line in glue.lines() {
        if let Some(end) = skipping {
            if line == end || (end == ";" && line.trim_end().ends_with(';')) {
                skipping = None;
            }
            continue;
        }
        if line.starts_with("export class IntoUnderlying") {
            skipping = Some("}");
        } else if line.starts_with("const IntoUnderlying") && line.contains("Finalization") {
            skipping = (!line.trim_end().ends_with(';')).then_some(";");
        } else if !line.starts_with("if (Symbol.dispose) IntoUnderlying") {
            out.push_str(line);
            out.push('\n');
        }
    }
    (!out.contains("IntoUnderlying")).then_some(out)
}

/// Removes the wasm exports behind the classes [`strip_streams`] dropped,
/// and what only they reach, with binaryen's `wasm-metadce`.
fn strip_stream_exports(wasm_opt: &Path, wasm: &Path) -> anyhow::Result<PathBuf> {
    let bytes = std::fs::read(wasm)?;
    let graph: Vec<serde_json::Value> = wasm_exports(&bytes)
        .context("reading the wasm's exports")?
        .into_iter()
        .filter(|e| !e.contains("intounderlying"))
        .map(|e| serde_json::json!({ "name": e, "export": e, "root": true }))
        .collect();
    let graph_file = wasm.with_file_name("exports.json");
    std::fs::write(&graph_file, serde_json::to_vec(&graph)?)?;
    let out = wasm.with_file_name("dce.wasm");
    let metadce = wasm_opt.with_file_name("wasm-metadce");
    let unused = output(
        metadce.to_str().unwrap(),
        &[
            "--graph-file",
            graph_file.to_str().unwrap(),
            wasm.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
        ],
    );
    anyhow::ensure!(
        unused.is_some() && out.exists(),
        "{} failed",
        metadce.display()
    );
    Ok(out)
}

/// The names in a wasm module's export section.
fn wasm_exports(wasm: &[u8]) -> Option<Vec<String>> {
    fn leb(b: &[u8], i: &mut usize) -> Option<usize> {
        let (mut n, mut shift) = (0usize, 0);
        loop {
            let byte = *b.get(*i)?;
            *i += 1;
            n |= usize::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return Some(n);
            }
            shift += 7;
        }
    }
    let mut i = 8;
    while i < wasm.len() {
        let id = wasm[i];
        i += 1;
        let size = leb(wasm, &mut i)?;
        if id == 7 {
            let mut j = i;
            let count = leb(wasm, &mut j)?;
            let mut names = Vec::with_capacity(count);
            for _ in 0..count {
                let len = leb(wasm, &mut j)?;
                names.push(String::from_utf8(wasm.get(j..j + len)?.to_vec()).ok()?);
                j += len + 1;
                leb(wasm, &mut j)?;
            }
            return Some(names);
        }
        i += size;
    }
    None
}

/// Minifies a script (or, with `module`, an ES module) with terser. The
/// output is ES2020, which every browser that runs the widget has; the
/// loader, whose functions never use `this`, may become arrow functions.
fn minify(source: &Path, out: &Path, module: bool) -> anyhow::Result<()> {
    let terser = util::npm_tools()?.join("terser/bin/terser");
    let mut args = vec![
        terser.to_str().unwrap(),
        source.to_str().unwrap(),
        "--compress",
        if module {
            "passes=2"
        } else {
            "passes=3,unsafe_arrows=true"
        },
        "--mangle",
        "--ecma",
        "2020",
        "--output",
        out.to_str().unwrap(),
    ];
    if module {
        args.push("--module");
    }
    util::run("node", &args, &[])
}

fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = output("rustup", &["target", "list", "--installed"]).unwrap_or_default();
    if !installed
        .lines()
        .any(|l| l.trim() == "wasm32-unknown-unknown")
    {
        util::run("rustup", &["target", "add", "wasm32-unknown-unknown"], &[])?;
    }
    let components = output("rustup", &["component", "list", "--installed"]).unwrap_or_default();
    if !components.lines().any(|l| l.trim() == "rust-src") {
        util::run("rustup", &["component", "add", "rust-src"], &[])?;
    }
    Ok(())
}

/// wasm-bindgen-cli at exactly the version in Cargo.lock, in the tools dir.
pub fn ensure_wasm_bindgen() -> anyhow::Result<PathBuf> {
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).context("reading Cargo.lock")?;
    let version = lock
        .split("[[package]]")
        .find(|p| p.contains("\nname = \"wasm-bindgen\"\n"))
        .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"")))
        .map(|v| v.trim_end_matches('"').to_owned())
        .context("wasm-bindgen is not in Cargo.lock")?;
    let tools = util::tools_dir();
    let bin = tools.join("bin/wasm-bindgen");
    let current = output(bin.to_str().unwrap(), &["--version"]).unwrap_or_default();
    if current.split_whitespace().nth(1) != Some(version.as_str()) {
        util::cargo(
            &[
                "install",
                "wasm-bindgen-cli",
                "--version",
                &version,
                "--root",
                tools.to_str().unwrap(),
                "--force",
            ],
            &[],
        )?;
    }
    Ok(bin)
}

/// Oldest wasm-opt that keeps the externref table of current wasm-bindgen
/// intact (Debian bookworm's 108 breaks it: `WebAssembly.Table.set()` fails).
const WASM_OPT_MIN: u32 = 116;

/// wasm-opt from the system when recent enough, else npm's binaryen in the tools dir.
fn ensure_wasm_opt() -> anyhow::Result<PathBuf> {
    let version = |bin: &str| -> Option<u32> {
        output(bin, &["--version"])?
            .split_whitespace()
            .nth(2)?
            .parse()
            .ok()
    };
    if version("wasm-opt").is_some_and(|v| v >= WASM_OPT_MIN) {
        return Ok(PathBuf::from("wasm-opt"));
    }
    Ok(util::npm_tools()?.join(".bin/wasm-opt"))
}
