//! The alert delivery log: `GET /v1/sites/{key}/deliveries` (editor), the
//! most recent messages to the site's destinations, newest first, with
//! their status, attempts, last error and next attempt.

use crate::auth::authorize;
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::Role;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use touchpoint_wire::Deliveries;

/// Most messages one answer lists.
pub const MAX_LIMIT: u32 = 500;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sites/{key}/deliveries", get(get_deliveries))
}

#[derive(Debug, Deserialize)]
struct DeliveriesQuery {
    /// How many, 1 to 500 (50 by default).
    limit: Option<u32>,
}

/// Editors see the log (it names destinations' hosts and their answers);
/// viewers read numbers, not configuration.
async fn get_deliveries(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    query: Result<Query<DeliveriesQuery>, QueryRejection>,
) -> Result<Json<Deliveries>> {
    let Query(query) = query.map_err(|e| Error::bad_request("invalid_query", e.body_text()))?;
    let site = authorize(&state, &headers, &key, Role::Editor).await?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(Error::bad_request(
            "invalid_query",
            format!("limit: {limit} must be between 1 and {MAX_LIMIT}"),
        ));
    }
    Ok(Json(Deliveries {
        deliveries: state.store.deliveries(site.id, limit).await?,
    }))
}
