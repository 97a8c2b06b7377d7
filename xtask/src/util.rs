//! Small helpers: the repository root, running commands, compressed sizes.

use anyhow::{Context, bail};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root: where `cargo xtask` runs it from (cargo sets
/// `CARGO_MANIFEST_DIR` for the run), else where it was built. Two clones
/// sharing one target directory share the built xtask too, and must each
/// still work on their own files.
pub fn root() -> PathBuf {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    manifest.parent().unwrap_or(Path::new(".")).to_path_buf()
}

pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root().join("target"), PathBuf::from)
}

/// Runs a command from the repository root, failing on a non-zero exit.
pub fn run(
    program: impl AsRef<std::ffi::OsStr>,
    args: &[&str],
    envs: &[(&str, &str)],
) -> anyhow::Result<()> {
    let program = program.as_ref();
    eprintln!("$ {} {}", program.to_string_lossy(), args.join(" "));
    let status = Command::new(program)
        .args(args)
        .envs(envs.iter().copied())
        .current_dir(root())
        .status()
        .with_context(|| format!("starting {}", program.to_string_lossy()))?;
    if !status.success() {
        bail!(
            "{} {} failed ({status})",
            program.to_string_lossy(),
            args.join(" ")
        );
    }
    Ok(())
}

pub fn cargo(args: &[&str], envs: &[(&str, &str)]) -> anyhow::Result<()> {
    run(
        std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()),
        args,
        envs,
    )
}

/// Output of a command, or `None` if it could not run or failed.
pub fn output(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// gzip at level 9.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

/// brotli at quality 11.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).unwrap();
    out
}

/// Chromium and ChromeDriver, which the browser tests drive.
pub fn require_browser() -> anyhow::Result<()> {
    for (bin, env) in [
        ("chromium", "TOUCHPOINT_CHROMIUM"),
        ("chromedriver", "TOUCHPOINT_CHROMEDRIVER"),
    ] {
        let path = std::env::var(env).unwrap_or_else(|_| format!("/usr/bin/{bin}"));
        if !Path::new(&path).exists() {
            bail!(
                "{path} is missing: install it (Debian: apt-get install chromium chromium-driver) or set {env}"
            );
        }
    }
    Ok(())
}

/// Where build and test tools are installed: `$TOUCHPOINT_TOOLS`, else `.tools/`.
pub fn tools_dir() -> PathBuf {
    std::env::var_os("TOUCHPOINT_TOOLS").map_or_else(|| root().join(".tools"), PathBuf::from)
}

/// npm packages the build and tests use, pinned; installed into the tools
/// dir once. Returns its `node_modules`.
pub fn npm_tools() -> anyhow::Result<PathBuf> {
    const PACKAGES: [(&str, &str); 3] = [
        ("binaryen", "132.0.0"),
        ("axe-core", "4.14.1"),
        ("terser", "5.51.2"),
    ];
    let tools = tools_dir();
    let modules = tools.join("node_modules");
    let installed = |name: &str, version: &str| {
        std::fs::read_to_string(modules.join(name).join("package.json"))
            .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}\"")))
    };
    if !PACKAGES.iter().all(|(n, v)| installed(n, v)) {
        std::fs::create_dir_all(&tools)?;
        let deps: Vec<String> = PACKAGES
            .iter()
            .map(|(n, v)| format!("\"{n}\": \"{v}\""))
            .collect();
        std::fs::write(
            tools.join("package.json"),
            format!(
                "{{\"private\": true, \"dependencies\": {{{}}}}}\n",
                deps.join(", ")
            ),
        )?;
        run(
            "npm",
            &[
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                tools.to_str().unwrap(),
            ],
            &[],
        )?;
    }
    Ok(modules)
}
