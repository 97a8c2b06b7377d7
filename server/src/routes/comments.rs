//! `GET /v1/sites/{key}/comments`: the answers that carry a comment, newest
//! first, a page at a time (`limit`, then `before` = the previous page's
//! `next`), filtered like every report (`from`, `to`, `page`, `stage`,
//! `touchpoint`, `metric`, `flag`), searched (`q`) or narrowed to one
//! answer (`response`, what an alert links to). For viewers. Comments were
//! masked for personal data before they were stored.

use crate::auth::authorize;
use crate::error::{Error, Result};
use crate::filters::FilterArgs;
use crate::state::AppState;
use crate::store::{CommentQuery, CommentRecord, Role};
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use touchpoint_wire::{Comment, Comments, Metric};

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/sites/{key}/comments", get(get_comments))
}

/// Most comments in one page.
pub const MAX_LIMIT: u32 = 200;
const DEFAULT_LIMIT: u32 = 50;

#[derive(Debug, Default, Deserialize)]
struct CommentsQuery {
    #[serde(flatten)]
    /// With the search, `q`.
    filter: FilterArgs,
    response: Option<String>,
    before: Option<String>,
    limit: Option<String>,
}

/// The `next` cursor of a page: its last comment's time and id.
fn cursor(c: &CommentRecord) -> String {
    format!("{}~{}", c.ts, c.id)
}

fn parse_cursor(s: &str) -> Result<(String, String)> {
    s.split_once('~')
        .filter(|(ts, id)| {
            crate::time::parse_ts(ts).is_some()
                && !id.is_empty()
                && id.len() <= 64
                && !id.contains('~')
        })
        .map(|(ts, id)| (ts.to_owned(), id.to_owned()))
        .ok_or_else(|| {
            Error::bad_request(
                "invalid_query",
                "before: pass the `next` of the previous page as it was",
            )
        })
}

async fn get_comments(
    State(state): State<AppState>,
    Path(key): Path<String>,
    headers: HeaderMap,
    q: std::result::Result<Query<CommentsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Comments>> {
    let Query(q) = q.map_err(|e| Error::bad_request("invalid_query", e.body_text()))?;
    let limit = match q.limit.as_deref() {
        None | Some("") => DEFAULT_LIMIT,
        Some(s) => s
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_LIMIT).contains(n))
            .ok_or_else(|| {
                Error::bad_request(
                    "invalid_query",
                    format!("limit: {s:?} is not a number from 1 to {MAX_LIMIT}"),
                )
            })?,
    };
    let response = q
        .response
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            if s.len() > 64 {
                Err(Error::bad_request(
                    "invalid_query",
                    "response: an answer's id has at most 64 characters",
                ))
            } else {
                Ok(s.to_lowercase())
            }
        })
        .transpose()?;
    let before = q.before.as_deref().map(parse_cursor).transpose()?;
    let site = authorize(&state, &headers, &key, Role::Viewer).await?;
    let filter = q.filter.parse(&site.config.zone())?;
    let query = CommentQuery {
        response,
        before,
        // One more than asked tells whether there is a next page.
        limit: limit + 1,
    };
    let mut rows = state.store.comments(site.id, &filter, &query).await?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next = more.then(|| rows.last().map(cursor)).flatten();
    Ok(Json(Comments {
        comments: rows
            .into_iter()
            .map(|r| Comment {
                flags: r
                    .flags
                    .as_deref()
                    .unwrap_or("")
                    .split(';')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned)
                    .collect(),
                metric: r.metric.as_deref().and_then(Metric::parse),
                id: r.id,
                ts: r.ts,
                page: r.page,
                stage: r.stage,
                touchpoint: r.touchpoint,
                score: r.score,
                comment: r.comment,
                locale: r.locale,
                device: r.device,
            })
            .collect(),
        next,
    }))
}
