//! A site's configuration through the API: `GET /v1/sites/{key}/site`
//! (viewer; `site.toml` as the TOML site file) and `PUT` (editor), in the
//! shape of the site file. Alert
//! secrets are shown masked (`…xyz9`); a document sent back with them
//! masked keeps the stored ones. Viewers see destinations' hosts only.

use crate::auth::{authorize_role, authorize_write_role};
use crate::error::{Error, Result};
use crate::extract::read_body;
use crate::site_file;
use crate::state::AppState;
use crate::store::Role;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use touchpoint_wire::{SiteApplied, SiteDocument};

/// Largest site document accepted.
pub const MAX_SITE_BYTES: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{key}/site", get(get_site).put(put_site))
        .route("/v1/sites/{key}/site.toml", get(get_site_toml))
}

/// The site's whole configuration, in the shape of the site file (as JSON).
async fn get_site(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SiteDocument>> {
    Ok(Json(shown_document(&state, &headers, &key).await?))
}

/// The site's configuration as a viewer or an editor may see it.
async fn shown_document(state: &AppState, headers: &HeaderMap, key: &str) -> Result<SiteDocument> {
    let (site, granted) = authorize_role(state, headers, key, Role::Viewer).await?;
    let mut doc = site.to_document();
    site_file::alert::mask_secrets(&mut doc);
    if granted < Role::Editor {
        site_file::alert::mask_urls(&mut doc);
    }
    Ok(doc)
}

/// The same document as the TOML site file `touchpoint apply` (and `PUT`
/// with a `toml` content type) reads back; downloaded as `{key}.toml`.
async fn get_site_toml(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<axum::response::Response> {
    use axum::response::IntoResponse;
    let doc = shown_document(&state, &headers, &key).await?;
    let text = site_file::to_toml(&doc).map_err(|e| Error::Internal(e.to_string()))?;
    let disposition = format!(
        "attachment; filename=\"{}.toml\"",
        key.replace(
            |c: char| !c.is_ascii_alphanumeric() && c != '_' && c != '-',
            "_"
        )
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/toml; charset=utf-8".to_owned(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        text,
    )
        .into_response())
}

#[derive(Debug, Default, Deserialize)]
struct PutQuery {
    /// Lowering the retention deletes history: the request must say how
    /// many events it agrees to delete, as the refusal counted them.
    confirm_purge: Option<u64>,
}

/// Replaces the site's configuration (editor role), with the validation of
/// `touchpoint apply`. The body is the site file as JSON, or as TOML with a
/// `toml` content type. The key cannot change; answers `{"key", "changed"}`.
///
/// Lowering `retention_days` erases history, so it needs the admin role
/// (as deleting a visitor does), and when events would go, the request must
/// confirm their number (`?confirm_purge=N`, N from the 409 that counts
/// them): nothing is purged on a change nobody saw the cost of.
async fn put_site(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    query: Result<Query<PutQuery>, QueryRejection>,
    body: axum::body::Body,
) -> Result<Json<SiteApplied>> {
    let Query(query) = query.map_err(|e| Error::bad_request("invalid_query", e.body_text()))?;
    let (site, granted) = authorize_write_role(&state, &headers, &key, Role::Editor).await?;
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
                    "site.key: differs from the site being changed ({:?}); keys cannot change",
                    site.key
                ),
            ));
        }
        _ => file.site.key = Some(site.key.clone()),
    }
    // Alert secrets come back masked (as GET shows them): keep the stored
    // ones. Destinations must be public, unless the operator says otherwise.
    site_file::alert::restore_secrets(&mut file, &site.config.alerts)?;
    crate::alerts::check_destinations(&file.alert, state.settings.alerts.allow_private).await?;
    let retention = i64::from(file.site.retention_days);
    if retention < site.retention_days {
        if granted < Role::Admin {
            return Err(Error::forbidden(
                "insufficient_role",
                format!(
                    "site.retention_days: lowering it ({} → {retention} days) deletes history and needs the admin role",
                    site.retention_days
                ),
            ));
        }
        let cutoff = time::OffsetDateTime::now_utc() - time::Duration::days(retention);
        let doomed = state.store.count_events_before(site.id, cutoff).await?;
        if doomed > 0 && query.confirm_purge != Some(doomed) {
            return Err(Error::Conflict {
                code: "confirm_purge",
                message: format!(
                    "site.retention_days: {retention} days (now {}) deletes {doomed} events at the next purge; \
                     to go ahead, send the same request with ?confirm_purge={doomed}",
                    site.retention_days
                ),
            });
        }
    }
    let (key, changed) = state.store.apply_site(&file, || site.key.clone()).await?;
    state.sites.invalidate(&key);
    if changed {
        tracing::info!("site configuration changed through the API");
    }
    Ok(Json(SiteApplied { key, changed }))
}
