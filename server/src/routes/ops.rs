//! For operators: `GET /healthz` (the process answers), `GET /readyz` (and
//! its database), `GET /metrics` (Prometheus; with the operator's metrics
//! token, or on a separate address) and `GET /openapi.json`.

use crate::auth::constant_time_eq;
use crate::error::Error;
use crate::openapi;
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
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

/// `/metrics` on the public address: only with the operator's metrics
/// token (`--metrics-token`); without one configured it is not there at all.
async fn get_metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.settings.metrics_token else {
        return Error::not_found("not_found", "no such route").into_response();
    };
    let sent = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if !constant_time_eq(sent.trim().as_bytes(), expected.as_bytes()) {
        return Error::Unauthorized(
            "send the metrics token as `Authorization: Bearer <token>`".into(),
        )
        .into_response();
    }
    metrics_text(&state).into_response()
}

/// `/metrics` alone, without a token, for a separate listener.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|State(state): State<AppState>| async move { metrics_text(&state) }),
        )
        .with_state(state)
}

fn metrics_text(state: &AppState) -> impl IntoResponse + use<> {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(state.store.pool_stats()),
    )
}
