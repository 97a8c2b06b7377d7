//! Events the widget sends and the answer of `POST /v1/events`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What happened: a prompt was shown, answered, dismissed, or the visitor
/// showed a behavioural signal near a touchpoint.
///
/// Signals the widget detects, each sent at most once per page (binary, and
/// nothing about the visitor's clicks or the error is recorded but its
/// name): see [`SIGNALS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Impression,
    Response,
    Dismiss,
    Signal,
    /// A declared outcome reached (`touchpoint('track', 'purchase')`): what
    /// conversion after an answer is counted from.
    Outcome,
}

/// The behavioural signals the widget detects: three or more clicks in
/// under a second on one spot (`rage_click`), a click on a button or
/// same-page link that changes nothing within a second (`dead_click`), and
/// an uncaught JavaScript error (`error`).
pub const SIGNALS: [&str; 3] = ["rage_click", "dead_click", "error"];

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Impression => "impression",
            Kind::Response => "response",
            Kind::Dismiss => "dismiss",
            Kind::Signal => "signal",
            Kind::Outcome => "outcome",
        }
    }
}

/// A metric is a question type with its own scale. Scales never mix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Net Promoter Score, 0–10.
    Nps,
    /// Customer satisfaction, 1–5.
    Csat,
    /// Customer Effort Score, 1–7.
    Ces,
    /// Thumbs down (0) or up (1).
    Thumbs,
    /// Five faces, 1–5.
    Emoji,
    /// Open text, no score.
    Text,
    /// Single or multiple choice, no score.
    Choice,
}

impl Metric {
    pub const ALL: [Metric; 7] = [
        Metric::Nps,
        Metric::Csat,
        Metric::Ces,
        Metric::Thumbs,
        Metric::Emoji,
        Metric::Text,
        Metric::Choice,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Metric::Nps => "nps",
            Metric::Csat => "csat",
            Metric::Ces => "ces",
            Metric::Thumbs => "thumbs",
            Metric::Emoji => "emoji",
            Metric::Text => "text",
            Metric::Choice => "choice",
        }
    }

    pub fn parse(s: &str) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The inclusive score range, or `None` for metrics without a score.
    pub const fn scale(self) -> Option<(i64, i64)> {
        match self {
            Metric::Nps => Some((0, 10)),
            Metric::Csat | Metric::Emoji => Some((1, 5)),
            Metric::Ces => Some((1, 7)),
            Metric::Thumbs => Some((0, 1)),
            Metric::Text | Metric::Choice => None,
        }
    }
}

/// One event, as the widget sends it. `id` is the idempotency key.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// UUID chosen by the sender; the same id is stored once.
    pub id: String,
    pub kind: Kind,
    /// Touchpoint id from the site's configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<String>,
    /// Full URL of the page (query and fragment are dropped on arrival).
    pub page: String,
    /// Journey stage the page declared, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<Metric>,
    /// Integer on the metric's scale.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<Vec<String>>,
    /// Random anonymous visitor id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// RFC 3339 time at which it happened in the browser.
    pub ts: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    /// Visitor attributes (`touchpoint('identify', {…})`); a number or a
    /// boolean value arrives as its text.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "attribute_values"
    )]
    pub attributes: Option<BTreeMap<String, String>>,
    /// For `kind = "signal"`: `rage_click`, `dead_click`, `error`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
    /// For `kind = "outcome"`: the id of one of the site's `[[outcome]]`s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// The browser sent Global Privacy Control (`navigator.globalPrivacyControl`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpc: Option<bool>,
    /// What the page last said through `touchpoint('consent', …)`, if anything.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<bool>,
}

/// Body of `POST /v1/events`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    pub site: String,
    pub events: Vec<Event>,
}

/// Answer of `POST /v1/events` (202): how many events were new, how many had
/// been stored before under the same id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accepted {
    pub accepted: u64,
    pub duplicates: u64,
}

/// An attribute's value as a page may pass it.
#[derive(Deserialize)]
#[serde(untagged)]
enum Scalar {
    Text(String),
    Int(i64),
    Float(f64),
    Flag(bool),
}

fn attribute_values<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error> {
    let map: Option<BTreeMap<String, Scalar>> = Option::deserialize(d)?;
    Ok(map.map(|m| {
        m.into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Scalar::Text(t) => t,
                    Scalar::Int(i) => i.to_string(),
                    Scalar::Float(f) => f.to_string(),
                    Scalar::Flag(b) => b.to_string(),
                };
                (k, text)
            })
            .collect()
    }))
}
