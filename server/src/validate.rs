//! The rules every event passes, whichever way it comes in (`POST
//! /v1/events` or `touchpoint import`): decoded with [`decode`] or
//! [`decode_event`], checked against the site's configuration and turned
//! into what is stored (normalised page, resolved stage, masked text) by
//! [`validate`]. Errors are `"field: what is wrong"`.

use crate::error::{Error, Result};
use crate::extract::{decode_json, decode_json_at};
use crate::privacy::{mask_attribute, mask_path, mask_pii};
use crate::site_file::segments::{MAX_ATTRIBUTES, MAX_VALUE};
use crate::store::{SiteConfig, StoredEvent};
use crate::time::{format_ts, parse_ts};
use serde_path_to_error::Segment;
use touchpoint_wire::page::{normalize_page, resolve_stage};
use touchpoint_wire::{Event, EventBatch, Kind, Metric};

/// Largest accepted batch body, and so the longest line of an import.
pub const MAX_BATCH_BYTES: usize = 1024 * 1024;
/// Most events in one batch.
pub const MAX_EVENTS: usize = 500;
/// Longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

/// Decodes a batch; the error names the path of the faulty field and,
/// when it is inside one event, carries that event's index.
pub fn decode(bytes: &[u8]) -> Result<EventBatch> {
    decode_json_at(bytes, "the body is not a valid event batch").map_err(|e| {
        let mut segments = e.path.iter();
        let index = match (segments.next(), segments.next()) {
            (Some(Segment::Map { key }), Some(Segment::Seq { index })) if key == "events" => {
                Some(*index)
            }
            _ => None,
        };
        Error::BadRequest {
            code: "invalid_json",
            message: e.message,
            index,
        }
    })
}

/// Decodes one event (a line of `touchpoint import`); the error is
/// `"field: what is wrong"`, as for an event of a batch. The event is one
/// line, so a position in it is given as its column alone.
pub fn decode_event(bytes: &[u8]) -> Result<Event, String> {
    decode_json(bytes, "not a valid event")
        .map_err(|m| m.replace(" at line 1 column ", " at column "))
}

/// The times an event may carry: no older than the site keeps events (an
/// older one would only be purged), no more than a day ahead of `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub now: time::OffsetDateTime,
    pub retention_days: i64,
}

impl Window {
    pub fn new(retention_days: i64, now: time::OffsetDateTime) -> Window {
        Window {
            now,
            retention_days,
        }
    }

    /// For events arriving now at a site that keeps them `retention_days`.
    pub fn now(retention_days: i64) -> Window {
        Window::new(retention_days, time::OffsetDateTime::now_utc())
    }

    fn oldest(&self) -> time::OffsetDateTime {
        self.now - time::Duration::days(self.retention_days)
    }
}

/// Text PostgreSQL cannot store (NUL) is refused field by field, on both
/// databases, so one event cannot fail another's commit.
fn storable(name: &str, value: &str) -> Result<(), String> {
    if value.contains('\0') {
        return Err(format!(
            "{name}: contains a NUL character (\\u0000), which cannot be stored"
        ));
    }
    Ok(())
}

/// Checks one event against the site's configuration and returns what is
/// stored; the error is `"field: what is wrong"`. For the events of one
/// batch, [`Validator`] does the same with less work.
pub fn validate(e: &Event, config: &SiteConfig, window: Window) -> Result<StoredEvent, String> {
    Validator::new(config, window).check(e)
}

/// Validates the events of one batch (or of an import) against one site
/// configuration: what [`validate`] does, with the page of the event
/// before remembered. A batch's events mostly come from one page view, and
/// normalising and masking a page and matching it against the stages'
/// globs cost more than the rest of the checks together.
pub struct Validator<'a> {
    config: &'a SiteConfig,
    window: Window,
    last: Option<Page>,
}

/// A page as sent, as stored, and the stage its path resolves to when the
/// event declares none.
struct Page {
    sent: String,
    stored: String,
    stage: String,
}

impl<'a> Validator<'a> {
    pub fn new(config: &'a SiteConfig, window: Window) -> Validator<'a> {
        Validator {
            config,
            window,
            last: None,
        }
    }

    /// [`validate`] for the next event.
    pub fn check(&mut self, e: &Event) -> Result<StoredEvent, String> {
        check(e, self.config, self.window, &mut self.last)
    }
}

/// The stored page and its stage by the globs, from `last` when the page
/// sent is the one before.
fn page_of<'m>(
    sent: &str,
    config: &SiteConfig,
    last: &'m mut Option<Page>,
) -> Result<&'m Page, String> {
    if last.as_ref().is_none_or(|p| p.sent != sent) {
        let page = normalize_page(sent)
            .ok_or_else(|| format!("page: {:?} is not an absolute http(s) URL", clip(sent)))?;
        if page.len() > 2048 {
            return Err("page: longer than 2048 characters".into());
        }
        // Masked before the stage is resolved, so globs see `/users/[email]`.
        let stored = mask_path(&page);
        let stage = resolve_stage(&config.stages, None, &stored).to_owned();
        *last = Some(Page {
            sent: sent.to_owned(),
            stored,
            stage,
        });
    }
    Ok(last.as_ref().expect("just filled"))
}

