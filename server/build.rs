//! Embeds the loader, the built widget and the dashboard. `cargo xtask dist` writes them to
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
    let mut out = String::from(
        "/// An embedded file: name, bytes, and its brotli and gzip encodings when the dist has them.\n\
         pub struct Embedded { pub name: &'static str, pub raw: &'static [u8], pub br: Option<&'static [u8]>, pub gz: Option<&'static [u8]> }\n",
    );
    let loader = if built_loader.exists() {
        built_loader
    } else {
        source_loader
    };
    writeln!(
        out,
        "/// The loader served as `/t.js`.\npub static LOADER: Embedded = {};",
        embed(&loader)
    )
    .unwrap();
    out.push_str("/// Content-hashed widget files served under `/widget/`.\npub static WIDGET_FILES: &[Embedded] = &[\n");
    for path in files_in(&dist.join("widget")) {
        writeln!(out, "    {},", embed(&path)).unwrap();
    }
    out.push_str("];\n");
    out.push_str("/// The dashboard's files served under `/app` (its page and content-hashed assets).\npub static APP_FILES: &[Embedded] = &[\n");
    for path in files_in(&dist.join("app")) {
        writeln!(out, "    {},", embed(&path)).unwrap();
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    std::fs::write(out_dir.join("assets.rs"), out).unwrap();
}

/// The files of a dist directory, without their compressed siblings, sorted.
fn files_in(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.is_file() && !matches!(p.extension().and_then(|e| e.to_str()), Some("br" | "gz"))
        })
        .collect();
    files.sort();
    files
}

/// `Embedded { … }` for a file and its `.br` / `.gz` siblings.
fn embed(path: &std::path::Path) -> String {
    let include = |p: &std::path::Path| format!("include_bytes!({:?})", p.canonicalize().unwrap());
    let sibling = |ext: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        let p = PathBuf::from(p);
        if p.exists() {
            format!("Some({})", include(&p))
        } else {
            "None".to_owned()
        }
    };
    format!(
        "Embedded {{ name: {:?}, raw: {}, br: {}, gz: {} }}",
        path.file_name().unwrap().to_string_lossy(),
        include(path),
        sibling(".br"),
        sibling(".gz")
    )
}
