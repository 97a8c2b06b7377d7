//! The site file (`touchpoint apply SITE.toml`, or its JSON twin through
//! `PUT /v1/sites/{key}/site`): parsing and validation into a
//! [`SiteDocument`]. The same rules guard every way a site's configuration
//! can change.

pub mod alert;
pub mod changes;
pub mod segments;

use crate::error::{Error, Result};
use touchpoint_wire::{
    ChoiceOption, Look, Metric, SiteDocument, Trigger, TriggerOn, page::UNASSIGNED,
};

/// Parses and validates a site file (TOML); errors name the field at fault.
pub fn parse(text: &str) -> Result<SiteDocument> {
    let mut doc: SiteDocument = toml::from_str(text).map_err(|e| {
        Error::bad_request("invalid_site_file", e.to_string().trim_end().to_owned())
    })?;
    validate(&mut doc)?;
    Ok(doc)
}

/// A site document as the TOML site file that [`parse`] reads back.
pub fn to_toml(doc: &SiteDocument) -> std::result::Result<String, toml::ser::Error> {
    toml::to_string(doc)
}

/// Parses and validates a site document sent as JSON; errors name the
/// field at fault.
pub fn parse_json(text: &str) -> Result<SiteDocument> {
    let mut doc: SiteDocument = crate::extract::decode_json(text.as_bytes(), "not a site document")
        .map_err(|m| Error::bad_request("invalid_site_file", m))?;
    validate(&mut doc)?;
    Ok(doc)
}

/// Checks every rule and normalises origins (no trailing `/`, lower-case).
pub fn validate(doc: &mut SiteDocument) -> Result<()> {
    let bad = |msg: String| Error::bad_request("invalid_site_file", msg);
    let name = doc.site.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(bad("site.name: must be 1 to 100 characters".into()));
    }
    doc.site.name = name;
    if let Some(key) = &doc.site.key
        && !is_site_key(key)
    {
        return Err(bad(format!(
            "site.key: {key:?} must be 3 to 64 letters, digits, '-' or '_'"
        )));
    }
    for origin in &mut doc.site.origins {
        *origin = normalize_origin(origin)
            .ok_or_else(|| bad(format!("site.origins: {origin:?} is not an origin like \"https://shop.example\" (scheme, host, optional port, no path)")))?;
    }
    if let Some(brand) = doc.theme.as_ref().and_then(|t| t.brand.as_deref())
        && !(brand.len() == 7
            && brand.starts_with('#')
            && brand[1..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(bad(format!(
            "theme.brand: {brand:?} must be a colour like \"#c4471c\""
        )));
    }
    if doc.site.contact_days > 365 {
        return Err(bad(format!(
            "site.contact_days: {} must be between 0 (no budget) and 365",
            doc.site.contact_days
        )));
    }
    if !(1..=36_500).contains(&doc.site.retention_days) {
        return Err(bad(format!(
            "site.retention_days: {} must be between 1 and 36500",
            doc.site.retention_days
        )));
    }
    doc.site.timezone = crate::zone::Zone::parse(doc.site.timezone.trim())
        .map(|z| z.name().to_owned())
        .ok_or_else(|| {
            bad(format!(
                "site.timezone: {:?} is not an IANA time zone such as \"Europe/Berlin\" or \"UTC\"",
                doc.site.timezone
            ))
        })?;
    let mut seen = std::collections::HashSet::new();
    for (i, stage) in doc.stage.iter().enumerate() {
        if !is_slug(&stage.id, 1, 64, false) {
            return Err(bad(format!(
                "stage[{i}].id: {:?} must be 1 to 64 lower-case letters, digits, '-' or '_'",
                stage.id
            )));
        }
        if stage.id == UNASSIGNED {
            return Err(bad(format!(
                "stage[{i}].id: {UNASSIGNED:?} is reserved for pages no stage claims"
            )));
        }
        if !seen.insert(stage.id.as_str()) {
            return Err(bad(format!(
                "stage[{i}].id: {:?} is declared twice",
                stage.id
            )));
        }
        if stage.label.trim().is_empty() {
            return Err(bad(format!("stage[{i}].label: must not be empty")));
        }
        check_globs(&stage.pages, &format!("stage[{i}].pages"))?;
    }
    let mut seen = std::collections::HashSet::new();
    for (i, tp) in doc.touchpoint.iter().enumerate() {
        let at = format!("touchpoint[{i}]");
        if !is_slug(&tp.id, 1, 64, false) {
            return Err(bad(format!(
                "{at}.id: {:?} must be 1 to 64 lower-case letters, digits, '-' or '_'",
                tp.id
            )));
        }
        if !seen.insert(tp.id.as_str()) {
            return Err(bad(format!("{at}.id: {:?} is declared twice", tp.id)));
        }
        check_questions(&tp.question, &format!("{at}.question"))?;
        check_globs(&tp.pages, &format!("{at}.pages"))?;
        for (j, stage) in tp.stages.iter().enumerate() {
            if !doc.stage.iter().any(|s| &s.id == stage) {
                return Err(bad(format!(
                    "{at}.stages[{j}]: {stage:?} is not a declared [[stage]] id"
                )));
            }
        }
        if !(0.0..=1.0).contains(&tp.sample) {
            return Err(bad(format!(
                "{at}.sample: {} must be between 0 and 1",
                tp.sample
            )));
        }
        check_trigger(&tp.trigger, &format!("{at}.trigger"))?;
        let rule = if tp.metric == Metric::Choice {
            Options::Required
        } else {
            Options::Forbidden
        };
        check_options(&tp.options, tp.multiple, &at, rule)?;
        if tp.scale != Look::Numbers && tp.metric != Metric::Csat {
            return Err(bad(format!(
                "{at}.scale: only csat is drawn as stars or faces, not {}",
                tp.metric.as_str()
            )));
        }
        if let Some(follow) = &tp.follow_up {
            let fat = format!("{at}.follow_up");
            check_questions(&follow.question, &format!("{fat}.question"))?;
            if let Some((lo, hi)) = tp.metric.scale() {
                for (name, v) in [("min", follow.min), ("max", follow.max)] {
                    if let Some(v) = v
                        && (v < lo || v > hi)
                    {
                        return Err(bad(format!(
                            "{fat}.{name}: {v} is outside the {} scale {lo}–{hi}",
                            tp.metric.as_str()
                        )));
                    }
                }
            } else if follow.min.is_some() || follow.max.is_some() {
                return Err(bad(format!(
                    "{fat}: min/max need a scored metric, not {}",
                    tp.metric.as_str()
                )));
            }
            // The answer travels in the response's free slot: `comment`
            // or `choices`, never one the question itself fills.
            match tp.metric {
                Metric::Text => {
                    return Err(bad(format!(
                        "{fat}: a text question cannot have a follow-up; ask a second touchpoint"
                    )));
                }
                Metric::Choice if !follow.options.is_empty() => {
                    return Err(bad(format!(
                        "{fat}.options: a choice question's follow-up is free text; remove its options"
                    )));
                }
                _ => {}
            }
            check_options(&follow.options, follow.multiple, &fat, Options::Allowed)?;
        }
    }
    segments::validate(doc)?;
    alert::validate(doc)
}

