//! A site's configuration through the API: `GET /v1/sites/{key}/site`
//! (viewer) and `PUT` (editor), in the shape of the site file.

use crate::auth::{authorize, authorize_write};
use crate::error::{Error, Result};
use crate::extract::read_body;
use crate::site_file;
use crate::state::AppState;
use crate::store::Role;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::routing::get;
use axum::{Json, Router};
use touchpoint_wire::{SiteApplied, SiteDocument};

/// Largest site document accepted.
pub const MAX_SITE_BYTES: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sites/{key}/site", get(get_site).put(put_site))
}

/// The site's whole configuration, in the shape of the site file (as JSON).
async fn get_site(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SiteDocument>> {
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    Ok(Json(site.to_document()))
}

/// Replaces the site's configuration (editor role), with the validation of
/// `touchpoint apply`. The body is the site file as JSON, or as TOML with a
/// `toml` content type. The key cannot change; answers `{"key", "changed"}`.
async fn put_site(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<SiteApplied>> {
    let site = authorize_write(&state, &headers, &key, Role::Editor).await?;
    let toml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("toml"));
    let body = read_body(body, MAX_SITE_BYTES).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Error::bad_request("invalid_site_file", "the body is not UTF-8"))?;
    let mut file = if toml {
        site_file::parse(text)?
    } else {
        site_file::parse_json(text)?
    };
    match &file.site.key {
        Some(k) if *k != site.key => {
            return Err(Error::bad_request(
                "invalid_site_file",
                format!(
                    "site.key: {k:?} differs from the site being changed ({:?}); keys cannot change",
                    site.key
                ),
            ));
        }
        _ => file.site.key = Some(site.key.clone()),
    }
    let (key, changed) = state.store.apply_site(&file, || site.key.clone()).await?;
    state.sites.invalidate(&key);
    if changed {
        tracing::info!("site configuration changed through the API");
    }
    Ok(Json(SiteApplied { key, changed }))
}
