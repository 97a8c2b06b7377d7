//! A site's configuration through the API: `GET /v1/sites/{key}/site`
//! (viewer; `site.toml` as the TOML site file) and `PUT` (editor), in the
//! shape of the site file. Alert
//! secrets are shown masked (`…xyz9`); a document sent back with them
//! masked keeps the stored ones. Viewers see destinations' hosts only.
//!
//! Changes can also wait as a draft (`/draft`, editor) until someone
//! publishes them (`POST /publish`): visitors see nothing of a draft, and
//! publishing runs every check `PUT /site` runs. `POST /v1/sites` creates a
//! site for a signed-in account, which becomes its admin (at most
//! `Settings::sites_per_account` sites each).

use crate::auth::{actor, authorize_role, authorize_write_role, new_site_key, session_user};
use crate::error::{Error, Result};
use crate::extract::read_body;
use crate::site_file;
use crate::state::AppState;
use crate::store::{Role, Site};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::{HeaderMap, header};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use touchpoint_wire::{SiteApplied, SiteDocument, SiteDraft, SiteRole};

/// Largest site document accepted.
pub const MAX_SITE_BYTES: usize = 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{key}/site", get(get_site).put(put_site))
        .route("/v1/sites/{key}/site.toml", get(get_site_toml))
        .route(
            "/v1/sites/{key}/draft",
            get(get_draft).put(put_draft).delete(delete_draft),
        )
        .route("/v1/sites/{key}/publish", post(publish_draft))
        .route("/v1/sites", post(create_site))
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
    let file = read_document(&headers, body, &site).await?;
    Ok(Json(
        publish(&state, &site, granted, file, query.confirm_purge).await?,
    ))
}

/// A site document from a request's body (JSON, or TOML with a `toml`
/// content type), validated, for the site `site`: its key cannot change,
/// and masked alert secrets stand for the stored ones.
async fn read_document(
    headers: &HeaderMap,
    body: axum::body::Body,
    site: &Site,
) -> Result<SiteDocument> {
    let mut file = parse_body(headers, body).await?;
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
    site_file::alert::restore_secrets(&mut file, &site.config.alerts)?;
    Ok(file)
}

/// A validated site document from a request's body, at most
/// [`MAX_SITE_BYTES`].
async fn parse_body(headers: &HeaderMap, body: axum::body::Body) -> Result<SiteDocument> {
    let toml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("toml"));
    let body = read_body(body, MAX_SITE_BYTES).await?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| Error::bad_request("invalid_site_file", "the body is not UTF-8"))?;
    if toml {
        site_file::parse(text)
    } else {
        site_file::parse_json(text)
    }
}

/// Makes `file` the site's live configuration, as `PUT /site` and
/// publishing a draft do: alert destinations must be public (unless the
/// operator says otherwise), and a lower retention needs the admin role
/// and a confirmed count of the events it deletes.
async fn publish(
    state: &AppState,
    site: &Site,
    granted: Role,
    file: SiteDocument,
    confirm_purge: Option<u64>,
) -> Result<SiteApplied> {
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
        if doomed > 0 && confirm_purge != Some(doomed) {
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
    Ok(SiteApplied { key, changed })
}

/// The draft as the API shows it: secrets masked, with what publishing it
/// would change against the live configuration.
fn shown_draft(site: &Site, stored: Option<(String, String, String)>) -> Result<SiteDraft> {
    let Some((text, updated_at, updated_by)) = stored else {
        return Ok(SiteDraft {
            document: None,
            updated_at: None,
            updated_by: None,
            changes: Vec::new(),
        });
    };
    let mut doc: SiteDocument =
        serde_json::from_str(&text).map_err(|e| Error::Internal(e.to_string()))?;
    let changes = site_file::changes::changes(&site.to_document(), &doc);
    site_file::alert::mask_secrets(&mut doc);
    Ok(SiteDraft {
        document: Some(doc),
        updated_at: Some(updated_at),
        updated_by: Some(updated_by),
        changes,
    })
}

/// The site's draft (editor), `document: null` when there is none.
async fn get_draft(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SiteDraft>> {
    let (site, _) = authorize_role(&state, &headers, &key, Role::Editor).await?;
    let stored = state.store.draft(site.id).await?;
    Ok(Json(shown_draft(&site, stored)?))
}

/// Saves a whole site document as the draft (editor), validated as
/// `PUT /site` validates it; nothing changes for visitors.
async fn put_draft(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<SiteDraft>> {
    let (site, _) = authorize_write_role(&state, &headers, &key, Role::Editor).await?;
    // A masked secret stands for a stored one: the live configuration's,
    // or the draft's it replaces (an alert added in an earlier draft).
    let mut known = site.clone();
    if let Some((text, _, _)) = state.store.draft(site.id).await?
        && let Ok(before) = serde_json::from_str::<SiteDocument>(&text)
    {
        known.config.alerts.extend(before.alert);
    }
    let file = read_document(&headers, body, &known).await?;
    crate::alerts::check_destinations(&file.alert, state.settings.alerts.allow_private).await?;
    let text = serde_json::to_string(&file).map_err(|e| Error::Internal(e.to_string()))?;
    let by = actor(&state, &headers).await?;
    let at = state.store.save_draft(site.id, &text, &by).await?;
    Ok(Json(shown_draft(&site, Some((text, at, by)))?))
}

/// Discards the draft (editor).
async fn delete_draft(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SiteDraft>> {
    let (site, _) = authorize_write_role(&state, &headers, &key, Role::Editor).await?;
    state.store.delete_draft(site.id, None).await?;
    Ok(Json(shown_draft(&site, None)?))
}

/// Makes the draft live (editor), with every check of `PUT /site`; the
/// draft is then gone (unless someone saved a newer one meanwhile).
async fn publish_draft(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    query: Result<Query<PutQuery>, QueryRejection>,
) -> Result<Json<SiteApplied>> {
    let Query(query) = query.map_err(|e| Error::bad_request("invalid_query", e.body_text()))?;
    let (site, granted) = authorize_write_role(&state, &headers, &key, Role::Editor).await?;
    let Some((text, _, _)) = state.store.draft(site.id).await? else {
        return Err(Error::Conflict {
            code: "no_draft",
            message: "there is no draft to publish: save changes as a draft first".to_owned(),
        });
    };
    // Checked again: the rules may have changed since it was saved.
    let mut file = site_file::parse_json(&text)?;
    file.site.key = Some(site.key.clone());
    let applied = publish(&state, &site, granted, file, query.confirm_purge).await?;
    state.store.delete_draft(site.id, Some(&text)).await?;
    Ok(Json(applied))
}

/// Creates a site for the signed-in account, which becomes its admin. The
/// body is a site document (JSON, or TOML with a `toml` content type);
/// without `site.key` the server makes one.
async fn create_site(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<SiteRole>)> {
    let (user_id, _) = session_user(&state, &headers, true).await?;
    let mut file = parse_body(&headers, body).await?;
    // Nothing is stored yet: a masked secret stands for nothing.
    site_file::alert::restore_secrets(&mut file, &[])?;
    crate::alerts::check_destinations(&file.alert, state.settings.alerts.allow_private).await?;
    let key = file.site.key.clone().unwrap_or_else(new_site_key);
    file.site.key = Some(key.clone());
    state
        .store
        .create_site(&file, &key, user_id, state.settings.sites_per_account)
        .await?;
    tracing::info!("a site was created through the API");
    Ok((
        StatusCode::CREATED,
        Json(SiteRole {
            key,
            name: file.site.name,
            role: Role::Admin.as_str().to_owned(),
        }),
    ))
}
