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
/// The dashboard's wasm and glue (brotli bytes), from DESIGN.md's budget.
pub const DASHBOARD_LIMIT: usize = 250 * 1024;

pub struct Dist {
    pub dir: PathBuf,
    /// The loader and the widget: what a visitor's browser may load.
    pub files: Vec<Asset>,
    /// The dashboard's wasm, glue and style sheet (`dist/app`).
    pub dashboard: Vec<Asset>,
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
    /// The dashboard's wasm and glue, brotli bytes.
    pub fn dashboard_code(&self) -> usize {
        self.dashboard
            .iter()
            .filter(|a| matches!(a.role, "dashboard wasm" | "dashboard glue"))
            .map(|a| a.brotli)
            .sum()
    }

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
    let dir = std::env::var_os("TOUCHPOINT_DIST")
        .map_or_else(|| target_dir().join("dist"), PathBuf::from);
    let tmp = dir.join("tmp");
    let widget_dir = dir.join("widget");
    std::fs::create_dir_all(&widget_dir)?;
    let (wasm, glue) = build_browser_crate("touchpoint_widget", &tmp, &wasm_bindgen, &wasm_opt)?;
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
    std::fs::create_dir_all(&tmp)?;
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
    let dashboard = dashboard(&dir, &wasm_bindgen, &wasm_opt)?;
    // Written last: the server's build script watches it, and it names
    // every content-hashed file, so any change rebuilds the server.
    let names = |assets: &[Asset], skip: &str| {
        assets
            .iter()
            .filter(|a| a.role != skip)
            .map(|a| a.path.file_name().unwrap().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
    };
    let manifest = serde_json::json!({
        "loader": "t.js",
        "widget": names(&files, "loader"),
        "app": names(&dashboard, ""),
        "app_page": format!("{:x}", Sha256::digest(std::fs::read(dir.join("app/index.html"))?)),
    });
    write_if_changed(
        &dir.join("manifest.json"),
        serde_json::to_string_pretty(&manifest)?.as_bytes(),
    )?;
    let dist = Dist {
        dir,
        files,
        dashboard,
    };
    print_sizes(&dist);
    Ok(dist)
}

/// Builds a browser crate (`touchpoint_widget`, `touchpoint_dashboard`)
/// for wasm, binds it for the web, optimises the module for size and
/// minifies its glue (an ES module, exports kept), in `tmp`; the module's
/// and the glue's bytes. `tmp` is removed afterwards.
///
/// The standard library is rebuilt so that a panic aborts on the spot,
/// without panic messages, locations or `Debug` formatting (nothing in a
/// browser prints them). These flags are unstable; `RUSTC_BOOTSTRAP` lets
/// the stable compiler accept them for this build only, as for the fuzz
/// build; rebuilding the standard library needs `rust-src`. Both crates use
/// the same flags, so it is built once for both.
fn build_browser_crate(
    name: &str,
    tmp: &Path,
    wasm_bindgen: &Path,
    wasm_opt: &Path,
) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    util::cargo(
        &[
            "build",
            "--package",
            &name.replace('_', "-"),
            "--target",
            "wasm32-unknown-unknown",
            "--profile",
            "wasm-release",
            "-Zbuild-std=std,panic_abort",
            // The standard library's small variants (sorting, formatting):
            // about 6 KB brotli less on the dashboard.
            "-Zbuild-std-features=optimize_for_size",
        ],
        &[
            ("RUSTC_BOOTSTRAP", "1"),
            (
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS",
                "-Zlocation-detail=none -Zfmt-debug=none -Zunstable-options -Cpanic=immediate-abort",
            ),
        ],
    )?;
    if tmp.exists() {
        std::fs::remove_dir_all(tmp)?;
    }
    std::fs::create_dir_all(tmp)?;
    let built = target_dir().join(format!("wasm32-unknown-unknown/wasm-release/{name}.wasm"));
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    util::run(
        wasm_bindgen,
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-dir",
            &path(tmp),
            &path(&built),
        ],
        &[],
    )?;
    let opt = tmp.join("opt.wasm");
    util::run(
        wasm_opt,
        &[
            "-Oz",
            // Until a pass changes nothing: about 1 KB brotli less on the dashboard.
            "--converge",
            "--strip-debug",
            "--strip-producers",
            &path(&tmp.join(format!("{name}_bg.wasm"))),
            "-o",
            &path(&opt),
        ],
        &[],
    )?;
    let glue_min = tmp.join("glue.min.js");
    minify(&tmp.join(format!("{name}.js")), &glue_min, true)?;
    let out = (std::fs::read(&opt)?, std::fs::read(&glue_min)?);
    std::fs::remove_dir_all(tmp)?;
    Ok(out)
}

