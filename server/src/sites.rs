//! Per-site routes: the public widget configuration and the private
//! aggregates and exports.

use crate::AppState;
use crate::aggregate::{FilterArgs, aggregate, parse_group_by};
use crate::auth::{authorize, authorize_write};
use crate::error::{Error, Result};
use crate::export::{self, Format, ResponsePages, TableWriter};
use crate::site::SiteFile;
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
        .route("/v1/sites/{key}/site", get(get_site).put(put_site))
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
        state.sites.get(&state.store, &key).await?.ok_or_else(|| {
            Error::not_found("unknown_site", format!("no site has the key {key:?}"))
        })?;
    let config = WidgetConfig {
        site: site.key.clone(),
        contact_days: site.config.contact_days,
        respect_gpc: site.config.respect_gpc,
        theme: site.config.theme.clone(),
        stages: site.config.stages.clone(),
        touchpoints: site.config.touchpoints.clone(),
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
struct ExportQuery {
    group_by: Option<String>,
    #[serde(flatten)]
    filter: FilterArgs,
    /// `bom=1`: start a CSV with a UTF-8 byte-order mark (for Excel).
    bom: Option<String>,
}

type QueryResult = Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>;

fn query(q: QueryResult) -> Result<ExportQuery> {
    q.map(|Query(q)| q)
        .map_err(|e| Error::bad_request("invalid_query", e.body_text()))
}

async fn get_aggregates(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: QueryResult,
) -> Result<Json<Aggregates>> {
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let group_by = parse_group_by(q.group_by.as_deref())?;
    let filter = q.filter.parse()?;
    Ok(Json(Aggregates {
        group_by: group_by.iter().map(|g| g.as_str().to_owned()).collect(),
        rows: aggregate(&state.store, site.id, &group_by, &filter).await?,
    }))
}

/// `export.{csv,ndjson,xlsx}` (aggregates) and `responses.{csv,ndjson,xlsx}`
/// (raw responses), streamed: rows are fetched a page at a time and sent as
/// they are written, so memory stays flat in the row count.
async fn get_export(
    State(state): State<AppState>,
    Path((key, file)): Path<(String, String)>,
    headers: HeaderMap,
    q: QueryResult,
) -> Result<Response> {
    let (what, format) = file
        .split_once('.')
        .and_then(|(what, ext)| Some((what, Format::from_extension(ext)?)))
        .filter(|(what, _)| matches!(*what, "export" | "responses"))
        .ok_or_else(|| {
            Error::not_found(
                "not_found",
                format!(
                    "no such export: {file:?} (export or responses, as .csv, .ndjson or .xlsx)"
                ),
            )
        })?;
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = q.filter.parse()?;
    let bom = matches!(q.bom.as_deref(), Some("1" | "true" | "yes"));
    let raw = what == "responses";
    let group_by = if raw {
        Vec::new()
    } else {
        parse_group_by(q.group_by.as_deref())?
    };
    // Aggregates are computed before answering, so a bad request still gets a clean 4xx.
    let aggregate_rows = if raw {
        Vec::new()
    } else {
        aggregate(&state.store, site.id, &group_by, &filter).await?
    };
    let columns = if raw {
        export::response_columns()
    } else {
        export::aggregate_columns(&group_by)
    };
    let (chunks, body) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let store = state.store.clone();
    let site_id = site.id;
    tokio::spawn(async move {
        let result: Result<()> = async {
            let mut w = TableWriter::new(format, Vec::new(), columns, bom)?;
            if raw {
                let mut pages = ResponsePages::new(&store, site_id, filter);
                while let Some(page) = pages.next().await? {
                    for r in &page {
                        export::write_response(&mut w, r)?;
                    }
                    if format != Format::Xlsx {
                        let chunk = std::mem::take(w.out_mut());
                        if chunks.send(Ok(chunk)).await.is_err() {
                            return Ok(()); // the client went away
                        }
                    }
                }
            } else {
                export::write_aggregates(&mut w, &group_by, &aggregate_rows)?;
            }
            let rest = w.finish()?;
            let _ = chunks.send(Ok(rest)).await;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "export failed mid-stream");
            let _ = chunks
                .send(Err(std::io::Error::other("export failed")))
                .await;
        }
    });
    let stream = futures_util::stream::unfold(body, |mut body| async move {
        body.recv().await.map(|c| (c, body))
    });
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
        axum::body::Body::from_stream(stream),
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
    let site = authorize_write(&state, &headers, &key, Role::Admin).await?;
    let deleted = state.store.delete_visitor(site.id, &visitor).await?;
    tracing::info!(site = %site.key, deleted, "visitor data deleted");
    Ok(Json(serde_json::json!({ "deleted": deleted })))
}

/// The site's whole configuration, in the shape of the site file (as JSON).
async fn get_site(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Json<SiteFile>> {
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    Ok(Json(site.to_file()))
}

/// Replaces the site's configuration (editor role), with the validation of
/// `touchpoint apply`. The body is the site file as JSON, or as TOML with a
/// `toml` content type. The key cannot change; answers `{"key", "changed"}`.
async fn put_site(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<serde_json::Value>> {
    let site = authorize_write(&state, &headers, &key, Role::Editor).await?;
    let toml = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("toml"));
    let text = std::str::from_utf8(&body)
        .map_err(|_| Error::bad_request("invalid_site_file", "the body is not UTF-8"))?;
    let mut file = if toml {
        SiteFile::parse(text)?
    } else {
        let de = &mut serde_json::Deserializer::from_str(text);
        let mut file: SiteFile = serde_path_to_error::deserialize(de).map_err(|e| {
            Error::bad_request("invalid_site_file", format!("{}: {}", e.path(), e.inner()))
        })?;
        file.validate()?;
        file
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
        tracing::info!(site = %key, "site configuration changed through the API");
    }
    Ok(Json(serde_json::json!({ "key": key, "changed": changed })))
}
