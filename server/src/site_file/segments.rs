//! `[site] attributes`, a touchpoint's `audience` and `[[outcome]]`s: what
//! `touchpoint('identify', {…})` and `touchpoint('track', id)` may record.

use super::is_slug;
use crate::error::{Error, Result};
use touchpoint_wire::SiteDocument;

/// Most attribute keys a site declares (and an event carries).
pub const MAX_ATTRIBUTES: usize = 20;
/// Longest attribute value kept, in characters: a segment, not a text.
pub const MAX_VALUE: usize = 64;
/// Most outcomes a site declares.
pub const MAX_OUTCOMES: usize = 20;

fn bad(msg: String) -> Error {
    Error::bad_request("invalid_site_file", msg)
}

/// Checks the declared attributes, every audience against them, and the outcomes.
pub fn validate(doc: &SiteDocument) -> Result<()> {
    let attributes = &doc.site.attributes;
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(bad(format!(
            "site.attributes: {} keys; at most {MAX_ATTRIBUTES}",
            attributes.len()
        )));
    }
    for (i, key) in attributes.iter().enumerate() {
        if !is_slug(key, 1, 32, false) || key.contains('-') {
            return Err(bad(format!(
                "site.attributes[{i}]: {key:?} must be 1 to 32 lower-case letters, digits or '_'"
            )));
        }
        if attributes[..i].contains(key) {
            return Err(bad(format!(
                "site.attributes[{i}]: {key:?} is declared twice"
            )));
        }
    }
    for (i, tp) in doc.touchpoint.iter().enumerate() {
        for (key, values) in &tp.audience {
            let at = format!("touchpoint[{i}].audience.{key}");
            if !attributes.contains(key) {
                return Err(bad(format!(
                    "{at}: {key:?} is not in site.attributes; declare it there first"
                )));
            }
            if values.is_empty() || values.len() > 50 {
                return Err(bad(format!("{at}: list 1 to 50 values that qualify")));
            }
            if let Some(v) = values
                .iter()
                .find(|v| v.trim().is_empty() || v.chars().count() > MAX_VALUE)
            {
                return Err(bad(format!(
                    "{at}: {v:?} must be 1 to {MAX_VALUE} characters"
                )));
            }
        }
    }
    if doc.outcome.len() > MAX_OUTCOMES {
        return Err(bad(format!(
            "outcome: {} outcomes; at most {MAX_OUTCOMES}",
            doc.outcome.len()
        )));
    }
    for (i, o) in doc.outcome.iter().enumerate() {
        if !is_slug(&o.id, 1, 64, false) {
            return Err(bad(format!(
                "outcome[{i}].id: {:?} must be 1 to 64 lower-case letters, digits, '-' or '_'",
                o.id
            )));
        }
        if doc.outcome[..i].iter().any(|p| p.id == o.id) {
            return Err(bad(format!(
                "outcome[{i}].id: {:?} is declared twice",
                o.id
            )));
        }
        if o.label
            .as_ref()
            .is_some_and(|l| l.trim().is_empty() || l.chars().count() > 100)
        {
            return Err(bad(format!(
                "outcome[{i}].label: must be 1 to 100 characters"
            )));
        }
    }
    Ok(())
}
