//! The JSON contract of Touchpoint, serde only: events the widget sends, the
//! configuration it reads, the answers and errors of the API, and the
//! aggregate rows marketers read. The widget, the server and the dashboard all
//! import these types, so a renamed field is a compile error or a snapshot
//! diff, never a silent break.
//!
//! The [`page`] module holds the contract's page rules (path normalisation,
//! globs, stage resolution), which the widget and the server must agree on.

pub mod page;

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
}

/// The behavioural signals the widget detects: three or more clicks in
/// under a second on one spot, and an uncaught JavaScript error.
pub const SIGNALS: [&str; 3] = ["rage_click", "dead_click", "error"];

impl Kind {
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Impression => "impression",
            Kind::Response => "response",
            Kind::Dismiss => "dismiss",
            Kind::Signal => "signal",
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<BTreeMap<String, String>>,
    /// For `kind = "signal"`: `rage_click`, `dead_click`, `error`, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
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

/// Every error answer: `{"error":{"code":…,"message":…}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable code, e.g. `invalid_event`.
    pub code: String,
    /// A sentence for the person reading it, naming the field at fault.
    pub message: String,
}

/// A journey stage: pages matched by globs, listed in journey order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stage {
    pub id: String,
    pub label: String,
    #[serde(default)]
    pub pages: Vec<String>,
}

/// When a touchpoint's prompt appears. Every trigger waits for the page to
/// have loaded; `delay_ms` is then added (for `time`, counted only while
/// the page is visible).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Trigger {
    pub on: TriggerOn,
    #[serde(default)]
    pub delay_ms: u32,
    /// `scroll`: how far down the page, in percent (1–100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent: Option<u8>,
    /// `click`: a CSS selector; a click on a matching element (or inside one) fires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
    /// `event`: the name the page sends with `touchpoint('track', name)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    /// `signal`: the behavioural signal that asks, `rage_click` or `error`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger {
            on: TriggerOn::Load,
            delay_ms: 0,
            percent: None,
            selector: None,
            event: None,
            signal: None,
        }
    }
}

/// What fires a prompt. `touchpoint('show', id)` shows any touchpoint
/// eligible on the page whatever its trigger; `manual` waits for nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerOn {
    /// After the page has loaded and `delay_ms` have passed.
    Load,
    /// After `delay_ms` of time on the page while it is visible.
    Time,
    /// When the visitor has scrolled `percent` of the page.
    Scroll,
    /// When the pointer leaves through the top of the window (desktop only).
    Exit,
    /// On a click on an element matching `selector`.
    Click,
    /// When the page calls `touchpoint('track', event)`.
    Event,
    /// Only through `touchpoint('show', id)`.
    Manual,
    /// A feedback tab on the edge of the window opens it, any time: not
    /// counted against the contact budget, and not held back once answered
    /// (give it `recontact_days = 0` to keep the tab on every page).
    Tab,
    /// When the visitor shows a behavioural `signal` on the page ("Stuck?
    /// Tell us what happened").
    Signal,
}

impl TriggerOn {
    pub const ALL: [TriggerOn; 9] = [
        TriggerOn::Load,
        TriggerOn::Time,
        TriggerOn::Scroll,
        TriggerOn::Exit,
        TriggerOn::Click,
        TriggerOn::Event,
        TriggerOn::Manual,
        TriggerOn::Tab,
        TriggerOn::Signal,
    ];

    pub fn parse(s: &str) -> Option<TriggerOn> {
        TriggerOn::ALL.into_iter().find(|t| t.as_str() == s)
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            TriggerOn::Load => "load",
            TriggerOn::Time => "time",
            TriggerOn::Scroll => "scroll",
            TriggerOn::Exit => "exit",
            TriggerOn::Click => "click",
            TriggerOn::Event => "event",
            TriggerOn::Manual => "manual",
            TriggerOn::Tab => "tab",
            TriggerOn::Signal => "signal",
        }
    }
}

