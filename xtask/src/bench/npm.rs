//! Pinned npm packages for the parts that measure against other tools'
//! code (peers) or drive a browser with it (Lighthouse), installed into
//! caches outside the repository.

use crate::util::root;
use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A cache directory for benchmark tools: `$ENV`, else
/// `$HOME/.cache/touchpoint/NAME`; never inside the repository.
pub fn cache_dir(env: &str, name: &str) -> anyhow::Result<PathBuf> {
    let dir = match std::env::var_os(env) {
        Some(d) => std::env::current_dir()?.join(d),
        None => PathBuf::from(
            std::env::var_os("HOME").with_context(|| format!("neither {env} nor HOME is set"))?,
        )
        .join(".cache/touchpoint")
        .join(name),
    };
    if dir.starts_with(root()) {
        bail!(
            "{} is inside the repository; point {env} elsewhere",
            dir.display()
        );
    }
    Ok(dir)
}

/// Installs pinned npm `packages` into `dir` once (again only when one is
/// missing or at another version); returns its `node_modules`.
pub fn npm_install(dir: &Path, packages: &[(&str, &str)]) -> anyhow::Result<PathBuf> {
    let modules = dir.join("node_modules");
    let installed = |name: &str, version: &str| {
        std::fs::read_to_string(modules.join(name).join("package.json"))
            .is_ok_and(|p| p.contains(&format!("\"version\": \"{version}\"")))
    };
    if packages.iter().all(|(n, v)| installed(n, v)) {
        return Ok(modules);
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let deps: Vec<String> = packages
        .iter()
        .map(|(n, v)| format!("\"{n}\": \"{v}\""))
        .collect();
    std::fs::write(
        dir.join("package.json"),
        format!(
            "{{\"private\": true, \"dependencies\": {{{}}}}}\n",
            deps.join(", ")
        ),
    )?;
    // Only files are used as published: no install scripts run. esbuild
    // finds its platform binary (an optional dependency) without its own.
    let args = [
        "install",
        "--no-audit",
        "--no-fund",
        "--ignore-scripts",
        "--prefix",
        dir.to_str()
            .with_context(|| format!("{} is not UTF-8", dir.display()))?,
    ];
    eprintln!("$ npm {}", args.join(" "));
    let out = Command::new("npm")
        .args(args)
        .output()
        .map_err(|err| anyhow::anyhow!("npm could not be started ({err})"))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprint!("{stderr}");
        // Only npm's error code: its other lines name hosts and local paths.
        let code = stderr
            .lines()
            .find_map(|l| l.strip_prefix("npm error code "))
            .map_or_else(String::new, |c| format!(", {}", c.trim()));
        bail!("npm install failed ({}{code})", out.status);
    }
    if let Some((n, v)) = packages.iter().find(|(n, v)| !installed(n, v)) {
        bail!("npm install did not install {n} {v}");
    }
    Ok(modules)
}
