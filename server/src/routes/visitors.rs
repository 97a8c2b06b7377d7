//! A visitor's rights: `GET /v1/sites/{key}/visitors/{id}` (their data,
//! as NDJSON) and `DELETE` (erasure). Both need the admin role.

use crate::auth::{authorize, authorize_write};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::Role;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use touchpoint_wire::Deleted;

pub fn router() -> Router<AppState> {
    Router::new().route(
        "/v1/sites/{key}/visitors/{visitor}",
        get(get_visitor).delete(delete_visitor),
    )
}

/// A visitor's data request: everything stored with this visitor id, as
/// NDJSON. Needs the admin role.
async fn get_visitor(
    State(state): State<AppState>,
    Path((key, visitor)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response> {
    let site = authorize(&state, &headers, &key, Role::Admin).await?;
    let mut body = String::new();
    for event in state.store.visitor_events(site.id, &visitor).await? {
        body.push_str(&serde_json::to_string(&event).map_err(|e| Error::Internal(e.to_string()))?);
        body.push('\n');
    }
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// A visitor's erasure request: deletes everything stored with this visitor
/// id. Needs the admin role. Answers `{"deleted": n}`.
async fn delete_visitor(
    State(state): State<AppState>,
    Path((key, visitor)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<Deleted>> {
    let site = authorize_write(&state, &headers, &key, Role::Admin).await?;
    let deleted = state.store.delete_visitor(site.id, &visitor).await?;
    tracing::info!(deleted, "visitor data deleted");
    Ok(Json(Deleted { deleted }))
}
