//! For operators: `GET /healthz` (the process answers), `GET /readyz` (and
//! its database), `GET /metrics` (Prometheus) and `GET /openapi.json`.

use crate::error::Error;
use crate::openapi;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(get_ready))
        .route("/metrics", get(get_metrics))
        .route(
            "/openapi.json",
            get(|| async { axum::Json(openapi::document()) }),
        )
}

/// Ready when the database answers; 503 otherwise (take this instance out
/// of the load balancer).
async fn get_ready(State(state): State<AppState>) -> Result<&'static str, Error> {
    state.store.ping().await.map(|()| "ready").map_err(|e| {
        tracing::warn!(error = %e, "not ready: the database does not answer");
        Error::Unavailable("the database does not answer".into())
    })
}

async fn get_metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(state.store.pool_stats()),
    )
}
