//! Running the application on a socket, and the work a running server does
//! besides answering requests (the retention purge).
//!
//! The accept loop is ours rather than `axum::serve`'s so that a stranger
//! with a loop cannot hold the server: a client must send a request's
//! headers within [`Settings::header_timeout`] (also while a kept-alive
//! connection waits for its next request), a body may not pause for longer
//! than [`Settings::body_timeout`], and at most
//! [`Settings::max_connections`] are served at once — one more is closed on
//! arrival, so the process never runs out of file descriptors and a
//! well-behaved client gets in as soon as a slot frees up.
//!
//! [`Settings::header_timeout`]: crate::state::Settings::header_timeout
//! [`Settings::body_timeout`]: crate::state::Settings::body_timeout
//! [`Settings::max_connections`]: crate::state::Settings::max_connections

use crate::routes::app;
use crate::state::AppState;
use crate::store::Store;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Serves `app` on a bound listener until `shutdown` resolves, then stops
/// accepting and lets the requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let settings = state.settings.clone();
    let metrics = state.metrics.clone();
    let router = app(state).layer(RequestBodyTimeoutLayer::new(settings.body_timeout));
    let slots = Arc::new(Semaphore::new(settings.max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_timeout);
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before it was
                    // taken: wait a moment rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            metrics.connection_refused();
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let conn = http.serve_connection(TokioIo::new(stream), service(router.clone(), peer));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The router as a hyper service for one connection, each request knowing
/// the connection's peer (`ConnectInfo`).
fn service(
    router: Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        request.extensions_mut().insert(ConnectInfo(peer));
        router.clone().oneshot(request.map(axum::body::Body::new))
    })
}

/// Serves `/metrics` alone, without a token, on a listener of its own (an
/// address only the monitoring system reaches).
pub async fn serve_metrics(listener: tokio::net::TcpListener, state: AppState) {
    let router = crate::routes::ops::metrics_router(state);
    if let Err(e) = axum::serve(listener, router).await {
        tracing::error!(error = %e, "the metrics listener stopped");
    }
}

/// Purges events past their site's retention now and then every hour,
/// for as long as the runtime lives.
pub fn spawn_retention(store: Store) {
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every.tick().await;
            match store.purge_expired(::time::OffsetDateTime::now_utc()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(deleted = n, "retention: purged expired events"),
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    });
}
