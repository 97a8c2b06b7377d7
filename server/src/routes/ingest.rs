//! `POST /v1/events`: decode, check against the site's configuration,
//! normalise, scrub, store, and answer 202 only once the batch is committed.
//!
//! A batch is all-or-nothing: if any event is invalid, nothing is stored and
//! the 4xx names the first faulty event and field (`events[3].score: …`).
//! The widget drops the event a 4xx names (resending cannot help) and
//! retries on network errors, 429 and 5xx; ids make retries harmless.
//!
//! A response resent under its id with a `comment` or `choices` it lacked
//! (a follow-up's answer) fills them in; it counts as a duplicate and its
//! score, if different, is ignored: a visitor answers a question once.

use crate::error::{Error, Result};
use crate::extract::read_body;
use crate::site_file::is_site_key;
use crate::state::AppState;
use crate::validate::{MAX_BATCH_BYTES, MAX_EVENTS, Validator, Window, decode};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use std::net::SocketAddr;
use touchpoint_wire::Accepted;

pub fn router() -> Router<AppState> {
    Router::new().route("/v1/events", post(ingest_events))
}

async fn ingest_events(
    State(state): State<AppState>,
    request: Request,
) -> Result<impl IntoResponse> {
    let result = ingest(&state, request).await;
    match &result {
        Ok(Accepted {
            accepted,
            duplicates,
        }) => state.metrics.events_stored(*accepted, *duplicates),
        Err(e) => state.metrics.ingest_refused(e.code()),
    }
    Ok((StatusCode::ACCEPTED, Json(result?)))
}

async fn ingest(state: &AppState, request: Request) -> Result<Accepted> {
    let (parts, body) = request.into_parts();
    let headers = parts.headers;
    check_content_type(&headers)?;
    // The client's own budget first, before its body is read or its site
    // looked up: a stranger posting to keys that do not exist spends it.
    let client = state.client_address(
        &headers,
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
    );
    state
        .limiter
        .check_client(client)
        .map_err(|wait| Error::TooManyRequests(wait.as_secs().max(1)))?;
    let bytes = read_body(body, MAX_BATCH_BYTES)
        .await
        .map_err(|e| match e {
            Error::TooLarge(_) => Error::TooLarge(format!(
                "the body is larger than {MAX_BATCH_BYTES} bytes; send fewer events per request"
            )),
            other => other,
        })?;
    let batch = decode(&bytes)?;
    if !is_site_key(&batch.site) {
        return Err(Error::bad_request(
            "invalid_site_key",
            "site: a site key is 3 to 64 letters, digits, '-' or '_' (the script tag's data-site)",
        ));
    }
    let site = state
        .sites
        .get(&state.store, &batch.site)
        .await?
        .ok_or_else(|| Error::not_found("unknown_site", "site: no site has this key"))?;
    state
        .limiter
        .check(&site.key, client)
        .map_err(|wait| Error::TooManyRequests(wait.as_secs().max(1)))?;
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
        if !site.origins.is_empty() && !site.origins.contains(&origin) {
            let shown: String = origin.chars().take(100).collect();
            return Err(Error::forbidden(
                "origin_not_allowed",
                format!("origin {shown:?} is not in the site's origins; add it to [site].origins"),
            ));
        }
    }
    if batch.events.is_empty() {
        return Err(Error::bad_request(
            "empty_batch",
            "events: send at least one event",
        ));
    }
    if batch.events.len() > MAX_EVENTS {
        return Err(Error::TooLarge(format!(
            "events: {} events in one batch; at most {MAX_EVENTS}",
            batch.events.len()
        )));
    }
    let mut validator = Validator::new(&site.config, Window::now(site.retention_days));
    let stored = batch
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            validator
                .check(e)
                .map_err(|msg| Error::in_event("invalid_event", i, format!("events[{i}].{msg}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let (accepted, duplicates) = state.committer.commit(site.id, stored).await?;
    Ok(Accepted {
        accepted,
        duplicates,
    })
}

fn check_content_type(headers: &HeaderMap) -> Result<()> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let mime = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if mime == "text/plain" || mime == "application/json" {
        Ok(())
    } else {
        Err(Error::UnsupportedMediaType(format!(
            "content-type {mime:?}: send the JSON body as text/plain or application/json"
        )))
    }
}