/// Each trigger has the settings it needs and none it would ignore.
fn check_trigger(t: &Trigger, at: &str) -> Result<()> {
    let bad = |msg: String| Err(Error::bad_request("invalid_site_file", msg));
    if t.delay_ms > 600_000 {
        return bad(format!("{at}.delay_ms: at most 600000 (10 minutes)"));
    }
    let on = t.on.as_str();
    match (&t.signal, t.on) {
        (None, TriggerOn::Signal) => {
            return bad(format!(
                "{at}.signal: a signal trigger needs which signal: {}",
                touchpoint_wire::SIGNALS.join(" or ")
            ));
        }
        (Some(sig), TriggerOn::Signal) if !touchpoint_wire::SIGNALS.contains(&sig.as_str()) => {
            return bad(format!(
                "{at}.signal: {sig:?} is not one of {}",
                touchpoint_wire::SIGNALS.join(", ")
            ));
        }
        (Some(_), TriggerOn::Signal) | (None, _) => {}
        (Some(_), _) => {
            return bad(format!(
                "{at}.signal: only a signal trigger has a signal, not {on}"
            ));
        }
    }
    match (t.on, t.percent, &t.selector, &t.event) {
        (TriggerOn::Scroll, Some(1..=100), None, None) => Ok(()),
        (TriggerOn::Scroll, _, None, None) => bad(format!(
            "{at}.percent: a scroll trigger needs how far down, 1 to 100"
        )),
        (TriggerOn::Click, None, Some(sel), None) => {
            if sel.trim().is_empty() || sel.len() > 200 || sel.contains(['{', '}']) {
                bad(format!(
                    "{at}.selector: {sel:?} must be a CSS selector such as \"#buy, .help-link\" (at most 200 characters)"
                ))
            } else {
                Ok(())
            }
        }
        (TriggerOn::Click, None, None, None) => bad(format!(
            "{at}.selector: a click trigger needs a CSS selector"
        )),
        (TriggerOn::Event, None, None, Some(name)) => {
            let ok = (1..=64).contains(&name.len())
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
            if ok {
                Ok(())
            } else {
                bad(format!(
                    "{at}.event: {name:?} must be 1 to 64 letters, digits, '-', '_', '.' or ':'"
                ))
            }
        }
        (TriggerOn::Event, None, None, None) => bad(format!(
            "{at}.event: an event trigger needs the name the page tracks, e.g. event = \"order_placed\""
        )),
        (_, Some(_), _, _) => bad(format!(
            "{at}.percent: only a scroll trigger has a percent, not {on}"
        )),
        (_, _, Some(_), _) => bad(format!(
            "{at}.selector: only a click trigger has a selector, not {on}"
        )),
        (_, _, _, Some(_)) => bad(format!(
            "{at}.event: only an event trigger has an event, not {on}"
        )),
        _ => Ok(()),
    }
}

