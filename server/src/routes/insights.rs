//! The read side beyond rows: `GET /v1/sites/{key}/journey` (the journey
//! map) and `GET /v1/sites/{key}/trends` (one touchpoint over time). Both
//! for viewers, both read from the rollups.

use crate::auth::authorize;
use crate::error::{Error, Result};
use crate::filters::parse_range;
use crate::insights::{Interval, journey, trends};
use crate::state::AppState;
use crate::store::Role;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use touchpoint_wire::{Journey, Trends};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{key}/journey", get(get_journey))
        .route("/v1/sites/{key}/trends", get(get_trends))
}

#[derive(Debug, Default, Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct TrendsQuery {
    touchpoint: Option<String>,
    interval: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

fn query<T>(q: Result<Query<T>, axum::extract::rejection::QueryRejection>) -> Result<T> {
    q.map(|Query(q)| q)
        .map_err(|e| Error::bad_request("invalid_query", e.body_text()))
}

/// The site's stages in journey order, a cell per touchpoint: score,
/// interval, n, response, dismiss and frustration rates.
async fn get_journey(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Journey>> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    Ok(Json(journey(&state.store, &site, &filter).await?))
}

/// One touchpoint's score per day or week, each point compared with the
/// one before.
async fn get_trends(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<TrendsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Trends>> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let touchpoint = q
        .touchpoint
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_query",
                "touchpoint: required, the id of the touchpoint to follow",
            )
        })?;
    let interval = Interval::parse(q.interval.as_deref())?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    Ok(Json(
        trends(&state.store, &site, touchpoint, interval, &filter).await?,
    ))
}
