//! Serves the demo shop. Run with `cargo xtask demo`, or by hand:
//! `touchpoint-demo --addr 127.0.0.1:8081 --api http://127.0.0.1:8080 --site KEY`.
//! With `--no-script` instead of `--site`, the same pages come without the
//! Touchpoint script tag: the baseline page-impact benchmarks compare with.

use clap::Parser;

#[derive(Parser)]
#[command(about = "The Touchpoint demo shop")]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8081")]
    addr: std::net::SocketAddr,
    /// Origin of the Touchpoint server the script tag loads from.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    api: String,
    /// Site key from `touchpoint apply www/demo/site.toml`.
    #[arg(long, required_unless_present = "no_script")]
    site: Option<String>,
    /// Serve the pages without the Touchpoint script tag (the command queue
    /// stub stays): a baseline to measure the tag's page impact against.
    #[arg(long, conflicts_with = "site")]
    no_script: bool,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let listener = tokio::net::TcpListener::bind(args.addr).await?;
    let app = touchpoint_demo::app(touchpoint_demo::Shop {
        api: args.api.trim_end_matches('/').to_owned(),
        site: args.site.unwrap_or_default(),
    });
    axum::serve(listener, app).await?;
    Ok(())
}
