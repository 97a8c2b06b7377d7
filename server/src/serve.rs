//! Running the application on a socket, and the work a running server does
//! besides answering requests (the retention purge).

use crate::routes::app;
use crate::state::AppState;
use crate::store::Store;
use std::net::SocketAddr;
use std::time::Duration;

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
