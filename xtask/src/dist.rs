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
    if tmp.exists() {
        std::fs::remove_dir_all(&tmp)?;
    }
    std::fs::create_dir_all(&tmp)?;
    std::fs::create_dir_all(&widget_dir)?;
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
    let bg = tmp.join("touchpoint_widget_bg.wasm");
    let glue_js = tmp.join("touchpoint_widget.js");
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
    // Files are rewritten only when they change: the release server embeds
    // them, and an unchanged dist must not make it rebuild.
    for old in std::fs::read_dir(&widget_dir)? {
        let old = old?.path();
        let name = old.file_name().unwrap_or_default().to_string_lossy();
        if !name.starts_with(&format!("touchpoint-{hash}.")) {
            std::fs::remove_file(&old)?;
        }
    }
    write_if_changed(&wasm_path, &wasm)?;
    write_if_changed(&glue_path, &glue)?;
    let loader_path = dir.join("t.js");
    let loader_min = tmp.join("t.min.js");
    minify(&root().join("widget/loader.js"), &loader_min, false)?;
    write_if_changed(&loader_path, &std::fs::read(&loader_min)?)?;
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
        write_if_changed(br.as_ref(), &brotli(&bytes))?;
        let mut gz = a.path.clone().into_os_string();
        gz.push(".gz");
        write_if_changed(gz.as_ref(), &gzip(&bytes))?;
    }
    // Written last: the server's build script watches it.
    let manifest = serde_json::json!({
        "loader": "t.js",
        "widget": files.iter().filter(|a| a.role != "loader").map(|a| a.path.file_name().unwrap().to_string_lossy()).collect::<Vec<_>>(),
    });
    write_if_changed(
        &dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    let dist = Dist { dir, files };
    print_sizes(&dist);
    Ok(dist)
}

/// Writes `bytes` to `path` unless it already holds exactly them (keeping
/// its modification time, which cargo watches).
fn write_if_changed(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(());
    }
    std::fs::write(path, bytes)
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