/// A question asked somewhere in the journey.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Touchpoint {
    pub id: String,
    pub metric: Metric,
    /// Question text per locale (`en`, `ru`, `pt-BR`, …).
    pub question: BTreeMap<String, String>,
    #[serde(default)]
    pub trigger: Trigger,
    /// Page globs where it may appear; empty means every page.
    #[serde(default)]
    pub pages: Vec<String>,
    /// Journey stages (ids of the site's `[[stage]]`s) where it may
    /// appear; empty means every stage. The stage is the page's (set by
    /// `data-stage` or `touchpoint('stage', id)`), else the first stage
    /// whose globs match the path.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stages: Vec<String>,
    /// Share of visitors asked, 0–1.
    #[serde(default = "one")]
    pub sample: f64,
    /// Days before the same visitor is asked again.
    #[serde(default = "thirty")]
    pub recontact_days: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUp>,
    /// For `choice`: the options offered, in display order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    /// For `choice`: the visitor may pick several options.
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
    /// For `csat`: the 1–5 scale as numbers (the default), stars or faces.
    #[serde(default, skip_serializing_if = "Look::is_numbers")]
    pub scale: Look,
    /// Where the prompt appears: a card in the corner (the default), or a
    /// modal dialog in the centre that holds the focus until it closes.
    /// (`[data-touchpoint="id"]` in the page places it inline instead.)
    #[serde(default, skip_serializing_if = "Position::is_corner")]
    pub position: Position,
}

/// How a 1–5 scale is drawn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Look {
    #[default]
    Numbers,
    Stars,
    Faces,
}

impl Look {
    #[allow(clippy::trivially_copy_pass_by_ref)]
    fn is_numbers(&self) -> bool {
        *self == Look::Numbers
    }
}

/// Where an overlay prompt appears.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    #[default]
    Corner,
    Center,
}

impl Position {
    #[allow(clippy::trivially_copy_pass_by_ref)]
    fn is_corner(&self) -> bool {
        *self == Position::Corner
    }
}

fn one() -> f64 {
    1.0
}
fn thirty() -> u32 {
    30
}
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_false(b: &bool) -> bool {
    !*b
}

#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_true(b: &bool) -> bool {
    *b
}
fn yes() -> bool {
    true
}
#[allow(clippy::trivially_copy_pass_by_ref)]
fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// How the prompt looks on a site. A page can also set the prompt's CSS
/// custom properties on `touchpoint-prompt` (`--tp-brand`, `--tp-bg`,
/// `--tp-fg`, `--tp-font`, …) in its own stylesheet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    /// Brand colour, `#rrggbb`: buttons, focus rings, picked options. The
    /// text on it is black or white, whichever contrasts more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub brand: Option<String>,
    /// The bottom corner the prompt sits in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corner: Option<Corner>,
    /// `inherit`: the prompt uses the page's font.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<FontChoice>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Corner {
    Right,
    Left,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FontChoice {
    /// The page's own font (its `body` font family).
    Inherit,
    /// The system's interface font (the default).
    System,
}

/// One answer a choice question offers: `id` is what events carry in
/// `choices` and what aggregates count; `label` is shown, per locale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChoiceOption {
    pub id: String,
    pub label: BTreeMap<String, String>,
}

/// A second question shown after a score in `[min, max]` (both inclusive,
/// open when absent). Its answer travels in the same response event (same
/// id, resent): free text in `comment`, or with `options`, the picked ids in
/// `choices`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUp {
    pub question: BTreeMap<String, String>,
    #[serde(default)]
    pub min: Option<i64>,
    #[serde(default)]
    pub max: Option<i64>,
    /// Options to pick from; empty means a free-text answer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<ChoiceOption>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub multiple: bool,
}

impl FollowUp {
    /// Whether a score of `score` leads to this follow-up.
    pub fn applies_to(&self, score: Option<i64>) -> bool {
        match score {
            Some(s) => self.min.is_none_or(|m| s >= m) && self.max.is_none_or(|m| s <= m),
            None => self.min.is_none() && self.max.is_none(),
        }
    }
}

/// `GET /v1/sites/{key}/config`: everything the loader and widget need.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WidgetConfig {
    pub site: String,
    /// Contact budget: at most one overlay prompt per visitor in this many
    /// days, across all touchpoints (0: no budget beyond each touchpoint's
    /// `recontact_days`).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub contact_days: u32,
    /// Whether a browser's Global Privacy Control or Do-Not-Track signal
    /// keeps the widget away (unless the page has given consent through
    /// `touchpoint('consent', true)`). Sent only when off.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub respect_gpc: bool,
    /// How the prompt looks on this site.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub theme: Option<Theme>,
    pub stages: Vec<Stage>,
    pub touchpoints: Vec<Touchpoint>,
    /// Where the widget lives, relative to the API origin; `None` when this
    /// server was built without the widget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub widget: Option<WidgetAssets>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WidgetAssets {
    /// wasm-bindgen glue (an ES module).
    pub js: String,
    pub wasm: String,
}

