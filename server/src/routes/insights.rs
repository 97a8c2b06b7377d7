//! The read side beyond rows: `GET /v1/sites/{key}/journey` (the journey
//! map), `GET /v1/sites/{key}/trends` (one touchpoint over time),
//! `GET /v1/sites/{key}/priorities` (where answers fall furthest below the
//! norm) and `GET /v1/sites/{key}/drivers` (what moves the relationship
//! NPS), `GET /v1/sites/{key}/frustration` (behavioural signals beside
//! the scores) and `GET /v1/sites/{key}/outcomes` (conversion after
//! answers, by score band), the last four also as `.csv`. All for viewers; all but drivers read
//! from the rollups (drivers need visitors, so read raw responses).

use crate::auth::authorize;
use crate::drivers::{self, drivers};
use crate::error::{Error, Result};
use crate::filters::parse_range;
use crate::frustration::{self, By, frustration};
use crate::insights::{Interval, journey, trends};
use crate::outcomes::{self, outcomes};
use crate::priorities::{self, priorities};
use crate::state::AppState;
use crate::store::{Role, Site};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use touchpoint_wire::{Drivers, Frustration, Journey, Outcomes, Priorities, Trends};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{key}/journey", get(get_journey))
        .route("/v1/sites/{key}/trends", get(get_trends))
        .route("/v1/sites/{key}/priorities", get(get_priorities))
        .route("/v1/sites/{key}/priorities.csv", get(export_priorities))
        .route("/v1/sites/{key}/drivers", get(get_drivers))
        .route("/v1/sites/{key}/drivers.csv", get(export_drivers))
        .route("/v1/sites/{key}/frustration", get(get_frustration))
        .route("/v1/sites/{key}/frustration.csv", get(export_frustration))
        .route("/v1/sites/{key}/outcomes", get(get_outcomes))
        .route("/v1/sites/{key}/outcomes.csv", get(export_outcomes))
}

#[derive(Debug, Default, Deserialize)]
struct RangeQuery {
    from: Option<String>,
    to: Option<String>,
    /// CSV only: start with a UTF-8 byte order mark (for Excel).
    bom: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct FrustrationQuery {
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bom: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct OutcomesQuery {
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bom: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct DriversQuery {
    relationship: Option<String>,
    from: Option<String>,
    to: Option<String>,
    bom: Option<String>,
}

fn bom(flag: Option<&str>) -> bool {
    matches!(flag, Some("1" | "true" | "yes"))
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

/// Touchpoints by impact: answers times the gap below the site's norm.
async fn get_priorities(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Priorities>> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    Ok(Json(priorities(&state.store, &site, &filter).await?))
}

/// `/priorities` as CSV.
async fn export_priorities(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<RangeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    let p = priorities(&state.store, &site, &filter).await?;
    csv_file(
        &site,
        "priorities.csv",
        priorities::csv(&p, bom(q.bom.as_deref()))?,
    )
}

/// Touchpoints by how much the relationship NPS differs between their
/// satisfied and unsatisfied answerers.
async fn get_drivers(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<DriversQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Drivers>> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    Ok(Json(
        drivers(&state.store, &site, q.relationship.as_deref(), &filter).await?,
    ))
}

/// `/drivers` as CSV.
async fn export_drivers(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<DriversQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    let d = drivers(&state.store, &site, q.relationship.as_deref(), &filter).await?;
    csv_file(
        &site,
        "drivers.csv",
        drivers::csv(&d, bom(q.bom.as_deref()))?,
    )
}

/// Rage clicks, dead clicks and errors per touchpoint or page, and the
/// scores of answers given after a signal against the others.
async fn get_frustration(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<FrustrationQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Frustration>> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let by = By::parse(q.group_by.as_deref())?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    Ok(Json(frustration(&state.store, &site, by, &filter).await?))
}

/// `/frustration` as CSV.
async fn export_frustration(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<FrustrationQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let by = By::parse(q.group_by.as_deref())?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    let f = frustration(&state.store, &site, by, &filter).await?;
    csv_file(
        &site,
        "frustration.csv",
        frustration::csv(&f, bom(q.bom.as_deref()))?,
    )
}

/// Conversion to an outcome after each touchpoint's answers, by score band.
async fn get_outcomes(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<OutcomesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Outcomes>> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    Ok(Json(
        outcomes(&state.store, &site, q.outcome.as_deref(), &filter).await?,
    ))
}

/// `/outcomes` as CSV.
async fn export_outcomes(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: Result<Query<OutcomesQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = parse_range(q.from.as_deref(), q.to.as_deref(), &site.config.zone())?;
    let o = outcomes(&state.store, &site, q.outcome.as_deref(), &filter).await?;
    csv_file(
        &site,
        "outcomes.csv",
        outcomes::csv(&o, bom(q.bom.as_deref()))?,
    )
}

/// A small CSV table (a row per touchpoint) as a download.
fn csv_file(site: &Site, name: &str, body: Vec<u8>) -> Result<Response> {
    let disposition = format!("attachment; filename=\"{}-{name}\"", site.key);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ),
            (
                header::CONTENT_DISPOSITION,
                HeaderValue::from_str(&disposition).map_err(|e| Error::Internal(e.to_string()))?,
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}