fn check(
    e: &Event,
    config: &SiteConfig,
    window: Window,
    last: &mut Option<Page>,
) -> Result<StoredEvent, String> {
    let now = window.now;
    for (name, value) in [
        ("page", Some(&e.page)),
        ("stage", e.stage.as_ref()),
        ("comment", e.comment.as_ref()),
    ] {
        if let Some(v) = value {
            storable(name, v)?;
        }
    }
    if let Some(map) = &e.attributes {
        for (k, v) in map {
            storable(&format!("attributes.{}", clip(k)), k)?;
            storable(&format!("attributes.{}", clip(k)), v)?;
        }
    }
    let id = normalize_uuid(&e.id).ok_or_else(|| format!("id: {:?} is not a UUID", clip(&e.id)))?;
    let Page {
        stored: page,
        stage: by_globs,
        ..
    } = page_of(&e.page, config, last)?;
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
        None if matches!(e.kind, Kind::Signal | Kind::Outcome) => None,
        None => return Err(format!("touchpoint: required for kind {}", e.kind.as_str())),
    };
    if touchpoint.is_some() && e.kind == Kind::Outcome {
        return Err("touchpoint: an outcome belongs to no touchpoint".into());
    }
    let outcome = match (&e.outcome, e.kind) {
        (Some(id), Kind::Outcome) => Some(
            config
                .outcomes
                .iter()
                .find(|o| o.id == *id)
                .map(|o| o.id.clone())
                .ok_or_else(|| format!("outcome: {:?} is not an outcome of this site", clip(id)))?,
        ),
        (None, Kind::Outcome) => {
            return Err("outcome: required for kind outcome (the id of an [[outcome]])".into());
        }
        (Some(_), _) => return Err("outcome: only kind outcome has an outcome".into()),
        (None, _) => None,
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
        return Err(format!(
            "ts: {} is more than a day in the future",
            clip(&e.ts)
        ));
    }
    if ts < window.oldest() {
        return Err(format!(
            "ts: {} is older than the site keeps events ({} days); it would only be deleted",
            clip(&e.ts),
            window.retention_days
        ));
    }
    let stage = e.stage.as_deref();
    if let Some(s) = stage
        && s.len() > 64
    {
        return Err("stage: longer than 64 characters".into());
    }
    // A declared stage of the site wins; otherwise the page's globs decide.
    let stage = match stage.and_then(|s| config.stages.iter().find(|st| st.id == s)) {
        Some(declared) => declared.id.clone(),
        None => by_globs.clone(),
    };
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
    // Only the keys the site declares are kept (the others are dropped,
    // never stored); their values masked like any text.
    let attributes = match &e.attributes {
        Some(map) if map.len() > MAX_ATTRIBUTES => {
            return Err(format!("attributes: at most {MAX_ATTRIBUTES} entries"));
        }
        Some(map) => {
            let mut kept = std::collections::BTreeMap::new();
            for (k, v) in map.iter().filter(|(k, _)| config.attributes.contains(k)) {
                if v.chars().count() > MAX_VALUE {
                    return Err(format!(
                        "attributes.{k}: values up to {MAX_VALUE} characters (a segment such as \"pro\")"
                    ));
                }
                kept.insert(k, mask_attribute(v));
            }
            match kept.is_empty() {
                true => None,
                false => Some(serde_json::to_string(&kept).map_err(|e| e.to_string())?),
            }
        }
        None => None,
    };
    Ok(StoredEvent {
        id,
        kind: e.kind.as_str(),
        touchpoint: touchpoint.map(|t| t.id.clone()),
        page: page.clone(),
        stage,
        metric: metric.map(|m| m.as_str()),
        score,
        flags: comment
            .as_deref()
            .and_then(|c| crate::emotion::stored(c, e.locale.as_deref())),
        comment,
        choices,
        visitor: token("visitor", &e.visitor, 64)?,
        session: token("session", &e.session, 64)?,
        ts: format_ts(ts),
        locale: token("locale", &e.locale, 35)?,
        device: token("device", &e.device, 32)?,
        attributes,
        signal,
        outcome,
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

/// Echoes at most 64 characters of a client's value in an error.
fn clip(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests;
