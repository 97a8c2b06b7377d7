//! `cargo xtask <command>`: the project's build, demo, test and benchmark
//! steps in Rust instead of shell. Run with `cargo xtask help`.

mod bench;
mod demo;
mod dist;
mod util;

use anyhow::bail;

const HELP: &str = "\
cargo xtask <command>

  dist [--assets-only]  build the widget (wasm) and the release server with the
                        assets embedded; print sizes; fail above the hard budgets
  demo                  build, apply www/demo/site.toml, serve the API on :8080
                        and the demo shop on :8081
  test                  build the widget, then run every test (browser included)
  bench                 measure and write docs/BENCHMARKS.md
";

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| args.iter().any(|a| a == name);
    match args.first().map(String::as_str) {
        Some("dist") => {
            let dist = dist::assets()?;
            dist::check_budgets(&dist)?;
            if !flag("--assets-only") {
                dist::release_server()?;
            }
            Ok(())
        }
        Some("demo") => demo::run(),
        Some("test") => test(),
        Some("bench") => bench::run(),
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{HELP}"),
    }
}

/// Every test: unit, server on SQLite and PostgreSQL, CLI, and the real browser.
fn test() -> anyhow::Result<()> {
    let dist = dist::assets()?;
    dist::check_budgets(&dist)?;
    util::require_browser()?;
    let axe = util::npm_tools()?.join("axe-core/axe.min.js");
    util::cargo(
        &["test", "--workspace", "--exclude", "touchpoint-widget"],
        &[
            ("TOUCHPOINT_DIST", dist.dir.to_str().unwrap()),
            ("TOUCHPOINT_AXE", axe.to_str().unwrap()),
        ],
    )
}