/// One row of `/aggregates` and `export.csv`: one group × one metric.
/// Group fields appear only when grouped by them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AggregateRow {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub touchpoint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    pub metric: Option<Metric>,
    /// n: responses counted once per id.
    pub responses: u64,
    pub impressions: u64,
    /// responses / impressions of the same touchpoints, 0–1; `None` without impressions.
    pub response_rate: Option<f64>,
    /// Mean score, `None` for metrics without a score.
    pub mean: Option<f64>,
    /// Score → count.
    pub distribution: BTreeMap<i64, u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nps_moe: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub promoters: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passives: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detractors: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_low: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csat_high: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ces_easy: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumbs_up: Option<f64>,
    /// Responses that carry a comment (open text or a follow-up's answer).
    #[serde(default)]
    pub comments: u64,
    /// Option id → how many responses picked it (choice questions and
    /// choice follow-ups); a multiple-choice response counts once per option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub choices: Option<BTreeMap<String, u64>>,
}

/// `GET /v1/sites/{key}/aggregates`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregates {
    pub group_by: Vec<String>,
    pub rows: Vec<AggregateRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A renamed or re-typed field shows up here as a diff.
    #[test]
    fn event_json_is_the_contract() {
        let event = Event {
            id: "6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c".into(),
            kind: Kind::Response,
            touchpoint: Some("site-nps".into()),
            page: "https://shop.example/product/42?utm=x".into(),
            stage: Some("evaluate".into()),
            metric: Some(Metric::Nps),
            score: Some(9),
            comment: None,
            choices: None,
            visitor: Some("v1".into()),
            session: Some("s1".into()),
            ts: "2026-11-22T10:00:00.000Z".into(),
            locale: Some("en-GB".into()),
            device: Some("desktop".into()),
            attributes: None,
            signal: None,
            gpc: None,
            consent: Some(true),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(
            json,
            r#"{"id":"6f1c2a7e-8d4b-4c1e-9a3f-2b5d7e9f1a3c","kind":"response","touchpoint":"site-nps","page":"https://shop.example/product/42?utm=x","stage":"evaluate","metric":"nps","score":9,"visitor":"v1","session":"s1","ts":"2026-11-22T10:00:00.000Z","locale":"en-GB","device":"desktop","consent":true}"#
        );
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }

    #[test]
    fn aggregate_row_json_is_the_contract() {
        let row = AggregateRow {
            page: Some("/pricing".into()),
            metric: Some(Metric::Nps),
            responses: 2,
            impressions: 4,
            response_rate: Some(0.5),
            mean: Some(8.0),
            distribution: [(6, 1), (10, 1)].into_iter().collect(),
            comments: 1,
            nps: Some(0.0),
            nps_moe: Some(98.0),
            promoters: Some(1),
            passives: Some(0),
            detractors: Some(1),
            ..AggregateRow::default()
        };
        assert_eq!(
            serde_json::to_string(&row).unwrap(),
            r#"{"page":"/pricing","metric":"nps","responses":2,"impressions":4,"response_rate":0.5,"mean":8.0,"distribution":{"6":1,"10":1},"nps":0.0,"nps_moe":98.0,"promoters":1,"passives":0,"detractors":1,"comments":1}"#
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let err = serde_json::from_str::<Event>(
            r#"{"id":"x","kind":"response","page":"/","ts":"t","emial":"a@b"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("unknown field `emial`"), "{err}");
    }

    #[test]
    fn scales() {
        assert_eq!(Metric::Nps.scale(), Some((0, 10)));
        assert_eq!(Metric::Csat.scale(), Some((1, 5)));
        assert_eq!(Metric::Ces.scale(), Some((1, 7)));
        assert_eq!(Metric::Thumbs.scale(), Some((0, 1)));
        assert_eq!(Metric::Text.scale(), None);
        for m in Metric::ALL {
            assert_eq!(Metric::parse(m.as_str()), Some(m));
        }
    }
}
