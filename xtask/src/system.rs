//! The Debian packages the demo and the tests need beside Rust, installed
//! when missing: with apt-get when running as root, otherwise the one
//! command to run is printed and the task stops.

use anyhow::bail;
use std::path::Path;
use std::process::Command;

/// A package and how to tell it is there.
struct Need {
    package: &'static str,
    present: fn() -> bool,
}

fn on_path(bin: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {bin}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn file_or_env(env: &str, default: &str) -> bool {
    Path::new(&std::env::var(env).unwrap_or_else(|_| default.to_owned())).exists()
}

const CHROMIUM: Need = Need {
    package: "chromium",
    present: || file_or_env("TOUCHPOINT_CHROMIUM", "/usr/bin/chromium"),
};
const CHROMEDRIVER: Need = Need {
    package: "chromium-driver",
    present: || file_or_env("TOUCHPOINT_CHROMEDRIVER", "/usr/bin/chromedriver"),
};
const POSTGRESQL: Need = Need {
    package: "postgresql",
    present: || {
        std::env::var_os("TOUCHPOINT_PG_BIN").is_some()
            || std::fs::read_dir("/usr/lib/postgresql").is_ok_and(|versions| {
                versions
                    .filter_map(Result::ok)
                    .any(|v| v.path().join("bin/initdb").exists())
            })
    },
};
const NPM: Need = Need {
    package: "npm",
    present: || on_path("npm"),
};
const CC: Need = Need {
    package: "gcc",
    present: || on_path("cc"),
};
/// The ingest benchmark's load generator (its smoke run ends the tests).
const WRK: Need = Need {
    package: "wrk",
    present: || on_path("wrk"),
};
/// Emoji prompts (faces, thumbs) in the screenshots the browser tests take.
const EMOJI: Need = Need {
    package: "fonts-noto-color-emoji",
    present: || Path::new("/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf").exists(),
};

/// What `cargo xtask demo` needs: npm (the loader's minifier and wasm-opt) and a C compiler.
pub fn for_demo() -> anyhow::Result<()> {
    ensure(&[NPM, CC])
}

/// What `cargo xtask test` needs: the demo's, plus the browser, PostgreSQL,
/// the load generator and an emoji font.
pub fn for_tests() -> anyhow::Result<()> {
    ensure(&[NPM, CC, CHROMIUM, CHROMEDRIVER, POSTGRESQL, WRK, EMOJI])
}

fn ensure(needs: &[Need]) -> anyhow::Result<()> {
    let missing: Vec<&str> = needs
        .iter()
        .filter(|n| !(n.present)())
        .map(|n| n.package)
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !Path::new("/usr/bin/apt-get").exists() {
        bail!(
            "missing: {list} (these are Debian's package names; install them with your system's package manager)"
        );
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !root {
        bail!(
            "missing: {list}; install them with:\n\n  sudo apt-get update && sudo apt-get install -y {list}\n"
        );
    }
    eprintln!("installing: {list}");
    let apt = |args: &[&str]| -> anyhow::Result<()> {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()?;
        if !status.success() {
            bail!("apt-get {} failed ({status})", args.join(" "));
        }
        Ok(())
    };
    apt(&["update", "-qq"])?;
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(&missing);
    apt(&install)?;
    let still: Vec<&str> = needs
        .iter()
        .filter(|n| !(n.present)())
        .map(|n| n.package)
        .collect();
    if !still.is_empty() {
        bail!("still missing after apt-get install: {}", still.join(" "));
    }
    Ok(())
}
