//! Embeds the loader and the built widget. `cargo xtask dist` writes them to
//! `target/dist` (or `$TOUCHPOINT_DIST`); without a dist, the loader source
//! is embedded as is and no widget is served.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let dist = std::env::var_os("TOUCHPOINT_DIST")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest.join("../target/dist"));
    println!("cargo:rerun-if-env-changed=TOUCHPOINT_DIST");
    println!(
        "cargo:rerun-if-changed={}",
        dist.join("manifest.json").display()
    );
    let source_loader = manifest.join("../widget/loader.js");
    println!("cargo:rerun-if-changed={}", source_loader.display());

    let built_loader = dist.join("t.js");
    let loader = if built_loader.exists() {
        built_loader
    } else {
        source_loader
    };
    let mut out = format!(
        "/// The loader served as `/t.js`.\npub static LOADER: &[u8] = include_bytes!({:?});\n",
        loader.canonicalize().unwrap()
    );
    out.push_str("/// Content-hashed widget files served under `/widget/`.\npub static WIDGET_FILES: &[(&str, &[u8])] = &[\n");
    let widget_dir = dist.join("widget");
    if let Ok(entries) = std::fs::read_dir(&widget_dir) {
        let mut files: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        for path in files {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            writeln!(
                out,
                "    ({name:?}, include_bytes!({:?})),",
                path.canonicalize().unwrap()
            )
            .unwrap();
        }
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("assets.rs"), out).unwrap();
}
