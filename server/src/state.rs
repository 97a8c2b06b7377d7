//! What every handler can reach ([`AppState`]) and the server's settings.

use crate::store::Store;
use crate::{cache, commit, limits, metrics};
use axum::http::HeaderMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// What every handler can reach: one allocation shared by every request
/// (axum clones the state for each request and each layer, so a clone is
/// one reference count, not one per part).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Changing a part (at start-up, in tests) gives this handle a copy of its
/// own when others share it; the requests' clones stay one count.
impl std::ops::DerefMut for AppState {
    fn deref_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }
}

/// The parts of [`AppState`].
#[derive(Clone, Debug)]
pub struct Shared {
    pub store: Store,
    /// The group-commit writer for ingested events.
    pub committer: commit::Committer,
    pub limiter: Arc<limits::RateLimiter>,
    /// Sign-in attempts, per client and per client and e-mail.
    pub login_limiter: Arc<limits::LoginLimiter>,
    /// Password checks running at once (each takes ~19 MiB and a core):
    /// beyond these, a sign-in is answered 503 at once.
    pub password_checks: Arc<Semaphore>,
    /// XLSX exports being assembled at once (each holds a core and temporary
    /// files until its reader has it all).
    pub xlsx_exports: Arc<Semaphore>,
    /// Raw response exports being read at once: each holds a database
    /// connection of its own, outside the pool, for as long as its reader
    /// takes; beyond these, a raw export is answered 503 at once.
    pub raw_exports: Arc<Semaphore>,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    /// Site configurations for the public routes.
    pub sites: Arc<cache::SiteCache>,
}

/// Raw response exports read at once.
pub const RAW_EXPORTS: usize = 4;

/// Server settings beyond the database.
#[derive(Clone, Debug)]
pub struct Settings {
    pub rate_limits: limits::RateLimits,
    pub login_limits: limits::LoginLimits,
    /// Behind this many trusted reverse proxies, each appending the address
    /// it saw to `X-Forwarded-For`: the client is the entry that many from
    /// the right (what the outermost trusted proxy saw). 0: no proxy; the
    /// header is ignored and the socket's address is the client.
    pub trusted_proxies: usize,
    /// A client must send a request's headers within this.
    pub header_timeout: Duration,
    /// A request's body must keep arriving: at most this between its parts.
    pub body_timeout: Duration,
    /// Connections served at once; more are closed on arrival.
    pub max_connections: usize,
    /// `GET /metrics` needs `Authorization: Bearer <this>`; without one it is
    /// not served on the public address (see `touchpoint serve --metrics-addr`).
    pub metrics_token: Option<String>,
    /// How alerts are delivered, and which destinations a site may have.
    pub alerts: crate::alerts::AlertSettings,
    /// Sites one account may administer and still create another through
    /// `POST /v1/sites` (0: only the operator creates sites).
    pub sites_per_account: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rate_limits: limits::RateLimits::default(),
            login_limits: limits::LoginLimits::default(),
            trusted_proxies: 0,
            header_timeout: Duration::from_secs(10),
            body_timeout: Duration::from_secs(30),
            max_connections: 512,
            metrics_token: None,
            alerts: crate::alerts::AlertSettings::default(),
            sites_per_account: 20,
        }
    }
}

/// Password checks allowed at once: one per core, at least one.
pub fn password_check_permits() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

impl AppState {
    /// State with default settings; starts the group commit's writer.
    pub fn new(store: Store) -> AppState {
        AppState::with_settings(store, Settings::default())
    }

    pub fn with_settings(store: Store, settings: Settings) -> AppState {
        AppState(Arc::new(Shared {
            committer: commit::Committer::spawn(store.clone()),
            limiter: Arc::new(limits::RateLimiter::new(settings.rate_limits)),
            login_limiter: Arc::new(limits::LoginLimiter::new(settings.login_limits)),
            password_checks: Arc::new(Semaphore::new(password_check_permits())),
            xlsx_exports: Arc::new(Semaphore::new(2)),
            raw_exports: Arc::new(Semaphore::new(RAW_EXPORTS)),
            settings: Arc::new(settings),
            metrics: Arc::default(),
            sites: Arc::default(),
            store,
        }))
    }

    /// The client's address, used in memory for rate limits only (see
    /// [`client_from`]).
    pub fn client_address(&self, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
        client_from(self.settings.trusted_proxies, headers, peer)
    }
}

/// The client's address: the socket's peer, or behind `hops` trusted
/// proxies the address the outermost of them appended to
/// `X-Forwarded-For` (that many entries from the right). Entries to its
/// left are the client's own claims and are never believed.
pub fn client_from(hops: usize, headers: &HeaderMap, peer: Option<SocketAddr>) -> Option<IpAddr> {
    if hops > 0 {
        let forwarded: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        if let Some(ip) = forwarded
            .len()
            .checked_sub(hops)
            .and_then(|i| forwarded[i].parse().ok())
        {
            return Some(ip);
        }
    }
    peer.map(|addr| addr.ip())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(hops: usize, xff: &[&str]) -> Option<String> {
        let mut headers = HeaderMap::new();
        for v in xff {
            headers.append("x-forwarded-for", v.parse().unwrap());
        }
        client_from(hops, &headers, Some("10.0.0.2:4000".parse().unwrap())).map(|ip| ip.to_string())
    }

    #[test]
    fn the_client_is_what_the_trusted_proxy_saw() {
        let peer = Some("10.0.0.2".to_owned());
        // No proxy: the header is the client's claim, ignored.
        assert_eq!(client(0, &["203.0.113.9"]), peer);
        // One proxy appends what it saw: the rightmost entry. What the client
        // wrote to its left changes nothing.
        assert_eq!(
            client(1, &["198.51.100.77, 203.0.113.9"]),
            Some("203.0.113.9".into())
        );
        assert_eq!(
            client(1, &["1.2.3.4", "203.0.113.9"]),
            Some("203.0.113.9".into())
        );
        // Two proxies: the second from the right.
        assert_eq!(
            client(2, &["6.6.6.6, 203.0.113.9, 10.0.0.7"]),
            Some("203.0.113.9".into())
        );
        // Fewer entries than proxies, or garbage: the socket's peer.
        assert_eq!(client(2, &["203.0.113.9"]), peer);
        assert_eq!(client(1, &["not-an-address"]), peer);
    }
}
