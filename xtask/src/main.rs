//! `cargo xtask <command>`: the project's build, demo, test and benchmark
//! steps in Rust instead of shell. Run with `cargo xtask help`.

mod bench;
mod demo;
mod dist;
mod impact_bench;
mod ingest_bench;
mod peers;
mod scale_bench;
mod util;

use anyhow::bail;

const HELP: &str = "\
cargo xtask <command>

  dist [--assets-only]  build the widget (wasm) and the release server with the
                        assets embedded; print sizes; fail above the hard budgets
  demo                  build, apply www/demo/site.toml, serve the API on :8080
                        and the demo shop on :8081
  test                  build the widget, then run every test (browser included)
  bench [--only peers]  measure and write docs/BENCHMARKS.md; with `--only peers`,
                        only print the peers table for the assets already built
  bench --only scale [--max N] [--smoke]
                        only import 100k → 1M → 10M events (up to N; tiny sizes
                        with --smoke), time aggregates and exports, print the tables
  bench --only impact   only measure the page impact of the script tag in headless
                        Chromium (Lighthouse), print the section
  fuzz [SECONDS]        fuzz the ingest decoder (default 60 s)
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
        Some("bench") => match args.iter().position(|a| a == "--only") {
            // Not yet for the whole run: it would measure at full size and
            // overwrite docs/BENCHMARKS.md.
            None if flag("--smoke") || flag("--max") => {
                bail!("bench: --smoke and --max go with `--only scale` for now")
            }
            None => bench::run(),
            Some(i) => match args.get(i + 1).map(String::as_str) {
                Some("peers") => peers::only(),
                Some("scale") => scale_bench::only(&args),
                Some("impact") => impact_bench::only(),
                other => bail!(
                    "bench --only: unknown part {:?} (known: peers, scale, impact)",
                    other.unwrap_or("")
                ),
            },
        },
        Some("fuzz") => fuzz(
            args.get(1)
                .map_or(Ok(60), |s| s.parse())
                .map_err(|_| anyhow::anyhow!("fuzz SECONDS"))?,
        ),
        Some("help" | "--help" | "-h") | None => {
            print!("{HELP}");
            Ok(())
        }
        Some(other) => bail!("unknown command {other:?}\n\n{HELP}"),
    }
}

/// Every test: unit, server on SQLite and PostgreSQL, CLI, the real browser,
/// and a short bounded fuzzing run.
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
            // PostgreSQL tests fail rather than skip when its binaries are missing.
            ("TOUCHPOINT_REQUIRE_PG", "1"),
        ],
    )?;
    // The widget's components in headless Chromium (wasm-bindgen-test; the
    // browser's flags are in widget/webdriver.json).
    let runner = dist::ensure_wasm_bindgen()?.with_file_name("wasm-bindgen-test-runner");
    let chromedriver =
        std::env::var("TOUCHPOINT_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into());
    util::cargo(
        &[
            "test",
            "--package",
            "touchpoint-widget",
            "--target",
            "wasm32-unknown-unknown",
            "--lib",
        ],
        &[
            (
                "CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER",
                runner.to_str().unwrap(),
            ),
            ("CHROMEDRIVER", &chromedriver),
        ],
    )?;
    // A short, bounded fuzzing run of the ingest decoder.
    fuzz(20)
}

/// Fuzzes the ingest decoder with cargo-fuzz (libFuzzer) for `seconds`.
/// cargo-fuzz needs nightly flags; `RUSTC_BOOTSTRAP` lets the stable
/// toolchain accept them for this build only.
fn fuzz(seconds: u64) -> anyhow::Result<()> {
    const CARGO_FUZZ: &str = "0.13.2";
    let tools = util::tools_dir();
    let bin = tools.join("bin/cargo-fuzz");
    let installed = util::output(bin.to_str().unwrap(), &["--version"]).unwrap_or_default();
    if !installed.contains(CARGO_FUZZ) {
        util::cargo(
            &[
                "install",
                "cargo-fuzz",
                "--version",
                CARGO_FUZZ,
                "--root",
                tools.to_str().unwrap(),
                "--force",
            ],
            &[],
        )?;
    }
    let target = std::env::var("TOUCHPOINT_FUZZ_TARGET").unwrap_or_else(|_| {
        util::target_dir()
            .join("fuzz")
            .to_string_lossy()
            .into_owned()
    });
    let max_time = format!("-max_total_time={seconds}");
    eprintln!("$ cargo fuzz run ingest_decoder -- {max_time}");
    let status = std::process::Command::new(&bin)
        .args(["run", "ingest_decoder", "--", &max_time])
        .current_dir(util::root().join("server"))
        .env("RUSTC_BOOTSTRAP", "1")
        .env("CARGO_TARGET_DIR", &target)
        .status()?;
    anyhow::ensure!(
        status.success(),
        "the fuzzer found a crash (see server/fuzz/artifacts)"
    );
    Ok(())
}
