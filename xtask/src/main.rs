//! `cargo xtask <command>`: the project's build, demo, test and benchmark
//! steps in Rust instead of shell. Run with `cargo xtask help`.

mod bench;
mod demo;
mod dist;
mod quality;
mod story;
mod system;
mod util;

use anyhow::bail;

const HELP: &str = "\
cargo xtask <command>

  dist [--assets-only]  build the widget (wasm) and the release server with the
                        assets embedded; print sizes; fail above the hard budgets
  demo                  build, apply www/demo/site.toml, serve the API on :8080
                        and the demo shop on :8081
  test                  build the widget, then run every test (browser included),
                        a short fuzzing run and `bench --smoke`
  bench                 measure everything and write docs/BENCHMARKS.md (~20 min)
  bench --smoke         run every part at tiny sizes (a few minutes), write the
                        same document to target/bench-smoke/BENCHMARKS.md (in
                        $CARGO_TARGET_DIR if set); fail when a part breaks or
                        measures nothing, never on a figure
  bench --only PART [--smoke]
                        run one part and print its section (with --smoke: tiny
                        sizes, and fail as above); PART is one of
                          peers   the peers table, for the assets already built
                          ingest  POST /v1/events throughput with wrk
                          impact  the script tag's page impact in headless
                                  Chromium (Lighthouse)
                          scale   import 100k → 1M → 10M events, time aggregates
                                  and exports; `--max N` stops at N events
                          dashboard  the dashboard's first screen in headless
                                  Chromium, and its size
  quality               measure personal-data masking on the labelled comments
                        (server/tests/fixtures/pii/) and write docs/QUALITY.md
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
        Some("bench") => {
            let smoke = flag("--smoke");
            let part = args
                .iter()
                .position(|a| a == "--only")
                .map(|i| args.get(i + 1).map_or("", String::as_str));
            if flag("--max") && part != Some("scale") {
                bail!("bench: --max goes with `--only scale`");
            }
            match part {
                None => bench::run(smoke),
                Some("peers") => bench::peers::only(smoke),
                Some("ingest") => bench::ingest::only(smoke),
                Some("impact") => bench::impact::only(smoke),
                Some("scale") => bench::scale::only(&args),
                Some("dashboard") => bench::dashboard::only(smoke),
                Some(other) => bail!(
                    "bench --only: unknown part {other:?} (known: peers, ingest, impact, scale, dashboard)"
                ),
            }
        }
        Some("quality") => quality::run(),
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
/// a short bounded fuzzing run, and the benchmark at tiny sizes (it checks
/// that every part still runs, never a figure).
fn test() -> anyhow::Result<()> {
    system::for_tests()?;
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
    fuzz(20)?;
    // The benchmark at tiny sizes: it fails only when a part breaks.
    bench::with_assets(&dist, true)
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
