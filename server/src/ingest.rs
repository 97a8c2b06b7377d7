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

use crate::AppState;
use crate::error::{Error, Result};
use crate::privacy::{mask_attribute, mask_path, mask_pii};
use crate::storage::{StoredEvent, format_ts};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use std::net::{IpAddr, SocketAddr};
use touchpoint_wire::page::{normalize_page, resolve_stage};
use touchpoint_wire::{Accepted, Event, EventBatch, Kind, Metric};

/// Largest accepted body.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;
/// Most events in one batch.
pub const MAX_EVENTS: usize = 500;
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

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
    let bytes: Bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            Error::TooLarge(format!(
                "the body is larger than {MAX_BODY_BYTES} bytes; send fewer events per request"
            ))
        })?;
    let batch = decode(&bytes)?;
    let site = state
        .sites
        .get(&state.store, &batch.site)
        .await?
        .ok_or_else(|| {
            Error::not_found(
                "unknown_site",
                format!("site: no site has the key {:?}", batch.site),
            )
        })?;
    let client = client_address(
        state,
        &headers,
        parts.extensions.get::<ConnectInfo<SocketAddr>>(),
    );
    state
        .limiter
        .check(&site.key, client)
        .map_err(|wait| Error::TooManyRequests(wait.as_secs().max(1)))?;
    if let Some(origin) = headers.get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("").to_ascii_lowercase();
        if !site.origins.is_empty() && !site.origins.contains(&origin) {
            return Err(Error::forbidden(
                "origin_not_allowed",
                format!("origin {origin:?} is not in the site's origins; add it to [site].origins"),
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
    let now = time::OffsetDateTime::now_utc();
    let stored = batch
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            validate(e, &site.config, now)
                .map_err(|msg| Error::bad_request("invalid_event", format!("events[{i}].{msg}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let (accepted, duplicates) = state.committer.commit(site.id, stored).await?;
    Ok(Accepted {
        accepted,
        duplicates,
    })
}

/// The client's address, used in memory for rate limits only.
fn client_address(
    state: &AppState,
    headers: &HeaderMap,
    peer: Option<&ConnectInfo<SocketAddr>>,
) -> Option<IpAddr> {
    if state.settings.trust_proxy {
        let forwarded = headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|v| v.trim().parse().ok());
        if forwarded.is_some() {
            return forwarded;
        }
    }
    peer.map(|ConnectInfo(addr)| addr.ip())
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

/// Decodes a batch; the error names the path of the faulty field.
pub fn decode(bytes: &[u8]) -> Result<EventBatch> {
    decode_json(bytes, "the body is not a valid event batch")
        .map_err(|message| Error::bad_request("invalid_json", message))
}

/// Decodes one event (a line of `touchpoint import`); the error is
/// `"field: what is wrong"`, as for an event of a batch. The event is one
/// line, so a position in it is given as its column alone.
pub fn decode_event(bytes: &[u8]) -> Result<Event, String> {
    decode_json(bytes, "not a valid event")
        .map_err(|m| m.replace(" at line 1 column ", " at column "))
}

/// JSON into `T`; the error names the path of the faulty field, or says
/// `what` when the text as a whole is not the expected object.
fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, String> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if path == "." || path.is_empty() {
            format!("{what}: {inner}")
        } else {
            format!("{path}: {inner}")
        }
    })
}

/// Checks one event against the site's configuration and returns what is
/// stored; the error is `"field: what is wrong"`.
pub fn validate(
    e: &Event,
    config: &crate::site::SiteConfig,
    now: time::OffsetDateTime,
) -> Result<StoredEvent, String> {
    let id = normalize_uuid(&e.id).ok_or_else(|| format!("id: {:?} is not a UUID", clip(&e.id)))?;
    let page = normalize_page(&e.page)
        .ok_or_else(|| format!("page: {:?} is not an absolute http(s) URL", clip(&e.page)))?;
    if page.len() > 2048 {
        return Err("page: longer than 2048 characters".into());
    }
    // Masked before the stage is resolved, so globs see `/users/[email]`.
    let page = mask_path(&page);
    let touchpoint = match &e.touchpoint {
        Some(id) => Some(
            config
                .touchpoints
                .iter()
                .find(|t| t.id == *id)
                .ok_or_else(|| {
                    format!(
                        "touchpoint: {:?} is not a touchpoint of this site",
                        clip(id)
                    )
                })?,
        ),
        None if e.kind == Kind::Signal => None,
        None => return Err(format!("touchpoint: required for kind {}", e.kind.as_str())),
    };
    let metric = touchpoint.map(|t| t.metric);
    if let (Some(sent), Some(tp)) = (e.metric, touchpoint)
        && sent != tp.metric
    {
        return Err(format!(
            "metric: {} does not match touchpoint {:?}, which asks {}",
            sent.as_str(),
            tp.id,
            tp.metric.as_str()
        ));
    }
    let score = match (e.kind, metric.and_then(|m| m.scale().map(|s| (m, s)))) {
        (Kind::Response, Some((m, (lo, hi)))) => {
            let score = e
                .score
                .ok_or_else(|| format!("score: required for a {} response", m.as_str()))?;
            if score < lo || score > hi {
                return Err(format!(
                    "score: {score} is outside the {} scale {lo}–{hi}",
                    m.as_str()
                ));
            }
            Some(score)
        }
        (Kind::Response, None) if e.score.is_some() => {
            return Err(format!(
                "score: a {} question has no score",
                metric.map_or("signal", Metric::as_str)
            ));
        }
        (_, _) if e.score.is_some() => {
            return Err(format!(
                "score: only a response to a scored question has a score, not {}",
                e.kind.as_str()
            ));
        }
        _ => None,
    };
    let comment = match &e.comment {
        Some(_) if e.kind != Kind::Response => {
            return Err("comment: only a response has a comment".into());
        }
        Some(c) if c.chars().count() > MAX_COMMENT_CHARS => {
            return Err(format!(
                "comment: longer than {MAX_COMMENT_CHARS} characters"
            ));
        }
        Some(c) if c.trim().is_empty() => None,
        Some(c) => Some(mask_pii(c.trim())),
        None => None,
    };
    if e.kind == Kind::Response && metric == Some(Metric::Text) && comment.is_none() {
        return Err("comment: required for a text response".into());
    }
    let choices = match (&e.choices, touchpoint) {
        (Some(_), _) if e.kind != Kind::Response => {
            return Err("choices: only a response has choices".into());
        }
        (Some(list), Some(tp)) => Some(check_choices(list, tp, score)?),
        (Some(_), None) => return Err("choices: only a response has choices".into()),
        (None, _) if e.kind == Kind::Response && metric == Some(Metric::Choice) => {
            return Err("choices: required for a choice response (the picked option ids)".into());
        }
        (None, _) => None,
    };
    let signal = match (&e.signal, e.kind) {
        (Some(s), Kind::Signal) if is_word(s, 32) => Some(s.clone()),
        (Some(s), Kind::Signal) => {
            return Err(format!(
                "signal: {:?} must be 1 to 32 of a-z and _",
                clip(s)
            ));
        }
        (None, Kind::Signal) => {
            return Err("signal: required for kind signal (e.g. rage_click)".into());
        }
        (Some(_), _) => return Err("signal: only kind signal has a signal".into()),
        (None, _) => None,
    };
    let ts =
        parse_ts(&e.ts).ok_or_else(|| format!("ts: {:?} is not an RFC 3339 time", clip(&e.ts)))?;
    if ts > now + time::Duration::days(1) {
        return Err(format!("ts: {} is more than a day in the future", e.ts));
    }
    let stage = e.stage.as_deref();
    if let Some(s) = stage
        && s.len() > 64
    {
        return Err("stage: longer than 64 characters".into());
    }
    let stage = resolve_stage(&config.stages, stage, &page).to_owned();
    let token = |name: &str, v: &Option<String>, max: usize| -> Result<Option<String>, String> {
        match v {
            Some(v)
                if v.is_empty()
                    || v.len() > max
                    || !v
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') =>
            {
                Err(format!(
                    "{name}: must be 1 to {max} letters, digits, '-' or '_'"
                ))
            }
            _ => Ok(v.clone()),
        }
    };
    let attributes = match &e.attributes {
        Some(map) if map.len() > 20 => return Err("attributes: at most 20 entries".into()),
        Some(map) => {
            for (k, v) in map {
                if k.is_empty() || k.len() > 64 || v.chars().count() > 256 {
                    return Err(format!(
                        "attributes.{}: keys 1 to 64 bytes, values up to 256 characters",
                        clip(k)
                    ));
                }
            }
            let masked: std::collections::BTreeMap<&String, String> =
                map.iter().map(|(k, v)| (k, mask_attribute(v))).collect();
            Some(serde_json::to_string(&masked).map_err(|e| e.to_string())?)
        }
        None => None,
    };
    Ok(StoredEvent {
        id,
        kind: e.kind.as_str(),
        touchpoint: touchpoint.map(|t| t.id.clone()),
        page,
        stage,
        metric: metric.map(|m| m.as_str()),
        score,
        comment,
        choices,
        visitor: token("visitor", &e.visitor, 64)?,
        session: token("session", &e.session, 64)?,
        ts: format_ts(ts),
        locale: token("locale", &e.locale, 35)?,
        device: token("device", &e.device, 32)?,
        attributes,
        signal,
        gpc: e.gpc.map(i64::from),
        consent: e.consent.map(i64::from),
    })
}

/// Checks picked option ids against the question's options (a choice
/// question) or its follow-up's (a scored question); returns them as the
/// JSON array that is stored.
fn check_choices(
    list: &[String],
    tp: &touchpoint_wire::Touchpoint,
    score: Option<i64>,
) -> Result<String, String> {
    let (options, multiple) = if tp.metric == Metric::Choice {
        (&tp.options, tp.multiple)
    } else {
        match &tp.follow_up {
            Some(f) if !f.options.is_empty() && f.applies_to(score) => (&f.options, f.multiple),
            _ => {
                return Err(format!(
                    "choices: touchpoint {:?} offers no options{}",
                    tp.id,
                    if score.is_some() {
                        " after this score"
                    } else {
                        ""
                    }
                ));
            }
        }
    };
    if list.is_empty() {
        return Err("choices: pick at least one option".into());
    }
    if !multiple && list.len() > 1 {
        return Err(format!(
            "choices: touchpoint {:?} takes one option, not {}",
            tp.id,
            list.len()
        ));
    }
    for (j, c) in list.iter().enumerate() {
        if !options.iter().any(|o| o.id == *c) {
            return Err(format!(
                "choices[{j}]: {:?} is not an option of touchpoint {:?}",
                clip(c),
                tp.id
            ));
        }
        if list[..j].contains(c) {
            return Err(format!("choices[{j}]: {:?} is picked twice", clip(c)));
        }
    }
    serde_json::to_string(list).map_err(|e| e.to_string())
}

/// Lower-case hyphenated UUID, or `None`.
fn normalize_uuid(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let ok = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| {
            if matches!(i, 8 | 13 | 18 | 23) {
                *c == b'-'
            } else {
                c.is_ascii_hexdigit()
            }
        });
    ok.then(|| s.to_ascii_lowercase())
}

fn is_word(s: &str, max: usize) -> bool {
    (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

pub fn parse_ts(s: &str) -> Option<time::OffsetDateTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

/// Echoes at most 64 characters of a client's value in an error.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids() {
        assert_eq!(
            normalize_uuid("6F1C2A7E-8D4B-4C1E-9A3F-2B5D7E9F1A3C").as_deref(),
            Some("6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c")
        );
        assert_eq!(normalize_uuid("6f1c2a7e8d4b4c1e9a3f2b5d7e9f1a3c"), None);
        assert_eq!(normalize_uuid("6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3g"), None);
        assert_eq!(normalize_uuid(""), None);
    }

    #[test]
    fn decode_errors_name_the_path() {
        let err =
            decode(br#"{"site":"k","events":[{"id":"x","kind":"respond","page":"/","ts":"t"}]}"#)
                .unwrap_err()
                .to_string();
        assert!(
            err.starts_with("events[0].kind: unknown variant `respond`"),
            "{err}"
        );
        let err = decode(b"not json").unwrap_err().to_string();
        assert!(err.contains("not a valid event batch"), "{err}");
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn config() -> crate::site::SiteConfig {
            crate::site::SiteFile::parse(include_str!("../../www/demo/site.toml"))
                .unwrap()
                .config()
        }

        proptest! {
            /// No body, however broken, makes the decoder panic.
            #[test]
            fn the_decoder_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = decode(&bytes);
            }

            /// Events of the right shape with arbitrary values are either
            /// stored as valid or refused with the faulty field named; never
            /// a panic, and never a score outside its scale.
            #[test]
            fn validation_names_the_field_or_stores_in_scale(
                kind in prop_oneof![Just("impression"), Just("response"), Just("dismiss"), Just("signal")],
                score in proptest::option::of(-5i64..20),
                page in ".{0,40}",
                ts in prop_oneof![Just("2026-11-20T10:00:00Z".to_owned()), ".{0,30}"],
                comment in proptest::option::of(".{0,60}"),
                visitor in proptest::option::of("[ -~]{0,70}"),
            ) {
                let event = serde_json::json!({
                    "id": "6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c", "kind": kind, "touchpoint": "site-nps",
                    "page": page, "ts": ts, "score": score, "comment": comment, "visitor": visitor,
                });
                let Ok(event) = serde_json::from_value::<Event>(event) else { return Ok(()) };
                match validate(&event, &config(), time::OffsetDateTime::now_utc()) {
                    Ok(stored) => {
                        prop_assert!(stored.page.starts_with('/'));
                        if let Some(s) = stored.score {
                            prop_assert!((0..=10).contains(&s));
                        }
                    }
                    Err(message) => {
                        let field = message.split(':').next().unwrap();
                        prop_assert!(
                            ["id", "page", "touchpoint", "score", "comment", "signal", "ts", "visitor", "stage"].contains(&field),
                            "unexpected field in {}", message
                        );
                    }
                }
            }
        }
    }
}
