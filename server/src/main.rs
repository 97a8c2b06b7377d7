//! `touchpoint`: parses the command line, sets up logging, runs the command.
//! Run with `touchpoint serve` (see `touchpoint --help`).

use clap::Parser;
use tracing_subscriber::EnvFilter;

/// mimalloc instead of the system allocator: a request allocates many small
/// buffers on one thread and frees them on another, which the system
/// allocator serves with locks and consolidation (measured under `wrk`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = touchpoint_server::cli::Cli::parse();
    let mut stdout = std::io::stdout();
    match touchpoint_server::cli::run(cli, &mut stdout).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
