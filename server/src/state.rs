//! What every handler can reach ([`AppState`]) and the server's settings.

use crate::store::Store;
use crate::{cache, commit, limits, metrics};
use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

#[derive(Clone, Debug)]
pub struct AppState {
    pub store: Store,
    /// The group-commit writer for ingested events.
    pub committer: commit::Committer,
    pub limiter: Arc<limits::RateLimiter>,
    /// Sign-in attempts, per address and per e-mail.
    pub login_limiter: Arc<limits::RateLimiter>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    /// Site configurations for the public routes.
    pub sites: Arc<cache::SiteCache>,
}

/// Server settings beyond the database.
#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub rate_limits: limits::RateLimits,
    /// Take the client address from `X-Forwarded-For` (behind a trusted proxy).
    pub trust_proxy: bool,
}

impl AppState {
    /// State with default settings; starts the writer task on the current runtime.
    pub fn new(store: Store) -> AppState {
        AppState::with_settings(store, Settings::default())
    }

    pub fn with_settings(store: Store, settings: Settings) -> AppState {
        AppState {
            committer: commit::Committer::spawn(store.clone()),
            limiter: Arc::new(limits::RateLimiter::new(settings.rate_limits)),
            login_limiter: Arc::new(limits::RateLimiter::new(limits::RateLimits {
                per_client: 20,
                per_site: 10,
            })),
            settings: Arc::new(settings),
            metrics: Arc::default(),
            sites: Arc::default(),
            store,
        }
    }

    /// The client's address, used in memory for rate limits only.
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        if self.settings.trust_proxy {
            let forwarded = headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(',').next())
                .and_then(|v| v.trim().parse().ok());
            if forwarded.is_some() {
                return forwarded;
            }
        }
        peer.map(|addr| addr.ip())
    }
}
