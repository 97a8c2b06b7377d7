//! Per-site routes: the public widget configuration and the private
//! aggregates and exports.

use crate::AppState;
use crate::aggregate::{parse_group_by, parse_range, rows};
use crate::auth::authorize;
use crate::error::{Error, Result};
use crate::export::{self, Format};
use crate::storage::Role;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use touchpoint_wire::{Aggregates, WidgetConfig};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{key}/aggregates", get(get_aggregates))
        .route("/v1/sites/{key}/{file}", get(get_export))
        .route(
            "/v1/sites/{key}/visitors/{visitor}",
            get(get_visitor).delete(delete_visitor),
        )
}

/// The widget's configuration route, mounted with the public CORS policy.
pub fn get_config_route() -> axum::routing::MethodRouter<AppState> {
    get(get_config)
}

/// The widget's configuration: public, cached briefly, revalidated by ETag.
async fn get_config(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let site =
        state.store.site_by_key(&key).await?.ok_or_else(|| {
            Error::not_found("unknown_site", format!("no site has the key {key:?}"))
        })?;
    let config = WidgetConfig {
        site: site.key,
        stages: site.config.stages,
        touchpoints: site.config.touchpoints,
        widget: crate::assets::widget(),
    };
    let body = serde_json::to_vec(&config).map_err(|e| Error::Internal(e.to_string()))?;
    let digest = Sha256::digest(&body);
    let etag = format!(
        "\"{}\"",
        digest[..12]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let cache = [
        (
            header::ETAG,
            HeaderValue::from_str(&etag).map_err(|e| Error::Internal(e.to_string()))?,
        ),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=60, stale-while-revalidate=600"),
        ),
    ];
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    if fresh {
        return Ok((StatusCode::NOT_MODIFIED, cache).into_response());
    }
    Ok((
        cache,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct AggregateQuery {
    group_by: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

async fn get_aggregates(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    query: Result<Query<AggregateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Aggregates>> {
    let Query(q) = query.map_err(|e| Error::bad_request("invalid_query", e.body_text()))?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let group_by = parse_group_by(q.group_by.as_deref())?;
    let range = parse_range(q.from.as_deref(), q.to.as_deref())?;
    let counts = state
        .store
        .aggregate_counts(site.id, &group_by, &range)
        .await?;
    Ok(Json(Aggregates {
        group_by: group_by.iter().map(|g| g.as_str().to_owned()).collect(),
        rows: rows(&group_by, counts),
    }))
}

/// `export.csv`, `export.ndjson` (aggregates) and `responses.csv`,
/// `responses.ndjson` (raw responses).
async fn get_export(
    State(state): State<AppState>,
    Path((key, file)): Path<(String, String)>,
    headers: HeaderMap,
    query: Result<Query<AggregateQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response> {
    let (what, format) = match file.as_str() {
        "export.csv" => ("export", Format::Csv),
        "export.ndjson" => ("export", Format::Ndjson),
        "responses.csv" => ("responses", Format::Csv),
        "responses.ndjson" => ("responses", Format::Ndjson),
        _ => {
            return Err(Error::not_found(
                "not_found",
                format!("no such export: {file:?}"),
            ));
        }
    };
    let Query(q) = query.map_err(|e| Error::bad_request("invalid_query", e.body_text()))?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let range = parse_range(q.from.as_deref(), q.to.as_deref())?;
    let body = if what == "export" {
        let group_by = parse_group_by(q.group_by.as_deref())?;
        let counts = state
            .store
            .aggregate_counts(site.id, &group_by, &range)
            .await?;
        export::aggregates(format, &group_by, &rows(&group_by, counts))
    } else {
        export::responses(format, &state.store.responses(site.id, &range).await?)
    };
    let disposition = format!("attachment; filename=\"{}-{file}\"", site.key);
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(format.content_type()),
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
        body.push_str(&event.to_string());
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
) -> Result<Json<serde_json::Value>> {
    let site = authorize(&state, &headers, &key, Role::Admin).await?;
    let deleted = state.store.delete_visitor(site.id, &visitor).await?;
    tracing::info!(site = %site.key, deleted, "visitor data deleted");
    Ok(Json(serde_json::json!({ "deleted": deleted })))
}