/// Builds the dashboard into `{dir}/app`: the wasm and its glue, the style
/// sheet and a boot module under content-hashed names, and `index.html`
/// naming them (no inline script: the page's policy allows none).
fn dashboard(dir: &Path, wasm_bindgen: &Path, wasm_opt: &Path) -> anyhow::Result<Vec<Asset>> {
    let app = dir.join("app");
    let tmp = dir.join("tmp-app");
    std::fs::create_dir_all(&app)?;
    let (wasm, glue) = build_browser_crate("touchpoint_dashboard", &tmp, wasm_bindgen, wasm_opt)?;
    let hashed = |stem: &str, ext: &str, bytes: &[u8]| {
        let h = Sha256::digest(bytes);
        let h: String = h.iter().take(5).map(|b| format!("{b:02x}")).collect();
        format!("{stem}-{h}.{ext}")
    };
    let css = std::fs::read(root().join("www/style.css"))?;
    let wasm_name = hashed("dashboard", "wasm", &wasm);
    let glue_name = hashed("dashboard", "js", &glue);
    let css_name = hashed("dashboard", "css", &css);
    let boot = std::fs::read_to_string(root().join("www/boot.js"))?
        .replace("{glue}", &glue_name)
        .replace("{wasm}", &wasm_name);
    let boot_name = hashed("boot", "js", boot.as_bytes());
    let index = std::fs::read_to_string(root().join("www/index.html"))?
        .replace("{css}", &css_name)
        .replace("{glue}", &glue_name)
        .replace("{wasm}", &wasm_name)
        .replace("{boot}", &boot_name);
    let files: Vec<(&'static str, String, Vec<u8>)> = vec![
        ("dashboard wasm", wasm_name, wasm),
        ("dashboard glue", glue_name, glue),
        ("dashboard css", css_name, css),
        ("dashboard boot", boot_name, boot.into_bytes()),
        (
            "dashboard page",
            "index.html".to_owned(),
            index.into_bytes(),
        ),
    ];
    let keep: Vec<String> = files
        .iter()
        .flat_map(|(_, n, _)| [n.clone(), format!("{n}.br"), format!("{n}.gz")])
        .collect();
    for old in std::fs::read_dir(&app)? {
        let old = old?.path();
        if !keep.contains(
            &old.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
        ) {
            std::fs::remove_file(&old)?;
        }
    }
    let mut assets = Vec::new();
    for (role, name, bytes) in files {
        let path = app.join(&name);
        let (br, gz) = (brotli(&bytes), gzip(&bytes));
        write_if_changed(&path, &bytes)?;
        write_if_changed(&app.join(format!("{name}.br")), &br)?;
        write_if_changed(&app.join(format!("{name}.gz")), &gz)?;
        assets.push(Asset {
            role,
            path,
            raw: bytes.len(),
            gzip: gz.len(),
            brotli: br.len(),
        });
    }
    Ok(assets)
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
    for a in &dist.dashboard {
        let name = a.path.file_name().unwrap().to_string_lossy();
        println!("{:<28} {:>9} {:>9} {:>9}", name, a.raw, a.gzip, a.brotli);
    }
    println!(
        "loader: {} B brotli (goal {LOADER_GOAL}, limit {LOADER_LIMIT}); widget wasm+glue: {} B brotli (goal {WIDGET_GOAL}, limit {WIDGET_LIMIT}); dashboard wasm+glue: {} B brotli (limit {DASHBOARD_LIMIT})",
        dist.brotli(&["loader"]),
        dist.brotli(&["wasm", "glue"]),
        dist.dashboard_code()
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
    let dashboard = dist.dashboard_code();
    if dashboard > DASHBOARD_LIMIT {
        bail!(
            "size budget: the dashboard's wasm and glue are {dashboard} B brotli, above the {DASHBOARD_LIMIT} B limit"
        );
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
