//! `touchpoint serve`: its options and the server's start and graceful end.

use crate::serve::{serve, serve_metrics, spawn_retention};
use crate::state::{AppState, Settings};
use crate::store::Store;
use anyhow::Context;
use std::io::Write;
use std::net::SocketAddr;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "TOUCHPOINT_ADDR", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Event posts per minute one client may make to one site (0: no limit).
    #[arg(long, env = "TOUCHPOINT_RATE_PER_CLIENT", default_value_t = 120)]
    pub rate_per_client: u32,
    /// Event posts per minute to one site from all clients (0: no limit).
    #[arg(long, env = "TOUCHPOINT_RATE_PER_SITE", default_value_t = 12_000)]
    pub rate_per_site: u32,
    /// Behind one reverse proxy that appends the client's address to
    /// X-Forwarded-For (same as --trusted-proxies 1).
    #[arg(long, env = "TOUCHPOINT_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Behind this many reverse proxies, each appending to X-Forwarded-For:
    /// the client is the entry that many from the right.
    #[arg(long, env = "TOUCHPOINT_TRUSTED_PROXIES")]
    pub trusted_proxies: Option<usize>,
    /// Seconds a client has to send a request's headers.
    #[arg(long, env = "TOUCHPOINT_HEADER_TIMEOUT", default_value_t = 10)]
    pub header_timeout: u64,
    /// Seconds a request's body may pause between its parts.
    #[arg(long, env = "TOUCHPOINT_BODY_TIMEOUT", default_value_t = 30)]
    pub body_timeout: u64,
    /// Connections served at once; more are closed on arrival.
    #[arg(long, env = "TOUCHPOINT_MAX_CONNECTIONS", default_value_t = 512)]
    pub max_connections: usize,
    /// Serve /metrics on the public address to requests bearing this token.
    #[arg(long, env = "TOUCHPOINT_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve /metrics (without a token) on this separate address, e.g. a
    /// loopback or private one that only the monitoring system reaches.
    #[arg(long, env = "TOUCHPOINT_METRICS_ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// The address people reach the dashboard at (`https://feedback.example.com`):
    /// alert messages link to the answer there. Without it they carry no link.
    #[arg(long, env = "TOUCHPOINT_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Allow alert destinations on loopback, private, link-local and other
    /// non-public addresses (a receiver on this machine or network; tests).
    #[arg(long, env = "TOUCHPOINT_ALERTS_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
    pub alerts_allow_private: bool,
    /// Seconds one alert attempt may take, from resolving to the answer.
    #[arg(long, env = "TOUCHPOINT_ALERT_TIMEOUT", default_value_t = 10)]
    pub alert_timeout: u64,
    /// Milliseconds before an undelivered alert's first retry; doubled on
    /// each further one (at most an hour), with jitter.
    #[arg(long, env = "TOUCHPOINT_ALERT_BACKOFF_MS", default_value_t = 10_000)]
    pub alert_backoff_ms: u64,
    /// Seconds after which an undelivered alert is marked failed.
    #[arg(long, env = "TOUCHPOINT_ALERT_GIVE_UP_SECS", default_value_t = 86_400)]
    pub alert_give_up_secs: u64,
    /// Sites one dashboard account may administer and still create another
    /// from the dashboard (0: only `touchpoint apply` creates sites).
    #[arg(long, env = "TOUCHPOINT_SITES_PER_ACCOUNT", default_value_t = 20)]
    pub sites_per_account: u32,
    /// Milliseconds between two looks at the alert outbox.
    #[arg(long, env = "TOUCHPOINT_ALERT_POLL_MS", default_value_t = 1000)]
    pub alert_poll_ms: u64,
}

impl ServeArgs {
    pub fn settings(&self) -> Settings {
        Settings {
            rate_limits: crate::limits::RateLimits {
                per_client: self.rate_per_client,
                per_site: self.rate_per_site,
            },
            trusted_proxies: self
                .trusted_proxies
                .unwrap_or(usize::from(self.trust_proxy)),
            header_timeout: std::time::Duration::from_secs(self.header_timeout.max(1)),
            body_timeout: std::time::Duration::from_secs(self.body_timeout.max(1)),
            max_connections: self.max_connections.max(1),
            metrics_token: self.metrics_token.clone().filter(|t| !t.is_empty()),
            alerts: crate::alerts::AlertSettings {
                allow_private: self.alerts_allow_private,
                public_url: self
                    .public_url
                    .clone()
                    .filter(|u| !u.is_empty())
                    .map(|u| u.trim_end_matches('/').to_owned()),
                timeout: Duration::from_secs(self.alert_timeout.max(1)),
                backoff_first: Duration::from_millis(self.alert_backoff_ms.max(1)),
                give_up_after: Duration::from_secs(self.alert_give_up_secs),
                poll: Duration::from_millis(self.alert_poll_ms.max(10)),
                ..crate::alerts::AlertSettings::default()
            },
            sites_per_account: self.sites_per_account,
            ..Settings::default()
        }
    }
}

pub(super) async fn run(
    store: &Store,
    json: bool,
    out: &mut (dyn Write + Send),
    args: &ServeArgs,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("binding {}", args.addr))?;
    let addr = listener.local_addr()?;
    let state = AppState::with_settings(store.clone(), args.settings());
    let metrics_addr = match args.metrics_addr {
        Some(at) => {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .with_context(|| format!("binding {at}"))?;
            let at = listener.local_addr()?;
            tokio::spawn(serve_metrics(listener, state.clone()));
            Some(at)
        }
        None => None,
    };
    tracing::info!(%addr, "serving");
    if json {
        let mut answer = serde_json::json!({ "addr": format!("http://{addr}") });
        if let Some(at) = metrics_addr {
            answer["metrics_addr"] = format!("http://{at}").into();
        }
        writeln!(out, "{answer}")?;
    } else {
        writeln!(out, "Touchpoint listening on http://{addr}")?;
        if let Some(at) = metrics_addr {
            writeln!(out, "Metrics on http://{at}/metrics")?;
        }
    }
    out.flush()?;
    spawn_retention(store.clone());
    crate::alerts::spawn_worker(
        store.clone(),
        state.settings.alerts.clone(),
        state.metrics.clone(),
    );
    serve(listener, state, shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
