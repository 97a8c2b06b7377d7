//! `[[alert]]`: each destination's rules, and its secret never shown back
//! in full. (Whether a destination's address is public is checked apart,
//! with DNS: `alerts::check_destinations`.)

use crate::error::{Error, Result};
use touchpoint_wire::{AlertDestination, AlertOn, SiteDocument};

/// Most destinations a site may have.
pub const MAX_ALERTS: usize = 20;
const MAX_URL_CHARS: usize = 2048;
const SECRET_CHARS: std::ops::RangeInclusive<usize> = 16..=256;
/// What a masked secret starts with.
const MASK: char = '…';

/// Checks every `[[alert]]` of a document.
pub fn validate(doc: &SiteDocument) -> Result<()> {
    let bad = |msg: String| Err(Error::bad_request("invalid_site_file", msg));
    if doc.alert.len() > MAX_ALERTS {
        return bad(format!(
            "alert: {} destinations; at most {MAX_ALERTS}",
            doc.alert.len()
        ));
    }
    for (i, a) in doc.alert.iter().enumerate() {
        let at = format!("alert[{i}]");
        if let Err(why) = check_url(&a.url) {
            return bad(format!("{at}.url: {why}"));
        }
        if doc.alert[..i].iter().any(|b| b.url == a.url) {
            return bad(format!(
                "{at}.url: the same destination twice; list everything it should hear in one `on`"
            ));
        }
        if a.on.is_empty() {
            return bad(format!(
                "{at}.on: say what to alert on: {}",
                AlertOn::ALL.map(AlertOn::as_str).join(", ")
            ));
        }
        for (j, on) in a.on.iter().enumerate() {
            if a.on[..j].contains(on) {
                return bad(format!("{at}.on: {:?} is listed twice", on.as_str()));
            }
        }
        for (j, tp) in a.touchpoints.iter().enumerate() {
            if !doc.touchpoint.iter().any(|t| &t.id == tp) {
                return bad(format!(
                    "{at}.touchpoints[{j}]: {tp:?} is not a declared [[touchpoint]] id"
                ));
            }
        }
        if !a.touchpoints.is_empty() && a.on.contains(&AlertOn::Signal) {
            return bad(format!(
                "{at}.on: a signal belongs to no touchpoint; send signals to a destination without `touchpoints`"
            ));
        }
        if a.digest_minutes > 0 && (a.digest_minutes > 1440 || 1440 % a.digest_minutes != 0) {
            return bad(format!(
                "{at}.digest_minutes: {} must be 0 (a message per alert) or divide a day, e.g. 5, 15, 60, 1440",
                a.digest_minutes
            ));
        }
        if let Some(secret) = &a.secret
            && !is_masked(secret)
            && !(SECRET_CHARS.contains(&secret.chars().count())
                && secret.chars().all(|c| c.is_ascii_graphic()))
        {
            return bad(format!(
                "{at}.secret: {} to {} printable characters without spaces",
                SECRET_CHARS.start(),
                SECRET_CHARS.end()
            ));
        }
        if let Some(n) = a.max_per_hour
            && !(1..=3600).contains(&n)
        {
            return bad(format!(
                "{at}.max_per_hour: {n} must be between 1 and 3600 (leave it out for no cap)"
            ));
        }
    }
    Ok(())
}

/// An `http` or `https` URL with a host, no credentials, no fragment.
fn check_url(url: &str) -> std::result::Result<(), String> {
    if url.chars().count() > MAX_URL_CHARS
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(format!("at most {MAX_URL_CHARS} characters, no spaces"));
    }
    let uri: axum::http::Uri = url
        .parse()
        .map_err(|_| "not a URL such as \"https://hooks.example.com/touchpoint\"".to_owned())?;
    match uri.scheme_str() {
        Some("https" | "http") => {}
        _ => return Err("must start with https:// (or http://)".into()),
    }
    let Some(authority) = uri.authority() else {
        return Err("names no host".into());
    };
    if authority.as_str().contains('@') {
        return Err("must not carry a user name or password; use `secret` to sign messages".into());
    }
    if authority.host().is_empty() {
        return Err("names no host".into());
    }
    if url.contains('#') {
        return Err("must not have a fragment (#…)".into());
    }
    Ok(())
}

/// How a secret is shown back: its last four characters.
pub fn mask_secret(secret: &str) -> String {
    let tail: String = {
        let chars: Vec<char> = secret.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    };
    format!("{MASK}{tail}")
}

fn is_masked(s: &str) -> bool {
    s.starts_with(MASK)
}

/// The document as shown to a person: every secret masked.
pub fn mask_secrets(doc: &mut SiteDocument) {
    for a in &mut doc.alert {
        if let Some(secret) = &mut a.secret {
            *secret = mask_secret(secret);
        }
    }
}

/// The document as shown to someone who may not change it (a viewer):
/// destinations' URLs cut to their scheme and host too, as a Slack
/// webhook's path is itself a credential.
pub fn mask_urls(doc: &mut SiteDocument) {
    for a in &mut doc.alert {
        a.url = format!("{}/…", crate::store::outbox::destination_host(&a.url));
    }
}

/// A document sent back with masked secrets keeps the stored ones: a
/// masked value is replaced by the secret of the stored destination with
/// the same URL, when it masks to that value. Any other masked value is
/// refused (it would sign with four characters).
pub fn restore_secrets(doc: &mut SiteDocument, stored: &[AlertDestination]) -> Result<()> {
    for (i, a) in doc.alert.iter_mut().enumerate() {
        let Some(secret) = &a.secret else { continue };
        if !is_masked(secret) {
            continue;
        }
        let kept = stored
            .iter()
            .filter(|s| s.url == a.url)
            .find_map(|s| s.secret.as_ref().filter(|k| mask_secret(k) == *secret));
        match kept {
            Some(k) => a.secret = Some(k.clone()),
            None => {
                return Err(Error::bad_request(
                    "invalid_site_file",
                    format!(
                        "alert[{i}].secret: a masked secret keeps the stored one only for the same url; send the secret itself"
                    ),
                ));
            }
        }
    }
    Ok(())
}