/// Where options may appear.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Options {
    /// A choice question: 2 to 20.
    Required,
    /// A follow-up: none (free text) or 2 to 20.
    Allowed,
    /// A scale or text question.
    Forbidden,
}

fn check_options(options: &[ChoiceOption], multiple: bool, at: &str, rule: Options) -> Result<()> {
    let bad = |msg: String| Err(Error::bad_request("invalid_site_file", msg));
    if options.is_empty() {
        if rule == Options::Required {
            return bad(format!(
                "{at}.options: a choice question needs 2 to 20 options, e.g. options = [{{ id = \"price\", label = {{ en = \"Price\" }} }}, …]"
            ));
        }
        if multiple {
            return bad(format!(
                "{at}.multiple: only choices can be multiple; add options"
            ));
        }
        return Ok(());
    }
    if rule == Options::Forbidden {
        return bad(format!(
            "{at}.options: only a choice question (or a follow-up) has options"
        ));
    }
    if !(2..=20).contains(&options.len()) {
        return bad(format!(
            "{at}.options: {} options; give 2 to 20",
            options.len()
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (j, option) in options.iter().enumerate() {
        if !is_slug(&option.id, 1, 64, false) {
            return bad(format!(
                "{at}.options[{j}].id: {:?} must be 1 to 64 lower-case letters, digits, '-' or '_'",
                option.id
            ));
        }
        if !seen.insert(option.id.as_str()) {
            return bad(format!(
                "{at}.options[{j}].id: {:?} is listed twice",
                option.id
            ));
        }
        check_questions(&option.label, &format!("{at}.options[{j}].label"))?;
    }
    Ok(())
}

fn check_questions(q: &std::collections::BTreeMap<String, String>, at: &str) -> Result<()> {
    if q.is_empty() {
        return Err(Error::bad_request(
            "invalid_site_file",
            format!("{at}: give the question in at least one locale, e.g. en = \"…\""),
        ));
    }
    for (locale, text) in q {
        if !is_locale(locale) {
            return Err(Error::bad_request(
                "invalid_site_file",
                format!("{at}: {locale:?} is not a locale like \"en\" or \"pt-BR\""),
            ));
        }
        if text.trim().is_empty() || text.chars().count() > 300 {
            return Err(Error::bad_request(
                "invalid_site_file",
                format!("{at}.{locale}: must be 1 to 300 characters"),
            ));
        }
    }
    Ok(())
}

/// Longest page glob, and most `**` in one.
const MAX_GLOB_CHARS: usize = 512;
const MAX_DEEP_STARS: usize = 4;

fn check_globs(globs: &[String], at: &str) -> Result<()> {
    for g in globs {
        if g.chars().count() > MAX_GLOB_CHARS || g.matches("**").count() > MAX_DEEP_STARS {
            return Err(Error::bad_request(
                "invalid_site_file",
                format!(
                    "{at}: a page glob has at most {MAX_GLOB_CHARS} characters and {MAX_DEEP_STARS} `**`"
                ),
            ));
        }
        if !(g.starts_with('/') || g.starts_with("**"))
            || g.contains(['?', '#'])
            || g.chars().any(char::is_whitespace)
        {
            return Err(Error::bad_request(
                "invalid_site_file",
                format!(
                    "{at}: {g:?} must be a path glob starting with '/' (no query, fragment or spaces)"
                ),
            ));
        }
    }
    Ok(())
}

/// Whether `s` has the shape of a site key: 3 to 64 letters, digits, `-`
/// or `_`. Checked before any lookup, so nothing larger reaches a cache or
/// the database.
pub fn is_site_key(s: &str) -> bool {
    is_slug(s, 3, 64, true)
}

/// `a-z0-9-_`, plus upper case when `upper` is allowed.
pub fn is_slug(s: &str, min: usize, max: usize, upper: bool) -> bool {
    (min..=max).contains(&s.len())
        && s.bytes().all(|b| {
            b.is_ascii_lowercase()
                || b.is_ascii_digit()
                || b == b'-'
                || b == b'_'
                || (upper && b.is_ascii_uppercase())
        })
}

pub fn is_locale(s: &str) -> bool {
    (2..=35).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// `scheme://host[:port]`, lower-cased, without a trailing `/`.
pub fn normalize_origin(origin: &str) -> Option<String> {
    let o = origin.trim().trim_end_matches('/').to_ascii_lowercase();
    let rest = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))?;
    let ok = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    ok.then_some(o)
}

#[cfg(test)]
mod tests;
