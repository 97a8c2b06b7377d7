//! The private reports of a site: `GET /v1/sites/{key}/aggregates`, and the
//! exports `export.{csv,ndjson,xlsx}` (aggregates) and
//! `responses.{csv,ndjson,xlsx}` (raw responses), streamed.

use crate::aggregate::aggregate;
use crate::auth::authorize;
use crate::error::{Error, Result};
use crate::export::{Export, Format};
use crate::filters::{FilterArgs, parse_group_by};
use crate::state::AppState;
use crate::store::Role;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use touchpoint_wire::Aggregates;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/sites/{key}/aggregates", get(get_aggregates))
        .route("/v1/sites/{key}/{file}", get(get_export))
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
    let group_by = parse_group_by(q.group_by.as_deref(), &site.config.attributes)?;
    let zone = site.config.zone();
    let filter = q.filter.parse(&zone)?;
    Ok(Json(Aggregates {
        group_by: group_by.iter().map(|g| g.name().into_owned()).collect(),
        rows: aggregate(&state.store, site.id, &zone, &group_by, &filter).await?,
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
                "no such export (export or responses, as .csv, .ndjson or .xlsx)",
            )
        })?;
    let q = query(q)?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let group_by = match what {
        "responses" => None,
        _ => Some(parse_group_by(
            q.group_by.as_deref(),
            &site.config.attributes,
        )?),
    };
    // An XLSX workbook is assembled before it is sent (a zip of the
    // sheets), on a core and in temporary files: a few at a time.
    let slot = match format {
        Format::Xlsx => Some(state.xlsx_exports.clone().try_acquire_owned().map_err(|_| {
            Error::Busy("XLSX exports are being prepared for others; try again shortly, or take CSV".into())
        })?),
        _ => None,
    };
    // A raw export reads on a connection of its own: a few at a time, so
    // one reader with a loop cannot take the database's connections.
    let raw_slot = match group_by {
        None => Some(state.raw_exports.clone().try_acquire_owned().map_err(|_| {
            Error::Busy("raw exports are being read for others; try again shortly".into())
        })?),
        Some(_) => None,
    };
    let zone = site.config.zone();
    let prepared = Export {
        site_id: site.id,
        group_by,
        filter: q.filter.parse(&zone)?,
        zone,
        format,
        bom: matches!(q.bom.as_deref(), Some("1" | "true" | "yes")),
    }
    .prepare(&state.store)
    .await?;
    let (chunks, body) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    let store = state.store.clone();
    let metrics = state.metrics.clone();
    tokio::spawn(async move {
        let _slot = slot;
        let _raw_slot = raw_slot;
        let result: Result<()> = async {
            let mut w = prepared.start(&store, Vec::new())?;
            while w.next_page().await? {
                // An XLSX workbook is sent whole at the end; the others page
                // by page. Either way, a reader that went away ends it.
                let gone = if format == Format::Xlsx {
                    chunks.is_closed()
                } else {
                    let chunk = std::mem::take(w.out_mut());
                    chunks.send(Ok(chunk)).await.is_err()
                };
                if gone {
                    metrics.export_abandoned();
                    return Ok(());
                }
            }
            // Assembling a workbook is blocking work: off the async threads.
            let table = w.into_table();
            let rest = tokio::task::spawn_blocking(move || table.finish())
                .await
                .map_err(|e| Error::Internal(e.to_string()))??;
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
