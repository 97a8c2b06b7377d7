//! `GET /v1/sites/{key}/config`: what the loader and the widget need,
//! public (any page may embed the script tag), cached briefly and
//! revalidated by ETag.

use crate::error::{Error, Result};
use crate::site_file::is_site_key;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use sha2::{Digest, Sha256};
use touchpoint_wire::WidgetConfig;

/// The route, mounted with the public CORS policy.
pub fn route() -> MethodRouter<AppState> {
    get(get_config)
}

/// The widget's configuration: public, cached briefly, revalidated by ETag.
async fn get_config(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let unknown = || Error::not_found("unknown_site", "no site has this key");
    if !is_site_key(&key) {
        return Err(unknown());
    }
    let site = state
        .sites
        .get(&state.store, &key)
        .await?
        .ok_or_else(unknown)?;
    let config = WidgetConfig {
        site: site.key.clone(),
        contact_days: site.config.contact_days,
        respect_gpc: site.config.respect_gpc,
        theme: site.config.theme.clone(),
        stages: site.config.stages.clone(),
        touchpoints: site.config.touchpoints.clone(),
        outcomes: site.config.outcomes.iter().map(|o| o.id.clone()).collect(),
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
