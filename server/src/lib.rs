//! Touchpoint's server: ingests the widget's events, stores them durably,
//! derives aggregates from them, exports them, and serves the loader and the
//! widget. `main.rs` only wires [`cli`] to a process; everything here is
//! tested without one through [`app`].
//!
//! Reading order: [`storage`] (schema in `migrations/`), [`site`],
//! [`ingest`], [`aggregate`], [`sites`], [`export`], [`import`], [`auth`], [`cli`].

pub mod aggregate;
pub mod assets;
pub mod auth;
pub mod cache;
pub mod cli;
pub mod commit;
pub mod error;
pub mod export;
pub mod import;
pub mod ingest;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod privacy;
pub mod session;
pub mod site;
pub mod sites;
pub mod storage;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, Method, header};
use axum::middleware::Next;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use storage::Store;
use tower_http::cors::{AllowOrigin, CorsLayer};

/// What every handler can reach.
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
}

/// The whole HTTP application.
pub fn app(state: AppState) -> Router {
    // Ingest and config are called from any host page; the ingest handler
    // then checks the Origin against the site's own list.
    let public_cors = CorsLayer::new()
        .allow_origin(AllowOrigin::mirror_request())
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE, header::IF_NONE_MATCH])
        .expose_headers([header::ETAG, HeaderName::from_static("retry-after")])
        .max_age(Duration::from_secs(86_400));
    let public = Router::new()
        .merge(ingest::router())
        .route("/v1/sites/{key}/config", sites::get_config_route())
        .layer(public_cors)
        .with_state(state.clone());
    let ops = Router::new()
        .route("/readyz", get(get_ready))
        .route("/metrics", get(get_metrics))
        .with_state(state.clone());
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/openapi.json",
            get(|| async { axum::Json(openapi::document()) }),
        )
        .merge(ops)
        .merge(assets::router())
        .merge(sites::router().with_state(state.clone()))
        .merge(session::router().with_state(state.clone()))
        .merge(public)
        .fallback(|| async { error::Error::not_found("not_found", "no such route") })
        .layer(axum::middleware::from_fn_with_state(state, observe))
}

/// Ready when the database answers; 503 otherwise (take this instance out
/// of the load balancer).
async fn get_ready(State(state): State<AppState>) -> Result<&'static str, error::Error> {
    state.store.ping().await.map(|()| "ready").map_err(|e| {
        tracing::warn!(error = %e, "not ready: the database does not answer");
        error::Error::Unavailable("the database does not answer".into())
    })
}

async fn get_metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(state.store.pool_stats()),
    )
}

/// Records each request's latency by route template and logs it without
/// the path itself (paths can hold keys and visitor ids), the query string,
/// the client's address or any header.
async fn observe(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> axum::response::Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(&route, &method, status, took);
    tracing::debug!(%method, %route, status, ms = took.as_secs_f64() * 1000.0, "request");
    response
}

/// Purges events past their site's retention now and then every hour,
/// for as long as the runtime lives.
pub fn spawn_retention(store: Store) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match store.purge_expired(time::OffsetDateTime::now_utc()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "retention: purged expired events"),
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    });
}

/// Serves `app` on a bound listener until `shutdown` resolves, letting
/// in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
