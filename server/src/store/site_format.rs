//! How a site's configuration is stored (`sites.config`): a format of the
//! store's own, versioned, not the wire types. Renaming a field of the JSON
//! contract (`touchpoint_wire`) changes what the API speaks, never what is
//! already stored: the conversions below are the one place the two meet.
//!
//! Format 1 is the JSON the first release stored (no `format` field);
//! every later format writes `"format": N` and reads the earlier ones.
//! Format 2 adds `timezone` (an IANA name; absent, as in format 1, is UTC).
//! Format 3 adds `alerts` (the `[[alert]]` destinations; absent is none).
//! Format 4 adds `attributes` (declared visitor attribute keys), `outcomes`
//! and a touchpoint's `audience` (absent: none, and everyone).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use touchpoint_wire as wire;

/// The newest format this build writes.
pub const FORMAT: u32 = 4;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StoredConfig {
    #[serde(default = "first")]
    format: u32,
    stages: Vec<Stage>,
    touchpoints: Vec<Touchpoint>,
    #[serde(default)]
    contact_days: u32,
    #[serde(default = "yes")]
    respect_gpc: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    theme: Option<Theme>,
    /// IANA name; absent means UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    timezone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    alerts: Vec<Alert>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    attributes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    outcomes: Vec<Outcome>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Outcome {
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    label: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Alert {
    url: String,
    /// `json` or `slack`.
    format: String,
    /// `detractor`, `low_score`, `frustration`, `signal`.
    on: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    touchpoints: Vec<String>,
    #[serde(default)]
    digest_minutes: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_per_hour: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Stage {
    id: String,
    label: String,
    #[serde(default)]
    pages: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Touchpoint {
    id: String,
    /// `nps`, `csat`, …
    metric: String,
    question: BTreeMap<String, String>,
    trigger: Trigger,
    #[serde(default)]
    pages: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    stages: Vec<String>,
    sample: f64,
    recontact_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    follow_up: Option<FollowUp>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    options: Vec<ChoiceOption>,
    #[serde(default)]
    multiple: bool,
    /// `numbers`, `stars` or `faces`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    scale: Option<String>,
    /// `corner` or `center`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    position: Option<String>,
    /// Attribute key → qualifying values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    audience: BTreeMap<String, Vec<String>>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Trigger {
    /// `load`, `time`, …
    on: String,
    #[serde(default)]
    delay_ms: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    percent: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    signal: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct FollowUp {
    question: BTreeMap<String, String>,
    #[serde(default)]
    min: Option<i64>,
    #[serde(default)]
    max: Option<i64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    options: Vec<ChoiceOption>,
    #[serde(default)]
    multiple: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ChoiceOption {
    id: String,
    label: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Theme {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    brand: Option<String>,
    /// `right` or `left`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    corner: Option<String>,
    /// `inherit` or `system`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    font: Option<String>,
}

fn first() -> u32 {
    1
}
fn yes() -> bool {
    true
}

/// The in-memory configuration, in wire types: what validation, the widget
/// configuration and the site document are made of.
#[derive(Clone, Debug, PartialEq)]
pub struct SiteConfig {
    pub stages: Vec<wire::Stage>,
    pub touchpoints: Vec<wire::Touchpoint>,
    pub contact_days: u32,
    pub respect_gpc: bool,
    pub theme: Option<wire::Theme>,
    /// The IANA time zone the site's days are counted in (`UTC` by default).
    pub timezone: String,
    /// Where alert-worthy answers are posted.
    pub alerts: Vec<wire::AlertDestination>,
    /// Visitor attribute keys events may carry.
    pub attributes: Vec<String>,
    /// What `touchpoint('track', id)` may record.
    pub outcomes: Vec<wire::Outcome>,
}

impl SiteConfig {
    /// The site's time zone; UTC if the stored name is unknown to this build.
    pub fn zone(&self) -> crate::zone::Zone {
        crate::zone::Zone::parse(&self.timezone).unwrap_or_default()
    }
}

/// Only the time zone of a stored configuration (read on every write of
/// events, so the days of its rollups follow the site's zone).
pub fn decode_timezone(text: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Zoned {
        #[serde(default)]
        timezone: Option<String>,
    }
    let zoned: Zoned = serde_json::from_str(text).map_err(|e| e.to_string())?;
    Ok(zoned
        .timezone
        .unwrap_or_else(|| crate::zone::UTC.to_owned()))
}

/// Encodes a configuration in the newest format.
pub fn encode(config: &SiteConfig) -> String {
    let stored = StoredConfig {
        format: FORMAT,
        stages: config.stages.iter().map(stage_out).collect(),
        touchpoints: config.touchpoints.iter().map(touchpoint_out).collect(),
        contact_days: config.contact_days,
        respect_gpc: config.respect_gpc,
        theme: config.theme.as_ref().map(|t| Theme {
            brand: t.brand.clone(),
            corner: t.corner.map(|c| corner_str(c).to_owned()),
            font: t.font.map(|f| font_str(f).to_owned()),
        }),
        timezone: (config.timezone != crate::zone::UTC).then(|| config.timezone.clone()),
        alerts: config.alerts.iter().map(alert_out).collect(),
        attributes: config.attributes.clone(),
        outcomes: config
            .outcomes
            .iter()
            .map(|o| Outcome {
                id: o.id.clone(),
                label: o.label.clone(),
            })
            .collect(),
    };
    serde_json::to_string(&stored).expect("a stored configuration always encodes")
}

/// Decodes a stored configuration of any format this build knows.
pub fn decode(text: &str) -> Result<SiteConfig, String> {
    let stored: StoredConfig = serde_json::from_str(text).map_err(|e| e.to_string())?;
    if stored.format > FORMAT {
        return Err(format!(
            "stored in format {} by a newer version (this one reads up to {FORMAT})",
            stored.format
        ));
    }
    let theme = match stored.theme {
        Some(t) => Some(wire::Theme {
            brand: t.brand,
            corner: t.corner.as_deref().map(corner_in).transpose()?,
            font: t.font.as_deref().map(font_in).transpose()?,
        }),
        None => None,
    };
    Ok(SiteConfig {
        stages: stored.stages.into_iter().map(stage_in).collect(),
        touchpoints: stored
            .touchpoints
            .into_iter()
            .map(touchpoint_in)
            .collect::<Result<_, _>>()?,
        contact_days: stored.contact_days,
        respect_gpc: stored.respect_gpc,
        theme,
        timezone: stored
            .timezone
            .unwrap_or_else(|| crate::zone::UTC.to_owned()),
        alerts: stored
            .alerts
            .into_iter()
            .map(alert_in)
            .collect::<Result<_, _>>()?,
        attributes: stored.attributes,
        outcomes: stored
            .outcomes
            .into_iter()
            .map(|o| wire::Outcome {
                id: o.id,
                label: o.label,
            })
            .collect(),
    })
}

/// Only the time zone and the alert destinations of a stored configuration
/// (read when events are stored, to decide what goes to the outbox).
pub fn decode_alerts(text: &str) -> Result<(String, Vec<wire::AlertDestination>), String> {
    #[derive(Deserialize)]
    struct Alerting {
        #[serde(default)]
        timezone: Option<String>,
        #[serde(default)]
        alerts: Vec<Alert>,
    }
    let alerting: Alerting = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let alerts = alerting
        .alerts
        .into_iter()
        .map(alert_in)
        .collect::<Result<_, _>>()?;
    Ok((
        alerting
            .timezone
            .unwrap_or_else(|| crate::zone::UTC.to_owned()),
        alerts,
    ))
}

fn alert_out(a: &wire::AlertDestination) -> Alert {
    Alert {
        url: a.url.clone(),
        format: match a.format {
            wire::AlertFormat::Json => "json",
            wire::AlertFormat::Slack => "slack",
        }
        .to_owned(),
        on: a.on.iter().map(|o| o.as_str().to_owned()).collect(),
        touchpoints: a.touchpoints.clone(),
        digest_minutes: a.digest_minutes,
        secret: a.secret.clone(),
        max_per_hour: a.max_per_hour,
    }
}

fn alert_in(a: Alert) -> Result<wire::AlertDestination, String> {
    let format = match a.format.as_str() {
        "json" => wire::AlertFormat::Json,
        "slack" => wire::AlertFormat::Slack,
        other => return Err(format!("alert: unknown format {other:?}")),
    };
    let on =
        a.on.iter()
            .map(|o| wire::AlertOn::parse(o).ok_or_else(|| format!("alert: unknown `on` {o:?}")))
            .collect::<Result<_, _>>()?;
    Ok(wire::AlertDestination {
        url: a.url,
        format,
        on,
        touchpoints: a.touchpoints,
        digest_minutes: a.digest_minutes,
        secret: a.secret,
        max_per_hour: a.max_per_hour,
    })
}

fn stage_out(s: &wire::Stage) -> Stage {
    Stage {
        id: s.id.clone(),
        label: s.label.clone(),
        pages: s.pages.clone(),
    }
}

fn stage_in(s: Stage) -> wire::Stage {
    wire::Stage {
        id: s.id,
        label: s.label,
        pages: s.pages,
    }
}

fn option_out(o: &wire::ChoiceOption) -> ChoiceOption {
    ChoiceOption {
        id: o.id.clone(),
        label: o.label.clone(),
    }
}

fn option_in(o: ChoiceOption) -> wire::ChoiceOption {
    wire::ChoiceOption {
        id: o.id,
        label: o.label,
    }
}

fn touchpoint_out(t: &wire::Touchpoint) -> Touchpoint {
    let trigger = &t.trigger;
    Touchpoint {
        id: t.id.clone(),
        metric: t.metric.as_str().to_owned(),
        question: t.question.clone(),
        trigger: Trigger {
            on: trigger.on.as_str().to_owned(),
            delay_ms: trigger.delay_ms,
            percent: trigger.percent,
            selector: trigger.selector.clone(),
            event: trigger.event.clone(),
            signal: trigger.signal.clone(),
        },
        pages: t.pages.clone(),
        stages: t.stages.clone(),
        sample: t.sample,
        recontact_days: t.recontact_days,
        follow_up: t.follow_up.as_ref().map(|f| FollowUp {
            question: f.question.clone(),
            min: f.min,
            max: f.max,
            options: f.options.iter().map(option_out).collect(),
            multiple: f.multiple,
        }),
        options: t.options.iter().map(option_out).collect(),
        multiple: t.multiple,
        scale: match t.scale {
            wire::Look::Numbers => None,
            wire::Look::Stars => Some("stars".into()),
            wire::Look::Faces => Some("faces".into()),
        },
        position: match t.position {
            wire::Position::Corner => None,
            wire::Position::Center => Some("center".into()),
        },
        audience: t.audience.clone(),
    }
}

fn touchpoint_in(t: Touchpoint) -> Result<wire::Touchpoint, String> {
    let unknown = |what: &str, v: &str| format!("touchpoint {:?}: unknown {what} {v:?}", t.id);
    let metric = wire::Metric::parse(&t.metric).ok_or_else(|| unknown("metric", &t.metric))?;
    let on =
        wire::TriggerOn::parse(&t.trigger.on).ok_or_else(|| unknown("trigger", &t.trigger.on))?;
    let scale = match t.scale.as_deref() {
        None | Some("numbers") => wire::Look::Numbers,
        Some("stars") => wire::Look::Stars,
        Some("faces") => wire::Look::Faces,
        Some(other) => return Err(unknown("scale", other)),
    };
    let position = match t.position.as_deref() {
        None | Some("corner") => wire::Position::Corner,
        Some("center") => wire::Position::Center,
        Some(other) => return Err(unknown("position", other)),
    };
    Ok(wire::Touchpoint {
        id: t.id,
        metric,
        question: t.question,
        trigger: wire::Trigger {
            on,
            delay_ms: t.trigger.delay_ms,
            percent: t.trigger.percent,
            selector: t.trigger.selector,
            event: t.trigger.event,
            signal: t.trigger.signal,
        },
        pages: t.pages,
        stages: t.stages,
        sample: t.sample,
        recontact_days: t.recontact_days,
        follow_up: t.follow_up.map(|f| wire::FollowUp {
            question: f.question,
            min: f.min,
            max: f.max,
            options: f.options.into_iter().map(option_in).collect(),
            multiple: f.multiple,
        }),
        options: t.options.into_iter().map(option_in).collect(),
        multiple: t.multiple,
        scale,
        position,
        audience: t.audience,
    })
}

fn corner_str(c: wire::Corner) -> &'static str {
    match c {
        wire::Corner::Right => "right",
        wire::Corner::Left => "left",
    }
}

fn corner_in(s: &str) -> Result<wire::Corner, String> {
    match s {
        "right" => Ok(wire::Corner::Right),
        "left" => Ok(wire::Corner::Left),
        _ => Err(format!("theme: unknown corner {s:?}")),
    }
}

fn font_str(f: wire::FontChoice) -> &'static str {
    match f {
        wire::FontChoice::Inherit => "inherit",
        wire::FontChoice::System => "system",
    }
}

fn font_in(s: &str) -> Result<wire::FontChoice, String> {
    match s {
        "inherit" => Ok(wire::FontChoice::Inherit),
        "system" => Ok(wire::FontChoice::System),
        _ => Err(format!("theme: unknown font {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row stored by the first release, verbatim: it must always read.
    const FIRST_RELEASE: &str = r##"{"stages":[{"id":"purchase","label":"Purchase","pages":["/cart","/checkout/**"]}],"touchpoints":[{"id":"checkout-ces","metric":"ces","question":{"en":"How easy was it?"},"trigger":{"on":"click","delay_ms":0,"selector":"#pay"},"pages":["/checkout/**"],"stages":["purchase"],"sample":0.5,"recontact_days":7,"follow_up":{"question":{"en":"Why?"},"min":1,"max":3,"options":[{"id":"price","label":{"en":"Price"}},{"id":"speed","label":{"en":"Speed"}}],"multiple":true},"scale":"stars","position":"center"}],"contact_days":14,"respect_gpc":false,"theme":{"brand":"#c4471c","corner":"left","font":"inherit"}}"##;

    #[test]
    fn the_first_releases_rows_read_and_round_trip() {
        let config = decode(FIRST_RELEASE).unwrap();
        assert_eq!(config.touchpoints[0].scale, wire::Look::Stars);
        assert_eq!(
            config.touchpoints[0].trigger.selector.as_deref(),
            Some("#pay")
        );
        assert_eq!(
            config.theme.as_ref().unwrap().corner,
            Some(wire::Corner::Left)
        );
        assert_eq!(decode(&encode(&config)).unwrap(), config);
    }

    /// The stored format is its own: a diff here is a change of what is
    /// written to every database, which needs a new format number.
    #[test]
    fn the_stored_format_is_a_snapshot() {
        let config = decode(FIRST_RELEASE).unwrap();
        assert_eq!(
            encode(&config),
            r##"{"format":4,"stages":[{"id":"purchase","label":"Purchase","pages":["/cart","/checkout/**"]}],"touchpoints":[{"id":"checkout-ces","metric":"ces","question":{"en":"How easy was it?"},"trigger":{"on":"click","delay_ms":0,"selector":"#pay"},"pages":["/checkout/**"],"stages":["purchase"],"sample":0.5,"recontact_days":7,"follow_up":{"question":{"en":"Why?"},"min":1,"max":3,"options":[{"id":"price","label":{"en":"Price"}},{"id":"speed","label":{"en":"Speed"}}],"multiple":true},"multiple":false,"scale":"stars","position":"center"}],"contact_days":14,"respect_gpc":false,"theme":{"brand":"#c4471c","corner":"left","font":"inherit"}}"##
        );
    }

    /// Format 2: the time zone, written only when it is not UTC.
    #[test]
    fn the_time_zone_is_stored_from_format_2() {
        let mut config = decode(FIRST_RELEASE).unwrap();
        assert_eq!(config.timezone, "UTC");
        config.timezone = "Europe/Berlin".into();
        let text = encode(&config);
        assert!(
            text.starts_with(r#"{"format":4,"#) && text.ends_with(r##""theme":{"brand":"#c4471c","corner":"left","font":"inherit"},"timezone":"Europe/Berlin"}"##),
            "{text}"
        );
        assert_eq!(decode(&text).unwrap(), config);
        assert_eq!(decode_timezone(&text).unwrap(), "Europe/Berlin");
        assert_eq!(decode_timezone(FIRST_RELEASE).unwrap(), "UTC");
    }

    /// A row of format 2 (no alerts) reads as a site without destinations.
    const FORMAT_2: &str = r#"{"format":2,"stages":[],"touchpoints":[],"contact_days":0,"respect_gpc":true,"timezone":"Europe/Berlin"}"#;

    /// Format 3: the alert destinations, secrets included (the store keeps
    /// them; only the API masks them).
    #[test]
    fn alerts_are_stored_from_format_3() {
        let mut config = decode(FORMAT_2).unwrap();
        assert!(config.alerts.is_empty());
        assert_eq!(
            decode_alerts(FORMAT_2).unwrap(),
            ("Europe/Berlin".into(), Vec::new())
        );
        config.alerts = vec![wire::AlertDestination {
            url: "https://hooks.example/t".into(),
            format: wire::AlertFormat::Slack,
            on: vec![wire::AlertOn::Detractor, wire::AlertOn::Signal],
            touchpoints: vec!["site-nps".into()],
            digest_minutes: 15,
            secret: Some("s3cret-s3cret-s3cret".into()),
            max_per_hour: Some(4),
        }];
        let text = encode(&config);
        assert_eq!(
            text,
            r#"{"format":4,"stages":[],"touchpoints":[],"contact_days":0,"respect_gpc":true,"timezone":"Europe/Berlin","alerts":[{"url":"https://hooks.example/t","format":"slack","on":["detractor","signal"],"touchpoints":["site-nps"],"digest_minutes":15,"secret":"s3cret-s3cret-s3cret","max_per_hour":4}]}"#
        );
        assert_eq!(decode(&text).unwrap(), config);
        assert_eq!(
            decode_alerts(&text).unwrap(),
            ("Europe/Berlin".into(), config.alerts.clone())
        );
    }

    #[test]
    fn a_newer_format_is_refused_with_a_reason() {
        let err = decode(r#"{"format":9,"stages":[],"touchpoints":[]}"#).unwrap_err();
        assert!(err.contains("newer version"), "{err}");
    }

    /// A row of format 3 (no segments, no outcomes) reads as a site that
    /// declares none and asks everyone.
    const FORMAT_3: &str =
        r#"{"format":3,"stages":[],"touchpoints":[],"contact_days":0,"respect_gpc":true}"#;

    /// Format 4: declared attributes, outcomes and a touchpoint's audience.
    #[test]
    fn segments_and_outcomes_are_stored_from_format_4() {
        let mut config = decode(FORMAT_3).unwrap();
        assert!(config.attributes.is_empty() && config.outcomes.is_empty());
        let mut first = decode(FIRST_RELEASE).unwrap();
        assert!(first.touchpoints[0].audience.is_empty());
        config.attributes = vec!["plan".into()];
        config.outcomes = vec![wire::Outcome {
            id: "purchase".into(),
            label: Some("Order placed".into()),
        }];
        first.touchpoints[0].audience = [("plan".to_owned(), vec!["pro".to_owned()])].into();
        config.touchpoints = first.touchpoints;
        let text = encode(&config);
        assert!(
            text.ends_with(r#""position":"center","audience":{"plan":["pro"]}}],"contact_days":0,"respect_gpc":true,"attributes":["plan"],"outcomes":[{"id":"purchase","label":"Order placed"}]}"#),
            "{text}"
        );
        assert_eq!(decode(&text).unwrap(), config);
    }
}
